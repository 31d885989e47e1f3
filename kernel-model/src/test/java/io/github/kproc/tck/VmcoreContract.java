package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.image.Crash;
import io.github.kproc.image.KernelImage;
import io.github.kproc.image.SymbolTable;
import io.github.kproc.image.VmcoreWriter;
import io.github.kproc.image.WalkException;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model written as a vmcore ({@link VmcoreWriter}) and read back by {@link KernelImage}: crash's
 * {@code ps}, {@code runq} and {@code bt -v} print on the image exactly what they print on the live
 * model, and the test kit's invariants hold on it too. On arm64 the VMAP stacks are reached by
 * walking the page tables the writer builds (the MMU's walk of {@code swapper_pg_dir}).
 */
public abstract class VmcoreContract extends KernelContract {
    @TempDir
    Path temp;

    private Kernel busyKernel(long seed) {
        Kernel k = boot(b -> b.cpus(4).memory(64L << 20));
        Workload.generate(seed, 300).apply(k);
        return k;
    }

    @Test
    @DisplayName("ps, runq and bt -v on the written vmcore equal the live model's (VMCOREINFO symbols alone)")
    void roundTrip() throws IOException {
        for (long seed : new long[] {1, 7, 42}) {
            try (Kernel k = busyKernel(seed)) {
                Path file = temp.resolve("vmcore-" + seed);
                VmcoreWriter.write(k, file);
                Crash live = new Crash(k, SymbolTable.of(k.symbols()));
                try (KernelImage image = KernelImage.open(platform(), file, null, OptionalLong.empty())) {
                    Crash read = new Crash(image);
                    assertEquals(live.formatPs(live.ps()), read.formatPs(read.ps()), "ps, seed " + seed);
                    assertEquals(live.formatRunq(live.runq()), read.formatRunq(read.runq()), "runq, seed " + seed);
                    List<Crash.StackCheck> checks = read.bt();
                    for (Crash.StackCheck c : checks) {
                        assertTrue(c.passed(), read.formatBt(List.of(c)));
                    }
                    assertEquals(live.formatBt(live.bt()), read.formatBt(checks), "bt -v, seed " + seed);
                    assertEquals(KernelInvariants.of(k).check(), KernelInvariants.of(image).check(), "invariants, seed " + seed);
                    assertTrue(image.physOffsetSource().contains("VMCOREINFO"), image.physOffsetSource());
                    assertEquals(VmcoreWriter.DEFAULT_PHYS_OFFSET, image.physOffset());
                    for (int c = 0; c < k.cpus(); c++) {
                        assertEquals(java.util.Arrays.toString(k.registers(c)), java.util.Arrays.toString(image.registers(c)));
                    }
                }
            }
        }
    }

    @Test
    @DisplayName("a System.map of the model's symbols and an explicit PHYS_OFFSET read the same vmcore the same way")
    void systemMapAndExplicitPhysOffset() throws IOException {
        try (Kernel k = busyKernel(3)) {
            Path file = temp.resolve("vmcore");
            VmcoreWriter.write(k, file, 0x80000000L);
            StringBuilder map = new StringBuilder();
            k.symbols().forEach((name, address) -> map.append(String.format("%x T %s%n", address, name)));
            Path systemMap = temp.resolve("System.map");
            Files.writeString(systemMap, map);
            Crash live = new Crash(k, null);
            try (KernelImage image = KernelImage.open(platform(), file, SymbolTable.readSystemMap(systemMap),
                    OptionalLong.of(0x80000000L))) {
                assertTrue(image.physOffsetSource().contains("as given"), image.physOffsetSource());
                Crash read = new Crash(image);
                assertEquals(live.formatPs(live.ps()), read.formatPs(read.ps()));
                assertEquals(k.symbol("init_task"), image.symbol("init_task"));
                assertEquals(live.task(1), read.task(1), "task 1's TRACE32 view");
            }
        }
    }

    @Test
    @DisplayName("ps shows '>' on each CPU's rq->curr, kernel threads in brackets, and the zombie as ZO")
    void psMarksCurrentKernelThreadsAndZombies() {
        try (Kernel k = boot(4)) {
            runAs(k, 0, 1);
            Pid child = k.cpu(0).as(Pid.INIT).fork();
            int cpu = k.task(child).orElseThrow().cpu();
            k.cpu(cpu).run(child);
            k.cpu(cpu).exit(0);
            Crash crash = new Crash(k, null);
            List<Crash.Task> tasks = crash.ps();
            Crash.Task zombie = tasks.stream().filter(t -> t.pid() == child.nr()).findFirst().orElseThrow();
            assertEquals("ZO", zombie.state());
            assertEquals(1, zombie.ppid());
            Crash.Task kthreadd = tasks.stream().filter(t -> t.pid() == 2).findFirst().orElseThrow();
            assertTrue(kthreadd.kernelThread());
            assertTrue(crash.formatPs(tasks).contains("[kthreadd]"));
            assertEquals(4, tasks.stream().filter(t -> t.pid() == 0).count(), "an idle task per CPU, from rq->idle");
            for (int c = 0; c < 4; c++) {
                long curr = k.addressSpace().readPointer(crash.runqueue(c) + platform().offsets().required("rq", "curr"));
                assertTrue(tasks.stream().anyMatch(t -> t.task() == curr && t.active()), "CPU " + c + "'s current is marked");
            }
            assertEquals(4, tasks.stream().filter(Crash.Task::active).count());
        }
    }

    @Test
    @DisplayName("a cycle in init_task.tasks is a WalkException naming the list, not a hang")
    void cycleInTaskList() {
        try (Kernel k = boot(2)) {
            runAs(k, 0, 1);
            k.cpu(0).as(Pid.INIT).fork();
            long tasks = platform().offsets().taskTasks;
            long init = k.symbol("init_task");
            long first = k.addressSpace().readPointer(init + tasks);
            // the first task's next points back at itself, and its prev agrees: a cycle that never returns to the head
            k.addressSpace().writePointer(first, first);
            k.addressSpace().writePointer(first + platform().pointerSize(), first);
            WalkException e = assertThrows(WalkException.class, () -> new Crash(k, null).ps());
            assertTrue(e.getMessage().contains("init_task.tasks"), e.getMessage());
        }
    }

    @Test
    @DisplayName("a garbage next pointer is an EFAULT WalkException naming the address and the list")
    void garbagePointerInTaskList() {
        try (Kernel k = boot(2)) {
            long tasks = platform().offsets().taskTasks;
            long init = k.symbol("init_task");
            long garbage = platform().pointerSize() == 8 ? 0x1234_5678_9abc_0000L : 0x1234_0000L;
            k.addressSpace().writePointer(init + tasks, garbage);
            WalkException e = assertThrows(WalkException.class, () -> new Crash(k, null).ps());
            assertEquals(io.github.kproc.Errno.EFAULT, e.errno());
            assertEquals(garbage + platform().pointerSize(), e.address());
            assertEquals("init_task.tasks", e.structure());
        }
    }

    @Test
    @DisplayName("a vmcore cut short: the cut segment is recorded, and ps is a WalkException naming an address past the cut")
    void truncatedVmcore() throws IOException {
        try (Kernel k = busyKernel(5)) {
            Path file = temp.resolve("vmcore");
            VmcoreWriter.write(k, file);
            long cut;
            try (var core = io.github.kproc.image.ElfCore.open(file)) {
                cut = core.loads().get(0).fileOffset() + 4096;
            }
            try (var channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                channel.truncate(cut);
            }
            try (KernelImage image = KernelImage.open(platform(), file, null, OptionalLong.empty())) {
                WalkException e = assertThrows(WalkException.class, () -> new Crash(image).ps());
                assertTrue(Long.compareUnsigned(e.address(), k.memory().map().linearBase() + 4096) >= 0, e.getMessage());
            }
        }
    }

    @Test
    @DisplayName("garbage written into task lists and parent pointers: ps on the vmcore ends in time, with the tasks or a WalkException")
    void corruptedTaskListsNeverHang() {
        org.quicktheories.QuickTheory.qt().withExamples(25).forAll(
                org.quicktheories.generators.SourceDSL.integers().between(0, 1000),
                org.quicktheories.generators.SourceDSL.integers().between(0, 3),
                org.quicktheories.generators.SourceDSL.integers().between(0, 2))
                .checkAssert((pick, field, kind) -> {
                    try (Kernel k = busyKernel(11)) {
                        List<Long> tasks = taskAddresses(k);
                        long victim = tasks.get(pick % tasks.size());
                        long other = tasks.get((pick / 7) % tasks.size());
                        long at = victim + switch (field) {
                            case 0 -> platform().offsets().taskTasks;
                            case 1 -> platform().offsets().taskTasks + platform().pointerSize();
                            case 2 -> platform().offsets().required("task_struct", "thread_group");
                            default -> platform().offsets().taskParent;
                        };
                        long value = switch (kind) {
                            case 0 -> 0xdead0000L;
                            case 1 -> at; // a list_head pointing at itself
                            default -> other + platform().offsets().taskTasks;
                        };
                        k.addressSpace().writePointer(at, value);
                        Path file = temp.resolve("fuzz-vmcore");
                        VmcoreWriter.write(k, file);
                        try (KernelImage image = KernelImage.open(platform(), file, null, OptionalLong.empty())) {
                            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> {
                                try {
                                    new Crash(image).ps();
                                } catch (WalkException e) {
                                    assertTrue(e.structure().length() > 0 && e.getMessage().contains("0x"), e.getMessage());
                                }
                            });
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
    }

    @Test
    @DisplayName("runq read from memory (rq->curr, rt.active's queues, the CFS tree in order) is what the scheduler queued, with RT tasks")
    void runqIsWhatTheSchedulerQueued() {
        try (Kernel k = busyKernel(9)) {
            // two RT tasks among the fair ones: SCHED_FIFO 10 and SCHED_RR 50 (prio 89 and 49)
            List<Long> all = taskAddresses(k);
            int rtDone = 0;
            for (long t : all) {
                var view = k.task(t);
                if (rtDone < 2 && !view.isKernelThread() && view.state() == io.github.kproc.view.TaskState.RUNNING
                        && !view.isZombie() && view.pid() > 2) {
                    k.setScheduler(Pid.of(view.pid()), rtDone == 0 ? io.github.kproc.kernel.Policy.FIFO
                            : io.github.kproc.kernel.Policy.RR, rtDone == 0 ? 10 : 50);
                    rtDone++;
                }
            }
            Crash crash = new Crash(k, null);
            for (Crash.RunQueue q : crash.runq()) {
                var cpu = k.cpu(q.cpu());
                assertEquals(cpu.current().address(), q.current().task(), "CURRENT of CPU " + q.cpu());
                List<Long> expected = cpu.queued().stream().map(io.github.kproc.view.TaskStruct::address).toList();
                List<Long> read = new java.util.ArrayList<>();
                q.rt().forEach(t -> read.add(t.task()));
                q.cfs().forEach(t -> read.add(t.task()));
                assertEquals(expected, read, "queues of CPU " + q.cpu());
                for (Crash.Queued t : q.rt()) {
                    assertTrue(t.prio() < 100, "an RT priority: " + t);
                }
                for (Crash.Queued t : q.cfs()) {
                    assertTrue(t.prio() >= 100, "a fair priority: " + t);
                }
            }
            assertEquals(2, rtDone);
            long rtSeen = crash.runq().stream().mapToLong(q -> q.rt().size() + (q.current().prio() < 100 ? 1 : 0)).sum();
            assertEquals(2, rtSeen, "both RT tasks are queued on rt.active or current");
            assertTrue(crash.formatRunq(crash.runq()).contains("CFS RB_ROOT"));
        }
    }
}
