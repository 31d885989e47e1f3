package io.github.kproc.kernel;

import java.util.Set;

/**
 * The {@code options} of {@code wait4} and {@code waitid} ({@code include/uapi/linux/wait.h}), for
 * {@link Cpu#wait4(int, Set)} and {@link Cpu#waitid(int, Set)}.
 */
public enum WaitOption {
    /** {@code WNOHANG}: return at once if no child has exited. */
    NOHANG(0x1),
    /** {@code WUNTRACED} (= {@code WSTOPPED}): report stopped children (the model stops none). */
    UNTRACED(0x2),
    /** {@code WEXITED}: report exited children; waitid only (wait4 always has it). */
    EXITED(0x4),
    /** {@code WCONTINUED}: report continued children (the model continues none). */
    CONTINUED(0x8),
    /** {@code WNOWAIT}: report the zombie but leave it waitable; waitid only (wait4 refuses it, EINVAL). */
    NOWAIT(0x01000000),
    /** {@code __WNOTHREAD}: only the calling thread's children, not its thread group's. */
    NOTHREAD(0x20000000),
    /** {@code __WALL}: children whatever their exit signal. */
    ALL(0x40000000),
    /** {@code __WCLONE}: only "clone" children, whose exit signal is not SIGCHLD. */
    CLONE(0x80000000);

    private final int value;

    WaitOption(int value) {
        this.value = value;
    }

    /** The bit in {@code options}. */
    public int value() {
        return value;
    }

    /** The options word of a set. */
    public static int word(Set<WaitOption> options) {
        int word = 0;
        for (WaitOption o : options) {
            word |= o.value;
        }
        return word;
    }
}
