package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;

/**
 * The boot path as far as tasks go: the static {@code init_task} and its structures
 * ({@code INIT_TASK}, init_files, init_fs, init_sighand, init_signals, init_nsproxy, init_pid_ns,
 * init_struct_pid, init_cred, root_user, init_mm), {@code init_idle} for CPU 0, {@code fork_init}'s
 * limits, {@code rest_init}'s two kernel threads, {@code smp_init}'s idle tasks, and init's exec.
 */
final class Boot {
    /** {@code RLIM_INFINITY} as the build's unsigned long. */
    private final long infinity;
    private final Kernel k;
    private final AddressSpace m;
    private final Platform platform;
    private final Offsets o;
    private final Fields f;
    private final Lists lists;
    private final int ptr;

    Boot(Kernel k) {
        this.k = k;
        this.m = k.m;
        this.platform = k.platform;
        this.o = k.o;
        this.f = k.f;
        this.lists = k.lists;
        this.ptr = platform.pointerSize();
        this.infinity = ptr == 8 ? -1L : 0xffffffffL;
    }

    void start() {
        staticStructures();
        initTask();
        // sched_init: init_idle(current, 0), and the boot idle thread borrows init_mm (mmgrab) like
        // every lazy-TLB kernel thread; start_kernel's preempt_disable()
        initIdle(k.initTask, 0);
        k.mmgrab(k.initMm);
        k.setPreemptCount(k.initTask, platform.preemptDisableOffset());
        // fork_init: RLIMIT_NPROC and RLIMIT_SIGPENDING of init_task are max_threads / 2
        long rlim = k.staticSignals + f.signalRlim;
        for (int r : new int[] {Fork.RLIMIT_NPROC, Fork.RLIMIT_SIGPENDING}) {
            m.writePointer(rlim + r * f.rlimitSize, k.maxThreads / 2);
            m.writePointer(rlim + r * f.rlimitSize + ptr, k.maxThreads / 2);
        }
        // rest_init
        int init = k.kernelThreadRaw(0, "kernel_init", 0, Fork.CLONE_FS | CloneFlag.SIGCHLD);
        int kthreadd = k.kernelThreadRaw(0, "kthreadd", 0, Fork.CLONE_FS | Fork.CLONE_FILES | CloneFlag.SIGCHLD);
        // kernel_init runs: smp_init() brings the other CPUs up with their idle tasks
        k.sched.runTask(0, k.findTask(init));
        for (int cpu = 1; cpu < k.cpus; cpu++) {
            long idle = k.fork.copyProcess(0, Fork.CLONE_VM, 0, 0, 0, true, 0);
            if (Kernel.isErr(idle)) {
                throw new IllegalStateException("fork_idle(" + cpu + ") failed: " + idle);
            }
            for (int type = 0; type < Pids.PIDTYPE_MAX; type++) {
                lists.hlistInitNode(idle + f.taskPidLinks + type * f.hnodeSize);
                if (type == Pids.PIDTYPE_PID) {
                    m.writePointer(idle + f.taskThreadPid, k.initStructPid);
                } else {
                    m.writePointer(m.readPointer(idle + f.taskSignal) + f.signalPids + (long) type * ptr, k.initStructPid);
                }
            }
            initIdle(idle, cpu);
            // secondary_start_kernel: "All kernel threads share the same mm context; grab a reference"
            m.writePointer(idle + o.taskActiveMm, k.initMm);
            k.mmgrab(k.initMm);
            k.online[cpu] = true;
            platform.enterTask(k.sched.registers[cpu], idle, platform.taskPtRegs(m, idle));
            // secondary_start_kernel: preempt_disable() before cpu_startup_entry
            k.setPreemptCount(idle, platform.preemptDisableOffset());
        }
        long initTaskAddress = k.findTask(init);
        setCpusAllowedAll(initTaskAddress);
        k.exec.exec(0, "init");
        // kthreadd runs its prologue: set_task_comm, ignore_signals, all CPUs, PF_NOFREEZE
        long kthreaddTask = k.findTask(kthreadd);
        k.sched.runTask(0, kthreaddTask);
        m.writeCString(kthreaddTask + o.taskComm, o.commLength, "kthreadd");
        k.signals.ignoreSignals(kthreaddTask);
        setCpusAllowedAll(kthreaddTask);
        m.writeInt(kthreaddTask + o.taskFlags, m.readInt(kthreaddTask + o.taskFlags) | Fork.PF_NOFREEZE);
        // and CPU 0 goes idle (cpu_startup_entry)
        k.sched.runTask(0, k.initTask);
    }

    private void setCpusAllowedAll(long p) {
        m.fill(p + f.taskCpusAllowed, f.taskCpusAllowedSize, (byte) 0);
        for (int cpu = 0; cpu < k.cpus; cpu++) {
            long word = p + f.taskCpusAllowed + (long) (cpu / (8 * ptr)) * ptr;
            m.writePointer(word, m.readPointer(word) | (1L << (cpu % (8 * ptr))));
        }
        m.writeInt(p + f.taskNrCpusAllowed, k.cpus);
    }

    private void setCpusAllowedOne(long p, int cpu) {
        m.fill(p + f.taskCpusAllowed, f.taskCpusAllowedSize, (byte) 0);
        long word = p + f.taskCpusAllowed + (long) (cpu / (8 * ptr)) * ptr;
        m.writePointer(word, 1L << (cpu % (8 * ptr)));
        m.writeInt(p + f.taskNrCpusAllowed, 1);
    }

    /**
     * {@code init_idle(idle, cpu)}: a running idle task of {@code cpu}, PF_IDLE, pinned to the CPU,
     * current and idle of its runqueue, preempt count PREEMPT_ENABLED, the idle class, comm swapper/N.
     */
    void initIdle(long idle, int cpu) {
        k.sched.schedForkInit(idle);
        m.writePointer(idle + o.taskState, Kernel.TASK_RUNNING);
        m.writeLong(idle + f.taskSeExecStart, k.clock());
        m.writeInt(idle + o.taskFlags, m.readInt(idle + o.taskFlags) | Fork.PF_IDLE);
        setCpusAllowedOne(idle, cpu);
        k.sched.setTaskCpuRaw(idle, cpu);
        k.sched.curr[cpu] = idle;
        k.sched.idle[cpu] = idle;
        m.writeInt(idle + o.taskOnRq, Sched.TASK_ON_RQ_QUEUED);
        if (o.taskOnCpu >= 0) {
            m.writeInt(idle + o.taskOnCpu, 1);
        }
        k.setPreemptCount(idle, 0);
        m.writePointer(idle + f.taskSchedClass, k.sched.idleClass());
        m.writeCString(idle + o.taskComm, o.commLength, platform.smp() ? "swapper/" + cpu : "swapper");
    }

    private void staticStructures() {
        // root_user: one reference, one process (init_task)
        m.writeInt(k.rootUser + f.userCount, 1);
        m.writeInt(k.rootUser + f.userProcesses, 1);
        // init_cred: usage 4, root, all capabilities
        m.writeInt(k.initCred + f.credUsage, 4);
        m.writePointer(k.initCred + f.credUser, k.rootUser);
        for (String cap : new String[] {"cap_permitted", "cap_effective", "cap_bset"}) {
            long at = k.initCred + o.required("cred", cap);
            m.writeInt(at, -1);
            m.writeInt(at + 4, 0x3f);
        }
        // init_pid_ns: kref 2, adding pids, child_reaper = init_task
        m.writeInt(k.initPidNs + f.pidNsKref, 2);
        m.writeInt(k.initPidNs + f.pidNsPidAllocated, Pids.PIDNS_ADDING);
        m.writePointer(k.initPidNs + f.pidNsChildReaper, k.initTask);
        k.pids.register(k.initPidNs, 0, null);
        k.pids.cacheFor(0);
        // init_struct_pid: count 1, number 0 in init_pid_ns
        m.writeInt(k.initStructPid + f.pidCount, 1);
        m.writePointer(k.initStructPid + f.pidNumbers + f.upidNs, k.initPidNs);
        // init_nsproxy
        m.writeInt(k.initNsproxy + f.nsproxyCount, 1);
        m.writePointer(k.initNsproxy + f.nsproxyPidNsForChildren, k.initPidNs);
        // init_mm: mm_users 2, mm_count 1, swapper_pg_dir
        m.writeInt(k.initMm + f.mmUsers, 2);
        m.writeInt(k.initMm + f.mmCount, 1);
        lists.init(k.initMm + f.mmMmlist);
        m.writePointer(k.initMm + f.mmPgd, k.staticAlloc((long) platform.pageSize() << (ptr == 4 ? 2 : 0),
                (long) platform.pageSize() << (ptr == 4 ? 2 : 0)));
        // init_files
        k.staticFiles = k.staticAlloc(f.filesSize, 64);
        k.initFiles(k.staticFiles);
        // init_fs: one user, umask 0022
        long fs = k.staticFs = k.staticAlloc(f.fsSize, 8);
        m.writeInt(fs + f.fsUsers, 1);
        m.writeInt(fs + o.required("fs_struct", "umask"), 0022);
        // init_sighand: count 1, every handler SIG_DFL
        long sighand = k.staticSighand = k.staticAlloc(f.sighandSize, 8);
        m.writeInt(sighand + f.sighandCount, 1);
        lists.init(sighand + f.sighandSignalfdHead);
        // init_signals
        long signal = k.staticSignals = k.staticAlloc(f.signalSize, 8);
        m.writeInt(signal + f.signalNrThreads, 1);
        m.writePointer(signal + f.signalThreadHead + f.listNext, k.initTask + f.taskThreadNode);
        m.writePointer(signal + f.signalThreadHead + f.listPrev, k.initTask + f.taskThreadNode);
        lists.init(signal + f.signalWaitChldexitHead);
        lists.init(signal + f.signalSharedPendingList);
        lists.init(signal + f.signalPosixTimers);
        for (int i = 0; i < 3; i++) {
            lists.init(signal + f.signalCpuTimers + i * 2L * ptr);
        }
        for (int type = 0; type < Pids.PIDTYPE_MAX; type++) {
            m.writePointer(signal + f.signalPids + (long) type * ptr, k.initStructPid);
        }
        initRlimits(signal + f.signalRlim);
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
            m.writePointer(rlim + r * f.rlimitSize, limits[r][0]);
            m.writePointer(rlim + r * f.rlimitSize + ptr, limits[r][1]);
        }
    }

    /** {@code INIT_TASK(init_task)} and its stack, {@code init_thread_union}. */
    private void initTask() {
        long t = k.initTask;
        long stack = k.allocThreadStack();
        m.writePointer(t + o.taskStack, stack);
        m.writeInt(t + o.taskUsage, 2);
        m.writeInt(t + o.taskFlags, Fork.PF_KTHREAD);
        m.writeInt(t + o.taskPrio, Sched.DEFAULT_PRIO);
        m.writeInt(t + o.taskStaticPrio, Sched.DEFAULT_PRIO);
        m.writeInt(t + o.taskNormalPrio, Sched.DEFAULT_PRIO);
        m.writeInt(t + o.taskPolicy, Sched.SCHED_NORMAL);
        m.fill(t + f.taskCpusAllowed, f.taskCpusAllowedSize, (byte) 0xff);
        m.writeInt(t + f.taskNrCpusAllowed, platform.nrCpus());
        m.writePointer(t + o.taskActiveMm, k.initMm);
        k.sched.setLoadWeight(t);
        lists.init(t + f.taskSeGroupNode);
        lists.init(t + f.taskRtRunList);
        lists.init(t + o.taskTasks);
        lists.init(t + f.taskPtraced);
        lists.init(t + f.taskPtraceEntry);
        m.writePointer(t + o.taskRealParent, t);
        m.writePointer(t + o.taskParent, t);
        lists.init(t + o.taskChildren);
        lists.init(t + o.taskSibling);
        m.writePointer(t + o.taskGroupLeader, t);
        m.writePointer(t + f.taskRealCred, k.initCred);
        m.writePointer(t + f.taskCred, k.initCred);
        m.writeCString(t + o.taskComm, o.commLength, "swapper");
        m.writePointer(t + f.taskFs, k.staticFs);
        m.writePointer(t + f.taskFiles, k.staticFiles);
        m.writePointer(t + f.taskSignal, k.staticSignals);
        m.writePointer(t + f.taskSighand, k.staticSighand);
        m.writePointer(t + f.taskNsproxy, k.initNsproxy);
        k.signals.initSigpending(t);
        m.writePointer(t + f.taskThreadPid, k.initStructPid);
        lists.init(t + f.taskThreadGroup);
        m.writePointer(t + f.taskThreadNode + f.listNext, k.staticSignals + f.signalThreadHead);
        m.writePointer(t + f.taskThreadNode + f.listPrev, k.staticSignals + f.signalThreadHead);
        if (f.taskStackRefcount >= 0) {
            m.writeInt(t + f.taskStackRefcount, 1);
        }
        if (o.taskStackCanary >= 0) {
            m.writePointer(t + o.taskStackCanary, k.randomCanary());
        }
        long ti = platform.taskThreadInfo(m, t);
        m.writeInt(ti + o.tiPreemptCount, 1);
        m.writePointer(ti + o.tiAddrLimit, platform.kernelDs());
        if (!platform.threadInfoInTask()) {
            m.writePointer(ti + o.tiTask, t);
        }
        if (k.tifForeignFpstate() >= 0) {
            m.writePointer(ti + o.tiFlags, 1L << k.tifForeignFpstate());
        }
        long fpsimdCpu = o.optional("task_struct", "thread.fpsimd_cpu");
        if (fpsimdCpu >= 0) {
            m.writeInt(t + fpsimdCpu, platform.nrCpus());
        }
        m.writePointer(platform.endOfStack(m, t), Platform.STACK_END_MAGIC);
        k.online[0] = true;
        platform.enterTask(k.sched.registers[0], t, platform.taskPtRegs(m, t));
    }
}
