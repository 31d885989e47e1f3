package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.kernel.ForkStep;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Tracer;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.KernelSnapshot;
import io.github.kproc.testkit.Workload;
import io.github.kproc.view.TaskStruct;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every public operation is atomic with respect to a trace sink that throws: the sink's exception is
 * kept, the operation completes (its effects stand: a fork whose sink threw has made the child) and
 * the public call throws that exception afterwards, with every CPU's irq mask and preempt count and
 * every byte of the model as a run with a quiet sink leaves them. Checked at every trace point of
 * {@code _do_fork}, {@code do_exit}, {@code try_to_wake_up}, {@code __schedule}, {@code scheduler_tick}
 * and {@code handle_IPI}: a sink that throws at the n-th line, for every n.
 */
public abstract class AtomicityContract extends KernelContract {

    /** A sink that counts the lines of the operation under test and throws at the {@code throwAt}-th. */
    private static final class Sink implements io.github.kproc.kernel.TraceSink {
        final int throwAt;
        boolean armed;
        int lines;
        AssertionError thrown;

        Sink(int throwAt) {
            this.throwAt = throwAt;
        }

        @Override
        public void line(String line) {
            if (!armed) {
                return;
            }
            lines++;
            if (lines == throwAt) {
                thrown = new AssertionError("the sink rejects line " + lines + ": " + line);
                throw thrown;
            }
        }
    }

    /**
     * Runs {@code setup} then {@code op} once with a quiet sink and then once per line {@code op} traces
     * with a sink that throws at that line; each failing run must end exactly as the quiet one.
     */
    private void atEveryTracePoint(Consumer<Kernel> setup, Consumer<Kernel> op) {
        Sink quiet = new Sink(0);
        Kernel clean = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.eventsAndFunctions(quiet)));
        setup.accept(clean);
        quiet.armed = true;
        op.accept(clean);
        int lines = quiet.lines;
        assertTrue(lines > 0, "the operation traces");
        KernelSnapshot expected = KernelSnapshot.take(clean);
        for (int n = 1; n <= lines; n++) {
            Sink failing = new Sink(n);
            Kernel k = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.eventsAndFunctions(failing)));
            setup.accept(k);
            failing.armed = true;
            AssertionError e = assertThrows(AssertionError.class, () -> op.accept(k), "throws at line " + n);
            assertSame(failing.thrown, e, "the sink's own exception, after the operation");
            assertEquals(lines, failing.lines, "the lines after the failing one are still offered");
            assertEquals(List.of(), expected.differences(KernelSnapshot.take(k)),
                    "a sink failing at line " + n + " of " + lines + " leaves what a quiet one leaves");
            KernelInvariants.of(k).assertHolds();
            for (int c = 0; c < k.cpus(); c++) {
                assertEquals(clean.cpu(c).irqsDisabled(), k.cpu(c).irqsDisabled(), "CPU " + c + " irqs");
                assertEquals(clean.cpu(c).preemptCount().value(), k.cpu(c).preemptCount().value(), "CPU " + c);
                assertArrayEquals(clean.cpu(c).registers(), k.cpu(c).registers(), "CPU " + c + " registers");
            }
            k.close();
        }
    }

    private static int child(Kernel k) {
        k.cpu(0).run(Pid.INIT);
        return k.cpu(0).fork().nr();
    }

    /** The CPU the new child of init was placed on. */
    private static final ToIntFunction<Kernel> CHILD_CPU = k -> k.task(Pid.of(3)).orElseThrow().cpu();

    @Test
    @DisplayName("_do_fork: copy_process, task_newtask, sched_process_fork, wake_up_new_task, sched_wakeup_new")
    void fork() {
        atEveryTracePoint(k -> k.cpu(0).run(Pid.INIT), k -> k.cpu(0).fork());
    }

    @Test
    @DisplayName("do_exit: sched_process_exit, exit_notify, the switch away from the zombie")
    void exit() {
        atEveryTracePoint(k -> {
            child(k);
            k.cpu(CHILD_CPU.applyAsInt(k)).run(Pid.of(3));
        }, k -> k.cpu(CHILD_CPU.applyAsInt(k)).exit(0));
    }

    @Test
    @DisplayName("release_task's RCU callback: the tick whose RCU_SOFTIRQ runs delayed_put_task_struct (sched_process_free)")
    void reap() {
        atEveryTracePoint(k -> {
            child(k);
            int cpu = CHILD_CPU.applyAsInt(k);
            k.cpu(cpu).run(Pid.of(3));
            k.cpu(cpu).exit(0);
            k.cpu(0).run(Pid.INIT);
            k.cpu(0).wait4(Pid.of(3));
            // rcu_start_this_gp on CPU 0's tick, the quiescent states of both CPUs on the next round
            for (int round = 0; round < 2; round++) {
                k.cpu(0).tick();
                k.cpu(1).tick();
            }
            assertEquals(1, Workload.pendingRcuCallbacks(k), "the grace period has ended, the callback not yet run");
        }, k -> {
            k.cpu(0).tick();
            assertEquals(0, Workload.pendingRcuCallbacks(k), "rcu_do_batch ran the callback");
        });
    }

    @Test
    @DisplayName("try_to_wake_up: sched_waking, sched_wakeup, and the reschedule IPI to the target (ipi_raise)")
    void wakeup() {
        atEveryTracePoint(k -> {
            child(k);
            if (CHILD_CPU.applyAsInt(k) != 0) {
                k.migrate(Pid.of(3), 0);
            }
            k.cpu(0).run(Pid.of(3));
            k.cpu(0).sleep();
            k.cpu(0).run(Pid.INIT);
            k.setScheduler(Pid.of(3), SCHED_FIFO, 10);
            k.cpu(1).run(Pid.KTHREADD);
        }, k -> k.cpu(1).wakeUp(Pid.of(3)));
    }

    @Test
    @DisplayName("handle_IPI(IPI_RESCHEDULE): ipi_entry, ipi_exit and the switch on the way out")
    void ipi() {
        atEveryTracePoint(k -> {
            child(k);
            if (CHILD_CPU.applyAsInt(k) != 0) {
                k.migrate(Pid.of(3), 0);
            }
            k.cpu(0).run(Pid.of(3));
            k.cpu(0).sleep();
            k.cpu(0).run(Pid.INIT);
            k.setScheduler(Pid.of(3), SCHED_FIFO, 10);
            k.cpu(1).run(Pid.KTHREADD);
            k.cpu(1).wakeUp(Pid.of(3));
        }, k -> k.cpu(0).step());
    }

    @Test
    @DisplayName("__schedule: sched_switch as the current task sleeps")
    void contextSwitch() {
        atEveryTracePoint(k -> k.cpu(0).run(Pid.INIT), k -> k.cpu(0).sleep());
    }

    @Test
    @DisplayName("scheduler_tick on every CPU: the tick's softirq and the preemption it causes")
    void tick() {
        atEveryTracePoint(k -> {
            k.cpu(0).run(Pid.INIT);
            k.advanceClock(50_000_000L);
        }, Kernel::tickAll);
    }

    @Test
    @DisplayName("a fork that fails (copy_creds -ENOMEM) and a sink that throws: rolled back, the sink's error suppressed")
    void failedForkKeepsTheSinksErrorAsSuppressed() {
        Sink sink = new Sink(1);
        Kernel k = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.eventsAndFunctions(sink)));
        k.cpu(0).run(Pid.INIT);
        KernelSnapshot before = KernelSnapshot.take(k);
        k.faults().failStep(ForkStep.COPY_CREDS, Errno.ENOMEM, 1);
        sink.armed = true;
        KernelException e = assertThrows(KernelException.class, () -> k.cpu(0).fork());
        assertEquals(Errno.ENOMEM, e.errno());
        assertEquals(1, e.getSuppressed().length, "the sink's exception");
        assertSame(sink.thrown, e.getSuppressed()[0]);
        before.assertUnchanged(k);
        sink.armed = false;
        k.cpu(0).fork();
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("a sink that throws during boot fails the boot with its exception")
    void sinkFailingDuringBoot() {
        Sink sink = new Sink(1);
        sink.armed = true;
        AssertionError e = assertThrows(AssertionError.class,
                () -> boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.events(sink))));
        assertSame(sink.thrown, e);
    }

    /** The host mappings of machine memory ({@code kproc-*.ram}) this JVM holds, or -1 without /proc. */
    private static long ramMappings() {
        java.nio.file.Path maps = java.nio.file.Path.of("/proc/self/maps");
        if (!java.nio.file.Files.isReadable(maps)) {
            return -1;
        }
        try {
            return java.nio.file.Files.readAllLines(maps).stream().filter(l -> l.contains("/kproc-")).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @DisplayName("a boot that fails (too little RAM at every size, a throwing sink) names the problem and releases its mapping")
    void failedBootsReleaseTheirMemory() {
        long before = ramMappings();
        for (long ram = 4096; ram <= (1L << 20); ram += 12 * 4096) {
            long bytes = ram;
            try {
                Kernel.builder(platform()).cpus(platform().nrCpus()).memory(bytes).boot().close();
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().startsWith("memory: " + bytes + " bytes of RAM are too few to boot: no room for "),
                        e.getMessage());
            }
        }
        for (int i = 0; i < 5; i++) {
            Sink sink = new Sink(1);
            sink.armed = true;
            assertThrows(AssertionError.class, () -> Kernel.builder(platform()).tracer(Tracer.events(sink)).boot());
        }
        assertEquals(before, ramMappings(), "kproc-*.ram mappings left");
    }

    @Test
    @DisplayName("close() is idempotent; every later call throws IllegalStateException(\"kernel is closed\")")
    void closedKernel() {
        Kernel k = bootUnmanaged(2);
        k.cpu(0).run(Pid.INIT);
        TaskStruct init = k.task(Pid.INIT).orElseThrow();
        var cpu = k.cpu(0);
        var memory = k.memory();
        var space = k.addressSpace();
        long initTask = k.initTask();
        k.close();
        k.close();
        List<org.junit.jupiter.api.function.Executable> calls = List.of(k::nrThreads, k::tasks, k::clock,
                () -> k.cpu(0), () -> k.task(Pid.INIT), k::tickAll, cpu::fork, cpu::current, cpu::nrRunning,
                cpu::preemptCount, memory::usage, () -> memory.pages(), init::comm, init::pid,
                () -> space.readInt(initTask), () -> space.contains(initTask, 4), () -> k.advanceClock(1), k::bugs);
        for (var call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertEquals("kernel is closed", e.getMessage());
        }
    }
}
