package io.github.kproc.mem;

/**
 * A {@code kmem_cache}: objects of one size and alignment carved out of slabs of 2^order pages, as
 * SLUB does. Freed objects are filled with {@link #POISON_FREE} so a stale read shows. A slab whose
 * objects are all free is kept (one per cache) for reuse, and given back by {@link #shrink()}.
 *
 * <p>Free objects are tracked in a bitmap per slab (at most 64 objects a slab), partial slabs in a
 * list threaded through the page metadata: allocation and free allocate nothing on the Java heap.
 */
public final class SlabCache {
    /** The byte freed objects are filled with ({@code POISON_FREE}, {@code include/linux/poison.h}). */
    public static final byte POISON_FREE = 0x6b;
    private static final int MAX_OBJECTS = 64;
    private static final int MAX_SLAB_ORDER = 3;

    private final String name;
    private final PageAllocator pages;
    private final AddressSpace space;
    private final short id;
    private final long objectSize;
    private final long size;
    private final int align;
    private final int order;
    private final int objectsPerSlab;
    private final long fullMask;
    private int partialHead = -1;
    private int emptySlab = -1;
    private long objectsInUse;
    private long slabs;

    SlabCache(String name, PageAllocator pages, AddressSpace space, short id, long objectSize, int align) {
        if (objectSize <= 0 || align <= 0 || Integer.bitCount(align) != 1) {
            throw new IllegalArgumentException(name + ": bad object size " + objectSize + " or alignment " + align);
        }
        this.name = name;
        this.pages = pages;
        this.space = space;
        this.id = id;
        this.objectSize = objectSize;
        this.align = align;
        this.size = (objectSize + align - 1) / align * align;
        int best = -1;
        double bestWaste = 2;
        for (int o = 0; o <= MAX_SLAB_ORDER; o++) {
            long slabBytes = (long) pages.pageSize() << o;
            long n = Math.min(MAX_OBJECTS, slabBytes / size);
            if (n == 0) {
                continue;
            }
            double waste = (slabBytes - n * size) / (double) slabBytes;
            if (waste <= 1.0 / 16) {
                best = o;
                break;
            }
            if (waste < bestWaste) {
                bestWaste = waste;
                best = o;
            }
        }
        if (best < 0) {
            throw new IllegalArgumentException(name + ": objects of " + size + " bytes do not fit in a slab");
        }
        this.order = best;
        this.objectsPerSlab = (int) Math.min(MAX_OBJECTS, ((long) pages.pageSize() << best) / size);
        this.fullMask = objectsPerSlab == 64 ? -1L : (1L << objectsPerSlab) - 1;
    }

    /** The cache's name ({@code "task_struct"}). */
    public String name() {
        return name;
    }

    /** The size the user asked for ({@code sizeof}). */
    public long objectSize() {
        return objectSize;
    }

    /** The stride between objects: the object size rounded up to the alignment. */
    public long size() {
        return size;
    }

    /** The alignment of every object. */
    public int align() {
        return align;
    }

    /** Pages per slab, as an order. */
    public int order() {
        return order;
    }

    /** Objects a slab holds. */
    public int objectsPerSlab() {
        return objectsPerSlab;
    }

    /** Objects allocated and not yet freed. */
    public long objectsInUse() {
        return objectsInUse;
    }

    /** Slabs the cache holds now, including a kept empty one. */
    public long slabs() {
        return slabs;
    }

    /** {@code kmem_cache_alloc}: an object's address, or 0 when no page is left for a new slab. */
    public long alloc() {
        int slab = partialHead;
        if (slab < 0) {
            slab = emptySlab;
            if (slab >= 0) {
                emptySlab = -1;
            } else {
                long address = pages.allocPages(order);
                if (address == 0) {
                    return 0;
                }
                slab = pages.pfnOf(address);
                pages.slabCache(slab, id);
                pages.slabFree(slab, fullMask);
                slabs++;
            }
            link(slab);
        }
        long free = pages.slabFree(slab);
        int index = Long.numberOfTrailingZeros(free);
        free &= free - 1;
        pages.slabFree(slab, free);
        if (free == 0) {
            unlink(slab);
        }
        objectsInUse++;
        return pages.addressOf(slab) + index * size;
    }

    /** {@code kmem_cache_zalloc}: an object filled with zeros, or 0. */
    public long zalloc() {
        long address = alloc();
        if (address != 0) {
            space.fill(address, size, (byte) 0);
        }
        return address;
    }

    /**
     * {@code kmem_cache_free}: poisons the object and returns it to its slab.
     *
     * @throws IllegalStateException for an address that is not an object of this cache in use (a
     *     double free or a free to the wrong cache)
     */
    public void free(long address) {
        int pfn = pages.pfnOf(address & -(long) pages.pageSize());
        int slab = pfn & -(1 << order);
        long offset = address - pages.addressOf(slab);
        if (pages.slabCache(slab) != id || offset % size != 0 || offset / size >= objectsPerSlab) {
            throw new IllegalStateException(String.format("%s: free of 0x%x, not an object of this cache", name, address));
        }
        long bit = 1L << (offset / size);
        long free = pages.slabFree(slab);
        if ((free & bit) != 0) {
            throw new IllegalStateException(String.format("%s: double free of 0x%x", name, address));
        }
        space.fill(address, size, POISON_FREE);
        if (free == 0) {
            link(slab);
        }
        free |= bit;
        pages.slabFree(slab, free);
        objectsInUse--;
        if (free == fullMask) {
            unlink(slab);
            if (emptySlab < 0) {
                emptySlab = slab;
            } else {
                release(slab);
            }
        }
    }

    /** True if {@code address} is an allocated object of this cache. */
    public boolean owns(long address) {
        if (!space.contains(address, 1)) {
            return false;
        }
        int slab;
        try {
            slab = pages.pfnOf(address & -(long) pages.pageSize()) & -(1 << order);
        } catch (IllegalStateException e) {
            return false;
        }
        long offset = address - pages.addressOf(slab);
        return pages.slabCache(slab) == id && offset % size == 0 && offset / size < objectsPerSlab
                && (pages.slabFree(slab) & (1L << (offset / size))) == 0;
    }

    /** {@code kmem_cache_shrink}: gives the kept empty slab back to the page allocator. */
    public void shrink() {
        if (emptySlab >= 0) {
            release(emptySlab);
            emptySlab = -1;
        }
    }

    private void release(int slab) {
        pages.slabCache(slab, (short) 0);
        pages.slabFree(slab, 0);
        slabs--;
        pages.freePages(pages.addressOf(slab), order);
    }

    private void link(int slab) {
        pages.next(slab, partialHead);
        pages.prev(slab, -1);
        if (partialHead >= 0) {
            pages.prev(partialHead, slab);
        }
        partialHead = slab;
    }

    private void unlink(int slab) {
        int n = pages.next(slab);
        int p = pages.prev(slab);
        if (p >= 0) {
            pages.next(p, n);
        } else {
            partialHead = n;
        }
        if (n >= 0) {
            pages.prev(n, p);
        }
    }

    @Override
    public String toString() {
        return name + " (" + objectsInUse + " objects of " + size + " bytes in " + slabs + " slabs of order " + order + ")";
    }
}
