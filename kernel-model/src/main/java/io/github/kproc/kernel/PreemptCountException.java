package io.github.kproc.kernel;

import java.io.Serial;

/**
 * A preempt_count operation refused: a nested NMI or an {@code nmi_exit} outside one (the kernel's
 * {@code BUG_ON}s, always), or, in the strict mode of {@code Kernel.Builder.strictPreemptCount}, a
 * field overflowing (more than 255 preempt disables, 127 BH disables, 15 nested hardirqs), an exit
 * without its entry or {@code local_bh_enable} in hardirq context. The count is left as it was.
 */
public final class PreemptCountException extends IllegalStateException {
    @Serial
    private static final long serialVersionUID = 1L;

    public PreemptCountException(String message) {
        super(message);
    }
}
