package io.github.kproc.benchmarks;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.layout.Profile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;
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
 * One whole task lifetime per operation: {@code _do_fork} -> {@code copy_process} ->
 * {@code wake_up_new_task}, the child's first run ({@code context_switch}, {@code schedule_tail}),
 * {@code do_exit}, and the reap ({@code wait4} -> {@code release_task}, or the immediate release of a
 * thread and of kthreadd's children), on a booted 2-CPU kernel. The parent runs on CPU 0; fork
 * balancing puts the child on idle CPU 1.
 *
 * <p>{@code release_task} frees nothing at once: the task_struct goes to RCU
 * ({@code call_rcu(&p->rcu, delayed_put_task_struct)}) and is freed in RCU_SOFTIRQ after a grace
 * period, which needs the scheduling-clock ticks a running kernel takes. Every {@value #TICK_EVERY}
 * lifetimes each CPU therefore takes a tick (CPU 0 from user mode or from kthreadd, which first passes
 * through {@code schedule()} as its loop does between creations; CPU 1 from the idle loop), so the
 * grace periods end and the callbacks run inside the measured operations, their cost amortized over
 * the operations as the kernel's ticks are.
 *
 * <p>The {@code baseline*} benchmarks do only the bulk memory work the same lifetime does, on the
 * same sizes from the profile, with {@code MemorySegment.copy}/{@code fill}: the copies fork makes
 * ({@code task_struct}, ARM32 {@code thread_info}, files, fs, sighand actions, cred, mm), its zeroing
 * (stack, signal_struct, page tables), and the poisoning of everything freed at reap.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ForkBenchmark {
    /** Lifetimes between two rounds of ticks. */
    static final int TICK_EVERY = 16;
    private static final CloneArgs THREAD = new CloneArgs(EnumSet.of(CloneFlag.VM, CloneFlag.FS, CloneFlag.FILES,
            CloneFlag.SIGHAND, CloneFlag.THREAD, CloneFlag.SYSVSEM), 0, 0, 0, 0, 0, 0);
    private static final Set<CloneFlag> NONE = EnumSet.noneOf(CloneFlag.class);

    /** A booted kernel with init current on CPU 0 (kthreadd for the kernel-thread benchmark). */
    @State(Scope.Thread)
    public static class Machine {
        @Param({"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
        public String profile;

        Kernel kernel;
        /** Operations since boot, for the ticks every {@link #TICK_EVERY}. */
        int ops;
        /** CPU 0 runs a kernel thread (kthreadd). */
        boolean kernelThread;

        @Setup(Level.Trial)
        public void boot() {
            kernel = Kernel.boot(Platforms.bundled(profile), 2);
            kernel.cpu(0).run(Pid.INIT);
        }

        @TearDown(Level.Trial)
        public void close() {
            kernel.close();
        }
    }

    /** Same as {@link Machine}, with kthreadd (pid 2) current on CPU 0. */
    @State(Scope.Thread)
    public static class KthreaddMachine extends Machine {
        @Override
        @Setup(Level.Trial)
        public void boot() {
            super.boot();
            kernel.cpu(0).run(Pid.KTHREADD);
            kernelThread = true;
        }
    }

    /**
     * Every {@link #TICK_EVERY} operations a tick on each CPU (after {@code schedule()} on a CPU running
     * a kernel thread, whose ticks are no rcu_sched quiescent state): RCU's grace periods pass and the
     * reaped tasks are freed.
     */
    private static void ticks(Machine s) {
        if (++s.ops % TICK_EVERY != 0) {
            return;
        }
        Kernel k = s.kernel;
        if (s.kernelThread) {
            k.cpu(0).schedule();
        }
        k.cpu(0).tick();
        k.cpu(1).tick();
    }

    /** fork() a SIGCHLD child, run it, exit it, reap it with wait4. */
    @Benchmark
    public int forkExitReapProcess(Machine s) {
        Kernel k = s.kernel;
        Pid child = k.cpu(0).fork();
        k.cpu(1).run(child);
        k.cpu(1).exit(0);
        boolean reaped = k.cpu(0).wait4(child);
        ticks(s);
        return reaped ? child.nr() : 0;
    }

    /** clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM): released at exit. */
    @Benchmark
    public long forkExitThread(Machine s) {
        Kernel k = s.kernel;
        Pid tid = k.cpu(0).clone(THREAD);
        k.cpu(1).run(tid);
        k.cpu(1).exit(0);
        ticks(s);
        return tid.nr();
    }

    /** kernel_thread() from kthreadd, which ignores SIGCHLD: the child is released when it exits. */
    @Benchmark
    public int forkExitKernelThread(KthreaddMachine s) {
        Kernel k = s.kernel;
        Pid child = k.cpu(0).kernelThread("kthread", 0, NONE);
        k.cpu(1).run(child);
        k.cpu(1).exit(0);
        ticks(s);
        return child.nr();
    }

    /** The bytes one task lifetime moves, per kind of task, in plain segments. */
    @State(Scope.Thread)
    public static class Bytes {
        @Param({"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
        public String profile;

        Arena arena;
        MemorySegment parent;
        MemorySegment child;
        long task;
        long threadInfo;
        long stack;
        long files;
        long fs;
        long sighand;
        long signal;
        long cred;
        long mm;
        long pgd;
        long pid;

        @Setup(Level.Trial)
        public void setup() {
            Platform platform = Platforms.bundled(profile);
            Profile p = platform.profile();
            task = p.sizeOf("task_struct");
            threadInfo = platform.threadInfoInTask() ? 0 : p.sizeOf("thread_info");
            stack = platform.threadSize();
            files = p.sizeOf("files_struct");
            fs = p.sizeOf("fs_struct");
            sighand = p.sizeOf("sighand_struct");
            signal = p.sizeOf("signal_struct");
            cred = p.sizeOf("cred");
            mm = p.sizeOf("mm_struct");
            pgd = platform.pointerSize() == 4 ? 16384 : 4096;
            pid = p.sizeOf("pid");
            arena = Arena.ofConfined();
            parent = arena.allocate(1 << 16, 64);
            child = arena.allocate(1 << 16, 64);
        }

        @TearDown(Level.Trial)
        public void close() {
            arena.close();
        }

        void copy(long size) {
            MemorySegment.copy(parent, 0, child, 0, size);
        }

        void fill(long size, byte value) {
            child.asSlice(0, size).fill(value);
        }
    }

    /** The copies, zeroing and poisoning of {@link #forkExitReapProcess}. */
    @Benchmark
    public void baselineProcess(Bytes b) {
        taskBytes(b);
        sharedStructBytes(b);
        b.copy(b.mm);
        b.fill(b.pgd, (byte) 0);
        b.fill(b.mm, (byte) 0x6b);
        b.fill(b.pgd, (byte) 0xaa);
    }

    /** The copies, zeroing and poisoning of {@link #forkExitThread} (files, fs, sighand, signal, mm shared). */
    @Benchmark
    public void baselineThread(Bytes b) {
        taskBytes(b);
    }

    /** The copies, zeroing and poisoning of {@link #forkExitKernelThread} (no mm). */
    @Benchmark
    public void baselineKernelThread(Bytes b) {
        taskBytes(b);
        sharedStructBytes(b);
    }

    /** task_struct copied and poisoned, stack zeroed and page-poisoned, ARM32 thread_info copied, the pid poisoned. */
    private static void taskBytes(Bytes b) {
        b.copy(b.task);
        b.fill(b.stack, (byte) 0);
        b.copy(b.threadInfo);
        b.fill(b.task, (byte) 0x6b);
        b.fill(b.stack, (byte) 0xaa);
        b.fill(b.pid, (byte) 0x6b);
    }

    /** files, fs, sighand and cred copied, signal_struct zeroed; all poisoned when freed. */
    private static void sharedStructBytes(Bytes b) {
        b.copy(b.files);
        b.copy(b.fs);
        b.copy(b.sighand);
        b.fill(b.signal, (byte) 0);
        b.copy(b.cred);
        b.fill(b.files, (byte) 0x6b);
        b.fill(b.fs, (byte) 0x6b);
        b.fill(b.sighand, (byte) 0x6b);
        b.fill(b.signal, (byte) 0x6b);
        b.fill(b.cred, (byte) 0x6b);
    }
}
