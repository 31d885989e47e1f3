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
    /** {@code sched_nr_latency}: the nr_running from which the period stretches and last buddies are set. */
    static final int SCHED_NR_LATENCY = 8;
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
    /** {@code cfs_rq.next}: the next buddy, a woken entity that preempted (or NULL). */
    private final long cfsNext;
    /** {@code cfs_rq.last}: the last buddy, the entity a wakeup preempted (or NULL). */
    private final long cfsLast;
    /** {@code cfs_rq.skip}: the skip buddy, an entity that yielded (or NULL). */
    private final long cfsSkip;
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
        this.cfsNext = cfs + profile.offsetOf("cfs_rq", "next");
        this.cfsLast = cfs + profile.offsetOf("cfs_rq", "last");
        this.cfsSkip = cfs + profile.offsetOf("cfs_rq", "skip");
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
     * {@code task_fork_fair(p)}: {@code update_rq_clock} and {@code update_curr} of the forking CPU's
     * {@code cfs_rq->curr} first, so the child starts from the parent's up-to-date vruntime; then
     * {@code place_entity(cfs_rq, se, 1)}: no earlier than min_vruntime plus one vslice (START_DEBIT);
     * stored relative to min_vruntime until {@code wake_up_new_task} enqueues it.
     */
    @Override
    public void taskFork(int cpu, long p) {
        rq.updateRqClock(cpu);
        long curr = currTask(cpu);
        long vruntime = m.readLong(p + f.task.seVruntime);
        if (curr != 0) {
            updateCurr(cpu);
            vruntime = m.readLong(curr + f.task.seVruntime);
        }
        long placed = minVruntime(cpu) + calcDeltaFair(slice(cpu, p), p);
        if (placed - vruntime > 0) {
            vruntime = placed;
        }
        m.writeLong(p + f.task.seVruntime, vruntime - minVruntime(cpu));
    }

    /** The task of {@code cfs_rq->curr}, or 0. */
    private long currTask(int cpu) {
        long se = m.readPointer(rq.cpuRq(cpu) + cfsCurr);
        return se == 0 ? 0 : se - taskSe;
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
        long period = nr > SCHED_NR_LATENCY ? nr * minGranularity : latency;
        return calcDelta(period, weight(p), invWeight(load));
    }

    @Override
    public void updateCurr(int cpu, long p) {
        updateCurr(cpu);
    }

    /**
     * {@code update_curr(cfs_rq)}: {@code cfs_rq->curr}'s runtime since {@code exec_start} is added to
     * {@code sum_exec_runtime} and, weighted ({@code calc_delta_fair}), to its vruntime; min_vruntime
     * follows. Nothing without a current entity or without time passed.
     */
    void updateCurr(int cpu) {
        long p = currTask(cpu);
        if (p == 0) {
            return;
        }
        long delta = rq.accountExec(p);
        if (delta > 0) {
            m.writeLong(p + f.task.seVruntime, m.readLong(p + f.task.seVruntime) + calcDeltaFair(delta, p));
            updateMinVruntime(cpu);
        }
    }

    /**
     * {@code update_min_vruntime}: monotonic, the smaller of {@code cfs_rq->curr}'s (while it is
     * {@code on_rq}) and the leftmost queued vruntime.
     */
    void updateMinVruntime(int cpu) {
        long p = currTask(cpu);
        boolean haveCurr = p != 0 && m.readInt(p + f.task.seOnRq) != 0;
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
    private void placeWaking(int cpu, long p) {
        long floor = minVruntime(cpu) - latency / 2;
        if (m.readLong(p + f.task.seVruntime) - floor < 0) {
            m.writeLong(p + f.task.seVruntime, floor);
        }
    }

    /**
     * {@code enqueue_entity(cfs_rq, se, flags)}: a new, moved or migrated task's relative vruntime made
     * absolute against this CPU's min_vruntime (before {@code update_curr} for {@code cfs_rq->curr},
     * after it otherwise, so it is placed now and not in the past), {@code account_entity_enqueue}
     * (load, nr_running, {@code rq->cfs_tasks}), {@code place_entity} for a wakeup, and the timeline
     * unless it is {@code cfs_rq->curr}.
     */
    @Override
    public void enqueueTask(int cpu, long p, int flags) {
        long base = rq.cpuRq(cpu);
        boolean renorm = (flags & ENQUEUE_WAKEUP) == 0 || (flags & ENQUEUE_MIGRATED) != 0;
        boolean curr = m.readPointer(base + cfsCurr) == p + taskSe;
        if (renorm && curr) {
            m.writeLong(p + f.task.seVruntime, m.readLong(p + f.task.seVruntime) + minVruntime(cpu));
        }
        updateCurr(cpu);
        if (renorm && !curr) {
            m.writeLong(p + f.task.seVruntime, m.readLong(p + f.task.seVruntime) + minVruntime(cpu));
        }
        if (seCfsRq >= 0) {
            // set_task_rq: the entity's cfs_rq is the CPU's root cfs_rq
            m.writePointer(p + seCfsRq, base + rq.cfs);
        }
        m.writePointer(base + cfsLoadWeight, m.readPointer(base + cfsLoadWeight) + m.readPointer(p + f.task.seLoadWeight));
        m.writeInt(base + cfsLoadInvWeight, 0);
        m.writeInt(base + cfsNrRunning, m.readInt(base + cfsNrRunning) + 1);
        mc.lists.add(p + f.task.seGroupNode, base + rq.cfsTasks);
        if ((flags & ENQUEUE_WAKEUP) != 0) {
            placeWaking(cpu, p);
        }
        if (!curr) {
            enqueueEntity(cpu, p);
        }
        m.writeInt(p + f.task.seOnRq, 1);
    }

    /**
     * {@code dequeue_entity(cfs_rq, se, flags)}: {@code update_curr}, {@code clear_buddies}, out of the
     * timeline unless it is {@code cfs_rq->curr} (which the model then clears, as the following
     * {@code put_prev_entity} would), {@code account_entity_dequeue}; a task that does not sleep keeps
     * its vruntime relative to min_vruntime, and min_vruntime moves on unless the dequeue is only saved.
     */
    @Override
    public void dequeueTask(int cpu, long p, int flags) {
        long base = rq.cpuRq(cpu);
        updateCurr(cpu);
        clearBuddies(cpu, p);
        boolean curr = m.readPointer(base + cfsCurr) == p + taskSe;
        if (!curr) {
            dequeueEntity(cpu, p);
        }
        m.writeInt(p + f.task.seOnRq, 0);
        m.writePointer(base + cfsLoadWeight, m.readPointer(base + cfsLoadWeight) - m.readPointer(p + f.task.seLoadWeight));
        m.writeInt(base + cfsLoadInvWeight, 0);
        m.writeInt(base + cfsNrRunning, m.readInt(base + cfsNrRunning) - 1);
        mc.lists.delInit(p + f.task.seGroupNode);
        if ((flags & DEQUEUE_SLEEP) == 0) {
            m.writeLong(p + f.task.seVruntime, m.readLong(p + f.task.seVruntime) - minVruntime(cpu));
        }
        if ((flags & (DEQUEUE_SAVE | DEQUEUE_MOVE)) != DEQUEUE_SAVE) {
            updateMinVruntime(cpu);
        }
        if (curr) {
            m.writePointer(base + cfsCurr, 0);
        }
    }

    // ---- buddies ----

    /** {@code cfs_rq->next}, {@code ->last} or {@code ->skip} as a task, or 0. */
    private long buddy(int cpu, long field) {
        long se = m.readPointer(rq.cpuRq(cpu) + field);
        return se == 0 ? 0 : se - taskSe;
    }

    /** The task {@code cfs_rq->next} names, or 0. */
    long nextBuddy(int cpu) {
        return buddy(cpu, cfsNext);
    }

    /** The task {@code cfs_rq->last} names, or 0. */
    long lastBuddy(int cpu) {
        return buddy(cpu, cfsLast);
    }

    /** The task {@code cfs_rq->skip} names, or 0. */
    long skipBuddy(int cpu) {
        return buddy(cpu, cfsSkip);
    }

    /** {@code set_next_buddy} / {@code set_last_buddy}: not for a SCHED_IDLE task; the entity must be on_rq. */
    private void setBuddy(int cpu, long field, long p) {
        if (m.readInt(p + o.taskPolicy) == SCHED_IDLE || m.readInt(p + f.task.seOnRq) == 0) {
            return;
        }
        m.writePointer(rq.cpuRq(cpu) + field, p + taskSe);
    }

    /** {@code clear_buddies(cfs_rq, se)}: each of last, next and skip that names {@code p} is cleared ({@code __clear_buddies_*}). */
    private void clearBuddies(int cpu, long p) {
        long base = rq.cpuRq(cpu);
        long se = p + taskSe;
        if (m.readPointer(base + cfsLast) == se) {
            m.writePointer(base + cfsLast, 0);
        }
        if (m.readPointer(base + cfsNext) == se) {
            m.writePointer(base + cfsNext, 0);
        }
        if (m.readPointer(base + cfsSkip) == se) {
            m.writePointer(base + cfsSkip, 0);
        }
    }

    /**
     * {@code wakeup_preempt_entity(curr, se)}: -1 if {@code se} is not behind {@code curr} in vruntime, 1
     * if it is behind by more than {@code wakeup_gran(se)}, else 0.
     */
    private int wakeupPreemptEntity(long curr, long se) {
        long vdiff = m.readLong(curr + f.task.seVruntime) - m.readLong(se + f.task.seVruntime);
        if (vdiff <= 0) {
            return -1;
        }
        return vdiff > calcDeltaFair(wakeupGranularity, se) ? 1 : 0;
    }

    /** {@code sysctl_sched_wakeup_granularity} as scaled for this machine's CPUs. */
    long wakeupGranularity() {
        return wakeupGranularity;
    }

    /**
     * {@code yield_task_fair}: nothing if the task is alone on the rq; else {@code clear_buddies},
     * {@code update_curr} (not for SCHED_BATCH) and {@code set_skip_buddy}.
     */
    @Override
    public void yieldTask(int cpu) {
        long curr = currTask(cpu);
        if (curr == 0 || rq.nrRunning(cpu) == 1) {
            return;
        }
        clearBuddies(cpu, curr);
        if (m.readInt(curr + o.taskPolicy) != SCHED_BATCH) {
            rq.updateRqClock(cpu);
            updateCurr(cpu);
        }
        m.writePointer(rq.cpuRq(cpu) + cfsSkip, curr + taskSe);
    }

    /**
     * {@code pick_next_task_fair} -> {@code pick_next_entity(cfs_rq, NULL)} once the previous task is
     * put back: the leftmost entity, but not the skip buddy if the one after it is not too far
     * ahead ({@code wakeup_preempt_entity < 1}), the last buddy and then the next buddy on the same
     * condition; {@code clear_buddies} of the one picked.
     */
    @Override
    public long pickNextTask(int cpu) {
        long left = pickFirstEntity(cpu);
        if (left == 0) {
            return 0;
        }
        long se = left;
        if (skipBuddy(cpu) == se) {
            long second = rb.next(se + runNode);
            if (second != 0 && wakeupPreemptEntity(taskOf(second), left) < 1) {
                se = taskOf(second);
            }
        }
        long last = lastBuddy(cpu);
        if (last != 0 && wakeupPreemptEntity(last, left) < 1) {
            se = last;
        }
        long next = nextBuddy(cpu);
        if (next != 0 && wakeupPreemptEntity(next, left) < 1) {
            se = next;
        }
        clearBuddies(cpu, se);
        return se;
    }

    /** {@code set_next_entity}: out of the timeline, {@code cfs_rq->curr}. */
    @Override
    public void setNextTask(int cpu, long next) {
        dequeueEntity(cpu, next);
        m.writePointer(rq.cpuRq(cpu) + cfsCurr, next + taskSe);
    }

    /** {@code put_prev_entity}: {@code update_curr}, back into the timeline, no {@code cfs_rq->curr}. */
    @Override
    public void putPrevTask(int cpu, long prev) {
        if (m.readInt(prev + f.task.seOnRq) != 0) {
            updateCurr(cpu);
            enqueueEntity(cpu, prev);
        }
        m.writePointer(rq.cpuRq(cpu) + cfsCurr, 0);
    }

    /**
     * {@code check_preempt_wakeup}: nothing while the running task already has TIF_NEED_RESCHED; a
     * running SCHED_IDLE task is preempted by any other policy; a woken SCHED_BATCH or SCHED_IDLE task
     * never preempts (the tick does); otherwise, after {@code update_curr}, the woken task preempts
     * when {@code wakeup_preempt_entity} says it is more than the wakeup granularity behind, and
     * becomes the next buddy. A preemption makes the preempted task the last buddy when
     * {@code nr_running >= sched_nr_latency} (LAST_BUDDY is on; NEXT_BUDDY, off by default, is not
     * modelled).
     */
    @Override
    public void checkPreemptCurr(int cpu, long p, int thisCpu) {
        long current = rq.curr(cpu);
        if (current == p) {
            return;
        }
        boolean scale = nrRunning(cpu) >= SCHED_NR_LATENCY;
        long ti = mc.platform.taskThreadInfo(m, current);
        if ((m.readPointer(ti + o.tiFlags) & (1L << Machine.TIF_NEED_RESCHED)) != 0) {
            return;
        }
        int policy = m.readInt(p + o.taskPolicy);
        if (m.readInt(current + o.taskPolicy) == SCHED_IDLE && policy != SCHED_IDLE) {
            preempt(cpu, current, thisCpu, scale);
            return;
        }
        if (policy != SCHED_NORMAL) {
            return;
        }
        updateCurr(cpu);
        if (wakeupPreemptEntity(current, p) == 1) {
            setBuddy(cpu, cfsNext, p);
            preempt(cpu, current, thisCpu, scale);
        }
    }

    /** The {@code preempt:} label of check_preempt_wakeup: {@code resched_curr}, then the last buddy. */
    private void preempt(int cpu, long current, int thisCpu, boolean scale) {
        rq.reschedCurr(cpu, thisCpu);
        if (m.readInt(current + f.task.seOnRq) == 0 || current == rq.idle(cpu)) {
            return;
        }
        if (scale) {
            setBuddy(cpu, cfsLast, current);
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
            clearBuddies(cpu, p);
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
