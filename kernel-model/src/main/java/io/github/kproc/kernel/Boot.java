package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskStateBits;
import io.github.kproc.view.TaskFlags;

/**
 * The boot path as far as tasks go: the static {@code init_task} and its structures
 * ({@code INIT_TASK}, init_files, init_fs, init_sighand, init_signals, init_nsproxy, init_pid_ns,
 * init_struct_pid, init_cred, root_user, init_mm), {@code init_idle} for CPU 0, {@code fork_init}'s
 * limits, {@code rest_init}'s two kernel threads, {@code smp_init}'s idle tasks, and init's exec.
 */
final class Boot {
    /**
     * The boot CPU's {@code sched_clock()} when {@code rest_init} forks the first threads, in ns. In
     * 4.19 on a build without {@code HAVE_UNSTABLE_SCHED_CLOCK} (both bundled ones),
     * {@code sched_clock_cpu} reads 0 until {@code sched_clock_init} (start_kernel, after
     * {@code time_init}) and {@code sched_clock()} after it, so {@code sched_init}'s
     * {@code init_idle(current)} stamps init_task at 0 while the clock has moved by the time
     * {@code rest_init} runs (after {@code calibrate_delay}, {@code check_bugs}...). The value is the
     * seed's real 4.19.1 vexpress board: init's {@code start_time} there is 150 ms (jiffies at HZ=100),
     * and start_kernel's last line before rest_init is stamped 0.152774. A clock still at 0 would leave
     * every entity's PELT {@code last_update_time} at 0, which 4.19 reads as "not attached", so
     * {@code enqueue_entity}'s {@code DO_ATTACH} would attach the first tasks a second time.
     */
    static final long REST_INIT_CLOCK = 150_000_000L;

    /** {@code RLIM_INFINITY} as the build's unsigned long. */
    private final long infinity;
    private final Machine mc;
    private final AddressSpace m;
    private final Platform platform;
    private final Offsets o;
    private final Fields f;
    private final Lists lists;
    private final int ptr;
    private final Core core;
    private final Fork fork;
    private final Exec exec;
    private final Pids pids;
    private final Mm mm;
    private final Files files;
    private final Signals signals;
    private final TaskAlloc taskAlloc;

    Boot(Machine mc, Core core, Fork fork, Exec exec, Pids pids, Mm mm, Files files, Signals signals,
            TaskAlloc taskAlloc) {
        this.mc = mc;
        this.m = mc.m;
        this.platform = mc.platform;
        this.o = mc.o;
        this.f = mc.f;
        this.lists = mc.lists;
        this.ptr = platform.pointerSize();
        this.infinity = ptr == 8 ? -1L : 0xffffffffL;
        this.core = core;
        this.fork = fork;
        this.exec = exec;
        this.pids = pids;
        this.mm = mm;
        this.files = files;
        this.signals = signals;
        this.taskAlloc = taskAlloc;
    }

    void start() {
        staticStructures();
        initTask();
        // sched_init: init_idle(current, 0), and the boot idle thread borrows init_mm (mmgrab) like
        // every lazy-TLB kernel thread; start_kernel's preempt_disable()
        initIdle(mc.initTask, 0);
        mm.mmgrab(mc.initMm);
        mc.setPreemptCount(mc.initTask, platform.preemptDisableOffset());
        // fork_init: RLIMIT_NPROC and RLIMIT_SIGPENDING of init_task are max_threads / 2
        long rlim = mc.initSignals + f.signal.rlim;
        for (int r : new int[] {Rlimit.RLIMIT_NPROC, Rlimit.RLIMIT_SIGPENDING}) {
            m.writePointer(rlim + r * f.signal.rlimitSize, mc.maxThreads() / 2);
            m.writePointer(rlim + r * f.signal.rlimitSize + ptr, mc.maxThreads() / 2);
        }
        // delayacct_init: delayacct_tsk_init(&init_task)
        taskAlloc.delayacctTskInit(mc.initTask);
        // time_init ... sched_clock_init, calibrate_delay, check_bugs: the clock moves before rest_init
        mc.clock = REST_INIT_CLOCK;
        // rest_init
        int init = kernelThread("kernel_init", CloneFlag.FS.value());
        int kthreadd = kernelThread("kthreadd", CloneFlag.FS.value() | CloneFlag.FILES.value());
        // kernel_init runs: smp_init() brings the other CPUs up with their idle tasks
        core.runTask(0, pids.findTaskByVpid(init));
        for (int cpu = 1; cpu < mc.cpus; cpu++) {
            long idle = fork.copyProcess(0, CloneFlag.VM.value(), 0, 0, 0, true, 0);
            if (idle == io.github.kproc.Errno.ENOMEM.negative()) {
                throw Machine.tooLittleRam(mc.ramBytes, "the idle task of CPU " + cpu);
            }
            if (Machine.isErr(idle)) {
                throw new IllegalStateException("fork_idle(" + cpu + ") failed: " + idle);
            }
            for (int type = 0; type < Pids.PIDTYPE_MAX; type++) {
                lists.hlistInitNode(idle + f.task.pidLinks + type * f.list.hnodeSize);
                if (type == Pids.PIDTYPE_PID) {
                    m.writePointer(idle + f.task.threadPid, mc.initStructPid);
                } else {
                    m.writePointer(m.readPointer(idle + f.task.signal) + f.signal.pids + (long) type * ptr, mc.initStructPid);
                }
            }
            initIdle(idle, cpu);
            // secondary_start_kernel: "All kernel threads share the same mm context; grab a reference"
            m.writePointer(idle + o.taskActiveMm, mc.initMm);
            mm.mmgrab(mc.initMm);
            mc.online[cpu] = true;
            core.topology.setRqOnline(cpu);
            platform.enterTask(mc.registers[cpu], idle, platform.taskPtRegs(m, idle));
            // secondary_start_kernel: preempt_disable() before cpu_startup_entry
            mc.setPreemptCount(idle, platform.preemptDisableOffset());
        }
        // sched_init_smp: the scheduling domains over the online CPUs
        core.topology.buildSchedDomains();
        long initTaskAddress = pids.findTaskByVpid(init);
        setCpusAllowedAll(initTaskAddress);
        try {
            // kernel_init -> run_init_process -> do_execve, with sched_exec's balancing like any exec
            exec.exec(0, "init");
        } catch (io.github.kproc.KernelException e) {
            if (e.errno() != io.github.kproc.Errno.ENOMEM) {
                throw e;
            }
            throw Machine.tooLittleRam(mc.ramBytes, "init's exec of /sbin/init");
        }
        // kthreadd runs its prologue: set_task_comm, ignore_signals, all CPUs, PF_NOFREEZE
        long kthreaddTask = pids.findTaskByVpid(kthreadd);
        core.runTask(0, kthreaddTask);
        m.writeCString(kthreaddTask + o.taskComm, o.commLength, "kthreadd");
        signals.ignoreSignals(kthreaddTask);
        setCpusAllowedAll(kthreaddTask);
        m.writeInt(kthreaddTask + o.taskFlags, m.readInt(kthreaddTask + o.taskFlags) | TaskFlags.PF_NOFREEZE);
        // and CPU 0 goes idle (cpu_startup_entry)
        core.runTask(0, mc.initTask);
    }

    /** {@code kernel_thread(fn, 0, flags)} from CPU 0 during boot: the new thread's pid. */
    private int kernelThread(String fn, long flags) {
        long pid = fork.doFork(0, flags | CloneFlag.VM.value() | CloneFlag.UNTRACED.value(), mc.symbols.address(fn), 0, 0,
                0, 0, "kernel_thread");
        if (pid == io.github.kproc.Errno.ENOMEM.negative()) {
            throw Machine.tooLittleRam(mc.ramBytes, "kernel_thread(" + fn + ")");
        }
        if (pid < 0) {
            throw new IllegalStateException("rest_init: kernel_thread(" + fn + ") failed: " + pid);
        }
        return (int) pid;
    }

    /** {@code get_random_canary()} for init_task. */
    private long randomCanary() {
        long v = mc.random.nextLong();
        return ptr == 8 ? v & 0xffffffffffffff00L : v & 0xffffffffL;
    }

    private void setCpusAllowedAll(long p) {
        m.fill(p + f.task.cpusAllowed, f.task.cpusAllowedSize, (byte) 0);
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            long word = p + f.task.cpusAllowed + (long) (cpu / (8 * ptr)) * ptr;
            m.writePointer(word, m.readPointer(word) | (1L << (cpu % (8 * ptr))));
        }
        m.writeInt(p + f.task.nrCpusAllowed, mc.cpus);
    }

    private void setCpusAllowedOne(long p, int cpu) {
        m.fill(p + f.task.cpusAllowed, f.task.cpusAllowedSize, (byte) 0);
        long word = p + f.task.cpusAllowed + (long) (cpu / (8 * ptr)) * ptr;
        m.writePointer(word, 1L << (cpu % (8 * ptr)));
        m.writeInt(p + f.task.nrCpusAllowed, 1);
    }

    /**
     * {@code init_idle(idle, cpu)}: a running idle task of {@code cpu}, PF_IDLE, pinned to the CPU,
     * current and idle of its runqueue, preempt count PREEMPT_ENABLED, the idle class, comm swapper/N.
     */
    void initIdle(long idle, int cpu) {
        core.schedForkInit(idle);
        m.writePointer(idle + o.taskState, TaskStateBits.TASK_RUNNING);
        m.writeLong(idle + f.task.seExecStart, mc.clock);
        m.writeInt(idle + o.taskFlags, m.readInt(idle + o.taskFlags) | TaskFlags.PF_IDLE);
        setCpusAllowedOne(idle, cpu);
        core.setTaskCpuRaw(idle, cpu);
        core.rq.setCurr(cpu, idle);
        core.rq.setIdle(cpu, idle);
        m.writeInt(idle + o.taskOnRq, Core.TASK_ON_RQ_QUEUED);
        if (o.taskOnCpu >= 0) {
            m.writeInt(idle + o.taskOnCpu, 1);
        }
        mc.setPreemptCount(idle, 0);
        m.writePointer(idle + f.task.schedClass, core.idle.address());
        m.writeCString(idle + o.taskComm, o.commLength, platform.smp() ? "swapper/" + cpu : "swapper");
    }

    private void staticStructures() {
        // root_user: one reference, one process (init_task)
        m.writeInt(mc.rootUser + f.user.count, 1);
        m.writeInt(mc.rootUser + f.user.processes, 1);
        // init_cred: usage 4, root, all capabilities
        m.writeInt(mc.initCred + f.cred.usage, 4);
        m.writePointer(mc.initCred + f.cred.user, mc.rootUser);
        for (String cap : new String[] {"cap_permitted", "cap_effective", "cap_bset"}) {
            long at = mc.initCred + o.required("cred", cap);
            m.writeInt(at, -1);
            m.writeInt(at + 4, 0x3f);
        }
        // init_pid_ns: kref 2, adding pids, child_reaper = init_task, .idr = IDR_INIT (pid_idr_init: idr_init)
        m.writeInt(mc.initPidNs + f.pidNs.kref, 2);
        m.writeInt(mc.initPidNs + f.pidNs.pidAllocated, Pids.PIDNS_ADDING);
        m.writePointer(mc.initPidNs + f.pidNs.childReaper, mc.initTask);
        mc.idr.init(mc.initPidNs + f.pidNs.idr);
        pids.cacheFor(0);
        // init_struct_pid: count 1, number 0 in init_pid_ns
        m.writeInt(mc.initStructPid + f.pid.count, 1);
        m.writePointer(mc.initStructPid + f.pid.numbers + f.upid.ns, mc.initPidNs);
        // init_nsproxy
        m.writeInt(mc.initNsproxy + f.nsproxy.count, 1);
        m.writePointer(mc.initNsproxy + f.nsproxy.pidNsForChildren, mc.initPidNs);
        // init_mm: mm_users 2, mm_count 1, swapper_pg_dir
        m.writeInt(mc.initMm + f.mm.users, 2);
        m.writeInt(mc.initMm + f.mm.count, 1);
        lists.init(mc.initMm + f.mm.mmlist);
        long pgdSize = (long) platform.pageSize() << platform.pgdOrder();
        m.writePointer(mc.initMm + f.mm.pgd, mc.staticAlloc(pgdSize, pgdSize));
        // init_files
        files.initFiles(mc.initFiles);
        // init_fs: one user, umask 0022
        long fs = mc.initFs;
        m.writeInt(fs + f.fs.users, 1);
        m.writeInt(fs + o.required("fs_struct", "umask"), 0022);
        // init_sighand: count 1, every handler SIG_DFL
        long sighand = mc.initSighand;
        m.writeInt(sighand + f.sighand.count, 1);
        lists.init(sighand + f.sighand.signalfdHead);
        // init_signals
        long signal = mc.initSignals;
        m.writeInt(signal + f.signal.nrThreads, 1);
        m.writePointer(signal + f.signal.threadHead + f.list.next, mc.initTask + f.task.threadNode);
        m.writePointer(signal + f.signal.threadHead + f.list.prev, mc.initTask + f.task.threadNode);
        lists.init(signal + f.signal.waitChldexitHead);
        lists.init(signal + f.signal.sharedPendingList);
        lists.init(signal + f.signal.posixTimers);
        lists.init(signal + f.signal.credGuardMutexWaitList);
        for (int i = 0; i < f.signal.cpuTimersCount; i++) {
            lists.init(signal + f.signal.cpuTimers + i * 2L * ptr);
        }
        for (int type = 0; type < Pids.PIDTYPE_MAX; type++) {
            m.writePointer(signal + f.signal.pids + (long) type * ptr, mc.initStructPid);
        }
        initRlimits(signal + f.signal.rlim);
    }

    /** {@code INIT_RLIMITS} (include/asm-generic/resource.h), in RLIMIT_* order. */
    private void initRlimits(long rlim) {
        long stk = 8L * 1024 * 1024;
        long[][] limits = {
            {infinity, infinity}, {infinity, infinity}, {infinity, infinity}, {stk, infinity},
            {0, infinity}, {infinity, infinity}, {0, 0}, {1024, 4096}, {64 * 1024, 64 * 1024},
            {infinity, infinity}, {infinity, infinity}, {0, 0}, {819200, 819200}, {0, 0}, {0, 0},
            {infinity, infinity}};
        for (int r = 0; r < limits.length; r++) {
            m.writePointer(rlim + r * f.signal.rlimitSize, limits[r][0]);
            m.writePointer(rlim + r * f.signal.rlimitSize + ptr, limits[r][1]);
        }
    }

    /** {@code INIT_TASK(init_task)} and its stack, {@code init_thread_union}. */
    private void initTask() {
        long t = mc.initTask;
        long stack = taskAlloc.allocThreadStack(0);
        if (stack == 0) {
            throw Machine.tooLittleRam(mc.ramBytes, "init_thread_union");
        }
        m.writePointer(t + o.taskStack, stack);
        m.writeInt(t + o.taskUsage, 2);
        m.writeInt(t + o.taskFlags, TaskFlags.PF_KTHREAD);
        m.writeInt(t + o.taskPrio, Core.DEFAULT_PRIO);
        m.writeInt(t + o.taskStaticPrio, Core.DEFAULT_PRIO);
        m.writeInt(t + o.taskNormalPrio, Core.DEFAULT_PRIO);
        m.writeInt(t + o.taskPolicy, Fair.SCHED_NORMAL);
        m.fill(t + f.task.cpusAllowed, f.task.cpusAllowedSize, (byte) 0xff);
        m.writeInt(t + f.task.nrCpusAllowed, platform.nrCpus());
        m.writePointer(t + o.taskActiveMm, mc.initMm);
        core.setLoadWeight(t);
        lists.init(t + f.task.seGroupNode);
        lists.init(t + f.task.rtRunList);
        lists.init(t + o.taskTasks);
        lists.init(t + f.task.ptraced);
        lists.init(t + f.task.ptraceEntry);
        m.writePointer(t + o.taskRealParent, t);
        m.writePointer(t + o.taskParent, t);
        lists.init(t + o.taskChildren);
        lists.init(t + o.taskSibling);
        m.writePointer(t + o.taskGroupLeader, t);
        m.writePointer(t + f.task.realCred, mc.initCred);
        m.writePointer(t + f.task.cred, mc.initCred);
        // INIT_TASK: .timer_slack_ns = 50000 (50 usec default slack)
        m.writeLong(t + f.task.timerSlackNs, 50_000);
        m.writeCString(t + o.taskComm, o.commLength, "swapper");
        m.writePointer(t + f.task.fs, mc.initFs);
        m.writePointer(t + f.task.files, mc.initFiles);
        m.writePointer(t + f.task.signal, mc.initSignals);
        m.writePointer(t + f.task.sighand, mc.initSighand);
        m.writePointer(t + f.task.nsproxy, mc.initNsproxy);
        signals.initSigpending(t);
        m.writePointer(t + f.task.threadPid, mc.initStructPid);
        lists.init(t + f.task.threadGroup);
        m.writePointer(t + f.task.threadNode + f.list.next, mc.initSignals + f.signal.threadHead);
        m.writePointer(t + f.task.threadNode + f.list.prev, mc.initSignals + f.signal.threadHead);
        if (f.task.stackRefcount >= 0) {
            m.writeInt(t + f.task.stackRefcount, 1);
        }
        if (o.taskStackCanary >= 0) {
            m.writePointer(t + o.taskStackCanary, randomCanary());
        }
        long ti = platform.taskThreadInfo(m, t);
        m.writeInt(ti + o.tiPreemptCount, 1);
        m.writePointer(ti + o.tiAddrLimit, platform.kernelDs());
        if (!platform.threadInfoInTask()) {
            m.writePointer(ti + o.tiTask, t);
        }
        if (mc.tifForeignFpstate >= 0) {
            m.writePointer(ti + o.tiFlags, 1L << mc.tifForeignFpstate);
        }
        long fpsimdCpu = o.optional("task_struct", "thread.fpsimd_cpu");
        if (fpsimdCpu >= 0) {
            m.writeInt(t + fpsimdCpu, platform.nrCpus());
        }
        m.writePointer(platform.endOfStack(m, t), Platform.STACK_END_MAGIC);
        mc.online[0] = true;
        core.topology.setRqOnline(0);
        platform.enterTask(mc.registers[0], t, platform.taskPtRegs(m, t));
    }
}
