package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/sched/fair.c}: CFS. Queued tasks are linked through {@code se.group_node} into a
 * list head per CPU in the arena (as the kernel's {@code cfs_tasks} list); the pick is the smallest
 * vruntime. Vruntime advances by {@code calc_delta_fair}; {@code min_vruntime} follows it.
 */
final class Fair implements SchedClass {
    static final int SCHED_NORMAL = 0;
    static final int SCHED_BATCH = 3;
    static final int SCHED_IDLE = 5;
    static final long NSEC_PER_MSEC = 1_000_000L;
    /** {@code NICE_0_LOAD} unscaled. */
    private static final long NICE_0_LOAD = 1024;
    /** {@code WMULT_CONST}: the 32-bit fixed-point one the inverse weights are fractions of. */
    private static final long WMULT_CONST = 0xffffffffL;

    private final Machine mc;
    private final AddressSpace m;
    private final Offsets o;
    private final Fields f;
    private final Rq rq;
    private final long address;
    private final int loadShift;
    private final long[] queue;
    /** {@code cfs_rq->min_vruntime} per CPU. */
    final long[] minVruntime;
    final long latency;
    final long minGranularity;
    private final long wakeupGranularity;

    Fair(Machine mc, Rq rq) {
        this.mc = mc;
        this.m = mc.m;
        this.o = mc.o;
        this.f = mc.f;
        this.rq = rq;
        this.address = mc.symbols.address("fair_sched_class");
        this.loadShift = mc.platform.pointerSize() == 8 ? 10 : 0;
        this.queue = new long[mc.cpus];
        this.minVruntime = new long[mc.cpus];
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            queue[cpu] = mc.staticAlloc(2L * mc.platform.pointerSize(), mc.platform.pointerSize());
            mc.lists.init(queue[cpu]);
        }
        // SCHED_TUNABLESCALING_LOG: factor = 1 + ilog2(min(ncpus, 8))
        int factor = 1 + (31 - Integer.numberOfLeadingZeros(Math.min(mc.cpus, 8)));
        this.latency = 6 * NSEC_PER_MSEC * factor;
        this.minGranularity = 750_000L * factor;
        this.wakeupGranularity = NSEC_PER_MSEC * factor;
    }

    @Override
    public long address() {
        return address;
    }

    private boolean isFair(long p) {
        return m.readPointer(p + f.taskSchedClass) == address;
    }

    /** {@code scale_load_down(se.load.weight)}. */
    long weight(long p) {
        return m.readPointer(p + f.taskSeLoadWeight) >>> loadShift;
    }

    /** {@code SCHED_FIXEDPOINT_SHIFT} scaling of load weights on 64-bit builds (scale_load). */
    int loadShift() {
        return loadShift;
    }

    /**
     * {@code __calc_delta(delta_exec, weight, lw)}: delta * weight / lw->weight computed as the kernel
     * does, with lw's inverse weight in 32.32 fixed point, the factor shifted down until it fits 32
     * bits, and {@code mul_u64_u32_shr}. {@code weight} is unscaled; {@code invWeight} is lw->inv_weight.
     */
    static long calcDelta(long delta, long weight, long invWeight) {
        long fact = weight;
        int shift = 32;
        while ((fact >>> 32) != 0) {
            fact >>>= 1;
            shift--;
        }
        fact *= invWeight;
        while ((fact >>> 32) != 0) {
            fact >>>= 1;
            shift--;
        }
        long low = delta * fact;
        if (shift == 0) {
            return low;
        }
        return (Math.unsignedMultiplyHigh(delta, fact) << (64 - shift)) | (low >>> shift);
    }

    /** {@code __update_inv_weight}: the inverse of an unscaled load weight, WMULT_CONST / w. */
    static long invWeight(long weight) {
        return weight == 0 ? WMULT_CONST : WMULT_CONST / weight;
    }

    /** {@code calc_delta_fair(delta, se)}: delta unchanged at NICE_0_LOAD, else weighted by the task's inv_weight. */
    long calcDeltaFair(long delta, long p) {
        if (weight(p) == NICE_0_LOAD) {
            return delta;
        }
        return calcDelta(delta, NICE_0_LOAD, Integer.toUnsignedLong(m.readInt(p + f.taskSeLoadInvWeight)));
    }

    /**
     * {@code task_fork_fair(p)}: start from the parent's vruntime, placed no earlier than
     * min_vruntime plus one slice (START_DEBIT), then stored relative to min_vruntime until enqueued.
     */
    @Override
    public void taskFork(int cpu, long p) {
        long current = rq.curr[cpu];
        long vruntime = 0;
        if (current != 0 && isFair(current)) {
            vruntime = m.readLong(current + f.taskSeVruntime);
        }
        long placed = minVruntime[cpu] + calcDeltaFair(slice(cpu, p), p);
        if (placed - vruntime > 0) {
            vruntime = placed;
        }
        m.writeLong(p + f.taskSeVruntime, vruntime - minVruntime[cpu]);
    }

    /**
     * {@code sched_slice(cfs_rq, se)}: the entity's share, by weight, of
     * {@code __sched_period(cfs_rq->nr_running + !se->on_rq)}: the CPU's CFS entities, queued and
     * running, plus the entity itself if it is not on the runqueue yet (a fork).
     */
    long slice(int cpu, long p) {
        int nr = 0;
        long load = 0;
        long head = queue[cpu];
        for (long node = mc.lists.next(head); node != head; node = mc.lists.next(node)) {
            nr++;
            load += weight(node - f.taskSeGroupNode);
        }
        long running = rq.curr[cpu];
        if (running != 0 && running != rq.idle[cpu] && isFair(running) && m.readInt(running + f.taskSeOnRq) != 0) {
            nr++;
            load += weight(running);
        }
        if (m.readInt(p + f.taskSeOnRq) == 0) {
            nr++;
            load += weight(p);
        }
        long period = nr > 8 ? nr * minGranularity : latency;
        return calcDelta(period, weight(p), invWeight(load));
    }

    /**
     * {@code update_curr(cfs_rq)}: the running task's runtime since {@code exec_start} is added to
     * {@code sum_exec_runtime} and, weighted ({@code calc_delta_fair}), to its vruntime; min_vruntime
     * follows.
     */
    @Override
    public void updateCurr(int cpu, long p) {
        long delta = rq.accountExec(p);
        if (delta > 0) {
            m.writeLong(p + f.taskSeVruntime, m.readLong(p + f.taskSeVruntime) + calcDeltaFair(delta, p));
            updateMinVruntime(cpu);
        }
    }

    /** {@code update_min_vruntime}: monotonic, the smaller of the running and the leftmost queued vruntime. */
    void updateMinVruntime(int cpu) {
        long p = rq.curr[cpu];
        boolean haveCurr = p != rq.idle[cpu] && isFair(p) && m.readInt(p + o.taskOnRq) == Core.TASK_ON_RQ_QUEUED;
        long vruntime = haveCurr ? m.readLong(p + f.taskSeVruntime) : 0;
        long left = pickFirstEntity(cpu);
        if (left != 0) {
            long lv = m.readLong(left + f.taskSeVruntime);
            vruntime = haveCurr ? (lv - vruntime < 0 ? lv : vruntime) : lv;
        } else if (!haveCurr) {
            return;
        }
        if (vruntime - minVruntime[cpu] > 0) {
            minVruntime[cpu] = vruntime;
        }
    }

    /** {@code __pick_first_entity}: the queued task with the smallest vruntime, or 0. */
    long pickFirstEntity(int cpu) {
        long head = queue[cpu];
        long best = 0;
        long bestV = 0;
        for (long node = mc.lists.next(head); node != head; node = mc.lists.next(node)) {
            long t = node - f.taskSeGroupNode;
            long v = m.readLong(t + f.taskSeVruntime);
            if (best == 0 || v - bestV < 0) {
                best = t;
                bestV = v;
            }
        }
        return best;
    }

    /** {@code place_entity(cfs_rq, se, 0)} of a waking task: no earlier than min_vruntime minus half a latency (GENTLE_FAIR_SLEEPERS). */
    void placeWaking(int cpu, long p) {
        long floor = minVruntime[cpu] - latency / 2;
        if (m.readLong(p + f.taskSeVruntime) - floor < 0) {
            m.writeLong(p + f.taskSeVruntime, floor);
        }
    }

    @Override
    public void enqueueTask(int cpu, long p, boolean renormalize) {
        if (renormalize) {
            m.writeLong(p + f.taskSeVruntime, m.readLong(p + f.taskSeVruntime) + minVruntime[cpu]);
        }
        mc.lists.addTail(p + f.taskSeGroupNode, queue[cpu]);
    }

    @Override
    public void dequeueTask(int cpu, long p, boolean normalize) {
        mc.lists.delInit(p + f.taskSeGroupNode);
        if (normalize) {
            m.writeLong(p + f.taskSeVruntime, m.readLong(p + f.taskSeVruntime) - minVruntime[cpu]);
        }
    }

    @Override
    public long pickNextTask(int cpu) {
        return pickFirstEntity(cpu);
    }

    @Override
    public void setNextTask(int cpu, long next) {
        mc.lists.delInit(next + f.taskSeGroupNode);
    }

    @Override
    public void putPrevTask(int cpu, long prev) {
        mc.lists.addTail(prev + f.taskSeGroupNode, queue[cpu]);
    }

    /**
     * {@code check_preempt_wakeup}: a running SCHED_IDLE task is preempted by any other policy, a woken
     * SCHED_BATCH or SCHED_IDLE task never preempts (the tick does), otherwise after {@code update_curr}
     * when the woken task's vruntime is more than the wakeup granularity behind the running one's.
     */
    @Override
    public void checkPreemptCurr(int cpu, long p, int thisCpu) {
        long current = rq.curr[cpu];
        int policy = m.readInt(p + o.taskPolicy);
        if (m.readInt(current + o.taskPolicy) == SCHED_IDLE && policy != SCHED_IDLE) {
            rq.reschedCurr(cpu, thisCpu);
            return;
        }
        if (policy != SCHED_NORMAL) {
            return;
        }
        updateCurr(cpu, current);
        long vdiff = m.readLong(current + f.taskSeVruntime) - m.readLong(p + f.taskSeVruntime);
        if (vdiff > calcDeltaFair(wakeupGranularity, p)) {
            rq.reschedCurr(cpu, thisCpu);
        }
    }

    /**
     * {@code task_tick_fair} -> {@code check_preempt_tick}: resched when the task ran past its ideal
     * slice, or is more than a slice ahead of the leftmost task.
     */
    @Override
    public void taskTick(int cpu, long p) {
        if (rq.nrRunning[cpu] <= 1) {
            return;
        }
        long ideal = slice(cpu, p);
        long ran = m.readLong(p + f.taskSeSumExec) - m.readLong(p + f.taskSePrevSumExec);
        if (ran > ideal) {
            rq.reschedCurr(cpu, cpu);
            return;
        }
        if (ran < minGranularity) {
            return;
        }
        long left = pickFirstEntity(cpu);
        if (left != 0 && m.readLong(p + f.taskSeVruntime) - m.readLong(left + f.taskSeVruntime) > ideal) {
            rq.reschedCurr(cpu, cpu);
        }
    }

    @Override
    public void queuedTasks(int cpu, java.util.List<Long> out) {
        long head = queue[cpu];
        for (long node = mc.lists.next(head); node != head; node = mc.lists.next(node)) {
            out.add(node - f.taskSeGroupNode);
        }
    }
}
