package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskStateBits;
import io.github.kproc.view.TaskFlags;

/**
 * {@code kernel/fork.c}: {@code _do_fork} -> {@code copy_process} in v4.19 order, with the
 * {@code bad_fork_*} cleanup ladder undoing exactly the steps that succeeded, in reverse.
 * Failures are returned kernel-style as negative errnos.
 */
final class Fork {
    private final Machine mc;
    private final AddressSpace m;
    private final Platform platform;
    private final Offsets o;
    private final Fields f;
    private final Lists lists;
    private final int ptr;
    private final long retFromFork;
    /** {@code it_real_fn}: ITIMER_REAL's hrtimer function, in every signal_struct. */
    private final long itRealFn;
    private final Core core;
    private final Pids pids;
    private final Cred cred;
    private final Files files;
    private final Signals signals;
    private final Mm mm;
    private final Nsproxy nsproxy;
    private final TaskAlloc taskAlloc;
    private final Vfork vfork;
    /** The members {@code dup_task_struct} and {@code copy_process} reset that nothing else of the model keeps. */
    private final Resets resets;

    Fork(Machine mc, Core core, Pids pids, Cred cred, Files files, Signals signals, Mm mm, Nsproxy nsproxy,
            TaskAlloc taskAlloc, Vfork vfork) {
        this.mc = mc;
        this.m = mc.m;
        this.platform = mc.platform;
        this.o = mc.o;
        this.f = mc.f;
        this.lists = mc.lists;
        this.ptr = platform.pointerSize();
        this.retFromFork = mc.symbols.address("ret_from_fork");
        this.itRealFn = mc.symbols.address("it_real_fn");
        this.core = core;
        this.pids = pids;
        this.cred = cred;
        this.files = files;
        this.signals = signals;
        this.mm = mm;
        this.nsproxy = nsproxy;
        this.taskAlloc = taskAlloc;
        this.vfork = vfork;
        this.resets = new Resets(platform.profile(), platform);
    }

    /**
     * Offsets (-1 where the build lacks the member or its Kconfig option) of the task_struct members
     * dup_task_struct and copy_process clear for no other purpose of the model.
     */
    private static final class Resets {
        // dup_task_struct
        final long seccompFilter;
        final long splicePipe;
        final long taskFragPage;
        final long wakeQNext;
        final long throttleQueue;
        final long useMemdelay;
        final int useMemdelayBit;
        final long activeMemcg;
        // rt_mutex_init_task
        final long piLock;
        final long piWaiters;
        final long piWaitersSize;
        final long piTopTask;
        final long piBlockedOn;
        // copy_process
        final long allocLock;
        final long prevCputime;
        final long prevCputimeSize;
        final long ioac;
        final long ioacSize;
        final long acctRssMem1;
        final long acctVmMem1;
        final long acctTimexpd;
        final long ioContext;
        final long auditContext;
        final long plug;
        final long taskWorks;
        final long jobctl;
        final long utask;
        final int tifSyscallAudit;
        // ptrace_init_task, copy_mm (DETECT_HUNG_TASK, vmacache_flush), SPLIT_RSS_COUNTING
        final long ptracerCred;
        final long lastSwitchCount;
        final long lastSwitchTime;
        final long vmacacheVmas;
        final long vmacacheVmasSize;
        final long rssStat;
        final long rssStatSize;

        Resets(io.github.kproc.layout.Profile p, Platform platform) {
            tifSyscallAudit = platform.tifBit("TIF_SYSCALL_AUDIT");
            var c = p.config();
            seccompFilter = opt(p, c.enabled("CONFIG_SECCOMP"), "seccomp.filter");
            splicePipe = opt(p, true, "splice_pipe");
            taskFragPage = opt(p, true, "task_frag.page");
            wakeQNext = opt(p, true, "wake_q.next");
            boolean blkcg = c.enabled("CONFIG_BLK_CGROUP");
            throttleQueue = opt(p, blkcg, "throttle_queue");
            useMemdelay = opt(p, blkcg, "use_memdelay");
            useMemdelayBit = useMemdelay >= 0 ? p.field("task_struct", "use_memdelay").bitOffset() : 0;
            activeMemcg = opt(p, c.enabled("CONFIG_MEMCG"), "active_memcg");
            piLock = opt(p, true, "pi_lock");
            piWaiters = opt(p, c.enabled("CONFIG_RT_MUTEXES"), "pi_waiters");
            piWaitersSize = piWaiters >= 0 ? p.field("task_struct", "pi_waiters").size() : 0;
            piTopTask = opt(p, c.enabled("CONFIG_RT_MUTEXES"), "pi_top_task");
            piBlockedOn = opt(p, c.enabled("CONFIG_RT_MUTEXES"), "pi_blocked_on");
            allocLock = opt(p, true, "alloc_lock");
            prevCputime = opt(p, true, "prev_cputime");
            prevCputimeSize = prevCputime >= 0 ? p.field("task_struct", "prev_cputime").size() : 0;
            ioac = opt(p, true, "ioac");
            ioacSize = ioac >= 0 ? p.field("task_struct", "ioac").size() : 0;
            boolean xacct = c.enabled("CONFIG_TASK_XACCT");
            acctRssMem1 = opt(p, xacct, "acct_rss_mem1");
            acctVmMem1 = opt(p, xacct, "acct_vm_mem1");
            acctTimexpd = opt(p, xacct, "acct_timexpd");
            ioContext = opt(p, true, "io_context");
            auditContext = opt(p, c.enabled("CONFIG_AUDITSYSCALL"), "audit_context");
            plug = opt(p, c.enabled("CONFIG_BLOCK"), "plug");
            taskWorks = opt(p, true, "task_works");
            jobctl = opt(p, true, "jobctl");
            utask = opt(p, c.enabled("CONFIG_UPROBES"), "utask");
            ptracerCred = opt(p, true, "ptracer_cred");
            boolean hung = c.enabled("CONFIG_DETECT_HUNG_TASK");
            lastSwitchCount = opt(p, hung, "last_switch_count");
            lastSwitchTime = opt(p, hung, "last_switch_time");
            vmacacheVmas = opt(p, true, "vmacache.vmas");
            vmacacheVmasSize = vmacacheVmas >= 0 ? p.field("task_struct", "vmacache.vmas").size() : 0;
            // SPLIT_RSS_COUNTING: NR_CPUS >= SPLIT_PTLOCK_CPUS on an MMU
            boolean split = c.enabled("CONFIG_MMU")
                    && c.number("CONFIG_NR_CPUS", 1) >= c.number("CONFIG_SPLIT_PTLOCK_CPUS", 4);
            rssStat = opt(p, split, "rss_stat");
            rssStatSize = rssStat >= 0 ? p.field("task_struct", "rss_stat").size() : 0;
        }

        private static long opt(io.github.kproc.layout.Profile p, boolean built, String member) {
            return built && p.has("task_struct", member) ? p.offsetOf("task_struct", member) : -1;
        }
    }

    private void clearPointer(long p, long offset) {
        if (offset >= 0) {
            m.writePointer(p + offset, 0);
        }
    }

    private void clearBytes(long p, long offset, long size) {
        if (offset >= 0) {
            m.fill(p + offset, size, (byte) 0);
        }
    }

    /**
     * {@code _do_fork()}: copies the current task of {@code cpu}, traces {@code sched_process_fork},
     * reports the child's pid as the caller's namespace sees it ({@code pid_vnr}), and wakes the child.
     * With CLONE_VFORK the parent then waits, blocked, for the child to exec or exit.
     *
     * @return the child's pid in the caller's namespace, or a negative errno
     */
    long doFork(int cpu, long flags, long stackStart, long stackSize, long parentTidptr, long childTidptr, long tls,
            String caller) {
        long current = mc.current(cpu);
        mc.trace.function(cpu, "_do_fork", caller);
        long p = copyProcess(cpu, flags, stackStart, stackSize, childTidptr, false, tls);
        if (Machine.isErr(p)) {
            return p;
        }
        mc.trace.processFork(cpu, current, p);
        long pid = m.readPointer(p + f.task.threadPid);
        pids.getPid(pid);
        long nr = pids.nrNs(pid, pids.taskActivePidNs(current));
        if ((flags & CloneFlag.PARENT_SETTID.value()) != 0) {
            mc.putUser(current, parentTidptr, (int) nr);
        }
        boolean vforked = (flags & CloneFlag.VFORK.value()) != 0;
        if (vforked) {
            vfork.initCompletion(current, p);
            taskAlloc.getTaskStruct(p);
        }
        mc.trace.function(cpu, "wake_up_new_task", "_do_fork");
        core.wakeUpNewTask(p, cpu);
        if (!vforked) {
            pids.putPid(pid);
        } else if (vfork.waitForVforkDone(current, p, pid)) {
            core.schedule(cpu, false, 0);
        }
        return nr;
    }

    /**
     * {@code copy_process()} in v4.19 order. {@code idle} is fork_idle's {@code &init_struct_pid}: no
     * pid is allocated and the task is not linked anywhere.
     *
     * @return the new task_struct's address, or a negative errno
     */
    long copyProcess(int cpu, long flags, long stackStart, long stackSize, long childTidptr, boolean idle, long tls) {
        long current = mc.current(cpu);
        mc.trace.function(cpu, "copy_process", "_do_fork");
        long retval = checkCloneFlags(flags, current);
        if (retval < 0) {
            return retval;
        }
        // struct multiprocess_signals delayed, on the parent's stack, collects group signals during the fork
        long currentSignal = m.readPointer(current + f.task.signal);
        long delayedNode = mc.onStackDelayedNode(current);
        lists.hlistInitNode(delayedNode);
        if ((flags & CloneFlag.THREAD.value()) == 0) {
            lists.hlistAddHead(delayedNode, currentSignal + f.signal.multiprocess);
        }
        if (signals.signalPending(current)) {
            return forkOut(delayedNode, Errno.ERESTARTNOINTR.negative());
        }

        long p = dupTaskStruct(current, cpu);
        if (Machine.isErr(p)) {
            return forkOut(delayedNode, p);
        }
        m.writePointer(p + f.task.setChildTid, (flags & CloneFlag.CHILD_SETTID.value()) != 0 ? childTidptr : 0);
        m.writePointer(p + f.task.clearChildTid, (flags & CloneFlag.CHILD_CLEARTID.value()) != 0 ? childTidptr : 0);
        rtMutexInitTask(p);

        long user = cred.user(p);
        long nproc = m.readPointer(m.readPointer(p + f.task.signal) + f.signal.rlim + Rlimit.RLIMIT_NPROC * f.signal.rlimitSize);
        if (Long.compareUnsigned(Integer.toUnsignedLong(m.readInt(user + f.user.processes)), nproc) >= 0
                && user != mc.rootUser && !cred.capable(current, Cred.CAP_SYS_RESOURCE)
                && !cred.capable(current, Cred.CAP_SYS_ADMIN)) {
            return badForkFree(p, delayedNode, Errno.EAGAIN.negative());
        }
        m.writeInt(current + o.taskFlags, m.readInt(current + o.taskFlags) & ~TaskFlags.PF_NPROC_EXCEEDED);
        if ((retval = copyCreds(p, flags)) < 0) {
            return badForkFree(p, delayedNode, retval);
        }
        if (mc.nrThreads() >= mc.maxThreads()) {
            return badForkCleanupCount(p, flags, delayedNode, Errno.EAGAIN.negative());
        }
        taskAlloc.delayacctTskInit(p);
        int pflags = m.readInt(p + o.taskFlags);
        m.writeInt(p + o.taskFlags, (pflags & ~(TaskFlags.PF_SUPERPRIV | TaskFlags.PF_WQ_WORKER | TaskFlags.PF_IDLE))
                | TaskFlags.PF_FORKNOEXEC);
        lists.init(p + o.taskChildren);
        lists.init(p + o.taskSibling);
        rcuCopyProcess(p);
        m.writePointer(p + f.task.vforkDone, 0);
        if (resets.allocLock >= 0) {
            m.writeInt(p + resets.allocLock, 0); // spin_lock_init(&p->alloc_lock)
        }
        signals.initSigpending(p);
        m.writeLong(p + f.task.utime, 0);
        m.writeLong(p + f.task.stime, 0);
        m.writeLong(p + f.task.gtime, 0);
        clearBytes(p, resets.rssStat, resets.rssStatSize);
        // prev_cputime_init: utime, stime 0 and an unlocked lock
        clearBytes(p, resets.prevCputime, resets.prevCputimeSize);
        m.writeLong(p + f.task.defaultTimerSlackNs, m.readLong(current + f.task.timerSlackNs));
        // task_io_accounting_init(&p->ioac); acct_clear_integrals(p) (CONFIG_TASK_XACCT)
        clearBytes(p, resets.ioac, resets.ioacSize);
        if (resets.acctTimexpd >= 0) {
            m.writeLong(p + resets.acctTimexpd, 0);
            m.writeLong(p + resets.acctRssMem1, 0);
            m.writeLong(p + resets.acctVmMem1, 0);
        }
        posixCpuTimersInit(p);
        m.writeLong(p + f.task.startTime, mc.clock);
        m.writeLong(p + f.task.realStartTime, mc.clock);
        clearPointer(p, resets.ioContext);
        // audit_set_context(p, NULL) (CONFIG_AUDITSYSCALL)
        clearPointer(p, resets.auditContext);
        // cgroup_fork(p)
        initListHead(p, f.task.cgList);
        if (f.task.cpusetMemSpreadRotor >= 0) {
            // CONFIG_CPUSETS: NUMA_NO_NODE, and seqcount_init(&p->mems_allowed_seq)
            m.writeInt(p + f.task.cpusetMemSpreadRotor, -1);
            m.writeInt(p + f.task.cpusetSlabSpreadRotor, -1);
            m.writeInt(p + f.task.memsAllowedSeq, 0);
        }
        m.writeInt(p + f.task.pagefaultDisabled, 0);

        if ((retval = schedFork(cpu, flags, p, current)) < 0) {
            return badForkCleanupPolicy(p, flags, delayedNode, retval);
        }
        perfEventInitTask(p);
        // audit_alloc(p): auditing is off (audit_enabled 0), so AUDIT_DISABLED clears TIF_SYSCALL_AUDIT
        if (resets.auditContext >= 0) {
            mc.clearTsiFlag(p, resets.tifSyscallAudit);
        }
        // shm_init_task(p)
        initListHead(p, f.task.shmClist);
        if ((retval = mc.sem.copySemundo(flags, p, current)) < 0) {
            return badForkCleanupPolicy(p, flags, delayedNode, retval);
        }
        if ((retval = copyFiles(flags, p, current)) < 0) {
            return badForkCleanupSemundo(p, flags, delayedNode, retval);
        }
        if ((retval = copyFs(flags, p, current)) < 0) {
            return badForkCleanupFiles(p, flags, delayedNode, retval);
        }
        if ((retval = copySighand(flags, p, current)) < 0) {
            return badForkCleanupFs(p, flags, delayedNode, retval);
        }
        if ((retval = copySignal(cpu, flags, p, current)) < 0) {
            return badForkCleanupSighand(p, flags, delayedNode, retval);
        }
        if ((retval = copyMm(flags, p, current)) < 0) {
            return badForkCleanupSignal(p, flags, delayedNode, retval);
        }
        if ((retval = copyNamespaces(flags, p, current)) < 0) {
            return badForkCleanupMm(p, flags, delayedNode, retval);
        }
        if ((retval = fault(ForkStep.COPY_IO)) < 0) {
            return badForkCleanupNamespaces(p, flags, delayedNode, retval);
        }
        if ((retval = copyThread(cpu, flags, stackStart, stackSize, current, p)) < 0) {
            return badForkCleanupIo(p, flags, delayedNode, retval);
        }
        long pid = mc.initStructPid;
        if (!idle && Machine.isErr(pid = allocPid(cpu, p))) {
            return badForkCleanupThread(p, flags, delayedNode, pid);
        }
        clearPointer(p, resets.plug);
        // CONFIG_FUTEX
        writePointer(p, f.task.robustList, 0);
        writePointer(p, f.task.compatRobustList, 0);
        initListHead(p, f.task.piStateList);
        writePointer(p, f.task.piStateCache, 0);
        if ((flags & (CloneFlag.VM.value() | CloneFlag.VFORK.value())) == CloneFlag.VM.value()) {
            signals.sasSsReset(p);
        }
        // user_disable_single_step(p): TIF_SINGLESTEP on arm64, nothing on ARM32 (no arch_has_single_step)
        mc.clearTsiFlag(p, mc.tifSinglestep);
        mc.clearTsiFlag(p, mc.tifSyscallTrace);
        int nr = pids.nr(pid);
        m.writeInt(p + o.taskPid, nr);
        if ((flags & CloneFlag.THREAD.value()) != 0) {
            m.writeInt(p + o.taskExitSignal, -1);
            m.writePointer(p + o.taskGroupLeader, m.readPointer(current + o.taskGroupLeader));
            m.writeInt(p + o.taskTgid, m.readInt(current + o.taskTgid));
        } else {
            int exitSignal = (flags & CloneFlag.PARENT.value()) != 0
                    ? m.readInt(m.readPointer(current + o.taskGroupLeader) + o.taskExitSignal)
                    : (int) (flags & CloneFlag.CSIGNAL);
            m.writeInt(p + o.taskExitSignal, exitSignal);
            m.writePointer(p + o.taskGroupLeader, p);
            m.writeInt(p + o.taskTgid, nr);
        }
        m.writeInt(p + f.task.pdeathSignal, 0);
        m.writeInt(p + f.task.nrDirtied, 0);
        m.writeInt(p + f.task.nrDirtiedPause, 128 >> (Integer.numberOfTrailingZeros(platform.pageSize()) - 10));
        m.writePointer(p + f.task.dirtyPausedWhen, 0);
        lists.init(p + f.task.threadGroup);
        clearPointer(p, resets.taskWorks);
        if ((retval = fault(ForkStep.CGROUP_CAN_FORK)) < 0) {
            return badForkFreePid(p, flags, delayedNode, pid, retval);
        }
        // write_lock_irq(&tasklist_lock)
        if ((flags & (CloneFlag.PARENT.value() | CloneFlag.THREAD.value())) != 0) {
            m.writePointer(p + o.taskRealParent, m.readPointer(current + o.taskRealParent));
            m.writeInt(p + f.task.parentExecId, m.readInt(current + f.task.parentExecId));
        } else {
            m.writePointer(p + o.taskRealParent, current);
            m.writeInt(p + f.task.parentExecId, m.readInt(current + f.task.selfExecId));
        }
        core.rseq.rseqFork(p, flags);
        if (!idle && (m.readInt(pids.nsOf(pid) + f.pidNs.pidAllocated) & Pids.PIDNS_ADDING) == 0) {
            return badForkCancelCgroup(p, flags, delayedNode, pid, Errno.ENOMEM.negative());
        }
        if ((retval = lateFatalSignal(current)) < 0) {
            return badForkCancelCgroup(p, flags, delayedNode, pid, retval);
        }
        if (!idle) {
            linkTask(p, flags, current, pid);
        }
        // uprobe_copy_process (CONFIG_UPROBES): no uprobe_task of its own
        clearPointer(p, resets.utask);
        mc.incTotalForks();
        lists.hlistDelInit(delayedNode);
        mc.trace.newTask(cpu, p, flags);
        return p;
    }

    /** The early {@code copy_process} checks of the clone flags against each other and the caller: -EINVAL. */
    private long checkCloneFlags(long flags, long current) {
        long fs = CloneFlag.FS.value();
        if ((flags & (CloneFlag.NEWNS.value() | fs)) == (CloneFlag.NEWNS.value() | fs)
                || (flags & (CloneFlag.NEWUSER.value() | fs)) == (CloneFlag.NEWUSER.value() | fs)) {
            return Errno.EINVAL.negative();
        }
        boolean thread = (flags & CloneFlag.THREAD.value()) != 0;
        boolean sighand = (flags & CloneFlag.SIGHAND.value()) != 0;
        if ((thread && !sighand) || (sighand && (flags & CloneFlag.VM.value()) == 0)) {
            return Errno.EINVAL.negative();
        }
        long currentSignal = m.readPointer(current + f.task.signal);
        if ((flags & CloneFlag.PARENT.value()) != 0
                && (m.readInt(currentSignal + f.signal.flags) & Signals.SIGNAL_UNKILLABLE) != 0) {
            return Errno.EINVAL.negative();
        }
        if (thread) {
            if ((flags & (CloneFlag.NEWUSER.value() | CloneFlag.NEWPID.value())) != 0) {
                return Errno.EINVAL.negative();
            }
            long ns = m.readPointer(current + f.task.nsproxy);
            if (pids.taskActivePidNs(current) != m.readPointer(ns + f.nsproxy.pidNsForChildren)) {
                return Errno.EINVAL.negative();
            }
        }
        return 0;
    }

    /** {@code copy_creds} behind its fault hook. */
    private long copyCreds(long p, long flags) {
        long err = fault(ForkStep.COPY_CREDS);
        return err != 0 ? err : cred.copyCreds(p, flags);
    }

    /** {@code sched_fork} behind its fault hook. */
    private long schedFork(int cpu, long flags, long p, long current) {
        long err = fault(ForkStep.SCHED_FORK);
        if (err != 0) {
            return err;
        }
        mc.trace.function(cpu, "sched_fork", "copy_process");
        return core.schedFork(flags, p, current, cpu);
    }

    /** {@code copy_namespaces} behind its fault hook. */
    private long copyNamespaces(long flags, long p, long current) {
        long err = fault(ForkStep.COPY_NAMESPACES);
        return err != 0 ? err : nsproxy.copyNamespaces(flags, p, current);
    }

    /** {@code copy_thread_tls}: the architecture sets up the child's registers and stack. */
    private long copyThread(int cpu, long flags, long stackStart, long stackSize, long current, long p) {
        long err = fault(ForkStep.COPY_THREAD);
        if (err != 0) {
            return err;
        }
        mc.trace.function(cpu, "copy_thread", "copy_process");
        boolean kthread = (m.readInt(p + o.taskFlags) & TaskFlags.PF_KTHREAD) != 0;
        platform.copyThread(m, flags, stackStart, stackSize, current, p, kthread, retFromFork);
        return 0;
    }

    /** {@code alloc_pid(p->nsproxy->pid_ns_for_children)}: the struct pid, or a negative errno. */
    private long allocPid(int cpu, long p) {
        long err = fault(ForkStep.ALLOC_PID);
        if (err != 0) {
            return err;
        }
        mc.trace.function(cpu, "alloc_pid", "copy_process");
        long ns = m.readPointer(p + f.task.nsproxy);
        return pids.allocPid(m.readPointer(ns + f.nsproxy.pidNsForChildren));
    }

    /** The last check under the tasklist lock: a fatal signal for the parent aborts the fork with -EINTR. */
    private long lateFatalSignal(long current) {
        long err = fault(ForkStep.LATE_FATAL_SIGNAL);
        if (err == 0 && signals.fatalSignalPending(current)) {
            return Errno.EINTR.negative();
        }
        return err;
    }

    /**
     * What {@code copy_process} does under the tasklist lock once nothing can fail: ptrace, the pids,
     * the child reaper of a new namespace, the subreaper bit, the children/tasks lists and the
     * thread group, {@code attach_pid} and {@code nr_threads}.
     */
    private void linkTask(long p, long flags, long current, long pid) {
        for (int type = 0; type < Pids.PIDTYPE_MAX; type++) {
            lists.hlistInitNode(p + f.task.pidLinks + type * f.list.hnodeSize);
        }
        // ptrace_init_task(p, 0)
        lists.init(p + f.task.ptraceEntry);
        lists.init(p + f.task.ptraced);
        m.writeInt(p + f.task.ptrace, 0);
        clearPointer(p, resets.jobctl);
        clearPointer(p, resets.ptracerCred);
        m.writePointer(p + o.taskParent, m.readPointer(p + o.taskRealParent));
        m.writePointer(p + f.task.threadPid, pid);
        long signal = m.readPointer(p + f.task.signal);
        if ((flags & CloneFlag.THREAD.value()) == 0) {
            long parentSignal = m.readPointer(current + f.task.signal);
            m.writePointer(signal + f.signal.pids + Pids.PIDTYPE_TGID * ptr, pid);
            m.writePointer(signal + f.signal.pids + Pids.PIDTYPE_PGID * ptr,
                    m.readPointer(parentSignal + f.signal.pids + Pids.PIDTYPE_PGID * ptr));
            m.writePointer(signal + f.signal.pids + Pids.PIDTYPE_SID * ptr,
                    m.readPointer(parentSignal + f.signal.pids + Pids.PIDTYPE_SID * ptr));
            if (pids.isChildReaper(pid)) {
                m.writePointer(pids.nsOf(pid) + f.pidNs.childReaper, p);
                m.writeInt(signal + f.signal.flags, m.readInt(signal + f.signal.flags) | Signals.SIGNAL_UNKILLABLE);
            }
            long realParent = m.readPointer(p + o.taskRealParent);
            long rpSignal = m.readPointer(realParent + f.task.signal);
            int rpBits = m.readInt(rpSignal + f.signal.subreaperWord);
            int bits = m.readInt(signal + f.signal.subreaperWord);
            int has = 1 << f.signal.hasSubreaperBit;
            boolean inherit = (rpBits & ((1 << f.signal.isSubreaperBit) | has)) != 0;
            m.writeInt(signal + f.signal.subreaperWord, inherit ? bits | has : bits & ~has);
            lists.addTail(p + o.taskSibling, realParent + o.taskChildren);
            lists.addTail(p + o.taskTasks, mc.initTask + o.taskTasks);
            pids.attachPid(p, Pids.PIDTYPE_TGID);
            pids.attachPid(p, Pids.PIDTYPE_PGID);
            pids.attachPid(p, Pids.PIDTYPE_SID);
        } else {
            long sig = m.readPointer(current + f.task.signal);
            m.writeInt(sig + f.signal.nrThreads, m.readInt(sig + f.signal.nrThreads) + 1);
            m.writeInt(sig + f.signal.live, m.readInt(sig + f.signal.live) + 1);
            m.writeInt(sig + f.signal.sigcnt, m.readInt(sig + f.signal.sigcnt) + 1);
            long leader = m.readPointer(p + o.taskGroupLeader);
            lists.addTail(p + f.task.threadGroup, leader + f.task.threadGroup);
            lists.addTail(p + f.task.threadNode, signal + f.signal.threadHead);
        }
        pids.attachPid(p, Pids.PIDTYPE_PID);
        mc.addNrThreads(1);
    }

    /**
     * {@code walk_process_tree(top, visitor)}: visits the children of every thread of {@code top}'s group,
     * descending into a child's group whenever the visitor returns true, depth first and without a
     * stack: the way back up is each leader's {@code real_parent}, as the kernel climbs.
     */
    void walkProcessTree(long top, java.util.function.LongPredicate visitor) {
        long leader = m.readPointer(top + o.taskGroupLeader);
        long root = leader;
        long parent = leader;
        long node = lists.next(parent + o.taskChildren);
        while (true) {
            if (node != parent + o.taskChildren) {
                long child = node - o.taskSibling;
                if (visitor.test(child)) {
                    leader = child;
                    parent = child;
                    node = lists.next(parent + o.taskChildren);
                } else {
                    node = lists.next(node);
                }
                continue;
            }
            parent = lists.next(parent + f.task.threadGroup) - f.task.threadGroup;
            if (parent != leader) {
                node = lists.next(parent + o.taskChildren);
                continue;
            }
            if (leader == root) {
                return;
            }
            // up: resume after the subtree's leader among its real parent's children
            long child = leader;
            parent = m.readPointer(child + o.taskRealParent);
            leader = m.readPointer(parent + o.taskGroupLeader);
            node = lists.next(child + o.taskSibling);
        }
    }

    /** {@code INIT_LIST_HEAD(&p->member)} for a member the build may lack ({@code offset} -1). */
    private void initListHead(long p, long offset) {
        if (offset >= 0) {
            lists.init(p + offset);
        }
    }

    private void writePointer(long p, long offset, long value) {
        if (offset >= 0) {
            m.writePointer(p + offset, value);
        }
    }

    /**
     * {@code rcu_copy_process(p)}: with PREEMPT_RCU no read-side nesting and an empty rcu_node_entry;
     * with TASKS_RCU not held out, on no holdout list, idle CPU -1.
     */
    private void rcuCopyProcess(long p) {
        if (f.task.rcuNodeEntry >= 0) {
            m.writeInt(p + f.task.rcuReadLockNesting, 0);
            m.writeInt(p + f.task.rcuReadUnlockSpecial, 0);
            lists.init(p + f.task.rcuNodeEntry);
            m.writePointer(p + f.task.rcuBlockedNode, 0);
        }
        if (f.task.rcuTasksHoldoutList >= 0) {
            m.writeByte(p + f.task.rcuTasksHoldout, (byte) 0);
            lists.init(p + f.task.rcuTasksHoldoutList);
            m.writeInt(p + f.task.rcuTasksIdleCpu, -1);
        }
    }

    /**
     * {@code rt_mutex_init_task(p)}: an unlocked pi_lock and, with CONFIG_RT_MUTEXES, no PI waiters,
     * top task or blocking waiter.
     */
    private void rtMutexInitTask(long p) {
        if (resets.piLock >= 0) {
            m.writeInt(p + resets.piLock, 0);
        }
        clearBytes(p, resets.piWaiters, resets.piWaitersSize);
        clearPointer(p, resets.piTopTask);
        clearPointer(p, resets.piBlockedOn);
    }

    /** {@code posix_cpu_timers_init(p)}: no expiry set, three empty timer lists. */
    private void posixCpuTimersInit(long p) {
        if (f.task.cpuTimers >= 0) {
            m.fill(p + f.task.cputimeExpires, f.task.cputimeExpiresSize, (byte) 0);
            for (int i = 0; i < f.signal.cpuTimersCount; i++) {
                lists.init(p + f.task.cpuTimers + i * 2L * ptr);
            }
        }
    }

    /** {@code perf_event_init_task(p)}: no contexts, {@code mutex_init(&p->perf_event_mutex)}, an empty event list. */
    private void perfEventInitTask(long p) {
        if (f.task.perfEventList >= 0) {
            m.fill(p + f.task.perfEventCtxp, f.task.perfEventCtxpSize, (byte) 0);
            m.fill(p + f.task.perfEventMutex, f.task.perfEventMutexSize, (byte) 0);
            lists.init(p + f.task.perfEventMutexWaitList);
            lists.init(p + f.task.perfEventList);
        }
    }

    private long fault(ForkStep step) {
        Errno e = mc.faults.step(step);
        return e == null ? 0 : e.negative();
    }

    /**
     * {@code dup_task_struct(orig)}: a task_struct from its cache and a zeroed THREAD_SIZE stack
     * (vmalloc'd with VMAP_STACK), the parent's task_struct copied in one bulk copy
     * ({@code arch_dup_task_struct}: {@code *dst = *src}), ARM32's thread_info copied by
     * {@code setup_thread_stack}, TIF_NEED_RESCHED cleared, STACK_END_MAGIC, a stack canary, usage 2.
     */
    private long dupTaskStruct(long orig, int cpu) {
        long err = fault(ForkStep.DUP_TASK_STRUCT);
        if (err != 0) {
            return err;
        }
        mc.trace.function(cpu, "dup_task_struct", "copy_process");
        long tsk = mc.kmemCacheAlloc(mc.taskCache);
        if (tsk == 0) {
            return Errno.ENOMEM.negative();
        }
        long stack = taskAlloc.allocThreadStack(tsk);
        if (stack == 0) {
            mc.taskCache.free(tsk);
            return Errno.ENOMEM.negative();
        }
        // stack_vm_area = task_stack_vm_area(tsk) survives the struct copy (NULL without the vm_struct)
        long stackVmArea = f.task.stackVmArea >= 0 && taskAlloc.vmalloc != null
                ? m.readPointer(tsk + f.task.stackVmArea) : 0;
        m.copy(orig, tsk, o.taskSize);
        m.writePointer(tsk + o.taskStack, stack);
        if (f.task.stackVmArea >= 0) {
            m.writePointer(tsk + f.task.stackVmArea, stackVmArea);
        }
        if (f.task.stackRefcount >= 0) {
            m.writeInt(tsk + f.task.stackRefcount, 1);
        }
        if (!platform.threadInfoInTask()) {
            long ti = stack;
            m.copy(platform.taskThreadInfo(m, orig), ti, o.threadInfoSize);
            m.writePointer(ti + o.tiTask, tsk);
        }
        // CONFIG_SECCOMP: tsk->seccomp.filter = NULL (copy_seccomp takes the parent's later)
        clearPointer(tsk, resets.seccompFilter);
        mc.clearTsiFlag(tsk, Machine.TIF_NEED_RESCHED);
        m.writePointer(platform.endOfStack(m, tsk), Platform.STACK_END_MAGIC);
        if (o.taskStackCanary >= 0) {
            m.writePointer(tsk + o.taskStackCanary, randomCanary());
        }
        m.writeInt(tsk + o.taskUsage, 2);
        clearPointer(tsk, resets.splicePipe);
        clearPointer(tsk, resets.taskFragPage);
        clearPointer(tsk, resets.wakeQNext);
        // CONFIG_BLK_CGROUP: no throttle queue, use_memdelay 0; CONFIG_MEMCG: no active memcg
        clearPointer(tsk, resets.throttleQueue);
        if (resets.useMemdelay >= 0) {
            m.writeInt(tsk + resets.useMemdelay, m.readInt(tsk + resets.useMemdelay) & ~(1 << resets.useMemdelayBit));
        }
        clearPointer(tsk, resets.activeMemcg);
        return tsk;
    }

    /** {@code copy_files()}: share and count with CLONE_FILES, else {@code dup_fd}. */
    private long copyFiles(long flags, long p, long current) {
        long err = fault(ForkStep.COPY_FILES);
        if (err != 0) {
            return err;
        }
        long oldf = m.readPointer(current + f.task.files);
        if (oldf == 0) {
            return 0;
        }
        if ((flags & CloneFlag.FILES.value()) != 0) {
            files.getFiles(oldf);
            return 0;
        }
        long newf = files.dupFd(oldf);
        if (newf == 0) {
            return Errno.ENOMEM.negative();
        }
        m.writePointer(p + f.task.files, newf);
        return 0;
    }

    /** {@code copy_fs()}: share with CLONE_FS (-EAGAIN while the fs is in exec), else {@code copy_fs_struct}. */
    private long copyFs(long flags, long p, long current) {
        long err = fault(ForkStep.COPY_FS);
        if (err != 0) {
            return err;
        }
        long fs = m.readPointer(current + f.task.fs);
        if ((flags & CloneFlag.FS.value()) != 0) {
            if (m.readInt(fs + f.fs.inExec) != 0) {
                return Errno.EAGAIN.negative();
            }
            m.writeInt(fs + f.fs.users, m.readInt(fs + f.fs.users) + 1);
            return 0;
        }
        long copy = files.copyFsStruct(fs);
        if (copy == 0) {
            return Errno.ENOMEM.negative();
        }
        m.writePointer(p + f.task.fs, copy);
        return 0;
    }

    /** {@code copy_sighand()}: share with CLONE_SIGHAND, else a copy of the handlers with count 1. */
    private long copySighand(long flags, long p, long current) {
        long err = fault(ForkStep.COPY_SIGHAND);
        if (err != 0) {
            return err;
        }
        long sighand = m.readPointer(current + f.task.sighand);
        if ((flags & CloneFlag.SIGHAND.value()) != 0) {
            m.writeInt(sighand + f.sighand.count, m.readInt(sighand + f.sighand.count) + 1);
            return 0;
        }
        long sig = signals.copySighandStruct(sighand);
        m.writePointer(p + f.task.sighand, sig);
        return sig == 0 ? Errno.ENOMEM.negative() : 0;
    }

    /** {@code copy_signal()}: nothing for a thread; otherwise a zeroed signal_struct for a new group of one. */
    private long copySignal(int cpu, long flags, long p, long current) {
        long err = fault(ForkStep.COPY_SIGNAL);
        if (err != 0 || (flags & CloneFlag.THREAD.value()) != 0) {
            return err;
        }
        long sig = mc.kmemCacheZalloc(mc.signalCache);
        m.writePointer(p + f.task.signal, sig);
        if (sig == 0) {
            return Errno.ENOMEM.negative();
        }
        m.writeInt(sig + f.signal.nrThreads, 1);
        m.writeInt(sig + f.signal.live, 1);
        m.writeInt(sig + f.signal.sigcnt, 1);
        // sig->thread_head and tsk->thread_node: a ring of two
        m.writePointer(sig + f.signal.threadHead + f.list.next, p + f.task.threadNode);
        m.writePointer(sig + f.signal.threadHead + f.list.prev, p + f.task.threadNode);
        m.writePointer(p + f.task.threadNode + f.list.next, sig + f.signal.threadHead);
        m.writePointer(p + f.task.threadNode + f.list.prev, sig + f.signal.threadHead);
        lists.init(sig + f.signal.waitChldexitHead);
        m.writePointer(sig + f.signal.currTarget, p);
        lists.init(sig + f.signal.sharedPendingList);
        lists.hlistInitHead(sig + f.signal.multiprocess);
        lists.init(sig + f.signal.posixTimers);
        for (int i = 0; i < f.signal.cpuTimersCount; i++) {
            lists.init(sig + f.signal.cpuTimers + i * 2L * ptr);
        }
        if (f.signal.realTimerFunction >= 0) {
            // hrtimer_init(&sig->real_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL) on this CPU, then it_real_fn
            core.hrtimer.hrtimerInit(sig + f.signal.realTimer, cpu, itRealFn);
        }
        long parentSig = m.readPointer(current + f.task.signal);
        m.copy(parentSig + f.signal.rlim, sig + f.signal.rlim, f.signal.rlimSize);
        m.writeInt(sig + f.signal.oomScoreAdj, m.readInt(parentSig + f.signal.oomScoreAdj));
        // mutex_init(&sig->cred_guard_mutex)
        lists.init(sig + f.signal.credGuardMutexWaitList);
        return 0;
    }

    /**
     * {@code copy_mm()}: clear the fault and switch counters, then: nothing for a kernel thread (no
     * mm), {@code mmget} with CLONE_VM, else {@code dup_mm}.
     */
    private long copyMm(long flags, long p, long current) {
        long err = fault(ForkStep.COPY_MM);
        if (err != 0) {
            return err;
        }
        m.writePointer(p + f.task.minFlt, 0);
        m.writePointer(p + f.task.majFlt, 0);
        m.writePointer(p + f.task.nvcsw, 0);
        m.writePointer(p + f.task.nivcsw, 0);
        // CONFIG_DETECT_HUNG_TASK: last_switch_count = nvcsw + nivcsw (0), last_switch_time = 0
        clearPointer(p, resets.lastSwitchCount);
        clearPointer(p, resets.lastSwitchTime);
        m.writePointer(p + o.taskMm, 0);
        m.writePointer(p + o.taskActiveMm, 0);
        long oldmm = m.readPointer(current + o.taskMm);
        if (oldmm == 0) {
            return 0;
        }
        // vmacache_flush(tsk)
        clearBytes(p, resets.vmacacheVmas, resets.vmacacheVmasSize);
        long newMm;
        if ((flags & CloneFlag.VM.value()) != 0) {
            mm.mmget(oldmm);
            newMm = oldmm;
        } else {
            newMm = mm.dupMm(oldmm, p);
            if (newMm == 0) {
                return Errno.ENOMEM.negative();
            }
        }
        m.writePointer(p + o.taskMm, newMm);
        m.writePointer(p + o.taskActiveMm, newMm);
        return 0;
    }

    // ---- the bad_fork_* ladder: each label undoes one step and falls through to the next ----

    private long badForkCancelCgroup(long p, long flags, long delayed, long pid, long retval) {
        return badForkFreePid(p, flags, delayed, pid, retval);
    }

    private long badForkFreePid(long p, long flags, long delayed, long pid, long retval) {
        if (pid != mc.initStructPid) {
            pids.freePid(pid);
        }
        return badForkCleanupThread(p, flags, delayed, retval);
    }

    private long badForkCleanupThread(long p, long flags, long delayed, long retval) {
        // exit_thread(p): nothing the model keeps
        return badForkCleanupIo(p, flags, delayed, retval);
    }

    private long badForkCleanupIo(long p, long flags, long delayed, long retval) {
        return badForkCleanupNamespaces(p, flags, delayed, retval);
    }

    private long badForkCleanupNamespaces(long p, long flags, long delayed, long retval) {
        nsproxy.exitTaskNamespaces(p);
        return badForkCleanupMm(p, flags, delayed, retval);
    }

    private long badForkCleanupMm(long p, long flags, long delayed, long retval) {
        long oldMm = m.readPointer(p + o.taskMm);
        if (oldMm != 0) {
            mm.mmput(oldMm);
        }
        return badForkCleanupSignal(p, flags, delayed, retval);
    }

    private long badForkCleanupSignal(long p, long flags, long delayed, long retval) {
        if ((flags & CloneFlag.THREAD.value()) == 0) {
            mc.signalCache.free(m.readPointer(p + f.task.signal));
        }
        return badForkCleanupSighand(p, flags, delayed, retval);
    }

    private long badForkCleanupSighand(long p, long flags, long delayed, long retval) {
        signals.cleanupSighand(m.readPointer(p + f.task.sighand));
        return badForkCleanupFs(p, flags, delayed, retval);
    }

    private long badForkCleanupFs(long p, long flags, long delayed, long retval) {
        files.exitFs(p);
        return badForkCleanupFiles(p, flags, delayed, retval);
    }

    private long badForkCleanupFiles(long p, long flags, long delayed, long retval) {
        files.exitFiles(p);
        return badForkCleanupSemundo(p, flags, delayed, retval);
    }

    private long badForkCleanupSemundo(long p, long flags, long delayed, long retval) {
        mc.sem.exitSem(p);
        // security_task_free, audit_free, perf_event_free_task: nothing the model keeps
        return badForkCleanupPolicy(p, flags, delayed, retval);
    }

    private long badForkCleanupPolicy(long p, long flags, long delayed, long retval) {
        taskAlloc.delayacctTskFree(p);
        return badForkCleanupCount(p, flags, delayed, retval);
    }

    private long badForkCleanupCount(long p, long flags, long delayed, long retval) {
        cred.addProcesses(m.readPointer(m.readPointer(p + f.task.cred) + f.cred.user), -1);
        cred.exitCreds(p);
        return badForkFree(p, delayed, retval);
    }

    private long badForkFree(long p, long delayed, long retval) {
        m.writePointer(p + o.taskState, TaskStateBits.TASK_DEAD);
        taskAlloc.putTaskStack(p);
        taskAlloc.freeTask(p);
        return forkOut(delayed, retval);
    }

    /** {@code get_random_canary()}: the stack protector's canary, its low byte zero on 64-bit. */
    private long randomCanary() {
        long v = mc.random.nextLong();
        return ptr == 8 ? v & 0xffffffffffffff00L : v & 0xffffffffL;
    }

    private long forkOut(long delayed, long retval) {
        lists.hlistDelInit(delayed);
        return retval;
    }
}
