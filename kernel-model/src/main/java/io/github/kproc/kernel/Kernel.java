package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.KernelMemory;
import io.github.kproc.view.TaskStruct;
import java.util.List;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A booted Linux 4.19 kernel on a simulated machine: every task, stack and shared structure lives in
 * the machine's arena at kernel addresses, laid out by the platform's profile.
 *
 * <p>{@link #boot} brings up {@code init_task} (swapper/0), creates {@code init} (pid 1) and
 * {@code kthreadd} (pid 2) with {@code kernel_thread} as {@code rest_init()} does, forks an idle task
 * per secondary CPU from init as {@code smp_init()} does, and gives init a user address space as its
 * exec of /sbin/init would. Afterwards every CPU runs its idle task and init and kthreadd are
 * runnable on CPU 0.
 *
 * <p>Entry points run as the current task of a chosen CPU, as a system call on that CPU would:
 * {@link #fork}, {@link #vfork}, {@link #clone}, {@link #kernelThread}, {@link #exit}, {@link #wait},
 * {@link #exec}. Which task is current is chosen with {@link #run}. The raw {@link #doFork} returns
 * kernel-style values (a pid or {@code -errno}); the others throw {@link KernelException}. A failed
 * operation leaves the model exactly as it was. Not thread-safe.
 *
 * <p>A reschedule IPI sent to a CPU (a task woken or forked onto it that should preempt) is taken by
 * that CPU before the next operation that runs on it ({@link #step}), as an interrupt arrives before
 * the next instruction: that operation then runs as the task current after the interrupt. Call
 * {@link #stepAll} first to see that task with {@link #current}.
 */
public final class Kernel implements AutoCloseable {
    private final Machine mc;
    private final Preempt preempt;
    private final Pids pids;
    private final Vfork vfork;
    private final Core core;
    private final Softirq softirq;
    private final Signals signals;
    private final Fork fork;
    private final Exit exit;
    private final Exec exec;
    private final Sysctl sysctl;

    private Kernel(Builder b) {
        Platform platform = b.platform;
        if (b.cpus < 1 || b.cpus > platform.nrCpus()) {
            throw new IllegalArgumentException("cpus must be 1.." + platform.nrCpus() + " (CONFIG_NR_CPUS): " + b.cpus);
        }
        KernelMemory mem = KernelMemory.create(platform.memoryMap(b.memoryBytes));
        boolean booted = false;
        try {
            this.mc = new Machine(platform, b.cpus, b.memoryBytes, b.tracer, b.seed, mem);
            this.preempt = new Preempt(mc);
            Cred cred = new Cred(mc);
            Mm mm = new Mm(mc);
            Files files = new Files(mc);
            this.pids = new Pids(mc);
            Nsproxy nsproxy = new Nsproxy(mc, pids);
            this.signals = new Signals(mc);
            TaskAlloc taskAlloc = new TaskAlloc(mc, cred);
            this.vfork = new Vfork(mc, taskAlloc, pids);
            this.core = new Core(mc, preempt, mm, taskAlloc, pids, vfork);
            this.softirq = new Softirq(mc, preempt, core);
            this.fork = new Fork(mc, core, pids, cred, files, signals, mm, nsproxy, taskAlloc, vfork);
            this.exit = new Exit(mc, core, pids, files, nsproxy, mm, signals, cred, taskAlloc, vfork);
            this.exec = new Exec(mc, core, mm, files, signals, vfork);
            this.sysctl = new Sysctl(mc, cred);
            new Boot(mc, core, fork, exec, pids, mm, files, signals, taskAlloc).start();
            b.sysctls.forEach(sysctl::write);
            booted = true;
        } finally {
            if (!booted) {
                mem.close();
            }
        }
    }

    /** Builds and boots a kernel. */
    public static Builder builder(Platform platform) {
        return new Builder(platform);
    }

    /** Boots a kernel with {@code cpus} CPUs and 256 MiB of memory, without tracing. */
    public static Kernel boot(Platform platform, int cpus) {
        return builder(platform).cpus(cpus).boot();
    }

    /** Options of a boot. */
    public static final class Builder {
        private final Platform platform;
        private int cpus = 1;
        private long memoryBytes = 256L << 20;
        private @Nullable Tracer tracer;
        private long seed = 0x4c696e7578L;
        private final java.util.Map<String, Long> sysctls = new java.util.LinkedHashMap<>();

        private Builder(Platform platform) {
            this.platform = platform;
        }

        /** Online CPUs, 1 .. CONFIG_NR_CPUS. */
        public Builder cpus(int value) {
            this.cpus = value;
            return this;
        }

        /** Bytes of RAM (a whole number of pages). */
        public Builder memory(long bytes) {
            this.memoryBytes = bytes;
            return this;
        }

        /** Trace events (and function lines) to this tracer, from boot on. */
        public Builder tracer(@Nullable Tracer value) {
            this.tracer = value;
            return this;
        }

        /** The seed of the kernel's random numbers (stack canaries). */
        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        /** A sysctl written right after boot, as {@link Kernel#sysctl(String, long)} does it. */
        public Builder sysctl(String name, long value) {
            sysctls.put(name, value);
            return this;
        }

        /** Boots the kernel; a bad sysctl is the {@link KernelException} its handler returns. */
        public Kernel boot() {
            return new Kernel(this);
        }
    }

    /** The build this kernel runs. */
    public Platform platform() {
        return mc.platform;
    }

    /** The machine's memory. */
    public KernelMemory memory() {
        return mc.mem;
    }

    /** Kernel addresses of the machine. */
    public AddressSpace addressSpace() {
        return mc.m;
    }

    /** Fault injection for the fork path. */
    public Faults faults() {
        return mc.faults;
    }

    /** Number of CPUs. */
    public int cpus() {
        return mc.cpus;
    }

    /** Sets (or with null removes) the tracer. */
    public void tracer(@Nullable Tracer value) {
        mc.tracer = value;
    }

    /** The simulated clock in nanoseconds since boot. */
    public long clock() {
        return mc.clock;
    }

    /** Advances the simulated clock. */
    public void advanceClock(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("time runs forward: " + nanos);
        }
        mc.clock += nanos;
    }

    /** {@code nr_threads}: tasks with a pid (idle tasks do not count). */
    public int nrThreads() {
        return mc.nrThreads();
    }

    /** {@code total_forks}: successful copy_process calls since boot, idle forks included. */
    public long totalForks() {
        return mc.totalForks();
    }

    /** {@code max_threads}: RAM / (8 * THREAD_SIZE), clamped to [MIN_THREADS, FUTEX_TID_MASK]. */
    public int maxThreads() {
        return mc.maxThreads();
    }

    /** {@code pid_max}. */
    public int pidMax() {
        return mc.pidMax();
    }

    /** Writes {@code kernel.pid_max} or {@code kernel.threads-max}; EINVAL out of range changes nothing (see {@code Sysctl}). */
    public void sysctl(String name, long value) {
        sysctl.write(name, value);
    }

    /** Reads {@code kernel.pid_max} or {@code kernel.threads-max}. */
    public long sysctl(String name) {
        return sysctl.read(name);
    }

    /** {@code setrlimit} of the task {@code pid} on itself (-1: RLIM_INFINITY); ESRCH, EINVAL, EPERM change nothing. */
    public void setrlimit(int pid, int resource, long soft, long hard) {
        long t = taskOrEsrch(pid);
        sysctl.setrlimit(t, t, resource, soft, hard);
    }

    /** {@code getrlimit}: {soft, hard} of the task {@code pid}. */
    public long[] getrlimit(int pid, int resource) {
        return sysctl.getrlimit(taskOrEsrch(pid), resource);
    }

    private long taskOrEsrch(int pid) {
        long t = findTask(pid);
        if (t == 0) {
            throw new KernelException(Errno.ESRCH, "no task with pid " + pid);
        }
        return t;
    }

    /** {@code &init_task}. */
    public long initTask() {
        return mc.initTask;
    }

    /** {@code &init_pid_ns}. */
    public long initPidNamespace() {
        return mc.initPidNs;
    }

    /** {@code current} of a CPU, derived from the CPU's registers as the architecture does. */
    public long current(int cpu) {
        mc.checkCpu(cpu);
        return mc.current(cpu);
    }

    /** The CPU's registers (a copy), named by {@link Platform#cpuRegisters()}. */
    public long[] registers(int cpu) {
        mc.checkCpu(cpu);
        return mc.registers[cpu].clone();
    }

    /** {@code smp_processor_id()} on a CPU: {@code task_cpu(current)}. */
    public int smpProcessorId(int cpu) {
        return mc.platform.taskCpu(mc.m, current(cpu));
    }

    /** The idle task of a CPU. */
    public long idleTask(int cpu) {
        mc.checkCpu(cpu);
        return core.rq.idle(cpu);
    }

    /** {@code rq->nr_running} of a CPU. */
    public int nrRunning(int cpu) {
        mc.checkCpu(cpu);
        return core.rq.nrRunning(cpu);
    }

    /** Reschedule IPIs sent to a CPU. */
    public long reschedIpis(int cpu) {
        mc.checkCpu(cpu);
        return mc.ipis[cpu];
    }

    /** Every task on the global task list, init_task first (idle tasks of other CPUs are not on it). */
    public List<Long> tasks() {
        return signals.forEachProcessThread();
    }

    /**
     * The address of a kernel symbol as System.map has it: {@code init_task}, {@code runqueues} (in the
     * per-CPU section), {@code __per_cpu_offset}, {@code init_pid_ns}, {@code init_struct_pid},
     * {@code init_mm}, {@code nr_threads}, {@code total_forks}, {@code max_threads}, {@code pid_max}, or a
     * function of the model's text.
     */
    public long symbol(String name) {
        return mc.symbol(name);
    }

    /** The task with this global pid, or 0 (the model's {@code find_task_by_pid_ns(pid, &init_pid_ns)}). */
    public long findTask(int pid) {
        return pids.findTaskByVpid(pid);
    }

    /** A view of the task_struct at an address. */
    public TaskStruct task(long address) {
        return new TaskStruct(mc.platform, mc.m, address);
    }

    /** The pid of a task as seen from the pid namespace {@code ns} ({@code task_pid_nr_ns}), 0 if not visible. */
    public int pidNr(long task, long ns) {
        return pids.taskPidNrNs(task, ns);
    }

    /** {@code task_active_pid_ns(task)}. */
    public long taskActivePidNs(long task) {
        return pids.taskActivePidNs(task);
    }

    /** The 32-bit word at a user address of a task's address space, as written by put_user, or null. */
    public @Nullable Integer userWord(long task, long address) {
        long mm = mc.m.readPointer(task + mc.o.taskMm);
        return mc.userMemory.getUser(mm, address);
    }

    /**
     * {@code _do_fork(clone_flags, stack_start, stack_size, parent_tidptr, child_tidptr, tls)} as the
     * current task of {@code cpu}.
     *
     * @return the child's pid in the caller's pid namespace, or {@code -errno}
     */
    public long doFork(int cpu, long cloneFlags, long stackStart, long stackSize, long parentTidptr, long childTidptr,
            long tls) {
        enter(cpu);
        return fork.doFork(cpu, cloneFlags, stackStart, stackSize, parentTidptr, childTidptr, tls, "sys_clone");
    }

    /** {@code fork()}: {@code _do_fork(SIGCHLD, 0, 0, NULL, NULL, 0)}. Returns the child's pid. */
    public int fork(int cpu) {
        enter(cpu);
        return check(fork.doFork(cpu, CloneFlag.SIGCHLD, 0, 0, 0, 0, 0, "sys_fork"), "fork");
    }

    /**
     * {@code vfork()}: {@code _do_fork(CLONE_VFORK | CLONE_VM | SIGCHLD, ...)}. The parent is left
     * blocked (TASK_KILLABLE) in {@code wait_for_vfork_done} until the child execs or exits. Returns
     * the child's pid.
     */
    public int vfork(int cpu) {
        enter(cpu);
        return check(fork.doFork(cpu, CloneFlag.VFORK.value() | CloneFlag.VM.value() | CloneFlag.SIGCHLD, 0, 0, 0, 0, 0,
                "sys_vfork"), "vfork");
    }

    /**
     * {@code clone(flags | exitSignal, newsp, parent_tidptr, tls, child_tidptr)} (ARM's
     * CLONE_BACKWARDS order); the arguments are left in the caller's pt_regs as the syscall entry does.
     */
    public int clone(int cpu, Set<CloneFlag> flags, int exitSignal, long newsp, long parentTidptr, long childTidptr,
            long tls) {
        enter(cpu);
        long word = CloneFlag.word(flags, exitSignal);
        long current = current(cpu);
        if ((mc.m.readInt(current + mc.o.taskFlags) & TaskFlags.PF_KTHREAD) == 0) {
            mc.platform.setSyscallArguments(mc.m, current, word, newsp, parentTidptr, tls, childTidptr);
        }
        return check(fork.doFork(cpu, word, newsp, 0, parentTidptr, childTidptr, tls, "sys_clone"), "clone");
    }

    /**
     * {@code kernel_thread(fn, arg, flags)}: {@code _do_fork(flags | CLONE_VM | CLONE_UNTRACED, fn, arg, ...)}
     * with {@code fn} one of the model's kernel functions ({@code "kthreadd"}, {@code "kthread"},
     * {@code "worker_thread"}, ...). Returns the child's pid.
     */
    public int kernelThread(int cpu, String fn, long arg, Set<CloneFlag> flags) {
        enter(cpu);
        long word = CloneFlag.word(flags, CloneFlag.SIGCHLD);
        return kernelThreadRaw(cpu, fn, arg, word);
    }

    private int kernelThreadRaw(int cpu, String fn, long arg, long flags) {
        long current = current(cpu);
        if ((mc.m.readInt(current + mc.o.taskFlags) & TaskFlags.PF_KTHREAD) == 0) {
            throw new KernelException(Errno.EPERM, "kernel_thread() is called by kernel threads only");
        }
        return check(fork.doFork(cpu, flags | CloneFlag.VM.value() | CloneFlag.UNTRACED.value(), mc.symbols.address(fn),
                arg, 0, 0, 0, "kernel_thread"), "kernel_thread");
    }

    /**
     * {@code do_exit(code)} of the current task of {@code cpu}; the CPU then runs the next task.
     *
     * @throws IllegalStateException for the idle task or the global init ("Attempted to kill init!")
     */
    public void exit(int cpu, int code) {
        enter(cpu);
        exit.doExit(cpu, code);
    }

    /**
     * {@code wait4(pid, ..., WNOHANG)} by the current task of {@code cpu}: reaps a zombie child
     * ({@code pid} -1 for any) with {@code release_task}.
     *
     * @return the reaped child's pid in the caller's namespace, or 0 if no matching child has exited yet
     * @throws KernelException ECHILD if the caller has no such child
     */
    public int wait(int cpu, int pid) {
        enter(cpu);
        return exit.wait(cpu, pid);
    }

    /**
     * The effects of {@code execve} the fork and exit paths depend on: a file table and signal handlers
     * of its own ({@code unshare_files}, {@code de_thread}), a new user address space ({@code exec_mmap}),
     * {@code mm_release} completing a vfork parent's wait, {@code __set_task_comm}, addr_limit USER_DS,
     * and a kernel thread becoming a user task.
     */
    public void exec(int cpu, String comm) {
        enter(cpu);
        exec.exec(cpu, comm);
    }

    /**
     * Makes the task with global pid {@code pid} the current task of {@code cpu}, as if the scheduler
     * picked it: it is migrated from another CPU's queue if needed ({@code set_task_cpu}), and the
     * previously running task is preempted ({@code __schedule(true)}, trace {@code prev_state=R+}).
     *
     * @throws KernelException ESRCH if there is no such task, EINVAL if it is not runnable or not allowed
     *     on the CPU, EBUSY if it runs on another CPU
     */
    public void run(int cpu, int pid) {
        enter(cpu);
        long t = taskOrEsrch(pid);
        core.runTask(cpu, t);
    }

    /** Runs the idle task of {@code cpu}, preempting the current task (which stays queued). */
    public void runIdle(int cpu) {
        enter(cpu);
        core.runTask(cpu, core.rq.idle(cpu));
    }

    /**
     * Marks signal {@code sig} pending for the task (the part of {@code send_signal} fork looks at:
     * {@code signal_pending} gives -ERESTARTNOINTR; a pending SIGKILL is a fatal signal).
     */
    public void kill(int pid, int sig) {
        long t = taskOrEsrch(pid);
        if (sig < 1 || sig > 64) {
            throw new KernelException(Errno.EINVAL, "bad signal " + sig);
        }
        signals.sigaddset(t, sig);
        mc.setTsiFlag(t, Machine.TIF_SIGPENDING);
    }

    /** Clears all pending signals of a task ({@code flush_signals}). */
    public void flushSignals(int pid) {
        long t = taskOrEsrch(pid);
        signals.flushSignals(t);
    }

    // ------------------------------------------------------------------ CPUs, contexts, scheduling

    /** {@code TICK_NSEC}: nanoseconds between timer ticks (1e9 / CONFIG_HZ). */
    public long tickNanos() {
        return 1_000_000_000L / mc.hz;
    }

    /**
     * Lets a CPU take what is pending for it before it does anything else: a reschedule IPI sent to
     * it is taken as an interrupt ({@code handle_IPI}: {@code ipi_entry}, {@code scheduler_ipi},
     * {@code ipi_exit}; 4.19's scheduler_ipi enters no irq context for a bare reschedule), and the
     * return from the interrupt reschedules when allowed. An IPI stays pending while the CPU has irqs
     * masked or is in hardirq or NMI context.
     */
    public void step(int cpu) {
        mc.checkCpu(cpu);
        if (mc.ipiPending[cpu]) {
            softirq.deliverReschedIpi(cpu);
        }
    }

    /** {@code step} of every CPU. */
    public void stepAll() {
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            step(cpu);
        }
    }

    private void enter(int cpu) {
        step(cpu);
    }

    /**
     * A timer interrupt on {@code cpu}: {@code irq_enter}, {@code scheduler_tick} (vruntime,
     * slices, SCHED_RR), {@code irq_exit} with the reschedule it may cause. Does not move the clock.
     */
    public void tick(int cpu) {
        enter(cpu);
        softirq.irqEnter(cpu);
        core.schedulerTick(cpu);
        softirq.irqExit(cpu);
    }

    /** Advances the clock by one tick and ticks every CPU, CPU 0 first; pending IPIs are taken. */
    public void tickAll() {
        advanceClock(tickNanos());
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            tick(cpu);
        }
        stepAll();
    }

    /** {@code preempt_disable()} on {@code cpu}. */
    public void preemptDisable(int cpu) {
        enter(cpu);
        preempt.preemptDisable(cpu);
    }

    /** {@code preempt_enable()} on {@code cpu}: with CONFIG_PREEMPT a preemption point. */
    public void preemptEnable(int cpu) {
        enter(cpu);
        core.preemptEnable(cpu);
    }

    /** {@code local_bh_disable()}. */
    public void localBhDisable(int cpu) {
        enter(cpu);
        preempt.localBhDisable(cpu);
    }

    /** {@code local_bh_enable()}: runs pending softirqs when it leaves interrupt context. */
    public void localBhEnable(int cpu) {
        enter(cpu);
        softirq.localBhEnable(cpu);
    }

    /** {@code local_irq_disable()}. */
    public void localIrqDisable(int cpu) {
        mc.checkCpu(cpu);
        mc.irqsOff[cpu] = true;
    }

    /** {@code local_irq_enable()}. */
    public void localIrqEnable(int cpu) {
        mc.checkCpu(cpu);
        mc.irqsOff[cpu] = false;
    }

    /** {@code irqs_disabled()} on {@code cpu}. */
    public boolean irqsDisabled(int cpu) {
        mc.checkCpu(cpu);
        return mc.irqsOff[cpu];
    }

    /** {@code irq_enter()}: a hardware interrupt starts on {@code cpu}. */
    public void irqEnter(int cpu) {
        enter(cpu);
        softirq.irqEnter(cpu);
    }

    /** {@code irq_exit()} and the return from the interrupt (softirqs, preemption when allowed). */
    public void irqExit(int cpu) {
        mc.checkCpu(cpu);
        softirq.irqExit(cpu);
    }

    /** {@code raise_softirq(vector)} on {@code cpu} (0 HI .. 9 RCU). */
    public void raiseSoftirq(int cpu, int vector) {
        mc.checkCpu(cpu);
        softirq.raiseSoftirq(cpu, vector);
    }

    /** {@code nmi_enter()}. */
    public void nmiEnter(int cpu) {
        mc.checkCpu(cpu);
        preempt.nmiEnter(cpu);
    }

    /** {@code nmi_exit()}. */
    public void nmiExit(int cpu) {
        mc.checkCpu(cpu);
        preempt.nmiExit(cpu);
    }

    /** {@code preempt_count()} of the current task of {@code cpu}. */
    public int preemptCount(int cpu) {
        mc.checkCpu(cpu);
        return preempt.count(cpu);
    }

    /** {@code schedule()} on {@code cpu}: the current task yields to the best queued task, if any. */
    public void schedule(int cpu) {
        enter(cpu);
        core.schedule(cpu, false, 0);
    }

    /**
     * The current task of {@code cpu} sleeps: TaskState.TASK_INTERRUPTIBLE and {@code schedule()}, until
     * {@link #wakeUp}.
     */
    public void sleep(int cpu) {
        enter(cpu);
        long current = current(cpu);
        if (core.isIdle(current)) {
            throw new KernelException(Errno.EINVAL, "the idle task does not sleep");
        }
        mc.m.writePointer(current + mc.o.taskState, TaskState.TASK_INTERRUPTIBLE);
        core.schedule(cpu, false, 0);
    }

    /**
     * {@code wake_up_process(p)} by the current task of {@code cpu}: {@code try_to_wake_up} with
     * {@code sched_waking}/{@code sched_wakeup} and the preemption check (a remote CPU gets an IPI).
     *
     * @return false if the task was not sleeping
     */
    public boolean wakeUp(int cpu, int pid) {
        enter(cpu);
        long t = taskOrEsrch(pid);
        long state = mc.m.readPointer(t + mc.o.taskState);
        if ((state & (TaskState.TASK_INTERRUPTIBLE | TaskState.TASK_UNINTERRUPTIBLE)) == 0 || vfork.inVforkWait(t)) {
            return false;
        }
        core.tryToWakeUp(cpu, t);
        return true;
    }

    /**
     * Moves a queued or sleeping task to {@code cpu} ({@code move_queued_task} -> {@code set_task_cpu},
     * {@code sched_migrate_task}).
     *
     * @throws KernelException EBUSY if it is running, EINVAL if {@code cpu} is not allowed for it
     */
    public void migrate(int pid, int cpu) {
        mc.checkCpu(cpu);
        long t = taskOrEsrch(pid);
        int running = core.runningOn(t);
        if (running >= 0) {
            throw new KernelException(Errno.EBUSY, "pid " + pid + " is running on CPU " + running);
        }
        if (!core.allowed(t, cpu) || !mc.online[cpu] || mc.m.readInt(t + mc.o.taskExitState) != 0) {
            throw new KernelException(Errno.EINVAL, "pid " + pid + " cannot run on CPU " + cpu);
        }
        core.migrateTask(t, cpu);
    }

    /**
     * {@code sched_setscheduler(p, policy, {priority})}: SCHED_NORMAL 0, SCHED_FIFO 1, SCHED_RR 2,
     * SCHED_BATCH 3, SCHED_IDLE 5; FIFO and RR take a priority 1..99, the others 0. The call is taken
     * as made on the task's own CPU: a reschedule it causes sets TIF_NEED_RESCHED there, which that
     * CPU acts on at its next tick, interrupt or schedule.
     */
    public void setScheduler(int pid, int policy, int priority) {
        core.schedSetscheduler(taskOrEsrch(pid), policy, priority);
    }

    /** {@code set_user_nice(p, nice)}: static_prio = 120 + nice, -20 .. 19; EINVAL otherwise. */
    public void setNice(int pid, int nice) {
        core.setUserNice(taskOrEsrch(pid), nice);
    }

    /** {@code rq->nr_switches} of a CPU. */
    public long nrSwitches(int cpu) {
        mc.checkCpu(cpu);
        return core.rq.nrSwitches(cpu);
    }

    /** {@code cfs_rq->min_vruntime} of a CPU. */
    public long minVruntime(int cpu) {
        mc.checkCpu(cpu);
        return core.fair.minVruntime(cpu);
    }

    /** The tasks queued (runnable, not running) on a CPU: RT first, then fair, each in its queue's order. */
    public List<Long> queued(int cpu) {
        mc.checkCpu(cpu);
        return core.queued(cpu);
    }

    @Override
    public void close() {
        mc.mem.close();
    }

    /** The scheduler core (and through it the machine), for the package's tests. */
    Core core() {
        return core;
    }

    /** The BUG and WARN messages the kernel has printed, oldest first. */
    public List<String> bugs() {
        return mc.bugs();
    }

    private static int check(long result, String what) {
        if (result < 0) {
            Errno e = Errno.fromNegative(result);
            throw new KernelException(e, what + " failed");
        }
        return (int) result;
    }
}
