package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.github.kproc.KernelException;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.SoftirqVector;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskStruct;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.impl.Constraint;

/**
 * Random workloads on 2 to 4 CPUs (forks, exits, waits, runs, schedule, ticks, sleeps and wakeups,
 * interrupts with softirqs, bh-disabled and preempt-disabled sections, also left open across steps, NMIs,
 * migrations, policy changes), and after every operation the scheduler's invariants:
 *
 * <ul>
 *   <li>a task is on at most one runqueue, and never both queued and running ({@code on_rq},
 *       {@code activate_task}/{@code deactivate_task});
 *   <li>each CPU runs what its registers say ({@code current}), on its own stack, with {@code on_cpu} set
 *       and {@code task_cpu() == smp_processor_id()}; what the last {@code sched_switch} on that CPU named
 *       as next is what every later line on it is written by;
 *   <li>every trace line's {@code comm-pid [cpu]} is that CPU's current task at the moment it is written;
 *   <li>{@code rq->nr_running} counts the queued tasks and the running one (not idle);
 *   <li>preempt_count is back at its base after the balanced sections: 0 for a running task, the idle
 *       task's PREEMPT_DISABLE_OFFSET, and FORK_PREEMPT_COUNT for every task switched out in
 *       {@code __schedule}; inside sections left open it is that plus their offsets, and the task is
 *       never switched out of them (interrupts return into the section);
 *   <li>no task is lost: each one created is running, queued, sleeping, a zombie, or was reaped;
 *   <li>every stack's end magic is intact and no BUG was printed.
 * </ul>
 *
 * <p>Seeded; {@code -DQT_SEED=n} explores elsewhere and {@code -DQT_EXAMPLES=n} runs more workloads. A
 * failure names the seed, the CPU count and the operations, shrunk.
 */
public abstract class SchedPropertiesContract extends KernelContract {

    private static final int SIGCHLD = 17;
    private static final long SIG_IGN = 1;

    /** What one step of a workload does. */
    enum Kind {
        FORK, EXIT, WAIT, RUN, RUN_IDLE, SCHEDULE, TICK, TICK_ALL, SLEEP, WAKE_UP, IRQ, BH, SOFTIRQ, NMI, PREEMPT,
        MIGRATE, STEP, SET_SCHEDULER,
        /** local_bh_disable() (or with CONFIG_PREEMPT_COUNT preempt_disable()) left open across steps. */
        OPEN_SECTION,
        /** Closes the innermost open section of the CPU. */
        CLOSE_SECTION;

        /** Steps that switch the CPU away from its task: never taken inside an open section. */
        boolean schedules() {
            return switch (this) {
                case FORK, EXIT, WAIT, RUN, RUN_IDLE, SCHEDULE, SLEEP -> true;
                default -> false;
            };
        }
    }

    /** A step: a kind, a CPU (taken modulo the CPU count) and two choices. */
    record Op(Kind kind, int cpu, int a, int b) {
        @Override
        public String toString() {
            return kind + "(" + cpu + "," + a + "," + b + ")";
        }
    }

    /** Kinds drawn more often than the rest, so that workloads have processes to schedule, kill and reap. */
    private static final List<Kind> DRAWS;

    static {
        List<Kind> draws = new ArrayList<>(List.of(Kind.values()));
        for (int i = 0; i < 4; i++) {
            draws.addAll(List.of(Kind.FORK, Kind.FORK, Kind.EXIT, Kind.WAIT, Kind.RUN));
        }
        DRAWS = List.copyOf(draws);
    }

    private static Gen<Op> ops() {
        return in -> new Op(DRAWS.get((int) in.next(Constraint.between(0, DRAWS.size() - 1))),
                (int) in.next(Constraint.between(0, 3)), (int) in.next(Constraint.between(0, 999)),
                (int) in.next(Constraint.between(0, 999)));
    }

    @Test
    @DisplayName("scheduler invariants hold after every step of random workloads on 2-4 CPUs")
    void schedulerInvariantsHoldOnRandomWorkloads() {
        qt().withFixedSeed(SEED).withExamples(Integer.getInteger("QT_EXAMPLES", 120))
                .forAll(integers().between(2, 4), lists().of(ops()).ofSizeBetween(1, 45))
                .checkAssert(this::run);
    }

    private void run(int cpus, List<Op> ops) {
        try (Kernel k = bootUnmanaged(cpus)) {
            Workload w = new Workload(k);
            for (int i = 0; i <= ops.size(); i++) {
                Op op = i < ops.size() ? ops.get(i) : null;
                try {
                    if (op == null) {
                        w.closeAll();
                    } else {
                        w.apply(op);
                    }
                    w.check();
                } catch (AssertionError e) {
                    throw new AssertionError("on " + cpus + " CPUs after step " + i + " " + (op == null ? "closing"
                            + " every section" : op) + " of " + ops + ": " + e.getMessage() + "\ntrace:\n" + w.log, e);
                }
            }
        }
    }

    /** A kernel under a workload, with what the checks need to remember. */
    private final class Workload {
        final Kernel k;
        final Tasks t;
        final TraceLog log;
        final int cpus;
        /** The pids of the tasks the workload created. */
        final Set<Integer> created = new TreeSet<>();
        /** Exited with a parent that waits for them: zombies until reaped. */
        final Set<Integer> exited = new HashSet<>();
        /** Exited with a parent that ignores SIGCHLD: released at once. */
        final Set<Integer> autoreaped = new HashSet<>();
        final Set<Integer> reaped = new HashSet<>();
        /** Per CPU, the comm-pid the last sched_switch there named as next. */
        final Map<Integer, String> switchedTo = new HashMap<>();
        final List<String> violations = new ArrayList<>();
        /** Per CPU, the preempt_count offsets of the sections left open, innermost last, and their task. */
        final List<List<Integer>> open = new ArrayList<>();
        final long[] owner;

        Workload(Kernel k) {
            this.k = k;
            this.t = tasks(k);
            this.cpus = k.cpus();
            this.log = TraceLog.attach(k);
            log.watch(this::onLine);
            this.owner = new long[cpus];
            for (int cpu = 0; cpu < cpus; cpu++) {
                open.add(new ArrayList<>());
            }
        }

        private void openSection(int cpu, boolean preempt) {
            if (open.get(cpu).size() >= 8) {
                return;
            }
            if (preempt && facts().preemptCount()) {
                k.cpu(cpu).preemptDisable();
                open.get(cpu).add(facts().preemptDisableOffset());
            } else {
                k.cpu(cpu).localBhDisable();
                open.get(cpu).add(0x200);
            }
            owner[cpu] = k.cpu(cpu).current().address();
        }

        private void closeSection(int cpu) {
            List<Integer> sections = open.get(cpu);
            if (sections.isEmpty()) {
                return;
            }
            int offset = sections.removeLast();
            if (offset == 0x200) {
                k.cpu(cpu).localBhEnable();
            } else {
                k.cpu(cpu).preemptEnable();
            }
        }

        void closeAll() {
            for (int cpu = 0; cpu < cpus; cpu++) {
                while (!open.get(cpu).isEmpty()) {
                    closeSection(cpu);
                }
            }
        }

        /** Checked while the line is written, with the kernel still inside the code that wrote it. */
        private void onLine(TraceLog.Entry e) {
            FtraceLine line = e.line();
            String writer = line.comm() + "-" + line.pid();
            String current = name(k, e.current());
            // __trace_find_cmdline: <idle> for pid 0, the saved comm, or <...> once its slot was recycled
            int currentPid = k.task(e.current()).pid();
            String prefixComm = currentPid == 0 ? "<idle>" : k.task(e.current()).comm();
            if (line.pid() != currentPid || !(line.comm().equals(prefixComm) || line.comm().equals("<...>"))) {
                violations.add("line written as " + writer + " while CPU " + line.cpu() + " runs " + current + ": "
                        + line);
            }
            String expected = switchedTo.get(line.cpu());
            if (expected != null && !expected.equals(String.valueOf(line.pid()))) {
                violations.add("the last sched_switch on CPU " + line.cpu() + " went to pid " + expected + ", but " + line);
            }
            if (line.event().equals("sched_switch")) {
                if (line.intField("prev_pid") != line.pid()) {
                    violations.add("sched_switch not written by prev: " + line);
                }
                switchedTo.put(line.cpu(), line.field("next_pid"));
            }
        }

        void apply(Op op) {
            int cpu = op.cpu() % cpus;
            if (!open.get(cpu).isEmpty() && op.kind().schedules()) {
                return;
            }
            try {
                // take a pending IPI first, as every entry point does: it may change who is current
                k.cpu(cpu).step();
                bringIn(op, cpu);
                long current = k.cpu(cpu).current().address();
                boolean idle = t.isIdle(current);
                int pid = k.task(current).pid();
                switch (op.kind()) {
                    case FORK -> {
                        if (pid == 2) {
                            created.add(k.cpu(cpu).kernelThread("kthread", op.a(), Set.of()).nr());
                        } else if (!idle && k.task(current).mm() != 0) {
                            created.add(k.cpu(cpu).fork().nr());
                        }
                    }
                    case EXIT -> {
                        if (!idle && pid > 2) {
                            boolean autoreap = ignoresSigchld(k.task(current).parent());
                            k.cpu(cpu).exit(op.a());
                            (autoreap ? autoreaped : exited).add(pid);
                        }
                    }
                    case WAIT -> {
                        if (!idle) {
                            int reapedPid = k.cpu(cpu).wait4Any().map(Pid::nr).orElse(0);
                            if (reapedPid > 0) {
                                reaped.add(reapedPid);
                            }
                        }
                    }
                    case RUN -> {
                        List<Long> queued = allQueued();
                        if (!queued.isEmpty()) {
                            k.cpu(cpu).run(Pid.of(k.task(queued.get(op.a() % queued.size())).pid()));
                        }
                    }
                    case RUN_IDLE -> k.cpu(cpu).runIdle();
                    case SCHEDULE -> k.cpu(cpu).schedule();
                    case TICK -> k.cpu(cpu).tick();
                    case TICK_ALL -> k.tickAll();
                    case SLEEP -> {
                        if (!idle) {
                            k.cpu(cpu).sleep();
                        }
                    }
                    case WAKE_UP -> {
                        List<Long> sleeping = taskAddresses(k).stream()
                                .filter(p -> t.state(p) == TASK_INTERRUPTIBLE && k.task(p).exitState() == 0).toList();
                        if (!sleeping.isEmpty()) {
                            k.cpu(cpu).wakeUp(Pid.of(k.task(sleeping.get(op.a() % sleeping.size())).pid()));
                        }
                    }
                    case IRQ -> {
                        k.cpu(cpu).irqEnter();
                        if (op.a() % 2 == 0) {
                            k.cpu(cpu).raiseSoftirq(SoftirqVector.values()[op.b() % 10]);
                        }
                        k.cpu(cpu).irqExit();
                    }
                    case BH -> {
                        k.cpu(cpu).localBhDisable();
                        if (op.a() % 2 == 0) {
                            k.cpu(cpu).raiseSoftirq(SoftirqVector.values()[op.b() % 10]);
                        }
                        k.cpu(cpu).localBhEnable();
                    }
                    case SOFTIRQ -> k.cpu(cpu).raiseSoftirq(SoftirqVector.values()[op.b() % 10]);
                    case NMI -> {
                        k.cpu(cpu).nmiEnter();
                        k.cpu(cpu).nmiExit();
                    }
                    case PREEMPT -> {
                        k.cpu(cpu).preemptDisable();
                        k.cpu(cpu).preemptEnable();
                    }
                    case MIGRATE -> {
                        List<Long> movable = taskAddresses(k).stream().filter(p -> !t.isIdle(p) && !running(p)
                                && k.task(p).exitState() == 0).toList();
                        if (!movable.isEmpty()) {
                            long p = movable.get(op.a() % movable.size());
                            int from = k.task(p).cpu();
                            int to = op.b() % cpus;
                            boolean fair = k.task(p).policy() == 0 || k.task(p).policy() == 3 || k.task(p).policy() == 5;
                            long relative = t.vruntime(p) - k.cpu(from).minVruntime();
                            k.migrate(Pid.of(k.task(p).pid()), to);
                            // dequeue_entity subtracts the old min_vruntime, enqueue_entity adds the new one
                            if (fair && from != to && k.task(p).cpu() == to) {
                                assertEquals(relative, t.vruntime(p) - k.cpu(to).minVruntime(),
                                        name(k, p) + " migrated " + from + " -> " + to + ": vruntime relative to its queue");
                            }
                        }
                    }
                    case STEP -> k.cpu(cpu).step();
                    case OPEN_SECTION -> openSection(cpu, op.a() % 2 == 1);
                    case CLOSE_SECTION -> closeSection(cpu);
                    case SET_SCHEDULER -> {
                        List<Long> live = taskAddresses(k).stream().filter(p -> !t.isIdle(p) && k.task(p).exitState() == 0)
                                .toList();
                        long p = live.get(op.a() % live.size());
                        int target = k.task(p).pid();
                        switch (op.b() % 4) {
                            case 0 -> k.setScheduler(Pid.of(target), SCHED_NORMAL, 0);
                            case 1 -> k.setScheduler(Pid.of(target), SCHED_FIFO, 1 + op.b() % 99);
                            case 2 -> k.setScheduler(Pid.of(target), SCHED_RR, 1 + op.b() % 99);
                            default -> k.setNice(Pid.of(target), op.b() % 40 - 20);
                        }
                    }
                }
            } catch (KernelException expected) {
                // an operation the kernel refuses here (EBUSY, EINVAL, ECHILD, ...): the model is unchanged
            }
        }

        /**
         * For a fork, an exit or a wait, puts a task on the CPU that can do it, if one is queued: a user
         * process or kthreadd to fork, a created task to exit, the parent of a zombie to reap it.
         */
        private void bringIn(Op op, int cpu) {
            List<Long> candidates = switch (op.kind()) {
                case FORK -> allQueued().stream().filter(p -> k.task(p).mm() != 0 || k.task(p).pid() == 2).toList();
                case EXIT -> allQueued().stream().filter(p -> k.task(p).pid() > 2).toList();
                case WAIT -> taskAddresses(k).stream().filter(p -> k.task(p).exitState() == 0x20)
                        .map(p -> k.task(p).parent()).filter(allQueued()::contains).toList();
                default -> List.of();
            };
            if (!candidates.isEmpty() && op.b() % 4 != 0) {
                k.cpu(cpu).run(Pid.of(k.task(candidates.get(op.b() % candidates.size())).pid()));
            }
        }

        /**
         * {@code do_notify_parent()}: a child whose parent's SIGCHLD action is SIG_IGN is autoreaped
         * (kthreadd's {@code ignore_signals()}, inherited by the kernel threads it creates).
         */
        private boolean ignoresSigchld(long parent) {
            AddressSpace m = k.addressSpace();
            var o = platform().offsets();
            long sighand = m.readPointer(parent + o.required("task_struct", "sighand"));
            long action = sighand + o.required("sighand_struct", "action")
                    + (SIGCHLD - 1) * platform().profile().sizeOf("k_sigaction");
            return m.readPointer(action + o.required("k_sigaction", "sa.sa_handler")) == SIG_IGN;
        }

        private boolean running(long p) {
            for (int cpu = 0; cpu < cpus; cpu++) {
                if (k.cpu(cpu).current().address() == p) {
                    return true;
                }
            }
            return false;
        }

        /**
         * PELT's bounds ({@code kernel/sched/pelt.c}): a task's load and runnable sums never exceed the
         * divider {@code LOAD_AVG_MAX - 1024 + period_contrib} (so its load_avg never exceeds a weight),
         * and its util never exceeds the capacity. (A cfs_rq's util_avg may: the model boots at clock 0,
         * where last_update_time 0 means "not attached", so tasks forked then are attached twice, as
         * a kernel whose clock read 0 would attach them.)
         */
        private void checkPelt() {
            Structs s = structs(k);
            long seAvg = s.offset("task_struct", "se.avg");
            for (TaskStruct task : k.tasks()) {
                long sa = task.address() + seAvg;
                String who = name(k, task.address()) + ": se.avg.";
                long divider = PeltContract.LOAD_AVG_MAX - 1024 + (s.get(sa, "sched_avg", "period_contrib") & 0xffffffffL);
                assertTrue(s.get(sa, "sched_avg", "load_sum") <= divider, who + "load_sum");
                assertTrue(s.get(sa, "sched_avg", "runnable_load_sum") <= divider, who + "runnable_load_sum");
                assertTrue((s.get(sa, "sched_avg", "util_sum") & 0xffffffffL) <= 1024 * divider, who + "util_sum");
                assertTrue(s.get(sa, "sched_avg", "util_avg") <= 1024, who + "util_avg");
                // at most the heaviest weight (nice -20): SCHED_IDLE's set_load_weight does not reweight the average
                assertTrue(s.get(sa, "sched_avg", "load_avg") <= 88761, who + "load_avg");
            }
        }

        private List<Long> allQueued() {
            List<Long> all = new ArrayList<>();
            for (int cpu = 0; cpu < cpus; cpu++) {
                all.addAll(k.cpu(cpu).queued().stream().map(TaskStruct::address).toList());
            }
            return all;
        }

        void check() {
            assertEquals(List.of(), violations, "trace lines");
            assertEquals(List.of(), k.bugs(), "BUGs printed");
            checkPelt();
            AddressSpace m = k.addressSpace();
            Set<Long> currents = new HashSet<>();
            Set<Long> queuedAnywhere = new HashSet<>();
            for (int cpu = 0; cpu < cpus; cpu++) {
                long current = k.cpu(cpu).current().address();
                long[] regs = k.cpu(cpu).registers();
                String where = "CPU " + cpu + " running " + name(k, current);
                assertTrue(currents.add(current), where + " also runs on another CPU");
                assertEquals(current, platform().currentTask(m, regs), where);
                if (facts().current() != null) {
                    assertEquals(current, regs[reg(facts().current())], where + ": " + facts().current());
                }
                assertTrue(t.onStack(current, regs[reg(facts().sp())]), where + ": sp is on its stack");
                assertEquals(1, t.onCpu(current), where + ": on_cpu");
                assertEquals(cpu, k.cpu(cpu).smpProcessorId(), where + ": smp_processor_id()");
                assertEquals(0, t.state(current), where + ": TASK_RUNNING");
                String switched = switchedTo.get(cpu);
                if (switched != null) {
                    assertEquals(switched, String.valueOf(k.task(current).pid()), where + ": the last sched_switch's next_pid");
                }
                boolean idle = current == k.cpu(cpu).idleTask().address();
                int sections = open.get(cpu).stream().mapToInt(Integer::intValue).sum();
                if (!open.get(cpu).isEmpty()) {
                    assertEquals(name(k, owner[cpu]), name(k, current),
                            where + ": a task is never switched out of a preempt- or bh-disabled section");
                }
                assertEquals((idle ? facts().preemptDisableOffset() : 0) + sections, k.cpu(cpu).preemptCount().value(),
                        where + ": preempt_count at its base plus the open sections " + open.get(cpu));
                List<Long> queued = k.cpu(cpu).queued().stream().map(TaskStruct::address).toList();
                for (long p : queued) {
                    String q = name(k, p) + " queued on CPU " + cpu;
                    assertTrue(queuedAnywhere.add(p), q + " is queued twice");
                    assertEquals(1, t.onRq(p), q + ": on_rq");
                    assertEquals(0, t.state(p), q + ": TASK_RUNNING");
                    assertEquals(cpu, k.task(p).cpu(), q + ": task_cpu");
                    assertTrue(!t.isIdle(p), q + ": an idle task is never queued");
                }
                assertEquals(queued.size() + (idle ? 0 : 1), k.cpu(cpu).nrRunning(), where + ": nr_running");
            }
            for (long p : currents) {
                assertTrue(!queuedAnywhere.contains(p), name(k, p) + " is both running and queued");
            }
            List<Long> all = new ArrayList<>(taskAddresses(k));
            for (int cpu = 1; cpu < cpus; cpu++) {
                all.add(k.cpu(cpu).idleTask().address());
            }
            for (long p : all) {
                String who = name(k, p);
                if (k.task(p).exitState() == 0) {
                    // a dead task's stack may already be gone (put_task_stack with THREAD_INFO_IN_TASK)
                    assertTrue(k.task(p).stackEndMagicIntact(), who + ": STACK_END_MAGIC");
                }
                boolean running = currents.contains(p);
                assertEquals(running ? 1 : 0, t.onCpu(p), who + ": on_cpu");
                if (!running) {
                    assertEquals(facts().forkPreemptCount(), t.preemptCount(p),
                            who + ": preempt_count of a task switched out in __schedule");
                }
                if (k.task(p).exitState() == 0 && t.state(p) == 0 && !t.isIdle(p)) {
                    assertTrue(running || queuedAnywhere.contains(p), who + " is TASK_RUNNING but neither running nor queued");
                }
                if (k.task(p).exitState() != 0 || t.state(p) != 0) {
                    assertTrue(!running && !queuedAnywhere.contains(p), who + " is not runnable but on a runqueue");
                }
            }
            for (int pid : created) {
                long p = address(k, pid);
                if (reaped.contains(pid)) {
                    assertEquals(0, p, pid + " was reaped");
                } else if (autoreaped.contains(pid)) {
                    assertEquals(0, p, pid + " is autoreaped (its parent, kthreadd, ignores SIGCHLD)");
                } else if (exited.contains(pid)) {
                    assertNotEquals(0, p, "zombie " + pid + " is lost");
                    assertEquals(0x20, k.task(p).exitState(), pid + ": EXIT_ZOMBIE until reaped");
                } else {
                    assertNotEquals(0, p, "task " + pid + " is lost");
                    assertEquals(0, k.task(p).exitState(), pid);
                }
            }
            for (int pid : new int[] {1, 2}) {
                assertNotEquals(0, address(k, pid));
            }
        }
    }


    @Test
    @DisplayName("rebalance_domains and idle_balance: with always-runnable tasks started on CPU 0, no CPU stays idle for longer than one balance interval while another CPU's group is overloaded with more than one runnable task; and in the end no CPU is idle while another has two")
    void idleCpusPullWithinABalanceInterval() {
        qt().withFixedSeed(SEED).withExamples(Integer.getInteger("QT_EXAMPLES", 24))
                .forAll(integers().between(2, 4), integers().between(2, 8))
                .checkAssert((cpus, n) -> {
                    Kernel k = boot(cpus);
                    k.advanceClock(1_000_000_000L);
                    k.cpu(0).run(Pid.INIT);
                    for (int i = 0; i < n; i++) {
                        k.migrate(k.cpu(0).fork(), 0);
                    }
                    long hz = 1_000_000_000L / k.tickNanos();
                    // an idle CPU's interval: balance_interval at most max_interval = 2 * sd_weight ms, in jiffies (rounded up)
                    long interval = Math.max(1, (2L * cpus * hz + 999) / 1000);
                    int streak = 0;
                    for (int t = 0; t < 150; t++) {
                        k.tickAll();
                        k.stepAll();
                        boolean idle = false;
                        boolean crowded = false;
                        for (int c = 0; c < cpus; c++) {
                            idle |= k.cpu(c).nrRunning() == 0;
                            crowded |= overloaded(k, c);
                        }
                        streak = idle && crowded ? streak + 1 : 0;
                        assertTrue(streak <= interval, cpus + " CPUs, " + n + " tasks: a CPU idle for " + streak
                                + " ticks next to an overloaded one, at tick " + t);
                    }
                    int min = Integer.MAX_VALUE;
                    int max = 0;
                    for (int c = 0; c < cpus; c++) {
                        min = Math.min(min, k.cpu(c).nrRunning());
                        max = Math.max(max, k.cpu(c).nrRunning());
                    }
                    assertTrue(min > 0 || max <= 1, cpus + " CPUs, " + n + " tasks: balanced to " + min + ".." + max);
                    assertEquals(List.of(), k.bugs());
                });
    }
}
