package io.github.kproc.mem;

import static io.github.kproc.mem.Machines.ARM64_PAGE_OFFSET;
import static io.github.kproc.mem.Machines.ARM64_THREAD_ALIGN;
import static io.github.kproc.mem.Machines.ARM64_THREAD_SIZE;
import static io.github.kproc.mem.Machines.ARM64_VMALLOC_START;
import static io.github.kproc.mem.Machines.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.github.kproc.Errno;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * VMAP_STACK kernel stacks: {@code alloc_thread_stack_node} calls
 * {@code __vmalloc_node_range(THREAD_SIZE, THREAD_ALIGN, VMALLOC_START, VMALLOC_END, ...)} and
 * {@code free_thread_stack} calls {@code vfree}. Checked on the arm64 defconfig layout: 16 KiB
 * stacks in 32 KiB slots.
 */
class VmallocAreaTest {
    private static final long STACK_PAGES = ARM64_THREAD_SIZE / PAGE_SIZE;

    private static VmallocArea vmalloc(KernelMemory m) {
        VmallocArea area = m.vmalloc();
        assertNotNull(area);
        return area;
    }

    /** RAM of 4..400 pages and up to 200 operations: even allocates a stack, odd frees a live one. */
    private static Gen<List<Integer>> operations() {
        return lists().of(integers().between(0, 1 << 20)).ofSizeBetween(0, 200);
    }

    @Test
    void everyStackIsThreadAlignAlignedInItsOwnSlotAndChargedToThePageAllocator() {
        Theories.qt(150).forAll(integers().between(4, 400), operations()).checkAssert((ramPages, ops) -> {
            try (KernelMemory m = KernelMemory.create(Machines.arm64((long) ramPages * PAGE_SIZE))) {
                VmallocArea area = vmalloc(m);
                PageAllocator pages = m.pages();
                List<Long> live = new ArrayList<>();
                int slots = area.freeSlots();
                for (int op : ops) {
                    if ((op & 1) == 0 || live.isEmpty()) {
                        long free = pages.freePages();
                        long stack = area.vmalloc(ARM64_THREAD_SIZE);
                        if (stack == 0) {
                            assertTrue(free < STACK_PAGES || live.size() == slots, "ENOMEM with room left");
                            assertEquals(free, pages.freePages());
                            continue;
                        }
                        assertEquals(0, stack % ARM64_THREAD_ALIGN, Long.toHexString(stack));
                        assertTrue(stack - ARM64_VMALLOC_START < (long) slots * ARM64_THREAD_ALIGN);
                        assertFalse(live.contains(stack));
                        assertTrue(area.isMapped(stack));
                        assertEquals(free - STACK_PAGES, pages.freePages());
                        live.add(stack);
                    } else {
                        long stack = live.remove((op >>> 1) % live.size());
                        area.vfree(stack);
                        assertFalse(area.isMapped(stack));
                    }
                    assertEquals(pages.totalPages() - live.size() * STACK_PAGES, pages.freePages());
                    assertEquals(slots - live.size(), area.freeSlots());
                    assertEquals(slots - live.size(), m.usage().freeVmallocSlots());
                }
                for (long stack : live) {
                    area.vfree(stack);
                }
                assertEquals(pages.totalPages(), pages.freePages());
                assertEquals(slots, area.freeSlots());
            }
        });
    }

    @Test
    void theStackIsReachedThroughItsVmallocAddress() {
        try (KernelMemory m = KernelMemory.create(Machines.arm64(1L << 20))) {
            long stack = vmalloc(m).vmalloc(ARM64_THREAD_SIZE);
            byte[] bytes = new byte[(int) ARM64_THREAD_SIZE];
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (i * 31);
            }
            m.space().writeBytes(stack, bytes);
            assertArrayEquals(bytes, m.space().readBytes(stack, bytes.length));
            m.space().writeLong(stack, 0x57AC6E9DL); // STACK_END_MAGIC at end_of_stack()
            assertEquals(0x57AC6E9DL, m.space().readLong(stack));
        }
    }

    @Test
    void guardSpaceAfterAStackFaults() {
        try (KernelMemory m = KernelMemory.create(Machines.arm64(1L << 20))) {
            VmallocArea area = vmalloc(m);
            long low = area.vmalloc(ARM64_THREAD_SIZE);
            long high = area.vmalloc(ARM64_THREAD_SIZE);
            assertEquals(low + ARM64_THREAD_ALIGN, high);
            // a stack grows down: overflowing the upper stack runs into the guard half of the slot below
            assertFault(m, high - 8, 8);
            assertFault(m, low + ARM64_THREAD_SIZE, 1);
            assertFault(m, low + ARM64_THREAD_SIZE - 4, 8);
            assertFalse(m.space().contains(low, ARM64_THREAD_SIZE + 1));
            assertTrue(m.space().contains(low, ARM64_THREAD_SIZE));
        }
    }

    @Test
    void aStackIsUnmappedOnceFreedAndItsPagesReadAsPagePoison() {
        try (KernelMemory m = KernelMemory.create(Machines.arm64(1L << 20))) {
            VmallocArea area = vmalloc(m);
            long stack = area.vmalloc(ARM64_THREAD_SIZE);
            m.space().writeLong(stack, 0x57AC6E9DL);
            area.vfree(stack);
            assertFault(m, stack, 8);
            long again = area.vmalloc(ARM64_THREAD_SIZE);
            assertEquals(stack, again, "the slot is reused");
            assertEquals(0xaaaaaaaaaaaaaaaaL, m.space().readLong(again), "the previous user's bytes are poisoned");
        }
    }

    @Test
    void slotExhaustionReturnsNullWithoutChargingPages() {
        MemoryMap fourSlots = new MemoryMap(8, PAGE_SIZE, ARM64_PAGE_OFFSET, 4L << 20, ARM64_VMALLOC_START,
                4 * ARM64_THREAD_ALIGN, ARM64_THREAD_ALIGN);
        try (KernelMemory m = KernelMemory.create(fourSlots)) {
            VmallocArea area = vmalloc(m);
            for (int i = 0; i < 4; i++) {
                assertNotEquals(0, area.vmalloc(ARM64_THREAD_SIZE));
            }
            long free = m.pages().freePages();
            assertEquals(0, area.vmalloc(ARM64_THREAD_SIZE));
            assertEquals(free, m.pages().freePages());
            assertEquals(0, area.freeSlots());
        }
    }

    @Test
    void pageExhaustionReturnsNullWithoutTakingASlot() {
        try (KernelMemory m = KernelMemory.create(Machines.arm64(1L << 20))) {
            VmallocArea area = vmalloc(m);
            while (m.pages().allocPages(0) != 0) {
                // use up RAM
            }
            int slots = area.freeSlots();
            assertEquals(0, area.vmalloc(ARM64_THREAD_SIZE));
            assertEquals(slots, area.freeSlots());
        }
    }

    @Test
    void vfreeOfAnythingButALiveAreaIsRejectedWithoutChange() {
        try (KernelMemory m = KernelMemory.create(Machines.arm64(1L << 20))) {
            VmallocArea area = vmalloc(m);
            long stack = area.vmalloc(ARM64_THREAD_SIZE);
            long freed = area.vmalloc(ARM64_THREAD_SIZE);
            area.vfree(freed);
            long free = m.pages().freePages();
            int slots = area.freeSlots();
            for (long bad : new long[] {freed, stack + PAGE_SIZE, ARM64_VMALLOC_START - ARM64_THREAD_ALIGN,
                    ARM64_VMALLOC_START + (1L << 40), ARM64_PAGE_OFFSET, 0}) {
                assertThrows(IllegalStateException.class, () -> area.vfree(bad), Long.toHexString(bad));
                assertFalse(area.isMapped(bad));
            }
            assertEquals(free, m.pages().freePages());
            assertEquals(slots, area.freeSlots());
            assertTrue(area.isMapped(stack));
        }
    }

    @Test
    void sizesThatAreNotAPowerOfTwoOfPagesBelowTheSlotAreRejected() {
        try (KernelMemory m = KernelMemory.create(Machines.arm64(1L << 20))) {
            VmallocArea area = vmalloc(m);
            for (long bad : new long[] {0, -ARM64_THREAD_SIZE, PAGE_SIZE / 2, 3 * PAGE_SIZE, ARM64_THREAD_ALIGN}) {
                assertThrows(IllegalArgumentException.class, () -> area.vmalloc(bad), Long.toString(bad));
            }
            assertEquals(m.pages().totalPages(), m.pages().freePages());
        }
    }

    @Test
    void aMachineWithoutVmapStackHasNoVmallocArea() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(1L << 20))) {
            assertEquals(null, m.vmalloc());
            assertEquals(0, m.usage().freeVmallocSlots());
        }
    }

    private static void assertFault(KernelMemory m, long address, int length) {
        MemoryFaultException e = assertThrows(MemoryFaultException.class, () -> m.space().readBytes(address, length),
                () -> String.format("0x%x+%d is mapped", address, length));
        assertEquals(Errno.EFAULT, e.errno());
        assertEquals(address, e.address());
    }
}
