package io.github.kproc.benchmarks;

import io.github.kproc.arch.Platforms;
import io.github.kproc.image.Crash;
import io.github.kproc.image.KernelImage;
import io.github.kproc.image.VmcoreWriter;
import io.github.kproc.kernel.Kernel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
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
 * crash's {@code ps} ({@link Crash#ps()}: the walk of {@code init_task.tasks} and every thread group,
 * the runqueues' {@code curr} and {@code idle}, each task's pid, parent, cpu, state, comm and mm
 * counters) over a 128 MiB vmcore the model wrote and then mapped, and over a live model of
 * {@code liveTasks} tasks.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CrashBenchmark {

    /** A 4-CPU machine of 128 MiB with 200 tasks, written as a vmcore and opened as a {@link KernelImage}. */
    @State(Scope.Thread)
    public static class Dump {
        @Param({"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
        public String profile;

        Path file;
        /** Tasks of the model written: those on its task list and the other CPUs' idle tasks. */
        int tasks;
        KernelImage image;
        Crash crash;

        @Setup(Level.Trial)
        public void write() throws IOException {
            var platform = Platforms.bundled(profile);
            file = Files.createTempFile("kproc-bench-", ".vmcore");
            try (Kernel kernel = Kernel.builder(platform).cpus(4).memory(128L << 20).boot()) {
                MachineState.populate(kernel, 200);
                tasks = kernel.tasks().size() + kernel.cpus() - 1;
                VmcoreWriter.write(kernel, file);
            }
            image = KernelImage.open(platform, file, null, OptionalLong.empty());
            crash = new Crash(image);
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            image.close();
            Files.deleteIfExists(file);
        }
    }

    /** A live 2-CPU model with {@code liveTasks} tasks (children of one spawner, half asleep). */
    @State(Scope.Thread)
    public static class Model {
        @Param({"linux-4.19-arm64-defconfig"})
        public String profile;

        @Param({"100000"})
        public int liveTasks;

        Kernel kernel;
        Crash crash;

        @Setup(Level.Trial)
        public void boot() {
            var platform = Platforms.bundled(profile);
            long ram = Math.min(platform.pointerSize() == 4 ? 760L << 20 : 1L << 40,
                    Math.max(256L << 20, (long) (liveTasks + 1024) * 8 * platform.threadSize()));
            kernel = Kernel.builder(platform).cpus(2).memory(ram)
                    .sysctl("kernel.pid_max", Math.min(platform.pidMaxLimit(), Math.max(32768, 2L * liveTasks)))
                    .boot();
            MachineState.populate(kernel, liveTasks);
            crash = new Crash(kernel, null);
        }

        @TearDown(Level.Trial)
        public void close() {
            kernel.close();
        }
    }

    @Benchmark
    public List<Crash.Task> psOnVmcore(Dump d) {
        return d.crash.ps();
    }

    @Benchmark
    public List<Crash.Task> psOnModel(Model m) {
        return m.crash.ps();
    }
}
