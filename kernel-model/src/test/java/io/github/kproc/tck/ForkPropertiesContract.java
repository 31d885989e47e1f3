package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.ForkStep;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.mem.MemoryUsage;
import io.github.kproc.testkit.Workload;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * Random bounded sequences of fork, clone (CLONE_NEWPID too), kernel_thread, vfork, exec, exit, wait and scheduling,
 * some with an injected fault, on a 4-CPU machine. After every operation the {@link Invariants}
 * hold, and a failed operation changed nothing; at the end everything but init and kthreadd exits
 * and is reaped, and the memory accounting is the boot's again.
 *
 * <p>QuickTheories with a fixed seed ({@code -Dkproc.seed=N} to change it); a failure reports the
 * seed and the smallest failing sequence it found.
 */
public abstract class ForkPropertiesContract extends KernelContract {
    private static final int CPUS = 4;
    private static final long SEED = Long.getLong("kproc.seed", 0x6b70726f63L);
    private static final int EXAMPLES = Integer.getInteger("kproc.examples", 120);

    /** One step of a sequence: what, on which CPU, a choice among candidates, flag bits, a fault. */
    record Op(Kind kind, int cpu, int pick, int flags, int fault) {
        @Override
        public String toString() {
            return kind + "(cpu " + cpu + ", pick " + pick + ", flags 0x" + Integer.toHexString(flags)
                    + (fault == 0 ? "" : ", fault " + fault) + ")";
        }
    }

    enum Kind {
        RUN, IDLE, FORK, THREAD, CLONE, KTHREAD, VFORK_EXEC, VFORK, EXEC, EXIT, WAIT, NEWPID,
        /** A scheduling-clock tick: quiescent states, grace periods and RCU callbacks (rcu_check_callbacks). */
        TICK
    }

    /** Clone flags a random CLONE draws from, invalid combinations included on purpose. */
    private static final CloneFlag[] CLONE_BITS = {CloneFlag.VM, CloneFlag.FS, CloneFlag.FILES, CloneFlag.SIGHAND,
        CloneFlag.THREAD, CloneFlag.PARENT, CloneFlag.SETTLS, CloneFlag.PARENT_SETTID, CloneFlag.CHILD_SETTID,
        CloneFlag.CHILD_CLEARTID, CloneFlag.SYSVSEM, CloneFlag.NEWNS};

    private static Gen<Op> ops() {
        Gen<Kind> kind = integers().between(0, 109).map(i -> {
            int[] weights = {14, 6, 11, 10, 11, 8, 6, 4, 4, 14, 9, 3, 10};
            int acc = 0;
            for (int w = 0; w < weights.length; w++) {
                acc += weights[w];
                if (i < acc) {
                    return Kind.values()[w];
                }
            }
            return Kind.WAIT;
        });
        // a quarter of the operations run with a fault armed: 1..14 a ForkStep, 15..30 the n-th allocation
        Gen<Integer> fault = integers().between(0, 119).map(i -> i < 90 ? 0 : i - 89);
        return kind.zip(integers().between(0, CPUS - 1), integers().between(0, 63), integers().between(0, 0xfff),
                fault, Op::new);
    }

    @Test
    @DisplayName("fork/clone/kernel_thread/vfork/exec/exit/wait sequences keep every invariant and leak nothing")
    void randomSequencesKeepTheInvariants() {
        qt().withFixedSeed(SEED).withExamples(EXAMPLES).withShrinkCycles(200)
                .forAll(lists().of(ops()).ofSizeBetween(1, 60))
                .checkAssert(this::replay);
    }


    /** The machine a sequence runs on. */
    private final class Run {
        final Kernel k;
        final Invariants invariants;
        /** Children of vfork: the parent keeps a reference until it runs again. */
        final Map<Long, Long> vforked = new HashMap<>();

        Run() {
            k = Kernel.builder(platform()).cpus(CPUS).memory(64L << 20).boot();
            invariants = new Invariants(k);
        }

        List<Long> held() {
            List<Long> held = new ArrayList<>();
            vforked.entrySet().removeIf(e -> !new Debugger(k).inVforkWait(e.getKey()));
            held.addAll(vforked.values());
            return held;
        }

        long current(int cpu) {
            return k.cpu(cpu).current().address();
        }

        boolean idle(long t) {
            return (k.task(t).flags() & 0x2) != 0;
        }

        boolean kthread(long t) {
            return (k.task(t).flags() & 0x00200000) != 0;
        }

        int cpuOf(long t) {
            for (int c = 0; c < CPUS; c++) {
                if (k.cpu(c).current().address() == t) {
                    return c;
                }
            }
            return -1;
        }
    }

    private void replay(List<Op> ops) {
        Run run = new Run();
        try (Kernel k = run.k) {
            MemoryUsage baseline = usage(k);
            run.invariants.check(List.of());
            int step = 0;
            for (Op op : ops) {
                step++;
                try {
                    apply(run, op);
                    run.invariants.check(run.held());
                } catch (AssertionError | RuntimeException e) {
                    throw new AssertionError("step " + step + " " + op + ": " + e.getMessage(), e);
                } finally {
                    k.faults().clear();
                }
            }
            teardown(run);
            run.invariants.check(run.held());
            assertTasksAre(k, List.of(0, 1, 2));
            assertSameUsage(baseline, KernelState.withoutUndoLists(k, usage(k)));
        }
    }

    private static void assertTasksAre(Kernel k, List<Integer> pids) {
        List<Integer> now = new ArrayList<>();
        StringBuilder left = new StringBuilder();
        for (long t : taskAddresses(k)) {
            now.add(k.task(t).pid());
            left.append(String.format("%n  %s state 0x%x exit_state 0x%x exit_signal %d real_parent %d", k.task(t),
                    k.task(t).rawState(), k.task(t).exitState(), k.task(t).exitSignal(),
                    k.task(k.task(t).realParent()).pid()));
        }
        if (!now.equals(pids) || k.nrThreads() != pids.size() - 1) {
            throw new AssertionError("left after teardown, nr_threads " + k.nrThreads() + ":" + left);
        }
    }

    private void arm(Kernel k, int fault) {
        if (fault == 0) {
            return;
        }
        if (fault <= ForkStep.values().length) {
            ForkStep step = ForkStep.values()[fault - 1];
            k.faults().failStep(step, FaultInjectionContract.errnoOf(step), 1);
        } else {
            k.faults().failNthAllocation(fault - ForkStep.values().length);
        }
    }

    /** Runs a fork-like call; on failure asserts the state is unchanged. Returns the pid or -1. */
    private int forkLike(Run run, int cpu, java.util.function.Supplier<Pid> call) {
        Kernel k = run.k;
        long caller = run.current(cpu);
        KernelState before = KernelState.of(k, caller);
        try {
            return call.get().nr();
        } catch (KernelException e) {
            before.assertUnchanged(k, KernelState.of(k, caller));
            return -1;
        }
    }

    /**
     * Makes a task that suits the operation current, preferring the one already running on the op's CPU:
     * otherwise one of the suitable runnable tasks, by {@code pick}, run on the op's CPU (or where it
     * already runs). Returns the CPU, or -1 if no task suits.
     */
    private static int actor(Run run, Op op, java.util.function.LongPredicate suits) {
        Kernel k = run.k;
        long current = k.cpu(op.cpu()).current().address();
        if (!run.idle(current) && suits.test(current) && (op.pick() & 8) == 0) {
            return op.cpu();
        }
        List<Long> candidates = new ArrayList<>();
        for (long t : taskAddresses(k)) {
            if (!run.idle(t) && k.task(t).exitState() == 0 && k.task(t).rawState() == 0 && suits.test(t)) {
                candidates.add(t);
            }
        }
        if (candidates.isEmpty()) {
            return -1;
        }
        long t = candidates.get(op.pick() % candidates.size());
        int where = run.cpuOf(t);
        if (where >= 0) {
            return where;
        }
        k.cpu(op.cpu()).run(Pid.of(k.task(t).pid()));
        return op.cpu();
    }

    private void apply(Run run, Op op) {
        Kernel k = run.k;
        // every entry point lets its CPU take pending IPIs first; take them all now, so the task the
        // test chooses is still current when the operation runs
        k.stepAll();
        int cpu;
        switch (op.kind()) {
            case RUN -> {
                List<Long> candidates = new ArrayList<>();
                for (long t : taskAddresses(k)) {
                    if (!run.idle(t) && k.task(t).rawState() == 0 && k.task(t).onRq() == 1 && run.cpuOf(t) < 0) {
                        candidates.add(t);
                    }
                }
                if (!candidates.isEmpty()) {
                    k.cpu(op.cpu()).run(Pid.of(k.task(candidates.get(op.pick() % candidates.size())).pid()));
                }
                return;
            }
            case IDLE -> {
                k.cpu(op.cpu()).runIdle();
                return;
            }
            case TICK -> {
                k.cpu(op.cpu()).tick();
                return;
            }
            case KTHREAD -> cpu = actor(run, op, run::kthread);
            case EXEC -> cpu = actor(run, op, t -> k.task(t).pid() > 2 && k.task(t).groupLeader() == t
                    && singleThreaded(k, t));
            case EXIT -> cpu = actor(run, op, t -> k.task(t).pid() > 2 && k.task(t).tgid() != 2
                    && !(k.task(t).tgid() == 1 && k.task(t).groupLeader() == t));
            case WAIT -> cpu = actor(run, op, t -> hasChildren(k, t, (op.flags() & 1) != 0));
            default -> cpu = actor(run, op, t -> true);
        }
        if (cpu < 0) {
            return;
        }
        long chosen = run.current(cpu);
        k.cpu(cpu).step();
        if (run.current(cpu) != chosen) {
            return;
        }
        long current = run.current(cpu);
        arm(k, op.fault());
        switch (op.kind()) {
            case FORK -> forkLike(run, cpu, () -> k.cpu(cpu).fork());
            case THREAD -> forkLike(run, cpu, () -> k.cpu(cpu).clone(new CloneArgs(EnumSet.of(CloneFlag.VM,
                    CloneFlag.FS,
                    CloneFlag.FILES, CloneFlag.SIGHAND, CloneFlag.THREAD), 0, 0, 0, 0, 0, 0)));
            case NEWPID -> {
                Set<CloneFlag> flags = EnumSet.of(CloneFlag.NEWPID);
                if ((op.flags() & 1) != 0) {
                    flags.add(CloneFlag.FILES);
                }
                if ((op.flags() & 2) != 0) {
                    flags.add(CloneFlag.FS);
                }
                forkLike(run, cpu, () -> k.cpu(cpu).clone(new CloneArgs(flags, SIGCHLD, 0, 0, 0, 0, 0)));
            }
            case CLONE -> {
                Set<CloneFlag> flags = EnumSet.noneOf(CloneFlag.class);
                for (int b = 0; b < CLONE_BITS.length; b++) {
                    if ((op.flags() & (1 << b)) != 0) {
                        flags.add(CLONE_BITS[b]);
                    }
                }
                int exitSignal = (op.pick() & 1) == 0 ? SIGCHLD : 0;
                forkLike(run, cpu, () -> k.cpu(cpu).clone(new CloneArgs(flags, exitSignal, 0, 0,
                        0x7e000000L + 4L * op.pick(),
                        0x7e001000L + 4L * op.pick(), 0x4000L * op.pick())));
            }
            case KTHREAD -> {
                Set<CloneFlag> flags = EnumSet.noneOf(CloneFlag.class);
                if ((op.flags() & 1) != 0) {
                    flags.add(CloneFlag.FS);
                }
                if ((op.flags() & 2) != 0) {
                    flags.add(CloneFlag.FILES);
                }
                if ((op.flags() & 4) != 0) {
                    flags.add(CloneFlag.SIGHAND);
                }
                forkLike(run, cpu, () -> k.cpu(cpu).kernelThread("kthread", op.pick(), flags));
            }
            case VFORK, VFORK_EXEC -> {
                int pid = forkLike(run, cpu, () -> k.cpu(cpu).vfork());
                if (pid > 0) {
                    // vfork returns the number in the caller's pid namespace
                    long child = PidsContract.findByNs(k, k.taskActivePidNs(current), pid);
                    run.vforked.put(current, child);
                    if (op.kind() == Kind.VFORK_EXEC) {
                        k.faults().clear();
                        int where = run.cpuOf(child);
                        if (where < 0) {
                            where = k.task(child).cpu();
                            k.cpu(where).run(Pid.of(k.task(child).pid()));
                        }
                        k.cpu(where).exec("sh");
                    }
                }
            }
            case EXEC -> {
                MemoryUsage before = usage(k);
                try {
                    k.cpu(cpu).exec("exe" + op.pick());
                } catch (KernelException e) {
                    if (e.errno() != Errno.ENOMEM) {
                        throw e;
                    }
                    assertSameUsage(before, usage(k));
                }
            }
            case EXIT -> k.cpu(cpu).exit(op.pick());
            case WAIT -> {
                int target = (op.pick() & 3) == 0 ? -1 : childPid(k, current, op.pick());
                try {
                    long ns = k.taskActivePidNs(current);
                    int reaped = reap(k, cpu, target);
                    for (long t : taskAddresses(k)) {
                        if (reaped > 0 && k.pidNr(t, ns) == reaped && k.task(t).groupLeader() == t
                                && k.task(k.task(t).realParent()).groupLeader() == k.task(current).groupLeader()) {
                            throw new AssertionError("wait returned " + reaped + ", a child still listed");
                        }
                    }
                } catch (KernelException e) {
                    if (e.errno() != Errno.ECHILD) {
                        throw e;
                    }
                }
            }
            default -> throw new IllegalStateException();
        }
    }

    private static boolean singleThreaded(Kernel k, long task) {
        Structs s = new Structs(k);
        long head = task + s.offset("task_struct", "thread_group");
        return s.memory().readPointer(head + s.offset("list_head", "next")) == head;
    }

    /** True if the task's thread group has children (zombie ones only, if asked). */
    private static boolean hasChildren(Kernel k, long task, boolean zombies) {
        long leader = k.task(task).groupLeader();
        for (long t : taskAddresses(k)) {
            long parent = k.task(t).realParent();
            if (k.task(t).groupLeader() == t && parent != 0 && k.task(parent).groupLeader() == leader
                    && (!zombies || k.task(t).exitState() == EXIT_ZOMBIE)) {
                return true;
            }
        }
        return false;
    }

    /** A pid among the children of the caller's thread group, or -1. */
    private static int childPid(Kernel k, long current, int pick) {
        List<Integer> children = new ArrayList<>();
        long leader = k.task(current).groupLeader();
        for (long t : taskAddresses(k)) {
            long parent = k.task(t).realParent();
            if (parent != 0 && k.task(parent).groupLeader() == leader && k.task(t).groupLeader() == t) {
                children.add(k.pidNr(t, k.taskActivePidNs(current)));
            }
        }
        return children.isEmpty() ? -1 : children.get(pick % children.size());
    }

    /**
     * Exits everything but init and kthreadd: runnable tasks run and exit (which releases vfork
     * parents), then each zombie is reaped by its parent, made current for the wait4; then every
     * CPU's idle task lazily holds init's mm again, as after boot.
     */
    private void teardown(Run run) {
        Kernel k = run.k;
        for (int round = 0; round < 10_000; round++) {
            k.stepAll();
            long exiting = 0;
            long zombie = 0;
            for (long t : taskAddresses(k)) {
                if (k.task(t).pid() <= 2 || run.idle(t)) {
                    continue;
                }
                if (k.task(t).exitState() == 0 && k.task(t).rawState() == 0) {
                    exiting = t;
                    break;
                }
                if (k.task(t).exitState() == EXIT_ZOMBIE && zombie == 0) {
                    zombie = t;
                }
            }
            run.invariants.check(run.held());
            if (exiting != 0) {
                int cpu = run.cpuOf(exiting);
                if (cpu < 0) {
                    cpu = k.task(exiting).cpu();
                    try {
                        k.cpu(cpu).run(Pid.of(k.task(exiting).pid()));
                    } catch (KernelException e) {
                        // run() steps the CPU first: a killed task current there dies (get_signal), which
                        // may release this one (a thread of its group) or take it off the runqueue
                        // (killed, asleep in its group's exit); the next round looks again, and the
                        // invariants checked each round would name a task lost on the way
                        continue;
                    }
                }
                // back to user mode first: a killed task dies there, a namespace's init goes on with its
                // exit; then exit() only if the task is still the one running
                k.cpu(cpu).step();
                if (run.current(cpu) == exiting) {
                    k.cpu(cpu).exit(0);
                }
            } else if (zombie != 0) {
                long parent = k.task(zombie).realParent();
                int cpu = run.cpuOf(parent);
                if (cpu < 0) {
                    cpu = run.idle(parent) ? k.task(parent).cpu() : 0;
                    if (run.idle(parent)) {
                        k.cpu(cpu).runIdle();
                    } else {
                        k.cpu(cpu).run(Pid.of(k.task(parent).pid()));
                    }
                }
                int pid = k.pidNr(zombie, k.taskActivePidNs(parent));
                k.cpu(cpu).step();
                if (run.current(cpu) != parent) {
                    continue;
                }
                if (!k.cpu(cpu).wait4(Pid.of(pid))) {
                    throw new AssertionError(k.task(zombie) + " is a zombie its parent cannot reap");
                }
            } else {
                break;
            }
        }
        // every RCU callback runs once every CPU passes quiescent states (rcu_do_batch): the reaped
        // tasks' delayed_put_task_struct frees them
        Workload.passGracePeriods(k, 32);
        assertEquals(0, Workload.pendingRcuCallbacks(k), "callbacks left after the grace periods");
        run.invariants.check(run.held());
        // a vfork parent drops its reference on the child when it runs again (init and kthreadd too)
        for (long t : taskAddresses(k)) {
            if (new Debugger(k).inVforkWait(t) && run.cpuOf(t) < 0) {
                k.cpu(k.task(t).cpu()).run(Pid.of(k.task(t).pid()));
            }
        }
        for (int cpu = 0; cpu < CPUS; cpu++) {
            k.cpu(cpu).runIdle();
        }
        for (int cpu = 0; cpu < CPUS; cpu++) {
            k.cpu(cpu).run(Pid.INIT);
            k.cpu(cpu).runIdle();
        }
    }
}
