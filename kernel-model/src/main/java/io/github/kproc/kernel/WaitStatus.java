package io.github.kproc.kernel;

/**
 * What {@code wait4}/{@code waitid} report about a child: its pid as the caller's pid namespace sees
 * it and the status word as v4.19 encodes it ({@code wait_task_zombie}: the task's {@code exit_code},
 * or the group's {@code group_exit_code} after a group exit). {@code exit(n)} leaves
 * {@code (n & 0xff) << 8}; death by a signal leaves the signal in the low 7 bits, with 0x80 for a core
 * dump. The predicates are the C library's {@code W*} macros.
 *
 * @param pid the child
 * @param status the status word
 */
public record WaitStatus(Pid pid, int status) {
    /** {@code WIFEXITED}: the child called exit. */
    public boolean exited() {
        return (status & 0x7f) == 0;
    }

    /** {@code WEXITSTATUS}: the low 8 bits of its exit argument. */
    public int exitStatus() {
        return (status >> 8) & 0xff;
    }

    /** {@code WIFSIGNALED}: a signal ended it (not a stop, whose low 7 bits are 0x7f). */
    public boolean signaled() {
        return ((byte) ((status & 0x7f) + 1) >> 1) > 0;
    }

    /** {@code WTERMSIG}: the signal that ended it. */
    public int termSig() {
        return status & 0x7f;
    }

    /** {@code WCOREDUMP}. */
    public boolean coreDumped() {
        return (status & 0x80) != 0;
    }
}
