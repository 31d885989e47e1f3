package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/fork.c}: {@code _do_fork} -> {@code copy_process} in v4.19 order, with the
 * {@code bad_fork_*} cleanup ladder undoing exactly the steps that succeeded, in reverse.
 * Failures are returned kernel-style as negative errnos.
 */
final class Fork {
    static final long CLONE_VM = 0x00000100L;
    static final long CLONE_FS = 0x00000200L;
    static final long CLONE_FILES = 0x00000400L;
    static final long CLONE_SIGHAND = 0x00000800L;
    static final long CLONE_VFORK = 0x00004000L;
    static final long CLONE_PARENT = 0x00008000L;
    static final long CLONE_THREAD = 0x00010000L;
    static final long CLONE_NEWNS = 0x00020000L;
    static final long CLONE_SYSVSEM = 0x00040000L;
    static final long CLONE_PARENT_SETTID = 0x00100000L;
    static final long CLONE_CHILD_CLEARTID = 0x00200000L;
    static final long CLONE_UNTRACED = 0x00800000L;
    static final long CLONE_CHILD_SETTID = 0x01000000L;
    static final long CLONE_NEWCGROUP = 0x02000000L;
    static final long CLONE_NEWUTS = 0x04000000L;
    static final long CLONE_NEWIPC = 0x08000000L;
    static final long CLONE_NEWUSER = 0x10000000L;
    static final long CLONE_NEWPID = 0x20000000L;
    static final long CLONE_NEWNET = 0x40000000L;
    static final long CSIGNAL = 0xff;
    static final long NS_FLAGS = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | CLONE_NEWNET
            | CLONE_NEWCGROUP;

    static final int PF_IDLE = 0x00000002;
    static final int PF_EXITING = 0x00000004;
    static final int PF_WQ_WORKER = 0x00000020;
    static final int PF_FORKNOEXEC = 0x00000040;
    static final int PF_SUPERPRIV = 0x00000100;
    static final int PF_NPROC_EXCEEDED = 0x00001000;
    static final int PF_NOFREEZE = 0x00008000;
    static final int PF_KTHREAD = 0x00200000;
    static final int SIGNAL_UNKILLABLE = 0x00000040;
    static final int RLIMIT_NPROC = 6;
    static final int RLIMIT_SIGPENDING = 11;

    private final Kernel k;
    private final AddressSpace m;
    private final Platform platform;
    private final Offsets o;
    private final Fields f;
    private final Lists lists;
    private final int ptr;
    private final long retFromFork;

    Fork(Kernel k) {
        this.k = k;
        this.m = k.m;
        this.platform = k.platform;
        this.o = k.o;
        this.f = k.f;
        this.lists = k.lists;
        this.ptr = platform.pointerSize();
        this.retFromFork = k.symbols.address("ret_from_fork");
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
        long current = k.current(cpu);
        k.traceFunction(cpu, "_do_fork", caller);
        long p = copyProcess(cpu, flags, stackStart, stackSize, childTidptr, false, tls);
        if (Kernel.isErr(p)) {
            return p;
        }
        k.traceProcessFork(cpu, current, p);
        long pid = m.readPointer(p + f.taskThreadPid);
        k.pids.getPid(pid);
        long nr = k.pids.nrNs(pid, k.taskActivePidNs(current));
        if ((flags & CLONE_PARENT_SETTID) != 0) {
            k.putUser(current, parentTidptr, (int) nr);
        }
        if ((flags & CLONE_VFORK) != 0) {
            long vfork = k.onStackCompletion(current);
            m.writePointer(p + f.taskVforkDone, vfork);
            m.writeInt(vfork + f.completionDone, 0);
            lists.init(vfork + f.completionWaitHead);
            k.getTaskStruct(p);
        }
        k.traceFunction(cpu, "wake_up_new_task", "_do_fork");
        k.sched.wakeUpNewTask(p, cpu);
        if ((flags & CLONE_VFORK) != 0) {
            k.waitForVforkDone(cpu, current, p, pid);
        } else {
            k.pids.putPid(pid);
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
        long current = k.current(cpu);
        k.traceFunction(cpu, "copy_process", "_do_fork");
        if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS)) {
            return Errno.EINVAL.negative();
        }
        if ((flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS)) {
            return Errno.EINVAL.negative();
        }
        if ((flags & CLONE_THREAD) != 0 && (flags & CLONE_SIGHAND) == 0) {
            return Errno.EINVAL.negative();
        }
        if ((flags & CLONE_SIGHAND) != 0 && (flags & CLONE_VM) == 0) {
            return Errno.EINVAL.negative();
        }
        long currentSignal = m.readPointer(current + f.taskSignal);
        if ((flags & CLONE_PARENT) != 0 && (m.readInt(currentSignal + f.signalFlags) & SIGNAL_UNKILLABLE) != 0) {
            return Errno.EINVAL.negative();
        }
        if ((flags & CLONE_THREAD) != 0) {
            if ((flags & (CLONE_NEWUSER | CLONE_NEWPID)) != 0) {
                return Errno.EINVAL.negative();
            }
            long nsproxy = m.readPointer(current + f.taskNsproxy);
            if (k.taskActivePidNs(current) != m.readPointer(nsproxy + f.nsproxyPidNsForChildren)) {
                return Errno.EINVAL.negative();
            }
        }
        // struct multiprocess_signals delayed, on the parent's stack, collects group signals during the fork
        long delayedNode = k.onStackDelayedNode(current);
        lists.hlistInitNode(delayedNode);
        if ((flags & CLONE_THREAD) == 0) {
            lists.hlistAddHead(delayedNode, currentSignal + f.signalMultiprocess);
        }
        if (k.signalPending(current)) {
            return forkOut(delayedNode, Errno.ERESTARTNOINTR.negative());
        }

        long err = fault(ForkStep.DUP_TASK_STRUCT);
        long p = err == 0 ? dupTaskStruct(current, cpu) : 0;
        if (p == 0) {
            return forkOut(delayedNode, err != 0 ? err : Errno.ENOMEM.negative());
        }
        m.writePointer(p + f.taskSetChildTid, (flags & CLONE_CHILD_SETTID) != 0 ? childTidptr : 0);
        m.writePointer(p + f.taskClearChildTid, (flags & CLONE_CHILD_CLEARTID) != 0 ? childTidptr : 0);

        long retval = Errno.EAGAIN.negative();
        long user = m.readPointer(m.readPointer(p + f.taskRealCred) + f.credUser);
        long nproc = m.readPointer(m.readPointer(p + f.taskSignal) + f.signalRlim + RLIMIT_NPROC * f.rlimitSize);
        if (Long.compareUnsigned(Integer.toUnsignedLong(m.readInt(user + f.userProcesses)), nproc) >= 0
                && user != k.rootUser && !k.capable(current)) {
            return badForkFree(p, delayedNode, retval);
        }
        m.writeInt(current + o.taskFlags, m.readInt(current + o.taskFlags) & ~PF_NPROC_EXCEEDED);
        retval = fault(ForkStep.COPY_CREDS);
        if (retval == 0) {
            retval = copyCreds(p, flags);
        }
        if (retval < 0) {
            return badForkFree(p, delayedNode, retval);
        }
        if (k.nrThreads >= k.maxThreads) {
            return badForkCleanupCount(p, flags, delayedNode, Errno.EAGAIN.negative());
        }
        int pflags = m.readInt(p + o.taskFlags);
        m.writeInt(p + o.taskFlags, (pflags & ~(PF_SUPERPRIV | PF_WQ_WORKER | PF_IDLE)) | PF_FORKNOEXEC);
        lists.init(p + f.taskChildren);
        lists.init(p + f.taskSibling);
        rcuCopyProcess(p);
        m.writePointer(p + f.taskVforkDone, 0);
        k.initSigpending(p);
        m.writeLong(p + f.taskUtime, 0);
        m.writeLong(p + f.taskStime, 0);
        m.writeLong(p + f.taskGtime, 0);
        posixCpuTimersInit(p);
        m.writeLong(p + f.taskStartTime, k.clock());
        m.writeLong(p + f.taskRealStartTime, k.clock());
        // cgroup_fork(p)
        initListHead(p, f.taskCgList);

        retval = fault(ForkStep.SCHED_FORK);
        if (retval == 0) {
            k.traceFunction(cpu, "sched_fork", "copy_process");
            retval = k.sched.schedFork(p, current, cpu);
        }
        if (retval < 0) {
            return badForkCleanupPolicy(p, flags, delayedNode, retval);
        }
        perfEventInitTask(p);
        // shm_init_task(p)
        initListHead(p, f.taskShmClist);
        retval = fault(ForkStep.COPY_FILES);
        if (retval == 0) {
            retval = copyFiles(flags, p, current);
        }
        if (retval < 0) {
            return badForkCleanupSemundo(p, flags, delayedNode, retval);
        }
        retval = fault(ForkStep.COPY_FS);
        if (retval == 0) {
            retval = copyFs(flags, p, current);
        }
        if (retval < 0) {
            return badForkCleanupFiles(p, flags, delayedNode, retval);
        }
        retval = fault(ForkStep.COPY_SIGHAND);
        if (retval == 0) {
            retval = copySighand(flags, p, current);
        }
        if (retval < 0) {
            return badForkCleanupFs(p, flags, delayedNode, retval);
        }
        retval = fault(ForkStep.COPY_SIGNAL);
        if (retval == 0) {
            retval = copySignal(flags, p, current);
        }
        if (retval < 0) {
            return badForkCleanupSighand(p, flags, delayedNode, retval);
        }
        retval = fault(ForkStep.COPY_MM);
        if (retval == 0) {
            retval = copyMm(flags, p, current);
        }
        if (retval < 0) {
            return badForkCleanupSignal(p, flags, delayedNode, retval);
        }
        retval = fault(ForkStep.COPY_NAMESPACES);
        if (retval == 0) {
            retval = copyNamespaces(flags, p, current);
        }
        if (retval < 0) {
            return badForkCleanupMm(p, flags, delayedNode, retval);
        }
        retval = fault(ForkStep.COPY_IO);
        if (retval < 0) {
            return badForkCleanupNamespaces(p, flags, delayedNode, retval);
        }
        retval = fault(ForkStep.COPY_THREAD);
        if (retval == 0) {
            k.traceFunction(cpu, "copy_thread", "copy_process");
            boolean kthread = (m.readInt(p + o.taskFlags) & PF_KTHREAD) != 0;
            platform.copyThread(m, flags, stackStart, stackSize, current, p, kthread, retFromFork);
        }
        if (retval < 0) {
            return badForkCleanupIo(p, flags, delayedNode, retval);
        }
        long pid = k.initStructPid;
        if (!idle) {
            retval = fault(ForkStep.ALLOC_PID);
            if (retval == 0) {
                k.traceFunction(cpu, "alloc_pid", "copy_process");
                long nsproxy = m.readPointer(p + f.taskNsproxy);
                pid = k.pids.allocPid(m.readPointer(nsproxy + f.nsproxyPidNsForChildren));
                if (Kernel.isErr(pid)) {
                    retval = pid;
                }
            }
            if (retval < 0) {
                return badForkCleanupThread(p, flags, delayedNode, retval);
            }
        }
        // CONFIG_FUTEX
        writePointer(p, f.taskRobustList, 0);
        writePointer(p, f.taskCompatRobustList, 0);
        initListHead(p, f.taskPiStateList);
        writePointer(p, f.taskPiStateCache, 0);
        if ((flags & (CLONE_VM | CLONE_VFORK)) == CLONE_VM) {
            k.sasSsReset(p);
        }
        // user_disable_single_step(p): TIF_SINGLESTEP on arm64, nothing on ARM32 (no arch_has_single_step)
        k.clearTsiFlag(p, k.tifSinglestep);
        k.clearTsiFlag(p, k.tifSyscallTrace);
        int nr = k.pids.nr(pid);
        m.writeInt(p + o.taskPid, nr);
        if ((flags & CLONE_THREAD) != 0) {
            m.writeInt(p + o.taskExitSignal, -1);
            m.writePointer(p + o.taskGroupLeader, m.readPointer(current + o.taskGroupLeader));
            m.writeInt(p + o.taskTgid, m.readInt(current + o.taskTgid));
        } else {
            int exitSignal = (flags & CLONE_PARENT) != 0
                    ? m.readInt(m.readPointer(current + o.taskGroupLeader) + o.taskExitSignal)
                    : (int) (flags & CSIGNAL);
            m.writeInt(p + o.taskExitSignal, exitSignal);
            m.writePointer(p + o.taskGroupLeader, p);
            m.writeInt(p + o.taskTgid, nr);
        }
        m.writeInt(p + f.taskPdeathSignal, 0);
        lists.init(p + f.taskThreadGroup);
        retval = fault(ForkStep.CGROUP_CAN_FORK);
        if (retval < 0) {
            return badForkFreePid(p, flags, delayedNode, pid, retval);
        }
        // write_lock_irq(&tasklist_lock)
        if ((flags & (CLONE_PARENT | CLONE_THREAD)) != 0) {
            m.writePointer(p + o.taskRealParent, m.readPointer(current + o.taskRealParent));
            m.writeInt(p + f.taskParentExecId, m.readInt(current + f.taskParentExecId));
        } else {
            m.writePointer(p + o.taskRealParent, current);
            m.writeInt(p + f.taskParentExecId, m.readInt(current + f.taskSelfExecId));
        }
        if (!idle && (m.readInt(k.pids.nsOf(pid) + f.pidNsPidAllocated) & Pids.PIDNS_ADDING) == 0) {
            return badForkCancelCgroup(p, flags, delayedNode, pid, Errno.ENOMEM.negative());
        }
        retval = fault(ForkStep.LATE_FATAL_SIGNAL);
        if (retval == 0 && k.fatalSignalPending(current)) {
            retval = Errno.EINTR.negative();
        }
        if (retval < 0) {
            return badForkCancelCgroup(p, flags, delayedNode, pid, retval);
        }
        for (int type = 0; type < Pids.PIDTYPE_MAX; type++) {
            lists.hlistInitNode(p + f.taskPidLinks + type * f.hnodeSize);
        }
        if (nr != 0) {
            // ptrace_init_task(p, 0)
            lists.init(p + f.taskPtraceEntry);
            lists.init(p + f.taskPtraced);
            m.writeInt(p + f.taskPtrace, 0);
            m.writePointer(p + o.taskParent, m.readPointer(p + o.taskRealParent));
            m.writePointer(p + f.taskThreadPid, pid);
            long signal = m.readPointer(p + f.taskSignal);
            if ((flags & CLONE_THREAD) == 0) {
                long parentSignal = m.readPointer(current + f.taskSignal);
                m.writePointer(signal + f.signalPids + Pids.PIDTYPE_TGID * ptr, pid);
                m.writePointer(signal + f.signalPids + Pids.PIDTYPE_PGID * ptr,
                        m.readPointer(parentSignal + f.signalPids + Pids.PIDTYPE_PGID * ptr));
                m.writePointer(signal + f.signalPids + Pids.PIDTYPE_SID * ptr,
                        m.readPointer(parentSignal + f.signalPids + Pids.PIDTYPE_SID * ptr));
                if (k.pids.isChildReaper(pid)) {
                    m.writePointer(k.pids.nsOf(pid) + f.pidNsChildReaper, p);
                    m.writeInt(signal + f.signalFlags, m.readInt(signal + f.signalFlags) | SIGNAL_UNKILLABLE);
                }
                long realParent = m.readPointer(p + o.taskRealParent);
                long rpSignal = m.readPointer(realParent + f.taskSignal);
                int rpBits = m.readInt(rpSignal + f.signalSubreaperWord);
                int bits = m.readInt(signal + f.signalSubreaperWord);
                boolean inherit = (rpBits & 0x3) != 0;
                m.writeInt(signal + f.signalSubreaperWord, inherit ? bits | 0x2 : bits & ~0x2);
                lists.addTail(p + o.taskSibling, realParent + o.taskChildren);
                lists.addTail(p + o.taskTasks, k.initTask + o.taskTasks);
                k.attachPid(p, Pids.PIDTYPE_TGID);
                k.attachPid(p, Pids.PIDTYPE_PGID);
                k.attachPid(p, Pids.PIDTYPE_SID);
            } else {
                long sig = m.readPointer(current + f.taskSignal);
                m.writeInt(sig + f.signalNrThreads, m.readInt(sig + f.signalNrThreads) + 1);
                m.writeInt(sig + f.signalLive, m.readInt(sig + f.signalLive) + 1);
                m.writeInt(sig + f.signalSigcnt, m.readInt(sig + f.signalSigcnt) + 1);
                long leader = m.readPointer(p + o.taskGroupLeader);
                lists.addTail(p + f.taskThreadGroup, leader + f.taskThreadGroup);
                lists.addTail(p + f.taskThreadNode, signal + f.signalThreadHead);
            }
            k.attachPid(p, Pids.PIDTYPE_PID);
            k.nrThreads++;
        }
        k.totalForks++;
        lists.hlistDelInit(delayedNode);
        k.traceNewTask(cpu, p, flags);
        return p;
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
        if (f.taskRcuNodeEntry >= 0) {
            m.writeInt(p + f.taskRcuReadLockNesting, 0);
            m.writeInt(p + f.taskRcuReadUnlockSpecial, 0);
            lists.init(p + f.taskRcuNodeEntry);
            m.writePointer(p + f.taskRcuBlockedNode, 0);
        }
        if (f.taskRcuTasksHoldoutList >= 0) {
            m.writeByte(p + f.taskRcuTasksHoldout, (byte) 0);
            lists.init(p + f.taskRcuTasksHoldoutList);
            m.writeInt(p + f.taskRcuTasksIdleCpu, -1);
        }
    }

    /** {@code posix_cpu_timers_init(p)}: no expiry set, three empty timer lists. */
    private void posixCpuTimersInit(long p) {
        if (f.taskCpuTimers >= 0) {
            m.fill(p + f.taskCputimeExpires, f.taskCputimeExpiresSize, (byte) 0);
            for (int i = 0; i < 3; i++) {
                lists.init(p + f.taskCpuTimers + i * 2L * ptr);
            }
        }
    }

    /** {@code perf_event_init_task(p)}: no contexts, {@code mutex_init(&p->perf_event_mutex)}, an empty event list. */
    private void perfEventInitTask(long p) {
        if (f.taskPerfEventList >= 0) {
            m.fill(p + f.taskPerfEventCtxp, f.taskPerfEventCtxpSize, (byte) 0);
            m.fill(p + f.taskPerfEventMutex, f.taskPerfEventMutexSize, (byte) 0);
            lists.init(p + f.taskPerfEventMutexWaitList);
            lists.init(p + f.taskPerfEventList);
        }
    }

    private long fault(ForkStep step) {
        Errno e = k.faults.step(step);
        return e == null ? 0 : e.negative();
    }

    /**
     * {@code dup_task_struct(orig)}: a task_struct from its cache and a zeroed THREAD_SIZE stack
     * (vmalloc'd with VMAP_STACK), the parent's task_struct copied in one bulk copy
     * ({@code arch_dup_task_struct}: {@code *dst = *src}), ARM32's thread_info copied by
     * {@code setup_thread_stack}, TIF_NEED_RESCHED cleared, STACK_END_MAGIC, a stack canary, usage 2.
     */
    private long dupTaskStruct(long orig, int cpu) {
        k.traceFunction(cpu, "dup_task_struct", "copy_process");
        long tsk = k.kmemCacheAlloc(k.taskCache);
        if (tsk == 0) {
            return 0;
        }
        long stack = k.allocThreadStack();
        if (stack == 0) {
            k.taskCache.free(tsk);
            return 0;
        }
        m.copy(orig, tsk, o.taskSize);
        m.writePointer(tsk + o.taskStack, stack);
        if (f.taskStackVmArea >= 0) {
            m.writePointer(tsk + f.taskStackVmArea, 0);
        }
        if (f.taskStackRefcount >= 0) {
            m.writeInt(tsk + f.taskStackRefcount, 1);
        }
        if (!platform.threadInfoInTask()) {
            long ti = stack;
            m.copy(platform.taskThreadInfo(m, orig), ti, o.threadInfoSize);
            m.writePointer(ti + o.tiTask, tsk);
        }
        k.clearTsiFlag(tsk, Kernel.TIF_NEED_RESCHED);
        m.writePointer(platform.endOfStack(m, tsk), Platform.STACK_END_MAGIC);
        if (o.taskStackCanary >= 0) {
            m.writePointer(tsk + o.taskStackCanary, k.randomCanary());
        }
        m.writeInt(tsk + o.taskUsage, 2);
        return tsk;
    }

    /**
     * {@code copy_creds()}: a thread shares its parent's cred (two more references); a process gets a
     * copy ({@code prepare_creds}) holding a reference on the user. Either way the user's
     * {@code processes} count goes up.
     */
    private long copyCreds(long p, long flags) {
        long cred = m.readPointer(p + f.taskCred);
        long user;
        if ((flags & CLONE_THREAD) != 0) {
            k.getCred(cred);
            k.getCred(cred);
            m.writePointer(p + f.taskRealCred, cred);
            user = m.readPointer(cred + f.credUser);
        } else {
            long created = k.kmemCacheAlloc(k.credCache);
            if (created == 0) {
                return Errno.ENOMEM.negative();
            }
            m.copy(cred, created, f.credSize);
            m.writeInt(created + f.credUsage, 1);
            user = m.readPointer(created + f.credUser);
            k.getUid(user);
            k.getCred(created);
            m.writePointer(p + f.taskCred, created);
            m.writePointer(p + f.taskRealCred, created);
        }
        m.writeInt(user + f.userProcesses, m.readInt(user + f.userProcesses) + 1);
        return 0;
    }

    /** {@code copy_files()}: share and count with CLONE_FILES, else {@code dup_fd}. */
    private long copyFiles(long flags, long p, long current) {
        long oldf = m.readPointer(current + f.taskFiles);
        if (oldf == 0) {
            return 0;
        }
        if ((flags & CLONE_FILES) != 0) {
            m.writeInt(oldf + f.filesCount, m.readInt(oldf + f.filesCount) + 1);
            return 0;
        }
        long newf = k.dupFd(oldf);
        if (newf == 0) {
            return Errno.ENOMEM.negative();
        }
        m.writePointer(p + f.taskFiles, newf);
        return 0;
    }

    /** {@code copy_fs()}: share with CLONE_FS (-EAGAIN while the fs is in exec), else {@code copy_fs_struct}. */
    private long copyFs(long flags, long p, long current) {
        long fs = m.readPointer(current + f.taskFs);
        if ((flags & CLONE_FS) != 0) {
            if (m.readInt(fs + f.fsInExec) != 0) {
                return Errno.EAGAIN.negative();
            }
            m.writeInt(fs + f.fsUsers, m.readInt(fs + f.fsUsers) + 1);
            return 0;
        }
        long copy = k.kmemCacheAlloc(k.fsCache);
        if (copy == 0) {
            return Errno.ENOMEM.negative();
        }
        m.copy(fs, copy, f.fsSize);
        m.writeInt(copy + f.fsUsers, 1);
        m.writeInt(copy + f.fsInExec, 0);
        m.writeInt(copy + f.fsSeq, 0);
        m.writePointer(p + f.taskFs, copy);
        return 0;
    }

    /** {@code copy_sighand()}: share with CLONE_SIGHAND, else a copy of the handlers with count 1. */
    private long copySighand(long flags, long p, long current) {
        long sighand = m.readPointer(current + f.taskSighand);
        if ((flags & CLONE_SIGHAND) != 0) {
            m.writeInt(sighand + f.sighandCount, m.readInt(sighand + f.sighandCount) + 1);
            return 0;
        }
        long sig = k.kmemCacheAlloc(k.sighandCache);
        m.writePointer(p + f.taskSighand, sig);
        if (sig == 0) {
            return Errno.ENOMEM.negative();
        }
        k.sighandCtor(sig);
        m.writeInt(sig + f.sighandCount, 1);
        m.copy(sighand + f.sighandAction, sig + f.sighandAction, 64 * f.sigactionSize);
        return 0;
    }

    /** {@code copy_signal()}: nothing for a thread; otherwise a zeroed signal_struct for a new group of one. */
    private long copySignal(long flags, long p, long current) {
        if ((flags & CLONE_THREAD) != 0) {
            return 0;
        }
        long sig = k.kmemCacheZalloc(k.signalCache);
        m.writePointer(p + f.taskSignal, sig);
        if (sig == 0) {
            return Errno.ENOMEM.negative();
        }
        m.writeInt(sig + f.signalNrThreads, 1);
        m.writeInt(sig + f.signalLive, 1);
        m.writeInt(sig + f.signalSigcnt, 1);
        // sig->thread_head and tsk->thread_node: a ring of two
        m.writePointer(sig + f.signalThreadHead + f.listNext, p + f.taskThreadNode);
        m.writePointer(sig + f.signalThreadHead + f.listPrev, p + f.taskThreadNode);
        m.writePointer(p + f.taskThreadNode + f.listNext, sig + f.signalThreadHead);
        m.writePointer(p + f.taskThreadNode + f.listPrev, sig + f.signalThreadHead);
        lists.init(sig + f.signalWaitChldexitHead);
        m.writePointer(sig + f.signalCurrTarget, p);
        lists.init(sig + f.signalSharedPendingList);
        lists.hlistInitHead(sig + f.signalMultiprocess);
        lists.init(sig + f.signalPosixTimers);
        for (int i = 0; i < 3; i++) {
            lists.init(sig + f.signalCpuTimers + i * 2L * ptr);
        }
        long parentSig = m.readPointer(current + f.taskSignal);
        m.copy(parentSig + f.signalRlim, sig + f.signalRlim, 16 * f.rlimitSize);
        m.writeInt(sig + f.signalOomScoreAdj, m.readInt(parentSig + f.signalOomScoreAdj));
        return 0;
    }

    /**
     * {@code copy_mm()}: clear the fault and switch counters, then: nothing for a kernel thread (no
     * mm), {@code mmget} with CLONE_VM, else {@code dup_mm}.
     */
    private long copyMm(long flags, long p, long current) {
        m.writePointer(p + f.taskMinFlt, 0);
        m.writePointer(p + f.taskMajFlt, 0);
        m.writePointer(p + f.taskNvcsw, 0);
        m.writePointer(p + f.taskNivcsw, 0);
        m.writePointer(p + o.taskMm, 0);
        m.writePointer(p + o.taskActiveMm, 0);
        long oldmm = m.readPointer(current + o.taskMm);
        if (oldmm == 0) {
            return 0;
        }
        long mm;
        if ((flags & CLONE_VM) != 0) {
            m.writeInt(oldmm + f.mmUsers, m.readInt(oldmm + f.mmUsers) + 1);
            mm = oldmm;
        } else {
            mm = k.dupMm(oldmm, p);
            if (mm == 0) {
                return Errno.ENOMEM.negative();
            }
        }
        m.writePointer(p + o.taskMm, mm);
        m.writePointer(p + o.taskActiveMm, mm);
        return 0;
    }

    /**
     * {@code copy_namespaces()}: without CLONE_NEW* flags share the nsproxy; otherwise a new nsproxy
     * whose pid namespace for children is new with CLONE_NEWPID. Namespaces other than pid are shared
     * by the new nsproxy (the model does not model mount, uts, ipc, net or cgroup namespaces).
     */
    private long copyNamespaces(long flags, long p, long current) {
        long old = m.readPointer(p + f.taskNsproxy);
        if ((flags & NS_FLAGS) == 0) {
            m.writeInt(old + f.nsproxyCount, m.readInt(old + f.nsproxyCount) + 1);
            return 0;
        }
        if ((flags & (CLONE_NEWIPC | CLONE_SYSVSEM)) == (CLONE_NEWIPC | CLONE_SYSVSEM)) {
            return Errno.EINVAL.negative();
        }
        long ns = k.kmemCacheAlloc(k.nsproxyCache);
        if (ns == 0) {
            return Errno.ENOMEM.negative();
        }
        m.copy(old, ns, f.nsproxySize);
        m.writeInt(ns + f.nsproxyCount, 1);
        long oldPidNs = m.readPointer(old + f.nsproxyPidNsForChildren);
        long pidNs;
        if ((flags & CLONE_NEWPID) == 0) {
            k.pids.getPidNs(oldPidNs);
            pidNs = oldPidNs;
        } else {
            if (k.taskActivePidNs(current) != oldPidNs) {
                k.nsproxyCache.free(ns);
                return Errno.EINVAL.negative();
            }
            pidNs = k.pids.createPidNamespace(oldPidNs);
            if (Kernel.isErr(pidNs)) {
                k.nsproxyCache.free(ns);
                return pidNs;
            }
        }
        m.writePointer(ns + f.nsproxyPidNsForChildren, pidNs);
        m.writePointer(p + f.taskNsproxy, ns);
        return 0;
    }

    // ---- the bad_fork_* ladder: each label undoes one step and falls through to the next ----

    private long badForkCancelCgroup(long p, long flags, long delayed, long pid, long retval) {
        return badForkFreePid(p, flags, delayed, pid, retval);
    }

    private long badForkFreePid(long p, long flags, long delayed, long pid, long retval) {
        if (pid != k.initStructPid) {
            k.pids.freePid(pid);
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
        k.exitTaskNamespaces(p);
        return badForkCleanupMm(p, flags, delayed, retval);
    }

    private long badForkCleanupMm(long p, long flags, long delayed, long retval) {
        long mm = m.readPointer(p + o.taskMm);
        if (mm != 0) {
            k.mmput(mm);
        }
        return badForkCleanupSignal(p, flags, delayed, retval);
    }

    private long badForkCleanupSignal(long p, long flags, long delayed, long retval) {
        if ((flags & CLONE_THREAD) == 0) {
            k.signalCache.free(m.readPointer(p + f.taskSignal));
        }
        return badForkCleanupSighand(p, flags, delayed, retval);
    }

    private long badForkCleanupSighand(long p, long flags, long delayed, long retval) {
        k.cleanupSighand(m.readPointer(p + f.taskSighand));
        return badForkCleanupFs(p, flags, delayed, retval);
    }

    private long badForkCleanupFs(long p, long flags, long delayed, long retval) {
        k.exitFs(p);
        return badForkCleanupFiles(p, flags, delayed, retval);
    }

    private long badForkCleanupFiles(long p, long flags, long delayed, long retval) {
        k.exitFiles(p);
        return badForkCleanupSemundo(p, flags, delayed, retval);
    }

    private long badForkCleanupSemundo(long p, long flags, long delayed, long retval) {
        // exit_sem, security_task_free, audit_free, perf_event_free_task: nothing the model keeps
        return badForkCleanupPolicy(p, flags, delayed, retval);
    }

    private long badForkCleanupPolicy(long p, long flags, long delayed, long retval) {
        return badForkCleanupCount(p, flags, delayed, retval);
    }

    private long badForkCleanupCount(long p, long flags, long delayed, long retval) {
        long user = m.readPointer(m.readPointer(p + f.taskCred) + f.credUser);
        m.writeInt(user + f.userProcesses, m.readInt(user + f.userProcesses) - 1);
        k.exitCreds(p);
        return badForkFree(p, delayed, retval);
    }

    private long badForkFree(long p, long delayed, long retval) {
        m.writePointer(p + o.taskState, Kernel.TASK_DEAD);
        k.putTaskStack(p);
        k.freeTask(p);
        return forkOut(delayed, retval);
    }

    private long forkOut(long delayed, long retval) {
        lists.hlistDelInit(delayed);
        return retval;
    }
}
