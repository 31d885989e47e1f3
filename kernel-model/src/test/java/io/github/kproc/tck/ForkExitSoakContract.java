package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.mem.MemoryUsage;
import io.github.kproc.testkit.Workload;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestReporter;

/**
 * A million {@code fork} / {@code do_exit} / {@code wait4} cycles: every page and slab object a
 * cycle takes comes back, and the pid cursor wraps to RESERVED_PIDS thirty times without losing a
 * number. The throughput is printed and published as a report entry ({@code -Dkproc.soak.cycles=N}
 * to change the count); it is a smoke figure, the JMH benchmarks are the measurement.
 */
public abstract class ForkExitSoakContract extends KernelContract {
    private static final int CYCLES = Integer.getInteger("kproc.soak.cycles", 1_000_000);

    private static void cycle(Kernel k) {
        int pid = k.cpu(0).fork().nr();
        k.cpu(1).run(Pid.of(pid));
        k.cpu(1).exit(0);
        if (!k.cpu(0).wait4(Pid.of(pid))) {
            throw new AssertionError("wait4 did not reap " + pid);
        }
    }

    @Test
    @DisplayName("fork/do_exit/wait4: a million cycles keep memory flat")
    void aMillionCyclesKeepMemoryFlat(TestReporter reporter) {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        // after one cycle CPU 1's idle task lazily holds the last child's mm, as it will after every cycle
        cycle(k);
        Workload.passGracePeriods(k, 16);
        MemoryUsage baseline = usage(k);
        int threads = k.nrThreads();
        long forks = k.totalForks();
        long start = System.nanoTime();
        for (int i = 0; i < CYCLES; i++) {
            cycle(k);
            // the ticks through which RCU grace periods pass and the reaped children are freed
            tickEvery(k, i, 64);
        }
        long nanos = System.nanoTime() - start;
        String rate = String.format("%.0f", CYCLES * 1e9 / nanos);
        reporter.publishEntry("fork/exit/wait cycles per second", rate);
        Workload.passGracePeriods(k, 16);
        System.out.printf("%s: %d fork/exit/wait cycles, %s per second%n", platform(), CYCLES, rate);
        assertSameUsage(baseline, usage(k));
        assertEquals(threads, k.nrThreads());
        assertEquals(forks + CYCLES, k.totalForks());
        assertEquals(taskAddresses(k).size(), 3, "swapper, init and kthreadd");
    }
}
