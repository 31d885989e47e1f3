package io.github.kproc;

/** The kernel error numbers the model returns, with their Linux values (asm-generic/errno-base.h, errno.h). */
public enum Errno {
    EPERM(1),
    ENOENT(2),
    ESRCH(3),
    EINTR(4),
    ENOEXEC(8),
    ECHILD(10),
    EAGAIN(11),
    ENOMEM(12),
    EFAULT(14),
    EBUSY(16),
    EINVAL(22),
    ENOSPC(28),
    ELOOP(40),
    ERESTARTSYS(512),
    ERESTARTNOINTR(513);

    private final int code;

    Errno(int code) {
        this.code = code;
    }

    /** The positive error number. */
    public int code() {
        return code;
    }

    /** The value a kernel function returns for this error: {@code -code}. */
    public int negative() {
        return -code;
    }

    /** The errno for a negative kernel return value. */
    public static Errno fromNegative(long value) {
        for (Errno e : values()) {
            if (e.code == -value) {
                return e;
            }
        }
        throw new IllegalArgumentException("not a known -errno: " + value);
    }
}
