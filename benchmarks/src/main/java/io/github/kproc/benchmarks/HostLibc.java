package io.github.kproc.benchmarks;

import com.sun.jna.Function;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The host's C library through JNA direct mapping ({@link Native#register}), for
 * {@link NativeBaselineBenchmark}. Linux, LP64 only ({@code size_t}, {@code ssize_t} and
 * {@code pthread_t} are mapped to {@code long}); {@link #supported()} says whether this host is one.
 * Every argument is a {@link Pointer} to memory allocated once, so a call allocates nothing on the
 * Java heap.
 */
final class HostLibc {
    /** {@code POSIX_SPAWN_USEVFORK} from glibc's {@code <spawn.h>}. */
    static final short POSIX_SPAWN_USEVFORK = 0x40;
    /** {@code O_CLOEXEC} on x86_64 and arm64 (asm-generic: 02000000). */
    static final int O_CLOEXEC = 0x80000;
    /** {@code EINTR}. */
    static final int EINTR = 4;
    /** {@code sizeof(posix_spawnattr_t)} is 336 on x86_64 and arm64 glibc; allocate more to be safe. */
    static final long SPAWNATTR_SIZE = 1024;
    /** {@code sizeof(cpu_set_t)}: 1024 CPUs. */
    static final long CPU_SET_SIZE = 128;

    private static final NativeLibrary LIBC;

    static {
        // elsewhere the natives stay unlinked and a call throws UnsatisfiedLinkError
        if (supported()) {
            LIBC = NativeLibrary.getInstance(Platform.C_LIBRARY_NAME);
            Native.register(HostLibc.class, LIBC);
        } else {
            LIBC = null;
        }
    }

    private HostLibc() {
    }

    /** Whether this host is 64-bit Linux, where the mappings below are right. */
    static boolean supported() {
        return Platform.isLinux() && Native.LONG_SIZE == 8 && Native.POINTER_SIZE == 8;
    }

    /** A function of the C library, by name. */
    static Function function(String name) {
        return LIBC.getFunction(name);
    }

    /** The calling thread's {@code errno} after the last native call. */
    static int errno() {
        return Native.getLastError();
    }

    static native int posix_spawn(Pointer pid, Pointer path, Pointer fileActions, Pointer attr, Pointer argv,
            Pointer envp);

    static native int posix_spawnattr_init(Pointer attr);

    static native int posix_spawnattr_setflags(Pointer attr, short flags);

    static native int posix_spawnattr_getflags(Pointer attr, Pointer flags);

    static native int posix_spawnattr_destroy(Pointer attr);

    static native int waitpid(int pid, Pointer status, int options);

    static native int pthread_create(Pointer thread, Pointer attr, Pointer startRoutine, Pointer arg);

    static native int pthread_join(long thread, Pointer retval);

    static native int sched_setaffinity(int pid, long cpusetsize, Pointer mask);

    static native int sched_getaffinity(int pid, long cpusetsize, Pointer mask);

    static native int pipe2(Pointer fds, int flags);

    static native long read(int fd, Pointer buf, long count);

    static native long write(int fd, Pointer buf, long count);

    static native int close(int fd);
}
