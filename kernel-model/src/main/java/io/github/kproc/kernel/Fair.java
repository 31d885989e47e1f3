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
    /** PELT on the {@code sched_avg}s. */
    final Pelt pelt;
    /** {@code task_struct.se.avg}. */
    private final long seAvg;
    /** {@code task_struct.se.runnable_weight}. */
    private final long seRunnableWeight;
    /** {@code cfs_rq.avg}. */
    private final long cfsAvg;
    /** {@code cfs_rq.runnable_weight}. */
    private final long cfsRunnableWeight;
    /** {@code cfs_rq.load_last_update_time_copy} (32-bit builds), or -1. */
    private final long cfsLoadLastUpdateTimeCopy;
    /** {@code cfs_rq.removed.nr}, {@code .load_avg}, {@code .util_avg}, {@code .runnable_sum}. */
    private final long cfsRemovedNr;
    private final long cfsRemovedLoadAvg;
    private final long cfsRemovedUtilAvg;
    private final long cfsRemovedRunnableSum;
    /** {@code cfs_rq.propagate} and {@code prop_runnable_sum} (CONFIG_FAIR_GROUP_SCHED), or -1. */
    private final long cfsPropagate;
    private final long cfsPropRunnableSum;
    final long latency;
    final long minGranularity;
    private final long wakeupGranularity;

    /** The scheduling domains fork balancing and wakeup placement walk. */
    private final Topology topology;
    /** {@code task_struct.wakee_flips}, {@code wakee_flip_decay_ts}, {@code last_wakee}. */
    private final long taskWakeeFlips;
    private final long taskWakeeFlipDecayTs;
    private final long taskLastWakee;

    Fair(Machine mc, Rq rq, Topology topology) {
        this.topology = topology;
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
        this.pelt = new Pelt(m, profile);
        this.taskWakeeFlips = profile.offsetOf("task_struct", "wakee_flips");
        this.taskWakeeFlipDecayTs = profile.offsetOf("task_struct", "wakee_flip_decay_ts");
        this.taskLastWakee = profile.offsetOf("task_struct", "last_wakee");
        this.seAvg = profile.offsetOf("task_struct", "se.avg");
        this.seRunnableWeight = profile.offsetOf("task_struct", "se.runnable_weight");
        this.cfsAvg = cfs + profile.offsetOf("cfs_rq", "avg");
        this.cfsRunnableWeight = cfs + profile.offsetOf("cfs_rq", "runnable_weight");
        this.cfsLoadLastUpdateTimeCopy = profile.has("cfs_rq", "load_last_update_time_copy")
                ? cfs + profile.offsetOf("cfs_rq", "load_last_update_time_copy") : -1;
        this.cfsRemovedNr = cfs + profile.offsetOf("cfs_rq", "removed.nr");
        this.cfsRemovedLoadAvg = cfs + profile.offsetOf("cfs_rq", "removed.load_avg");
        this.cfsRemovedUtilAvg = cfs + profile.offsetOf("cfs_rq", "removed.util_avg");
        this.cfsRemovedRunnableSum = cfs + profile.offsetOf("cfs_rq", "removed.runnable_sum");
        this.cfsPropagate = profile.has("cfs_rq", "propagate") ? cfs + profile.offsetOf("cfs_rq", "propagate") : -1;
        this.cfsPropRunnableSum = profile.has("cfs_rq", "prop_runnable_sum")
                ? cfs + profile.offsetOf("cfs_rq", "prop_runnable_sum") : -1;
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
        this.envCpus = new boolean[mc.cpus];
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
        updateLoadAvg(cpu, p, UPDATE_TG | DO_ATTACH);
        enqueueRunnableLoadAvg(cpu, p);
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
        updateLoadAvg(cpu, p, UPDATE_TG);
        dequeueRunnableLoadAvg(cpu, p);
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
     * condition; {@code clear_buddies} of the one picked, which moves to the head of
     * {@code rq->cfs_tasks}. With no fair task queued, {@code idle_balance} first tries to pull one.
     */
    @Override
    public long pickNextTask(int cpu) {
        long left = pickFirstEntity(cpu);
        while (left == 0) {
            // the idle: label: newly-idle balancing, and the pick again if it pulled a task
            if (idleBalance(cpu) <= 0) {
                return 0;
            }
            left = pickFirstEntity(cpu);
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
        movePicked(cpu, se);
        return se;
    }

    /** {@code list_move(&p->se.group_node, &rq->cfs_tasks)} of pick_next_task_fair: the picked task to the head (detach_tasks takes from the tail). */
    void movePicked(int cpu, long p) {
        mc.lists.del(p + f.task.seGroupNode);
        mc.lists.add(p + f.task.seGroupNode, rq.cpuRq(cpu) + rq.cfsTasks);
    }

    /** {@code set_next_entity}: out of the timeline, {@code cfs_rq->curr}. */
    @Override
    public void setNextTask(int cpu, long next) {
        dequeueEntity(cpu, next);
        updateLoadAvg(cpu, next, UPDATE_TG);
        m.writePointer(rq.cpuRq(cpu) + cfsCurr, next + taskSe);
    }

    /** {@code put_prev_entity}: {@code update_curr}, back into the timeline, no {@code cfs_rq->curr}. */
    @Override
    public void putPrevTask(int cpu, long prev) {
        if (m.readInt(prev + f.task.seOnRq) != 0) {
            updateCurr(cpu);
            enqueueEntity(cpu, prev);
            updateLoadAvg(cpu, prev, 0);
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
     * {@code task_tick_fair} -> {@code entity_tick}: the load averages brought up to date, then with
     * more than one entity {@code check_preempt_tick}: resched when the task ran past its ideal slice,
     * or is more than a slice ahead of the leftmost task.
     */
    @Override
    public void taskTick(int cpu, long p) {
        updateCurr(cpu);
        updateLoadAvg(cpu, p, UPDATE_TG);
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

    // ---- PELT: the fair.c side (update_load_avg and the attach/detach of entities) ----

    /** {@code update_load_avg} flags. */
    static final int UPDATE_TG = 0x1;
    static final int SKIP_AGE_LOAD = 0x2;
    static final int DO_ATTACH = 0x4;

    /** {@code &cpu_rq(cpu)->cfs.avg}. */
    long cfsAvg(int cpu) {
        return rq.cpuRq(cpu) + cfsAvg;
    }

    /** {@code se_runnable(se)}: scale_load_down(se->runnable_weight). */
    private long seRunnable(long p) {
        return m.readPointer(p + seRunnableWeight) >>> loadShift;
    }

    /** {@code __update_load_avg_se}: a task's sums, runnable while on_rq, running while cfs_rq->curr. */
    private void updateLoadAvgSe(int cpu, long p) {
        m.writePointer(p + seRunnableWeight, m.readPointer(p + f.task.seLoadWeight));
        long sa = p + seAvg;
        long onRq = m.readInt(p + f.task.seOnRq) != 0 ? 1 : 0;
        boolean running = m.readPointer(rq.cpuRq(cpu) + cfsCurr) == p + taskSe;
        if (pelt.updateLoadSum(mc.clock, sa, onRq, onRq, running)) {
            pelt.updateLoadAvg(sa, weight(p), seRunnable(p));
        }
    }

    /**
     * {@code update_cfs_rq_load_avg(now, cfs_rq)}: loads removed by migrations and deaths taken off,
     * then {@code __update_load_avg_cfs_rq} with the queue's weight, runnable weight and whether it
     * has a current entity. Returns whether anything decayed.
     */
    private boolean updateCfsRqLoadAvg(int cpu) {
        long base = rq.cpuRq(cpu);
        long sa = base + cfsAvg;
        boolean decayed = false;
        if (m.readInt(base + cfsRemovedNr) != 0) {
            decayed = takeRemoved(base, sa);
        }
        long load = m.readPointer(base + cfsLoadWeight) >>> loadShift;
        long runnable = m.readPointer(base + cfsRunnableWeight) >>> loadShift;
        if (pelt.updateLoadSum(mc.clock, sa, load, runnable, m.readPointer(base + cfsCurr) != 0)) {
            pelt.updateLoadAvg(sa, 1, 1);
            decayed = true;
        }
        if (cfsLoadLastUpdateTimeCopy >= 0) {
            m.writeLong(base + cfsLoadLastUpdateTimeCopy, pelt.lastUpdateTime(sa));
        }
        return decayed;
    }

    private boolean takeRemoved(long base, long sa) {
        long load = m.readPointer(base + cfsRemovedLoadAvg);
        long util = m.readPointer(base + cfsRemovedUtilAvg);
        long runnableSum = m.readPointer(base + cfsRemovedRunnableSum);
        m.writePointer(base + cfsRemovedLoadAvg, 0);
        m.writePointer(base + cfsRemovedUtilAvg, 0);
        m.writePointer(base + cfsRemovedRunnableSum, 0);
        m.writeInt(base + cfsRemovedNr, 0);
        // the sums lose the averages times the queue's divider (LOAD_AVG_MAX - 1024 + period_contrib)
        long divider = pelt.divider(sa);
        pelt.subPositiveUlong(sa + pelt.loadAvg, load);
        pelt.subPositiveU64(sa + pelt.loadSum, load * divider);
        pelt.subPositiveUlong(sa + pelt.utilAvg, util);
        pelt.subPositiveU32(sa + pelt.utilSum, util * divider);
        addTgCfsPropagate(base, -runnableSum);
        return true;
    }

    /** {@code add_tg_cfs_propagate}: recorded on the root cfs_rq where the build has the fields. */
    private void addTgCfsPropagate(long base, long runnableSum) {
        if (cfsPropagate >= 0) {
            m.writePointer(base + cfsPropagate, 1);
            m.writePointer(base + cfsPropRunnableSum, m.readPointer(base + cfsPropRunnableSum) + runnableSum);
        }
    }

    /**
     * {@code update_load_avg(cfs_rq, se, flags)}: the entity (unless it has no last update, or
     * SKIP_AGE_LOAD), then its cfs_rq; an entity without a last update is attached with DO_ATTACH.
     */
    void updateLoadAvg(int cpu, long p, int flags) {
        long sa = p + seAvg;
        if (pelt.lastUpdateTime(sa) != 0 && (flags & SKIP_AGE_LOAD) == 0) {
            updateLoadAvgSe(cpu, p);
        }
        updateCfsRqLoadAvg(cpu);
        if (pelt.lastUpdateTime(sa) == 0 && (flags & DO_ATTACH) != 0) {
            attachEntityLoadAvg(cpu, p);
        }
    }

    /** {@code enqueue_load_avg}. */
    private void enqueueLoadAvg(int cpu, long p) {
        long sa = cfsAvg(cpu);
        long se = p + seAvg;
        m.writePointer(sa + pelt.loadAvg, pelt.loadAvg(sa) + pelt.loadAvg(se));
        m.writeLong(sa + pelt.loadSum, pelt.loadSum(sa) + weight(p) * pelt.loadSum(se));
    }

    /** {@code dequeue_load_avg}. */
    private void dequeueLoadAvg(int cpu, long p) {
        long sa = cfsAvg(cpu);
        long se = p + seAvg;
        pelt.subPositiveUlong(sa + pelt.loadAvg, pelt.loadAvg(se));
        pelt.subPositiveU64(sa + pelt.loadSum, weight(p) * pelt.loadSum(se));
    }

    /** {@code enqueue_runnable_load_avg}. */
    private void enqueueRunnableLoadAvg(int cpu, long p) {
        long base = rq.cpuRq(cpu);
        long sa = base + cfsAvg;
        long se = p + seAvg;
        m.writePointer(base + cfsRunnableWeight, m.readPointer(base + cfsRunnableWeight) + m.readPointer(p + seRunnableWeight));
        m.writePointer(sa + pelt.runnableLoadAvg, pelt.runnableLoadAvg(sa) + pelt.runnableLoadAvg(se));
        m.writeLong(sa + pelt.runnableLoadSum, pelt.runnableLoadSum(sa) + seRunnable(p) * pelt.runnableLoadSum(se));
    }

    /** {@code dequeue_runnable_load_avg}. */
    private void dequeueRunnableLoadAvg(int cpu, long p) {
        long base = rq.cpuRq(cpu);
        long sa = base + cfsAvg;
        long se = p + seAvg;
        m.writePointer(base + cfsRunnableWeight, m.readPointer(base + cfsRunnableWeight) - m.readPointer(p + seRunnableWeight));
        pelt.subPositiveUlong(sa + pelt.runnableLoadAvg, pelt.runnableLoadAvg(se));
        pelt.subPositiveU64(sa + pelt.runnableLoadSum, seRunnable(p) * pelt.runnableLoadSum(se));
    }

    /**
     * {@code attach_entity_load_avg}: the entity takes the cfs_rq's decay window (last_update_time,
     * period_contrib), its sums are rebuilt from its averages, and its load and util join the queue's.
     */
    private void attachEntityLoadAvg(int cpu, long p) {
        long sa = cfsAvg(cpu);
        long se = p + seAvg;
        long divider = pelt.divider(sa);
        m.writeLong(se + pelt.lastUpdateTime, pelt.lastUpdateTime(sa));
        m.writeInt(se + pelt.periodContrib, m.readInt(sa + pelt.periodContrib));
        m.writeInt(se + pelt.utilSum, (int) (pelt.utilAvg(se) * divider));
        long loadSum = divider;
        if (weight(p) != 0) {
            loadSum = Long.divideUnsigned(pelt.loadAvg(se) * loadSum, weight(p));
        }
        m.writeLong(se + pelt.loadSum, loadSum);
        m.writeLong(se + pelt.runnableLoadSum, loadSum);
        enqueueLoadAvg(cpu, p);
        m.writePointer(sa + pelt.utilAvg, pelt.utilAvg(sa) + pelt.utilAvg(se));
        m.writeInt(sa + pelt.utilSum, (int) (pelt.utilSum(sa) + pelt.utilSum(se)));
        addTgCfsPropagate(rq.cpuRq(cpu), loadSum);
    }

    /** {@code detach_entity_load_avg}: the entity's load and util leave the queue's. */
    private void detachEntityLoadAvg(int cpu, long p) {
        long sa = cfsAvg(cpu);
        long se = p + seAvg;
        dequeueLoadAvg(cpu, p);
        pelt.subPositiveUlong(sa + pelt.utilAvg, pelt.utilAvg(se));
        pelt.subPositiveU32(sa + pelt.utilSum, pelt.utilSum(se));
        addTgCfsPropagate(rq.cpuRq(cpu), -pelt.loadSum(se));
    }

    /**
     * {@code init_entity_runnable_average(se)} (sched_fork): a zeroed {@code se.avg} with a task's
     * load_avg and runnable_load_avg at its full weight, so a new task counts as heavy at first.
     */
    void initEntityRunnableAverage(long p) {
        long se = p + seAvg;
        m.fill(se, pelt.size, (byte) 0);
        m.writePointer(se + pelt.loadAvg, weight(p));
        m.writePointer(se + pelt.runnableLoadAvg, weight(p));
        m.writePointer(p + seRunnableWeight, m.readPointer(p + f.task.seLoadWeight));
    }

    /**
     * {@code post_init_entity_util_avg(se)} (wake_up_new_task, on the chosen CPU): util_avg
     * extrapolated from the queue's (util * weight / (load_avg + 1)), at most half the capacity the
     * queue leaves; a fair task is then attached ({@code attach_entity_cfs_rq}), another class's only
     * stamped with the time.
     */
    void postInitEntityUtilAvg(int cpu, long p) {
        long sa = cfsAvg(cpu);
        long se = p + seAvg;
        long cap = (Pelt.SCHED_CAPACITY_SCALE - pelt.utilAvg(sa)) / 2;
        if (cap > 0) {
            long util;
            if (pelt.utilAvg(sa) != 0) {
                util = pelt.utilAvg(sa) * m.readPointer(p + f.task.seLoadWeight) / (pelt.loadAvg(sa) + 1);
                util = Math.min(util, cap);
            } else {
                util = cap;
            }
            m.writePointer(se + pelt.utilAvg, util);
        }
        if (m.readPointer(p + f.task.schedClass) != address) {
            m.writeLong(se + pelt.lastUpdateTime, mc.clock);
            return;
        }
        updateLoadAvg(cpu, p, 0);
        attachEntityLoadAvg(cpu, p);
    }

    /**
     * {@code remove_entity_load_avg(se)}: the entity's sums synced to its queue's last update (as a
     * blocked entity), and its load, util and runnable sum left in {@code cfs_rq->removed} for the
     * queue's next update to take off.
     */
    private void removeEntityLoadAvg(int cpu, long p) {
        long base = rq.cpuRq(cpu);
        long se = p + seAvg;
        m.writePointer(p + seRunnableWeight, m.readPointer(p + f.task.seLoadWeight));
        if (pelt.updateLoadSum(pelt.lastUpdateTime(base + cfsAvg), se, 0, 0, false)) {
            pelt.updateLoadAvg(se, weight(p), seRunnable(p));
        }
        m.writeInt(base + cfsRemovedNr, m.readInt(base + cfsRemovedNr) + 1);
        m.writePointer(base + cfsRemovedUtilAvg, m.readPointer(base + cfsRemovedUtilAvg) + pelt.utilAvg(se));
        m.writePointer(base + cfsRemovedLoadAvg, m.readPointer(base + cfsRemovedLoadAvg) + pelt.loadAvg(se));
        m.writePointer(base + cfsRemovedRunnableSum, m.readPointer(base + cfsRemovedRunnableSum) + pelt.loadSum(se));
    }

    /**
     * {@code migrate_task_rq_fair(p, new_cpu)} of a task leaving {@code from}: a waking task's vruntime
     * made relative to that CPU's min_vruntime; a queued task ({@code TASK_ON_RQ_MIGRATING}, already
     * dequeued) detached from the queue's load ({@code detach_entity_cfs_rq}), any other left in
     * {@code removed}; then no last update (the new CPU attaches it) and no {@code exec_start}.
     */
    void migrateTaskRq(long p, int from, boolean queued, boolean waking) {
        if (waking) {
            m.writeLong(p + f.task.seVruntime, m.readLong(p + f.task.seVruntime) - minVruntime(from));
        }
        if (queued) {
            updateLoadAvg(from, p, 0);
            detachEntityLoadAvg(from, p);
        } else {
            removeEntityLoadAvg(from, p);
        }
        m.writeLong(p + seAvg + pelt.lastUpdateTime, 0);
        m.writeLong(p + f.task.seExecStart, 0);
    }

    /**
     * {@code vruntime_normalized(p)}: a queued task's vruntime is handled by its dequeue and enqueue, and
     * a task that never ran has the relative vruntime {@code task_fork_fair} gave it.
     */
    private boolean vruntimeNormalized(long p) {
        return m.readInt(p + mc.o.taskOnRq) != 0 || m.readLong(p + f.task.seSumExec) == 0;
    }

    /**
     * {@code switched_from_fair} -> {@code detach_task_cfs_rq(p)}, when a policy change takes a fair
     * task to another class (after its dequeue): a sleeping task's vruntime placed as a wakeup would
     * ({@code place_entity(cfs_rq, se, 0)}) and made relative to min_vruntime, then
     * {@code detach_entity_cfs_rq}: its sums brought up to date ({@code update_load_avg(cfs_rq, se, 0)})
     * and its load and util taken off the queue ({@code detach_entity_load_avg}).
     */
    void switchedFromFair(int cpu, long p) {
        if (!vruntimeNormalized(p)) {
            placeWaking(cpu, p);
            m.writeLong(p + f.task.seVruntime, m.readLong(p + f.task.seVruntime) - minVruntime(cpu));
        }
        // Kernel.migrate of a sleeper leaves it detached (last_update_time 0) until its wakeup's
        // DO_ATTACH, a state no kernel path leaves a task in: it has nothing on this queue to detach
        if (pelt.lastUpdateTime(p + seAvg) != 0) {
            updateLoadAvg(cpu, p, 0);
            detachEntityLoadAvg(cpu, p);
        }
    }

    /**
     * {@code switched_to_fair} -> {@code attach_task_cfs_rq(p)}, when a policy change brings a task of
     * another class to CFS (after its enqueue): {@code attach_entity_cfs_rq}, its sums aged to now
     * ({@code update_load_avg(cfs_rq, se, 0)}, ATTACH_AGE_LOAD) and its load and util added to the
     * queue's ({@code attach_entity_load_avg}); a sleeping task's vruntime made absolute again. The
     * enqueue did not attach it: its {@code last_update_time} is not 0 (set at fork or left by the
     * detach).
     */
    void switchedToFair(int cpu, long p) {
        updateLoadAvg(cpu, p, 0);
        attachEntityLoadAvg(cpu, p);
        if (!vruntimeNormalized(p)) {
            m.writeLong(p + f.task.seVruntime, m.readLong(p + f.task.seVruntime) + minVruntime(cpu));
        }
    }

    /** {@code task_dead_fair}: a dead task's blocked load is removed from its last queue. */
    void taskDead(int cpu, long p) {
        removeEntityLoadAvg(cpu, p);
    }

    /**
     * {@code reweight_task(p, prio)} -> {@code reweight_entity}: a fair task's new weight, its averages
     * rescaled from its sums, and its part of the queue's load_avg (and, queued, of its runnable load)
     * replaced.
     */
    void reweightTask(int cpu, long p, long scaledWeight, long invWeight) {
        long base = rq.cpuRq(cpu);
        boolean onRq = m.readInt(p + f.task.seOnRq) != 0;
        if (onRq) {
            if (m.readPointer(base + cfsCurr) == p + taskSe) {
                updateCurr(cpu);
            }
            m.writePointer(base + cfsLoadWeight, m.readPointer(base + cfsLoadWeight) - m.readPointer(p + f.task.seLoadWeight));
            m.writeInt(base + cfsLoadInvWeight, 0);
            dequeueRunnableLoadAvg(cpu, p);
        }
        dequeueLoadAvg(cpu, p);
        m.writePointer(p + seRunnableWeight, scaledWeight);
        m.writePointer(p + f.task.seLoadWeight, scaledWeight);
        m.writeInt(p + f.task.seLoadInvWeight, 0);
        long se = p + seAvg;
        long divider = pelt.divider(se);
        m.writePointer(se + pelt.loadAvg, Long.divideUnsigned(weight(p) * pelt.loadSum(se), divider));
        m.writePointer(se + pelt.runnableLoadAvg, Long.divideUnsigned(seRunnable(p) * pelt.runnableLoadSum(se), divider));
        enqueueLoadAvg(cpu, p);
        if (onRq) {
            m.writePointer(base + cfsLoadWeight, m.readPointer(base + cfsLoadWeight) + scaledWeight);
            m.writeInt(base + cfsLoadInvWeight, 0);
            enqueueRunnableLoadAvg(cpu, p);
        }
        m.writeInt(p + f.task.seLoadInvWeight, (int) invWeight);
    }

    // ---- fork balancing: select_task_rq_fair(SD_BALANCE_FORK) over the sched domains ----

    /** {@code unsigned long} arithmetic of the build: 32 or 64 bits. */
    private long ulong(long value) {
        return loadShift == 0 ? value & 0xffffffffL : value;
    }

    /** {@code cpumask_test_cpu(cpu, &p->cpus_allowed)}. */
    boolean allowed(long p, int cpu) {
        int bits = 8 * mc.platform.pointerSize();
        long word = m.readPointer(p + f.task.cpusAllowed + (long) (cpu / bits) * mc.platform.pointerSize());
        return (word & (1L << (cpu % bits))) != 0;
    }

    /**
     * {@code select_task_rq_fair(p, prev_cpu, SD_BALANCE_FORK, 0)} on {@code thisCpu}: the highest
     * domain of this CPU with SD_BALANCE_FORK (below any without SD_LOAD_BALANCE), then
     * {@code find_idlest_cpu}; without a domain (one CPU) the task stays on {@code prevCpu}.
     */
    int selectTaskRqFork(long p, int prevCpu, int thisCpu) {
        return selectTaskRqSlow(p, prevCpu, thisCpu, Topology.SD_BALANCE_FORK);
    }

    /**
     * {@code select_task_rq_fair(p, task_cpu(p), SD_BALANCE_EXEC, 0)} from {@code sched_exec} on
     * {@code thisCpu}: as for a fork, the highest domain with SD_BALANCE_EXEC and
     * {@code find_idlest_cpu}, which first syncs the task's load to its queue's last update
     * ({@code sync_entity_load_avg}) and lets {@code find_idlest_group} weigh spare capacity.
     */
    int selectTaskRqExec(long p, int thisCpu) {
        return selectTaskRqSlow(p, taskCpuOf(p), thisCpu, Topology.SD_BALANCE_EXEC);
    }

    private int selectTaskRqSlow(long p, int prevCpu, int thisCpu, int sdFlag) {
        long sd = 0;
        for (long tmp = topology.sd(thisCpu); tmp != 0; tmp = topology.parent(tmp)) {
            int flags = topology.flags(tmp);
            if ((flags & Topology.SD_LOAD_BALANCE) == 0 || (flags & sdFlag) == 0) {
                break;
            }
            sd = tmp;
        }
        if (sd == 0) {
            return prevCpu;
        }
        return findIdlestCpu(sd, p, thisCpu, prevCpu, sdFlag);
    }

    /**
     * {@code sync_entity_load_avg(se)}: the task's sums decayed, as a blocked entity, to its queue's
     * last update ({@code __update_load_avg_blocked_se}).
     */
    private void syncEntityLoadAvg(int cpu, long p) {
        long se = p + seAvg;
        if (pelt.updateLoadSum(pelt.lastUpdateTime(cfsAvg(cpu)), se, 0, 0, false)) {
            pelt.updateLoadAvg(se, weight(p), seRunnable(p));
        }
    }

    /**
     * {@code capacity_spare_wake(cpu, p)}: the CPU's capacity less {@code cpu_util_wake} (its util
     * without the task's own where the task is queued; util_est is not modelled), at least 0.
     */
    private long capacitySpareWake(int cpu, long p) {
        long util;
        if (cpu != taskCpuOf(p) || pelt.lastUpdateTime(p + seAvg) == 0) {
            util = cpuUtil(cpu);
        } else {
            util = pelt.utilAvg(cfsAvg(cpu));
            util -= Math.min(util, pelt.utilAvg(p + seAvg));
            util = Math.min(util, Pelt.SCHED_CAPACITY_SCALE);
        }
        return Math.max(Pelt.SCHED_CAPACITY_SCALE - util, 0);
    }

    /**
     * {@code find_idlest_cpu(sd, p, cpu, prev_cpu, sd_flag)}: down the domains from {@code sd}, the
     * idlest group's idlest CPU becomes the candidate, and the search goes on in that CPU's domains
     * below the span just searched.
     */
    private int findIdlestCpu(long sd, long p, int cpu, int prevCpu, int sdFlag) {
        boolean intersects = false;
        for (int c = 0; c < mc.cpus && !intersects; c++) {
            intersects = topology.inDomainSpan(sd, c) && allowed(p, c);
        }
        if (!intersects) {
            return prevCpu;
        }
        if ((sdFlag & Topology.SD_BALANCE_FORK) == 0) {
            syncEntityLoadAvg(taskCpuOf(p), p);
        }
        int newCpu = cpu;
        while (sd != 0) {
            if ((topology.flags(sd) & sdFlag) == 0) {
                sd = topology.child(sd);
                continue;
            }
            long group = findIdlestGroup(sd, p, cpu, sdFlag);
            if (group == 0) {
                sd = topology.child(sd);
                continue;
            }
            newCpu = findIdlestGroupCpu(group, p, cpu);
            if (newCpu == cpu) {
                sd = topology.child(sd);
                continue;
            }
            cpu = newCpu;
            int weight = topology.spanWeight(sd);
            sd = 0;
            for (long tmp = topology.sd(cpu); tmp != 0; tmp = topology.parent(tmp)) {
                if (weight <= topology.spanWeight(tmp)) {
                    break;
                }
                if ((topology.flags(tmp) & sdFlag) != 0) {
                    sd = tmp;
                }
            }
        }
        return newCpu;
    }

    /**
     * {@code find_idlest_group(sd, p, this_cpu, sd_flag)} for SD_BALANCE_FORK or SD_BALANCE_EXEC: over the groups from this CPU's
     * round the list, each group's runnable load ({@code source_load}/{@code target_load} at
     * {@code forkexec_idx} 0: the CPUs' {@code cfs.avg.runnable_load_avg}) and PELT load
     * ({@code cfs.avg.load_avg}) per capacity; the idlest other group is the first whose runnable load
     * is lower by more than {@code imbalance} (NICE_0_LOAD * (imbalance_pct - 100) / 100), or within it
     * and with a load lower by more than {@code imbalance_scale}; it wins unless this group is as idle.
     * Fork balancing skips the spare-capacity rule; an exec first stays if this group has spare
     * capacity ({@code capacity_spare_wake}) for half the task's util and within imbalance_scale of the
     * most, else goes to the group with the most spare capacity if that has room for half its util.
     * Returns 0 to stay local.
     */
    private long findIdlestGroup(long sd, long p, int thisCpu, int sdFlag) {
        long idlest = 0;
        long mostSpareSg = 0;
        long mostSpare = 0;
        long thisSpare = 0;
        long max = ulong(-1L);
        long minRunnableLoad = max;
        long thisRunnableLoad = max;
        long minAvgLoad = max;
        long thisAvgLoad = max;
        int pct = topology.imbalancePct(sd);
        long imbalanceScale = 100 + (pct - 100) / 2;
        long imbalance = NICE_0_LOAD * (pct - 100) / 100;
        long first = topology.groups(sd);
        long group = first;
        do {
            boolean anyAllowed = false;
            boolean local = false;
            long runnableLoad = 0;
            long avgLoad = 0;
            long maxSpareCap = 0;
            for (int cpu = 0; cpu < mc.cpus; cpu++) {
                if (!topology.inGroup(group, cpu)) {
                    continue;
                }
                anyAllowed |= allowed(p, cpu);
                local |= cpu == thisCpu;
                runnableLoad += pelt.runnableLoadAvg(cfsAvg(cpu));
                avgLoad += pelt.loadAvg(cfsAvg(cpu));
                maxSpareCap = Math.max(maxSpareCap, capacitySpareWake(cpu, p));
            }
            if (anyAllowed) {
                long capacity = topology.groupCapacity(group);
                avgLoad = ulong(avgLoad * Pelt.SCHED_CAPACITY_SCALE) / capacity;
                runnableLoad = ulong(runnableLoad * Pelt.SCHED_CAPACITY_SCALE) / capacity;
                if (local) {
                    thisRunnableLoad = runnableLoad;
                    thisAvgLoad = avgLoad;
                    thisSpare = maxSpareCap;
                } else {
                    if (Long.compareUnsigned(minRunnableLoad, ulong(runnableLoad + imbalance)) > 0) {
                        minRunnableLoad = runnableLoad;
                        minAvgLoad = avgLoad;
                        idlest = group;
                    } else if (Long.compareUnsigned(runnableLoad, ulong(minRunnableLoad + imbalance)) < 0
                            && Long.compareUnsigned(ulong(100 * minAvgLoad), ulong(imbalanceScale * avgLoad)) > 0) {
                        minAvgLoad = avgLoad;
                        idlest = group;
                    }
                    if (mostSpare < maxSpareCap) {
                        mostSpare = maxSpareCap;
                        mostSpareSg = group;
                    }
                }
            }
            group = topology.next(group);
        } while (group != first);
        if ((sdFlag & Topology.SD_BALANCE_FORK) == 0) {
            // the spare-capacity rule (not for forks): stay with room for half the task's util, else the roomiest group
            long taskUtil = pelt.utilAvg(p + seAvg);
            if (thisSpare > taskUtil / 2 && imbalanceScale * thisSpare > 100 * mostSpare) {
                return 0;
            }
            if (mostSpare > taskUtil / 2) {
                return mostSpareSg;
            }
        }
        if (idlest == 0) {
            return 0;
        }
        if (Long.compareUnsigned(minRunnableLoad, ulong(thisRunnableLoad + imbalance)) > 0) {
            return 0;
        }
        if (Long.compareUnsigned(thisRunnableLoad, ulong(minRunnableLoad + imbalance)) < 0
                && Long.compareUnsigned(ulong(100 * thisAvgLoad), ulong(imbalanceScale * minAvgLoad)) < 0) {
            return 0;
        }
        return idlest;
    }

    /**
     * {@code find_idlest_group_cpu(group, p, this_cpu)}: a one-CPU group's CPU; else, over the group's
     * CPUs the task may use, an idle CPU with the latest {@code rq->idle_stamp} (the most recently
     * idled, the warmest cache; no cpuidle driver runs on the simulated boards, so
     * {@code idle_get_state} is NULL and no exit latency is compared; a CPU idle since boot has stamp 0
     * and is never picked this way), else while no idle CPU is found the least
     * {@code weighted_cpuload}, the first such CPU unless this CPU ties it; {@code this_cpu} if neither.
     */
    private int findIdlestGroupCpu(long group, long p, int thisCpu) {
        if (topology.groupWeight(group) == 1) {
            for (int cpu = 0; cpu < mc.cpus; cpu++) {
                if (topology.inGroup(group, cpu)) {
                    return cpu;
                }
            }
            throw new IllegalStateException("an empty sched_group");
        }
        long minLoad = -1L;
        long latestIdleTimestamp = 0;
        int leastLoadedCpu = thisCpu;
        int shallowestIdleCpu = -1;
        for (int i = 0; i < mc.cpus; i++) {
            if (!topology.inGroup(group, i) || !allowed(p, i)) {
                continue;
            }
            if (rq.idleCpu(i)) {
                long stamp = rq.idleStamp(i);
                if (Long.compareUnsigned(stamp, latestIdleTimestamp) > 0) {
                    latestIdleTimestamp = stamp;
                    shallowestIdleCpu = i;
                }
            } else if (shallowestIdleCpu == -1) {
                long load = weightedCpuload(i);
                if (Long.compareUnsigned(load, minLoad) < 0 || (load == minLoad && i == thisCpu)) {
                    minLoad = load;
                    leastLoadedCpu = i;
                }
            }
        }
        return shallowestIdleCpu != -1 ? shallowestIdleCpu : leastLoadedCpu;
    }

    // ---- wakeup placement: select_task_rq_fair(SD_BALANCE_WAKE) ----

    /**
     * {@code select_task_rq_fair(p, prev_cpu, SD_BALANCE_WAKE, 0)} run on {@code thisCpu} by
     * {@code current}: {@code record_wakee}, then with an affine wakeup ({@code !wake_wide}, this CPU
     * allowed; {@code wake_cap} is 0 on symmetric CPUs) {@code wake_affine} in the first domain
     * spanning both CPUs, and {@code select_idle_sibling} around the result, recording
     * {@code current->recent_used_cpu}. The slow path (a domain with SD_BALANCE_WAKE) is not taken:
     * {@code sd_init} sets that flag only for asymmetric CPU capacities.
     */
    int selectTaskRqWake(long p, int prevCpu, int thisCpu, long current) {
        recordWakee(current, p);
        boolean wantAffine = !wakeWide(current, p, thisCpu) && allowed(p, thisCpu);
        int newCpu = prevCpu;
        for (long tmp = topology.sd(thisCpu); tmp != 0; tmp = topology.parent(tmp)) {
            int flags = topology.flags(tmp);
            if ((flags & Topology.SD_LOAD_BALANCE) == 0) {
                break;
            }
            if (wantAffine && (flags & Topology.SD_WAKE_AFFINE) != 0 && topology.inDomainSpan(tmp, prevCpu)) {
                if (thisCpu != prevCpu) {
                    newCpu = wakeAffine(tmp, p, thisCpu, prevCpu);
                }
                break;
            }
            if (!wantAffine) {
                break;
            }
        }
        newCpu = selectIdleSibling(p, prevCpu, newCpu, thisCpu);
        if (wantAffine && o.taskRecentUsedCpu >= 0) {
            m.writeInt(current + o.taskRecentUsedCpu, thisCpu);
        }
        return newCpu;
    }

    /**
     * {@code record_wakee(p)}: the waker's {@code wakee_flips} halves once a second (HZ jiffies after
     * its last decay) and counts a switch of wakee.
     */
    private void recordWakee(long current, long p) {
        long jiffies = ulong(mc.clock / (1_000_000_000L / mc.hz));
        long decayTs = m.readPointer(current + taskWakeeFlipDecayTs);
        if (ulong(decayTs + mc.hz - jiffies) >>> (loadShift == 0 ? 31 : 63) != 0) {
            m.writeInt(current + taskWakeeFlips, m.readInt(current + taskWakeeFlips) >>> 1);
            m.writePointer(current + taskWakeeFlipDecayTs, jiffies);
        }
        if (m.readPointer(current + taskLastWakee) != p) {
            m.writePointer(current + taskLastWakee, p);
            m.writeInt(current + taskWakeeFlips, m.readInt(current + taskWakeeFlips) + 1);
        }
    }

    /** {@code wake_wide(p)}: both waker and wakee switch partners at least sd_llc_size times (and one far more). */
    private boolean wakeWide(long current, long p, int thisCpu) {
        long master = Integer.toUnsignedLong(m.readInt(current + taskWakeeFlips));
        long slave = Integer.toUnsignedLong(m.readInt(p + taskWakeeFlips));
        int factor = topology.llcSize(thisCpu);
        if (master < slave) {
            long t = master;
            master = slave;
            slave = t;
        }
        return !(slave < factor || master < slave * factor);
    }

    /**
     * {@code wake_affine(sd, p, this_cpu, prev_cpu, 0)}: {@code wake_affine_idle} (an idle waking CPU
     * sharing the cache with prev: prev if idle too, else this), else {@code wake_affine_weight}
     * (this CPU's load plus the task's, against prev's load less it, biased by imbalance_pct), else
     * prev.
     */
    private int wakeAffine(long sd, long p, int thisCpu, int prevCpu) {
        if (rq.idleCpu(thisCpu) && topology.cpusShareCache(thisCpu, prevCpu)) {
            return rq.idleCpu(prevCpu) ? prevCpu : thisCpu;
        }
        long taskLoad = taskHLoad(p, taskCpuOf(p));
        long thisEffLoad = pelt.runnableLoadAvg(cfsAvg(thisCpu)) + taskLoad;
        thisEffLoad *= 100;
        thisEffLoad *= Pelt.SCHED_CAPACITY_SCALE;
        long prevEffLoad = pelt.runnableLoadAvg(cfsAvg(prevCpu)) - taskLoad;
        prevEffLoad *= 100 + (topology.imbalancePct(sd) - 100) / 2;
        prevEffLoad *= Pelt.SCHED_CAPACITY_SCALE;
        return thisEffLoad <= prevEffLoad ? thisCpu : prevCpu;
    }

    private int taskCpuOf(long p) {
        return mc.platform.taskCpu(m, p);
    }

    /**
     * {@code task_h_load(p)}: the task's load_avg; with FAIR_GROUP_SCHED scaled by its root cfs_rq's
     * {@code h_load} (that cfs_rq's load_avg) over the cfs_rq's load_avg + 1.
     */
    private long taskHLoad(long p, int cpu) {
        long load = pelt.loadAvg(p + seAvg);
        if (seCfsRq < 0) {
            return load;
        }
        long cfsLoad = pelt.loadAvg(cfsAvg(cpu));
        return Long.divideUnsigned(load * cfsLoad, cfsLoad + 1);
    }

    /**
     * {@code select_idle_sibling(p, prev, target)}: target if idle; prev if it shares the cache and is
     * idle; the task's {@code recent_used_cpu} on the same terms (then prev becomes it); else the first
     * idle allowed CPU of target's LLC domain ({@code select_idle_cpu}; no SMT, so no idle core or
     * sibling search), else target.
     */
    private int selectIdleSibling(long p, int prev, int target, int thisCpu) {
        if (rq.idleCpu(target)) {
            return target;
        }
        if (prev != target && topology.cpusShareCache(prev, target) && rq.idleCpu(prev)) {
            return prev;
        }
        if (o.taskRecentUsedCpu >= 0) {
            int recent = m.readInt(p + o.taskRecentUsedCpu);
            if (recent != prev && recent != target && recent >= 0 && recent < mc.cpus
                    && topology.cpusShareCache(recent, target) && rq.idleCpu(recent) && allowed(p, recent)) {
                m.writeInt(p + o.taskRecentUsedCpu, prev);
                return recent;
            }
        }
        long sd = topology.llc(target);
        if (sd == 0) {
            return target;
        }
        int i = selectIdleCpu(p, sd, target, thisCpu);
        return i >= 0 ? i : target;
    }

    /**
     * {@code select_idle_cpu(p, sd, target)} with SIS_PROP: at most {@code span_weight * avg_idle/512 /
     * (avg_scan_cost + 1)} CPUs (4 if that is smaller) from target round the LLC span, the first idle
     * allowed one; the scan takes no simulated time, so {@code avg_scan_cost} decays toward 0.
     */
    private int selectIdleCpu(long p, long sd, int target, int thisCpu) {
        long thisSd = topology.llc(thisCpu);
        if (thisSd == 0) {
            return -1;
        }
        long avgIdle = rq.avgIdle(thisCpu) / 512;
        long avgCost = topology.avgScanCost(thisSd) + 1;
        long spanAvg = topology.spanWeight(sd) * avgIdle;
        long nr = spanAvg > 4 * avgCost ? spanAvg / avgCost : 4;
        int found = -1;
        for (int k = 0; k < mc.cpus; k++) {
            int cpu = (target + k) % mc.cpus;
            if (!topology.inDomainSpan(sd, cpu)) {
                continue;
            }
            if (--nr == 0) {
                break;
            }
            if (!allowed(p, cpu)) {
                continue;
            }
            if (rq.idleCpu(cpu)) {
                found = cpu;
                break;
            }
        }
        long cost = topology.avgScanCost(thisSd);
        topology.setAvgScanCost(thisSd, cost + ((0 - cost) >> 3));
        return found;
    }

    // ---- load balancing: trigger_load_balance, rebalance_domains, idle_balance, load_balance ----

    /** {@code enum cpu_idle_type}. */
    static final int CPU_IDLE = 0;
    static final int CPU_NOT_IDLE = 1;
    static final int CPU_NEWLY_IDLE = 2;
    /** {@code LBF_*} flags of {@code struct lb_env}. */
    static final int LBF_ALL_PINNED = 0x01;
    static final int LBF_NEED_BREAK = 0x02;
    static final int LBF_DST_PINNED = 0x04;
    static final int LBF_SOME_PINNED = 0x08;
    /** {@code enum group_type}. */
    static final int GROUP_OTHER = 0;
    static final int GROUP_IMBALANCED = 1;
    static final int GROUP_OVERLOADED = 2;
    /** {@code sysctl_sched_nr_migrate} and {@code sched_nr_migrate_break}: 32. */
    static final int SCHED_NR_MIGRATE = 32;
    /** {@code MAX_PINNED_INTERVAL} (ms). */
    static final int MAX_PINNED_INTERVAL = 512;

    /** The core, for {@code deactivate_task}/{@code set_task_cpu}/{@code activate_task} of a migration. */
    Core core;

    /** {@code struct sg_lb_stats}: one group's statistics in a balancing pass. */
    static final class SgLbStats {
        long avgLoad;
        long groupLoad;
        long sumWeightedLoad;
        long loadPerTask;
        long groupCapacity;
        long groupUtil;
        int sumNrRunning;
        int idleCpus;
        int groupWeight;
        int groupType;
        boolean groupNoCapacity;

        void clear() {
            avgLoad = groupLoad = sumWeightedLoad = loadPerTask = groupCapacity = groupUtil = 0;
            sumNrRunning = idleCpus = groupWeight = groupType = 0;
            groupNoCapacity = false;
        }

        void copyFrom(SgLbStats o) {
            avgLoad = o.avgLoad;
            groupLoad = o.groupLoad;
            sumWeightedLoad = o.sumWeightedLoad;
            loadPerTask = o.loadPerTask;
            groupCapacity = o.groupCapacity;
            groupUtil = o.groupUtil;
            sumNrRunning = o.sumNrRunning;
            idleCpus = o.idleCpus;
            groupWeight = o.groupWeight;
            groupType = o.groupType;
            groupNoCapacity = o.groupNoCapacity;
        }
    }

    // struct lb_env and struct sd_lb_stats of the one balancing pass at a time (preallocated: no garbage per tick)
    private long envSd;
    private int envDstCpu;
    private int envSrcCpu;
    private int envIdle;
    private int envNewDstCpu;
    /** {@code env->imbalance}: a signed long in the kernel. */
    long envImbalance;
    private int envFlags;
    private int envLoop;
    private int envLoopBreak;
    private int envLoopMax;
    /** {@code env->cpus}: {@code load_balance_mask}, the domain's active CPUs still considered. */
    private final boolean[] envCpus;
    /** {@code env->tasks}: the detached tasks, in detach order (list_add puts each at the head). */
    private final long[] envTasks = new long[SCHED_NR_MIGRATE];
    private int envNrTasks;
    private final SgLbStats localStat = new SgLbStats();
    private final SgLbStats busiestStat = new SgLbStats();
    private final SgLbStats tmpStat = new SgLbStats();
    private long sdsBusiest;
    private long sdsLocal;
    private long sdsTotalLoad;
    private long sdsTotalCapacity;
    private long sdsAvgLoad;

    /** {@code weighted_cpuload(rq)}: the CPU's {@code cfs.avg.runnable_load_avg}. */
    long weightedCpuload(int cpu) {
        return pelt.runnableLoadAvg(cfsAvg(cpu));
    }

    /** {@code source_load(cpu, type)}: with LB_BIAS, the lower of {@code cpu_load[type-1]} and the load now. */
    long sourceLoad(int cpu, int type) {
        long total = weightedCpuload(cpu);
        if (type == 0) {
            return total;
        }
        long old = rq.cpuLoad(cpu, type - 1);
        return Long.compareUnsigned(old, total) < 0 ? old : total;
    }

    /** {@code target_load(cpu, type)}: with LB_BIAS, the higher of {@code cpu_load[type-1]} and the load now. */
    long targetLoad(int cpu, int type) {
        long total = weightedCpuload(cpu);
        if (type == 0) {
            return total;
        }
        long old = rq.cpuLoad(cpu, type - 1);
        return Long.compareUnsigned(old, total) > 0 ? old : total;
    }

    /** {@code cpu_util(cpu)}: the queue's util_avg, at most the CPU's original capacity (util_est is not modelled). */
    private long cpuUtil(int cpu) {
        return Math.min(pelt.utilAvg(cfsAvg(cpu)), Pelt.SCHED_CAPACITY_SCALE);
    }

    /** {@code min()} of two unsigned longs. */
    private static long umin(long a, long b) {
        return Long.compareUnsigned(a, b) <= 0 ? a : b;
    }

    /** {@code msecs_to_jiffies(ms)}: rounded up. */
    private long msecsToJiffies(long ms) {
        return (ms * mc.hz + 999) / 1000;
    }

    /** {@code time_after(a, b)} on the build's unsigned long jiffies. */
    private boolean timeAfter(long a, long b) {
        return loadShift == 0 ? (int) (b - a) < 0 : b - a < 0;
    }

    /**
     * {@code get_sd_balance_interval(sd, cpu_busy)}: {@code balance_interval} ms, times
     * {@code busy_factor} when busy, in jiffies, clamped to [1, {@code max_load_balance_interval} =
     * HZ * online CPUs / 10].
     */
    long getSdBalanceInterval(long sd, boolean cpuBusy) {
        long interval = topology.balanceInterval(sd);
        if (cpuBusy) {
            interval *= topology.busyFactor(sd);
        }
        interval = msecsToJiffies(interval);
        int online = 0;
        for (int c = 0; c < mc.cpus; c++) {
            if (mc.online[c]) {
                online++;
            }
        }
        long max = mc.hz * online / 10;
        return Math.max(1, Math.min(interval, max));
    }

    /**
     * The tail of {@code scheduler_tick}: {@code rq->idle_balance = idle_cpu(cpu)}, then
     * {@code trigger_load_balance}: nothing on a null domain; true (raise SCHED_SOFTIRQ) once jiffies
     * reach {@code rq->next_balance}. (NO_HZ's {@code nohz_balancer_kick} is not modelled: every
     * simulated CPU takes its tick.)
     */
    boolean triggerLoadBalance(int cpu) {
        rq.setIdleBalance(cpu, rq.idleCpu(cpu));
        if (topology.sd(cpu) == 0) {
            return false;
        }
        return !timeAfter(rq.nextBalance(cpu), rq.jiffies());
    }

    /**
     * {@code run_rebalance_domains}, the SCHED_SOFTIRQ handler: {@code update_blocked_averages}, then
     * {@code rebalance_domains} as CPU_IDLE if the CPU was idle at its tick, else CPU_NOT_IDLE.
     */
    void runRebalanceDomains(int cpu) {
        int idle = rq.idleBalance(cpu) ? CPU_IDLE : CPU_NOT_IDLE;
        updateBlockedAverages(cpu);
        rebalanceDomains(cpu, idle);
    }

    /**
     * {@code update_blocked_averages(cpu)}: the CPU's root cfs_rq decayed to now (its blocked load and
     * util age while nothing runs). The rt/dl/irq averages are not modelled.
     */
    void updateBlockedAverages(int cpu) {
        rq.updateRqClock(cpu);
        updateCfsRqLoadAvg(cpu);
    }

    /**
     * {@code rebalance_domains(rq, idle)}: per domain from the bottom, the newidle cost decay once a
     * second, and {@code load_balance} when its interval (busy-scaled unless CPU_IDLE) has passed since
     * {@code last_balance}; {@code rq->next_balance} becomes the earliest next balance of the domains
     * (at most 60 s away).
     */
    void rebalanceDomains(int cpu, int idle) {
        boolean continueBalancing = true;
        long jiffies = rq.jiffies();
        long nextBalance = ulong(jiffies + 60 * mc.hz);
        boolean updateNextBalance = false;
        boolean needDecay = false;
        long maxCost = 0;
        for (long sd = topology.sd(cpu); sd != 0; sd = topology.parent(sd)) {
            if (timeAfter(jiffies, topology.nextDecayMaxLbCost(sd))) {
                topology.setMaxNewidleLbCost(sd, topology.maxNewidleLbCost(sd) * 253 / 256);
                topology.setNextDecayMaxLbCost(sd, ulong(jiffies + mc.hz));
                needDecay = true;
            }
            maxCost += topology.maxNewidleLbCost(sd);
            if ((topology.flags(sd) & Topology.SD_LOAD_BALANCE) == 0) {
                continue;
            }
            if (!continueBalancing) {
                if (needDecay) {
                    continue;
                }
                break;
            }
            long interval = getSdBalanceInterval(sd, idle != CPU_IDLE);
            if (!timeAfter(ulong(topology.lastBalance(sd) + interval), jiffies)) {
                int moved = loadBalance(cpu, sd, idle);
                if (envShouldNotBalance) {
                    continueBalancing = false;
                }
                if (moved != 0) {
                    idle = rq.idleCpu(cpu) ? CPU_IDLE : CPU_NOT_IDLE;
                }
                topology.setLastBalance(sd, jiffies);
                interval = getSdBalanceInterval(sd, idle != CPU_IDLE);
            }
            if (timeAfter(nextBalance, ulong(topology.lastBalance(sd) + interval))) {
                nextBalance = ulong(topology.lastBalance(sd) + interval);
                updateNextBalance = true;
            }
        }
        if (needDecay) {
            rq.setMaxIdleBalanceCost(cpu, Math.max(Rq.SCHED_MIGRATION_COST, maxCost));
        }
        if (updateNextBalance) {
            rq.setNextBalance(cpu, nextBalance);
        }
    }

    /** {@code *continue_balancing = 0} of the last {@code load_balance}: should_we_balance said no. */
    private boolean envShouldNotBalance;

    /**
     * {@code idle_balance(this_rq)} from {@code pick_next_task_fair} when the CPU has no fair task:
     * {@code idle_stamp}; unless {@code avg_idle} is below the migration cost or no CPU is overloaded,
     * {@code update_blocked_averages} and a CPU_NEWLY_IDLE {@code load_balance} of each domain with
     * SD_BALANCE_NEWIDLE until a task is pulled (the balance takes no simulated time, so its cost is 0);
     * {@code rq->next_balance} brought forward. Returns the kernel's pulled_task: 1 if fair tasks are
     * queued now.
     */
    int idleBalance(int cpu) {
        long nextBalance = ulong(rq.jiffies() + mc.hz);
        int pulledTask = 0;
        rq.setIdleStamp(cpu, mc.clock);
        if (!mc.online[cpu]) {
            return 0;
        }
        if (rq.avgIdle(cpu) < Rq.SCHED_MIGRATION_COST || !rq.rdOverload(cpu)) {
            long sd = topology.sd(cpu);
            if (sd != 0) {
                nextBalance = updateNextBalance(sd, nextBalance);
            }
        } else {
            updateBlockedAverages(cpu);
            long currCost = 0;
            for (long sd = topology.sd(cpu); sd != 0; sd = topology.parent(sd)) {
                if ((topology.flags(sd) & Topology.SD_LOAD_BALANCE) == 0) {
                    continue;
                }
                if (rq.avgIdle(cpu) < currCost + topology.maxNewidleLbCost(sd)) {
                    nextBalance = updateNextBalance(sd, nextBalance);
                    break;
                }
                if ((topology.flags(sd) & Topology.SD_BALANCE_NEWIDLE) != 0) {
                    pulledTask = loadBalance(cpu, sd, CPU_NEWLY_IDLE);
                }
                nextBalance = updateNextBalance(sd, nextBalance);
                if (pulledTask != 0 || rq.nrRunning(cpu) > 0) {
                    break;
                }
            }
            if (currCost > rq.maxIdleBalanceCost(cpu)) {
                rq.setMaxIdleBalanceCost(cpu, currCost);
            }
        }
        if (nrRunning(cpu) != 0 && pulledTask == 0) {
            pulledTask = 1;
        }
        if (timeAfter(rq.nextBalance(cpu), nextBalance)) {
            rq.setNextBalance(cpu, nextBalance);
        }
        if (pulledTask != 0) {
            rq.setIdleStamp(cpu, 0);
        }
        return pulledTask;
    }

    /** {@code update_next_balance(sd, &next_balance)}: the domain's next balance at the idle interval, if sooner. */
    private long updateNextBalance(long sd, long nextBalance) {
        long next = ulong(topology.lastBalance(sd) + getSdBalanceInterval(sd, false));
        return timeAfter(nextBalance, next) ? next : nextBalance;
    }

    /**
     * {@code load_balance(this_cpu, this_rq, sd, idle, &continue_balancing)}: if this CPU should
     * balance the domain ({@code should_we_balance}: a newly idle CPU, else the group's first idle CPU
     * or its balance CPU), {@code find_busiest_group} and {@code find_busiest_queue}, then
     * {@code detach_tasks}/{@code attach_tasks} in rounds of {@code sched_nr_migrate_break}, retrying
     * without a busiest CPU whose tasks were all pinned; {@code nr_balance_failed} and
     * {@code balance_interval} as the kernel keeps them. Active balancing (the stopper pushing the
     * running task after repeated failures) is not modelled. Returns the number of tasks moved.
     */
    int loadBalance(int thisCpu, long sd, int idle) {
        envShouldNotBalance = false;
        envSd = sd;
        envDstCpu = thisCpu;
        envIdle = idle;
        envLoopBreak = SCHED_NR_MIGRATE;
        envLoop = 0;
        envLoopMax = 0;
        envFlags = 0;
        envImbalance = 0;
        envNrTasks = 0;
        for (int c = 0; c < mc.cpus; c++) {
            envCpus[c] = topology.inDomainSpan(sd, c) && mc.online[c];
        }
        long localGroup = topology.groups(sd);
        int ldMoved = 0;
        redo:
        while (true) {
            if (!shouldWeBalance()) {
                envShouldNotBalance = true;
                return outBalanced(sd);
            }
            long group = findBusiestGroup();
            if (group == 0) {
                return outBalanced(sd);
            }
            int busiest = findBusiestQueue(group);
            if (busiest < 0) {
                return outBalanced(sd);
            }
            envSrcCpu = busiest;
            ldMoved = 0;
            if (rq.nrRunning(busiest) > 1) {
                envFlags |= LBF_ALL_PINNED;
                envLoopMax = Math.min(SCHED_NR_MIGRATE, rq.nrRunning(busiest));
                while (true) {
                    rq.updateRqClock(busiest);
                    int cur = detachTasks();
                    if (cur != 0) {
                        attachTasks();
                        ldMoved += cur;
                    }
                    if ((envFlags & LBF_NEED_BREAK) != 0) {
                        envFlags &= ~LBF_NEED_BREAK;
                        continue;
                    }
                    if ((envFlags & LBF_DST_PINNED) != 0 && envImbalance > 0) {
                        envCpus[envDstCpu] = false;
                        envDstCpu = envNewDstCpu;
                        envFlags &= ~LBF_DST_PINNED;
                        envLoop = 0;
                        envLoopBreak = SCHED_NR_MIGRATE;
                        continue;
                    }
                    break;
                }
                markParentGroupImbalance(sd);
                if ((envFlags & LBF_ALL_PINNED) != 0) {
                    envCpus[busiest] = false;
                    boolean subset = true;
                    for (int c = 0; c < mc.cpus; c++) {
                        if (envCpus[c] && !topology.inGroup(localGroup, c)) {
                            subset = false;
                        }
                    }
                    if (!subset) {
                        envLoop = 0;
                        envLoopBreak = SCHED_NR_MIGRATE;
                        continue redo;
                    }
                    topology.setNrBalanceFailed(sd, 0);
                    return outOnePinned(sd);
                }
            }
            break;
        }
        if (ldMoved == 0) {
            if (idle != CPU_NEWLY_IDLE) {
                topology.setNrBalanceFailed(sd, topology.nrBalanceFailed(sd) + 1);
            }
        } else {
            topology.setNrBalanceFailed(sd, 0);
        }
        topology.setBalanceInterval(sd, (int) topology.minInterval(sd));
        return ldMoved;
    }

    /**
     * The {@code out_balanced}/{@code out_all_pinned} exits of load_balance: balanced though not all
     * pinned, the parent's local group is no longer imbalanced; no failure counted, then
     * {@code out_one_pinned}.
     */
    private int outBalanced(long sd) {
        long parent = topology.parent(sd);
        if (parent != 0 && (envFlags & LBF_ALL_PINNED) == 0 && topology.groupImbalance(topology.groups(parent)) != 0) {
            topology.setGroupImbalance(topology.groups(parent), 0);
        }
        topology.setNrBalanceFailed(sd, 0);
        return outOnePinned(sd);
    }

    /** {@code out_one_pinned}: a balanced or pinned domain backs off, doubling its interval up to the maximum. */
    private int outOnePinned(long sd) {
        if (envIdle == CPU_NEWLY_IDLE) {
            return 0;
        }
        int interval = topology.balanceInterval(sd);
        if (((envFlags & LBF_ALL_PINNED) != 0 && interval < MAX_PINNED_INTERVAL) || interval < topology.maxInterval(sd)) {
            topology.setBalanceInterval(sd, interval * 2);
        }
        return 0;
    }

    /**
     * {@code should_we_balance(env)}: a newly idle CPU always; otherwise only the first idle CPU of the
     * local group's balance mask, or without one the group's first CPU.
     */
    private boolean shouldWeBalance() {
        if (!envCpus[envDstCpu]) {
            return false;
        }
        if (envIdle == CPU_NEWLY_IDLE) {
            return true;
        }
        long sg = topology.groups(envSd);
        int balanceCpu = -1;
        int first = -1;
        for (int c = 0; c < mc.cpus; c++) {
            if (!topology.inGroup(sg, c)) {
                continue;
            }
            if (first < 0) {
                first = c;
            }
            if (envCpus[c] && rq.idleCpu(c)) {
                balanceCpu = c;
                break;
            }
        }
        if (balanceCpu == -1) {
            balanceCpu = first;
        }
        return balanceCpu == envDstCpu;
    }

    /**
     * {@code update_sg_lb_stats}: over the group's CPUs still considered, the load biased by the load
     * index (the local group's high, the others' low), util, fair tasks, weighted load and idle CPUs;
     * avg_load per capacity, load per task, overload and the group type. Returns whether some CPU has
     * more than one runnable task (the root domain's overload).
     */
    private boolean updateSgLbStats(long group, int loadIdx, boolean localGroup, SgLbStats sgs) {
        sgs.clear();
        boolean overload = false;
        for (int i = 0; i < mc.cpus; i++) {
            if (!topology.inGroup(group, i) || !envCpus[i]) {
                continue;
            }
            long load = localGroup ? targetLoad(i, loadIdx) : sourceLoad(i, loadIdx);
            sgs.groupLoad = ulong(sgs.groupLoad + load);
            sgs.groupUtil += cpuUtil(i);
            sgs.sumNrRunning += nrRunning(i);
            int nr = rq.nrRunning(i);
            if (nr > 1) {
                overload = true;
            }
            sgs.sumWeightedLoad = ulong(sgs.sumWeightedLoad + weightedCpuload(i));
            if (nr == 0 && rq.idleCpu(i)) {
                sgs.idleCpus++;
            }
        }
        sgs.groupCapacity = topology.groupCapacity(group);
        sgs.avgLoad = Long.divideUnsigned(ulong(sgs.groupLoad * Pelt.SCHED_CAPACITY_SCALE), sgs.groupCapacity);
        if (sgs.sumNrRunning != 0) {
            sgs.loadPerTask = Long.divideUnsigned(sgs.sumWeightedLoad, sgs.sumNrRunning);
        }
        sgs.groupWeight = topology.groupWeight(group);
        sgs.groupNoCapacity = groupIsOverloaded(sgs);
        sgs.groupType = groupClassify(group, sgs);
        return overload;
    }

    /** {@code group_classify}: overloaded without capacity, else imbalanced if {@code sg_imbalanced}, else other. */
    private int groupClassify(long group, SgLbStats sgs) {
        if (sgs.groupNoCapacity) {
            return GROUP_OVERLOADED;
        }
        return topology.groupImbalance(group) != 0 ? GROUP_IMBALANCED : GROUP_OTHER;
    }

    /**
     * The affinity part of {@code load_balance} after its moves: with a parent domain, the parent's
     * local group ({@code sd_parent->groups->sgc->imbalance}) is marked imbalanced when some task was
     * pinned ({@code LBF_SOME_PINNED}) and load is left to move, so that the parent's balancing
     * classifies this domain's group as {@code group_imbalanced}.
     */
    private void markParentGroupImbalance(long sd) {
        long parent = topology.parent(sd);
        if (parent != 0 && (envFlags & LBF_SOME_PINNED) != 0 && envImbalance > 0) {
            topology.setGroupImbalance(topology.groups(parent), 1);
        }
    }

    /** {@code group_has_capacity}: fewer tasks than CPUs, or util below capacity by imbalance_pct. */
    private boolean groupHasCapacity(SgLbStats sgs) {
        if (sgs.sumNrRunning < sgs.groupWeight) {
            return true;
        }
        return sgs.groupCapacity * 100 > sgs.groupUtil * topology.imbalancePct(envSd);
    }

    /** {@code group_is_overloaded}: more tasks than CPUs and util above capacity by imbalance_pct. */
    private boolean groupIsOverloaded(SgLbStats sgs) {
        if (sgs.sumNrRunning <= sgs.groupWeight) {
            return false;
        }
        return sgs.groupCapacity * 100 < sgs.groupUtil * topology.imbalancePct(envSd);
    }

    /**
     * {@code update_sd_lb_stats}: every group of the domain from this CPU's, the local group's stats
     * apart, the busiest other group by type, then avg_load ({@code update_sd_pick_busiest} without
     * asymmetric capacity or packing); totals; the root domain's overload flag from the top level.
     * The local group's capacity is refreshed ({@code update_group_capacity}) unless a newly idle
     * balance comes before its {@code next_update} (without rt/irq pressure it stays 1024 per CPU).
     */
    private void updateSdLbStats() {
        sdsBusiest = 0;
        sdsLocal = 0;
        sdsTotalLoad = 0;
        sdsTotalCapacity = 0;
        sdsAvgLoad = 0;
        localStat.clear();
        busiestStat.clear();
        long child = topology.child(envSd);
        boolean preferSibling = child != 0 && (topology.flags(child) & Topology.SD_PREFER_SIBLING) != 0;
        int loadIdx = topology.loadIdx(envSd, envIdle);
        boolean overload = false;
        long first = topology.groups(envSd);
        long sg = first;
        do {
            boolean local = topology.inGroup(sg, envDstCpu);
            SgLbStats sgs = local ? localStat : tmpStat;
            if (local) {
                sdsLocal = sg;
                if (envIdle != CPU_NEWLY_IDLE || !timeAfter(topology.groupNextUpdate(sg), rq.jiffies())) {
                    topology.updateGroupCapacity(envSd, envDstCpu, rq.jiffies());
                }
            }
            overload |= updateSgLbStats(sg, loadIdx, local, sgs);
            if (!local) {
                if (preferSibling && sdsLocal != 0 && groupHasCapacity(localStat)
                        && sgs.sumNrRunning > localStat.sumNrRunning + 1) {
                    sgs.groupNoCapacity = true;
                    sgs.groupType = GROUP_OVERLOADED;
                }
                if (updateSdPickBusiest(sgs)) {
                    sdsBusiest = sg;
                    busiestStat.copyFrom(sgs);
                }
            }
            sdsTotalLoad = ulong(sdsTotalLoad + sgs.groupLoad);
            sdsTotalCapacity += sgs.groupCapacity;
            sg = topology.next(sg);
        } while (sg != first);
        if (topology.parent(envSd) == 0 && rq.rdOverload(envDstCpu) != overload) {
            rq.setRdOverload(envDstCpu, overload);
        }
    }

    /** {@code update_sd_pick_busiest}: a higher group type, or the same type with a higher avg_load. */
    private boolean updateSdPickBusiest(SgLbStats sgs) {
        if (sgs.groupType != busiestStat.groupType) {
            return sgs.groupType > busiestStat.groupType;
        }
        return Long.compareUnsigned(sgs.avgLoad, busiestStat.avgLoad) > 0;
    }

    /**
     * {@code find_busiest_group(env)}: the busiest group if the domain is imbalanced, with
     * {@code env->imbalance} from {@code calculate_imbalance}; 0 when balanced: no busy group, the
     * local group at least as loaded as the busiest or as the domain's average, an idle CPU with no
     * more idle CPUs than the busiest group plus one (unless it is overloaded), or a busy one within
     * {@code imbalance_pct}. A CPU that is not busy with capacity left balances an overloaded group at
     * once.
     */
    private long findBusiestGroup() {
        updateSdLbStats();
        if (sdsBusiest == 0 || busiestStat.sumNrRunning == 0) {
            envImbalance = 0;
            return 0;
        }
        sdsAvgLoad = Long.divideUnsigned(ulong(Pelt.SCHED_CAPACITY_SCALE * sdsTotalLoad), sdsTotalCapacity);
        boolean force = busiestStat.groupType == GROUP_IMBALANCED
                || (envIdle != CPU_NOT_IDLE && groupHasCapacity(localStat) && busiestStat.groupNoCapacity);
        if (!force) {
            if (Long.compareUnsigned(localStat.avgLoad, busiestStat.avgLoad) >= 0
                    || Long.compareUnsigned(localStat.avgLoad, sdsAvgLoad) >= 0) {
                envImbalance = 0;
                return 0;
            }
            if (envIdle == CPU_IDLE) {
                if (busiestStat.groupType != GROUP_OVERLOADED && localStat.idleCpus <= busiestStat.idleCpus + 1) {
                    envImbalance = 0;
                    return 0;
                }
            } else if (Long.compareUnsigned(ulong(100 * busiestStat.avgLoad),
                    ulong(topology.imbalancePct(envSd) * localStat.avgLoad)) <= 0) {
                envImbalance = 0;
                return 0;
            }
        }
        calculateImbalance();
        return envImbalance != 0 ? sdsBusiest : 0;
    }

    /**
     * {@code calculate_imbalance(env, sds)}: the load to move, the lesser of what takes the busiest
     * group down to the domain average (capped by its load above capacity when both groups are
     * overloaded) and what brings the local group up to it, per capacity; {@code fix_small_imbalance}
     * when either is already on the wrong side of the average or the result is below one task's load.
     */
    private void calculateImbalance() {
        long loadAboveCapacity = ulong(-1L);
        if (busiestStat.groupType == GROUP_IMBALANCED) {
            busiestStat.loadPerTask = Math.min(busiestStat.loadPerTask, sdsAvgLoad);
        }
        if (busiestStat.avgLoad <= sdsAvgLoad || localStat.avgLoad >= sdsAvgLoad) {
            envImbalance = 0;
            fixSmallImbalance();
            return;
        }
        if (busiestStat.groupType == GROUP_OVERLOADED && localStat.groupType == GROUP_OVERLOADED) {
            loadAboveCapacity = busiestStat.sumNrRunning * Pelt.SCHED_CAPACITY_SCALE;
            if (loadAboveCapacity > busiestStat.groupCapacity) {
                loadAboveCapacity -= busiestStat.groupCapacity;
                loadAboveCapacity *= NICE_0_LOAD;
                loadAboveCapacity /= busiestStat.groupCapacity;
            } else {
                loadAboveCapacity = ulong(-1L);
            }
        }
        long maxPull = umin(busiestStat.avgLoad - sdsAvgLoad, loadAboveCapacity);
        envImbalance = Long.divideUnsigned(umin(ulong(maxPull * busiestStat.groupCapacity),
                ulong((sdsAvgLoad - localStat.avgLoad) * localStat.groupCapacity)), Pelt.SCHED_CAPACITY_SCALE);
        if (Long.compareUnsigned(envImbalance, busiestStat.loadPerTask) < 0) {
            fixSmallImbalance();
        }
    }

    /**
     * {@code fix_small_imbalance(env, sds)}: move one task's load if that leaves the busiest group no
     * less loaded than the local one with it ({@code imbn} 2, or 1 when the busiest group's tasks are
     * heavier), or if the move raises the capacity used ({@code capa_move > capa_now}).
     */
    private void fixSmallImbalance() {
        long imbn = 2;
        if (localStat.sumNrRunning == 0) {
            int n = nrRunning(envDstCpu);
            localStat.loadPerTask = n != 0 ? weightedCpuload(envDstCpu) / n : 0;
        } else if (busiestStat.loadPerTask > localStat.loadPerTask) {
            imbn = 1;
        }
        long scaledBusyLoadPerTask = busiestStat.loadPerTask * Pelt.SCHED_CAPACITY_SCALE / busiestStat.groupCapacity;
        if (busiestStat.avgLoad + scaledBusyLoadPerTask >= localStat.avgLoad + scaledBusyLoadPerTask * imbn) {
            envImbalance = busiestStat.loadPerTask;
            return;
        }
        long capaNow = busiestStat.groupCapacity * Math.min(busiestStat.loadPerTask, busiestStat.avgLoad);
        capaNow += localStat.groupCapacity * Math.min(localStat.loadPerTask, localStat.avgLoad);
        capaNow /= Pelt.SCHED_CAPACITY_SCALE;
        long capaMove = 0;
        if (busiestStat.avgLoad > scaledBusyLoadPerTask) {
            capaMove += busiestStat.groupCapacity
                    * Math.min(busiestStat.loadPerTask, busiestStat.avgLoad - scaledBusyLoadPerTask);
        }
        long tmp;
        if (busiestStat.avgLoad * busiestStat.groupCapacity < busiestStat.loadPerTask * Pelt.SCHED_CAPACITY_SCALE) {
            tmp = busiestStat.avgLoad * busiestStat.groupCapacity / localStat.groupCapacity;
        } else {
            tmp = busiestStat.loadPerTask * Pelt.SCHED_CAPACITY_SCALE / localStat.groupCapacity;
        }
        capaMove += localStat.groupCapacity * Math.min(localStat.loadPerTask, localStat.avgLoad + tmp);
        capaMove /= Pelt.SCHED_CAPACITY_SCALE;
        if (capaMove > capaNow) {
            envImbalance = busiestStat.loadPerTask;
        }
    }

    /**
     * {@code find_busiest_queue(env, group)}: the group's CPU with the highest weighted load per
     * capacity, skipping a CPU with one task heavier than the imbalance (moving it would not help).
     * Returns -1 if none.
     */
    private int findBusiestQueue(long group) {
        int busiest = -1;
        long busiestLoad = 0;
        long busiestCapacity = 1;
        for (int i = 0; i < mc.cpus; i++) {
            if (!topology.inGroup(group, i) || !envCpus[i]) {
                continue;
            }
            long capacity = Pelt.SCHED_CAPACITY_SCALE;
            long wl = weightedCpuload(i);
            // check_cpu_capacity is false: cpu_capacity == cpu_capacity_orig without rt/irq pressure
            if (rq.nrRunning(i) == 1 && Long.compareUnsigned(wl, envImbalance) > 0) {
                continue;
            }
            if (Long.compareUnsigned(ulong(wl * busiestCapacity), ulong(busiestLoad * capacity)) > 0) {
                busiestLoad = wl;
                busiestCapacity = capacity;
                busiest = i;
            }
        }
        return busiest;
    }

    /**
     * {@code detach_tasks(env)}: from the tail of the busiest CPU's {@code cfs_tasks} (the tasks
     * queued longest ago), each task {@code can_migrate_task} allows and whose {@code task_h_load} is
     * at most twice the remaining imbalance is detached, until the imbalance is met; a newly idle CPU
     * keeps at least one task on the source, a task passed over goes to the list's head; with
     * CONFIG_PREEMPT a newly idle balance stops after one task. Returns the number detached.
     */
    private int detachTasks() {
        if (envImbalance <= 0) {
            return 0;
        }
        long head = rq.cpuRq(envSrcCpu) + rq.cfsTasks;
        int detached = 0;
        while (!mc.lists.empty(head)) {
            if (envIdle != CPU_NOT_IDLE && rq.nrRunning(envSrcCpu) <= 1) {
                break;
            }
            long p = mc.lists.prev(head) - f.task.seGroupNode;
            envLoop++;
            if (envLoop > envLoopMax) {
                break;
            }
            if (envLoop > envLoopBreak) {
                envLoopBreak += SCHED_NR_MIGRATE;
                envFlags |= LBF_NEED_BREAK;
                break;
            }
            if (canMigrateTask(p)) {
                long load = taskHLoad(p, envSrcCpu);
                if (Long.compareUnsigned(load / 2, envImbalance) <= 0) {
                    core.detachTask(p, envSrcCpu, envDstCpu);
                    envTasks[envNrTasks++] = p;
                    detached++;
                    envImbalance -= load;
                    if (mc.platform.preemptible() && envIdle == CPU_NEWLY_IDLE) {
                        break;
                    }
                    if (envImbalance <= 0) {
                        break;
                    }
                    continue;
                }
            }
            mc.lists.del(p + f.task.seGroupNode);
            mc.lists.add(p + f.task.seGroupNode, head);
        }
        return detached;
    }

    /**
     * {@code can_migrate_task(p, env)}: not if this CPU is not allowed (then LBF_SOME_PINNED, and a
     * CPU of the local group it may use as {@code new_dst_cpu}), not the running task, and not a
     * cache-hot one ({@code task_hot}) unless balancing failed more than {@code cache_nice_tries}
     * times.
     */
    private boolean canMigrateTask(long p) {
        if (!allowed(p, envDstCpu)) {
            envFlags |= LBF_SOME_PINNED;
            if (envIdle == CPU_NEWLY_IDLE || (envFlags & LBF_DST_PINNED) != 0) {
                return false;
            }
            long dstGroup = topology.groups(envSd);
            for (int c = 0; c < mc.cpus; c++) {
                if (topology.inGroup(dstGroup, c) && envCpus[c] && allowed(p, c)) {
                    envFlags |= LBF_DST_PINNED;
                    envNewDstCpu = c;
                    break;
                }
            }
            return false;
        }
        envFlags &= ~LBF_ALL_PINNED;
        if (rq.curr(envSrcCpu) == p) {
            return false;
        }
        return !taskHot(p) || topology.nrBalanceFailed(envSd) > topology.cacheNiceTries(envSd);
    }

    /**
     * {@code task_hot(p, env)}: a fair task that is a buddy of its queue while this CPU has work
     * (CACHE_HOT_BUDDY), or that ran less than {@code sysctl_sched_migration_cost} ago; never a
     * SCHED_IDLE one.
     */
    private boolean taskHot(long p) {
        if (m.readPointer(p + f.task.schedClass) != address || m.readInt(p + o.taskPolicy) == SCHED_IDLE) {
            return false;
        }
        if (rq.nrRunning(envDstCpu) != 0 && (nextBuddy(envSrcCpu) == p || lastBuddy(envSrcCpu) == p)) {
            return true;
        }
        return mc.clock - m.readLong(p + f.task.seExecStart) < Rq.SCHED_MIGRATION_COST;
    }

    /** {@code attach_tasks(env)}: each detached task, the last detached first, activated on this CPU with a preemption check. */
    private void attachTasks() {
        rq.updateRqClock(envDstCpu);
        while (envNrTasks > 0) {
            long p = envTasks[--envNrTasks];
            core.attachTask(p, envDstCpu);
        }
    }

    /**
     * {@code set_task_rq(p, cpu)} (FAIR_GROUP_SCHED, from {@code __set_task_cpu}): every task is in the
     * root task group, so its entity's cfs_rq is the CPU's {@code rq->cfs} and it has no parent
     * entity; {@code cpu} -1 is {@code __sched_fork}'s {@code p->se.cfs_rq = NULL}.
     */
    void setTaskRq(long p, int cpu) {
        if (seCfsRq >= 0) {
            m.writePointer(p + seCfsRq, cpu < 0 ? 0 : rq.cpuRq(cpu) + rq.cfs);
        }
    }

    /**
     * NUMA balancing's part of a new task ({@code init_numa_balancing}, fair.c, CONFIG_NUMA_BALANCING),
     * called from {@code __sched_fork} before {@code copy_mm}: {@code p->mm} is still the parent's.
     * Scanning itself ({@code task_numa_work}) is not modelled; every task's RSS counters stay 0.
     */
    static final class Numa {
        /** {@code sysctl_numa_balancing_scan_delay} (ms). */
        static final int SCAN_DELAY = 1000;
        /** {@code sysctl_numa_balancing_scan_period_min}, {@code _max} (ms) and {@code _scan_size} (MB). */
        static final int SCAN_PERIOD_MIN = 1000;
        static final int SCAN_PERIOD_MAX = 60000;
        static final int SCAN_SIZE = 256;
        /** {@code MAX_SCAN_WINDOW} (MB/s). */
        static final int MAX_SCAN_WINDOW = 2560;

        private final Machine mc;
        private final AddressSpace m;
        private final Rq rq;
        private final boolean built;
        private final long nodeStamp;
        private final long numaScanSeq;
        private final long numaScanPeriod;
        private final long numaWorkNext;
        private final long numaFaults;
        private final long numaGroup;
        private final long lastTaskNumaPlacement;
        private final long lastSumExecRuntime;
        private final long numaPreferredNid;
        private final long mmNumaNextScan;
        private final long mmNumaScanSeq;
        private final long mmRssStat;

        Numa(Machine mc, Rq rq) {
            this.mc = mc;
            this.m = mc.m;
            this.rq = rq;
            var p = mc.platform.profile();
            this.built = p.config().enabled("CONFIG_NUMA_BALANCING") && p.has("task_struct", "numa_work")
                    && p.has("mm_struct", "numa_next_scan");
            this.nodeStamp = built ? p.offsetOf("task_struct", "node_stamp") : -1;
            this.numaScanSeq = built ? p.offsetOf("task_struct", "numa_scan_seq") : -1;
            this.numaScanPeriod = built ? p.offsetOf("task_struct", "numa_scan_period") : -1;
            this.numaWorkNext = built ? p.offsetOf("task_struct", "numa_work.next") : -1;
            this.numaFaults = built ? p.offsetOf("task_struct", "numa_faults") : -1;
            this.numaGroup = built ? p.offsetOf("task_struct", "numa_group") : -1;
            this.lastTaskNumaPlacement = built ? p.offsetOf("task_struct", "last_task_numa_placement") : -1;
            this.lastSumExecRuntime = built ? p.offsetOf("task_struct", "last_sum_exec_runtime") : -1;
            this.numaPreferredNid = built ? p.offsetOf("task_struct", "numa_preferred_nid") : -1;
            this.mmNumaNextScan = built ? p.offsetOf("mm_struct", "numa_next_scan") : -1;
            this.mmNumaScanSeq = built ? p.offsetOf("mm_struct", "numa_scan_seq") : -1;
            this.mmRssStat = built ? p.offsetOf("mm_struct", "rss_stat") : -1;
        }

        /**
         * {@code init_numa_balancing(clone_flags, p)}: the scan state of a new task (period
         * {@code sysctl_numa_balancing_scan_delay}, its {@code numa_work} unqueued, no faults or group);
         * the first user of an mm restarts the mm's scan; a new address space forgets the preferred
         * node, a new thread staggers its first scan ({@code node_stamp}).
         */
        void initNumaBalancing(long cloneFlags, long p, long current) {
            if (!built) {
                return;
            }
            long mm = m.readPointer(p + mc.o.taskMm);
            int mmUsers = 0;
            if (mm != 0) {
                mmUsers = m.readInt(mm + mc.f.mm.users);
                if (mmUsers == 1) {
                    long delay = ((long) SCAN_DELAY * mc.hz + 999) / 1000;
                    m.writePointer(mm + mmNumaNextScan, rq.jiffies() + delay);
                    m.writeInt(mm + mmNumaScanSeq, 0);
                }
            }
            m.writeLong(p + nodeStamp, 0);
            m.writeInt(p + numaScanSeq, mm != 0 ? m.readInt(mm + mmNumaScanSeq) : 0);
            m.writeInt(p + numaScanPeriod, SCAN_DELAY);
            m.writePointer(p + numaWorkNext, p + numaWorkNext);
            m.writePointer(p + numaFaults, 0);
            m.writePointer(p + numaGroup, 0);
            m.writeLong(p + lastTaskNumaPlacement, 0);
            m.writeLong(p + lastSumExecRuntime, 0);
            if ((cloneFlags & CloneFlag.VM.value()) == 0) {
                m.writeInt(p + numaPreferredNid, -1);
                return;
            }
            if (mm != 0) {
                // min_t(unsigned int, task_scan_max(current), current->numa_scan_period * mm_users * NSEC_PER_MSEC)
                long perUsers = Integer.toUnsignedLong(m.readInt(current + numaScanPeriod) * mmUsers);
                long stagger = (perUsers * 1_000_000L) & 0xffffffffL;
                long delay = Math.min(taskScanMax(current), stagger);
                // + 2 * TICK_NSEC
                m.writeLong(p + nodeStamp, delay + 2 * ((1_000_000_000L + mc.hz / 2) / mc.hz));
            }
        }

        /** {@code task_nr_scan_windows(p)}: the task's RSS in scan-size windows, at least one. */
        private long taskNrScanWindows(long p) {
            long nrScanPages = (long) SCAN_SIZE << (20 - Integer.numberOfTrailingZeros(mc.platform.pageSize()));
            long mm = m.readPointer(p + mc.o.taskMm);
            long rss = 0;
            if (mm != 0) {
                // get_mm_rss: MM_FILEPAGES + MM_ANONPAGES + MM_SHMEMPAGES
                for (int i = 0; i < 3; i++) {
                    rss += m.readPointer(mm + mmRssStat + (long) i * mc.platform.pointerSize());
                }
            }
            if (rss == 0) {
                rss = nrScanPages;
            }
            rss = (rss + nrScanPages - 1) / nrScanPages * nrScanPages;
            return rss / nrScanPages;
        }

        /** {@code task_scan_min(p)}. */
        private long taskScanMin(long p) {
            int windows = SCAN_SIZE < MAX_SCAN_WINDOW ? MAX_SCAN_WINDOW / SCAN_SIZE : 1;
            long floor = 1000 / windows;
            return Math.max(floor, SCAN_PERIOD_MIN / taskNrScanWindows(p));
        }

        /** {@code task_scan_max(p)} for a task in no numa_group. */
        private long taskScanMax(long p) {
            return Math.max(taskScanMin(p), SCAN_PERIOD_MAX / taskNrScanWindows(p));
        }
    }
}
