package io.github.kproc.kernel;

import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/rseq.c} and {@code include/linux/sched.h}'s rseq hooks (CONFIG_RSEQ): the events a
 * task's {@code rseq_event_mask} collects. No task of the model registers an rseq area
 * ({@code sys_rseq} is not modelled), so {@code rseq_set_notify_resume} never sets
 * TIF_NOTIFY_RESUME and nothing ever clears the mask but exec and a new thread, as in 4.19 for a task
 * without rseq.
 */
final class Rseq {
    /** {@code RSEQ_EVENT_PREEMPT_BIT}. */
    static final int RSEQ_EVENT_PREEMPT_BIT = 0;
    /** {@code RSEQ_EVENT_MIGRATE_BIT}. */
    static final int RSEQ_EVENT_MIGRATE_BIT = 2;

    private final AddressSpace m;
    /** {@code task_struct.rseq}, {@code rseq_len}, {@code rseq_sig}, {@code rseq_event_mask}; -1 without CONFIG_RSEQ. */
    private final long rseq;
    private final long rseqLen;
    private final long rseqSig;
    private final long eventMask;

    Rseq(Machine mc) {
        this.m = mc.m;
        Profile p = mc.platform.profile();
        boolean built = p.config().enabled("CONFIG_RSEQ") && p.has("task_struct", "rseq_event_mask");
        this.rseq = built ? p.offsetOf("task_struct", "rseq") : -1;
        this.rseqLen = built ? p.offsetOf("task_struct", "rseq_len") : -1;
        this.rseqSig = built ? p.offsetOf("task_struct", "rseq_sig") : -1;
        this.eventMask = built ? p.offsetOf("task_struct", "rseq_event_mask") : -1;
    }

    private void setEvent(long t, int bit) {
        if (eventMask >= 0) {
            m.writePointer(t + eventMask, m.readPointer(t + eventMask) | (1L << bit));
        }
    }

    /** {@code rseq_preempt(t)} (prepare_task_switch, for the task switched out). */
    void rseqPreempt(long t) {
        setEvent(t, RSEQ_EVENT_PREEMPT_BIT);
    }

    /** {@code rseq_migrate(t)} (set_task_cpu, when the CPU changes). */
    void rseqMigrate(long t) {
        setEvent(t, RSEQ_EVENT_MIGRATE_BIT);
    }

    /**
     * {@code rseq_fork(t, clone_flags)}: a new thread starts with no rseq area and no events; a new
     * process keeps what {@code dup_task_struct} copied from the parent.
     */
    void rseqFork(long t, long cloneFlags) {
        if (eventMask >= 0 && (cloneFlags & CloneFlag.THREAD.value()) != 0) {
            rseqExecve(t);
        }
    }

    /** {@code rseq_execve(t)}: no rseq area, length, signature or events. */
    void rseqExecve(long t) {
        if (eventMask >= 0) {
            m.writePointer(t + rseq, 0);
            m.writeInt(t + rseqLen, 0);
            m.writeInt(t + rseqSig, 0);
            m.writePointer(t + eventMask, 0);
        }
    }
}
