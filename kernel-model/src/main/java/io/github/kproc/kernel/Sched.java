package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/sched}: per-CPU runqueues, {@code sched_fork}, {@code wake_up_new_task} with fork
 * balancing, {@code check_preempt_curr}/{@code resched_curr}, {@code set_task_cpu} and the context
 * switch ({@code context_switch} -> the architecture's switch -> {@code finish_task_switch}).
 *
 * <p>{@code struct rq} is not in the profiles (it is private to kernel/sched), so each CPU's
 * runqueue bookkeeping lives here: curr, idle, nr_running and min_vruntime. Queued fair tasks are
 * linked through their {@code se.group_node} into a list head the model allocates per CPU in the
 * arena, as the kernel's {@code cfs_tasks} list is.
 */
final class Sched {
    static final int SCHED_NORMAL = 0;
    static final int SCHED_FIFO = 1;
    static final int SCHED_RR = 2;
    static final int SCHED_BATCH = 3;
    static final int SCHED_IDLE = 5;
    static final int SCHED_DEADLINE = 6;
    static final int MAX_RT_PRIO = 100;
    static final int MAX_PRIO = MAX_RT_PRIO + 40;
    static final int DEFAULT_PRIO = MAX_RT_PRIO + 20;
    static final int TASK_ON_RQ_QUEUED = 1;
    /** {@code RR_TIMESLICE} = 100 ms in jiffies; stored in rt.time_slice. */
    static final long NSEC_PER_MSEC = 1_000_000L;

    /** {@code sched_prio_to_weight} (kernel/sched/core.c): nice -20 .. 19. */
    static final int[] PRIO_TO_WEIGHT = {88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548,
        7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277, 1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110,
        87, 70, 56, 45, 36, 29, 23, 18, 15};
    /** {@code sched_prio_to_wmult}: 2^32 / weight. */
    static final int[] PRIO_TO_WMULT = {48388, 59856, 76040, 92818, 118348, 147320, 184698, 229616, 287308, 360437,
        449829, 563644, 704093, 875809, 1099582, 1376151, 1717300, 2157191, 2708050, 3363326, 4194304, 5237765,
        6557202, 8165337, 10153587, 12820798, 15790321, 19976592, 24970740, 31350126, 39045157, 49367440, 61356676,
        76695844, 95443717, 119304647, 148102320, 186737708, 238609294, 286331153};
    /** {@code WEIGHT_IDLEPRIO}, {@code WMULT_IDLEPRIO}. */
    static final int WEIGHT_IDLEPRIO = 3;
    static final int WMULT_IDLEPRIO = 1431655765;

    private final Kernel k;
    private final AddressSpace m;
    private final Platform platform;
    private final Offsets o;
    private final Fields f;
    private final int cpus;
    private final int loadShift;
    final long[] curr;
    final long[] idle;
    final int[] nrRunning;
    final long[] queue;
    final long[] minVruntime;
    final boolean[] irqsOff;
    final long[] nrSwitches;
    final long[] ipis;
    final boolean[] ipiPending;
    private final boolean[] rrExpired;
    final long[][] registers;
    private final int spIndex;
    private final int lrIndex;
    private final int pcIndex;
    private final long retFromFork;
    private final long switchReturn;
    private final long scheduleResume;
    private final long fairClass;
    private final long rtClass;
    private final long idleClass;
    private final long latency;
    private final long minGranularity;
    private final long wakeupGranularity;

    Sched(Kernel k, int cpus, long[] queueHeads) {
        this.k = k;
        this.m = k.m;
        this.platform = k.platform;
        this.o = k.o;
        this.f = k.f;
        this.cpus = cpus;
        this.loadShift = platform.pointerSize() == 8 ? 10 : 0;
        this.curr = new long[cpus];
        this.idle = new long[cpus];
        this.nrRunning = new int[cpus];
        this.queue = queueHeads;
        this.minVruntime = new long[cpus];
        this.irqsOff = new boolean[cpus];
        this.nrSwitches = new long[cpus];
        this.ipis = new long[cpus];
        this.ipiPending = new boolean[cpus];
        this.rrExpired = new boolean[cpus];
        this.registers = new long[cpus][platform.cpuRegisters().size()];
        java.util.List<String> names = platform.cpuRegisters();
        this.spIndex = names.indexOf("sp");
        this.lrIndex = names.indexOf("lr") >= 0 ? names.indexOf("lr") : names.indexOf("x30");
        this.pcIndex = names.indexOf("pc");
        this.retFromFork = k.symbols.address("ret_from_fork");
        this.switchReturn = k.symbols.address("__schedule") + Kernel.SWITCH_RETURN;
        this.scheduleResume = k.symbols.address("schedule") + 0x40;
        this.fairClass = k.symbols.address("fair_sched_class");
        this.rtClass = k.symbols.address("rt_sched_class");
        this.idleClass = k.symbols.address("idle_sched_class");
        // SCHED_TUNABLESCALING_LOG: factor = 1 + ilog2(min(ncpus, 8))
        int factor = 1 + (31 - Integer.numberOfLeadingZeros(Math.min(cpus, 8)));
        this.latency = 6 * NSEC_PER_MSEC * factor;
        this.minGranularity = 750_000L * factor;
        this.wakeupGranularity = NSEC_PER_MSEC * factor;
        for (long head : queueHeads) {
            k.lists.init(head);
        }
    }

    long fairClass() {
        return fairClass;
    }

    long idleClass() {
        return idleClass;
    }

    long rtClass() {
        return rtClass;
    }

    // ---- priorities and load ----

    /** {@code set_load_weight(p)}: the weight of the task's static priority (idle policy: WEIGHT_IDLEPRIO). */
    void setLoadWeight(long p) {
        int policy = m.readInt(p + o.taskPolicy);
        long weight;
        long wmult;
        if (policy == SCHED_IDLE) {
            weight = (long) WEIGHT_IDLEPRIO << loadShift;
            wmult = WMULT_IDLEPRIO;
        } else {
            int idx = m.readInt(p + o.taskStaticPrio) - MAX_RT_PRIO;
            weight = (long) PRIO_TO_WEIGHT[idx] << loadShift;
            wmult = PRIO_TO_WMULT[idx];
        }
        m.writePointer(p + f.taskSeLoadWeight, weight);
        m.writeInt(p + f.taskSeLoadInvWeight, (int) wmult);
    }

    long weight(long p) {
        return m.readPointer(p + f.taskSeLoadWeight) >>> loadShift;
    }

    /** {@code WMULT_CONST}: the 32-bit fixed-point one the inverse weights are fractions of. */
    private static final long WMULT_CONST = 0xffffffffL;

    /**
     * {@code __calc_delta(delta_exec, weight, lw)} (kernel/sched/fair.c): delta * weight / lw->weight
     * computed as the kernel does, with lw's inverse weight in 32.32 fixed point, the factor shifted
     * down until it fits 32 bits, and {@code mul_u64_u32_shr}. {@code weight} is unscaled
     * ({@code scale_load_down}); {@code invWeight} is lw->inv_weight.
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

    /**
     * {@code calc_delta_fair(delta, se)}: delta unchanged at NICE_0_LOAD, else
     * {@code __calc_delta(delta, NICE_0_LOAD, &se->load)} with the task's own inv_weight.
     */
    long calcDeltaFair(long delta, long p) {
        if (weight(p) == 1024) {
            return delta;
        }
        return calcDelta(delta, 1024, Integer.toUnsignedLong(m.readInt(p + f.taskSeLoadInvWeight)));
    }

    // ---- fork ----

    /** {@code __sched_fork()}: a clean scheduling entity. */
    void schedForkInit(long p) {
        m.writeInt(p + o.taskOnRq, 0);
        m.writeInt(p + f.taskSeOnRq, 0);
        m.writeLong(p + f.taskSeExecStart, 0);
        m.writeLong(p + f.taskSeSumExec, 0);
        m.writeLong(p + f.taskSePrevSumExec, 0);
        m.writeLong(p + f.taskSeNrMigrations, 0);
        m.writeLong(p + f.taskSeVruntime, 0);
        k.lists.init(p + f.taskSeGroupNode);
        k.lists.init(p + f.taskRtRunList);
        m.writeInt(p + f.taskRtTimeSlice, 100 * (int) k.hz() / 1000);
        m.writeShort(p + f.taskRtOnRq, (short) 0);
        m.writeShort(p + f.taskRtOnList, (short) 0);
    }

    /**
     * {@code sched_fork(clone_flags, p)}: TASK_NEW, prio from the parent's normal_prio, reset-on-fork,
     * the class by prio, the current CPU via {@code __set_task_cpu}, {@code task_fork_fair}, and the
     * preempt count a new task starts with. Returns 0 or -EAGAIN (a SCHED_DEADLINE parent).
     */
    int schedFork(long p, long parent, int cpu) {
        schedForkInit(p);
        m.writePointer(p + o.taskState, Kernel.TASK_NEW);
        m.writeInt(p + o.taskPrio, m.readInt(parent + o.taskNormalPrio));
        long word = m.readInt(p + f.taskResetOnForkWord);
        if ((word & (1L << f.taskResetOnForkBit)) != 0) {
            int policy = m.readInt(p + o.taskPolicy);
            if (policy == SCHED_DEADLINE || policy == SCHED_FIFO || policy == SCHED_RR) {
                m.writeInt(p + o.taskPolicy, SCHED_NORMAL);
                m.writeInt(p + o.taskStaticPrio, DEFAULT_PRIO);
                m.writeInt(p + f.taskRtPriority, 0);
            } else if (m.readInt(p + o.taskStaticPrio) < DEFAULT_PRIO) {
                m.writeInt(p + o.taskStaticPrio, DEFAULT_PRIO);
            }
            int prio = m.readInt(p + o.taskStaticPrio);
            m.writeInt(p + o.taskPrio, prio);
            m.writeInt(p + o.taskNormalPrio, prio);
            setLoadWeight(p);
            m.writeInt(p + f.taskResetOnForkWord, (int) (word & ~(1L << f.taskResetOnForkBit)));
        }
        int prio = m.readInt(p + o.taskPrio);
        if (m.readInt(p + o.taskPolicy) == SCHED_DEADLINE) {
            return io.github.kproc.Errno.EAGAIN.negative();
        } else if (prio < MAX_RT_PRIO) {
            m.writePointer(p + f.taskSchedClass, rtClass);
        } else {
            m.writePointer(p + f.taskSchedClass, fairClass);
        }
        setTaskCpuRaw(p, cpu);
        if (m.readPointer(p + f.taskSchedClass) == fairClass) {
            taskForkFair(p, cpu);
        }
        if (o.taskOnCpu >= 0) {
            m.writeInt(p + o.taskOnCpu, 0);
        }
        k.setPreemptCount(p, platform.forkPreemptCount());
        if (f.taskPushablePrio >= 0) {
            // plist_node_init(&p->pushable_tasks, MAX_PRIO)
            m.writeInt(p + f.taskPushablePrio, MAX_PRIO);
            k.lists.init(p + f.taskPushablePrioList);
            k.lists.init(p + f.taskPushableNodeList);
        }
        return 0;
    }

    /**
     * {@code task_fork_fair(p)}: start from the parent's vruntime, placed no earlier than
     * min_vruntime plus one slice (START_DEBIT), then stored relative to min_vruntime until enqueued.
     */
    private void taskForkFair(long p, int cpu) {
        long current = curr[cpu];
        long vruntime = 0;
        if (current != 0 && m.readPointer(current + f.taskSchedClass) == fairClass) {
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
     * {@code __sched_period(cfs_rq->nr_running + !se->on_rq)}: the CPU's CFS entities, queued and running,
     * plus the entity itself if it is not on the runqueue yet (a fork); {@code __calc_delta(slice,
     * se->load.weight, load)} against their total load.
     */
    long slice(int cpu, long p) {
        int nr = 0;
        long load = 0;
        long head = queue[cpu];
        for (long node = k.lists.next(head); node != head; node = k.lists.next(node)) {
            long t = node - f.taskSeGroupNode;
            if (m.readPointer(t + f.taskSchedClass) == fairClass) {
                nr++;
                load += weight(t);
            }
        }
        long running = curr[cpu];
        if (running != 0 && running != idle[cpu] && m.readPointer(running + f.taskSchedClass) == fairClass
                && m.readInt(running + f.taskSeOnRq) != 0) {
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

    /** {@code __set_task_cpu(p, cpu)}: with SMP, the cpu where Kconfig puts it, and wake_cpu. */
    void setTaskCpuRaw(long p, int cpu) {
        if (!platform.smp()) {
            return;
        }
        if (platform.threadInfoInTask()) {
            m.writeInt(p + o.taskCpu, cpu);
        } else {
            m.writeInt(platform.taskThreadInfo(m, p) + o.tiCpu, cpu);
        }
        if (o.taskWakeCpu >= 0) {
            m.writeInt(p + o.taskWakeCpu, cpu);
        }
    }

    int taskCpu(long p) {
        return platform.taskCpu(m, p);
    }

    /** {@code set_task_cpu(p, new_cpu)}: counts a migration, then {@code __set_task_cpu}. */
    void setTaskCpu(long p, int newCpu) {
        if (taskCpu(p) != newCpu) {
            m.writeLong(p + f.taskSeNrMigrations, m.readLong(p + f.taskSeNrMigrations) + 1);
        }
        setTaskCpuRaw(p, newCpu);
    }

    /** The CPUs in {@code p->cpus_allowed}. */
    boolean allowed(long p, int cpu) {
        long word = m.readPointer(p + f.taskCpusAllowed + (long) (cpu / (8 * platform.pointerSize()))
                * platform.pointerSize());
        return (word & (1L << (cpu % (8 * platform.pointerSize())))) != 0;
    }

    /**
     * {@code select_task_rq(p, prev_cpu, SD_BALANCE_FORK, 0)}: the idlest allowed CPU by nr_running;
     * a tie keeps {@code prevCpu}, else takes the lowest-numbered CPU.
     */
    int selectTaskRqFork(long p, int prevCpu) {
        int best = -1;
        for (int cpu = 0; cpu < cpus; cpu++) {
            if (!allowed(p, cpu) || !k.online[cpu]) {
                continue;
            }
            if (best < 0 || nrRunning[cpu] < nrRunning[best]
                    || (nrRunning[cpu] == nrRunning[best] && cpu == prevCpu)) {
                best = cpu;
            }
        }
        return best < 0 ? prevCpu : best;
    }

    /** {@code enqueue_task}: queued, counted, fair vruntime made absolute against this CPU's min_vruntime. */
    void enqueue(int cpu, long p, boolean renormalize) {
        if (m.readPointer(p + f.taskSchedClass) == fairClass && renormalize) {
            m.writeLong(p + f.taskSeVruntime, m.readLong(p + f.taskSeVruntime) + minVruntime[cpu]);
        }
        k.lists.addTail(p + f.taskSeGroupNode, queue[cpu]);
        m.writeInt(p + f.taskSeOnRq, 1);
        m.writeInt(p + o.taskOnRq, TASK_ON_RQ_QUEUED);
        nrRunning[cpu]++;
    }

    /** {@code dequeue_task} of a queued (not running) task. */
    void dequeueQueued(int cpu, long p, boolean normalize) {
        k.lists.delInit(p + f.taskSeGroupNode);
        m.writeInt(p + f.taskSeOnRq, 0);
        m.writeInt(p + o.taskOnRq, 0);
        nrRunning[cpu]--;
        if (normalize && m.readPointer(p + f.taskSchedClass) == fairClass) {
            m.writeLong(p + f.taskSeVruntime, m.readLong(p + f.taskSeVruntime) - minVruntime[cpu]);
        }
    }

    /** {@code deactivate_task} of the running task (it blocks or dies): no longer counted. */
    void dequeueRunning(int cpu, long p) {
        m.writeInt(p + f.taskSeOnRq, 0);
        m.writeInt(p + o.taskOnRq, 0);
        nrRunning[cpu]--;
    }

    /** True if {@code p} is linked on some CPU's queue (runnable, not running). */
    boolean queued(long p) {
        return m.readInt(p + o.taskOnRq) == TASK_ON_RQ_QUEUED && p != curr[taskCpu(p)];
    }

    /**
     * {@code wake_up_new_task(p)}: TASK_RUNNING, fork balancing to the idlest allowed CPU with
     * {@code __set_task_cpu}, {@code activate_task}, {@code on_rq = TASK_ON_RQ_QUEUED}, the
     * {@code sched_wakeup_new} event, then {@code check_preempt_curr(rq, p, WF_FORK)}. Runs under
     * pi_lock and the rq lock: irqs off, preemption disabled twice.
     */
    void wakeUpNewTask(long p, int thisCpu) {
        k.lockIrqSave(thisCpu);
        m.writePointer(p + o.taskState, Kernel.TASK_RUNNING);
        int prev = taskCpu(p);
        if (o.taskRecentUsedCpu >= 0) {
            m.writeInt(p + o.taskRecentUsedCpu, prev);
        }
        int cpu = selectTaskRqFork(p, prev);
        setTaskCpuRaw(p, cpu);
        k.preemptCountInc(thisCpu);
        enqueue(cpu, p, true);
        k.traceWakeupNew(thisCpu, p, cpu);
        checkPreemptCurr(cpu, p, thisCpu);
        k.preemptCountDec(thisCpu);
        k.unlockIrqRestore(thisCpu);
    }

    private int classRank(long schedClass) {
        if (schedClass == rtClass) {
            return 2;
        }
        if (schedClass == fairClass) {
            return 1;
        }
        return 0;
    }

    /**
     * {@code check_preempt_curr(rq, p, flags)}: a higher class always preempts; within the fair class
     * {@code check_preempt_wakeup}: a running SCHED_IDLE task is preempted by any other policy, a woken
     * SCHED_BATCH or SCHED_IDLE task never preempts (the tick does), otherwise after {@code update_curr}
     * when the woken task's vruntime is more than the wakeup granularity behind the running one's.
     */
    void checkPreemptCurr(int cpu, long p, int thisCpu) {
        long current = curr[cpu];
        long pc = m.readPointer(p + f.taskSchedClass);
        long cc = m.readPointer(current + f.taskSchedClass);
        if (pc == cc) {
            if (pc == fairClass) {
                int policy = m.readInt(p + o.taskPolicy);
                if (m.readInt(current + o.taskPolicy) == SCHED_IDLE && policy != SCHED_IDLE) {
                    reschedCurr(cpu, thisCpu);
                    return;
                }
                if (policy != SCHED_NORMAL) {
                    return;
                }
                updateCurr(cpu);
                long vdiff = m.readLong(current + f.taskSeVruntime) - m.readLong(p + f.taskSeVruntime);
                if (vdiff > calcDeltaFair(wakeupGranularity, p)) {
                    reschedCurr(cpu, thisCpu);
                }
            } else if (pc == rtClass && m.readInt(p + o.taskPrio) < m.readInt(current + o.taskPrio)) {
                reschedCurr(cpu, thisCpu);
            }
        } else if (classRank(pc) > classRank(cc)) {
            reschedCurr(cpu, thisCpu);
        }
    }

    /**
     * {@code resched_curr(rq)}: nothing if TIF_NEED_RESCHED is already set; on the CPU running this
     * code set it; on another CPU set it and send a reschedule IPI.
     */
    void reschedCurr(int cpu, int thisCpu) {
        long current = curr[cpu];
        long ti = platform.taskThreadInfo(m, current);
        long flags = m.readPointer(ti + o.tiFlags);
        if ((flags & (1L << Kernel.TIF_NEED_RESCHED)) != 0) {
            return;
        }
        m.writePointer(ti + o.tiFlags, flags | (1L << Kernel.TIF_NEED_RESCHED));
        if (cpu != thisCpu) {
            ipis[cpu]++;
            ipiPending[cpu] = true;
            k.traceIpi(thisCpu, "ipi_raise", cpu);
        }
    }

    /**
     * {@code pick_next_task}: the highest class first (RT by prio, then fair by smallest vruntime),
     * the idle task when nothing is queued.
     */
    long pickNextTask(int cpu) {
        long head = queue[cpu];
        long best = 0;
        int bestRank = -1;
        long bestKey = 0;
        for (long node = k.lists.next(head); node != head; node = k.lists.next(node)) {
            long t = node - f.taskSeGroupNode;
            int rank = classRank(m.readPointer(t + f.taskSchedClass));
            long key = rank == 2 ? m.readInt(t + o.taskPrio) : m.readLong(t + f.taskSeVruntime);
            if (rank > bestRank || (rank == bestRank && key < bestKey)) {
                best = t;
                bestRank = rank;
                bestKey = key;
            }
        }
        return best == 0 ? idle[cpu] : best;
    }

    // ---- CFS accounting ----

    /**
     * {@code update_curr(cfs_rq)}: the running task's runtime since {@code exec_start} is added to
     * {@code sum_exec_runtime} and, weighted ({@code calc_delta_fair}), to its vruntime; min_vruntime
     * follows.
     */
    void updateCurr(int cpu) {
        long p = curr[cpu];
        if (p == 0 || p == idle[cpu]) {
            return;
        }
        long now = k.clock();
        long delta = now - m.readLong(p + f.taskSeExecStart);
        if (delta <= 0) {
            return;
        }
        m.writeLong(p + f.taskSeExecStart, now);
        m.writeLong(p + f.taskSeSumExec, m.readLong(p + f.taskSeSumExec) + delta);
        if (m.readPointer(p + f.taskSchedClass) == fairClass) {
            m.writeLong(p + f.taskSeVruntime, m.readLong(p + f.taskSeVruntime) + calcDeltaFair(delta, p));
            updateMinVruntime(cpu);
        }
    }

    /** {@code update_min_vruntime}: monotonic, the smaller of the running and the leftmost queued vruntime. */
    void updateMinVruntime(int cpu) {
        long p = curr[cpu];
        boolean haveCurr = p != idle[cpu] && m.readPointer(p + f.taskSchedClass) == fairClass
                && m.readInt(p + o.taskOnRq) == TASK_ON_RQ_QUEUED;
        long vruntime = haveCurr ? m.readLong(p + f.taskSeVruntime) : 0;
        long left = leftmostFair(cpu);
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

    /** The queued fair task with the smallest vruntime, or 0 ({@code __pick_first_entity}). */
    long leftmostFair(int cpu) {
        long head = queue[cpu];
        long best = 0;
        long bestV = 0;
        for (long node = k.lists.next(head); node != head; node = k.lists.next(node)) {
            long t = node - f.taskSeGroupNode;
            if (m.readPointer(t + f.taskSchedClass) != fairClass) {
                continue;
            }
            long v = m.readLong(t + f.taskSeVruntime);
            if (best == 0 || v - bestV < 0) {
                best = t;
                bestV = v;
            }
        }
        return best;
    }

    /** {@code set_next_entity}: the task starts a slice now. */
    private void setNextEntity(long next) {
        m.writeLong(next + f.taskSeExecStart, k.clock());
        m.writeLong(next + f.taskSePrevSumExec, m.readLong(next + f.taskSeSumExec));
    }

    /**
     * {@code schedule_debug(prev)}: {@code __schedule} must be entered with exactly the scheduler's own
     * preempt disable; anything more is "BUG: scheduling while atomic", after which the kernel resets
     * the count ({@code preempt_count_set(PREEMPT_DISABLED)}) and goes on.
     */
    private void scheduleDebug(int cpu, long prev) {
        long ti = platform.taskThreadInfo(m, prev);
        int count = m.readInt(ti + o.tiPreemptCount);
        if (count != platform.preemptDisableOffset()) {
            k.bug(String.format("BUG: scheduling while atomic: %s/%d/0x%08x", k.comm(prev),
                    m.readInt(prev + o.taskPid), count));
            m.writeInt(ti + o.tiPreemptCount, platform.preemptDisableOffset());
        }
    }

    /**
     * {@code scheduler_tick()} on {@code cpu}: {@code update_curr}, then the class's tick: fair
     * {@code check_preempt_tick} (resched when the task ran past its ideal slice, or is more than a
     * slice ahead of the leftmost task), SCHED_RR's time slice, nothing for FIFO and idle.
     */
    void schedulerTick(int cpu) {
        long p = curr[cpu];
        updateCurr(cpu);
        if (p == idle[cpu]) {
            return;
        }
        long cls = m.readPointer(p + f.taskSchedClass);
        if (cls == fairClass) {
            if (nrRunning[cpu] <= 1) {
                return;
            }
            long ideal = slice(cpu, p) ;
            long ran = m.readLong(p + f.taskSeSumExec) - m.readLong(p + f.taskSePrevSumExec);
            if (ran > ideal) {
                reschedCurr(cpu, cpu);
                return;
            }
            if (ran < minGranularity) {
                return;
            }
            long left = leftmostFair(cpu);
            if (left != 0 && m.readLong(p + f.taskSeVruntime) - m.readLong(left + f.taskSeVruntime) > ideal) {
                reschedCurr(cpu, cpu);
            }
        } else if (cls == rtClass && m.readInt(p + o.taskPolicy) == SCHED_RR) {
            int slice = m.readInt(p + f.taskRtTimeSlice) - 1;
            if (slice > 0) {
                m.writeInt(p + f.taskRtTimeSlice, slice);
                return;
            }
            m.writeInt(p + f.taskRtTimeSlice, (int) (100 * k.hz() / 1000));
            if (hasQueuedRtOfPrio(cpu, m.readInt(p + o.taskPrio))) {
                rrExpired[cpu] = true;
                reschedCurr(cpu, cpu);
            }
        }
    }

    private boolean hasQueuedRtOfPrio(int cpu, int prio) {
        long head = queue[cpu];
        for (long node = k.lists.next(head); node != head; node = k.lists.next(node)) {
            long t = node - f.taskSeGroupNode;
            if (m.readPointer(t + f.taskSchedClass) == rtClass && m.readInt(t + o.taskPrio) == prio) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code __sched_setscheduler}: policy, rt_priority, normal_prio and prio, load weight and class;
     * a queued task is requeued, a running one rescheduled if it got worse, a queued one checked
     * against the running task if it got better.
     */
    void setScheduler(long p, int policy, int rtPriority, int normalPrio) {
        int cpu = taskCpu(p);
        boolean running = curr[cpu] == p;
        boolean queuedNow = !running && m.readInt(p + o.taskOnRq) == TASK_ON_RQ_QUEUED;
        if (running) {
            updateCurr(cpu);
        }
        if (queuedNow) {
            dequeueQueued(cpu, p, true);
        }
        int oldPrio = m.readInt(p + o.taskPrio);
        m.writeInt(p + o.taskPolicy, policy);
        m.writeInt(p + f.taskRtPriority, rtPriority);
        m.writeInt(p + o.taskNormalPrio, normalPrio);
        m.writeInt(p + o.taskPrio, normalPrio);
        setLoadWeight(p);
        m.writePointer(p + f.taskSchedClass, normalPrio < MAX_RT_PRIO ? rtClass : fairClass);
        if (queuedNow) {
            enqueue(cpu, p, true);
            checkPreemptCurr(cpu, p, cpu);
        } else if (running && normalPrio > oldPrio) {
            reschedCurr(cpu, cpu);
        }
    }

    // ---- __schedule and the context switch ----


    boolean isIdle(long p) {
        return (m.readInt(p + o.taskFlags) & Fork.PF_IDLE) != 0;
    }

    /**
     * {@code __schedule(preempt)} on {@code cpu}, entered from {@code schedule()} (preempt_disable),
     * {@code preempt_schedule} or, for the idle task, {@code schedule_idle()}. A task that is not
     * TASK_RUNNING and not preempted is deactivated; the next task is {@code forcedNext} if non-zero,
     * else {@link #pickNextTask}.
     */
    void schedule(int cpu, boolean preempt, long forcedNext) {
        long prev = curr[cpu];
        if (!isIdle(prev)) {
            k.preemptCountInc(cpu);
        }
        scheduleDebug(cpu, prev);
        irqsOff[cpu] = true;
        k.preemptCountInc(cpu);
        updateCurr(cpu);
        long state = m.readPointer(prev + o.taskState);
        boolean voluntary = !preempt && state != Kernel.TASK_RUNNING;
        if (voluntary) {
            dequeueRunning(cpu, prev);
        } else if (prev != idle[cpu]) {
            if (m.readPointer(prev + f.taskSchedClass) == rtClass && !rrExpired[cpu]) {
                k.lists.add(prev + f.taskSeGroupNode, queue[cpu]);
            } else {
                k.lists.addTail(prev + f.taskSeGroupNode, queue[cpu]);
            }
        }
        rrExpired[cpu] = false;
        long next = forcedNext != 0 ? forcedNext : pickNextTask(cpu);
        if (next != idle[cpu]) {
            k.lists.delInit(next + f.taskSeGroupNode);
        }
        k.clearTsiFlag(prev, Kernel.TIF_NEED_RESCHED);
        if (prev == next) {
            irqsOff[cpu] = false;
            k.preemptCountDec(cpu);
            if (!isIdle(prev)) {
                k.preemptCountDec(cpu);
            }
            return;
        }
        nrSwitches[cpu]++;
        curr[cpu] = next;
        setNextEntity(next);
        long counter = prev + (voluntary ? f.taskNvcsw : f.taskNivcsw);
        m.writePointer(counter, m.readPointer(counter) + 1);
        k.traceSwitch(cpu, preempt, prev, next);
        contextSwitch(cpu, prev, next);
    }

    /**
     * {@code context_switch(rq, prev, next)}: on_cpu, the lazy mm of a kernel thread
     * ({@code active_mm} borrowed with {@code mmgrab}), the architecture's {@code switch_to} (with
     * the return address into {@code __schedule} and the scheduler's frames on prev's stack), then
     * {@code finish_task_switch(prev)} and the rest of the path the next task resumes on:
     * {@code schedule_tail} for a new task, the return from {@code __schedule} otherwise.
     */
    private void contextSwitch(int cpu, long prev, long next) {
        if (o.taskOnCpu >= 0) {
            m.writeInt(next + o.taskOnCpu, 1);
        }
        long mm = m.readPointer(next + o.taskMm);
        long oldmm = m.readPointer(prev + o.taskActiveMm);
        if (mm == 0) {
            m.writePointer(next + o.taskActiveMm, oldmm);
            if (oldmm != 0) {
                k.mmgrab(oldmm);
            }
        }
        long prevMm = 0;
        if (m.readPointer(prev + o.taskMm) == 0) {
            m.writePointer(prev + o.taskActiveMm, 0);
            prevMm = oldmm;
        }
        long[] regs = registers[cpu];
        regs[lrIndex] = switchReturn;
        regs[spIndex] -= Kernel.SCHEDULE_FRAME;
        platform.switchTo(m, regs, prev, next);
        finishTaskSwitch(cpu, prev, prevMm);
        if (regs[pcIndex] == retFromFork) {
            scheduleTail(cpu, next);
        } else {
            if (!isIdle(next)) {
                k.preemptCountDec(cpu);
            }
            regs[spIndex] += Kernel.SCHEDULE_FRAME;
            regs[pcIndex] = scheduleResume;
            k.exit.resumed(cpu, next);
        }
    }

    /**
     * {@code finish_task_switch(prev)}: prev is off the CPU, the rq lock and irqs are released, a
     * borrowed mm dropped; a dead prev gives back its stack and the scheduler's task reference.
     */
    private void finishTaskSwitch(int cpu, long prev, long prevMm) {
        long prevState = m.readPointer(prev + o.taskState);
        if (o.taskOnCpu >= 0) {
            m.writeInt(prev + o.taskOnCpu, 0);
        }
        irqsOff[cpu] = false;
        k.preemptCountDec(cpu);
        if (prevMm != 0) {
            k.mmdrop(prevMm);
        }
        if (prevState == Kernel.TASK_DEAD) {
            k.putTaskStack(prev);
            k.putTaskStruct(prev);
        }
    }

    /**
     * {@code schedule_tail(prev)} via {@code ret_from_fork}: preemption back on, and
     * {@code put_user(task_pid_vnr(current), current->set_child_tid)}.
     */
    private void scheduleTail(int cpu, long next) {
        k.preemptCountDec(cpu);
        long setChildTid = m.readPointer(next + f.taskSetChildTid);
        if (setChildTid != 0) {
            long pid = m.readPointer(next + f.taskThreadPid);
            k.putUser(next, setChildTid, k.pids.nrNs(pid, k.taskActivePidNs(next)));
        }
        long[] regs = registers[cpu];
        regs[pcIndex] = retFromFork + 0x10;
    }

    /**
     * Runs {@code t} on {@code cpu} now, as if picked: migrates it from another CPU's queue
     * ({@code set_task_cpu}) if needed and preempts the running task.
     */
    void runTask(int cpu, long t) {
        long prev = curr[cpu];
        if (t == prev) {
            return;
        }
        for (int c = 0; c < cpus; c++) {
            if (curr[c] == t) {
                throw new io.github.kproc.KernelException(io.github.kproc.Errno.EBUSY,
                        "task runs on CPU " + c);
            }
        }
        boolean idleTask = isIdle(t);
        if (idleTask && t != idle[cpu]) {
            throw new io.github.kproc.KernelException(io.github.kproc.Errno.EINVAL, "another CPU's idle task");
        }
        if (!idleTask) {
            if (m.readPointer(t + o.taskState) != Kernel.TASK_RUNNING || m.readInt(t + o.taskOnRq) != TASK_ON_RQ_QUEUED) {
                throw new io.github.kproc.KernelException(io.github.kproc.Errno.EINVAL, "task is not runnable");
            }
            if (!allowed(t, cpu) || !k.online[cpu]) {
                throw new io.github.kproc.KernelException(io.github.kproc.Errno.EINVAL,
                        "CPU " + cpu + " is not in the task's cpus_allowed");
            }
            int from = taskCpu(t);
            if (from != cpu) {
                dequeueQueued(from, t, true);
                setTaskCpu(t, cpu);
                enqueue(cpu, t, true);
            }
        }
        schedule(cpu, !isIdle(prev), t);
    }

    /**
     * {@code try_to_wake_up(p, TASK_NORMAL, 0)} for a sleeping task: TASK_RUNNING on its previous CPU
     * (if allowed and online, else the idlest allowed), enqueued with its vruntime placed no earlier
     * than min_vruntime minus half a latency (GENTLE_FAIR_SLEEPERS), and a preemption check.
     */
    void tryToWakeUp(long p, int thisCpu) {
        if (m.readInt(p + o.taskOnRq) == TASK_ON_RQ_QUEUED) {
            m.writePointer(p + o.taskState, Kernel.TASK_RUNNING);
            return;
        }
        int cpu = taskCpu(p);
        if (!allowed(p, cpu) || !k.online[cpu]) {
            cpu = selectTaskRqFork(p, cpu);
            setTaskCpu(p, cpu);
        }
        m.writePointer(p + o.taskState, Kernel.TASK_RUNNING);
        if (m.readPointer(p + f.taskSchedClass) == fairClass) {
            long floor = minVruntime[cpu] - latency / 2;
            if (m.readLong(p + f.taskSeVruntime) - floor < 0) {
                m.writeLong(p + f.taskSeVruntime, floor);
            }
        }
        enqueue(cpu, p, false);
        checkPreemptCurr(cpu, p, thisCpu);
    }
}
