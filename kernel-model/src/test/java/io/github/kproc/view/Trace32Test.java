package io.github.kproc.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.KernelMemory;
import io.github.kproc.mem.MemoryFaultException;
import io.github.kproc.mem.MemoryMap;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;

/**
 * The TRACE32 view of the two real v4.19 builds: seed scenario 3 ({@code Var.View %Type %Hex %Decimal
 * %Index (struct thread_info*)0x80C00000}) on the model's memory and on a raw image.
 */
class Trace32Test {
    private static final long STACK = 0x80C00000L;
    private static final Profile ARM32 = io.github.kproc.layout.BundledDump.ARM32.profile();
    private static final Profile ARM64 = io.github.kproc.layout.BundledDump.ARM64.profile();

    /** What the debugger shows for the thread_info {@link #writeThreadInfo} writes. */
    private static final String THREAD_INFO_VIEW = """
              (struct thread_info *) (struct thread_info*)0x80C00000 = 0x80C00000 -> (
                (long unsigned int) flags = 0 = 0x0,
                (int) preempt_count = 1 = 0x1,
                (mm_segment_t) addr_limit = 3204448256 = 0xBF000000,
                (struct task_struct *) task = 0x81A3C000,
                (__u32) cpu = 1 = 0x1,
                (__u32) cpu_domain = 0 = 0x0,
                (struct cpu_context_save) cpu_context = (
                  (__u32) r4 = 0 = 0x0,
                  (__u32) r5 = 0 = 0x0,
                  (__u32) r6 = 0 = 0x0,
                  (__u32) r7 = 0 = 0x0,
                  (__u32) r8 = 0 = 0x0,
                  (__u32) r9 = 0 = 0x0,
                  (__u32) sl = 0 = 0x0,
                  (__u32) fp = 2160074172 = 0x80C01DBC,
                  (__u32) sp = 2160074160 = 0x80C01DB0,
                  (__u32) pc = 2148563456 = 0x80107A00,
                  (__u32 [2]) extra = ([0] = 0 = 0x0, [1] = 0 = 0x0)),
                (__u32) syscall = 0 = 0x0,
                (__u8 [16]) used_cp = ([0] = 0 = 0x0, [1] = 0 = 0x0, [2] = 0 = 0x0, [3] = 0 = 0x0, \
            [4] = 0 = 0x0, [5] = 0 = 0x0, [6] = 0 = 0x0, [7] = 0 = 0x0, [8] = 0 = 0x0, [9] = 0 = 0x0, \
            [10] = 0 = 0x0, [11] = 0 = 0x0, [12] = 0 = 0x0, [13] = 0 = 0x0, [14] = 0 = 0x0, [15] = 0 = 0x0),
                (long unsigned int [2]) tp_value = ([0] = 0 = 0x0, [1] = 0 = 0x0),
                (union fp_state) fpstate = (
                  (struct fp_hard_struct) hard = (
            """;

    /** The values of seed scenario 3 at the base of a kernel stack (arch/arm thread_info.h offsets). */
    private static void writeThreadInfo(AddressSpace memory, long ti) {
        memory.writeInt(ti + ARM32.offsetOf("thread_info", "flags"), 0);
        memory.writeInt(ti + ARM32.offsetOf("thread_info", "preempt_count"), 1);
        memory.writeInt(ti + ARM32.offsetOf("thread_info", "addr_limit"), 0xBF000000);
        memory.writeInt(ti + ARM32.offsetOf("thread_info", "task"), 0x81A3C000);
        memory.writeInt(ti + ARM32.offsetOf("thread_info", "cpu"), 1);
        memory.writeInt(ti + ARM32.offsetOf("thread_info", "cpu_context.fp"), 0x80C01DBC);
        memory.writeInt(ti + ARM32.offsetOf("thread_info", "cpu_context.sp"), 0x80C01DB0);
        memory.writeInt(ti + ARM32.offsetOf("thread_info", "cpu_context.pc"), 0x80107A00);
    }

    private static KernelMemory arm32Machine() {
        return KernelMemory.create(new MemoryMap(4, 4096, STACK, 1 << 20, 0, 0, 0));
    }

    private static String firstLines(String text, int n) {
        return String.join("\n", Arrays.asList(text.split("\n")).subList(0, n)) + "\n";
    }

    @Test
    void threadInfoAtTheBaseOfAnArm32StackReadsLikeTheDebugger() {
        try (KernelMemory machine = arm32Machine()) {
            long stack = machine.pages().allocPages(1);
            assertEquals(STACK, stack);
            writeThreadInfo(machine.space(), stack);

            String view = Trace32.view(ARM32, machine.space(), "struct thread_info", stack);

            assertEquals(THREAD_INFO_VIEW, firstLines(view, 24));
            assertTrue(view.endsWith("        (__u32) cpu = 0 = 0x0)))\n"), view);
        }
    }

    @Test
    void aRawImageReadsTheSameAsTheModel() {
        ByteBuffer image = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        image.putInt(4, 1).putInt(8, 0xBF000000).putInt(12, 0x81A3C000).putInt(16, 1);
        long context = ARM32.offsetOf("thread_info", "cpu_context");
        image.putInt((int) context + 28, 0x80C01DBC).putInt((int) context + 32, 0x80C01DB0)
                .putInt((int) context + 36, 0x80107A00);
        AddressSpace dump = AddressSpace.ofImage(MemorySegment.ofArray(image.array()), STACK, 4);

        String view = Trace32.view(ARM32, dump, "thread_info", STACK);

        assertEquals(THREAD_INFO_VIEW, firstLines(view, 24));
    }

    @Test
    void withAPlatformFlagsAndPreemptCountAreDecodedBelowTheView() {
        StubPlatform platform = new StubPlatform(ARM32,
                Map.of(0, "TIF_SIGPENDING", 1, "TIF_NEED_RESCHED", 2, "TIF_NOTIFY_RESUME"));
        try (KernelMemory machine = arm32Machine()) {
            long ti = machine.pages().allocPages(1);
            writeThreadInfo(machine.space(), ti);
            ThreadInfo threadInfo = new ThreadInfo(platform, machine.space(), ti);
            threadInfo.flags(1 << 2 | 1 << 9);
            threadInfo.preemptCount(PreemptCount.HARDIRQ_OFFSET + 1);

            String view = Trace32.view(platform, machine.space(), "struct thread_info", ti);

            assertTrue(view.startsWith(THREAD_INFO_VIEW.replace("flags = 0 = 0x0", "flags = 516 = 0x204")
                    .replace("preempt_count = 1 = 0x1", "preempt_count = 65537 = 0x10001")), view);
            assertTrue(view.endsWith("""
                            (__u32) cpu = 0 = 0x0)))
                      flags = 0x204: TIF_NOTIFY_RESUME | bit 9
                      preempt_count = 0x10001: preempt depth 1, softirq 0, hardirq 1, NMI 0: hardirq context, atomic
                    """), view);
        }
    }

    @Test
    void withAPlatformOtherStructsAreNotDecoded() {
        StubPlatform platform = new StubPlatform(ARM32, Map.of());
        try (KernelMemory machine = arm32Machine()) {
            long address = machine.pages().allocPages(1);

            String view = Trace32.view(platform, machine.space(), "struct task_struct", address);

            assertEquals(Trace32.view(ARM32, machine.space(), "struct task_struct", address), view);
            assertTrue(view.endsWith(")\n"));
        }
    }

    @Test
    void arm64TaskStructShowsItsEmbeddedThreadInfoAndDecodesIt() {
        StubPlatform platform = new StubPlatform(ARM64, Map.of(1, "TIF_NEED_RESCHED"));
        long ram = 0xFFFF000008000000L;
        try (KernelMemory machine = KernelMemory.create(new MemoryMap(8, 4096, ram, 1 << 20, 0, 0, 0))) {
            AddressSpace memory = machine.space();
            long task = machine.pages().allocPages(0);
            memory.writeLong(task + ARM64.offsetOf("task_struct", "thread_info.flags"), 1 << 1);
            memory.writeLong(task + ARM64.offsetOf("task_struct", "thread_info.addr_limit"), 0x0000FFFFFFFFFFFFL);
            memory.writeInt(task + ARM64.offsetOf("task_struct", "thread_info.preempt_count"), 2);
            memory.writeLong(task + ARM64.offsetOf("task_struct", "state"), -1);
            memory.writeLong(task + ARM64.offsetOf("task_struct", "stack"), 0xFFFF000008A40000L);
            memory.writeInt(task + ARM64.offsetOf("task_struct", "usage"), 2);
            memory.writeInt(task + ARM64.offsetOf("task_struct", "cpu"), 3);
            memory.writeInt(task + ARM64.offsetOf("task_struct", "pid"), 2);
            memory.writeCString(task + ARM64.offsetOf("task_struct", "comm"), 16, "kthreadd");

            String view = Trace32.view(platform, memory, "task_struct", task);
            List<String> lines = view.lines().toList();

            assertEquals(List.of(
                    "  (struct task_struct *) (struct task_struct*)0xFFFF000008000000 = 0xFFFF000008000000 -> (",
                    "    (struct thread_info) thread_info = (",
                    "      (long unsigned int) flags = 2 = 0x2,",
                    "      (mm_segment_t) addr_limit = 281474976710655 = 0xFFFFFFFFFFFF,",
                    "      (int) preempt_count = 2 = 0x2),",
                    "    (volatile long int) state = -1 = 0xFFFFFFFFFFFFFFFF,",
                    "    (void *) stack = 0xFFFF000008A40000,",
                    "    (atomic_t) usage = 2 = 0x2,"), lines.subList(0, 8));
            assertTrue(lines.contains("    (unsigned int) cpu = 3 = 0x3,"), view);
            assertTrue(lines.contains("    (pid_t) pid = 2 = 0x2,"), view);
            assertTrue(lines.contains("    (char [16]) comm = \"kthreadd\" ([0] = 107 = 0x6B, [1] = 116 = 0x74, "
                    + "[2] = 104 = 0x68, [3] = 114 = 0x72, [4] = 101 = 0x65, [5] = 97 = 0x61, [6] = 100 = 0x64, "
                    + "[7] = 100 = 0x64, [8] = 0 = 0x0, [9] = 0 = 0x0, [10] = 0 = 0x0, [11] = 0 = 0x0, "
                    + "[12] = 0 = 0x0, [13] = 0 = 0x0, [14] = 0 = 0x0, [15] = 0 = 0x0),"), view);
            assertEquals(List.of(
                    "  thread_info.flags = 0x2: TIF_NEED_RESCHED",
                    "  thread_info.preempt_count = 0x2: preempt depth 2, softirq 0, hardirq 0, NMI 0: task context, "
                            + "atomic"), lines.subList(lines.size() - 2, lines.size()));
        }
    }

    @Test
    void arm64ThreadInfoIsThreeWords() {
        long ram = 0xFFFF000008000000L;
        try (KernelMemory machine = KernelMemory.create(new MemoryMap(8, 4096, ram, 1 << 20, 0, 0, 0))) {
            long task = machine.pages().allocPages(0);
            machine.space().writeLong(task + 8, 0xFFFFFFFFFFFFFFFFL);

            assertEquals("""
                      (struct thread_info *) (struct thread_info*)0xFFFF000008000000 = 0xFFFF000008000000 -> (
                        (long unsigned int) flags = 0 = 0x0,
                        (mm_segment_t) addr_limit = 18446744073709551615 = 0xFFFFFFFFFFFFFFFF,
                        (int) preempt_count = 0 = 0x0)
                    """, Trace32.view(ARM64, machine.space(), "struct thread_info", task));
        }
    }

    @Test
    void multiDimensionalArraysNestTheirIndices() {
        try (KernelMemory machine = arm32Machine()) {
            AddressSpace memory = machine.space();
            long node = machine.pages().allocPages(0);
            long tags = node + ARM32.offsetOf("radix_tree_node", "tags");
            for (int i = 0; i < 6; i++) {
                memory.writeInt(tags + 4L * i, 10 * (i / 2) + i % 2);
            }

            String view = Trace32.view(ARM32, memory, "struct radix_tree_node", node);

            assertTrue(view.contains("\n    (long unsigned int [3][2]) tags = ([0] = ([0] = 0 = 0x0, [1] = 1 = 0x1), "
                    + "[1] = ([0] = 10 = 0xA, [1] = 11 = 0xB), [2] = ([0] = 20 = 0x14, [1] = 21 = 0x15)))\n"), view);
        }
    }

    @Test
    void arraysOfStructsListEachElementAsABody() {
        try (KernelMemory machine = arm32Machine()) {
            AddressSpace memory = machine.space();
            long task = machine.pages().allocPages(1);
            memory.writeInt(task + ARM32.offsetOf("task_struct", "pid_links[1].pprev"), 0x81A3C304);

            String view = Trace32.view(ARM32, memory, "struct task_struct", task);

            assertTrue(view.contains("""

                        (struct hlist_node [4]) pid_links = (
                          [0] = (
                            (struct hlist_node *) next = 0x0,
                            (struct hlist_node **) pprev = 0x0),
                          [1] = (
                            (struct hlist_node *) next = 0x0,
                            (struct hlist_node **) pprev = 0x81A3C304),
                    """), view);
        }
    }

    @Test
    void bitfieldsShowOnlyTheirBits() {
        try (KernelMemory machine = arm32Machine()) {
            AddressSpace memory = machine.space();
            long task = machine.pages().allocPages(1);
            // sched_reset_on_fork:1 .. sched_remote_wakeup:1 share the word at 660 (bits 0..3)
            memory.writeInt(task + 660, 0b1010 | 0xF0);
            long entry = task + 2048;
            // perf_branch_entry: mispred bit 0 .. cycles:16 at bit 4 .. reserved:40 at bit 24 of one u64
            memory.writeLong(entry + 16, 0xABCDL << 4 | 1L | 0xFFFFFFFFFFL << 24);

            String task32 = Trace32.view(ARM32, memory, "struct task_struct", task);
            String branch = Trace32.view(ARM32, memory, "struct perf_branch_entry", entry);

            assertTrue(task32.contains("""
                        (unsigned int:1) sched_reset_on_fork = 0 = 0x0,
                        (unsigned int:1) sched_contributes_to_load = 1 = 0x1,
                        (unsigned int:1) sched_migrated = 0 = 0x0,
                        (unsigned int:1) sched_remote_wakeup = 1 = 0x1,
                        (unsigned int:1) in_execve = 0 = 0x0,
                    """), task32);
            assertTrue(branch.contains("""
                        (__u64:1) mispred = 1 = 0x1,
                        (__u64:1) predicted = 0 = 0x0,
                        (__u64:1) in_tx = 0 = 0x0,
                        (__u64:1) abort = 0 = 0x0,
                        (__u64:16) cycles = 43981 = 0xABCD,
                        (__u64:4) type = 0 = 0x0,
                        (__u64:40) reserved = 1099511627775 = 0xFFFFFFFFFF)
                    """), branch);
        }
    }

    @Test
    void everyStructOfBothBuildsRenders() {
        for (Profile profile : List.of(ARM32, ARM64)) {
            int pointer = profile == ARM32 ? 4 : 8;
            long base = profile == ARM32 ? STACK : 0xFFFF000008000000L;
            try (KernelMemory machine = KernelMemory.create(new MemoryMap(pointer, 4096, base, 1 << 20, 0, 0, 0))) {
                machine.space().fill(base, 1 << 20, (byte) 0x6b);
                for (var type : profile.types()) {
                    String view = Trace32.view(profile, machine.space(), type.cName(), base);
                    assertTrue(view.startsWith("  (" + type.cName() + " *) "), view);
                    assertTrue(view.endsWith(")\n"), view);
                }
            }
        }
    }

    @Test
    void aStructOutsideTheImageFaults() {
        AddressSpace dump = AddressSpace.ofImage(MemorySegment.ofArray(new byte[8192]), STACK, 4);

        MemoryFaultException below = assertThrows(MemoryFaultException.class,
                () -> Trace32.view(ARM32, dump, "struct thread_info", STACK - 4));
        MemoryFaultException across = assertThrows(MemoryFaultException.class,
                () -> Trace32.view(ARM32, dump, "struct thread_info", STACK + 8192 - 16));
        MemoryFaultException far = assertThrows(MemoryFaultException.class,
                () -> Trace32.view(ARM32, dump, "struct thread_info", 0xFFFFFFFFFFFFFFF0L));

        assertEquals(STACK - 4, below.address());
        assertEquals(STACK + 8192 - 16, across.address());
        assertEquals(528, across.length());
        assertEquals(0xFFFFFFFFFFFFFFF0L, far.address());
    }

    @Test
    void anUnknownTypeIsNamed() {
        AddressSpace dump = AddressSpace.ofImage(MemorySegment.ofArray(new byte[64]), STACK, 4);

        NoSuchElementException e = assertThrows(NoSuchElementException.class,
                () -> Trace32.view(ARM32, dump, "struct no_such_thing", STACK));

        assertTrue(e.getMessage().contains("no_such_thing"), e.getMessage());
    }

    @Test
    void thePlatformAndTheMemoryMustAgreeOnPointerSize() {
        StubPlatform platform = new StubPlatform(ARM32, Map.of());
        AddressSpace wide = AddressSpace.ofImage(MemorySegment.ofArray(new byte[1024]), STACK, 8);

        assertThrows(IllegalArgumentException.class, () -> Trace32.view(platform, wide, "thread_info", STACK));
    }
}
