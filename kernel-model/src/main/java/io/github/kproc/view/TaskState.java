package io.github.kproc.view;

/**
 * What {@code ps} and {@code /proc/PID/stat} report for a task: {@code __get_task_state()}
 * (include/linux/sched.h, 4.19) over {@code state | exit_state} masked with TASK_REPORT, with
 * TASK_IDLE reported as {@link #IDLE}. Each state has the letter of {@code task_state_to_char}.
 */
public enum TaskState {
    /** {@code TASK_RUNNING} (also a TASK_NEW task not yet woken): runnable or running. */
    RUNNING('R'),
    /** {@code TASK_INTERRUPTIBLE}: sleeping until woken or signalled. */
    INTERRUPTIBLE('S'),
    /** {@code TASK_UNINTERRUPTIBLE}: sleeping, signals do not wake it ({@code TASK_KILLABLE} included). */
    UNINTERRUPTIBLE('D'),
    /** {@code __TASK_STOPPED}. */
    STOPPED('T'),
    /** {@code __TASK_TRACED}. */
    TRACED('t'),
    /** {@code EXIT_DEAD}: being released. */
    DEAD('X'),
    /** {@code EXIT_ZOMBIE}: exited, waiting for its parent's wait4. */
    ZOMBIE('Z'),
    /** {@code TASK_PARKED}. */
    PARKED('P'),
    /** {@code TASK_IDLE} (TASK_UNINTERRUPTIBLE | TASK_NOLOAD): an idle kernel thread's sleep. */
    IDLE('I');

    private static final TaskState[] BY_INDEX = {RUNNING, INTERRUPTIBLE, UNINTERRUPTIBLE, STOPPED, TRACED, DEAD, ZOMBIE,
        PARKED};
    /** {@code TASK_REPORT}. */
    private static final long TASK_REPORT = 0x7f;
    /** {@code TASK_IDLE}. */
    private static final long TASK_IDLE_STATE = 0x402;

    private final char letter;

    TaskState(char letter) {
        this.letter = letter;
    }

    /** The letter {@code ps} shows ({@code task_state_to_char}). */
    public char letter() {
        return letter;
    }

    /** {@code __get_task_state} of a task's {@code state} and {@code exit_state}. */
    public static TaskState of(long state, int exitState) {
        if (state == TASK_IDLE_STATE) {
            return IDLE;
        }
        long report = (state | exitState) & TASK_REPORT;
        int index = 64 - Long.numberOfLeadingZeros(report);
        return BY_INDEX[index];
    }
}
