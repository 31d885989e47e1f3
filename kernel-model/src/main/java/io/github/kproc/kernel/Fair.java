package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/sched/fair.c}: CFS on each CPU's {@code rq->cfs}. Queued entities are ordered by
 * vruntime in the red-black tree {@code cfs_rq->tasks_timeline} of their {@code se.run_node} (the
 * running one is taken out, as {@code set_next_entity} does); {@code cfs_rq->nr_running},
 * {@code load} and {@code curr} are kept as the kernel keeps them, and every fair task on the CPU is on
 * {@code rq->cfs_tasks}. Vruntime advances by {@code calc_delta_fair}; {@code min_vruntime} follows it.
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
    private final Rbtree rb;
    private final long address;
    private final int loadShift;
    /** {@code task_struct.se}. */
    private final long taskSe;
    /** {@code task_struct.se.run_node}. */
    private final long runNode;
    /** {@code task_struct.se.cfs_rq} (CONFIG_FAIR_GROUP_SCHED), or -1. */
    private final long seCfsRq;
    /** {@code cfs_rq.load.weight}. */
    private final long cfsLoadWeight;
    /** {@code cfs_rq.load.inv_weight}. */
    private final long cfsLoadInvWeight;
    /** {@code cfs_rq.nr_running}. */
    private final long cfsNrRunning;
    /** {@code cfs_rq.min_vruntime}. */
    private final long cfsMinVruntime;
    /** {@code cfs_rq.min_vruntime_copy} (32-bit builds), or -1. */
    private final long cfsMinVruntimeCopy;
    /** {@code cfs_rq.tasks_timeline}: an {@code rb_root_cached}. */
    private final long cfsTimeline;
    /** {@code cfs_rq.curr}: the running entity, or NULL. */
    private final long cfsCurr;
    final long latency;
    final long minGranularity;
    private final long wakeupGranularity;

    Fair(Machine mc, Rq rq) {
        this.mc = mc;
        this.m = mc.m;
        this.o = mc.o;
        this.f = mc.f;
        this.rq = rq;
        var profile = mc.platform.profile();
        this.rb = new Rbtree(m, profile);
        this.address = mc.symbols.address("fair_sched_class");
        this.loadShift = mc.platform.pointerSize() == 8 ? 10 : 0;
        this.taskSe = profile.offsetOf("task_struct", "se");
        this.runNode = profile.offsetOf("task_struct", "se.run_node");
        this.seCfsRq = profile.has("task_struct", "se.cfs_rq") ? profile.offsetOf("task_struct", "se.cfs_rq") : -1;
        long cfs = rq.cfs;
        this.cfsLoadWeight = cfs + profile.offsetOf("cfs_rq", "load.weight");
        this.cfsLoadInvWeight = cfs + profile.offsetOf("cfs_rq", "load.inv_weight");
        this.cfsNrRunning = cfs + profile.offsetOf("cfs_rq", "nr_running");
        this.cfsMinVruntime = cfs + profile.offsetOf("cfs_rq", "min_vruntime");
        this.cfsMinVruntimeCopy = profile.has("cfs_rq", "min_vruntime_copy")
                ? cfs + profile.offsetOf("cfs_rq", "min_vruntime_copy") : -1;
        this.cfsTimeline = cfs + profile.offsetOf("cfs_rq", "tasks_timeline");
        this.cfsCurr = cfs + profile.offsetOf("cfs_rq", "curr");
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            // init_cfs_rq: an empty timeline, min_vruntime = (u64)(-(1LL << 20))
            rb.initRootCached(rq.cpuRq(cpu) + cfsTimeline);
            setMinVruntime(cpu, -(1L << 20));
        }
        // SCHED_TUNABLESCALING_LOG: factor = 1 + ilog2(min(ncpus, 8))
        int factor = 1 + (31 - Integer.numberOfLeadingZeros(Math.min(mc.cpus, 8)));
        this.latency = 6 * NSEC_PER_MSEC * factor;
        this.minGranularity = 750_000L * factor;
        this.wakeupGranularity = NSEC_PER_MSEC * factor;
    }

    /** {@code cfs_rq->min_vruntime} of a CPU. */
    long minVruntime(int cpu) {
        return m.readLong(rq.cpuRq(cpu) + cfsMinVruntime);
    }

    private void setMinVruntime(int cpu, long value) {
        long base = rq.cpuRq(cpu);
        m.writeLong(base + cfsMinVruntime, value);
        if (cfsMinVruntimeCopy >= 0) {
            m.writeLong(base + cfsMinVruntimeCopy, value);
        }
    }

    /** {@code cfs_rq->nr_running}. */
    int nrRunning(int cpu) {
        return m.readInt(rq.cpuRq(cpu) + cfsNrRunning);
    }

    private long taskOf(long node) {
        return node - runNode;
    }

    @Override
    public long address() {
        return address;
    }

    private boolean isFair(long p) {
        return m.readPointer(p + f.task.schedClass) == address;
    }

    /** {@code scale_load_down(se.load.weight)}. */
    long weight(long p) {
        return m.readPointer(p + f.task.seLoadWeight) >>> loadShift;
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
        return calcDelta(delta, NICE_0_LOAD, Integer.toUnsignedLong(m.readInt(p + f.task.seLoadInvWeight)));
    }

    /**
     * {@code task_fork_fair(p)}: start from the parent's vruntime, placed no earlier than
     * min_vruntime plus one slice (START_DEBIT), then stored relative to min_vruntime until enqueued.
     */
    @Override
    public void taskFork(int cpu, long p) {
        long current = rq.curr(cpu);
        long vruntime = 0;
        if (current != 0 && isFair(current)) {
            vruntime = m.readLong(current + f.task.seVruntime);
        }
        long placed = minVruntime(cpu) + calcDeltaFair(slice(cpu, p), p);
        if (placed - vruntime > 0) {
            vruntime = placed;
        }
        m.writeLong(p + f.task.seVruntime, vruntime - minVruntime(cpu));
    }

    /**
     * {@code sched_slice(cfs_rq, se)}: the entity's share, by weight, of
     * {@code __sched_period(cfs_rq->nr_running + !se->on_rq)}: the CPU's CFS entities, queued and
     * running, plus the entity itself if it is not on the runqueue yet (a fork).
     */
    long slice(int cpu, long p) {
        long base = rq.cpuRq(cpu);
        int nr = m.readInt(base + cfsNrRunning);
        long load = m.readPointer(base + cfsLoadWeight) >>> loadShift;
        if (m.readInt(p + f.task.seOnRq) == 0) {
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
            m.writeLong(p + f.task.seVruntime, m.readLong(p + f.task.seVruntime) + calcDeltaFair(delta, p));
            updateMinVruntime(cpu);
        }
    }

    /** {@code update_min_vruntime}: monotonic, the smaller of the running and the leftmost queued vruntime. */
    void updateMinVruntime(int cpu) {
        long p = rq.curr(cpu);
        boolean haveCurr = p != rq.idle(cpu) && isFair(p) && m.readInt(p + o.taskOnRq) == Core.TASK_ON_RQ_QUEUED;
        long vruntime = haveCurr ? m.readLong(p + f.task.seVruntime) : 0;
        long left = pickFirstEntity(cpu);
        if (left != 0) {
            long lv = m.readLong(left + f.task.seVruntime);
            vruntime = haveCurr ? (lv - vruntime < 0 ? lv : vruntime) : lv;
        } else if (!haveCurr) {
            return;
        }
        if (vruntime - minVruntime(cpu) > 0) {
            setMinVruntime(cpu, vruntime);
        }
    }

    /** {@code __pick_first_entity}: the queued task with the smallest vruntime (the cached leftmost), or 0. */
    long pickFirstEntity(int cpu) {
        long left = rb.firstCached(rq.cpuRq(cpu) + cfsTimeline);
        return left == 0 ? 0 : taskOf(left);
    }

    /** {@code __enqueue_entity}: into the timeline by vruntime, equal keys to the right ({@code entity_before}). */
    private void enqueueEntity(int cpu, long p) {
        long root = rq.cpuRq(cpu) + cfsTimeline;
        long key = m.readLong(p + f.task.seVruntime);
        long link = rb.rootLink(rb.cachedRoot(root));
        long parent = 0;
        boolean leftmost = true;
        for (long node = m.readPointer(link); node != 0; node = m.readPointer(link)) {
            parent = node;
            if (key - m.readLong(taskOf(node) + f.task.seVruntime) < 0) {
                link = rb.leftLink(node);
            } else {
                link = rb.rightLink(node);
                leftmost = false;
            }
        }
        rb.linkNode(p + runNode, parent, link);
        rb.insertColorCached(p + runNode, root, leftmost);
    }

    /** {@code __dequeue_entity}. */
    private void dequeueEntity(int cpu, long p) {
        rb.eraseCached(p + runNode, rq.cpuRq(cpu) + cfsTimeline);
    }

    /** {@code place_entity(cfs_rq, se, 0)} of a waking task: no earlier than min_vruntime minus half a latency (GENTLE_FAIR_SLEEPERS). */
    void placeWaking(int cpu, long p) {
        long floor = minVruntime(cpu) - latency / 2;
        if (m.readLong(p + f.task.seVruntime) - floor < 0) {
            m.writeLong(p + f.task.seVruntime, floor);
        }
    }

    /**
     * {@code enqueue_entity}: a migrated or new task's vruntime made absolute against this CPU's
     * min_vruntime, {@code account_entity_enqueue} (load, nr_running, {@code rq->cfs_tasks}) and the
     * timeline.
     */
    @Override
    public void enqueueTask(int cpu, long p, boolean renormalize) {
        if (renormalize) {
            m.writeLong(p + f.task.seVruntime, m.readLong(p + f.task.seVruntime) + minVruntime(cpu));
        }
        long base = rq.cpuRq(cpu);
        if (seCfsRq >= 0) {
            // set_task_rq: the entity's cfs_rq is the CPU's root cfs_rq
            m.writePointer(p + seCfsRq, base + rq.cfs);
        }
        m.writePointer(base + cfsLoadWeight, m.readPointer(base + cfsLoadWeight) + m.readPointer(p + f.task.seLoadWeight));
        m.writeInt(base + cfsLoadInvWeight, 0);
        m.writeInt(base + cfsNrRunning, m.readInt(base + cfsNrRunning) + 1);
        mc.lists.add(p + f.task.seGroupNode, base + rq.cfsTasks);
        enqueueEntity(cpu, p);
    }

    /**
     * {@code dequeue_entity}: out of the timeline unless it is {@code cfs_rq->curr},
     * {@code account_entity_dequeue}; a task leaving the CPU keeps its vruntime relative to min_vruntime.
     */
    @Override
    public void dequeueTask(int cpu, long p, boolean normalize) {
        long base = rq.cpuRq(cpu);
        if (m.readPointer(base + cfsCurr) == p + taskSe) {
            m.writePointer(base + cfsCurr, 0);
        } else {
            dequeueEntity(cpu, p);
        }
        m.writePointer(base + cfsLoadWeight, m.readPointer(base + cfsLoadWeight) - m.readPointer(p + f.task.seLoadWeight));
        m.writeInt(base + cfsLoadInvWeight, 0);
        m.writeInt(base + cfsNrRunning, m.readInt(base + cfsNrRunning) - 1);
        mc.lists.delInit(p + f.task.seGroupNode);
        if (normalize) {
            m.writeLong(p + f.task.seVruntime, m.readLong(p + f.task.seVruntime) - minVruntime(cpu));
        }
    }

    @Override
    public long pickNextTask(int cpu) {
        return pickFirstEntity(cpu);
    }

    /** {@code set_next_entity}: out of the timeline, {@code cfs_rq->curr}. */
    @Override
    public void setNextTask(int cpu, long next) {
        dequeueEntity(cpu, next);
        m.writePointer(rq.cpuRq(cpu) + cfsCurr, next + taskSe);
    }

    /** {@code put_prev_entity}: back into the timeline, no {@code cfs_rq->curr}. */
    @Override
    public void putPrevTask(int cpu, long prev) {
        enqueueEntity(cpu, prev);
        m.writePointer(rq.cpuRq(cpu) + cfsCurr, 0);
    }

    /**
     * {@code check_preempt_wakeup}: a running SCHED_IDLE task is preempted by any other policy, a woken
     * SCHED_BATCH or SCHED_IDLE task never preempts (the tick does), otherwise after {@code update_curr}
     * when the woken task's vruntime is more than the wakeup granularity behind the running one's.
     */
    @Override
    public void checkPreemptCurr(int cpu, long p, int thisCpu) {
        long current = rq.curr(cpu);
        int policy = m.readInt(p + o.taskPolicy);
        if (m.readInt(current + o.taskPolicy) == SCHED_IDLE && policy != SCHED_IDLE) {
            rq.reschedCurr(cpu, thisCpu);
            return;
        }
        if (policy != SCHED_NORMAL) {
            return;
        }
        updateCurr(cpu, current);
        long vdiff = m.readLong(current + f.task.seVruntime) - m.readLong(p + f.task.seVruntime);
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
        if (nrRunning(cpu) <= 1) {
            return;
        }
        long ideal = slice(cpu, p);
        long ran = m.readLong(p + f.task.seSumExec) - m.readLong(p + f.task.sePrevSumExec);
        if (ran > ideal) {
            rq.reschedCurr(cpu, cpu);
            return;
        }
        if (ran < minGranularity) {
            return;
        }
        long left = pickFirstEntity(cpu);
        if (left != 0 && m.readLong(p + f.task.seVruntime) - m.readLong(left + f.task.seVruntime) > ideal) {
            rq.reschedCurr(cpu, cpu);
        }
    }

    @Override
    public void queuedTasks(int cpu, java.util.List<Long> out) {
        for (long node = rb.firstCached(rq.cpuRq(cpu) + cfsTimeline); node != 0; node = rb.next(node)) {
            out.add(taskOf(node));
        }
    }
}
