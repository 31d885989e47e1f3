package io.github.kproc.mem;

import java.util.Arrays;

/**
 * A buddy allocator over the pages of the linear map: blocks of 2^order pages, naturally aligned (a
 * block of order n starts at a multiple of 2^n pages, in kernel addresses: RAM must start at a
 * boundary of the largest block), split on allocation and merged with their buddy on free, as
 * {@code mm/page_alloc.c} does.
 *
 * <p>Per-page metadata lives in Java arrays, the model's {@code struct page}: free-list links, the
 * order and state of a block's head page, and the slab fields used by {@link SlabCache}. They cover
 * only the pages handed out so far, so a machine's heap cost follows the memory it uses, not its
 * RAM size (the kernel's SPARSEMEM sections play the same part): the largest blocks never yet
 * allocated are free implicitly, below a frontier that moves down as they are taken, in the order the
 * kernel's free list would give them (highest first). Arrays are indexed from the top page down and
 * grow by doubling when the frontier passes their end, so nothing is allocated on the Java heap once
 * a workload has reached its peak. Freed blocks are filled with {@link #PAGE_POISON}.
 */
public final class PageAllocator {
    /** Orders 0 .. MAX_ORDER-1, as the kernel's default {@code MAX_ORDER} of 11. */
    public static final int MAX_ORDER = 11;
    /** The byte freed pages are filled with ({@code PAGE_POISON}, {@code CONFIG_PAGE_POISONING}). */
    public static final byte PAGE_POISON = (byte) 0xaa;

    private static final byte FREE = (byte) 0x80;
    private static final byte ALLOCATED = 0x40;
    private static final byte ORDER_MASK = 0x1f;

    private final AddressSpace space;
    private final long base;
    private final int pageShift;
    private final int pageCount;
    private final int[] freeHead = new int[MAX_ORDER];
    private final int[] freeCount = new int[MAX_ORDER];
    // struct page, one slot per page frame at or above the frontier, at index pageCount - 1 - pfn
    private int[] next;
    private int[] prev;
    private byte[] state;
    private short[] slabCache;
    private long[] slabFree;
    private long freePages;
    /** Pages below this (a multiple of the largest block) are free largest blocks not on any list yet. */
    private int frontier;

    PageAllocator(AddressSpace space, long base, long size, int pageSize) {
        if (Integer.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page size must be a power of two: " + pageSize);
        }
        long largestBlock = (long) pageSize << (MAX_ORDER - 1);
        if ((base & (largestBlock - 1)) != 0) {
            // block alignment counts from the first page, so that page must start a largest block
            throw new IllegalArgumentException(String.format(
                    "RAM at 0x%x is not aligned to an order-%d block of %d KiB", base, MAX_ORDER - 1, largestBlock >> 10));
        }
        this.space = space;
        this.base = base;
        this.pageShift = Integer.numberOfTrailingZeros(pageSize);
        long pages = size >>> pageShift;
        if (pages > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("too many pages: " + pages);
        }
        this.pageCount = (int) pages;
        int largest = 1 << (MAX_ORDER - 1);
        this.frontier = pageCount & -largest;
        int capacity = Math.min(pageCount, Math.max(pageCount - frontier, 4 * largest));
        this.next = new int[capacity];
        this.prev = new int[capacity];
        this.state = new byte[capacity];
        this.slabCache = new short[capacity];
        this.slabFree = new long[capacity];
        Arrays.fill(freeHead, -1);
        freePages = frontier;
        // the tail that does not make a largest block is on the free lists from the start
        int pfn = frontier;
        while (pfn < pageCount) {
            int order = MAX_ORDER - 1;
            while (order > 0 && ((pfn & ((1 << order) - 1)) != 0 || pfn + (1 << order) > pageCount)) {
                order--;
            }
            push(order, pfn);
            freePages += 1L << order;
            pfn += 1 << order;
        }
    }

    /** Bytes in a page. */
    public int pageSize() {
        return 1 << pageShift;
    }

    /** log2 of {@link #pageSize()}. */
    public int pageShift() {
        return pageShift;
    }

    /** Pages the allocator manages. */
    public long totalPages() {
        return pageCount;
    }

    /** Pages not allocated now. */
    public long freePages() {
        return freePages;
    }

    /** Free blocks of exactly this order now. */
    public int freeBlocks(int order) {
        return freeCount[order] + (order == MAX_ORDER - 1 ? frontier >> (MAX_ORDER - 1) : 0);
    }

    /**
     * {@code alloc_pages(order)}: the kernel address of a free block of 2^order pages aligned to its
     * size, or 0 if no block that large is free. The block's bytes are whatever was there (poison
     * after a free, zero at boot).
     */
    public long allocPages(int order) {
        if (order < 0 || order >= MAX_ORDER) {
            throw new IllegalArgumentException("order " + order);
        }
        int o = order;
        while (o < MAX_ORDER && freeHead[o] < 0) {
            o++;
        }
        int pfn;
        if (o < MAX_ORDER) {
            pfn = freeHead[o];
            remove(o, pfn);
        } else if (frontier > 0) {
            // the next largest block never handed out: the one the kernel's list would give
            o = MAX_ORDER - 1;
            frontier -= 1 << o;
            pfn = frontier;
            ensureCapacity();
        } else {
            return 0;
        }
        while (o > order) {
            o--;
            push(o, pfn + (1 << o));
        }
        state[ix(pfn)] = (byte) (ALLOCATED | order);
        freePages -= 1L << order;
        return base + ((long) pfn << pageShift);
    }

    /** The metadata index of a page at or above the frontier. */
    private int ix(int pfn) {
        return pageCount - 1 - pfn;
    }

    /** Grows the metadata arrays to cover every page from the frontier up (doubling). */
    private void ensureCapacity() {
        int need = pageCount - frontier;
        if (need <= state.length) {
            return;
        }
        int capacity = (int) Math.min(pageCount, Math.max(need, 2L * state.length));
        next = Arrays.copyOf(next, capacity);
        prev = Arrays.copyOf(prev, capacity);
        state = Arrays.copyOf(state, capacity);
        slabCache = Arrays.copyOf(slabCache, capacity);
        slabFree = Arrays.copyOf(slabFree, capacity);
    }

    /** A page's state byte; below the frontier, a free largest block's head or a page inside one. */
    private byte stateOf(int pfn) {
        if (pfn < frontier) {
            return (pfn & ((1 << (MAX_ORDER - 1)) - 1)) == 0 ? (byte) (FREE | (MAX_ORDER - 1)) : 0;
        }
        return state[ix(pfn)];
    }

    /** {@code page->slab_cache} of a slab's head page: the cache id, 0 if not a slab. */
    short slabCache(int pfn) {
        return pfn < frontier ? 0 : slabCache[ix(pfn)];
    }

    void slabCache(int pfn, short id) {
        slabCache[ix(pfn)] = id;
    }

    /** {@code page->freelist} of a slab's head page, as a bit per free object. */
    long slabFree(int pfn) {
        return pfn < frontier ? 0 : slabFree[ix(pfn)];
    }

    void slabFree(int pfn, long bits) {
        slabFree[ix(pfn)] = bits;
    }

    /** {@code page->lru.next} of a listed block or slab, a pfn or -1. */
    int next(int pfn) {
        return next[ix(pfn)];
    }

    void next(int pfn, int value) {
        next[ix(pfn)] = value;
    }

    /** {@code page->lru.prev} of a listed block or slab, a pfn or -1. */
    int prev(int pfn) {
        return prev[ix(pfn)];
    }

    void prev(int pfn, int value) {
        prev[ix(pfn)] = value;
    }

    /**
     * {@code __free_pages(address, order)}: returns a block, poisons it and merges it with free buddies.
     *
     * @throws IllegalStateException if {@code address} is not the start of an allocated block of that
     *     order (a double free or a wrong order: the kernel's "Bad page state")
     */
    public void freePages(long address, int order) {
        int pfn = pfnOf(address);
        if (!isAllocatedBlock(pfn, order) || slabCache(pfn) != 0) {
            throw new IllegalStateException(String.format("Bad page state: free of 0x%x order %d", address, order));
        }
        space.fill(address, (long) pageSize() << order, PAGE_POISON);
        state[ix(pfn)] = 0;
        freePages += 1L << order;
        while (order < MAX_ORDER - 1) {
            int buddy = pfn ^ (1 << order);
            if (buddy >= pageCount || stateOf(buddy) != (byte) (FREE | order)) {
                break;
            }
            remove(order, buddy);
            pfn = Math.min(pfn, buddy);
            order++;
        }
        push(order, pfn);
    }

    /** True if {@code address} is the first byte of an allocated block of this order. */
    public boolean isAllocated(long address, int order) {
        long off = address - base;
        if (off < 0 || (off & (pageSize() - 1)) != 0 || (off >>> pageShift) >= pageCount) {
            return false;
        }
        return isAllocatedBlock((int) (off >>> pageShift), order);
    }

    /** The order is range-checked first: the state byte keeps only its low bits, so order 64 would match order 0. */
    private boolean isAllocatedBlock(int pfn, int order) {
        return order >= 0 && order < MAX_ORDER && stateOf(pfn) == (byte) (ALLOCATED | order);
    }

    /**
     * The head page of the block holding {@code pfn}, or -1 if {@code pfn} is free and not a head. A
     * block of order n is naturally aligned, so its head is found by clearing the low bits.
     */
    int blockHead(int pfn) {
        for (int order = 0; order < MAX_ORDER; order++) {
            int head = pfn & -(1 << order);
            byte s = stateOf(head);
            if (s != 0 && orderOf(s) >= order && head + (1 << orderOf(s)) > pfn) {
                return head;
            }
        }
        return -1;
    }

    /** True if the block headed by {@code head} is allocated. */
    boolean headAllocated(int head) {
        return (stateOf(head) & ALLOCATED) != 0;
    }

    /** The order of the block headed by {@code head}. */
    int headOrder(int head) {
        return orderOf(stateOf(head));
    }

    /** The page index of an address of the linear map, or -1. */
    int pfnOrMinus(long address) {
        long off = address - base;
        return off < 0 || (off >>> pageShift) >= pageCount ? -1 : (int) (off >>> pageShift);
    }

    int pfnOf(long address) {
        long off = address - base;
        if (off < 0 || (off & (pageSize() - 1)) != 0 || (off >>> pageShift) >= pageCount) {
            throw new IllegalStateException(String.format("Bad page: 0x%x is not a page of the linear map", address));
        }
        return (int) (off >>> pageShift);
    }

    long addressOf(int pfn) {
        return base + ((long) pfn << pageShift);
    }

    private void push(int order, int pfn) {
        int head = freeHead[order];
        next[ix(pfn)] = head;
        prev[ix(pfn)] = -1;
        if (head >= 0) {
            prev[ix(head)] = pfn;
        }
        freeHead[order] = pfn;
        state[ix(pfn)] = (byte) (FREE | order);
        freeCount[order]++;
    }

    private void remove(int order, int pfn) {
        int n = next[ix(pfn)];
        int p = prev[ix(pfn)];
        if (p >= 0) {
            next[ix(p)] = n;
        } else {
            freeHead[order] = n;
        }
        if (n >= 0) {
            prev[ix(n)] = p;
        }
        state[ix(pfn)] = 0;
        freeCount[order]--;
    }

    static int orderOf(byte s) {
        return s & ORDER_MASK;
    }
}
