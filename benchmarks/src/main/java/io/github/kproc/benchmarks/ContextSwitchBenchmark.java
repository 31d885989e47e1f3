package io.github.kproc.benchmarks;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * A context switch between two runnable tasks on one CPU per operation: {@code __schedule(true)}
 * (the running task is preempted and requeued, the other picked), {@code context_switch} with the
 * architecture's register switch ({@code __switch_to} / {@code cpu_switch_to}) and
 * {@code finish_task_switch}. {@code baselineSwapRegisters} only stores one callee-saved register
 * set to memory and loads the other, as the assembly switch does.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ContextSwitchBenchmark {

    /** A 1-CPU kernel with init and a forked child both runnable on CPU 0. */
    @State(Scope.Thread)
    public static class TwoTasks {
        @Param({"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
        public String profile;

        Kernel kernel;
        Pid a;
        Pid b;
        boolean toB = true;

        @Setup(Level.Trial)
        public void boot() {
            kernel = Kernel.boot(Platforms.bundled(profile), 1);
            kernel.cpu(0).run(Pid.INIT);
            a = Pid.INIT;
            b = kernel.cpu(0).fork();
        }

        @TearDown(Level.Trial)
        public void close() {
            kernel.close();
        }
    }

    @Benchmark
    public long contextSwitch(TwoTasks s) {
        s.kernel.cpu(0).run(s.toB ? s.b : s.a);
        s.toB = !s.toB;
        return s.kernel.cpu(0).nrSwitches();
    }

    /** Two register sets: one saved to memory, the other loaded from memory. */
    @State(Scope.Thread)
    public static class Registers {
        @Param({"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
        public String profile;

        Arena arena;
        MemorySegment contexts;
        long[] cpu;
        int width;
        int count;
        boolean flip;

        @Setup(Level.Trial)
        public void setup() {
            Platform platform = Platforms.bundled(profile);
            width = platform.pointerSize();
            count = platform.cpuContextRegisters().size();
            cpu = new long[count];
            arena = Arena.ofConfined();
            contexts = arena.allocate(2L * count * width, 64);
        }

        @TearDown(Level.Trial)
        public void close() {
            arena.close();
        }
    }

    @Benchmark
    public long baselineSwapRegisters(Registers r) {
        long save = r.flip ? 0 : (long) r.count * r.width;
        long load = r.flip ? (long) r.count * r.width : 0;
        r.flip = !r.flip;
        if (r.width == 8) {
            MemorySegment.copy(r.cpu, 0, r.contexts, ValueLayout.JAVA_LONG_UNALIGNED, save, r.count);
            MemorySegment.copy(r.contexts, ValueLayout.JAVA_LONG_UNALIGNED, load, r.cpu, 0, r.count);
        } else {
            for (int i = 0; i < r.count; i++) {
                r.contexts.set(ValueLayout.JAVA_INT_UNALIGNED, save + 4L * i, (int) r.cpu[i]);
            }
            for (int i = 0; i < r.count; i++) {
                r.cpu[i] = r.contexts.get(ValueLayout.JAVA_INT_UNALIGNED, load + 4L * i);
            }
        }
        return r.cpu[0];
    }
}
