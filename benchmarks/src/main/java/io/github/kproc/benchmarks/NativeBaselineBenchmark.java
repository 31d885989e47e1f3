package io.github.kproc.benchmarks;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The host's real kernel doing what {@link ForkBenchmark} and {@link ContextSwitchBenchmark} model,
 * measured in the same JMH run, through JNA ({@link HostLibc}, direct mapping of the C library). 64-bit
 * Linux only. No Java code ever runs in a child process: nothing here calls {@code fork()}; processes
 * are made with {@code posix_spawn}, which execs at once, and the threads of the thread benchmark run
 * a native C library function only.
 *
 * <ul>
 *   <li>{@link #spawnTrueWaitpid}: {@code posix_spawn("/bin/true")} with an empty environment and a
 *       {@code posix_spawnattr_t} with no flags, then {@code waitpid} for it. One operation is a whole
 *       process lifetime: the clone, the child blocking all signals and resetting the JVM's handlers
 *       to default, {@code execve} of a dynamically linked ELF (mm teardown and rebuild, the dynamic
 *       loader mapping libc), {@code /bin/true}'s {@code exit}, and the reap. So it includes much more
 *       than {@code ForkBenchmark.forkExitReapProcess}, whose child does not exec.
 *   <li>{@link #spawnTrueUseVforkWaitpid}: the same with {@code POSIX_SPAWN_USEVFORK} (0x40) set through
 *       {@code posix_spawnattr_setflags}. Since glibc 2.24, Linux {@code posix_spawn} always clones with
 *       {@code CLONE_VM | CLONE_VFORK} (the child runs on its own small stack in the parent's address
 *       space and the parent sleeps until the exec), and the flag changes nothing. That is true of this
 *       host's glibc 2.36 (Debian 2.36-9+deb12u14): the disassembly of its {@code __spawnix} stores
 *       {@code clone_args.flags = 0x4100} ({@code CLONE_VM | CLONE_VFORK}) and {@code exit_signal = 17}
 *       as constants. The two scores should therefore agree within noise; a gap means noise.
 *   <li>{@link #pthreadCreateJoin}: {@code pthread_create} with default attributes, then
 *       {@code pthread_join}. The start routine is glibc's {@code pthread_self}, looked up with
 *       {@code NativeLibrary.getFunction}: on x86_64 it is {@code mov %fs:0x10,%rax; ret}, so it returns
 *       at once, has no side effects, makes no system call and ignores the {@code void *} argument (an
 *       unused register argument is harmless in the SysV and AAPCS64 calling conventions); its result
 *       becomes the thread's exit value, which the join discards. {@code getpid} would also fit the
 *       signature but is a real system call since glibc 2.25 dropped the pid cache. A JNA
 *       {@code Callback} is not used because it would run Java on the new thread. The operation includes
 *       glibc's stack handling (an 8 MiB default stack from its cache of freed stacks after the first
 *       few), {@code clone3}, the thread's exit and the futex wake of the joiner.
 *   <li>{@link #pipePingPong}: two threads pinned to the same CPU with {@code sched_setaffinity} pass one
 *       byte back and forth through two pipes, {@value #ROUND_TRIPS} round trips per invocation, score
 *       per switch ({@code @OperationsPerInvocation(2 * ROUND_TRIPS)}, so the score is half a round
 *       trip). Each switch includes two system calls (the {@code write} that wakes the other thread and
 *       the {@code read} that puts this one to sleep), the pipe and wait-queue work, the scheduler's
 *       switch, and the overhead of two JNA calls (about 10-20 ns each). The two threads are the JMH
 *       thread and one partner platform thread of this (parent) process; both run Java between their
 *       calls, which is allowed: Java only never runs in a forked child. A native-only ping-pong would
 *       need a native loop, which the C library does not offer.
 * </ul>
 *
 * <p>Each state sets up and tears down cleanly: spawn attributes are destroyed, every child is reaped
 * by the operation itself, every thread is joined, the pipes are closed (the partner sees end-of-file
 * and exits) and the JMH thread's CPU affinity is restored after each iteration.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class NativeBaselineBenchmark {
    /** Round trips per invocation of {@link #pipePingPong}. */
    public static final int ROUND_TRIPS = 100;

    /** Memory for {@code posix_spawn} and {@code waitpid}: path, argv, envp, attributes, pid, status. */
    @State(Scope.Thread)
    public static class Spawn {
        /** The program run by both spawn benchmarks. */
        public static final String PROGRAM = "/bin/true";

        Memory path;
        Memory argv;
        Memory envp;
        Memory pid;
        Memory status;
        /** Initialised attributes with no flags. */
        Memory plain;
        /** Initialised attributes with {@code POSIX_SPAWN_USEVFORK}. */
        Memory useVfork;
        private boolean plainInit;
        private boolean useVforkInit;

        @Setup(Level.Trial)
        public void setup() {
            path = new Memory(PROGRAM.length() + 1);
            path.setString(0, PROGRAM, "US-ASCII");
            argv = new Memory(2L * Native.POINTER_SIZE);
            argv.setPointer(0, path);
            argv.setPointer(Native.POINTER_SIZE, null);
            envp = new Memory(Native.POINTER_SIZE);
            envp.setPointer(0, null);
            pid = new Memory(4);
            status = new Memory(4);
            plain = new Memory(HostLibc.SPAWNATTR_SIZE);
            useVfork = new Memory(HostLibc.SPAWNATTR_SIZE);
            check("posix_spawnattr_init", HostLibc.posix_spawnattr_init(plain));
            plainInit = true;
            check("posix_spawnattr_init", HostLibc.posix_spawnattr_init(useVfork));
            useVforkInit = true;
            check("posix_spawnattr_setflags", HostLibc.posix_spawnattr_setflags(useVfork, HostLibc.POSIX_SPAWN_USEVFORK));
        }

        /** Spawns {@link #PROGRAM} with {@code attr}, waits for it and returns its wait status. */
        int spawnAndReap(Pointer attr) {
            check("posix_spawn", HostLibc.posix_spawn(pid, path, null, attr, argv, envp));
            int child = pid.getInt(0);
            int reaped;
            do {
                reaped = HostLibc.waitpid(child, status, 0);
            } while (reaped < 0 && HostLibc.errno() == HostLibc.EINTR);
            if (reaped != child) {
                throw new IllegalStateException("waitpid(" + child + ") = " + reaped + ", errno " + HostLibc.errno());
            }
            return status.getInt(0);
        }

        @TearDown(Level.Trial)
        public void close() {
            if (useVforkInit) {
                HostLibc.posix_spawnattr_destroy(useVfork);
                useVforkInit = false;
            }
            if (plainInit) {
                HostLibc.posix_spawnattr_destroy(plain);
                plainInit = false;
            }
            for (Memory m : new Memory[] {path, argv, envp, pid, status, plain, useVfork}) {
                if (m != null) {
                    m.close();
                }
            }
        }
    }

    /** {@code posix_spawn("/bin/true")} + {@code waitpid}; returns the wait status (0). */
    @Benchmark
    public int spawnTrueWaitpid(Spawn s) {
        return s.spawnAndReap(s.plain);
    }

    /** The same with {@code POSIX_SPAWN_USEVFORK}, which glibc 2.24+ ignores (it always uses CLONE_VFORK). */
    @Benchmark
    public int spawnTrueUseVforkWaitpid(Spawn s) {
        return s.spawnAndReap(s.useVfork);
    }

    /** The native start routine and the {@code pthread_t} out-parameter. */
    @State(Scope.Thread)
    public static class Threads {
        /** glibc's {@code pthread_self}: returns at once, no side effects, ignores its argument. */
        Pointer startRoutine;
        Memory thread;
        Memory result;

        @Setup(Level.Trial)
        public void setup() {
            startRoutine = HostLibc.function("pthread_self");
            thread = new Memory(8);
            result = new Memory(Native.POINTER_SIZE);
        }

        /** Creates a thread running {@link #startRoutine}, joins it and returns its exit value. */
        long createAndJoin() {
            check("pthread_create", HostLibc.pthread_create(thread, null, startRoutine, null));
            check("pthread_join", HostLibc.pthread_join(thread.getLong(0), result));
            return Pointer.nativeValue(result.getPointer(0));
        }

        @TearDown(Level.Trial)
        public void close() {
            thread.close();
            result.close();
        }
    }

    /** {@code pthread_create} + {@code pthread_join} of a thread that returns at once; returns its exit value. */
    @Benchmark
    public long pthreadCreateJoin(Threads s) {
        return s.createAndJoin();
    }

    /**
     * Two pipes and a partner thread that echoes every byte from one to the other, both pinned with the
     * JMH thread to one CPU (the lowest the process may run on).
     */
    @State(Scope.Thread)
    public static class PingPong {
        /** The CPU both threads run on. */
        int cpu = -1;
        /** Read end, write end: JMH thread to partner. */
        int toPartnerRead = -1;
        int toPartnerWrite = -1;
        /** Read end, write end: partner to JMH thread. */
        int fromPartnerRead = -1;
        int fromPartnerWrite = -1;
        Thread partner;
        /** Bytes the partner echoed; read after it is joined. */
        volatile long echoed;
        volatile Throwable partnerFailure;
        Memory mask;
        Memory savedMask;
        Memory buf;
        private boolean pinned;

        @Setup(Level.Trial)
        public void setup() throws InterruptedException {
            mask = new Memory(HostLibc.CPU_SET_SIZE);
            savedMask = new Memory(HostLibc.CPU_SET_SIZE);
            buf = new Memory(1);
            buf.setByte(0, (byte) 'x');
            savedMask.clear();
            if (HostLibc.sched_getaffinity(0, HostLibc.CPU_SET_SIZE, savedMask) < 0) {
                throw new IllegalStateException("sched_getaffinity: errno " + HostLibc.errno());
            }
            for (int c = 0; c < HostLibc.CPU_SET_SIZE * 8; c++) {
                if ((savedMask.getByte(c / 8) & (1 << (c % 8))) != 0) {
                    cpu = c;
                    break;
                }
            }
            if (cpu < 0) {
                throw new IllegalStateException("empty CPU affinity mask");
            }
            mask.clear();
            mask.setByte(cpu / 8, (byte) (1 << (cpu % 8)));
            Memory fds = new Memory(8);
            try {
                if (HostLibc.pipe2(fds, HostLibc.O_CLOEXEC) < 0) {
                    throw new IllegalStateException("pipe2: errno " + HostLibc.errno());
                }
                toPartnerRead = fds.getInt(0);
                toPartnerWrite = fds.getInt(4);
                if (HostLibc.pipe2(fds, HostLibc.O_CLOEXEC) < 0) {
                    throw new IllegalStateException("pipe2: errno " + HostLibc.errno());
                }
                fromPartnerRead = fds.getInt(0);
                fromPartnerWrite = fds.getInt(4);
            } finally {
                fds.close();
            }
            CountDownLatch started = new CountDownLatch(1);
            partner = Thread.ofPlatform().daemon().name("native-pingpong-partner").unstarted(() -> echo(started));
            partner.start();
            started.await();
            if (partnerFailure != null) {
                throw new IllegalStateException("partner thread failed", partnerFailure);
            }
        }

        /** The partner: pin to {@link #cpu}, then echo bytes until end-of-file. */
        private void echo(CountDownLatch started) {
            try (Memory b = new Memory(1)) {
                try {
                    if (HostLibc.sched_setaffinity(0, HostLibc.CPU_SET_SIZE, mask) < 0) {
                        throw new IllegalStateException("sched_setaffinity: errno " + HostLibc.errno());
                    }
                } catch (Throwable t) {
                    partnerFailure = t;
                    return;
                } finally {
                    started.countDown();
                }
                long n = 0;
                while (true) {
                    long r = HostLibc.read(toPartnerRead, b, 1);
                    if (r < 0 && HostLibc.errno() == HostLibc.EINTR) {
                        continue;
                    }
                    if (r <= 0) {
                        break;
                    }
                    long w;
                    do {
                        w = HostLibc.write(fromPartnerWrite, b, 1);
                    } while (w < 0 && HostLibc.errno() == HostLibc.EINTR);
                    if (w != 1) {
                        throw new IllegalStateException("partner write: errno " + HostLibc.errno());
                    }
                    n++;
                }
                echoed = n;
            } catch (Throwable t) {
                partnerFailure = t;
            }
        }

        /** Pins the calling (JMH) thread to {@link #cpu}; JMH may use another thread per iteration. */
        @Setup(Level.Iteration)
        public void pin() {
            if (HostLibc.sched_setaffinity(0, HostLibc.CPU_SET_SIZE, mask) < 0) {
                throw new IllegalStateException("sched_setaffinity: errno " + HostLibc.errno());
            }
            pinned = true;
        }

        /** Restores the calling thread's affinity. */
        @TearDown(Level.Iteration)
        public void unpin() {
            if (pinned) {
                pinned = false;
                if (HostLibc.sched_setaffinity(0, HostLibc.CPU_SET_SIZE, savedMask) < 0) {
                    throw new IllegalStateException("sched_setaffinity: errno " + HostLibc.errno());
                }
            }
        }

        /** {@code rounds} round trips; returns the number of bytes that came back. */
        int pingPong(int rounds) {
            int back = 0;
            for (int i = 0; i < rounds; i++) {
                long w;
                do {
                    w = HostLibc.write(toPartnerWrite, buf, 1);
                } while (w < 0 && HostLibc.errno() == HostLibc.EINTR);
                long r;
                do {
                    r = HostLibc.read(fromPartnerRead, buf, 1);
                } while (r < 0 && HostLibc.errno() == HostLibc.EINTR);
                if (w != 1 || r != 1) {
                    throw new IllegalStateException("ping-pong: write " + w + ", read " + r + ", errno " + HostLibc.errno());
                }
                back++;
            }
            return back;
        }

        /** Closes the JMH thread's write end (the partner reads end-of-file and exits), joins it, closes the rest. */
        @TearDown(Level.Trial)
        public void close() throws InterruptedException {
            unpin();
            closeFd(toPartnerWrite);
            toPartnerWrite = -1;
            if (partner != null) {
                partner.join(TimeUnit.SECONDS.toMillis(10));
                if (partner.isAlive()) {
                    throw new IllegalStateException("the ping-pong partner did not exit");
                }
            }
            closeFd(toPartnerRead);
            toPartnerRead = -1;
            closeFd(fromPartnerRead);
            fromPartnerRead = -1;
            closeFd(fromPartnerWrite);
            fromPartnerWrite = -1;
            for (Memory m : new Memory[] {mask, savedMask, buf}) {
                if (m != null) {
                    m.close();
                }
            }
            if (partnerFailure != null) {
                throw new IllegalStateException("partner thread failed", partnerFailure);
            }
        }

        private static void closeFd(int fd) {
            if (fd >= 0 && HostLibc.close(fd) < 0) {
                throw new IllegalStateException("close(" + fd + "): errno " + HostLibc.errno());
            }
        }
    }

    /** {@value #ROUND_TRIPS} pipe round trips between two threads on one CPU; score per switch. */
    @Benchmark
    @OperationsPerInvocation(2 * ROUND_TRIPS)
    public int pipePingPong(PingPong s) {
        return s.pingPong(ROUND_TRIPS);
    }

    private static void check(String call, int error) {
        if (error != 0) {
            throw new IllegalStateException(call + " failed: error " + error);
        }
    }
}
