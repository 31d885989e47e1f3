package io.github.kproc.mem;

import java.util.Arrays;

/**
 * A buddy allocator over the pages of the linear map: blocks of 2^order pages, naturally aligned (a
 * block of order n starts at a multiple of 2^n pages, in kernel addresses: RAM must start at a
 * boundary of the largest block), split on allocation and merged with their buddy on free, as
 * {@code mm/page_alloc.c} does.
 *
 * <p>Per-page metadata lives in Java arrays indexed by page frame number, the model's
 * {@code struct page}: free-list links, the order and state of a block's head page, and the slab
 * fields used by {@link SlabCache}. Nothing is allocated on the Java heap after construction.
 * Freed blocks are filled with {@link #PAGE_POISON}.
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
    // struct page, one slot per page frame
    final int[] next;
    final int[] prev;
    private final byte[] state;
    final short[] slabCache;
    final long[] slabFree;
    private long freePages;

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
        this.next = new int[pageCount];
        this.prev = new int[pageCount];
        this.state = new byte[pageCount];
        this.slabCache = new short[pageCount];
        this.slabFree = new long[pageCount];
        Arrays.fill(freeHead, -1);
        int pfn = 0;
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
        return freeCount[order];
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
        if (o == MAX_ORDER) {
            return 0;
        }
        int pfn = freeHead[o];
        remove(o, pfn);
        while (o > order) {
            o--;
            push(o, pfn + (1 << o));
        }
        state[pfn] = (byte) (ALLOCATED | order);
        freePages -= 1L << order;
        return base + ((long) pfn << pageShift);
    }

    /**
     * {@code __free_pages(address, order)}: returns a block, poisons it and merges it with free buddies.
     *
     * @throws IllegalStateException if {@code address} is not the start of an allocated block of that
     *     order (a double free or a wrong order: the kernel's "Bad page state")
     */
    public void freePages(long address, int order) {
        int pfn = pfnOf(address);
        if (!isAllocatedBlock(pfn, order) || slabCache[pfn] != 0) {
            throw new IllegalStateException(String.format("Bad page state: free of 0x%x order %d", address, order));
        }
        space.fill(address, (long) pageSize() << order, PAGE_POISON);
        state[pfn] = 0;
        freePages += 1L << order;
        while (order < MAX_ORDER - 1) {
            int buddy = pfn ^ (1 << order);
            if (buddy >= pageCount || state[buddy] != (byte) (FREE | order)) {
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
        return order >= 0 && order < MAX_ORDER && state[pfn] == (byte) (ALLOCATED | order);
    }

    /**
     * The head page of the block holding {@code pfn}, or -1 if {@code pfn} is free and not a head. A
     * block of order n is naturally aligned, so its head is found by clearing the low bits.
     */
    int blockHead(int pfn) {
        for (int order = 0; order < MAX_ORDER; order++) {
            int head = pfn & -(1 << order);
            byte s = state[head];
            if (s != 0 && orderOf(s) >= order && head + (1 << orderOf(s)) > pfn) {
                return head;
            }
        }
        return -1;
    }

    /** True if the block headed by {@code head} is allocated. */
    boolean headAllocated(int head) {
        return (state[head] & ALLOCATED) != 0;
    }

    /** The order of the block headed by {@code head}. */
    int headOrder(int head) {
        return orderOf(state[head]);
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
        next[pfn] = head;
        prev[pfn] = -1;
        if (head >= 0) {
            prev[head] = pfn;
        }
        freeHead[order] = pfn;
        state[pfn] = (byte) (FREE | order);
        freeCount[order]++;
    }

    private void remove(int order, int pfn) {
        int n = next[pfn];
        int p = prev[pfn];
        if (p >= 0) {
            next[p] = n;
        } else {
            freeHead[order] = n;
        }
        if (n >= 0) {
            prev[n] = p;
        }
        state[pfn] = 0;
        freeCount[order]--;
    }

    static int orderOf(byte s) {
        return s & ORDER_MASK;
    }
}
