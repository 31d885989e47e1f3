package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskStateBits;
import io.github.kproc.view.TaskFlags;

/**
 * {@code kernel/sched/core.c}: {@code sched_fork}, {@code wake_up_new_task} with fork balancing,
 * {@code try_to_wake_up}, {@code check_preempt_curr}, {@code set_task_cpu}, {@code scheduler_tick},
 * {@code __sched_setscheduler}, the preemption points and {@code __schedule} with
 * {@code context_switch} -> the architecture's switch -> {@code finish_task_switch}.
 *
 * <p>The classes are asked highest first ({@code for_each_class}): RT, fair, idle.
 */
final class Core {
    static final int SCHED_DEADLINE = 6;
    static final int MAX_PRIO = Rt.MAX_RT_PRIO + 40;
    static final int DEFAULT_PRIO = Rt.MAX_RT_PRIO + 20;
    static final int TASK_ON_RQ_QUEUED = 1;
    /** {@code SCHEDULE_FRAME}: bytes of stack the model's schedule() -> __schedule() frames take below pt_regs. */
    static final long SCHEDULE_FRAME = 0x80;
    /** Offset of the return address of the {@code switch_to} call inside {@code __schedule}. */
    static final long SWITCH_RETURN = 0x1f4;

    /** {@code sched_prio_to_weight}: nice -20 .. 19. */
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

    private final Machine mc;
    private final AddressSpace m;
    private final Platform platform;
    private final Offsets o;
    private final Fields f;
    private final Preempt preempt;
    final Rq rq;
    final Fair fair;
    final Rt rt;
    final Idle idle;
    /** The scheduling domains ({@code rq->sd}). */
    final Topology topology;
    /** {@code hrtimer_bases} and {@code hrtimer_init}, for the deadline entity's timers and copy_signal's real_timer. */
    final Hrtimer hrtimer;
    /** The deadline entity of a new task (deadline.c). */
    private final Deadline deadline;
    /** The rseq events of switches, migrations, forks and execs. */
    final Rseq rseq;
    /** {@code init_numa_balancing} (CONFIG_NUMA_BALANCING). */
    private final Fair.Numa numa;
    /** {@code task_struct.rt.timeout}, {@code preempt_notifiers} (-1 without PREEMPT_NOTIFIERS), {@code pushable_dl_tasks}. */
    private final long rtTimeout;
    private final long preemptNotifiers;
    private final long pushableDlTasks;
    /** {@code task_struct.sched_info} and its size where sched_fork clears it ({@code sched_info_on()}), else -1. */
    private final long schedInfo;
    private final long schedInfoSize;
    /** The classes highest first, as {@code for_each_class} walks them. */
    private final SchedClass[] classes;
    private final Mm mm;
    private final TaskAlloc taskAlloc;
    private final Pids pids;
    private final Vfork vfork;
    private final int spIndex;
    private final int lrIndex;
    private final int pcIndex;
    private final long retFromFork;
    private final long switchReturn;
    private final long scheduleResume;

    Core(Machine mc, Preempt preempt, Mm mm, TaskAlloc taskAlloc, Pids pids, Vfork vfork) {
        this.mc = mc;
        this.m = mc.m;
        this.platform = mc.platform;
        this.o = mc.o;
        this.f = mc.f;
        this.preempt = preempt;
        this.mm = mm;
        this.taskAlloc = taskAlloc;
        this.pids = pids;
        this.vfork = vfork;
        this.rq = new Rq(mc);
        this.rt = new Rt(mc, rq);
        this.topology = new Topology(mc, rq);
        this.fair = new Fair(mc, rq, topology);
        this.hrtimer = new Hrtimer(mc);
        this.deadline = new Deadline(mc, hrtimer);
        this.rseq = new Rseq(mc);
        this.numa = new Fair.Numa(mc, rq);
        var profile = platform.profile();
        this.rtTimeout = profile.offsetOf("task_struct", "rt.timeout");
        this.preemptNotifiers = profile.config().enabled("CONFIG_PREEMPT_NOTIFIERS")
                && profile.has("task_struct", "preempt_notifiers") ? profile.offsetOf("task_struct", "preempt_notifiers") : -1;
        this.pushableDlTasks = platform.smp() && profile.has("task_struct", "pushable_dl_tasks")
                ? profile.offsetOf("task_struct", "pushable_dl_tasks") : -1;
        // sched_info_on(): always with SCHEDSTATS, else delayacct_on (1 by default) with TASK_DELAY_ACCT
        var config = profile.config();
        boolean schedInfoOn = config.enabled("CONFIG_SCHEDSTATS") || config.enabled("CONFIG_TASK_DELAY_ACCT");
        this.schedInfo = schedInfoOn && profile.has("task_struct", "sched_info")
                ? profile.offsetOf("task_struct", "sched_info") : -1;
        this.schedInfoSize = schedInfo >= 0 ? profile.field("task_struct", "sched_info").size() : 0;
        this.fair.core = this;
        this.idle = new Idle(mc, rq);
        this.classes = new SchedClass[] {rt, fair, idle};
        java.util.List<String> names = platform.cpuRegisters();
        this.spIndex = names.indexOf("sp");
        this.lrIndex = names.indexOf("lr") >= 0 ? names.indexOf("lr") : names.indexOf("x30");
        this.pcIndex = names.indexOf("pc");
        this.retFromFork = mc.symbols.address("ret_from_fork");
        this.switchReturn = mc.symbols.address("__schedule") + SWITCH_RETURN;
        this.scheduleResume = mc.symbols.address("schedule") + 0x40;
    }

    /** The class of {@code p} by its {@code sched_class} pointer. */
    SchedClass classOf(long p) {
        long address = m.readPointer(p + f.task.schedClass);
        for (SchedClass c : classes) {
            if (c.address() == address) {
                return c;
            }
        }
        throw new IllegalStateException(String.format("task 0x%x has no known sched_class", p));
    }

    private int rank(SchedClass c) {
        for (int i = 0; i < classes.length; i++) {
            if (classes[i] == c) {
                return classes.length - i;
            }
        }
        return 0;
    }

    boolean isIdle(long p) {
        return (m.readInt(p + o.taskFlags) & TaskFlags.PF_IDLE) != 0;
    }

    // ---- priorities and load ----

    /** {@code set_load_weight(p, false)}: the weight of the task's static priority (idle policy: WEIGHT_IDLEPRIO). */
    void setLoadWeight(long p) {
        setLoadWeight(p, false);
    }

    /**
     * {@code set_load_weight(p, update_load)}: with {@code update_load} a fair task is reweighted
     * ({@code reweight_task}, its load averages rescaled on its CPU's queue); SCHED_IDLE always gets
     * WEIGHT_IDLEPRIO plainly.
     */
    void setLoadWeight(long p, boolean updateLoad) {
        int policy = m.readInt(p + o.taskPolicy);
        long weight;
        long wmult;
        if (policy == Fair.SCHED_IDLE) {
            weight = (long) WEIGHT_IDLEPRIO << fair.loadShift();
            wmult = WMULT_IDLEPRIO;
        } else {
            int idx = m.readInt(p + o.taskStaticPrio) - Rt.MAX_RT_PRIO;
            weight = (long) PRIO_TO_WEIGHT[idx] << fair.loadShift();
            wmult = PRIO_TO_WMULT[idx];
            if (updateLoad && classOf(p) == fair) {
                fair.reweightTask(taskCpu(p), p, weight, wmult);
                return;
            }
        }
        m.writePointer(p + f.task.seLoadWeight, weight);
        m.writeInt(p + f.task.seLoadInvWeight, (int) wmult);
    }

    // ---- fork ----

    /** {@code __sched_fork(0, idle)} as {@code init_idle} calls it, on the boot CPU. */
    void schedForkInit(long p) {
        schedForkInit(0, p, 0, p);
    }

    /**
     * {@code __sched_fork(clone_flags, p)} on {@code cpu} (the CPU running {@code current}): a clean
     * fair entity (no cfs_rq with FAIR_GROUP_SCHED), the deadline entity's cleared node, timers and
     * parameters, a clean RT entity, no preempt notifiers, and {@code init_numa_balancing}.
     */
    void schedForkInit(long cloneFlags, long p, int cpu, long current) {
        m.writeInt(p + o.taskOnRq, 0);
        m.writeInt(p + f.task.seOnRq, 0);
        m.writeLong(p + f.task.seExecStart, 0);
        m.writeLong(p + f.task.seSumExec, 0);
        m.writeLong(p + f.task.sePrevSumExec, 0);
        m.writeLong(p + f.task.seNrMigrations, 0);
        m.writeLong(p + f.task.seVruntime, 0);
        mc.lists.init(p + f.task.seGroupNode);
        fair.setTaskRq(p, -1);
        deadline.schedForkDl(p, cpu);
        mc.lists.init(p + f.task.rtRunList);
        m.writePointer(p + rtTimeout, 0);
        m.writeInt(p + f.task.rtTimeSlice, rt.rrTimeslice());
        m.writeShort(p + f.task.rtOnRq, (short) 0);
        m.writeShort(p + f.task.rtOnList, (short) 0);
        if (preemptNotifiers >= 0) {
            m.writePointer(p + preemptNotifiers, 0);
        }
        numa.initNumaBalancing(cloneFlags, p, current);
    }

    /**
     * {@code sched_fork(clone_flags, p)}: TASK_NEW, prio from the parent's normal_prio, reset-on-fork,
     * the class by prio, the current CPU via {@code __set_task_cpu}, the class's {@code task_fork}, and
     * the preempt count a new task starts with. Returns 0 or -EAGAIN (a SCHED_DEADLINE parent).
     */
    int schedFork(long cloneFlags, long p, long parent, int cpu) {
        schedForkInit(cloneFlags, p, cpu, parent);
        m.writePointer(p + o.taskState, TaskStateBits.TASK_NEW);
        m.writeInt(p + o.taskPrio, m.readInt(parent + o.taskNormalPrio));
        long word = m.readInt(p + f.task.resetOnForkWord);
        if ((word & (1L << f.task.resetOnForkBit)) != 0) {
            int policy = m.readInt(p + o.taskPolicy);
            if (policy == SCHED_DEADLINE || policy == Rt.SCHED_FIFO || policy == Rt.SCHED_RR) {
                m.writeInt(p + o.taskPolicy, Fair.SCHED_NORMAL);
                m.writeInt(p + o.taskStaticPrio, DEFAULT_PRIO);
                m.writeInt(p + o.taskRtPriority, 0);
            } else if (m.readInt(p + o.taskStaticPrio) < DEFAULT_PRIO) {
                m.writeInt(p + o.taskStaticPrio, DEFAULT_PRIO);
            }
            int prio = m.readInt(p + o.taskStaticPrio);
            m.writeInt(p + o.taskPrio, prio);
            m.writeInt(p + o.taskNormalPrio, prio);
            setLoadWeight(p);
            m.writeInt(p + f.task.resetOnForkWord, (int) (word & ~(1L << f.task.resetOnForkBit)));
        }
        if (m.readInt(p + o.taskPolicy) == SCHED_DEADLINE) {
            return Errno.EAGAIN.negative();
        }
        SchedClass cls = m.readInt(p + o.taskPrio) < Rt.MAX_RT_PRIO ? rt : fair;
        m.writePointer(p + f.task.schedClass, cls.address());
        fair.initEntityRunnableAverage(p);
        setTaskCpuRaw(p, cpu);
        cls.taskFork(cpu, p);
        if (schedInfo >= 0) {
            m.fill(p + schedInfo, schedInfoSize, (byte) 0);
        }
        if (o.taskOnCpu >= 0) {
            m.writeInt(p + o.taskOnCpu, 0);
        }
        mc.setPreemptCount(p, platform.forkPreemptCount());
        if (f.task.pushablePrio >= 0) {
            // plist_node_init(&p->pushable_tasks, MAX_PRIO)
            m.writeInt(p + f.task.pushablePrio, MAX_PRIO);
            mc.lists.init(p + f.task.pushablePrioList);
            mc.lists.init(p + f.task.pushableNodeList);
        }
        if (pushableDlTasks >= 0) {
            // RB_CLEAR_NODE(&p->pushable_dl_tasks)
            m.writePointer(p + pushableDlTasks, p + pushableDlTasks);
        }
        return 0;
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
        fair.setTaskRq(p, cpu);
    }

    int taskCpu(long p) {
        return platform.taskCpu(m, p);
    }

    /** {@code set_task_cpu(p, new_cpu)}: counts a migration, then {@code __set_task_cpu}. */
    void setTaskCpu(long p, int newCpu) {
        if (taskCpu(p) != newCpu) {
            m.writeLong(p + f.task.seNrMigrations, m.readLong(p + f.task.seNrMigrations) + 1);
            rseq.rseqMigrate(p);
        }
        setTaskCpuRaw(p, newCpu);
    }

    /**
     * {@code kick_process(p)} run on {@code thisCpu}: if p is running on another CPU, a reschedule IPI
     * there ({@code smp_send_reschedule}), so that it enters the kernel and, on its way back to user
     * mode, sees what was just made pending for it. TIF_NEED_RESCHED is not set.
     */
    void kickProcess(int thisCpu, long p) {
        int c = taskCpu(p);
        if (c != thisCpu && rq.curr(c) == p) {
            rq.smpSendReschedule(thisCpu, c);
        }
    }

    /** The CPUs in {@code p->cpus_allowed}. */
    boolean allowed(long p, int cpu) {
        return fair.allowed(p, cpu);
    }

    /**
     * The model's placement where it does not follow 4.19 yet: an RT task's fork
     * ({@code select_task_rq_rt}'s {@code find_lowest_rq} is not modelled), a fair task whose
     * domains gave a CPU it may not use ({@code select_fallback_rq}), and a wakeup whose CPU is not
     * allowed: the idlest allowed CPU by nr_running; a tie keeps {@code prevCpu}, else takes the
     * lowest-numbered CPU.
     */
    int selectTaskRqFork(long p, int prevCpu) {
        int best = -1;
        int bestNr = 0;
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            if (!allowed(p, cpu) || !mc.online[cpu]) {
                continue;
            }
            int nr = rq.nrRunning(cpu);
            if (best < 0 || nr < bestNr || (nr == bestNr && cpu == prevCpu)) {
                best = cpu;
                bestNr = nr;
            }
        }
        return best < 0 ? prevCpu : best;
    }

    /**
     * {@code select_task_rq(p, task_cpu(p), SD_BALANCE_FORK, 0)}: a fair task by
     * {@code select_task_rq_fair} over the sched domains ({@code find_idlest_group} on PELT loads),
     * another class by {@link #selectTaskRqFork}; a CPU it may not run on falls back to that rule too.
     */
    int selectTaskRq(long p, int prevCpu, int thisCpu) {
        if (classOf(p) != fair) {
            return selectTaskRqFork(p, prevCpu);
        }
        int cpu = fair.selectTaskRqFork(p, prevCpu, thisCpu);
        if (!allowed(p, cpu) || !mc.online[cpu]) {
            cpu = selectTaskRqFork(p, prevCpu);
        }
        return cpu;
    }

    /**
     * {@code select_task_rq(p, p->wake_cpu, SD_BALANCE_WAKE, 0)} in {@code try_to_wake_up}: a fair
     * task allowed on more than one CPU by {@code select_task_rq_fair}; another class, or a result it
     * may not run on, by {@link #selectTaskRqFork} (its previous CPU if that is allowed and online).
     */
    private int selectTaskRqWake(long p, int prevCpu, int thisCpu) {
        if (classOf(p) == fair && nrCpusAllowed(p) > 1) {
            int cpu = fair.selectTaskRqWake(p, prevCpu, thisCpu, rq.curr(thisCpu));
            if (allowed(p, cpu) && mc.online[cpu]) {
                return cpu;
            }
        } else if (allowed(p, prevCpu) && mc.online[prevCpu]) {
            return prevCpu;
        }
        return selectTaskRqFork(p, prevCpu);
    }

    /** {@code p->nr_cpus_allowed} counted from {@code cpus_allowed} over the machine's CPUs. */
    private int nrCpusAllowed(long p) {
        int n = 0;
        for (int c = 0; c < mc.cpus; c++) {
            if (allowed(p, c)) {
                n++;
            }
        }
        return n;
    }

    /** {@code activate_task(rq, p, flags)} -> {@code enqueue_task}: queued and counted. */
    void enqueue(int cpu, long p, int flags) {
        classOf(p).enqueueTask(cpu, p, flags);
        m.writeInt(p + f.task.seOnRq, 1);
        m.writeInt(p + o.taskOnRq, TASK_ON_RQ_QUEUED);
        rq.addNrRunning(cpu, 1);
    }

    /** {@code deactivate_task(rq, p, flags)} of a queued (not running) task. */
    void dequeueQueued(int cpu, long p, int flags) {
        classOf(p).dequeueTask(cpu, p, flags);
        m.writeInt(p + f.task.seOnRq, 0);
        m.writeInt(p + o.taskOnRq, 0);
        rq.addNrRunning(cpu, -1);
    }

    /** {@code deactivate_task(rq, prev, DEQUEUE_SLEEP)} of the running task (it blocks or dies): no longer counted. */
    private void dequeueRunning(int cpu, long p) {
        classOf(p).dequeueTask(cpu, p, SchedClass.DEQUEUE_SLEEP);
        m.writeInt(p + f.task.seOnRq, 0);
        m.writeInt(p + o.taskOnRq, 0);
        rq.addNrRunning(cpu, -1);
    }

    /**
     * {@code wake_up_new_task(p)}: TASK_RUNNING, fork balancing to the idlest allowed CPU with
     * {@code __set_task_cpu}, {@code activate_task}, {@code on_rq = TASK_ON_RQ_QUEUED}, the
     * {@code sched_wakeup_new} event, then {@code check_preempt_curr(rq, p, WF_FORK)}. Runs under
     * pi_lock and the rq lock: irqs off, preemption disabled twice.
     */
    void wakeUpNewTask(long p, int thisCpu) {
        preempt.lockIrqSave(thisCpu);
        m.writePointer(p + o.taskState, TaskStateBits.TASK_RUNNING);
        int prev = taskCpu(p);
        if (o.taskRecentUsedCpu >= 0) {
            m.writeInt(p + o.taskRecentUsedCpu, prev);
        }
        int cpu = selectTaskRq(p, prev, thisCpu);
        setTaskCpuRaw(p, cpu);
        preempt.preemptDisable(thisCpu);
        rq.updateRqClock(cpu);
        fair.postInitEntityUtilAvg(cpu, p);
        enqueue(cpu, p, 0);
        mc.trace.wakeupNew(thisCpu, p, cpu);
        checkPreemptCurr(cpu, p, thisCpu);
        preempt.preemptEnableNoResched(thisCpu);
        preempt.unlockIrqRestore(thisCpu);
    }

    /** {@code check_preempt_curr(rq, p, flags)}: a higher class always preempts; the same class decides itself. */
    void checkPreemptCurr(int cpu, long p, int thisCpu) {
        SchedClass pc = classOf(p);
        SchedClass cc = classOf(rq.curr(cpu));
        if (pc == cc) {
            pc.checkPreemptCurr(cpu, p, thisCpu);
        } else if (rank(pc) > rank(cc)) {
            rq.reschedCurr(cpu, thisCpu);
        }
    }

    /** {@code pick_next_task}: each class highest first; the idle class always has a task. */
    long pickNextTask(int cpu) {
        for (SchedClass c : classes) {
            long p = c.pickNextTask(cpu);
            if (p != 0) {
                return p;
            }
        }
        throw new IllegalStateException("no idle task on CPU " + cpu);
    }

    /** {@code update_curr} of the running task's class. */
    void updateCurr(int cpu) {
        long p = rq.curr(cpu);
        if (p != 0 && p != rq.idle(cpu)) {
            classOf(p).updateCurr(cpu, p);
        }
    }

    /** {@code set_next_entity}: the task starts a slice now. */
    private void setNextEntity(long next) {
        m.writeLong(next + f.task.seExecStart, mc.clock);
        m.writeLong(next + f.task.sePrevSumExec, m.readLong(next + f.task.seSumExec));
    }

    /**
     * {@code schedule_debug(prev)}: {@code __schedule} must be entered with exactly the scheduler's own
     * preempt disable; anything more is "BUG: scheduling while atomic", after which the kernel resets
     * the count ({@code preempt_count_set(PREEMPT_DISABLED)}) and goes on.
     */
    private void scheduleDebug(long prev) {
        long ti = platform.taskThreadInfo(m, prev);
        int count = m.readInt(ti + o.tiPreemptCount);
        if (count != platform.preemptDisableOffset()) {
            mc.bug(String.format("BUG: scheduling while atomic: %s/%d/0x%08x", mc.comm(prev),
                    m.readInt(prev + o.taskPid), count));
            m.writeInt(ti + o.tiPreemptCount, platform.preemptDisableOffset());
        }
    }

    /** Set once the softirq layer exists: {@code trigger_load_balance} raises SCHED_SOFTIRQ through it. */
    Softirq softirq;
    /** Set once RCU exists: {@code __schedule} notes the context switch as a quiescent state. */
    @org.jspecify.annotations.Nullable Rcu rcu;

    /**
     * {@code scheduler_tick()} on {@code cpu}: {@code update_curr}, the class's {@code task_tick},
     * {@code cpu_load_update_active}, then {@code rq->idle_balance} and {@code trigger_load_balance}
     * (SCHED_SOFTIRQ raised once jiffies reach {@code rq->next_balance}).
     */
    void schedulerTick(int cpu) {
        long p = rq.curr(cpu);
        rq.updateRqClock(cpu);
        updateCurr(cpu);
        if (p != rq.idle(cpu)) {
            classOf(p).taskTick(cpu, p);
        }
        rq.cpuLoadUpdateActive(cpu, fair.weightedCpuload(cpu));
        if (fair.triggerLoadBalance(cpu) && softirq != null) {
            softirq.raiseSoftirq(cpu, Softirq.SCHED_SOFTIRQ);
        }
    }

    /**
     * {@code detach_task(p, env)} of load balancing run on {@code dst}: {@code deactivate_task} on
     * {@code src} and {@code set_task_cpu} (its {@code sched_migrate_task} line,
     * {@code migrate_task_rq_fair} detaching the task's load, its vruntime left relative).
     */
    void detachTask(long p, int src, int dst) {
        mc.trace.migrate(dst, p, src, dst);
        dequeueQueued(src, p, 0);
        migrateTaskRq(p, src, true, false);
        setTaskCpu(p, dst);
    }

    /** {@code attach_task(rq, p)}: {@code activate_task} on {@code dst} (vruntime made absolute there) and {@code check_preempt_curr}. */
    void attachTask(long p, int dst) {
        enqueue(dst, p, 0);
        checkPreemptCurr(dst, p, dst);
    }

    /**
     * {@code __sched_setscheduler} run on {@code thisCpu}: policy, rt_priority, normal_prio and prio,
     * load weight and class; a queued task is requeued, a running one rescheduled if it got worse
     * ({@code prio_changed_*}), a queued one checked against the running task. The reschedule is
     * {@code resched_curr} of the task's rq: on another CPU than {@code thisCpu} with the IPI.
     */
    void setScheduler(long p, int policy, int rtPriority, int normalPrio, int thisCpu) {
        int cpu = taskCpu(p);
        boolean running = rq.curr(cpu) == p;
        boolean queuedNow = !running && m.readInt(p + o.taskOnRq) == TASK_ON_RQ_QUEUED;
        int queueFlags = SchedClass.DEQUEUE_SAVE | SchedClass.DEQUEUE_MOVE;
        rq.updateRqClock(cpu);
        if (running) {
            updateCurr(cpu);
            classOf(p).dequeueTask(cpu, p, queueFlags);
        }
        if (queuedNow) {
            dequeueQueued(cpu, p, queueFlags);
        }
        int oldPrio = m.readInt(p + o.taskPrio);
        m.writeInt(p + o.taskPolicy, policy);
        m.writeInt(p + o.taskRtPriority, rtPriority);
        m.writeInt(p + o.taskNormalPrio, normalPrio);
        m.writeInt(p + o.taskPrio, normalPrio);
        setLoadWeight(p, true);
        SchedClass prevClass = classOf(p);
        m.writePointer(p + f.task.schedClass, (normalPrio < Rt.MAX_RT_PRIO ? rt : fair).address());
        if (running) {
            // enqueue_task, then set_curr_task: counted again, and off the queue while it runs
            SchedClass cls = classOf(p);
            cls.enqueueTask(cpu, p, 0);
            cls.setNextTask(cpu, p);
        }
        if (queuedNow) {
            enqueue(cpu, p, 0);
        }
        // check_class_changed: the old class's switched_from, the new one's switched_to
        if (prevClass != classOf(p)) {
            if (prevClass == fair) {
                fair.switchedFromFair(cpu, p);
            } else if (classOf(p) == fair) {
                fair.switchedToFair(cpu, p);
            }
        }
        if (queuedNow) {
            checkPreemptCurr(cpu, p, thisCpu);
        } else if (running && normalPrio > oldPrio) {
            rq.reschedCurr(cpu, thisCpu);
        }
    }

    /** {@code sched_setscheduler(p, policy, {priority})}: EINVAL for an unknown policy or a priority outside its range. */
    void schedSetscheduler(long t, int policy, int priority, int thisCpu) {
        boolean isRt = policy == Rt.SCHED_FIFO || policy == Rt.SCHED_RR;
        boolean isFair = policy == Fair.SCHED_NORMAL || policy == Fair.SCHED_BATCH || policy == Fair.SCHED_IDLE;
        if (!isRt && !isFair || (isRt && (priority < 1 || priority > 99)) || (isFair && priority != 0)) {
            throw new KernelException(Errno.EINVAL, "policy " + policy + " priority " + priority);
        }
        setScheduler(t, policy, priority, isRt ? Rt.MAX_RT_PRIO - 1 - priority : m.readInt(t + o.taskStaticPrio),
                thisCpu);
    }

    /**
     * {@code set_user_nice(p, nice)} run on {@code thisCpu}: nothing if the nice value is unchanged; an
     * RT task only gets the new static_prio; otherwise the task is dequeued (saved), given the new
     * static_prio, load weight and prio, enqueued again, and its rq rescheduled
     * ({@code resched_curr}, an IPI if remote) when the prio improved, or worsened while it runs.
     */
    void setUserNice(long t, int nice, int thisCpu) {
        if (nice < -20 || nice > 19) {
            throw new KernelException(Errno.EINVAL, "nice " + nice);
        }
        if (m.readInt(t + o.taskStaticPrio) == DEFAULT_PRIO + nice) {
            return;
        }
        int policy = m.readInt(t + o.taskPolicy);
        if (policy == Rt.SCHED_FIFO || policy == Rt.SCHED_RR || policy == SCHED_DEADLINE) {
            m.writeInt(t + o.taskStaticPrio, DEFAULT_PRIO + nice);
            return;
        }
        int cpu = taskCpu(t);
        boolean running = rq.curr(cpu) == t;
        boolean queued = m.readInt(t + o.taskOnRq) == TASK_ON_RQ_QUEUED;
        SchedClass cls = classOf(t);
        rq.updateRqClock(cpu);
        if (queued) {
            cls.dequeueTask(cpu, t, SchedClass.DEQUEUE_SAVE);
        }
        m.writeInt(t + o.taskStaticPrio, DEFAULT_PRIO + nice);
        setLoadWeight(t, true);
        int oldPrio = m.readInt(t + o.taskPrio);
        m.writeInt(t + o.taskNormalPrio, DEFAULT_PRIO + nice);
        m.writeInt(t + o.taskPrio, DEFAULT_PRIO + nice);
        int delta = DEFAULT_PRIO + nice - oldPrio;
        if (queued) {
            cls.enqueueTask(cpu, t, 0);
            if (running) {
                cls.setNextTask(cpu, t);
            }
            if (delta < 0 || (delta > 0 && running)) {
                rq.reschedCurr(cpu, thisCpu);
            }
        }
    }

    // ---- preemption points ----

    /**
     * {@code preempt_enable()}: -1 with CONFIG_PREEMPT_COUNT; with CONFIG_PREEMPT, reaching zero with
     * TIF_NEED_RESCHED set is a preemption point ({@code __preempt_schedule}).
     */
    void preemptEnable(int cpu) {
        if (!platform.preemptCountEnabled()) {
            return;
        }
        preempt.sub(cpu, io.github.kproc.view.PreemptCount.PREEMPT_OFFSET, io.github.kproc.view.PreemptCount.PREEMPT_MASK,
                "preempt_enable underflow");
        preemptCheckResched(cpu);
    }

    /** {@code preempt_check_resched()}: with CONFIG_PREEMPT, a zero count and TIF_NEED_RESCHED preempt now. */
    void preemptCheckResched(int cpu) {
        if (platform.preemptible() && preempt.count(cpu) == 0 && preempt.irqsEnabled(cpu) && preempt.needResched(cpu)) {
            schedule(cpu, true, 0);
        }
    }

    // ---- __schedule and the context switch ----

    /**
     * {@code __schedule(preempt)} on {@code cpu}, entered from {@code schedule()} (preempt_disable),
     * {@code preempt_schedule} or, for the idle task, {@code schedule_idle()}. A task that is not
     * TASK_RUNNING and not preempted is deactivated; the next task is {@code forcedNext} if non-zero,
     * else {@link #pickNextTask}.
     */
    void schedule(int cpu, boolean preempted, long forcedNext) {
        long prev = rq.curr(cpu);
        if (!isIdle(prev)) {
            preempt.preemptDisable(cpu);
        }
        scheduleDebug(prev);
        mc.irqsOff[cpu] = true;
        if (rcu != null) {
            rcu.noteContextSwitch(cpu);
        }
        preempt.preemptDisable(cpu);
        rq.updateRqClock(cpu);
        updateCurr(cpu);
        boolean voluntary = !preempted && m.readPointer(prev + o.taskState) != TaskStateBits.TASK_RUNNING;
        if (voluntary) {
            dequeueRunning(cpu, prev);
        } else if (prev != rq.idle(cpu)) {
            classOf(prev).putPrevTask(cpu, prev);
        }
        rt.rrExpired[cpu] = false;
        if (stopperTask == prev && stopperTask != 0) {
            // sched_exec's stopper ran between put_prev_task and the pick
            stopperTask = 0;
            moveQueuedTask(cpu, prev, stopperDest);
        }
        long next = forcedNext != 0 ? forcedNext : pickNextTask(cpu);
        if (forcedNext != 0 && classOf(next) == fair) {
            // Cpu.run's pick as pick_next_task_fair's: the task moves to the head of rq->cfs_tasks
            fair.movePicked(cpu, next);
        }
        classOf(next).setNextTask(cpu, next);
        mc.clearTsiFlag(prev, Machine.TIF_NEED_RESCHED);
        if (prev == next) {
            mc.irqsOff[cpu] = false;
            preempt.preemptEnableNoResched(cpu);
            if (!isIdle(prev)) {
                preempt.preemptEnableNoResched(cpu);
            }
            return;
        }
        rq.incNrSwitches(cpu);
        rq.setCurr(cpu, next);
        setNextEntity(next);
        long counter = prev + (voluntary ? f.task.nvcsw : f.task.nivcsw);
        m.writePointer(counter, m.readPointer(counter) + 1);
        mc.trace.switchTo(cpu, preempted, prev, next);
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
        // prepare_task_switch: rseq_preempt(prev)
        rseq.rseqPreempt(prev);
        if (o.taskOnCpu >= 0) {
            m.writeInt(next + o.taskOnCpu, 1);
        }
        long nextMm = m.readPointer(next + o.taskMm);
        long oldmm = m.readPointer(prev + o.taskActiveMm);
        if (nextMm == 0) {
            m.writePointer(next + o.taskActiveMm, oldmm);
            if (oldmm != 0) {
                mm.mmgrab(oldmm);
            }
        }
        long prevMm = 0;
        if (m.readPointer(prev + o.taskMm) == 0) {
            m.writePointer(prev + o.taskActiveMm, 0);
            prevMm = oldmm;
        }
        long[] regs = mc.registers[cpu];
        regs[lrIndex] = switchReturn;
        regs[spIndex] -= SCHEDULE_FRAME;
        platform.switchTo(m, regs, prev, next);
        finishTaskSwitch(cpu, prev, prevMm);
        if (regs[pcIndex] == retFromFork) {
            scheduleTail(cpu, next);
        } else {
            if (!isIdle(next)) {
                preempt.preemptEnableNoResched(cpu);
            }
            regs[spIndex] += SCHEDULE_FRAME;
            regs[pcIndex] = scheduleResume;
            vfork.resumed(next);
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
        mc.irqsOff[cpu] = false;
        preempt.preemptEnableNoResched(cpu);
        if (prevMm != 0) {
            mm.mmdrop(prevMm);
        }
        if (prevState == TaskStateBits.TASK_DEAD) {
            if (classOf(prev) == fair) {
                fair.taskDead(taskCpu(prev), prev);
            }
            taskAlloc.putTaskStack(prev);
            taskAlloc.putTaskStruct(prev);
        }
    }

    /**
     * {@code schedule_tail(prev)} via {@code ret_from_fork}: preemption back on, and
     * {@code put_user(task_pid_vnr(current), current->set_child_tid)}.
     */
    private void scheduleTail(int cpu, long next) {
        preempt.preemptEnableNoResched(cpu);
        long setChildTid = m.readPointer(next + f.task.setChildTid);
        if (setChildTid != 0) {
            long pid = m.readPointer(next + f.task.threadPid);
            mc.putUser(next, setChildTid, pids.nrNs(pid, pids.taskActivePidNs(next)));
        }
        mc.registers[cpu][pcIndex] = retFromFork + 0x10;
    }

    /** The tasks queued (runnable, not running) on {@code cpu}, class by class, highest first. */
    java.util.List<Long> queued(int cpu) {
        java.util.List<Long> out = new java.util.ArrayList<>();
        for (SchedClass c : classes) {
            c.queuedTasks(cpu, out);
        }
        return out;
    }

    /** The CPU {@code p} is running on, or -1. */
    int runningOn(long p) {
        for (int c = 0; c < mc.cpus; c++) {
            if (rq.curr(c) == p) {
                return c;
            }
        }
        return -1;
    }

    /**
     * {@code Cpu.run}: runs {@code t} on {@code cpu} now, as if picked: migrates it from another CPU's
     * queue ({@code set_task_cpu}, traced) if needed and preempts the running task with a forced
     * {@code __schedule(true)}.
     */
    void runTask(int cpu, long t) {
        long prev = rq.curr(cpu);
        if (t == prev) {
            return;
        }
        int running = runningOn(t);
        if (running >= 0) {
            throw new KernelException(Errno.EBUSY, "task runs on CPU " + running);
        }
        boolean idleTask = isIdle(t);
        if (idleTask && t != rq.idle(cpu)) {
            throw new KernelException(Errno.EINVAL, "another CPU's idle task");
        }
        if (!idleTask) {
            if (m.readPointer(t + o.taskState) != TaskStateBits.TASK_RUNNING
                    || m.readInt(t + o.taskOnRq) != TASK_ON_RQ_QUEUED) {
                throw new KernelException(Errno.EINVAL, "task is not runnable");
            }
            if (!allowed(t, cpu) || !mc.online[cpu]) {
                throw new KernelException(Errno.EINVAL, "CPU " + cpu + " is not in the task's cpus_allowed");
            }
            int from = taskCpu(t);
            if (from != cpu) {
                mc.trace.migrate(cpu, t, from, cpu);
                dequeueQueued(from, t, 0);
                migrateTaskRq(t, from, true, false);
                setTaskCpu(t, cpu);
                enqueue(cpu, t, 0);
            }
        }
        schedule(cpu, !isIdle(prev), t);
    }

    /**
     * {@code try_to_wake_up(p, TASK_NORMAL, 0)} run on {@code cpu}: under {@code p->pi_lock} (irqs off)
     * {@code sched_waking}, then under the runqueue lock the activation, {@code check_preempt_curr}
     * and {@code sched_wakeup}.
     */
    void tryToWakeUp(int cpu, long t) {
        preempt.lockIrqSave(cpu);
        mc.trace.wakeup(cpu, "sched_waking", t, taskCpu(t));
        preempt.preemptDisable(cpu);
        ttwuActivate(t, cpu);
        mc.trace.wakeup(cpu, "sched_wakeup", t, taskCpu(t));
        preempt.preemptEnableNoResched(cpu);
        preempt.unlockIrqRestore(cpu);
    }

    /**
     * The runqueue half of {@code try_to_wake_up} for a sleeping task: on its previous CPU if allowed
     * and online, else the idlest allowed one (then {@code migrate_task_rq} and
     * {@code ENQUEUE_MIGRATED}); TASK_RUNNING, {@code activate_task(ENQUEUE_WAKEUP)} (which places a
     * fair task no earlier than min_vruntime minus half a latency) and a preemption check.
     */
    private void ttwuActivate(long p, int thisCpu) {
        if (m.readInt(p + o.taskOnRq) == TASK_ON_RQ_QUEUED) {
            // ttwu_remote: update_rq_clock, ttwu_do_wakeup
            m.writePointer(p + o.taskState, TaskStateBits.TASK_RUNNING);
            rq.updateRqClock(taskCpu(p));
            ttwuDoWakeupIdle(taskCpu(p));
            return;
        }
        int cpu = taskCpu(p);
        int flags = SchedClass.ENQUEUE_WAKEUP;
        int target = selectTaskRqWake(p, cpu, thisCpu);
        if (target != cpu) {
            mc.trace.migrate(thisCpu, p, cpu, target);
            migrateTaskRq(p, cpu, false, true);
            setTaskCpu(p, target);
            flags |= SchedClass.ENQUEUE_MIGRATED;
            cpu = target;
        }
        m.writePointer(p + o.taskState, TaskStateBits.TASK_RUNNING);
        rq.updateRqClock(cpu);
        enqueue(cpu, p, flags);
        checkPreemptCurr(cpu, p, thisCpu);
        ttwuDoWakeupIdle(cpu);
    }

    /**
     * The end of {@code ttwu_do_wakeup} on {@code cpu}'s runqueue: if the CPU went idle through
     * {@code idle_balance} (which set {@code rq->idle_stamp}) the idle time since, {@code rq_clock} minus
     * the stamp, feeds {@code rq->avg_idle} ({@code update_avg}: the average moves by the s64
     * difference shifted right by 3), capped at twice {@code rq->max_idle_balance_cost}; the stamp is
     * cleared. {@code idle_balance} and {@code select_idle_cpu} read the average.
     */
    private void ttwuDoWakeupIdle(int cpu) {
        long stamp = rq.idleStamp(cpu);
        if (stamp == 0) {
            return;
        }
        long delta = mc.clock - stamp;
        long max = 2 * rq.maxIdleBalanceCost(cpu);
        long avg = rq.avgIdle(cpu);
        avg += (delta - avg) >> 3;
        if (Long.compareUnsigned(avg, max) > 0) {
            avg = max;
        }
        rq.setAvgIdle(cpu, avg);
        rq.setIdleStamp(cpu, 0);
    }

    /**
     * {@code set_task_cpu} -> {@code migrate_task_rq} of a fair task leaving {@code from}: a waking
     * task's vruntime made relative to that CPU's min_vruntime (for {@code ENQUEUE_MIGRATED} to add the
     * new CPU's), its load detached (queued) or removed (sleeping).
     */
    private void migrateTaskRq(long p, int from, boolean queued, boolean waking) {
        if (classOf(p) == fair) {
            fair.migrateTaskRq(p, from, queued, waking);
        }
    }

    /** The running task {@code sched_exec} hands to the CPU stopper, moved to {@link #stopperDest} when it is switched out. */
    private long stopperTask;
    private int stopperDest;

    /**
     * {@code sched_exec()} on {@code cpu} (do_execveat_common, once the binary is open): a fair task's
     * {@code select_task_rq_fair(SD_BALANCE_EXEC)}; another CPU makes {@code stop_one_cpu(..,
     * migration_cpu_stop)} preempt the task, and {@code migration_cpu_stop} -> {@code __migrate_task}
     * -> {@code move_queued_task} moves it, queued, to that CPU ({@code sched_migrate_task},
     * {@code migrate_task_rq_fair}, {@code check_preempt_curr} there), while this CPU goes on with its
     * next task. The model has no stopper threads ({@code migration/N}): the switch is traced from the
     * task straight to the next one, prev_state {@code R+}. An RT task stays
     * ({@code select_task_rq_rt} only places wakeups and forks). Returns whether the task moved.
     */
    boolean schedExec(int cpu) {
        long p = rq.curr(cpu);
        if (isIdle(p) || classOf(p) != fair) {
            return false;
        }
        rq.updateRqClock(cpu);
        int dest = fair.selectTaskRqExec(p, cpu);
        if (dest == cpu || !allowed(p, dest) || !mc.online[dest]) {
            return false;
        }
        stopperTask = p;
        stopperDest = dest;
        schedule(cpu, true, 0);
        return true;
    }

    /**
     * {@code migration_cpu_stop} -> {@code move_queued_task(rq, p, dest)} run by the stopper on
     * {@code cpu} once the task is back on its queue: {@code sched_migrate_task},
     * {@code deactivate_task}, {@code set_task_cpu}, {@code activate_task} and
     * {@code check_preempt_curr} on {@code dest}.
     */
    private void moveQueuedTask(int cpu, long p, int dest) {
        mc.trace.migrate(cpu, p, cpu, dest);
        dequeueQueued(cpu, p, 0);
        migrateTaskRq(p, cpu, true, false);
        setTaskCpu(p, dest);
        rq.updateRqClock(dest);
        enqueue(dest, p, 0);
        checkPreemptCurr(dest, p, cpu);
    }

    /**
     * {@code sched_yield()} by the running task of {@code cpu}: the class's {@code yield_task}, then
     * {@code schedule()} (the task stays TASK_RUNNING: an involuntary switch, traced {@code R}).
     */
    void schedYield(int cpu) {
        long curr = rq.curr(cpu);
        if (!isIdle(curr)) {
            classOf(curr).yieldTask(cpu);
        }
        schedule(cpu, false, 0);
    }

    /**
     * {@code __migrate_task}/{@code move_queued_task} of a queued or sleeping task to {@code cpu}
     * ({@code set_task_cpu}, {@code sched_migrate_task}), traced on {@code cpu}.
     */
    void migrateTask(long t, int cpu) {
        int from = taskCpu(t);
        if (from == cpu) {
            return;
        }
        boolean queued = m.readInt(t + o.taskOnRq) == TASK_ON_RQ_QUEUED;
        mc.trace.migrate(cpu, t, from, cpu);
        if (queued) {
            dequeueQueued(from, t, 0);
            migrateTaskRq(t, from, true, false);
        } else if (classOf(t) == fair) {
            // a sleeper's absolute vruntime moves with it: migrate_task_rq_fair, then ENQUEUE_MIGRATED at its wakeup
            migrateTaskRq(t, from, false, true);
            m.writeLong(t + f.task.seVruntime, m.readLong(t + f.task.seVruntime) + fair.minVruntime(cpu));
        }
        setTaskCpu(t, cpu);
        if (queued) {
            rq.updateRqClock(cpu);
            enqueue(cpu, t, 0);
            checkPreemptCurr(cpu, t, from);
        }
    }
}
