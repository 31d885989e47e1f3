package io.github.kproc.mem;

/**
 * The vmalloc area, as far as the model uses it: {@code VMAP_STACK} kernel stacks. Each allocation
 * takes one slot of {@link #slotSize()} bytes (THREAD_ALIGN on arm64, so every stack is aligned
 * to it and followed by unmapped guard space) and is charged to the page allocator for the pages
 * it maps, so memory accounting and {@code -ENOMEM} behave as with physically contiguous stacks.
 * The stack's bytes are reached through its vmalloc address only; guard space, free slots and
 * freed areas fault ({@link MemoryFaultException}), as an overflow or a use after {@code vfree}
 * does in the kernel.
 *
 * <p>The Java records cover only the slots handed out so far (slots are taken lowest first, a freed
 * one before a fresh one), so the heap cost follows the stacks in use, not the size of the area.
 */
public final class VmallocArea {
    private final AddressSpace space;
    private final PageAllocator pages;
    private final long base;
    private final long slotSize;
    private final int slots;
    /** Freed slots, the last freed on top; slots from {@link #fresh} up were never handed out. */
    private int[] freeSlots;
    private long[] backing;
    /** Bytes mapped at the start of each slot (0 when free), shared with the address space. */
    private long[] mapped;
    private int freeTop;
    private int fresh;

    VmallocArea(AddressSpace space, PageAllocator pages, long base, long size, long slotSize) {
        if (slotSize <= 0 || Long.bitCount(slotSize) != 1 || Long.remainderUnsigned(base, slotSize) != 0) {
            throw new IllegalArgumentException("vmalloc slots must be a power of two that aligns the base");
        }
        long slots = size / slotSize;
        if (slots > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("vmalloc area too large: " + size);
        }
        this.space = space;
        this.pages = pages;
        this.base = base;
        this.slotSize = slotSize;
        this.slots = (int) slots;
        int capacity = Math.min(this.slots, 1024);
        this.freeSlots = new int[capacity];
        this.backing = new long[capacity];
        this.mapped = new long[capacity];
        space.mapSlots(Long.numberOfTrailingZeros(slotSize), mapped);
    }

    /** Grows the records to cover slot {@code slot} (doubling), and shares the new map with the address space. */
    private void ensureCapacity(int slot) {
        if (slot < backing.length) {
            return;
        }
        int capacity = (int) Math.min(slots, Math.max(slot + 1L, 2L * backing.length));
        freeSlots = java.util.Arrays.copyOf(freeSlots, capacity);
        backing = java.util.Arrays.copyOf(backing, capacity);
        mapped = java.util.Arrays.copyOf(mapped, capacity);
        space.mapSlots(Long.numberOfTrailingZeros(slotSize), mapped);
    }

    /** The first address of the area ({@code VMALLOC_START}). */
    public long base() {
        return base;
    }

    /** Bytes per allocation slot (the alignment of every area). */
    public long slotSize() {
        return slotSize;
    }

    /** Slots free now. */
    public int freeSlots() {
        return freeTop + (slots - fresh);
    }

    /**
     * {@code __vmalloc_node_range(size, slotSize, ...)}: maps {@code size} bytes (a power-of-two
     * number of pages, less than a slot so a guard gap follows) at a slot-aligned address; 0 when the
     * area or the page allocator is exhausted.
     */
    public long vmalloc(long size) {
        if (size <= 0 || size >= slotSize || Long.bitCount(size) != 1 || size < pages.pageSize()) {
            throw new IllegalArgumentException("vmalloc size " + size + " with slots of " + slotSize);
        }
        if (freeTop == 0 && fresh == slots) {
            return 0;
        }
        int order = Long.numberOfTrailingZeros(size) - pages.pageShift();
        long physical = pages.allocPages(order);
        if (physical == 0) {
            return 0;
        }
        int slot;
        if (freeTop > 0) {
            slot = freeSlots[--freeTop];
        } else {
            slot = fresh++;
            ensureCapacity(slot);
        }
        backing[slot] = physical;
        mapped[slot] = size;
        return base + slot * slotSize;
    }

    /** {@code vfree}: poisons the area and returns its pages. */
    public void vfree(long address) {
        long off = address - base;
        long slot = off / slotSize;
        if (off < 0 || off % slotSize != 0 || slot >= backing.length || backing[(int) slot] == 0) {
            throw new IllegalStateException(String.format("vfree of 0x%x: not a vmalloc area", address));
        }
        int s = (int) slot;
        space.fill(address, mapped[s], PageAllocator.PAGE_POISON);
        pages.freePages(backing[s], Long.numberOfTrailingZeros(mapped[s]) - pages.pageShift());
        mapped[s] = 0;
        backing[s] = 0;
        freeSlots[freeTop++] = s;
    }

    /** The number of slots, free or not. */
    public int slots() {
        return backing.length;
    }

    /** The address of slot {@code slot}: {@code base() + slot * slotSize()}. */
    public long slotAddress(int slot) {
        return base + slot * slotSize;
    }

    /** Bytes mapped at the start of slot {@code slot}, 0 if it is free. */
    public long mappedBytes(int slot) {
        return mapped[slot];
    }

    /**
     * The linear-map address of the pages backing slot {@code slot} (what its page-table entries
     * point at, as a kernel address), 0 if it is free.
     */
    public long backingPages(int slot) {
        return backing[slot];
    }

    /**
     * The linear-map address of the pages backing the live area that starts at {@code address}.
     *
     * @throws IllegalStateException if no live area starts there
     */
    public long backingOf(long address) {
        if (!isMapped(address)) {
            throw new IllegalStateException(String.format("0x%x: not a vmalloc area", address));
        }
        return backing[(int) ((address - base) / slotSize)];
    }

    /** True if {@code address} starts a live vmalloc area. */
    public boolean isMapped(long address) {
        long off = address - base;
        long slot = off / slotSize;
        return off >= 0 && off % slotSize == 0 && slot < backing.length && backing[(int) slot] != 0;
    }
}
