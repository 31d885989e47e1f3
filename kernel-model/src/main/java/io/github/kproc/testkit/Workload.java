package io.github.kproc.testkit;

import io.github.kproc.KernelException;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Cpu;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.SoftirqVector;
import io.github.kproc.view.TaskState;
import io.github.kproc.view.TaskStruct;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A seeded sequence of system calls and events for property tests, independent of any test framework:
 * generate one from a seed or a {@link SplittableRandom}, shrink it as a plain list (drop operations,
 * lower their numbers), and {@link #apply} it to a kernel. Every operation names a CPU and a
 * {@code pick} that chooses its actor among the tasks that can do it (so any list of operations is
 * valid on any kernel), and returns what the kernel answered: a pid, an errno, or nothing.
 *
 * <pre>{@code
 * Workload w = Workload.generate(seed, 200);
 * List<Workload.Outcome> outcomes = w.apply(kernel);
 * KernelInvariants.of(kernel).assertHolds();
 * }</pre>
 *
 * @param ops the operations, in order
 */
public record Workload(List<Op> ops) {
    /** What an operation does. */
    public enum Kind {
        /** {@code fork()} by a user task. */
        FORK,
        /** {@code vfork()} by a user task; its child then runs and execs, releasing the parent. */
        VFORK_EXEC,
        /** {@code clone()} of a thread (CLONE_VM | FS | FILES | SIGHAND | THREAD | SYSVSEM). */
        THREAD,
        /** {@code clone()} with arbitrary flags from {@link Op#flags} (the kernel may refuse them). */
        CLONE,
        /** {@code clone(CLONE_NEWPID)}: a process in a new pid namespace. */
        NEWPID,
        /** {@code kernel_thread()} by kthreadd. */
        KERNEL_THREAD,
        /** {@code execve()} by a user task, a thread of a multithreaded process too ({@code de_thread}). */
        EXEC,
        /** {@code exit()} of a task that may exit (not init, kthreadd or an idle task). */
        EXIT,
        /** {@code wait4(-1, WNOHANG)} by a task with children. */
        WAIT,
        /** A signal sent to a task ({@code flags} is the signal, 1..31; after SIGKILL its group dies when it next runs). */
        KILL,
        /** The current task sleeps. */
        SLEEP,
        /** A sleeping task is woken. */
        WAKE,
        /** Every CPU takes a timer tick (the clock advances one tick). */
        TICK,
        /** A hardware interrupt raising a softirq on the CPU. */
        IRQ,
        /** An NMI on the CPU. */
        NMI,
        /** A queued or sleeping task moves to the operation's CPU. */
        MIGRATE,
        /** A runnable task is made current on the operation's CPU. */
        RUN,
        /**
         * {@code setresuid(uid, uid, uid)} by a user process, {@code uid} 0 for {@link Op#flags} 0 and
         * {@code 1000 + flags} otherwise (a process that left root gets EPERM going back).
         */
        SETUID,
        /** {@code prctl(PR_SET_CHILD_SUBREAPER)} by a user process: on for even {@link Op#flags}, off for odd. */
        SUBREAPER,
        /**
         * {@code clone()} with {@code CLONE_NEW*} flags of namespaces the build has (the mount and cgroup
         * namespaces always, the others as the build's .config has them): with bit 7 of {@link Op#flags}
         * the low bits pick a set of them, else its remainder picks one.
         */
        NAMESPACE,
        /** A signal ({@link Op#flags}, 1..31, SIGKILL included) to init or a pid namespace's init (SIGNAL_UNKILLABLE). */
        KILL_UNKILLABLE
    }

    /**
     * One operation.
     *
     * @param kind what it does
     * @param cpu the CPU it runs on (taken modulo the kernel's CPUs)
     * @param pick which of the suitable tasks acts (taken modulo their number)
     * @param flags the kind's own argument (clone flags bits, a signal, a softirq)
     */
    public record Op(Kind kind, int cpu, int pick, int flags) {
        public Op {
            Objects.requireNonNull(kind, "kind");
            if (cpu < 0 || pick < 0 || flags < 0) {
                throw new IllegalArgumentException("cpu, pick and flags are not negative: " + cpu + ", " + pick + ", " + flags);
            }
        }
    }

    /**
     * What the kernel answered to one operation.
     *
     * @param op the operation
     * @param actor the pid that acted, 0 if none could (the operation was skipped)
     * @param result a pid the call returned (in the caller's pid namespace), or 0
     * @param errno the error the call returned, or null
     */
    public record Outcome(Op op, int actor, int result, io.github.kproc.@org.jspecify.annotations.Nullable Errno errno) {
    }

    /** The clone flags {@link Kind#CLONE} draws from, bit i of {@link Op#flags} for element i. */
    private static final CloneFlag[] CLONE_BITS = {CloneFlag.VM, CloneFlag.FS, CloneFlag.FILES, CloneFlag.SIGHAND,
        CloneFlag.THREAD, CloneFlag.PARENT, CloneFlag.SYSVSEM, CloneFlag.VFORK, CloneFlag.NEWNS, CloneFlag.NEWPID,
        CloneFlag.NEWUSER, CloneFlag.CHILD_CLEARTID, CloneFlag.CHILD_SETTID, CloneFlag.PARENT_SETTID};

    public Workload {
        ops = List.copyOf(ops);
    }

    /** A workload of {@code length} operations drawn from {@code seed}. */
    public static Workload generate(long seed, int length) {
        return generate(new SplittableRandom(seed), length);
    }

    /** A workload of {@code length} operations drawn from {@code random}. */
    public static Workload generate(SplittableRandom random, int length) {
        if (length < 0) {
            throw new IllegalArgumentException("length " + length);
        }
        Kind[] kinds = Kind.values();
        List<Op> ops = new ArrayList<>(length);
        for (int i = 0; i < length; i++) {
            Kind kind = kinds[random.nextInt(kinds.length)];
            int flags = switch (kind) {
                case CLONE -> random.nextInt(1 << CLONE_BITS.length);
                case KILL, KILL_UNKILLABLE -> 1 + random.nextInt(31);
                case SETUID -> random.nextInt(4);
                case SUBREAPER, NAMESPACE -> random.nextInt(1 << 8);
                case IRQ -> random.nextInt(SoftirqVector.values().length);
                default -> 0;
            };
            ops.add(new Op(kind, random.nextInt(64), random.nextInt(1 << 16), flags));
        }
        return new Workload(ops);
    }

    /** Applies every operation in order and returns what the kernel answered to each. */
    public List<Outcome> apply(Kernel kernel) {
        List<Outcome> out = new ArrayList<>(ops.size());
        for (Op op : ops) {
            out.add(apply(kernel, op));
        }
        return out;
    }

    /** Applies one operation. */
    public static Outcome apply(Kernel kernel, Op op) {
        kernel.stepAll();
        int cpuNr = op.cpu() % kernel.cpus();
        Cpu cpu = kernel.cpu(cpuNr);
        try {
            return switch (op.kind()) {
                case TICK -> {
                    kernel.tickAll();
                    yield new Outcome(op, 0, 0, null);
                }
                case IRQ -> {
                    cpu.irqEnter();
                    cpu.raiseSoftirq(SoftirqVector.values()[op.flags() % SoftirqVector.values().length]);
                    cpu.irqExit();
                    yield new Outcome(op, 0, 0, null);
                }
                case NMI -> {
                    cpu.nmiEnter();
                    cpu.nmiExit();
                    yield new Outcome(op, 0, 0, null);
                }
                case RUN -> {
                    TaskStruct t = pick(kernel, op, w -> w.state() == TaskState.RUNNING && w.onRq() == 1 && !running(kernel, w));
                    if (t == null) {
                        yield new Outcome(op, 0, 0, null);
                    }
                    cpu.run(Pid.of(t.pid()));
                    yield new Outcome(op, t.pid(), 0, null);
                }
                case WAKE -> {
                    TaskStruct t = pick(kernel, op, w -> w.state() == TaskState.INTERRUPTIBLE);
                    if (t == null) {
                        yield new Outcome(op, 0, 0, null);
                    }
                    cpu.wakeUp(Pid.of(t.pid()));
                    yield new Outcome(op, t.pid(), 0, null);
                }
                case KILL -> {
                    int sig = Math.max(1, Math.min(31, op.flags()));
                    TaskStruct t = pick(kernel, op, w -> w.pid() > 2 && !w.isZombie());
                    if (t == null) {
                        yield new Outcome(op, 0, 0, null);
                    }
                    kernel.kill(Pid.of(t.pid()), sig);
                    yield new Outcome(op, t.pid(), 0, null);
                }
                case KILL_UNKILLABLE -> {
                    TaskStruct t = pick(kernel, op, w -> !w.isZombie() && !w.isKernelThread()
                            && kernel.pidNr(w.address(), kernel.taskActivePidNs(w.address())) == 1);
                    if (t == null) {
                        yield new Outcome(op, 0, 0, null);
                    }
                    kernel.kill(Pid.of(t.pid()), Math.max(1, Math.min(31, op.flags())));
                    yield new Outcome(op, t.pid(), 0, null);
                }
                case MIGRATE -> {
                    TaskStruct t = pick(kernel, op, w -> !running(kernel, w) && !w.isZombie() && w.pid() > 2
                            && (w.state() == TaskState.RUNNING || w.state() == TaskState.INTERRUPTIBLE));
                    if (t == null) {
                        yield new Outcome(op, 0, 0, null);
                    }
                    kernel.migrate(Pid.of(t.pid()), cpuNr);
                    yield new Outcome(op, t.pid(), 0, null);
                }
                default -> actAs(kernel, cpu, op);
            };
        } catch (KernelException e) {
            return new Outcome(op, 0, 0, e.errno());
        }
    }

    /** Makes a task able to do {@code op} current on its CPU, then does it as that task. */
    private static Outcome actAs(Kernel kernel, Cpu cpu, Op op) {
        java.util.function.Predicate<TaskStruct> suits = switch (op.kind()) {
            case KERNEL_THREAD -> t -> t.pid() == 2;
            // a thread of a multithreaded process too (de_thread); not one of init's
            case EXEC -> t -> t.pid() > 2 && !t.isKernelThread() && t.tgid() != 1;
            case EXIT -> t -> t.pid() > 2 && t.tgid() != 1 && t.tgid() != 2;
            case WAIT -> t -> hasChildren(kernel, t);
            case SLEEP -> t -> t.pid() > 2;
            case SETUID, SUBREAPER -> t -> t.pid() > 2 && !t.isKernelThread();
            // its child then runs by its global pid: a caller in init's pid namespace sees the same number
            case VFORK_EXEC -> t -> !t.isKernelThread() && kernel.taskActivePidNs(t.address()) == kernel.initPidNamespace();
            default -> t -> !t.isKernelThread() || t.pid() == 1;
        };
        // a killed current task dies on its way back to user mode before it could act
        cpu.step();
        TaskStruct actor = cpu.current();
        if (actor.isIdle() || !suits.test(actor)) {
            actor = pick(kernel, op, t -> t.state() == TaskState.RUNNING && !t.isZombie() && suits.test(t)
                    && (!running(kernel, t) || t.cpu() == cpu.number()));
            if (actor == null) {
                return new Outcome(op, 0, 0, null);
            }
            if (!running(kernel, actor)) {
                cpu.run(Pid.of(actor.pid()));
                cpu.step();
                if (cpu.current().pid() != actor.pid() || cpu.current().isIdle()) {
                    return new Outcome(op, 0, 0, null); // it was killed, or went on with its exit, when it ran
                }
            }
        }
        int pid = actor.pid();
        Cpu as = cpu.as(Pid.of(pid));
        int result = switch (op.kind()) {
            case FORK -> as.fork().nr();
            case THREAD -> as.clone(CloneArgs.thread()).nr();
            case CLONE -> as.clone(new CloneArgs(cloneFlags(op.flags()), CloneFlag.SIGCHLD, 0, 0, 0, 0, 0)).nr();
            case NEWPID -> as.clone(CloneArgs.of(CloneFlag.NEWPID)).nr();
            case KERNEL_THREAD -> as.kernelThread("kthread", op.pick(), Set.of()).nr();
            case VFORK_EXEC -> vforkExec(kernel, as);
            case EXEC -> {
                as.exec("exe" + (op.pick() % 100));
                yield 0;
            }
            case EXIT -> {
                as.exit(op.pick() & 0xff);
                yield 0;
            }
            case WAIT -> as.wait4Any().map(Pid::nr).orElse(0);
            case SETUID -> {
                int uid = op.flags() == 0 ? 0 : 1000 + op.flags();
                as.setresuid(uid, uid, uid);
                yield 0;
            }
            case SUBREAPER -> {
                as.setChildSubreaper(op.flags() % 2 == 0);
                yield 0;
            }
            case NAMESPACE -> {
                // the flags' bits pick a set of the namespaces the build has (several at once, e.g. a new
                // user namespace owning a new UTS one); none picked is one flag by the remainder
                List<CloneFlag> built = namespacesBuilt(kernel);
                Set<CloneFlag> picked = EnumSet.noneOf(CloneFlag.class);
                for (int i = 0; i < built.size(); i++) {
                    if ((op.flags() & (1 << i)) != 0 && (op.flags() & 0x80) != 0) {
                        picked.add(built.get(i));
                    }
                }
                if (picked.isEmpty()) {
                    picked.add(built.get(op.flags() % built.size()));
                }
                yield as.clone(CloneArgs.of(picked.toArray(CloneFlag[]::new))).nr();
            }
            case SLEEP -> {
                as.sleep();
                yield 0;
            }
            default -> throw new IllegalStateException(op.kind() + " is not a task's call");
        };
        return new Outcome(op, pid, result, null);
    }

    /** vfork, then the child runs where it was placed and execs, which completes the parent's wait. */
    private static int vforkExec(Kernel kernel, Cpu parent) {
        Pid parentPid = Pid.of(parent.current().pid());
        Pid child = parent.vfork();
        TaskStruct c = kernel.task(child).orElseThrow();
        Cpu where = kernel.cpu(c.cpu());
        where.run(child);
        where.as(child).exec("sh");
        // the parent, woken by the exec's mm_release, runs on and drops _do_fork's reference on the child
        // (else a thread of its group could reap the child while the reference is still held)
        TaskStruct p = kernel.task(parentPid).orElseThrow();
        if (p.state() == TaskState.RUNNING && !running(kernel, p)) {
            kernel.cpu(p.cpu()).run(parentPid);
        }
        return child.nr();
    }

    /** The CLONE_NEW* flags of the namespaces the kernel's build has (its .config). */
    private static List<CloneFlag> namespacesBuilt(Kernel kernel) {
        var config = kernel.platform().profile().config();
        List<CloneFlag> built = new ArrayList<>(List.of(CloneFlag.NEWNS, CloneFlag.NEWCGROUP));
        String[] options = {"CONFIG_UTS_NS", "CONFIG_IPC_NS", "CONFIG_PID_NS", "CONFIG_NET_NS", "CONFIG_USER_NS"};
        CloneFlag[] flags = {CloneFlag.NEWUTS, CloneFlag.NEWIPC, CloneFlag.NEWPID, CloneFlag.NEWNET, CloneFlag.NEWUSER};
        for (int i = 0; i < options.length; i++) {
            if (config.enabled(options[i])) {
                built.add(flags[i]);
            }
        }
        return built;
    }

    private static Set<CloneFlag> cloneFlags(int bits) {
        Set<CloneFlag> flags = EnumSet.noneOf(CloneFlag.class);
        for (int b = 0; b < CLONE_BITS.length; b++) {
            if ((bits & (1 << b)) != 0) {
                flags.add(CLONE_BITS[b]);
            }
        }
        // a vfork parent would wait for a child nothing here runs: vfork is VFORK_EXEC's
        flags.remove(CloneFlag.VFORK);
        return flags;
    }

    private static boolean running(Kernel kernel, TaskStruct t) {
        for (int c = 0; c < kernel.cpus(); c++) {
            if (kernel.cpu(c).current().address() == t.address()) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasChildren(Kernel kernel, TaskStruct t) {
        for (TaskStruct other : kernel.tasks()) {
            if (other.realParent() == t.address() && other.address() != t.address() && other.pid() != 0) {
                return true;
            }
        }
        return false;
    }

    private static @org.jspecify.annotations.Nullable TaskStruct pick(Kernel kernel, Op op,
            java.util.function.Predicate<TaskStruct> suits) {
        List<TaskStruct> candidates = new ArrayList<>();
        for (TaskStruct t : kernel.tasks()) {
            if (!t.isIdle() && t.pid() != 0 && suits.test(t)) {
                candidates.add(t);
            }
        }
        return candidates.isEmpty() ? null : candidates.get(op.pick() % candidates.size());
    }

    /** True if a task boot did not make is left (anything but the idle tasks, init and kthreadd). */
    public static boolean anyLeft(Kernel kernel) {
        return kernel.tasks().stream().anyMatch(t -> !t.isIdle() && t.pid() > 2);
    }

    /**
     * Ends every task a workload left behind, so that a {@link KernelSnapshot} taken at boot can tell
     * what leaked: round after round on every CPU it applies WAKE (the sleepers), EXIT (whatever may
     * exit) and WAIT (reaping zombies), and ends init's own threads (which a workload never exits);
     * finally it runs init on every CPU, so that no idle task still borrows a dead process's mm as its
     * lazy-TLB {@code active_mm}.
     *
     * @throws AssertionError naming the tasks left if {@code rounds} rounds do not end them all
     */
    public static void reapAll(Kernel kernel, int rounds) {
        for (int round = 0; round < rounds && anyLeft(kernel); round++) {
            for (int cpu = 0; cpu < kernel.cpus(); cpu++) {
                for (Kind kind : new Kind[] {Kind.WAKE, Kind.EXIT, Kind.WAIT}) {
                    apply(kernel, new Op(kind, cpu, round, 0));
                }
            }
            endInitThreads(kernel);
        }
        if (anyLeft(kernel)) {
            throw new AssertionError("left after " + rounds + " rounds: "
                    + kernel.tasks().stream().filter(t -> !t.isIdle() && t.pid() > 2).toList());
        }
        passGracePeriods(kernel, GRACE_PERIOD_ROUNDS);
        for (int cpu = kernel.cpus() - 1; cpu >= 0; cpu--) {
            for (int other = 0; other < kernel.cpus(); other++) {
                if (kernel.cpu(other).currentPid().equals(java.util.Optional.of(Pid.INIT))) {
                    kernel.cpu(other).runIdle();
                }
            }
            kernel.cpu(cpu).run(Pid.INIT);
        }
    }

    /** Rounds {@link #reapAll} gives {@link #passGracePeriods}. */
    private static final int GRACE_PERIOD_ROUNDS = 16;

    /**
     * The RCU callbacks queued on all CPUs: the sum of each CPU's {@code rcu_data.cblist.len}, read
     * from memory at the per-CPU data of the flavour {@code call_rcu} uses ({@code rcu_preempt_data}
     * with CONFIG_PREEMPT_RCU, else {@code rcu_sched_data}); 0 for a kernel without one. Each reaped
     * task waits there ({@code release_task}'s {@code call_rcu}) until a grace period has passed.
     */
    public static long pendingRcuCallbacks(Kernel kernel) {
        Objects.requireNonNull(kernel, "kernel");
        String name = kernel.platform().profile().config().enabled("CONFIG_PREEMPT_RCU") ? "rcu_preempt_data"
                : "rcu_sched_data";
        Long data = kernel.symbols().get(name);
        if (data == null) {
            return 0;
        }
        var m = kernel.addressSpace();
        int ptr = kernel.platform().pointerSize();
        long len = kernel.platform().profile().offsetOf("rcu_data", "cblist.len");
        long total = 0;
        for (int cpu = 0; cpu < kernel.cpus(); cpu++) {
            long at = data + m.readPointer(kernel.symbol("__per_cpu_offset") + (long) cpu * ptr) + len;
            total += m.readPointer(ptr == 4 ? at & 0xffff_ffffL : at);
        }
        return total;
    }

    /**
     * Lets RCU grace periods pass through the public API until no callback is queued (what
     * {@code rcu_barrier()} waits for), so that reaped tasks are freed: each round ticks every CPU (a
     * tick from user mode or the idle loop is a quiescent state, and the RCU_SOFTIRQ it raises starts
     * and ends grace periods and runs the callbacks); from the fourth round on each CPU also calls
     * {@code schedule()}, a context switch being the quiescent state of a CPU that runs a kernel thread.
     * The ticks and schedules may preempt and balance tasks, as the kernel's would.
     *
     * @return the rounds it took (0 if nothing was queued)
     * @throws AssertionError if {@code rounds} rounds leave callbacks queued
     */
    public static int passGracePeriods(Kernel kernel, int rounds) {
        int round = 0;
        while (pendingRcuCallbacks(kernel) > 0) {
            if (round == rounds) {
                throw new AssertionError(pendingRcuCallbacks(kernel) + " RCU callbacks still queued after " + rounds
                        + " rounds of ticks");
            }
            for (int cpu = 0; cpu < kernel.cpus(); cpu++) {
                kernel.cpu(cpu).tick();
                if (round >= 3) {
                    kernel.cpu(cpu).schedule();
                }
            }
            round++;
        }
        return round;
    }

    /** Each runnable thread of init's thread group runs and exits (a thread reaps itself). */
    private static void endInitThreads(Kernel kernel) {
        for (TaskStruct t : kernel.tasks()) {
            if (t.tgid() == 1 && t.pid() > 2 && t.state() == TaskState.RUNNING && !t.isZombie()) {
                Cpu cpu = kernel.cpu(t.cpu());
                Pid thread = Pid.of(t.pid());
                if (!cpu.currentPid().equals(java.util.Optional.of(thread))) {
                    cpu.run(thread);
                }
                cpu.step();
                if (cpu.currentPid().equals(java.util.Optional.of(thread))) {
                    cpu.as(thread).exit(0);
                }
            }
        }
    }
}
