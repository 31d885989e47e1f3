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
 * One timer interrupt per operation: {@code irq_enter}, {@code scheduler_tick} ({@code update_curr},
 * {@code entity_tick} with its PELT update, {@code check_preempt_tick}, {@code cpu_load_update_active},
 * {@code trigger_load_balance}), {@code irq_exit} with SCHED_SOFTIRQ's {@code run_rebalance_domains}
 * ({@code update_blocked_averages}, {@code load_balance} over the CPU's domain whenever its
 * {@code rq->next_balance} is due) and the switch it may cause, on the CPUs of a busy machine in turn;
 * the clock moves by TICK_NSEC after each round, so the balancing runs at the kernel's intervals and its
 * cost is spread over the ticks as on the real machine. Each CPU runs one of three CFS tasks queued there. arm64's defconfig only (its NR_CPUS of 64
 * allows 16 CPUs; the ARM32 build stops at 8), as one cluster or as clusters of four CPUs (the
 * balancing then walks MC and DIE).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SchedulerTickBenchmark {

    /** A booted kernel with three tasks per CPU, one running on each. */
    @State(Scope.Thread)
    public static class Busy {
        @Param({"4", "16"})
        public int cpus;

        /**
         * CPUs per cluster ({@code Kernel.Builder.clusters}): 0 for one cluster of all CPUs (one MC
         * level), 4 for clusters of four (MC per cluster under DIE: two levels to balance).
         */
        @Param({"0", "4"})
        public int cpusPerCluster;

        Kernel kernel;
        int next;

        @Setup(Level.Trial)
        public void boot() {
            int size = cpusPerCluster == 0 ? cpus : cpusPerCluster;
            int[] clusters = new int[cpus / size];
            java.util.Arrays.fill(clusters, size);
            kernel = Kernel.builder(Platforms.bundled("linux-4.19-arm64-defconfig")).cpus(cpus).clusters(clusters)
                    .memory(256L << 20).boot();
            kernel.cpu(0).run(Pid.INIT);
            for (int cpu = 0; cpu < cpus; cpu++) {
                for (int i = 0; i < 3; i++) {
                    Pid child = kernel.cpu(0).as(Pid.INIT).fork();
                    if (kernel.task(child).orElseThrow().cpu() != cpu) {
                        kernel.migrate(child, cpu);
                    }
                }
            }
            kernel.stepAll();
            for (int round = 0; round < 10; round++) {
                kernel.tickAll();
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            kernel.close();
        }
    }

    @Benchmark
    public long schedulerTick(Busy s) {
        int cpu = s.next;
        if (cpu == 0) {
            s.kernel.advanceClock(s.kernel.tickNanos());
        }
        s.kernel.cpu(cpu).tick();
        s.next = cpu + 1 == s.cpus ? 0 : cpu + 1;
        return s.kernel.cpu(cpu).nrSwitches();
    }
}
