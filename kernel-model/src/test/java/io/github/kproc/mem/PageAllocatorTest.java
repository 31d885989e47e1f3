package io.github.kproc.mem;

import static io.github.kproc.mem.Machines.ARM32_PAGE_OFFSET;
import static io.github.kproc.mem.Machines.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * The buddy allocator of {@code mm/page_alloc.c} ({@code alloc_pages}, {@code __free_pages},
 * {@code __free_one_page}), checked over random sequences of allocations and frees on machines of
 * random size.
 */
class PageAllocatorTest {
    /** Orders drawn for alloc_pages: mostly small, as the kernel's callers are, but up to MAX_ORDER - 1. */
    private static final int[] ORDERS = {0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    private static final int MAX_BLOCK_BYTES = PAGE_SIZE << (PageAllocator.MAX_ORDER - 1);

    /** A machine of {@code pages} pages of RAM and operations to replay on it. */
    record Scenario(int pages, List<Integer> ops) {
    }

    /**
     * RAM of 1 to 3000 pages (from less than one block to almost three MAX_ORDER blocks, so
     * exhaustion is common) and up to 300 operations. An operation is one int: even allocates an
     * order from {@link #ORDERS}, odd frees a live block; shrinking an int heads towards alloc(0).
     */
    private static Gen<Scenario> scenarios() {
        return integers().between(1, 3000).zip(lists().of(integers().between(0, 1 << 20)).ofSizeBetween(0, 300),
                Scenario::new);
    }

    /** One replayed operation and the accounting just before it. */
    record Step(boolean alloc, int order, long address, long freePagesBefore, int[] shapeBefore) {
        boolean enomem() {
            return alloc && address == 0;
        }
    }

    /** Replays operations on a fresh machine, keeping every live block with a marker in its first word. */
    static final class Replay implements AutoCloseable {
        final KernelMemory memory;
        final PageAllocator pages;
        final AddressSpace space;
        final long ramBytes;
        final int[] bootShape;
        final TreeMap<Long, Integer> live = new TreeMap<>();

        Replay(int ramPages) {
            this.ramBytes = (long) ramPages * PAGE_SIZE;
            this.memory = KernelMemory.create(Machines.arm32(ramBytes));
            this.pages = memory.pages();
            this.space = memory.space();
            this.bootShape = shape(pages);
        }

        Step step(int op) {
            long freeBefore = pages.freePages();
            int[] shapeBefore = shape(pages);
            if ((op & 1) == 0 || live.isEmpty()) {
                int order = ORDERS[(op >>> 1) % ORDERS.length];
                long address = pages.allocPages(order);
                if (address != 0) {
                    live.put(address, order);
                    space.writeLong(address, ~address);
                }
                return new Step(true, order, address, freeBefore, shapeBefore);
            }
            Map.Entry<Long, Integer> victim = nth(live, (op >>> 1) % live.size());
            long address = victim.getKey();
            int order = victim.getValue();
            assertEquals(~address, space.readLong(address), () -> String.format("block 0x%x was overwritten", address));
            pages.freePages(address, order);
            live.remove(address);
            return new Step(false, order, address, freeBefore, shapeBefore);
        }

        long liveBytes() {
            long sum = 0;
            for (int order : live.values()) {
                sum += (long) PAGE_SIZE << order;
            }
            return sum;
        }

        void freeAll() {
            for (Map.Entry<Long, Integer> e : live.entrySet()) {
                pages.freePages(e.getKey(), e.getValue());
            }
            live.clear();
        }

        @Override
        public void close() {
            memory.close();
        }
    }

    static int[] shape(PageAllocator pages) {
        int[] blocks = new int[PageAllocator.MAX_ORDER];
        for (int o = 0; o < blocks.length; o++) {
            blocks[o] = pages.freeBlocks(o);
        }
        return blocks;
    }

    static <K, V> Map.Entry<K, V> nth(TreeMap<K, V> map, int n) {
        int i = 0;
        for (Map.Entry<K, V> e : map.entrySet()) {
            if (i++ == n) {
                return e;
            }
        }
        throw new IndexOutOfBoundsException(n);
    }

    static boolean allBytesAre(AddressSpace space, long address, long length, byte value) {
        MemorySegment bytes = space.segment().asSlice(space.offset(address, length), length);
        return bytes.mismatch(filled(length, value)) == -1;
    }

    private static MemorySegment filled(long length, byte value) {
        MemorySegment pattern = value == PageAllocator.PAGE_POISON ? PAGE_POISON_BLOCK : MemorySegment.ofArray(new byte[(int) length]).fill(value);
        return pattern.asSlice(0, length);
    }

    private static final MemorySegment PAGE_POISON_BLOCK =
            MemorySegment.ofArray(new byte[MAX_BLOCK_BYTES]).fill(PageAllocator.PAGE_POISON);

    @Test
    void everyBlockIsNaturallyAlignedToItsSizeInKernelAddresses() {
        Theories.qt(150).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s.pages())) {
                for (int op : s.ops()) {
                    Step step = r.step(op);
                    if (step.alloc() && !step.enomem()) {
                        long size = (long) PAGE_SIZE << step.order();
                        assertEquals(0, step.address() % size,
                                () -> String.format("order-%d block at 0x%x", step.order(), step.address()));
                        assertTrue(step.address() >= ARM32_PAGE_OFFSET
                                && step.address() + size <= ARM32_PAGE_OFFSET + r.ramBytes);
                        assertTrue(r.pages.isAllocated(step.address(), step.order()));
                    }
                }
            }
        });
    }

    @Test
    void noTwoLiveBlocksOverlap() {
        Theories.qt(150).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s.pages())) {
                for (int op : s.ops()) {
                    r.step(op);
                    long end = Long.MIN_VALUE;
                    for (Map.Entry<Long, Integer> e : r.live.entrySet()) {
                        assertTrue(e.getKey() >= end, () -> String.format("0x%x inside the block before it", e.getKey()));
                        end = e.getKey() + ((long) PAGE_SIZE << e.getValue());
                    }
                }
            }
        });
    }

    @Test
    void freePagesAlwaysEqualsTotalMinusLiveAndSumOfFreeBlocks() {
        Theories.qt(150).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s.pages())) {
                for (int op : s.ops()) {
                    r.step(op);
                    assertEquals(r.pages.totalPages() - r.liveBytes() / PAGE_SIZE, r.pages.freePages());
                    long inFreeLists = 0;
                    for (int o = 0; o < PageAllocator.MAX_ORDER; o++) {
                        inFreeLists += (long) r.pages.freeBlocks(o) << o;
                    }
                    assertEquals(r.pages.freePages(), inFreeLists);
                }
            }
        });
    }

    @Test
    void freeingEverythingReturnsEveryPageAndCoalescesToTheBootFreeBlockShape() {
        Theories.qt(150).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s.pages())) {
                for (int op : s.ops()) {
                    r.step(op);
                }
                r.freeAll();
                assertEquals(r.pages.totalPages(), r.pages.freePages());
                assertArrayEquals(r.bootShape, shape(r.pages));
            }
        });
    }

    @Test
    void exhaustionReturnsNullOnlyWhenNoBlockIsLargeEnoughAndChangesNothing() {
        Theories.qt(150).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s.pages())) {
                for (int op : s.ops()) {
                    Step step = r.step(op);
                    if (step.enomem()) {
                        for (int o = step.order(); o < PageAllocator.MAX_ORDER; o++) {
                            assertEquals(0, step.shapeBefore()[o], "ENOMEM with a free block of order " + o);
                        }
                        assertEquals(step.freePagesBefore(), r.pages.freePages());
                        assertArrayEquals(step.shapeBefore(), shape(r.pages));
                    }
                }
            }
        });
    }

    @Test
    void freedPagesReadAsPagePoison() {
        Theories.qt(150).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s.pages())) {
                for (int op : s.ops()) {
                    Step step = r.step(op);
                    if (!step.alloc()) {
                        assertTrue(allBytesAre(r.space, step.address(), (long) PAGE_SIZE << step.order(),
                                PageAllocator.PAGE_POISON), () -> String.format("freed 0x%x not poisoned", step.address()));
                    }
                }
            }
        });
    }

    @Test
    void doubleFreeWrongOrderOrInteriorFreeIsBadPageStateAndChangesNothing() {
        Theories.qt(150).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s.pages())) {
                for (int op : s.ops()) {
                    Step step = r.step(op);
                    if (!step.alloc()) {
                        assertRejected(r, step.address(), step.order());
                    }
                    if (!r.live.isEmpty()) {
                        Map.Entry<Long, Integer> block = nth(r.live, (op >>> 3) % r.live.size());
                        long address = block.getKey();
                        int order = block.getValue();
                        for (int wrong : new int[] {order - 1, order + 1, order + 64, order - 256, order + 256}) {
                            assertRejected(r, address, wrong);
                        }
                        if (order > 0) {
                            assertRejected(r, address + PAGE_SIZE, 0);
                        }
                        assertEquals(~address, r.space.readLong(address), "a rejected free poisoned a live block");
                        assertTrue(r.pages.isAllocated(address, order));
                    }
                }
            }
        });
    }

    private static void assertRejected(Replay r, long address, int order) {
        long free = r.pages.freePages();
        int[] shape = shape(r.pages);
        assertThrows(IllegalStateException.class, () -> r.pages.freePages(address, order),
                () -> String.format("free of 0x%x order %d accepted", address, order));
        assertEquals(free, r.pages.freePages());
        assertArrayEquals(shape, shape(r.pages));
        assertFalse(r.pages.isAllocated(address, order));
    }

    @Test
    void threadSizeStacksAreThreadSizeAligned() {
        try (KernelMemory arm32 = KernelMemory.create(Machines.arm32(16L << 20));
                KernelMemory arm64 = KernelMemory.create(Machines.arm64(16L << 20))) {
            for (int i = 0; i < 100; i++) {
                arm32.pages().allocPages(i % 3 == 0 ? 0 : 2);
                arm64.pages().allocPages(i % 3 == 0 ? 0 : 1);
                long arm32Stack = arm32.pages().allocPages(1);
                long arm64Stack = arm64.pages().allocPages(2);
                assertEquals(0, arm32Stack % Machines.ARM32_THREAD_SIZE, Long.toHexString(arm32Stack));
                assertEquals(0, arm64Stack % Machines.ARM64_THREAD_SIZE, Long.toHexString(arm64Stack));
            }
        }
    }

    @Test
    void bootFreeListsHoldMaxOrderBlocksThenThePowerOfTwoTail() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(2L * MAX_BLOCK_BYTES + 3 * PAGE_SIZE))) {
            int[] expected = new int[PageAllocator.MAX_ORDER];
            expected[10] = 2;
            expected[1] = 1;
            expected[0] = 1;
            assertArrayEquals(expected, shape(m.pages()));
            assertEquals(2 * 1024 + 3, m.pages().totalPages());
            assertEquals(m.pages().totalPages(), m.pages().freePages());
        }
    }

    @Test
    void allocationSplitsABlockAndFreeMergesBuddiesBackIntoIt() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(MAX_BLOCK_BYTES))) {
            PageAllocator pages = m.pages();
            long a = pages.allocPages(0);
            long b = pages.allocPages(0);
            assertEquals(a ^ PAGE_SIZE, b, "the second order-0 block is the first one's buddy");
            for (int o = 1; o < PageAllocator.MAX_ORDER - 1; o++) {
                assertEquals(1, pages.freeBlocks(o), "one upper half left at order " + o);
            }
            pages.freePages(a, 0);
            assertEquals(1, pages.freeBlocks(0), "a waits for its buddy");
            pages.freePages(b, 0);
            assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, shape(pages));
        }
    }

    @Test
    void exhaustingRamWithSinglePagesHandsOutEveryPageOnce() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(3 * MAX_BLOCK_BYTES / 2 + 5 * PAGE_SIZE))) {
            PageAllocator pages = m.pages();
            List<Long> got = new ArrayList<>();
            for (long a; (a = pages.allocPages(0)) != 0; ) {
                got.add(a);
            }
            assertEquals(pages.totalPages(), got.size());
            assertEquals(got.size(), got.stream().distinct().count());
            assertEquals(0, pages.freePages());
            assertEquals(0, pages.allocPages(0), "ENOMEM stays ENOMEM");
            assertEquals(0, pages.freePages());
        }
    }

    @Test
    void ramWhosePageOffsetIsNotAlignedToTheLargestBlockIsRejected() {
        // blocks are aligned to their size counting from the first page of RAM, so that page must
        // itself be aligned to a MAX_ORDER block for THREAD_SIZE stacks to be THREAD_SIZE aligned
        MemoryMap unaligned = new MemoryMap(4, PAGE_SIZE, ARM32_PAGE_OFFSET + PAGE_SIZE, MAX_BLOCK_BYTES, 0, 0, 0);
        assertThrows(IllegalArgumentException.class, () -> KernelMemory.create(unaligned));
    }

    @Test
    void orderOutsideZeroToMaxOrderIsRejected() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(MAX_BLOCK_BYTES))) {
            assertThrows(IllegalArgumentException.class, () -> m.pages().allocPages(-1));
            assertThrows(IllegalArgumentException.class, () -> m.pages().allocPages(PageAllocator.MAX_ORDER));
            assertEquals(m.pages().totalPages(), m.pages().freePages());
        }
    }

    @Test
    void freeOfAnAddressOutsideRamOrNotPageAlignedIsBadPageState() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(MAX_BLOCK_BYTES))) {
            long a = m.pages().allocPages(0);
            for (long bad : new long[] {0, ARM32_PAGE_OFFSET - PAGE_SIZE, ARM32_PAGE_OFFSET + MAX_BLOCK_BYTES, a + 8}) {
                assertThrows(IllegalStateException.class, () -> m.pages().freePages(bad, 0), Long.toHexString(bad));
                assertFalse(m.pages().isAllocated(bad, 0));
            }
            assertEquals(m.pages().totalPages() - 1, m.pages().freePages());
        }
    }
}
