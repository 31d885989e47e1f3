package io.github.kproc.benchmarks;

import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * How fork and the context switch cost with the number of other tasks: a 2-CPU kernel where
 * {@code liveTasks} other tasks exist, half asleep (TASK_INTERRUPTIBLE, off the runqueues) and half
 * runnable (queued on the CPUs' CFS timelines, spread by fork balancing), all children of a spawner
 * process, none children of init, which forks. Linux 4.19 finds a pid through the IDR and orders CFS
 * tasks in a red-black tree, so both operations should cost about the same at 0 and at 100,000.
 *
 * <p>ARM32's 760 MiB of lowmem holds about 11,900 threads ({@code max_threads}), so run it with
 * {@code -p profile=linux-4.19-arm32-vexpress -p liveTasks=0,1000,10000}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ForkScalingBenchmark {

    /** The kernel with its population, booted once per trial. */
    @State(Scope.Thread)
    public static class Population {
        @Param({"linux-4.19-arm64-defconfig"})
        public String profile;

        @Param({"0", "1000", "10000", "100000"})
        public int liveTasks;

        Kernel kernel;
        /** Two runnable tasks on CPU 1 for the context switch. */
        Pid a;
        Pid b;
        boolean toB = true;
        /** Lifetimes since boot, for the ticks every {@link ForkBenchmark#TICK_EVERY}. */
        int ops;

        @Setup(Level.Trial)
        public void boot() {
            var platform = Platforms.bundled(profile);
            long perTask = 8 * platform.threadSize();
            long ram = Math.min(platform.pointerSize() == 4 ? 760L << 20 : 1L << 40,
                    Math.max(256L << 20, (long) (liveTasks + 1024) * perTask));
            kernel = Kernel.builder(platform).cpus(2).memory(ram)
                    .sysctl("kernel.pid_max", Math.min(platform.pidMaxLimit(), Math.max(32768, 2L * liveTasks)))
                    .boot();
            if (kernel.maxThreads() < liveTasks + 64) {
                throw new IllegalStateException(profile + " holds at most " + kernel.maxThreads() + " threads");
            }
            Pid spawner = MachineState.populate(kernel, liveTasks);
            kernel.cpu(1).run(spawner);
            a = kernel.cpu(1).fork();
            b = kernel.cpu(1).fork();
            kernel.migrate(a, 1);
            kernel.migrate(b, 1);
            kernel.cpu(1).run(a);
            kernel.cpu(0).run(Pid.INIT);
        }

        @TearDown(Level.Trial)
        public void close() {
            kernel.close();
        }
    }

    /**
     * fork() by init, the child's first run on CPU 1, its exit, and init's wait4; every
     * {@link ForkBenchmark#TICK_EVERY} lifetimes a tick on each CPU, so that RCU's grace periods end and
     * the reaped tasks are freed (as in {@link ForkBenchmark}).
     */
    @Benchmark
    public int forkExitReap(Population s) {
        Kernel k = s.kernel;
        Pid child = k.cpu(0).fork();
        k.cpu(1).run(child);
        k.cpu(1).exit(0);
        boolean reaped = k.cpu(0).wait4(child);
        if (++s.ops % ForkBenchmark.TICK_EVERY == 0) {
            k.cpu(0).tick();
            k.cpu(1).tick();
        }
        return reaped ? child.nr() : 0;
    }

    /** A preemptive switch between two runnable tasks on CPU 1, whose timeline holds the runnable half. */
    @Benchmark
    public long contextSwitch(Population s) {
        s.kernel.cpu(1).run(s.toB ? s.b : s.a);
        s.toB = !s.toB;
        return s.kernel.cpu(1).nrSwitches();
    }
}
