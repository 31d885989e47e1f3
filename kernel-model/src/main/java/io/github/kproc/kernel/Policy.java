package io.github.kproc.kernel;

/** The scheduling policies of {@code include/uapi/linux/sched.h} the model schedules, with their values. */
public enum Policy {
    /** {@code SCHED_NORMAL} (CFS). */
    NORMAL(0, false),
    /** {@code SCHED_FIFO}: real time, priority 1..99, runs until it blocks or a higher priority preempts. */
    FIFO(1, true),
    /** {@code SCHED_RR}: real time, priority 1..99, round robin among equals every RR_TIMESLICE. */
    RR(2, true),
    /** {@code SCHED_BATCH} (CFS, never preempts on wakeup). */
    BATCH(3, false),
    /** {@code SCHED_IDLE} (CFS at the lowest weight). */
    IDLE(5, false);

    private final int value;
    private final boolean realTime;

    Policy(int value, boolean realTime) {
        this.value = value;
        this.realTime = realTime;
    }

    /** The uapi value. */
    public int value() {
        return value;
    }

    /** True for FIFO and RR, which take a priority 1..99; the others take 0. */
    public boolean realTime() {
        return realTime;
    }
}
