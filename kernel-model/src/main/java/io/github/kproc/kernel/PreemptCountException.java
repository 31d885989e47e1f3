package io.github.kproc.kernel;

import java.io.Serial;

/**
 * A preempt_count operation the kernel would BUG on: a field overflowing (more than 255 preempt
 * disables, 127 BH disables, 15 nested hardirqs, a nested NMI) or an exit without its entry. The
 * count is left as it was.
 */
public final class PreemptCountException extends IllegalStateException {
    @Serial
    private static final long serialVersionUID = 1L;

    public PreemptCountException(String message) {
        super(message);
    }
}
