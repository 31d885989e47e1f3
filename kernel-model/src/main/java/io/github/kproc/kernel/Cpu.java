package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.view.PreemptCount;
import io.github.kproc.view.TaskStruct;
import java.util.List;
import java.util.Set;
import io.github.kproc.view.TaskStateBits;
import io.github.kproc.view.TaskFlags;

/**
 * One CPU of a booted kernel ({@link Kernel#cpu}): what runs there as its current task, as a system
 * call, an interrupt or the scheduler on that CPU would. Every operation first lets the CPU take a
 * reschedule IPI sent to it and lets a killed current task die ({@link #step}), as an interrupt
 * arrives before the next instruction and a killed task dies on its way back to user mode, and then
 * acts as the task current after it.
 *
 * <p>{@link #as(Pid)} gives a handle that checks, before every operation, that the CPU runs the task
 * the caller means: otherwise {@link IllegalStateException} and nothing happens. Operations the
 * kernel forbids in the CPU's context (a fork with irqs off or in an interrupt handler, which would
 * sleep where it may not) are refused with the BUG line the kernel prints recorded in
 * {@link Kernel#bugs()}. A refused or failed operation leaves the model as it was. An exception of
 * the trace sink is thrown after the operation completed ({@link Tracer}). After
 * {@link Kernel#close()} every call throws {@code IllegalStateException("kernel is closed")}. Not
 * thread-safe.
 */
public final class Cpu {
    private final Machine mc;
    private final Core core;
    private final Preempt preempt;
    private final Softirq softirq;
    private final Fork fork;
    private final Exit exit;
    private final Exec exec;
    private final Pids pids;
    private final Vfork vfork;
    private final Cred cred;
    private final Sys sys;
    private final int cpu;
    /** The pid the caller expects to be current, or 0 for whatever runs. */
    private final int expected;

    Cpu(Machine mc, Core core, Preempt preempt, Softirq softirq, Fork fork, Exit exit, Exec exec, Pids pids,
            Vfork vfork, Cred cred, Sys sys, int cpu, int expected) {
        this.mc = mc;
        this.core = core;
        this.preempt = preempt;
        this.softirq = softirq;
        this.fork = fork;
        this.exit = exit;
        this.exec = exec;
        this.pids = pids;
        this.vfork = vfork;
        this.cred = cred;
        this.sys = sys;
        this.cpu = cpu;
        this.expected = expected;
    }

    /** The CPU's number. */
    public int number() {
        return cpu;
    }

    /**
     * This CPU, checking before every operation that its current task (after any pending IPI) is
     * {@code task}; a mismatch is an {@link IllegalStateException} and nothing happens.
     */
    public Cpu as(Pid task) {
        java.util.Objects.requireNonNull(task, "task");
        mc.checkOpen();
        return new Cpu(mc, core, preempt, softirq, fork, exit, exec, pids, vfork, cred, sys, cpu, task.nr());
    }

    // ---- what runs here ----

    /** {@code current}, derived from the CPU's registers as the architecture does. */
    public TaskStruct current() {
        mc.checkOpen();
        return new TaskStruct(mc.platform, mc.m, mc.current(cpu));
    }

    /** The pid of {@code current}, or empty for the idle task (pid 0). */
    public java.util.Optional<Pid> currentPid() {
        mc.checkOpen();
        int nr = mc.m.readInt(mc.current(cpu) + mc.o.taskPid);
        return nr == 0 ? java.util.Optional.empty() : java.util.Optional.of(mc.pid(nr));
    }

    /** The CPU's registers (a copy), named by {@code Platform.cpuRegisters()}. */
    public long[] registers() {
        mc.checkOpen();
        return mc.registers[cpu].clone();
    }

    /** {@code smp_processor_id()}: {@code task_cpu(current)}. */
    public int smpProcessorId() {
        mc.checkOpen();
        return mc.platform.taskCpu(mc.m, mc.current(cpu));
    }

    /** The CPU's idle task (swapper/N). */
    public TaskStruct idleTask() {
        mc.checkOpen();
        return new TaskStruct(mc.platform, mc.m, core.rq.idle(cpu));
    }

    /** {@code rq->nr_running}. */
    public int nrRunning() {
        mc.checkOpen();
        return core.rq.nrRunning(cpu);
    }

    /** {@code rq->nr_switches}. */
    public long nrSwitches() {
        mc.checkOpen();
        return core.rq.nrSwitches(cpu);
    }

    /** {@code cfs_rq->min_vruntime}. */
    public long minVruntime() {
        mc.checkOpen();
        return core.fair.minVruntime(cpu);
    }

    /** Reschedule IPIs sent to this CPU. */
    public long reschedIpis() {
        mc.checkOpen();
        return mc.ipis[cpu];
    }

    /** The tasks queued (runnable, not running) here: RT first, then fair in vruntime order. */
    public List<TaskStruct> queued() {
        mc.checkOpen();
        return core.queued(cpu).stream().map(t -> new TaskStruct(mc.platform, mc.m, t)).toList();
    }

    /** {@code preempt_count()} of the current task. */
    public PreemptCount preemptCount() {
        mc.checkOpen();
        return new PreemptCount(preempt.count(cpu));
    }

    /** {@code irqs_disabled()}. */
    public boolean irqsDisabled() {
        mc.checkOpen();
        return mc.irqsOff[cpu];
    }

    // ---- system calls of the current task ----

    /** {@code fork()}: {@code _do_fork(SIGCHLD, 0, 0, NULL, NULL, 0)}. Returns the child's pid. */
    public Pid fork() {
        int nr;
        try {
            enter();
            mightSleep("fork");
            nr = check(fork.doFork(cpu, CloneFlag.SIGCHLD, 0, 0, 0, 0, 0, "sys_fork"), "fork");
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
        return mc.pid(nr);
    }

    /**
     * {@code vfork()}: {@code _do_fork(CLONE_VFORK | CLONE_VM | SIGCHLD, ...)}. The parent is left
     * blocked (TASK_KILLABLE) in {@code wait_for_vfork_done} until the child execs or exits.
     */
    public Pid vfork() {
        int nr;
        try {
            enter();
            mightSleep("vfork");
            nr = check(fork.doFork(cpu, CloneFlag.VFORK.value() | CloneFlag.VM.value() | CloneFlag.SIGCHLD, 0, 0, 0, 0,
                    0, "sys_vfork"), "vfork");
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
        return mc.pid(nr);
    }

    /**
     * {@code clone(args)}; the arguments are left in the caller's pt_regs as the syscall entry does
     * (ARM's CLONE_BACKWARDS order). Returns the child's pid in the caller's pid namespace.
     *
     * @throws KernelException with the errno copy_process returns (EINVAL for a bad flag combination,
     *     EAGAIN at a limit, ENOMEM, ...)
     */
    public Pid clone(CloneArgs args) {
        java.util.Objects.requireNonNull(args, "args");
        int nr;
        try {
            nr = cloneRaw(args.word(), args.stack(), args.stackSize(), args.parentTid(), args.childTid(), args.tls());
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
        return mc.pid(nr);
    }

    private int cloneRaw(long word, long stack, long stackSize, long parentTid, long childTid, long tls) {
        enter();
        mightSleep("clone");
        long current = mc.current(cpu);
        if ((mc.m.readInt(current + mc.o.taskFlags) & TaskFlags.PF_KTHREAD) == 0) {
            // clone(flags, newsp, parent_tidptr, tls, child_tidptr): ARM's CLONE_BACKWARDS order
            mc.platform.setSyscallArgument(mc.m, current, 0, word);
            mc.platform.setSyscallArgument(mc.m, current, 1, stack);
            mc.platform.setSyscallArgument(mc.m, current, 2, parentTid);
            mc.platform.setSyscallArgument(mc.m, current, 3, tls);
            mc.platform.setSyscallArgument(mc.m, current, 4, childTid);
        }
        return check(fork.doFork(cpu, word, stack, stackSize, parentTid, childTid, tls, "sys_clone"), "clone");
    }

    /**
     * {@code kernel_thread(fn, arg, flags)} by a kernel thread: {@code _do_fork(flags | CLONE_VM |
     * CLONE_UNTRACED, fn, arg, ...)} with {@code fn} one of the model's kernel functions
     * ({@code "kthreadd"}, {@code "kthread"}, {@code "worker_thread"}, ...).
     *
     * @throws KernelException EPERM if the current task is not a kernel thread
     */
    public Pid kernelThread(String fn, long arg, Set<CloneFlag> flags) {
        java.util.Objects.requireNonNull(fn, "fn");
        java.util.Objects.requireNonNull(flags, "flags");
        int nr;
        try {
            enter();
            mightSleep("kernel_thread");
            long current = mc.current(cpu);
            if ((mc.m.readInt(current + mc.o.taskFlags) & TaskFlags.PF_KTHREAD) == 0) {
                throw new KernelException(Errno.EPERM, "kernel_thread() is called by kernel threads only");
            }
            long word = CloneFlag.word(flags, CloneFlag.SIGCHLD) | CloneFlag.VM.value() | CloneFlag.UNTRACED.value();
            nr = check(fork.doFork(cpu, word, mc.symbols.address(fn), arg, 0, 0, 0, "kernel_thread"), "kernel_thread");
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
        return mc.pid(nr);
    }

    /**
     * {@code exit(status)} of the current task: {@code do_exit((status & 0xff) << 8)}, the status word a
     * waiting parent decodes with {@link WaitStatus#exitStatus()}; the CPU then runs the next task.
     *
     * @throws IllegalStateException for the idle task or the global init ("Attempted to kill init!")
     */
    public void exit(int status) {
        try {
            enter();
            exit.doExit(cpu, (status & 0xff) << 8);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /**
     * {@code wait4(pid, ..., WNOHANG | __WALL)}: reaps the zombie child {@code pid} with
     * {@code release_task}. Costs a walk of the caller's children, as 4.19's {@code do_wait} does.
     *
     * @return true if it was reaped, false if it has not exited yet
     * @throws KernelException ECHILD if the caller has no such child
     */
    public boolean wait4(Pid child) {
        java.util.Objects.requireNonNull(child, "child");
        boolean reaped;
        try {
            enter();
            long current = mc.current(cpu);
            long pid = pids.findPidNs(child.nr(), pids.taskActivePidNs(current));
            reaped = checkWait(exit.doWait(cpu, Pids.PIDTYPE_PID, pid, Exit.WNOHANG | Exit.WALL | Exit.WEXITED)) != 0;
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
        return reaped;
    }

    /**
     * {@code wait4(-1, ..., WNOHANG | __WALL)}: reaps any zombie child.
     *
     * @return the reaped child's pid in the caller's namespace, or empty if none has exited yet
     * @throws KernelException ECHILD if the caller has no children
     */
    public java.util.Optional<Pid> wait4Any() {
        long r;
        try {
            enter();
            r = checkWait(exit.doWait(cpu, Pids.PIDTYPE_MAX, 0, Exit.WNOHANG | Exit.WALL | Exit.WEXITED));
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
        return r == 0 ? java.util.Optional.empty() : java.util.Optional.of(mc.pid((int) (r >>> 32)));
    }

    /**
     * {@code wait4(upid, &status, options, NULL)} ({@code kernel_wait4} -> {@code do_wait}): {@code upid}
     * -1 waits for any child, {@code n > 0} for child n, 0 for a child in the caller's process group,
     * {@code -n} for one in process group n. Children are looked for among the calling thread's first,
     * then its thread group's (not with {@link WaitOption#NOTHREAD}); without {@link WaitOption#ALL}
     * only children with exit signal SIGCHLD count (only the others with {@link WaitOption#CLONE}).
     * Without {@link WaitOption#NOHANG} and with nothing to reap yet the caller sleeps in do_wait
     * (TASK_INTERRUPTIBLE on its {@code signal->wait_chldexit}) until such a child exits, and this
     * returns empty: call it again once the task runs.
     *
     * @return the reaped child and its status word, or empty (WNOHANG and nothing to reap, or asleep)
     * @throws KernelException EINVAL for an option wait4 does not take (WNOWAIT, WEXITED), ESRCH for
     *     INT_MIN, ECHILD without a matching child, ERESTARTSYS if a signal is pending instead of sleeping
     */
    public java.util.Optional<WaitStatus> wait4(int upid, Set<WaitOption> options) {
        int word = WaitOption.word(options);
        if ((word & ~Exit.WAIT4_OPTIONS) != 0) {
            throw new KernelException(Errno.EINVAL, "wait4 does not take " + options);
        }
        if (upid == Integer.MIN_VALUE) {
            throw new KernelException(Errno.ESRCH, "wait4(INT_MIN)");
        }
        return waitResult(upid, word | Exit.WEXITED);
    }

    /**
     * {@code waitid(idtype, id, &info, options, NULL)} ({@code kernel_waitid} -> {@code do_wait}):
     * {@code upid} -1 is P_ALL, {@code n > 0} P_PID n, {@code -n} P_PGID n. {@code options} must hold
     * {@link WaitOption#EXITED} (or UNTRACED/CONTINUED, which the model's children never report);
     * {@link WaitOption#NOWAIT} reports a zombie and leaves it waitable. Blocking as {@link #wait4(int, Set)}.
     *
     * @return the child and the status word its siginfo is made from, or empty
     * @throws KernelException EINVAL for unknown options, none of EXITED/UNTRACED/CONTINUED, or pid 0;
     *     ECHILD, ERESTARTSYS as for wait4
     */
    public java.util.Optional<WaitStatus> waitid(int upid, Set<WaitOption> options) {
        int word = WaitOption.word(options);
        if ((word & ~Exit.WAITID_OPTIONS) != 0 || (word & (Exit.WEXITED | Exit.WSTOPPED | Exit.WCONTINUED)) == 0
                || upid == 0 || upid == Integer.MIN_VALUE) {
            throw new KernelException(Errno.EINVAL, "waitid(" + upid + ", " + options + ")");
        }
        return waitResult(upid, word);
    }

    private java.util.Optional<WaitStatus> waitResult(int upid, int flags) {
        java.util.Optional<WaitStatus> result;
        try {
            enter();
            result = doWait(upid, flags);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
        return result;
    }

    private java.util.Optional<WaitStatus> doWait(int upid, int flags) {
        long current = mc.current(cpu);
        long ns = pids.taskActivePidNs(current);
        int type;
        long pid = 0;
        if (upid == -1) {
            type = Pids.PIDTYPE_MAX;
        } else if (upid < 0) {
            type = Pids.PIDTYPE_PGID;
            pid = pids.findPidNs(-upid, ns);
        } else if (upid == 0) {
            type = Pids.PIDTYPE_PGID;
            pid = pids.taskPid(current, Pids.PIDTYPE_PGID);
        } else {
            type = Pids.PIDTYPE_PID;
            pid = pids.findPidNs(upid, ns);
        }
        long r = checkWait(exit.doWait(cpu, type, pid, flags));
        return r == 0 ? java.util.Optional.empty()
                : java.util.Optional.of(new WaitStatus(mc.pid((int) (r >>> 32)), (int) r));
    }

    private static long checkWait(long result) {
        if (result == Exit.ERESTARTSYS) {
            throw new KernelException(Errno.ERESTARTSYS, "wait interrupted by a pending signal");
        }
        if (result < 0) {
            throw new KernelException(Errno.fromNegative(result), "wait failed");
        }
        return result;
    }

    /**
     * The effects of {@code execve} the fork and exit paths depend on: a file table and signal handlers
     * of its own, a new user address space, {@code mm_release} completing a vfork parent's wait,
     * {@code __set_task_comm}, addr_limit USER_DS, exit_signal SIGCHLD, and a kernel thread becoming a
     * user task. A fair task passes {@code sched_exec}'s balancing point (the kernel takes it before the new
     * mm and de_thread; the model once the exec can no longer fail, so a failed exec moves nothing): if
     * {@code select_task_rq_fair(SD_BALANCE_EXEC)} picks another CPU, the task is moved there, queued
     * (traced {@code sched_migrate_task}), and this CPU switches to its next task; the exec's effects
     * are applied all the same. In a multithreaded process {@code de_thread} first kills the
     * other threads and the caller sleeps (TASK_KILLABLE) until they are gone, and, if it is not the
     * leader, until the leader is a zombie, whose pid it then takes; this returns when the caller
     * sleeps, and the exec completes when the task next runs (an error then, ENOMEM for the signal
     * handlers, goes to its return register). Killed meanwhile, it dies instead.
     *
     * @throws KernelException ENOMEM without memory for the new mm or file table, EAGAIN at
     *     RLIMIT_NPROC after a setuid or while the thread group is exiting, EPERM for an idle task
     */
    public void exec(String comm) {
        java.util.Objects.requireNonNull(comm, "comm");
        try {
            enter();
            exec.exec(cpu, comm);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /**
     * {@code setuid(uid)} of the current task: with CAP_SETUID its real, effective and saved uid become
     * {@code uid} (a new real uid moves it to that uid's {@code user_struct}, made by {@code alloc_uid}
     * if the uid has none); without it only the effective uid changes, to the real or saved uid.
     * Capabilities follow {@code cap_emulate_setxuid}: leaving uid 0 drops them.
     *
     * @throws KernelException EPERM without CAP_SETUID for another uid; EAGAIN or ENOMEM without memory
     */
    public void setuid(int uid) {
        try {
            enter();
            check(cred.setuid(mc.current(cpu), uid), "setuid");
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /**
     * {@code setresuid(ruid, euid, suid)} of the current task, {@code -1} keeping an id: without
     * CAP_SETUID each new id must be one of the current real, effective or saved uids. A new real uid
     * moves the task (and its count in {@code user_struct.processes}) to that uid's user; at that user's
     * RLIMIT_NPROC the next {@link #exec} fails with EAGAIN (PF_NPROC_EXCEEDED).
     *
     * @throws KernelException EPERM, EAGAIN or ENOMEM as {@code __sys_setresuid} returns them
     */
    public void setresuid(int ruid, int euid, int suid) {
        try {
            enter();
            check(cred.setresuid(mc.current(cpu), ruid, euid, suid), "setresuid");
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /**
     * {@code capset} of the current task on itself, each set a mask of capability bits ({@code 1L << CAP_*},
     * bits above CAP_LAST_CAP ignored): capabilities may be dropped, never gained (effective within the
     * new permitted set, permitted within the old one).
     *
     * @throws KernelException EPERM for a set {@code cap_capset} refuses
     */
    public void capset(long effective, long permitted, long inheritable) {
        try {
            enter();
            check(cred.capset(mc.current(cpu), effective, permitted, inheritable), "capset");
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /**
     * {@code prctl(PR_SET_CHILD_SUBREAPER, on)} by the current task: its process becomes (or stops
     * being) a child subreaper, which adopts the orphans of its descendants in place of the pid
     * namespace's init ({@code find_new_reaper}).
     */
    public void setChildSubreaper(boolean on) {
        try {
            enter();
            sys.prctlSetChildSubreaper(mc.current(cpu), on);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@code schedule()}: the current task yields to the best queued task, if any. */
    public void schedule() {
        try {
            enter();
            core.schedule(cpu, false, 0);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /**
     * {@code sched_yield()} by the current task: the class's {@code yield_task} (CFS: the task becomes
     * the skip buddy, {@code pick_next_entity} runs the next one unless that is too far ahead; RT: behind
     * the other tasks of its priority), then {@code schedule()} with the task still TASK_RUNNING, traced
     * {@code prev_state=R}.
     */
    public void schedYield() {
        try {
            enter();
            core.schedYield(cpu);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** The current task sleeps: TASK_INTERRUPTIBLE and {@code schedule()}, until a wakeup. */
    public void sleep() {
        try {
            enter();
            long current = mc.current(cpu);
            if (core.isIdle(current)) {
                throw new KernelException(Errno.EINVAL, "the idle task does not sleep");
            }
            mc.m.writePointer(current + mc.o.taskState, TaskStateBits.TASK_INTERRUPTIBLE);
            core.schedule(cpu, false, 0);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /**
     * {@code wake_up_process(p)} by the current task: {@code try_to_wake_up} with
     * {@code sched_waking}/{@code sched_wakeup} and the preemption check (a remote CPU gets an IPI).
     *
     * @return false if the task was not sleeping (or waits for a vfork, which only its child ends)
     * @throws KernelException ESRCH if there is no such task
     */
    public boolean wakeUp(Pid task) {
        java.util.Objects.requireNonNull(task, "task");
        boolean woken;
        try {
            enter();
            long t = pids.findTaskByVpid(task.nr());
            if (t == 0) {
                throw new KernelException(Errno.ESRCH, "no task with " + task);
            }
            long state = mc.m.readPointer(t + mc.o.taskState);
            woken = (state & (TaskStateBits.TASK_INTERRUPTIBLE | TaskStateBits.TASK_UNINTERRUPTIBLE)) != 0
                    && !vfork.inVforkWait(t);
            if (woken) {
                if (exit.inDoWait(t)) {
                    exit.removeChildWait(t);
                }
                core.tryToWakeUp(cpu, t);
            }
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
        return woken;
    }

    /**
     * Makes {@code task} the current task here now: a test convenience the kernel has no call for. It
     * does exactly this: a task queued on another CPU is moved here first ({@code deactivate_task},
     * {@code set_task_cpu} with its {@code sched_migrate_task} line, {@code activate_task}, its vruntime
     * renormalised to this CPU's min_vruntime); then {@code __schedule(true)} runs with {@code task} as
     * the pick, whatever the classes, vruntimes and buddies say. The running task is preempted: it
     * stays queued, its {@code nivcsw} grows, and the {@code sched_switch} line shows
     * {@code prev_state=R+} even where the kernel could not have preempted it (a kernel thread without
     * CONFIG_PREEMPT, a section with preemption off). Nothing happens if {@code task} already runs here.
     *
     * <p>The honest alternatives, which produce only traces the kernel produces: let the scheduler pick
     * ({@link #schedule}, {@link #tick}, {@link Kernel#tickAll}); wake a sleeping task ({@link #wakeUp}),
     * which preempts when {@code check_preempt_curr} says so; or give way with {@link #schedYield}.
     *
     * @throws KernelException ESRCH if there is no such task, EINVAL if it is not runnable or not allowed
     *     here, EBUSY if it runs on another CPU
     */
    public void run(Pid task) {
        java.util.Objects.requireNonNull(task, "task");
        try {
            enter();
            long t = pids.findTaskByVpid(task.nr());
            if (t == 0) {
                throw new KernelException(Errno.ESRCH, "no task with " + task);
            }
            core.runTask(cpu, t);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** Runs the idle task here, preempting the current task (which stays queued). */
    public void runIdle() {
        try {
            enter();
            core.runTask(cpu, core.rq.idle(cpu));
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    // ---- interrupts and contexts ----

    /**
     * Lets the CPU take what is pending for it: a reschedule IPI is taken as an interrupt
     * ({@code handle_IPI}: {@code ipi_entry}, {@code scheduler_ipi}, {@code ipi_exit}) and the return
     * from it reschedules when allowed. An IPI stays pending while irqs are masked or in hardirq or NMI.
     * Then the current task returns to user mode: if it was killed (SIGKILL pending) it dies there
     * ({@code get_signal} -> {@code do_group_exit}), and so does the next, until one has nothing
     * pending; a namespace's init woken in {@code zap_pid_ns_processes} goes on with its exit.
     */
    public void step() {
        try {
            mc.checkOpen();
            stepRaw();
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@link #step} without the entry point's bracket, for the calls that make it part of theirs. */
    void stepRaw() {
        if (mc.ipiPending[cpu]) {
            softirq.deliverReschedIpi(cpu);
        }
        exit.exitToUserMode(cpu, exec);
    }

    /**
     * A timer interrupt: {@code irq_enter}, {@code scheduler_tick}, {@code irq_exit} with the
     * reschedule it may cause. When the CPU's {@code rq->next_balance} is due the tick raises
     * SCHED_SOFTIRQ, and {@code irq_exit} runs its load balancing ({@code run_rebalance_domains}), which
     * may pull tasks from other CPUs. Does not move the clock ({@link Kernel#tickAll} does).
     */
    public void tick() {
        try {
            tickRaw();
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@link #tick} without the entry point's bracket. */
    void tickRaw() {
        enter();
        int interrupted = preempt.count(cpu);
        softirq.irqEnter(cpu);
        // update_process_times: rcu_check_callbacks(user_tick) before scheduler_tick
        Rcu rcu = core.rcu;
        if (rcu != null) {
            rcu.tick(cpu, interrupted);
        }
        core.schedulerTick(cpu);
        softirq.irqExit(cpu);
    }

    /** {@code preempt_disable()}. */
    public void preemptDisable() {
        try {
            enter();
            preempt.preemptDisable(cpu);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@code preempt_enable()}: with CONFIG_PREEMPT a preemption point. */
    public void preemptEnable() {
        try {
            enter();
            core.preemptEnable(cpu);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@code local_bh_disable()}. */
    public void localBhDisable() {
        try {
            enter();
            preempt.localBhDisable(cpu);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@code local_bh_enable()}: runs pending softirqs when it leaves interrupt context. */
    public void localBhEnable() {
        try {
            enter();
            softirq.localBhEnable(cpu);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@code local_irq_disable()}. */
    public void localIrqDisable() {
        try {
            checkExpected();
            mc.irqsOff[cpu] = true;
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@code local_irq_enable()}. */
    public void localIrqEnable() {
        try {
            checkExpected();
            mc.irqsOff[cpu] = false;
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@code irq_enter()}: a hardware interrupt starts. */
    public void irqEnter() {
        try {
            enter();
            softirq.irqEnter(cpu);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@code irq_exit()} and the return from the interrupt (softirqs, preemption when allowed). */
    public void irqExit() {
        try {
            checkExpected();
            softirq.irqExit(cpu);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@code raise_softirq(vector)}. */
    public void raiseSoftirq(SoftirqVector vector) {
        java.util.Objects.requireNonNull(vector, "vector");
        try {
            checkExpected();
            softirq.raiseSoftirq(cpu, vector.number());
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@code nmi_enter()}. */
    public void nmiEnter() {
        try {
            checkExpected();
            preempt.nmiEnter(cpu);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** {@code nmi_exit()}. */
    public void nmiExit() {
        try {
            checkExpected();
            preempt.nmiExit(cpu);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    // ---- helpers ----

    private void enter() {
        mc.checkOpen();
        stepRaw();
        checkExpected();
    }

    private void checkExpected() {
        mc.checkOpen();
        if (expected != 0) {
            long current = mc.current(cpu);
            int nr = mc.m.readInt(current + mc.o.taskPid);
            if (nr != expected || core.isIdle(current)) {
                throw new IllegalStateException("CPU " + cpu + " runs " + mc.comm(current) + " (pid " + nr
                        + "), not pid " + expected);
            }
        }
    }

    /**
     * {@code ___might_sleep()} of the allocations fork makes: from an interrupt handler, with irqs off or
     * in the idle task the kernel prints "BUG: sleeping function called from invalid context"; the
     * model records it and refuses the call. In an atomic section (preemption disabled) it records the BUG and goes on, as
     * the kernel does.
     */
    private void mightSleep(String what) {
        int count = preempt.count(cpu);
        boolean irqsOff = mc.irqsOff[cpu];
        boolean inInterrupt = (count & (PreemptCount.HARDIRQ_MASK | PreemptCount.SOFTIRQ_MASK | PreemptCount.NMI_MASK)) != 0;
        long current = mc.current(cpu);
        boolean idle = core.isIdle(current);
        if (count == 0 && !irqsOff && !idle) {
            return;
        }
        mc.bug(String.format("BUG: sleeping function called from invalid context at mm/slab.h:421%n"
                + "in_atomic(): %d, irqs_disabled(): %d, pid: %d, name: %s", count != 0 ? 1 : 0, irqsOff ? 1 : 0,
                mc.m.readInt(current + mc.o.taskPid), mc.comm(current)));
        if (irqsOff || inInterrupt || idle) {
            throw new IllegalStateException(what + " on CPU " + cpu + (idle ? " by the idle task" : "")
                    + (inInterrupt ? " in interrupt context" : "") + (irqsOff ? " with irqs disabled" : "")
                    + ": it would sleep where the kernel may not");
        }
    }

    private static int check(long result, String what) {
        if (result < 0) {
            throw new KernelException(Errno.fromNegative(result), what + " failed");
        }
        return (int) result;
    }
}
