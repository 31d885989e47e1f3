package io.github.kproc;

import java.io.Serial;

/** A kernel operation failed with an error number; the model is as it was before the operation. */
public class KernelException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final Errno errno;

    public KernelException(Errno errno, String message) {
        super(errno + ": " + message);
        this.errno = errno;
    }

    /** The kernel's error number for the failure. */
    public Errno errno() {
        return errno;
    }
}
