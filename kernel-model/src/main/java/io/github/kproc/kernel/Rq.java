package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code struct rq}: each CPU's runqueue as far as the core scheduler reads it (its current and idle
 * task, {@code nr_running}, {@code nr_switches}) and {@code resched_curr}, which the classes call.
 * The classes keep their own queues.
 */
final class Rq {
    private final Machine mc;
    private final AddressSpace m;
    private final Platform platform;
    private final Offsets o;
    private final Fields f;
    /** {@code rq->curr}. */
    final long[] curr;
    /** {@code rq->idle}. */
    final long[] idle;
    /** {@code rq->nr_running}: queued plus running tasks of every class but idle. */
    final int[] nrRunning;
    /** {@code rq->nr_switches}. */
    final long[] nrSwitches;

    Rq(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        this.platform = mc.platform;
        this.o = mc.o;
        this.f = mc.f;
        this.curr = new long[mc.cpus];
        this.idle = new long[mc.cpus];
        this.nrRunning = new int[mc.cpus];
        this.nrSwitches = new long[mc.cpus];
    }

    /**
     * The part of {@code update_curr} every class shares: the time since {@code se.exec_start} is
     * added to {@code sum_exec_runtime} and {@code exec_start} moves to now. Returns that time, or 0
     * if none passed.
     */
    long accountExec(long p) {
        long now = mc.clock;
        long delta = now - m.readLong(p + f.taskSeExecStart);
        if (delta <= 0) {
            return 0;
        }
        m.writeLong(p + f.taskSeExecStart, now);
        m.writeLong(p + f.taskSeSumExec, m.readLong(p + f.taskSeSumExec) + delta);
        return delta;
    }

    /**
     * {@code resched_curr(rq)}: nothing if TIF_NEED_RESCHED is already set; on the CPU running this
     * code set it; on another CPU set it and send a reschedule IPI.
     */
    void reschedCurr(int cpu, int thisCpu) {
        long ti = platform.taskThreadInfo(m, curr[cpu]);
        long flags = m.readPointer(ti + o.tiFlags);
        if ((flags & (1L << Machine.TIF_NEED_RESCHED)) != 0) {
            return;
        }
        m.writePointer(ti + o.tiFlags, flags | (1L << Machine.TIF_NEED_RESCHED));
        if (cpu != thisCpu) {
            mc.ipis[cpu]++;
            mc.ipiPending[cpu] = true;
            mc.trace.ipi(thisCpu, "ipi_raise", cpu);
        }
    }
}
