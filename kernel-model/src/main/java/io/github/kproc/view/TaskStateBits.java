package io.github.kproc.view;

/** {@code task_struct.state} and {@code exit_state} values of {@code include/linux/sched.h} (4.19). */
public final class TaskStateBits {
    public static final long TASK_RUNNING = 0;
    public static final long TASK_INTERRUPTIBLE = 0x1;
    public static final long TASK_UNINTERRUPTIBLE = 0x2;
    public static final long EXIT_DEAD = 0x10;
    public static final long EXIT_ZOMBIE = 0x20;
    public static final long TASK_DEAD = 0x80;
    public static final long TASK_WAKEKILL = 0x100;
    public static final long TASK_NEW = 0x800;
    public static final long TASK_KILLABLE = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE;

    private TaskStateBits() {
    }
}
