package io.github.kproc.kernel;

import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/sched/deadline.c} as far as a new task's {@code sched_dl_entity} goes:
 * {@code __sched_fork} clears its tree node, sets up its two hrtimers
 * ({@code init_dl_task_timer}, {@code init_dl_inactive_task_timer}) and clears its parameters
 * ({@code __dl_clear_params}). SCHED_DEADLINE itself is not modelled (a deadline parent's fork is
 * refused by {@code sched_fork} as 4.19 refuses it).
 */
final class Deadline {
    private final AddressSpace m;
    private final Hrtimer hrtimer;
    private final long rbNode;
    private final long dlTimer;
    private final long inactiveTimer;
    private final long dlTaskTimer;
    private final long inactiveTaskTimer;
    private final long[] u64s;
    private final long flags;
    private final long bitsWord;
    private final int clearMask;

    Deadline(Machine mc, Hrtimer hrtimer) {
        this.m = mc.m;
        this.hrtimer = hrtimer;
        Profile p = mc.platform.profile();
        this.rbNode = p.offsetOf("task_struct", "dl.rb_node");
        this.dlTimer = p.offsetOf("task_struct", "dl.dl_timer");
        this.inactiveTimer = p.offsetOf("task_struct", "dl.inactive_timer");
        this.dlTaskTimer = mc.symbols.address("dl_task_timer");
        this.inactiveTaskTimer = mc.symbols.address("inactive_task_timer");
        this.u64s = new long[] {p.offsetOf("task_struct", "dl.dl_runtime"), p.offsetOf("task_struct", "dl.dl_deadline"),
            p.offsetOf("task_struct", "dl.dl_period"), p.offsetOf("task_struct", "dl.dl_bw"),
            p.offsetOf("task_struct", "dl.dl_density")};
        this.flags = p.offsetOf("task_struct", "dl.flags");
        var throttled = p.field("task_struct", "dl.dl_throttled");
        this.bitsWord = throttled.offset();
        int mask = 0;
        for (String bit : new String[] {"dl_throttled", "dl_yielded", "dl_non_contending", "dl_overrun"}) {
            var b = p.field("task_struct", "dl." + bit);
            mask |= ((1 << b.bitSize()) - 1) << b.bitOffset();
        }
        this.clearMask = mask;
    }

    /**
     * The deadline part of {@code __sched_fork(p)} on {@code cpu}: {@code RB_CLEAR_NODE(&p->dl.rb_node)},
     * {@code init_dl_task_timer}, {@code init_dl_inactive_task_timer}, {@code __dl_clear_params}.
     */
    void schedForkDl(long p, int cpu) {
        m.writePointer(p + rbNode, p + rbNode);
        // init_dl_task_timer: hrtimer_init(&dl_se->dl_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL), dl_task_timer
        hrtimer.hrtimerInit(p + dlTimer, cpu, dlTaskTimer);
        // init_dl_inactive_task_timer: the same for inactive_timer, inactive_task_timer
        hrtimer.hrtimerInit(p + inactiveTimer, cpu, inactiveTaskTimer);
        dlClearParams(p);
    }

    /**
     * {@code __dl_clear_params(p)}: runtime, deadline, period, flags, bandwidth and density zero, and
     * the throttled, yielded, non-contending and overrun bits clear ({@code dl_boosted} stays).
     */
    void dlClearParams(long p) {
        for (long off : u64s) {
            m.writeLong(p + off, 0);
        }
        m.writeInt(p + flags, 0);
        m.writeInt(p + bitsWord, m.readInt(p + bitsWord) & ~clearMask);
    }
}
