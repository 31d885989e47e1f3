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
 * reschedule IPI sent to it ({@link #step}), as an interrupt arrives before the next instruction, and
 * then acts as the task current after it.
 *
 * <p>{@link #as(Pid)} gives a handle that checks, before every operation, that the CPU runs the task
 * the caller means: otherwise {@link IllegalStateException} and nothing happens. Operations the
 * kernel forbids in the CPU's context (a fork with irqs off or in an interrupt handler, which would
 * sleep where it may not) are refused with the BUG line the kernel prints recorded in
 * {@link Kernel#bugs()}. A refused or failed operation leaves the model as it was. Not thread-safe.
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
    private final int cpu;
    /** The pid the caller expects to be current, or 0 for whatever runs. */
    private final int expected;

    Cpu(Machine mc, Core core, Preempt preempt, Softirq softirq, Fork fork, Exit exit, Exec exec, Pids pids,
            Vfork vfork, int cpu, int expected) {
        this.mc = mc;
        this.core = core;
        this.preempt = preempt;
        this.softirq = softirq;
        this.fork = fork;
        this.exit = exit;
        this.exec = exec;
        this.pids = pids;
        this.vfork = vfork;
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
        return new Cpu(mc, core, preempt, softirq, fork, exit, exec, pids, vfork, cpu, task.nr());
    }

    // ---- what runs here ----

    /** {@code current}, derived from the CPU's registers as the architecture does. */
    public TaskStruct current() {
        return new TaskStruct(mc.platform, mc.m, mc.current(cpu));
    }

    /** The pid of {@code current}, or empty for the idle task (pid 0). */
    public java.util.Optional<Pid> currentPid() {
        int nr = mc.m.readInt(mc.current(cpu) + mc.o.taskPid);
        return nr == 0 ? java.util.Optional.empty() : java.util.Optional.of(mc.pid(nr));
    }

    /** The CPU's registers (a copy), named by {@code Platform.cpuRegisters()}. */
    public long[] registers() {
        return mc.registers[cpu].clone();
    }

    /** {@code smp_processor_id()}: {@code task_cpu(current)}. */
    public int smpProcessorId() {
        return mc.platform.taskCpu(mc.m, mc.current(cpu));
    }

    /** The CPU's idle task (swapper/N). */
    public TaskStruct idleTask() {
        return new TaskStruct(mc.platform, mc.m, core.rq.idle(cpu));
    }

    /** {@code rq->nr_running}. */
    public int nrRunning() {
        return core.rq.nrRunning(cpu);
    }

    /** {@code rq->nr_switches}. */
    public long nrSwitches() {
        return core.rq.nrSwitches(cpu);
    }

    /** {@code cfs_rq->min_vruntime}. */
    public long minVruntime() {
        return core.fair.minVruntime(cpu);
    }

    /** Reschedule IPIs sent to this CPU. */
    public long reschedIpis() {
        return mc.ipis[cpu];
    }

    /** The tasks queued (runnable, not running) here: RT first, then fair in vruntime order. */
    public List<TaskStruct> queued() {
        return core.queued(cpu).stream().map(t -> new TaskStruct(mc.platform, mc.m, t)).toList();
    }

    /** {@code preempt_count()} of the current task. */
    public PreemptCount preemptCount() {
        return new PreemptCount(preempt.count(cpu));
    }

    /** {@code irqs_disabled()}. */
    public boolean irqsDisabled() {
        return mc.irqsOff[cpu];
    }

    // ---- system calls of the current task ----

    /** {@code fork()}: {@code _do_fork(SIGCHLD, 0, 0, NULL, NULL, 0)}. Returns the child's pid. */
    public Pid fork() {
        return mc.pid(forkRaw());
    }

    int forkRaw() {
        enter();
        mightSleep("fork");
        return check(fork.doFork(cpu, CloneFlag.SIGCHLD, 0, 0, 0, 0, 0, "sys_fork"), "fork");
    }

    /**
     * {@code vfork()}: {@code _do_fork(CLONE_VFORK | CLONE_VM | SIGCHLD, ...)}. The parent is left
     * blocked (TASK_KILLABLE) in {@code wait_for_vfork_done} until the child execs or exits.
     */
    public Pid vfork() {
        enter();
        mightSleep("vfork");
        return mc.pid(check(fork.doFork(cpu, CloneFlag.VFORK.value() | CloneFlag.VM.value() | CloneFlag.SIGCHLD, 0, 0,
                0, 0, 0, "sys_vfork"), "vfork"));
    }

    /**
     * {@code clone(args)}; the arguments are left in the caller's pt_regs as the syscall entry does
     * (ARM's CLONE_BACKWARDS order). Returns the child's pid in the caller's pid namespace.
     *
     * @throws KernelException with the errno copy_process returns (EINVAL for a bad flag combination,
     *     EAGAIN at a limit, ENOMEM, ...)
     */
    public Pid clone(CloneArgs args) {
        return mc.pid(cloneRaw(args.word(), args.stack(), args.stackSize(), args.parentTid(), args.childTid(),
                args.tls()));
    }

    int cloneRaw(long word, long stack, long stackSize, long parentTid, long childTid, long tls) {
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
        enter();
        mightSleep("kernel_thread");
        long current = mc.current(cpu);
        if ((mc.m.readInt(current + mc.o.taskFlags) & TaskFlags.PF_KTHREAD) == 0) {
            throw new KernelException(Errno.EPERM, "kernel_thread() is called by kernel threads only");
        }
        long word = CloneFlag.word(flags, CloneFlag.SIGCHLD) | CloneFlag.VM.value() | CloneFlag.UNTRACED.value();
        return mc.pid(check(fork.doFork(cpu, word, mc.symbols.address(fn), arg, 0, 0, 0, "kernel_thread"),
                "kernel_thread"));
    }

    /**
     * {@code do_exit(code)} of the current task; the CPU then runs the next task.
     *
     * @throws IllegalStateException for the idle task or the global init ("Attempted to kill init!")
     */
    public void exit(int code) {
        enter();
        exit.doExit(cpu, code);
    }

    /**
     * {@code wait4(pid, ..., WNOHANG | __WALL)}: reaps the zombie child {@code pid} with
     * {@code release_task}. Costs a walk of the caller's children, as 4.19's {@code do_wait} does.
     *
     * @return true if it was reaped, false if it has not exited yet
     * @throws KernelException ECHILD if the caller has no such child
     */
    public boolean wait4(Pid child) {
        enter();
        return exit.wait(cpu, child.nr()) != 0;
    }

    /**
     * {@code wait4(-1, ..., WNOHANG | __WALL)}: reaps any zombie child.
     *
     * @return the reaped child's pid in the caller's namespace, or empty if none has exited yet
     * @throws KernelException ECHILD if the caller has no children
     */
    public java.util.Optional<Pid> wait4Any() {
        enter();
        int nr = exit.wait(cpu, -1);
        return nr == 0 ? java.util.Optional.empty() : java.util.Optional.of(mc.pid(nr));
    }

    /**
     * The effects of {@code execve} the fork and exit paths depend on: a file table and signal handlers
     * of its own, a new user address space, {@code mm_release} completing a vfork parent's wait,
     * {@code __set_task_comm}, addr_limit USER_DS, and a kernel thread becoming a user task.
     */
    public void exec(String comm) {
        java.util.Objects.requireNonNull(comm, "comm");
        enter();
        exec.exec(cpu, comm);
    }

    /** {@code schedule()}: the current task yields to the best queued task, if any. */
    public void schedule() {
        enter();
        core.schedule(cpu, false, 0);
    }

    /**
     * {@code sched_yield()} by the current task: the class's {@code yield_task} (CFS: the task becomes
     * the skip buddy, {@code pick_next_entity} runs the next one unless that is too far ahead; RT: behind
     * the other tasks of its priority), then {@code schedule()} with the task still TASK_RUNNING, traced
     * {@code prev_state=R}.
     */
    public void schedYield() {
        enter();
        core.schedYield(cpu);
    }

    /** The current task sleeps: TASK_INTERRUPTIBLE and {@code schedule()}, until a wakeup. */
    public void sleep() {
        enter();
        long current = mc.current(cpu);
        if (core.isIdle(current)) {
            throw new KernelException(Errno.EINVAL, "the idle task does not sleep");
        }
        mc.m.writePointer(current + mc.o.taskState, TaskStateBits.TASK_INTERRUPTIBLE);
        core.schedule(cpu, false, 0);
    }

    /**
     * {@code wake_up_process(p)} by the current task: {@code try_to_wake_up} with
     * {@code sched_waking}/{@code sched_wakeup} and the preemption check (a remote CPU gets an IPI).
     *
     * @return false if the task was not sleeping (or waits for a vfork, which only its child ends)
     * @throws KernelException ESRCH if there is no such task
     */
    public boolean wakeUp(Pid task) {
        enter();
        long t = pids.findTaskByVpid(task.nr());
        if (t == 0) {
            throw new KernelException(Errno.ESRCH, "no task with " + task);
        }
        long state = mc.m.readPointer(t + mc.o.taskState);
        if ((state & (TaskStateBits.TASK_INTERRUPTIBLE | TaskStateBits.TASK_UNINTERRUPTIBLE)) == 0
                || vfork.inVforkWait(t)) {
            return false;
        }
        core.tryToWakeUp(cpu, t);
        return true;
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
        enter();
        long t = pids.findTaskByVpid(task.nr());
        if (t == 0) {
            throw new KernelException(Errno.ESRCH, "no task with " + task);
        }
        core.runTask(cpu, t);
    }

    /** Runs the idle task here, preempting the current task (which stays queued). */
    public void runIdle() {
        enter();
        core.runTask(cpu, core.rq.idle(cpu));
    }

    // ---- interrupts and contexts ----

    /**
     * Lets the CPU take what is pending for it: a reschedule IPI is taken as an interrupt
     * ({@code handle_IPI}: {@code ipi_entry}, {@code scheduler_ipi}, {@code ipi_exit}) and the return
     * from it reschedules when allowed. An IPI stays pending while irqs are masked or in hardirq or NMI.
     */
    public void step() {
        if (mc.ipiPending[cpu]) {
            softirq.deliverReschedIpi(cpu);
        }
    }

    /**
     * A timer interrupt: {@code irq_enter}, {@code scheduler_tick}, {@code irq_exit} with the
     * reschedule it may cause. Does not move the clock ({@link Kernel#tickAll} does).
     */
    public void tick() {
        enter();
        softirq.irqEnter(cpu);
        core.schedulerTick(cpu);
        softirq.irqExit(cpu);
    }

    /** {@code preempt_disable()}. */
    public void preemptDisable() {
        enter();
        preempt.preemptDisable(cpu);
    }

    /** {@code preempt_enable()}: with CONFIG_PREEMPT a preemption point. */
    public void preemptEnable() {
        enter();
        core.preemptEnable(cpu);
    }

    /** {@code local_bh_disable()}. */
    public void localBhDisable() {
        enter();
        preempt.localBhDisable(cpu);
    }

    /** {@code local_bh_enable()}: runs pending softirqs when it leaves interrupt context. */
    public void localBhEnable() {
        enter();
        softirq.localBhEnable(cpu);
    }

    /** {@code local_irq_disable()}. */
    public void localIrqDisable() {
        checkExpected();
        mc.irqsOff[cpu] = true;
    }

    /** {@code local_irq_enable()}. */
    public void localIrqEnable() {
        checkExpected();
        mc.irqsOff[cpu] = false;
    }

    /** {@code irq_enter()}: a hardware interrupt starts. */
    public void irqEnter() {
        enter();
        softirq.irqEnter(cpu);
    }

    /** {@code irq_exit()} and the return from the interrupt (softirqs, preemption when allowed). */
    public void irqExit() {
        checkExpected();
        softirq.irqExit(cpu);
    }

    /** {@code raise_softirq(vector)}. */
    public void raiseSoftirq(SoftirqVector vector) {
        checkExpected();
        softirq.raiseSoftirq(cpu, vector.number());
    }

    /** {@code nmi_enter()}. */
    public void nmiEnter() {
        checkExpected();
        preempt.nmiEnter(cpu);
    }

    /** {@code nmi_exit()}. */
    public void nmiExit() {
        checkExpected();
        preempt.nmiExit(cpu);
    }

    // ---- helpers ----

    private void enter() {
        step();
        checkExpected();
    }

    private void checkExpected() {
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
