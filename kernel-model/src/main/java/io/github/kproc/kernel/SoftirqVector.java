package io.github.kproc.kernel;

/** The softirq vectors of {@code include/linux/interrupt.h} (4.19), in their order. */
public enum SoftirqVector {
    HI, TIMER, NET_TX, NET_RX, BLOCK, IRQ_POLL, TASKLET, SCHED, HRTIMER, RCU;

    /** The vector number ({@code HI_SOFTIRQ} = 0 .. {@code RCU_SOFTIRQ} = 9). */
    public int number() {
        return ordinal();
    }
}
