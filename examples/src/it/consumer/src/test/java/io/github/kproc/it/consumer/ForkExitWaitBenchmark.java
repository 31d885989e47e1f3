package io.github.kproc.it.consumer;

import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.Cpu;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A JMH benchmark of one task lifetime on a one-CPU ARM64 kernel: init forks, the child runs and
 * exits, init reaps it with wait4. jmh-generator-annprocess (the compiler's annotationProcessorPaths)
 * generates its harness and META-INF/BenchmarkList when the test sources compile.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ForkExitWaitBenchmark {
    private Kernel kernel;
    private Cpu cpu;

    @Setup(Level.Trial)
    public void boot() {
        kernel = Kernel.builder(Platforms.bundled("linux-4.19-arm64-defconfig")).cpus(1).boot();
        cpu = kernel.cpu(0);
        cpu.run(Pid.INIT);
    }

    @TearDown(Level.Trial)
    public void close() {
        kernel.close();
    }

    @Benchmark
    public boolean forkExitWait4() {
        Pid child = cpu.as(Pid.INIT).fork();
        cpu.run(child);              // the child's first run preempts init
        cpu.as(child).exit(0);       // do_exit; the scheduler picks the next task (init or kthreadd)
        if (!cpu.currentPid().equals(Optional.of(Pid.INIT))) {
            cpu.run(Pid.INIT);
        }
        return cpu.as(Pid.INIT).wait4(child);
    }
}
