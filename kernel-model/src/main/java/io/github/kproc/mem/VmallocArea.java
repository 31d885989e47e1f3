package io.github.kproc.mem;

/**
 * The vmalloc area, as far as the model uses it: {@code VMAP_STACK} kernel stacks. Each allocation
 * takes one slot of {@link #slotSize()} bytes (THREAD_ALIGN on arm64, so every stack is aligned
 * to it and followed by unmapped guard space) and is charged to the page allocator for the pages
 * it maps, so memory accounting and {@code -ENOMEM} behave as with physically contiguous stacks.
 * The stack's bytes are reached through its vmalloc address only; guard space, free slots and
 * freed areas fault ({@link MemoryFaultException}), as an overflow or a use after {@code vfree}
 * does in the kernel.
 */
public final class VmallocArea {
    private final AddressSpace space;
    private final PageAllocator pages;
    private final long base;
    private final long slotSize;
    private final int[] freeSlots;
    private final long[] backing;
    /** Bytes mapped at the start of each slot (0 when free), shared with the address space. */
    private final long[] mapped;
    private int freeTop;

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
        this.freeSlots = new int[(int) slots];
        this.backing = new long[(int) slots];
        this.mapped = new long[(int) slots];
        space.mapSlots(Long.numberOfTrailingZeros(slotSize), mapped);
        for (int i = 0; i < slots; i++) {
            freeSlots[i] = (int) slots - 1 - i;
        }
        this.freeTop = (int) slots;
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
        return freeTop;
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
        if (freeTop == 0) {
            return 0;
        }
        int order = Long.numberOfTrailingZeros(size) - pages.pageShift();
        long physical = pages.allocPages(order);
        if (physical == 0) {
            return 0;
        }
        int slot = freeSlots[--freeTop];
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

    /** True if {@code address} starts a live vmalloc area. */
    public boolean isMapped(long address) {
        long off = address - base;
        long slot = off / slotSize;
        return off >= 0 && off % slotSize == 0 && slot < backing.length && backing[(int) slot] != 0;
    }
}
