package io.github.kproc.mem;

import static io.github.kproc.mem.Machines.ARM32_PAGE_OFFSET;
import static io.github.kproc.mem.Machines.ARM64_PAGE_OFFSET;
import static io.github.kproc.mem.Machines.ARM64_THREAD_SIZE;
import static io.github.kproc.mem.Machines.PAGE_SIZE;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * One simulated machine's memory: created lazily (the host maps a page only when the model first
 * writes it, as a kernel's untouched RAM costs nothing), accounted for leak checks, released on close.
 */
class KernelMemoryTest {
    private static final long GIB = 1L << 30;
    private static final long MIB = 1L << 20;

    /** The resident set of this JVM ({@code VmRSS} in /proc/self/status). */
    static long residentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    @Test
    void aTerabyteArm64MachineCostsHeapForWhatItUsesOnly() {
        // alloc_pages and __vmalloc_node_range on the arm64 maximum: the struct page records and the
        // vmalloc slots cover what was handed out, not 2^28 pages and 2^26 stack slots (-Xmx2g would
        // not hold those)
        long ram = 1L << 40;
        try (KernelMemory memory = KernelMemory.create(Machines.arm64(ram))) {
            PageAllocator pages = memory.pages();
            long total = ram / PAGE_SIZE;
            assertEquals(total, pages.freePages());
            assertEquals(total >> (PageAllocator.MAX_ORDER - 1), pages.freeBlocks(PageAllocator.MAX_ORDER - 1));
            long first = pages.allocPages(0);
            assertEquals(ARM64_PAGE_OFFSET + ram - (PAGE_SIZE << (PageAllocator.MAX_ORDER - 1)), first,
                    "the highest largest block is split first, as the kernel's free list gives it");
            long stack = Objects.requireNonNull(memory.vmalloc()).vmalloc(ARM64_THREAD_SIZE);
            assertEquals(Machines.ARM64_VMALLOC_START, stack, "the first slot");
            memory.space().writeLong(stack, 42);
            assertEquals(MemoryState.Kind.FREE_PAGES, memory.classify(ARM64_PAGE_OFFSET + 12345).kind(),
                    "a page never handed out is free");
            assertEquals(MemoryState.Kind.ALLOCATED_PAGES, memory.classify(first).kind());
            memory.vmalloc().vfree(stack);
            pages.freePages(first, 0);
            assertEquals(total, pages.freePages());
            assertEquals(memory.vmalloc().freeSlots(), (int) (ram / ARM64_THREAD_SIZE));
        }
    }

    @Test
    void anEightGibArm64MachineIsCreatedWithoutTouchingItsRam() {
        System.gc();
        long before = residentBytes();
        try (KernelMemory m = KernelMemory.create(Machines.arm64(8 * GIB))) {
            long grown = residentBytes() - before;
            // only the struct page arrays (19 bytes a page, 40 MiB here) and vmalloc slot tables are real
            assertTrue(grown < 256 * MIB, "RSS grew by " + (grown >> 20) + " MiB for an 8 GiB machine");
            assertEquals(8 * GIB / PAGE_SIZE, m.pages().totalPages());
            assertEquals(m.pages().totalPages(), m.pages().freePages());
            long lastPage = ARM64_PAGE_OFFSET + 8 * GIB - PAGE_SIZE;
            assertEquals(0, m.space().readLong(lastPage), "untouched RAM reads as zero");
            m.space().writeLong(lastPage, 0x57AC6E9DL);
            assertEquals(0x57AC6E9DL, m.space().readLong(lastPage));
            long stack = Objects.requireNonNull(m.vmalloc()).vmalloc(ARM64_THREAD_SIZE);
            m.space().fill(stack, ARM64_THREAD_SIZE, (byte) 0);
            assertTrue(residentBytes() - before < 256 * MIB);
        }
    }

    @Test
    void closeReturnsTheTouchedMemoryToTheHost() {
        KernelMemory m = KernelMemory.create(Machines.arm32(256 * MIB));
        long before = residentBytes();
        m.space().fill(ARM32_PAGE_OFFSET, 128 * MIB, (byte) 0x6b);
        long touched = residentBytes();
        assertTrue(touched - before > 96 * MIB, "writing 128 MiB grew RSS by only " + ((touched - before) >> 20) + " MiB");
        m.close();
        long after = residentBytes();
        assertTrue(touched - after > 96 * MIB, "close() gave back only " + ((touched - after) >> 20) + " MiB");
    }

    @Test
    void accessAfterCloseIsRefusedAndCloseIsIdempotent() {
        KernelMemory m = KernelMemory.create(Machines.arm32(MIB));
        AddressSpace space = m.space();
        m.close();
        assertThrows(IllegalStateException.class, () -> space.readInt(ARM32_PAGE_OFFSET));
        assertDoesNotThrow(m::close);
    }

    @Test
    void usageSnapshotsAreALeakCheckOverPagesSlabsAndStacks() {
        try (KernelMemory m = KernelMemory.create(Machines.arm64(16 * MIB))) {
            SlabCache tasks = m.createCache("task_struct", Machines.ARM64_TASK_STRUCT_SIZE, Machines.TASK_STRUCT_ALIGN);
            SlabCache files = m.createCache("files_cache", 704, 64);
            MemoryUsage baseline = m.usage();
            assertEquals(m.pages().totalPages(), baseline.freePages());
            assertEquals(java.util.Map.of("task_struct", 0L, "files_cache", 0L), baseline.objectsInUse());

            long task = tasks.zalloc();
            long table = files.alloc();
            long stack = Objects.requireNonNull(m.vmalloc()).vmalloc(ARM64_THREAD_SIZE);
            long block = m.pages().allocPages(3);
            MemoryUsage busy = m.usage();
            assertNotEquals(baseline, busy);
            assertEquals(1L, busy.objectsInUse().get("task_struct"));
            assertEquals(baseline.freeVmallocSlots() - 1, busy.freeVmallocSlots());

            m.pages().freePages(block, 3);
            m.vmalloc().vfree(stack);
            files.free(table);
            tasks.free(task);
            assertNotEquals(baseline, m.usage(), "the kept empty slabs still hold pages");
            m.shrinkCaches();
            assertEquals(baseline, m.usage());
        }
    }

    @Test
    void cachesAreListedInCreationOrderAndTheListIsReadOnly() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(MIB))) {
            SlabCache a = m.createCache("task_struct", Machines.ARM32_TASK_STRUCT_SIZE, 64);
            SlabCache b = m.createCache("signal_cache", 640, 64);
            assertEquals(List.of(a, b), m.caches());
            assertThrows(UnsupportedOperationException.class, () -> m.caches().clear());
        }
    }

    @Test
    void theSpaceMapsRamAtPageOffsetWithTheMapsPointerSize() {
        try (KernelMemory arm32 = KernelMemory.create(Machines.arm32(MIB));
                KernelMemory arm64 = KernelMemory.create(Machines.arm64(MIB))) {
            assertEquals(4, arm32.space().pointerSize());
            assertEquals(8, arm64.space().pointerSize());
            assertTrue(arm32.space().contains(ARM32_PAGE_OFFSET, MIB));
            assertTrue(arm64.space().contains(ARM64_PAGE_OFFSET, MIB));
            assertEquals(Machines.arm32(MIB), arm32.map());
        }
    }
}
