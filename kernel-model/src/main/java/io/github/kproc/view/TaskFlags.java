package io.github.kproc.view;

/** {@code task_struct.flags} bits ({@code PF_*}) of {@code include/linux/sched.h} (4.19) the model uses. */
public final class TaskFlags {
    public static final int PF_IDLE = 0x00000002;
    public static final int PF_EXITING = 0x00000004;
    public static final int PF_EXITPIDONE = 0x00000008;
    public static final int PF_WQ_WORKER = 0x00000020;
    public static final int PF_FORKNOEXEC = 0x00000040;
    public static final int PF_SUPERPRIV = 0x00000100;
    /** Killed by a signal: set by {@code get_signal} before {@code do_group_exit}. */
    public static final int PF_SIGNALED = 0x00000400;
    public static final int PF_NPROC_EXCEEDED = 0x00001000;
    public static final int PF_NOFREEZE = 0x00008000;
    public static final int PF_KTHREAD = 0x00200000;
    public static final int PF_RANDOMIZE = 0x00400000;
    public static final int PF_NO_SETAFFINITY = 0x04000000;
    public static final int PF_FREEZER_SKIP = 0x40000000;

    private TaskFlags() {
    }
}
