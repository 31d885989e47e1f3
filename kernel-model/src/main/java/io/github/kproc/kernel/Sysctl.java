package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.mem.AddressSpace;

/**
 * The limits a system administrator sets: {@code kernel/sysctl.c}'s {@code kernel.pid_max}
 * ({@code proc_dointvec_minmax} between {@code pid_max_min} and {@code pid_max_max}) and
 * {@code kernel.threads-max} ({@code sysctl_max_threads} -> {@code set_max_threads}), and
 * {@code kernel/sys.c}'s {@code do_prlimit} for a task's rlimits. An out-of-range value is
 * {@code EINVAL} and changes nothing, as the handlers return before writing.
 */
final class Sysctl {
    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;
    private final Cred cred;
    /** {@code RLIM_NLIMITS}, from the size of {@code signal_struct.rlim}. */
    private final int nlimits;
    /** {@code RLIM_INFINITY} as the build's unsigned long. */
    private final long infinity;

    Sysctl(Machine mc, Cred cred) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
        this.cred = cred;
        this.nlimits = (int) (f.signal.rlimSize / f.signal.rlimitSize);
        this.infinity = mc.platform.pointerSize() == 8 ? -1L : 0xffffffffL;
    }

    /** Writes {@code /proc/sys/<name with dots as slashes>}. */
    void write(String name, long value) {
        switch (name) {
            case "kernel.pid_max" -> {
                requireRange(name, value, mc.pidMaxMin(), mc.platform.pidMaxLimit());
                mc.setPidMax((int) value);
            }
            case "kernel.threads-max" -> {
                requireRange(name, value, Machine.MIN_THREADS, Machine.MAX_THREADS);
                mc.setMaxThreads(value);
            }
            default -> throw new KernelException(Errno.ENOENT, "no sysctl " + name);
        }
    }

    /** Reads a sysctl. */
    long read(String name) {
        return switch (name) {
            case "kernel.pid_max" -> mc.pidMax();
            case "kernel.threads-max" -> mc.maxThreads();
            default -> throw new KernelException(Errno.ENOENT, "no sysctl " + name);
        };
    }

    private static void requireRange(String name, long value, long min, long max) {
        if (value < min || value > max) {
            throw new KernelException(Errno.EINVAL, name + " must be " + min + ".." + max + ": " + value);
        }
    }

    /**
     * {@code do_prlimit(tsk, resource, new_rlim, NULL)}: EINVAL for an unknown resource or a soft
     * limit above the hard one, EPERM for raising the hard limit without CAP_SYS_RESOURCE; the limits are the task's thread group's
     * ({@code signal->rlim}). {@code -1} is RLIM_INFINITY.
     */
    void setrlimit(long caller, long task, int resource, long soft, long hard) {
        if (resource < 0 || resource >= nlimits) {
            throw new KernelException(Errno.EINVAL, "no rlimit " + resource);
        }
        long cur = soft < 0 ? infinity : soft;
        long max = hard < 0 ? infinity : hard;
        if (Long.compareUnsigned(cur, max) > 0) {
            throw new KernelException(Errno.EINVAL, "soft limit above the hard limit");
        }
        long rlim = m.readPointer(task + f.task.signal) + f.signal.rlim + resource * f.signal.rlimitSize;
        int ptr = mc.platform.pointerSize();
        if (Long.compareUnsigned(max, m.readPointer(rlim + ptr)) > 0 && !cred.capable(caller, Cred.CAP_SYS_RESOURCE)) {
            throw new KernelException(Errno.EPERM, "raising the hard limit needs CAP_SYS_RESOURCE");
        }
        m.writePointer(rlim, cur);
        m.writePointer(rlim + ptr, max);
    }

    /** The task's {@code signal->rlim[resource]} as {soft, hard}. */
    long[] getrlimit(long task, int resource) {
        if (resource < 0 || resource >= nlimits) {
            throw new KernelException(Errno.EINVAL, "no rlimit " + resource);
        }
        long rlim = m.readPointer(task + f.task.signal) + f.signal.rlim + resource * f.signal.rlimitSize;
        return new long[] {m.readPointer(rlim), m.readPointer(rlim + mc.platform.pointerSize())};
    }
}
