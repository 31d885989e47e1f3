package io.github.kproc.kernel;

/** {@code task_struct.state} and {@code exit_state} values of {@code include/linux/sched.h} (4.19). */
final class TaskStateBits {
    static final long TASK_RUNNING = 0;
    static final long TASK_INTERRUPTIBLE = 0x1;
    static final long TASK_UNINTERRUPTIBLE = 0x2;
    static final long EXIT_DEAD = 0x10;
    static final long EXIT_ZOMBIE = 0x20;
    static final long TASK_DEAD = 0x80;
    static final long TASK_WAKEKILL = 0x100;
    static final long TASK_NEW = 0x800;
    static final long TASK_KILLABLE = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE;

    private TaskStateBits() {
    }
}
