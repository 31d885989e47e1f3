package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code kernel.pid_max} (kernel/sysctl.c: proc_dointvec_minmax between pid_max_min and
 * pid_max_max), {@code kernel.threads-max} ({@code sysctl_max_threads} -> {@code set_max_threads})
 * and {@code do_prlimit}: out-of-range values are EINVAL and change nothing.
 */
public abstract class SysctlContract extends KernelContract {
    private static Errno errno(Runnable r) {
        return assertThrows(KernelException.class, r::run).errno();
    }

    @Test
    @DisplayName("kernel.pid_max: 301 .. PID_MAX_LIMIT, EINVAL outside and nothing changes")
    void pidMaxBounds() {
        Kernel k = boot(1);
        long before = k.sysctl("kernel.pid_max");
        long limit = platform().pointerSize() == 8 ? 4 * 1024 * 1024 : 32768;
        assertEquals(Errno.EINVAL, errno(() -> k.sysctl("kernel.pid_max", 300)));
        assertEquals(Errno.EINVAL, errno(() -> k.sysctl("kernel.pid_max", limit + 1)));
        assertEquals(before, k.sysctl("kernel.pid_max"));
        k.sysctl("kernel.pid_max", limit);
        assertEquals(limit, k.pidMax());
        assertEquals(Errno.ENOENT, errno(() -> k.sysctl("kernel.no_such", 1)));
    }

    @Test
    @DisplayName("alloc_pid: a lowered pid_max makes the cursor wrap to RESERVED_PIDS early")
    void loweredPidMaxWraps() {
        Kernel k = boot(b -> b.cpus(1).memory(64L << 20).sysctl("kernel.pid_max", 310));
        k.cpu(0).run(Pid.INIT);
        int last = 0;
        for (int i = 0; i < 320 && last < 309; i++) {
            try {
                last = k.cpu(0).fork().nr();
            } catch (KernelException e) {
                throw new AssertionError("fork " + i + " after pid " + last + " nr_threads " + k.nrThreads(), e);
            }
        }
        assertEquals(309, last);
        for (int pid : new int[] {10, 305}) {
            k.cpu(0).run(Pid.of(pid));
            k.cpu(0).exit(0);
            k.cpu(0).run(Pid.INIT);
            assertTrue(k.cpu(0).wait4(Pid.of(pid)));
        }
        assertEquals(305, k.cpu(0).fork().nr(), "past pid_max the cursor wraps to RESERVED_PIDS, not to 10");
    }

    @Test
    @DisplayName("kernel.threads-max: 20 .. FUTEX_TID_MASK, capped by RAM (set_max_threads); a fork past it is EAGAIN")
    void threadsMax() {
        Kernel k = boot(1);
        long ramLimit = k.maxThreads();
        assertEquals(Errno.EINVAL, errno(() -> k.sysctl("kernel.threads-max", 19)));
        assertEquals(Errno.EINVAL, errno(() -> k.sysctl("kernel.threads-max", 0x40000000L)));
        k.sysctl("kernel.threads-max", 0x3fffffff);
        assertEquals(ramLimit, k.maxThreads(), "never above RAM / (8 * THREAD_SIZE)");
        k.sysctl("kernel.threads-max", 20);
        k.cpu(0).run(Pid.INIT);
        int forked = 0;
        while (k.nrThreads() < 20) {
            k.cpu(0).fork();
            forked++;
        }
        assertEquals(20 - 2, forked, "init and kthreadd count; the idle tasks do not");
        assertEquals(Errno.EAGAIN, errno(() -> k.cpu(0).fork()), "copy_process: nr_threads >= max_threads");
    }

    @Test
    @DisplayName("do_prlimit: RLIMIT_NPROC of a task; soft above hard is EINVAL, raising hard without CAP_SYS_RESOURCE EPERM")
    void setrlimitNproc() {
        Kernel k = boot(1);
        long[] before = k.getrlimit(Pid.INIT, RLIMIT_NPROC);
        assertEquals(Errno.EINVAL, errno(() -> k.setrlimit(Pid.INIT, RLIMIT_NPROC, 10, 5)));
        assertEquals(Errno.EINVAL, errno(() -> k.setrlimit(Pid.INIT, 99, 1, 1)));
        assertArrayEquals(before, k.getrlimit(Pid.INIT, RLIMIT_NPROC));
        k.setrlimit(Pid.INIT, RLIMIT_NPROC, 3, 3);
        assertArrayEquals(new long[] {3, 3}, k.getrlimit(Pid.INIT, RLIMIT_NPROC));
        assertEquals(Errno.ESRCH, errno(() -> k.setrlimit(Pid.of(99999), RLIMIT_NPROC, 1, 1)));
    }
}
