package io.github.kproc.kernel;

import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/time/hrtimer.c} as far as fork needs it: the per-CPU {@code hrtimer_bases} (its
 * static initialiser and {@code hrtimers_prepare_cpu}) and {@code hrtimer_init}, which every task's
 * deadline timers and every signal_struct's {@code real_timer} go through. Timers are never armed:
 * the clock bases' {@code active} queues stay empty.
 */
final class Hrtimer {
    /** {@code HRTIMER_MAX_CLOCK_BASES}: four clocks, each hard and soft. */
    static final int HRTIMER_MAX_CLOCK_BASES = 8;
    /** {@code HRTIMER_BASE_MONOTONIC}: the clock base of {@code CLOCK_MONOTONIC}. */
    static final int HRTIMER_BASE_MONOTONIC = 0;
    /** {@code KTIME_MAX}. */
    static final long KTIME_MAX = Long.MAX_VALUE;
    /** The clock ids of {@code hrtimer_bases}' bases in order: MONOTONIC, REALTIME, BOOTTIME, TAI, then soft. */
    private static final int[] CLOCKIDS = {1, 0, 7, 11, 1, 0, 7, 11};
    private static final String[] GET_TIME = {"ktime_get", "ktime_get_real", "ktime_get_boottime",
        "ktime_get_clocktai"};

    private final Machine mc;
    private final AddressSpace m;
    /** The per-CPU variable {@code hrtimer_bases}, or 0 where the build's dump lacks the structs. */
    final long bases;
    private final long size;
    private final long node;
    private final long function;
    private final long base;
    private final long clockBase;
    private final long clockBaseSize;

    Hrtimer(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        Profile p = mc.platform.profile();
        boolean have = p.has("hrtimer", "base") && p.has("hrtimer_cpu_base", "clock_base")
                && p.has("hrtimer_clock_base", "get_time");
        if (!have) {
            bases = 0;
            size = node = function = base = clockBase = clockBaseSize = -1;
            return;
        }
        size = p.struct("hrtimer").size();
        node = p.offsetOf("hrtimer", "node.node");
        function = p.offsetOf("hrtimer", "function");
        base = p.offsetOf("hrtimer", "base");
        clockBase = p.offsetOf("hrtimer_cpu_base", "clock_base");
        clockBaseSize = p.struct("hrtimer_clock_base").size();
        var cpuBase = p.struct("hrtimer_cpu_base");
        bases = mc.perCpu.define(cpuBase.size(), Math.max(64, cpuBase.alignment()));
        mc.hrtimerBases = bases;
        long cpuField = p.offsetOf("hrtimer_cpu_base", "cpu");
        long expiresNext = p.offsetOf("hrtimer_cpu_base", "expires_next");
        long softExpiresNext = p.offsetOf("hrtimer_cpu_base", "softirq_expires_next");
        long cbCpuBase = p.offsetOf("hrtimer_clock_base", "cpu_base");
        long cbIndex = p.offsetOf("hrtimer_clock_base", "index");
        long cbClockid = p.offsetOf("hrtimer_clock_base", "clockid");
        long cbGetTime = p.offsetOf("hrtimer_clock_base", "get_time");
        for (int c = 0; c < mc.cpus; c++) {
            long cb = mc.perCpu.ptr(bases, c);
            // DEFINE_PER_CPU(struct hrtimer_cpu_base, hrtimer_bases) = { .clock_base = { ... } }
            for (int i = 0; i < HRTIMER_MAX_CLOCK_BASES; i++) {
                long b = cb + clockBase + i * clockBaseSize;
                m.writeInt(b + cbIndex, i);
                m.writeInt(b + cbClockid, CLOCKIDS[i]);
                m.writePointer(b + cbGetTime, mc.symbols.address(GET_TIME[i % 4]));
                // hrtimers_prepare_cpu: clock_base[i].cpu_base = cpu_base (active: an empty rb_root_cached)
                m.writePointer(b + cbCpuBase, cb);
            }
            m.writeInt(cb + cpuField, c);
            // hrtimers_prepare_cpu -> hrtimer_init_hres: nothing due
            m.writeLong(cb + expiresNext, KTIME_MAX);
            m.writeLong(cb + softExpiresNext, KTIME_MAX);
        }
    }

    /**
     * {@code hrtimer_init(timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL)} on {@code cpu} followed by the
     * caller's {@code timer->function = fn}: {@code __hrtimer_init} zeroes the timer, points it at
     * this CPU's monotonic clock base ({@code raw_cpu_ptr(&hrtimer_bases)}), and
     * {@code timerqueue_init} clears its node ({@code RB_CLEAR_NODE}: the node's parent is itself).
     */
    void hrtimerInit(long timer, int cpu, long fn) {
        if (bases == 0) {
            return;
        }
        m.fill(timer, size, (byte) 0);
        m.writePointer(timer + base, mc.perCpu.ptr(bases, cpu) + clockBase + HRTIMER_BASE_MONOTONIC * clockBaseSize);
        m.writePointer(timer + node, timer + node);
        m.writePointer(timer + function, fn);
    }
}
