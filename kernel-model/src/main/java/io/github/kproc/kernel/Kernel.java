package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.KernelMemory;
import io.github.kproc.mem.SlabCache;
import io.github.kproc.mem.VmallocArea;
import io.github.kproc.view.TaskStruct;
import io.github.kproc.view.ThreadInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
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
    static final long TASK_RUNNING = 0;
    static final long TASK_INTERRUPTIBLE = 0x1;
    static final long TASK_UNINTERRUPTIBLE = 0x2;
    static final long EXIT_DEAD = 0x10;
    static final long EXIT_ZOMBIE = 0x20;
    static final long TASK_DEAD = 0x80;
    static final long TASK_WAKEKILL = 0x100;
    static final long TASK_NEW = 0x800;
    static final long TASK_KILLABLE = TASK_WAKEKILL | TASK_UNINTERRUPTIBLE;
    static final int TIF_SIGPENDING = 0;
    static final int TIF_NEED_RESCHED = 1;
    static final int SIGKILL = 9;
    static final long SIG_IGN = 1;
    /** {@code SCHEDULE_FRAME}: bytes of stack the model's schedule() -> __schedule() frames take below pt_regs. */
    static final long SCHEDULE_FRAME = 0x80;
    /** Offset of the return address of the {@code switch_to} call inside {@code __schedule}. */
    static final long SWITCH_RETURN = 0x1f4;

    final Platform platform;
    final Offsets o;
    final Fields f;
    final KernelMemory mem;
    final AddressSpace m;
    final Lists lists;
    final KernelSymbols symbols;
    final Faults faults = new Faults();
    final Pids pids;
    final Sched sched;
    final Fork fork;
    final Exit exit;
    final Signals signals;
    final Exec exec;
    final Irq irq;
    final UserMemory userMemory = new UserMemory();
    final SplittableRandom random;
    final int cpus;
    final boolean[] online;
    final int tifSyscallTrace;
    /** TIF_SINGLESTEP where the architecture single-steps in hardware (arm64), else -1 (ARM32). */
    final int tifSinglestep;
    private final int tifForeignFpstate;
    @Nullable Tracer tracer;
    private long clock;
    private final long hz;

    final SlabCache taskCache;
    final SlabCache filesCache;
    final SlabCache fsCache;
    final SlabCache sighandCache;
    final SlabCache signalCache;
    final SlabCache mmCache;
    final SlabCache credCache;
    final SlabCache nsproxyCache;
    final SlabCache pidNsCache;
    private final int pgdOrder;

    final long initTask;
    final long initStructPid;
    final long initPidNs;
    final long initNsproxy;
    final long initCred;
    final long rootUser;
    final long initMm;
    long staticFiles;
    long staticFs;
    long staticSighand;
    long staticSignals;
    int nrThreads;
    long totalForks;
    final int maxThreads;

    private final long staticBase;
    private long staticNext;
    private final long staticEnd;

    private Kernel(Builder b) {
        this.platform = b.platform;
        this.o = platform.offsets();
        this.f = new Fields(o);
        this.cpus = b.cpus;
        if (cpus < 1 || cpus > platform.nrCpus()) {
            throw new IllegalArgumentException("cpus must be 1.." + platform.nrCpus() + " (CONFIG_NR_CPUS): " + cpus);
        }
        this.mem = KernelMemory.create(platform.memoryMap(b.memoryBytes));
        boolean ok = false;
        try {
            this.m = mem.space();
            this.random = new SplittableRandom(b.seed);
            this.tracer = b.tracer;
            this.hz = platform.profile().config().number("CONFIG_HZ", 100);
            this.lists = new Lists(m, f, platform.profile().config().number("CONFIG_ILLEGAL_POINTER_VALUE", 0));
            this.symbols = new KernelSymbols(textBase());
            this.online = new boolean[cpus];
            this.tifSyscallTrace = platform.tifBit("TIF_SYSCALL_TRACE");
            this.tifSinglestep = platform.tifBit("TIF_SINGLESTEP");
            this.tifForeignFpstate = platform.tifBit("TIF_FOREIGN_FPSTATE");
            int l1 = 64;
            taskCache = mem.createCache("task_struct", o.taskSize, Math.max(l1, platform.profile().struct("task_struct").alignment()));
            filesCache = mem.createCache("files_cache", f.filesSize, align("files_struct"));
            fsCache = mem.createCache("fs_cache", f.fsSize, align("fs_struct"));
            sighandCache = mem.createCache("sighand_cache", f.sighandSize, align("sighand_struct"));
            signalCache = mem.createCache("signal_cache", f.signalSize, align("signal_struct"));
            mmCache = mem.createCache("mm_struct", f.mmSize, align("mm_struct"));
            credCache = mem.createCache("cred_jar", f.credSize, align("cred"));
            nsproxyCache = mem.createCache("nsproxy", f.nsproxySize, align("nsproxy"));
            pidNsCache = mem.createCache("pid_namespace", f.pidNsSize, align("pid_namespace"));
            pgdOrder = platform.pointerSize() == 4 ? 2 : 0;

            // the kernel image's data: init_task, init_thread_union and the other static objects
            staticBase = mem.pages().allocPages(6);
            staticNext = staticBase;
            staticEnd = staticBase + ((long) platform.pageSize() << 6);
            long ram = b.memoryBytes;
            long threads = ram / (8 * platform.threadSize());
            this.maxThreads = (int) Math.max(20, Math.min(threads, 0x3fffffff));
            int pidMax = (int) Math.min(pidMaxLimit(), Math.max(32768, 1024L * cpus));
            this.pids = new Pids(this, pidMax);
            long[] queueHeads = new long[cpus];
            for (int i = 0; i < cpus; i++) {
                queueHeads[i] = staticAlloc(2L * platform.pointerSize(), platform.pointerSize());
            }
            this.sched = new Sched(this, cpus, queueHeads);
            this.fork = new Fork(this);
            this.signals = new Signals(this);
            this.exit = new Exit(this);
            this.exec = new Exec(this);
            this.irq = new Irq(this);

            rootUser = staticAlloc(f.userSize, 8);
            initCred = staticAlloc(f.credSize, 8);
            initPidNs = staticAlloc(f.pidNsSize, 8);
            initStructPid = staticAlloc(f.pidBaseSize, 8);
            initNsproxy = staticAlloc(f.nsproxySize, 8);
            initMm = staticAlloc(f.mmSize, 64);
            initTask = staticAlloc(o.taskSize, 64);
            ok = true;
        } finally {
            if (!ok) {
                mem.close();
            }
        }
        new Boot(this).start();
    }

    private int align(String struct) {
        return Math.max(platform.pointerSize(), platform.profile().struct(struct).alignment());
    }

    private long pidMaxLimit() {
        return platform.pointerSize() > 4 ? 4L * 1024 * 1024 : 32768;
    }

    private long textBase() {
        if (platform.pointerSize() == 4) {
            return platform.profile().config().number("CONFIG_PAGE_OFFSET", 0xC0000000L) + 0x8000;
        }
        int vaBits = (int) platform.profile().config().number("CONFIG_ARM64_VA_BITS", 48);
        return -(1L << vaBits) + (128L << 20) + 0x80000;
    }

    /** Allocates from the kernel image's static data (zeroed, never freed). */
    long staticAlloc(long size, long alignment) {
        long at = (staticNext + alignment - 1) & -alignment;
        if (at + size > staticEnd) {
            throw new IllegalStateException("static kernel data exhausted");
        }
        staticNext = at + size;
        m.fill(at, size, (byte) 0);
        return at;
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

        public Kernel boot() {
            return new Kernel(this);
        }
    }

    // ------------------------------------------------------------------ public API

    /** The build this kernel runs. */
    public Platform platform() {
        return platform;
    }

    /** The machine's memory. */
    public KernelMemory memory() {
        return mem;
    }

    /** Kernel addresses of the machine. */
    public AddressSpace addressSpace() {
        return m;
    }

    /** Fault injection for the fork path. */
    public Faults faults() {
        return faults;
    }

    /** Number of CPUs. */
    public int cpus() {
        return cpus;
    }

    /** Sets (or with null removes) the tracer. */
    public void tracer(@Nullable Tracer value) {
        this.tracer = value;
    }

    /** The simulated clock in nanoseconds since boot. */
    public long clock() {
        return clock;
    }

    /** Advances the simulated clock. */
    public void advanceClock(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("time runs forward: " + nanos);
        }
        clock += nanos;
    }

    long hz() {
        return hz;
    }

    /** {@code nr_threads}: tasks with a pid (idle tasks do not count). */
    public int nrThreads() {
        return nrThreads;
    }

    /** {@code total_forks}: successful copy_process calls since boot, idle forks included. */
    public long totalForks() {
        return totalForks;
    }

    /** {@code max_threads}: RAM / (8 * THREAD_SIZE), clamped to [MIN_THREADS, FUTEX_TID_MASK]. */
    public int maxThreads() {
        return maxThreads;
    }

    /** {@code pid_max}. */
    public int pidMax() {
        return pids.pidMax();
    }

    /** {@code &init_task}. */
    public long initTask() {
        return initTask;
    }

    /** {@code &init_pid_ns}. */
    public long initPidNamespace() {
        return initPidNs;
    }

    /** {@code current} of a CPU, derived from the CPU's registers as the architecture does. */
    public long current(int cpu) {
        checkCpu(cpu);
        return platform.currentTask(m, sched.registers[cpu]);
    }

    /** The CPU's registers (a copy), named by {@link Platform#cpuRegisters()}. */
    public long[] registers(int cpu) {
        checkCpu(cpu);
        return sched.registers[cpu].clone();
    }

    /** {@code smp_processor_id()} on a CPU: {@code task_cpu(current)}. */
    public int smpProcessorId(int cpu) {
        return platform.taskCpu(m, current(cpu));
    }

    /** The idle task of a CPU. */
    public long idleTask(int cpu) {
        checkCpu(cpu);
        return sched.idle[cpu];
    }

    /** {@code rq->nr_running} of a CPU. */
    public int nrRunning(int cpu) {
        checkCpu(cpu);
        return sched.nrRunning[cpu];
    }

    /** Reschedule IPIs sent to a CPU. */
    public long reschedIpis(int cpu) {
        checkCpu(cpu);
        return sched.ipis[cpu];
    }

    /** Every task on the global task list, init_task first (idle tasks of other CPUs are not on it). */
    public List<Long> tasks() {
        List<Long> out = new ArrayList<>();
        out.add(initTask);
        long head = initTask + o.taskTasks;
        for (long node = lists.next(head); node != head; node = lists.next(node)) {
            out.add(node - o.taskTasks);
            for (long t = lists.next(node - o.taskTasks + f.taskThreadGroup);
                    t != node - o.taskTasks + f.taskThreadGroup; t = lists.next(t)) {
                out.add(t - f.taskThreadGroup);
            }
        }
        return out;
    }

    /** The task with this global pid, or 0 (the model's {@code find_task_by_pid_ns(pid, &init_pid_ns)}). */
    public long findTask(int pid) {
        if (pid <= 0) {
            return 0;
        }
        long head = initTask + o.taskTasks;
        for (long node = lists.next(head); node != head; node = lists.next(node)) {
            long leader = node - o.taskTasks;
            if (m.readInt(leader + o.taskPid) == pid) {
                return leader;
            }
            long group = leader + f.taskThreadGroup;
            for (long t = lists.next(group); t != group; t = lists.next(t)) {
                if (m.readInt(t - f.taskThreadGroup + o.taskPid) == pid) {
                    return t - f.taskThreadGroup;
                }
            }
        }
        return 0;
    }

    /** A view of the task_struct at an address. */
    public TaskStruct task(long address) {
        return new TaskStruct(platform, m, address);
    }

    ThreadInfo threadInfoView(long task) {
        return new ThreadInfo(platform, m, platform.taskThreadInfo(m, task));
    }

    /** The pid of a task as seen from the pid namespace {@code ns} ({@code task_pid_nr_ns}), 0 if not visible. */
    public int pidNr(long task, long ns) {
        return pids.nrNs(m.readPointer(task + f.taskThreadPid), ns);
    }

    /** {@code task_active_pid_ns(task)}. */
    public long taskActivePidNs(long task) {
        long pid = m.readPointer(task + f.taskThreadPid);
        return pid == 0 ? initPidNs : pids.nsOf(pid);
    }

    /** The 32-bit word at a user address of a task's address space, as written by put_user, or null. */
    public @Nullable Integer userWord(long task, long address) {
        long mm = m.readPointer(task + o.taskMm);
        return userMemory.getUser(mm, address);
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
        return check(fork.doFork(cpu, Fork.CLONE_VFORK | Fork.CLONE_VM | CloneFlag.SIGCHLD, 0, 0, 0, 0, 0,
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
        if ((m.readInt(current + o.taskFlags) & Fork.PF_KTHREAD) == 0) {
            platform.setSyscallArguments(m, current, word, newsp, parentTidptr, tls, childTidptr);
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

    int kernelThreadRaw(int cpu, String fn, long arg, long flags) {
        long current = current(cpu);
        if ((m.readInt(current + o.taskFlags) & Fork.PF_KTHREAD) == 0) {
            throw new KernelException(Errno.EPERM, "kernel_thread() is called by kernel threads only");
        }
        return check(fork.doFork(cpu, flags | Fork.CLONE_VM | Fork.CLONE_UNTRACED, symbols.address(fn), arg, 0, 0, 0,
                "kernel_thread"), "kernel_thread");
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
        long t = findTask(pid);
        if (t == 0) {
            throw new KernelException(Errno.ESRCH, "no task with pid " + pid);
        }
        sched.runTask(cpu, t);
    }

    /** Runs the idle task of {@code cpu}, preempting the current task (which stays queued). */
    public void runIdle(int cpu) {
        enter(cpu);
        sched.runTask(cpu, sched.idle[cpu]);
    }

    /**
     * Marks signal {@code sig} pending for the task (the part of {@code send_signal} fork looks at:
     * {@code signal_pending} gives -ERESTARTNOINTR; a pending SIGKILL is a fatal signal).
     */
    public void kill(int pid, int sig) {
        long t = findTask(pid);
        if (t == 0) {
            throw new KernelException(Errno.ESRCH, "no task with pid " + pid);
        }
        if (sig < 1 || sig > 64) {
            throw new KernelException(Errno.EINVAL, "bad signal " + sig);
        }
        signals.sigaddset(t, sig);
        setTsiFlag(t, TIF_SIGPENDING);
    }

    /** Clears all pending signals of a task ({@code flush_signals}). */
    public void flushSignals(int pid) {
        long t = findTask(pid);
        if (t == 0) {
            throw new KernelException(Errno.ESRCH, "no task with pid " + pid);
        }
        signals.flushSignals(t);
    }

    // ------------------------------------------------------------------ CPUs, contexts, scheduling

    /** {@code TICK_NSEC}: nanoseconds between timer ticks (1e9 / CONFIG_HZ). */
    public long tickNanos() {
        return 1_000_000_000L / hz;
    }

    /**
     * Lets a CPU take what is pending for it before it does anything else: a reschedule IPI sent to
     * it is taken as an interrupt ({@code handle_IPI}: {@code ipi_entry}, {@code scheduler_ipi},
     * {@code ipi_exit}; 4.19's scheduler_ipi enters no irq context for a bare reschedule), and the
     * return from the interrupt reschedules when allowed. An IPI stays pending while the CPU has irqs
     * masked or is in hardirq or NMI context.
     */
    public void step(int cpu) {
        checkCpu(cpu);
        if (sched.ipiPending[cpu]) {
            irq.deliverReschedIpi(cpu);
        }
    }

    /** {@code step} of every CPU. */
    public void stepAll() {
        for (int cpu = 0; cpu < cpus; cpu++) {
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
        irq.irqEnter(cpu);
        sched.schedulerTick(cpu);
        irq.irqExit(cpu);
    }

    /** Advances the clock by one tick and ticks every CPU, CPU 0 first; pending IPIs are taken. */
    public void tickAll() {
        advanceClock(tickNanos());
        for (int cpu = 0; cpu < cpus; cpu++) {
            tick(cpu);
        }
        stepAll();
    }

    /** {@code preempt_disable()} on {@code cpu}. */
    public void preemptDisable(int cpu) {
        enter(cpu);
        irq.preemptDisable(cpu);
    }

    /** {@code preempt_enable()} on {@code cpu}: with CONFIG_PREEMPT a preemption point. */
    public void preemptEnable(int cpu) {
        enter(cpu);
        irq.preemptEnable(cpu);
    }

    /** {@code local_bh_disable()}. */
    public void localBhDisable(int cpu) {
        enter(cpu);
        irq.localBhDisable(cpu);
    }

    /** {@code local_bh_enable()}: runs pending softirqs when it leaves interrupt context. */
    public void localBhEnable(int cpu) {
        enter(cpu);
        irq.localBhEnable(cpu);
    }

    /** {@code local_irq_disable()}. */
    public void localIrqDisable(int cpu) {
        checkCpu(cpu);
        sched.irqsOff[cpu] = true;
    }

    /** {@code local_irq_enable()}. */
    public void localIrqEnable(int cpu) {
        checkCpu(cpu);
        sched.irqsOff[cpu] = false;
    }

    /** {@code irqs_disabled()} on {@code cpu}. */
    public boolean irqsDisabled(int cpu) {
        checkCpu(cpu);
        return sched.irqsOff[cpu];
    }

    /** {@code irq_enter()}: a hardware interrupt starts on {@code cpu}. */
    public void irqEnter(int cpu) {
        enter(cpu);
        irq.irqEnter(cpu);
    }

    /** {@code irq_exit()} and the return from the interrupt (softirqs, preemption when allowed). */
    public void irqExit(int cpu) {
        checkCpu(cpu);
        irq.irqExit(cpu);
    }

    /** {@code raise_softirq(vector)} on {@code cpu} (0 HI .. 9 RCU). */
    public void raiseSoftirq(int cpu, int vector) {
        checkCpu(cpu);
        irq.raiseSoftirq(cpu, vector);
    }

    /** {@code nmi_enter()}. */
    public void nmiEnter(int cpu) {
        checkCpu(cpu);
        irq.nmiEnter(cpu);
    }

    /** {@code nmi_exit()}. */
    public void nmiExit(int cpu) {
        checkCpu(cpu);
        irq.nmiExit(cpu);
    }

    /** {@code preempt_count()} of the current task of {@code cpu}. */
    public int preemptCount(int cpu) {
        checkCpu(cpu);
        return irq.count(cpu);
    }

    /** {@code schedule()} on {@code cpu}: the current task yields to the best queued task, if any. */
    public void schedule(int cpu) {
        enter(cpu);
        sched.schedule(cpu, false, 0);
    }

    /**
     * The current task of {@code cpu} sleeps: TASK_INTERRUPTIBLE and {@code schedule()}, until
     * {@link #wakeUp}.
     */
    public void sleep(int cpu) {
        enter(cpu);
        long current = current(cpu);
        if (sched.isIdle(current)) {
            throw new KernelException(Errno.EINVAL, "the idle task does not sleep");
        }
        m.writePointer(current + o.taskState, TASK_INTERRUPTIBLE);
        sched.schedule(cpu, false, 0);
    }

    /**
     * {@code wake_up_process(p)} by the current task of {@code cpu}: {@code try_to_wake_up} with
     * {@code sched_waking}/{@code sched_wakeup} and the preemption check (a remote CPU gets an IPI).
     *
     * @return false if the task was not sleeping
     */
    public boolean wakeUp(int cpu, int pid) {
        enter(cpu);
        long t = findTask(pid);
        if (t == 0) {
            throw new KernelException(Errno.ESRCH, "no task with pid " + pid);
        }
        long state = m.readPointer(t + o.taskState);
        if ((state & (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)) == 0 || exit.inVforkWait(t)) {
            return false;
        }
        tryToWakeUp(cpu, t);
        return true;
    }

    /**
     * {@code try_to_wake_up(p)} run on {@code cpu}: under {@code p->pi_lock} (irqs off)
     * {@code sched_waking}, then under the runqueue lock the activation, {@code check_preempt_curr}
     * and {@code sched_wakeup}.
     */
    void tryToWakeUp(int cpu, long t) {
        lockIrqSave(cpu);
        traceWakeup(cpu, "sched_waking", t, sched.taskCpu(t));
        preemptCountInc(cpu);
        sched.tryToWakeUp(t, cpu);
        traceWakeup(cpu, "sched_wakeup", t, sched.taskCpu(t));
        preemptCountDec(cpu);
        unlockIrqRestore(cpu);
    }

    /**
     * Moves a queued or sleeping task to {@code cpu} ({@code move_queued_task} -> {@code set_task_cpu},
     * {@code sched_migrate_task}).
     *
     * @throws KernelException EBUSY if it is running, EINVAL if {@code cpu} is not allowed for it
     */
    public void migrate(int pid, int cpu) {
        checkCpu(cpu);
        long t = findTask(pid);
        if (t == 0) {
            throw new KernelException(Errno.ESRCH, "no task with pid " + pid);
        }
        for (int c = 0; c < cpus; c++) {
            if (sched.curr[c] == t) {
                throw new KernelException(Errno.EBUSY, "pid " + pid + " is running on CPU " + c);
            }
        }
        if (!sched.allowed(t, cpu) || !online[cpu] || m.readInt(t + o.taskExitState) != 0) {
            throw new KernelException(Errno.EINVAL, "pid " + pid + " cannot run on CPU " + cpu);
        }
        int from = sched.taskCpu(t);
        if (from == cpu) {
            return;
        }
        boolean queued = m.readInt(t + o.taskOnRq) == Sched.TASK_ON_RQ_QUEUED;
        traceMigrate(cpu, t, from, cpu);
        if (queued) {
            sched.dequeueQueued(from, t, true);
        }
        sched.setTaskCpu(t, cpu);
        if (queued) {
            sched.enqueue(cpu, t, true);
            sched.checkPreemptCurr(cpu, t, from);
        }
    }

    /**
     * {@code sched_setscheduler(p, policy, {priority})}: SCHED_NORMAL 0, SCHED_FIFO 1, SCHED_RR 2,
     * SCHED_BATCH 3, SCHED_IDLE 5; FIFO and RR take a priority 1..99, the others 0. The call is taken
     * as made on the task's own CPU: a reschedule it causes sets TIF_NEED_RESCHED there, which that
     * CPU acts on at its next tick, interrupt or schedule.
     */
    public void setScheduler(int pid, int policy, int priority) {
        long t = findTask(pid);
        if (t == 0) {
            throw new KernelException(Errno.ESRCH, "no task with pid " + pid);
        }
        boolean rt = policy == Sched.SCHED_FIFO || policy == Sched.SCHED_RR;
        boolean fair = policy == Sched.SCHED_NORMAL || policy == Sched.SCHED_BATCH || policy == Sched.SCHED_IDLE;
        if (!rt && !fair || (rt && (priority < 1 || priority > 99)) || (fair && priority != 0)) {
            throw new KernelException(Errno.EINVAL, "policy " + policy + " priority " + priority);
        }
        sched.setScheduler(t, policy, priority, rt ? Sched.MAX_RT_PRIO - 1 - priority
                : m.readInt(t + o.taskStaticPrio));
    }

    /** {@code set_user_nice(p, nice)}: static_prio = 120 + nice, -20 .. 19. */
    public void setNice(int pid, int nice) {
        long t = findTask(pid);
        if (t == 0) {
            throw new KernelException(Errno.ESRCH, "no task with pid " + pid);
        }
        if (nice < -20 || nice > 19) {
            throw new KernelException(Errno.EINVAL, "nice " + nice);
        }
        m.writeInt(t + o.taskStaticPrio, Sched.DEFAULT_PRIO + nice);
        sched.setScheduler(t, m.readInt(t + o.taskPolicy), m.readInt(t + f.taskRtPriority),
                m.readInt(t + o.taskPolicy) == Sched.SCHED_FIFO || m.readInt(t + o.taskPolicy) == Sched.SCHED_RR
                        ? m.readInt(t + o.taskNormalPrio) : Sched.DEFAULT_PRIO + nice);
    }

    /** {@code rq->nr_switches} of a CPU. */
    public long nrSwitches(int cpu) {
        checkCpu(cpu);
        return sched.nrSwitches[cpu];
    }

    /** {@code cfs_rq->min_vruntime} of a CPU. */
    public long minVruntime(int cpu) {
        checkCpu(cpu);
        return sched.minVruntime[cpu];
    }

    /** The tasks queued (runnable, not running) on a CPU, in queue order. */
    public List<Long> queued(int cpu) {
        checkCpu(cpu);
        List<Long> out = new ArrayList<>();
        long head = sched.queue[cpu];
        for (long node = lists.next(head); node != head; node = lists.next(node)) {
            out.add(node - f.taskSeGroupNode);
        }
        return out;
    }

    @Override
    public void close() {
        mem.close();
    }

    private void checkCpu(int cpu) {
        if (cpu < 0 || cpu >= cpus) {
            throw new IllegalArgumentException("no CPU " + cpu + " (" + cpus + " CPUs)");
        }
    }

    private static int check(long result, String what) {
        if (result < 0) {
            Errno e = Errno.fromNegative(result);
            throw new KernelException(e, what + " failed");
        }
        return (int) result;
    }

    // ------------------------------------------------------------------ helpers for the subsystems

    /** {@code MAX_ERRNO}. */
    static final long MAX_ERRNO = 4095;

    /** {@code IS_ERR_VALUE(x)}: an errno encoded in an address-sized return (kernel addresses may be negative). */
    static boolean isErr(long x) {
        return Long.compareUnsigned(x, -MAX_ERRNO) >= 0;
    }

    long kmemCacheAlloc(SlabCache cache) {
        if (faults.allocation()) {
            return 0;
        }
        return cache.alloc();
    }

    long kmemCacheZalloc(SlabCache cache) {
        if (faults.allocation()) {
            return 0;
        }
        return cache.zalloc();
    }

    long allocPages(int order) {
        if (faults.allocation()) {
            return 0;
        }
        return mem.pages().allocPages(order);
    }

    /** {@code alloc_thread_stack_node}: a zeroed THREAD_SIZE stack (THREADINFO_GFP has __GFP_ZERO). */
    long allocThreadStack() {
        long stack;
        if (platform.vmapStack()) {
            VmallocArea area = mem.vmalloc();
            if (faults.allocation() || area == null) {
                return 0;
            }
            stack = area.vmalloc(platform.threadSize());
        } else {
            stack = allocPages(stackOrder());
        }
        if (stack != 0) {
            m.fill(stack, platform.threadSize(), (byte) 0);
        }
        return stack;
    }

    int stackOrder() {
        return Long.numberOfTrailingZeros(platform.threadSize()) - Integer.numberOfTrailingZeros(platform.pageSize());
    }

    /** {@code free_thread_stack}. */
    void freeThreadStack(long stack) {
        if (platform.vmapStack()) {
            mem.vmalloc().vfree(stack);
        } else {
            mem.pages().freePages(stack, stackOrder());
        }
    }

    /**
     * {@code put_task_stack(p)}: with THREAD_INFO_IN_TASK the stack has its own refcount and goes back
     * when it drops to zero; without it the stack lives as long as the task_struct.
     */
    void putTaskStack(long p) {
        if (f.taskStackRefcount < 0) {
            return;
        }
        int ref = m.readInt(p + f.taskStackRefcount) - 1;
        m.writeInt(p + f.taskStackRefcount, ref);
        if (ref == 0) {
            freeThreadStack(m.readPointer(p + o.taskStack));
            m.writePointer(p + o.taskStack, 0);
        }
    }

    /** {@code free_task(p)}: the stack (without THREAD_INFO_IN_TASK) and the task_struct. */
    void freeTask(long p) {
        if (f.taskStackRefcount < 0) {
            freeThreadStack(m.readPointer(p + o.taskStack));
        }
        taskCache.free(p);
    }

    /** {@code get_task_struct}. */
    void getTaskStruct(long p) {
        m.writeInt(p + o.taskUsage, m.readInt(p + o.taskUsage) + 1);
    }

    /** {@code put_task_struct}: {@code __put_task_struct} when the last reference goes. */
    void putTaskStruct(long p) {
        int usage = m.readInt(p + o.taskUsage) - 1;
        m.writeInt(p + o.taskUsage, usage);
        if (usage == 0) {
            exit.putTaskStructFinal(p);
        }
    }

    long randomCanary() {
        long v = random.nextLong();
        return platform.pointerSize() == 8 ? v & 0xffffffffffffff00L : v & 0xffffffffL;
    }

    boolean capable(long task) {
        long cred = m.readPointer(task + f.taskCred);
        return m.readInt(cred + f.credEuid) == 0;
    }

    void getCred(long cred) {
        m.writeInt(cred + f.credUsage, m.readInt(cred + f.credUsage) + 1);
    }

    /** {@code put_cred}: frees a cred (dropping its user) at zero; the static init_cred is never freed. */
    void putCred(long cred) {
        int usage = m.readInt(cred + f.credUsage) - 1;
        m.writeInt(cred + f.credUsage, usage);
        if (usage == 0 && cred != initCred) {
            freeUid(m.readPointer(cred + f.credUser));
            credCache.free(cred);
        }
    }

    void getUid(long user) {
        m.writeInt(user + f.userCount, m.readInt(user + f.userCount) + 1);
    }

    void freeUid(long user) {
        m.writeInt(user + f.userCount, m.readInt(user + f.userCount) - 1);
    }

    /** {@code exit_creds(p)}: drops real_cred and cred. */
    void exitCreds(long p) {
        long real = m.readPointer(p + f.taskRealCred);
        long cred = m.readPointer(p + f.taskCred);
        m.writePointer(p + f.taskCred, 0);
        m.writePointer(p + f.taskRealCred, 0);
        putCred(real);
        putCred(cred);
    }

    void setTsiFlag(long task, int bit) {
        long ti = platform.taskThreadInfo(m, task);
        m.writePointer(ti + o.tiFlags, m.readPointer(ti + o.tiFlags) | (1L << bit));
    }

    void clearTsiFlag(long task, int bit) {
        if (bit < 0) {
            return;
        }
        long ti = platform.taskThreadInfo(m, task);
        m.writePointer(ti + o.tiFlags, m.readPointer(ti + o.tiFlags) & ~(1L << bit));
    }

    boolean testTsiFlag(long task, int bit) {
        long ti = platform.taskThreadInfo(m, task);
        return (m.readPointer(ti + o.tiFlags) & (1L << bit)) != 0;
    }

    /** {@code signal_pending(p)}: TIF_SIGPENDING. */
    boolean signalPending(long task) {
        return testTsiFlag(task, TIF_SIGPENDING);
    }

    /** {@code fatal_signal_pending(p)}: signal pending and SIGKILL in the private pending set. */
    boolean fatalSignalPending(long task) {
        return signalPending(task) && signals.sigismember(task, SIGKILL);
    }

    /** {@code init_sigpending(&p->pending)}. */
    void initSigpending(long p) {
        signals.initSigpending(p);
    }

    /** {@code sas_ss_reset(p)}. */
    void sasSsReset(long p) {
        signals.sasSsReset(p);
    }

    /** {@code init_waitqueue_head(&sig->signalfd_wqh)} and the siglock, as sighand_ctor does. */
    void sighandCtor(long sig) {
        lists.init(sig + f.sighandSignalfdHead);
    }

    /** {@code __cleanup_sighand}: count--, freed at zero. */
    void cleanupSighand(long sighand) {
        if (sighand == 0) {
            return;
        }
        int count = m.readInt(sighand + f.sighandCount) - 1;
        m.writeInt(sighand + f.sighandCount, count);
        if (count == 0) {
            sighandCache.free(sighand);
        }
    }

    /** {@code dup_fd(oldf)}: a new files_struct with the old table's bits and fds, its fdtable pointing into itself. */
    long dupFd(long oldf) {
        long newf = kmemCacheAlloc(filesCache);
        if (newf == 0) {
            return 0;
        }
        m.copy(oldf, newf, f.filesSize);
        m.writeInt(newf + f.filesNextFd, 0);
        initFiles(newf);
        return newf;
    }

    /**
     * A files_struct with one reference whose fdtable is its own embedded {@code fdtab}, pointing at its
     * embedded bitmaps and {@code fd_array} (NR_OPEN_DEFAULT slots), as {@code init_files} and
     * {@code dup_fd} set it up.
     */
    void initFiles(long files) {
        m.writeInt(files + f.filesCount, 1);
        lists.init(files + f.filesResizeWaitHead);
        long fdt = files + f.filesFdtab;
        m.writePointer(files + f.filesFdt, fdt);
        m.writeInt(fdt + f.fdtMaxFds, (int) f.filesFdArrayLength);
        m.writePointer(fdt + f.fdtCloseOnExec, files + f.filesCloseOnExecInit);
        m.writePointer(fdt + f.fdtOpenFds, files + f.filesOpenFdsInit);
        m.writePointer(fdt + f.fdtFullFdsBits, files + f.filesFullFdsBitsInit);
        m.writePointer(fdt + f.fdtFd, files + f.filesFdArray);
    }

    /** {@code exit_files(p)}: detach and {@code put_files_struct}. */
    void exitFiles(long p) {
        long files = m.readPointer(p + f.taskFiles);
        if (files == 0) {
            return;
        }
        m.writePointer(p + f.taskFiles, 0);
        int count = m.readInt(files + f.filesCount) - 1;
        m.writeInt(files + f.filesCount, count);
        if (count == 0) {
            filesCache.free(files);
        }
    }

    /** {@code exit_fs(p)}: detach, {@code --fs->users}, {@code free_fs_struct} at zero. */
    void exitFs(long p) {
        long fs = m.readPointer(p + f.taskFs);
        if (fs == 0) {
            return;
        }
        m.writePointer(p + f.taskFs, 0);
        int users = m.readInt(fs + f.fsUsers) - 1;
        m.writeInt(fs + f.fsUsers, users);
        if (users == 0) {
            fsCache.free(fs);
        }
    }

    /**
     * {@code dup_mm(tsk)}: a copy of the parent's mm with {@code mm_init} resetting what must not be
     * shared (users 1, count 1, no VMAs, owner = tsk) and a new pgd, or 0 without memory.
     */
    long dupMm(long oldmm, long tsk) {
        long mm = kmemCacheAlloc(mmCache);
        if (mm == 0) {
            return 0;
        }
        m.copy(oldmm, mm, f.mmSize);
        if (!mmInit(mm, tsk)) {
            mmCache.free(mm);
            return 0;
        }
        userMemory.duplicate(oldmm, mm);
        return mm;
    }

    /** {@code mm_init}: counters and lists reset, {@code pgd_alloc} (16 KiB on ARM32, a page on arm64). */
    boolean mmInit(long mm, long owner) {
        m.writePointer(mm + f.mmMmap, 0);
        m.writeInt(mm + f.mmUsers, 1);
        m.writeInt(mm + f.mmCount, 1);
        m.writeInt(mm + f.mmMapCount, 0);
        lists.init(mm + f.mmMmlist);
        if (f.mmOwner >= 0) {
            m.writePointer(mm + f.mmOwner, owner);
        }
        long pgd = allocPages(pgdOrder);
        if (pgd == 0) {
            return false;
        }
        m.fill(pgd, (long) platform.pageSize() << pgdOrder, (byte) 0);
        m.writePointer(mm + f.mmPgd, pgd);
        return true;
    }

    /** {@code mm_alloc()} for exec: a fresh mm. */
    long mmAlloc(long owner) {
        long mm = kmemCacheZalloc(mmCache);
        if (mm == 0) {
            return 0;
        }
        if (!mmInit(mm, owner)) {
            mmCache.free(mm);
            return 0;
        }
        return mm;
    }

    /** {@code mmput(mm)}: mm_users--; at zero {@code __mmput} frees the page tables and drops mm_count. */
    void mmput(long mm) {
        int users = m.readInt(mm + f.mmUsers) - 1;
        m.writeInt(mm + f.mmUsers, users);
        if (users == 0) {
            mem.pages().freePages(m.readPointer(mm + f.mmPgd), pgdOrder);
            m.writePointer(mm + f.mmPgd, 0);
            userMemory.drop(mm);
            mmdrop(mm);
        }
    }

    /** {@code mmgrab}. */
    void mmgrab(long mm) {
        m.writeInt(mm + f.mmCount, m.readInt(mm + f.mmCount) + 1);
    }

    /** {@code mmdrop}: mm_count--, the mm_struct freed at zero (init_mm never). */
    void mmdrop(long mm) {
        int count = m.readInt(mm + f.mmCount) - 1;
        m.writeInt(mm + f.mmCount, count);
        if (count == 0 && mm != initMm) {
            mmCache.free(mm);
        }
    }

    /** {@code exit_task_namespaces(p)}: {@code put_nsproxy}, freeing it (and its pid namespace reference) at zero. */
    void exitTaskNamespaces(long p) {
        long ns = m.readPointer(p + f.taskNsproxy);
        if (ns == 0) {
            return;
        }
        m.writePointer(p + f.taskNsproxy, 0);
        int count = m.readInt(ns + f.nsproxyCount) - 1;
        m.writeInt(ns + f.nsproxyCount, count);
        if (count == 0 && ns != initNsproxy) {
            pids.putPidNs(m.readPointer(ns + f.nsproxyPidNsForChildren));
            nsproxyCache.free(ns);
        }
    }

    /** {@code attach_pid(task, type)}: link the task into its pid's list of that type. */
    void attachPid(long task, int type) {
        long pid = taskPid(task, type);
        lists.hlistAddHead(task + f.taskPidLinks + type * f.hnodeSize, pid + f.pidTasks + (long) type * platform.pointerSize());
    }

    /** {@code detach_pid(task, type)}: unlink, and free the pid once no task of any type uses it. */
    void detachPid(long task, int type) {
        long pid = taskPid(task, type);
        lists.hlistDel(task + f.taskPidLinks + type * f.hnodeSize);
        if (type == Pids.PIDTYPE_PID) {
            m.writePointer(task + f.taskThreadPid, 0);
        } else {
            m.writePointer(m.readPointer(task + f.taskSignal) + f.signalPids + (long) type * platform.pointerSize(), 0);
        }
        for (int t = 0; t < Pids.PIDTYPE_MAX; t++) {
            if (lists.hlistFirst(pid + f.pidTasks + (long) t * platform.pointerSize()) != 0) {
                return;
            }
        }
        if (pid != initStructPid) {
            pids.freePid(pid);
        }
    }

    /** {@code task_pid_ptr}: thread_pid for PIDTYPE_PID, else {@code signal->pids[type]}. */
    long taskPid(long task, int type) {
        if (type == Pids.PIDTYPE_PID) {
            return m.readPointer(task + f.taskThreadPid);
        }
        return m.readPointer(m.readPointer(task + f.taskSignal) + f.signalPids + (long) type * platform.pointerSize());
    }

    /** {@code put_user} into the task's address space (ignored for a task without one, like a fault). */
    void putUser(long task, long address, int value) {
        long mm = m.readPointer(task + o.taskMm);
        if (mm != 0 && address != 0) {
            userMemory.putUser(mm, address, value);
        }
    }

    /** Where {@code _do_fork}'s on-stack {@code struct completion vfork} sits: below the caller's pt_regs. */
    long onStackCompletion(long task) {
        return (platform.taskPtRegs(m, task) - 0x40) & -8L;
    }

    /** Where {@code copy_process}'s on-stack {@code delayed.node} sits: below the caller's pt_regs. */
    long onStackDelayedNode(long task) {
        return (platform.taskPtRegs(m, task) - 0x60) & -8L;
    }

    /** {@code wait_for_vfork_done}: the parent blocks killable until {@code complete_vfork_done}. */
    void waitForVforkDone(int cpu, long parent, long child, long pid) {
        exit.waitForVforkDone(cpu, parent, child, pid);
    }

    // ---- locking, preemption, irqs as far as trace output needs them ----

    /** {@code raw_spin_lock_irqsave}: irqs off, preemption disabled. */
    void lockIrqSave(int cpu) {
        sched.irqsOff[cpu] = true;
        preemptCountInc(cpu);
    }

    /** {@code raw_spin_unlock_irqrestore}. */
    void unlockIrqRestore(int cpu) {
        preemptCountDec(cpu);
        sched.irqsOff[cpu] = false;
    }

    /** The preempt_disable() a spinlock does (counting only with CONFIG_PREEMPT_COUNT). */
    void preemptCountInc(int cpu) {
        irq.preemptDisable(cpu);
    }

    /** The preempt_enable_no_resched() of an unlock. */
    void preemptCountDec(int cpu) {
        irq.preemptEnableNoResched(cpu);
    }

    /** Sets a task's {@code thread_info.preempt_count}. */
    void setPreemptCount(long task, int value) {
        m.writeInt(platform.taskThreadInfo(m, task) + o.tiPreemptCount, value);
    }

    // ---- tracing ----

    private StringBuilder traceBegin(int cpu) {
        long current = current(cpu);
        long ti = platform.taskThreadInfo(m, current);
        int pc = m.readInt(ti + o.tiPreemptCount);
        boolean needResched = (m.readPointer(ti + o.tiFlags) & (1L << TIF_NEED_RESCHED)) != 0;
        int flags = Tracer.flags(sched.irqsOff[cpu], needResched, pc);
        return tracer.begin(m.readCString(current + o.taskComm, o.commLength), m.readInt(current + o.taskPid), cpu,
                flags, pc, clock);
    }

    void traceFunction(int cpu, String function, String parent) {
        Tracer t = tracer;
        if (t == null || !t.functions()) {
            return;
        }
        traceBegin(cpu).append(function).append(" <-").append(parent);
        t.emit();
    }

    void traceProcessFork(int cpu, long parent, long child) {
        Tracer t = tracer;
        if (t == null) {
            return;
        }
        traceBegin(cpu).append("sched_process_fork: comm=").append(comm(parent)).append(" pid=")
                .append(m.readInt(parent + o.taskPid)).append(" child_comm=").append(comm(child))
                .append(" child_pid=").append(m.readInt(child + o.taskPid));
        t.emit();
    }

    void traceNewTask(int cpu, long p, long flags) {
        Tracer t = tracer;
        if (t == null) {
            return;
        }
        traceBegin(cpu).append("task_newtask: pid=").append(m.readInt(p + o.taskPid)).append(" comm=")
                .append(comm(p)).append(" clone_flags=").append(Long.toHexString(flags)).append(" oom_score_adj=")
                .append(m.readShort(m.readPointer(p + f.taskSignal) + f.signalOomScoreAdj));
        t.emit();
    }

    void traceWakeupNew(int cpu, long p, int targetCpu) {
        Tracer t = tracer;
        if (t == null) {
            return;
        }
        StringBuilder s = traceBegin(cpu).append("sched_wakeup_new: comm=").append(comm(p)).append(" pid=")
                .append(m.readInt(p + o.taskPid)).append(" prio=").append(m.readInt(p + o.taskPrio))
                .append(" target_cpu=");
        if (targetCpu < 100) {
            s.append('0');
        }
        if (targetCpu < 10) {
            s.append('0');
        }
        s.append(targetCpu);
        t.emit();
    }

    void traceSwitch(int cpu, boolean preempt, long prev, long next) {
        Tracer t = tracer;
        if (t == null) {
            return;
        }
        StringBuilder s = traceBegin(cpu).append("sched_switch: prev_comm=").append(comm(prev)).append(" prev_pid=")
                .append(m.readInt(prev + o.taskPid)).append(" prev_prio=").append(m.readInt(prev + o.taskPrio))
                .append(" prev_state=");
        if (preempt) {
            s.append("R+");
        } else {
            int state = (int) ((m.readPointer(prev + o.taskState) | m.readInt(prev + o.taskExitState)) & 0x7f);
            if (m.readPointer(prev + o.taskState) == 0x402) {
                state = 0x80;
            }
            int index = 32 - Integer.numberOfLeadingZeros(state);
            s.append(index == 0 ? "R" : String.valueOf("SDTtXZPI".charAt(index - 1)));
        }
        s.append(" ==> next_comm=").append(comm(next)).append(" next_pid=").append(m.readInt(next + o.taskPid))
                .append(" next_prio=").append(m.readInt(next + o.taskPrio));
        t.emit();
    }

    void traceProcessExit(int cpu, long p, String event) {
        Tracer t = tracer;
        if (t == null) {
            return;
        }
        traceBegin(cpu).append(event).append(": comm=").append(comm(p)).append(" pid=")
                .append(m.readInt(p + o.taskPid)).append(" prio=").append(m.readInt(p + o.taskPrio));
        t.emit();
    }

    private final List<String> bugs = new ArrayList<>();

    /** Records a kernel BUG/WARN message (the kernel prints it and carries on). */
    void bug(String message) {
        bugs.add(message);
    }

    /** The BUG and WARN messages the kernel has printed, oldest first. */
    public List<String> bugs() {
        return java.util.Collections.unmodifiableList(bugs);
    }

    void traceWakeup(int cpu, String event, long p, int targetCpu) {
        Tracer t = tracer;
        if (t == null) {
            return;
        }
        StringBuilder s = traceBegin(cpu).append(event).append(": comm=").append(comm(p)).append(" pid=")
                .append(m.readInt(p + o.taskPid)).append(" prio=").append(m.readInt(p + o.taskPrio))
                .append(" target_cpu=");
        appendCpu(s, targetCpu);
        t.emit();
    }

    void traceMigrate(int cpu, long p, int from, int to) {
        Tracer t = tracer;
        if (t == null) {
            return;
        }
        traceBegin(cpu).append("sched_migrate_task: comm=").append(comm(p)).append(" pid=")
                .append(m.readInt(p + o.taskPid)).append(" prio=").append(m.readInt(p + o.taskPrio))
                .append(" orig_cpu=").append(from).append(" dest_cpu=").append(to);
        t.emit();
    }

    void traceSoftirq(int cpu, String event, int vector) {
        Tracer t = tracer;
        if (t == null) {
            return;
        }
        traceBegin(cpu).append(event).append(": vec=").append(vector).append(" [action=")
                .append(Irq.SOFTIRQ_NAMES[vector]).append(']');
        t.emit();
    }

    /** {@code ipi_raise: target_mask=%s (%s)} (target >= 0) or {@code ipi_entry/ipi_exit: (%s)}. */
    void traceIpi(int cpu, String event, int target) {
        Tracer t = tracer;
        if (t == null) {
            return;
        }
        StringBuilder s = traceBegin(cpu).append(event).append(": ");
        if (target >= 0) {
            s.append("target_mask=").append(cpumaskString(target)).append(' ');
        }
        s.append("(Rescheduling interrupts)");
        t.emit();
    }

    /** A one-CPU mask as {@code %*pb} prints it: hex in 32-bit groups, comma separated, nr_cpu_ids wide. */
    private String cpumaskString(int cpu) {
        int bits = platform.nrCpus();
        StringBuilder s = new StringBuilder();
        for (int chunk = (bits - 1) / 32; chunk >= 0; chunk--) {
            int width = chunk == (bits - 1) / 32 ? ((bits - 1) % 32) / 4 + 1 : 8;
            long value = cpu / 32 == chunk ? 1L << (cpu % 32) : 0;
            String hex = Long.toHexString(value);
            for (int i = hex.length(); i < width; i++) {
                s.append('0');
            }
            s.append(hex);
            if (chunk > 0) {
                s.append(',');
            }
        }
        return s.toString();
    }

    private static void appendCpu(StringBuilder s, int cpu) {
        if (cpu < 100) {
            s.append('0');
        }
        if (cpu < 10) {
            s.append('0');
        }
        s.append(cpu);
    }

    String comm(long task) {
        return m.readCString(task + o.taskComm, o.commLength);
    }

    int tifForeignFpstate() {
        return tifForeignFpstate;
    }
}
