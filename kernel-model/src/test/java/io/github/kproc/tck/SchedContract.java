package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Policy;
import io.github.kproc.view.TaskStruct;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The scheduler's decisions (kernel/sched/core.c, fair.c, rt.c, idle.c, v4.19): {@code resched_curr()}
 * on this CPU and on another one (the reschedule IPI and where it leads on the way out of the
 * interrupt), the classes in {@code pick_next_task()} order, SCHED_FIFO and SCHED_RR
 * ({@code task_tick_rt}), CFS ({@code update_curr}, {@code calc_delta_fair}, {@code set_load_weight},
 * {@code check_preempt_tick}, {@code pick_next_entity}), and {@code try_to_wake_up()}.
 */
public abstract class SchedContract extends KernelContract {

    /** {@code sched_prio_to_weight[40]} (kernel/sched/core.c): nice -20 .. 19. */
    static final long[] PRIO_TO_WEIGHT = {
        /* -20 */ 88761, 71755, 56483, 46273, 36291,
        /* -15 */ 29154, 23254, 18705, 14949, 11916,
        /* -10 */ 9548, 7620, 6100, 4904, 3906,
        /*  -5 */ 3121, 2501, 1991, 1586, 1277,
        /*   0 */ 1024, 820, 655, 526, 423,
        /*   5 */ 335, 272, 215, 172, 137,
        /*  10 */ 110, 87, 70, 56, 45,
        /*  15 */ 36, 29, 23, 18, 15};

    /** {@code sched_prio_to_wmult[40]}: 2^32 / weight. */
    static final long[] PRIO_TO_WMULT = {
        /* -20 */ 48388, 59856, 76040, 92818, 118348,
        /* -15 */ 147320, 184698, 229616, 287308, 360437,
        /* -10 */ 449829, 563644, 704093, 875809, 1099582,
        /*  -5 */ 1376151, 1717300, 2157191, 2708050, 3363326,
        /*   0 */ 4194304, 5237765, 6557202, 8165337, 10153587,
        /*   5 */ 12820798, 15790321, 19976592, 24970740, 31350126,
        /*  10 */ 39045157, 49367440, 61356676, 76695844, 95443717,
        /*  15 */ 119304647, 148102320, 186737708, 238609294, 286331153};

    /** {@code WEIGHT_IDLEPRIO}, {@code WMULT_IDLEPRIO}: SCHED_IDLE's load. */
    static final long WEIGHT_IDLEPRIO = 3;
    static final long WMULT_IDLEPRIO = 1431655765;
    /** {@code NICE_0_LOAD} before scale_load. */
    static final long NICE_0 = 1024;

    /**
     * {@code __calc_delta(delta_exec, weight, lw)} (kernel/sched/fair.c): delta * weight / lw->weight in
     * 32.32 fixed point with lw's inverse weight, shifting the factor down until it fits 32 bits.
     *
     * @param weight the unscaled weight ({@code scale_load_down})
     * @param invWeight {@code lw->inv_weight}
     */
    static long calcDelta(long delta, long weight, long invWeight) {
        long fact = weight;
        int shift = 32;
        while ((fact >>> 32) != 0) {
            fact >>>= 1;
            shift--;
        }
        fact = fact * invWeight;
        while ((fact >>> 32) != 0) {
            fact >>>= 1;
            shift--;
        }
        // mul_u64_u32_shr: a 96-bit product shifted right
        return BigInteger.valueOf(delta).multiply(BigInteger.valueOf(fact)).shiftRight(shift).longValue();
    }

    /** {@code __update_inv_weight}: WMULT_CONST / scale_load_down(weight). */
    static long invWeight(long unscaledWeight) {
        return unscaledWeight == 0 ? 0xffffffffL : 0xffffffffL / unscaledWeight;
    }

    /** {@code sysctl_sched_latency} = 6 ms * (1 + ilog2(min(online CPUs, 8))) (SCHED_TUNABLESCALING_LOG). */
    static long latency(int cpus) {
        return 6_000_000L * factor(cpus);
    }

    static long minGranularity(int cpus) {
        return 750_000L * factor(cpus);
    }

    private static int factor(int cpus) {
        return 1 + (31 - Integer.numberOfLeadingZeros(Math.min(cpus, 8)));
    }

    // ---- helpers ----

    /**
     * A new user process (a child of init) that sleeps in TASK_INTERRUPTIBLE with task_cpu() == cpu;
     * init is current on CPU 0 afterwards.
     */
    static int sleeper(Kernel k, int cpu) {
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        if (k.task(task(k, pid)).cpu() != cpu) {
            k.migrate(Pid.of(pid), cpu);
        }
        k.cpu(cpu).run(Pid.of(pid));
        k.cpu(cpu).sleep();
        k.cpu(0).run(Pid.INIT);
        return pid;
    }

    /** A new child of init queued on {@code cpu} (init runs on CPU 0). */
    static int queuedChild(Kernel k, int cpu) {
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        if (k.task(task(k, pid)).cpu() != cpu) {
            k.migrate(Pid.of(pid), cpu);
        }
        return pid;
    }

    @Test
    @DisplayName("the build's .config is the one the facts were written down for: HZ, PREEMPT, PREEMPT_COUNT, NR_CPUS")
    void theFactsDescribeThisBuild() {
        var config = platform().profile().config();
        assertEquals(facts().hz(), config.number("CONFIG_HZ", -1));
        assertEquals(facts().preempt(), config.enabled("CONFIG_PREEMPT"));
        assertEquals(facts().preemptCount(), config.enabled("CONFIG_PREEMPT_COUNT"));
        assertEquals(facts().maxCpus(), config.number("CONFIG_NR_CPUS", -1));
        assertEquals(facts().threadSize(), platform().threadSize());
        assertEquals(facts().tickNanos(), boot(1).tickNanos(), "TICK_NSEC");
    }

    // ---- resched_curr ----

    @Test
    @DisplayName("resched_curr on this CPU: set_tsk_need_resched(curr), no IPI; the reschedule happens on the next way out of an interrupt")
    void reschedCurrOnThisCpuSetsNeedReschedWithoutAnIpi() {
        Kernel k = boot(2);
        int pid = sleeper(k, 0);
        k.setScheduler(Pid.of(pid), SCHED_FIFO, 10);
        long init = k.cpu(0).current().address();
        TraceLog log = TraceLog.attach(k);

        assertTrue(k.cpu(0).wakeUp(Pid.of(pid)));

        assertTrue(tasks(k).needResched(init), "TIF_NEED_RESCHED on the running task");
        assertEquals(0, k.cpu(0).reschedIpis());
        assertEquals(List.of(), log.events("ipi_raise"));
        assertEquals(init, k.cpu(0).current().address(), "nothing switches inside the wakeup");

        k.cpu(0).tick();

        assertEquals(task(k, pid), k.cpu(0).current().address());
        assertFalse(tasks(k).needResched(init), "clear_tsk_need_resched(prev)");
    }

    @Test
    @DisplayName("resched_curr on another CPU: TIF_NEED_RESCHED and smp_send_reschedule; taken when that CPU steps or ticks")
    void reschedCurrOnAnotherCpuSendsAReschedIpi() {
        Kernel k = boot(2);
        int pid = sleeper(k, 0);
        k.setScheduler(Pid.of(pid), SCHED_FIFO, 10);
        k.cpu(1).run(Pid.KTHREADD);
        k.cpu(1).step();
        long init = k.cpu(0).current().address();
        long ipis0 = k.cpu(0).reschedIpis();
        long ipis1 = k.cpu(1).reschedIpis();
        TraceLog log = TraceLog.attach(k);

        k.cpu(1).wakeUp(Pid.of(pid));

        assertTrue(tasks(k).needResched(init));
        assertEquals(ipis0 + 1, k.cpu(0).reschedIpis());
        assertEquals(ipis1, k.cpu(1).reschedIpis());
        assertEquals(1, log.only("ipi_raise").cpu());
        assertEquals(init, k.cpu(0).current().address(), "pending until CPU 0 takes the interrupt");

        k.cpu(0).tick();

        assertEquals(1, log.events("ipi_entry").size());
        assertEquals(task(k, pid), k.cpu(0).current().address());
    }

    @Test
    @DisplayName("resched_curr: test_tsk_need_resched(curr) already set -> no second IPI")
    void noSecondIpiWhileNeedReschedIsSet() {
        Kernel k = boot(2);
        int a = sleeper(k, 0);
        int b = sleeper(k, 0);
        k.setScheduler(Pid.of(a), SCHED_FIFO, 10);
        k.setScheduler(Pid.of(b), SCHED_FIFO, 20);
        k.cpu(1).run(Pid.KTHREADD);
        long ipis = k.cpu(0).reschedIpis();

        k.cpu(1).wakeUp(Pid.of(a));
        k.cpu(1).wakeUp(Pid.of(b));

        assertEquals(ipis + 1, k.cpu(0).reschedIpis());
        k.cpu(0).step();
        assertEquals(task(k, b), k.cpu(0).current().address(), "the higher rt_priority runs");
    }

    /** Who runs on CPU 0 when the reschedule IPI arrives, and what the way out of the interrupt does. */
    private record Interrupted(String who, boolean switches, String prevState) {
    }

    /**
     * {@code __irq_usr}/{@code el0_irq} return to user space through {@code do_work_pending()} /
     * {@code do_notify_resume()}: {@code schedule()}, prev_state R. The idle loop calls
     * {@code schedule_idle()}: R. {@code __irq_svc}/{@code el1_irq} preempt a kernel thread only with
     * CONFIG_PREEMPT and preempt_count 0 ({@code preempt_schedule_irq()}: R+); without it the thread
     * keeps the CPU with TIF_NEED_RESCHED set until it calls schedule().
     */
    private List<Interrupted> interruptions() {
        boolean preempt = facts().preempt();
        return List.of(new Interrupted("idle", true, "R"), new Interrupted("user task", true, "R"),
                new Interrupted("kernel thread", preempt, "R+"),
                new Interrupted("kernel thread with bh disabled", false, ""));
    }

    @TestFactory
    @DisplayName("the reschedule IPI: on the way out of the interrupt idle and user tasks always switch, a kernel thread only with CONFIG_PREEMPT")
    Stream<DynamicTest> rescheduleOnTheWayOutOfTheInterrupt() {
        return interruptions().stream().map(c -> DynamicTest.dynamicTest(c.who(), () -> {
            try (Kernel k = bootUnmanaged(2)) {
                int pid = sleeper(k, 0);
                k.setScheduler(Pid.of(pid), SCHED_FIFO, 10);
                switch (c.who()) {
                    case "idle" -> k.cpu(0).runIdle();
                    case "user task" -> k.cpu(0).run(Pid.INIT);
                    default -> k.cpu(0).run(Pid.KTHREADD);
                }
                if (c.who().endsWith("bh disabled")) {
                    k.cpu(0).localBhDisable();
                }
                long interrupted = k.cpu(0).current().address();
                TraceLog log = TraceLog.attach(k);
                k.cpu(1).wakeUp(Pid.of(pid));

                k.cpu(0).step();

                assertEquals(1, log.events("ipi_entry").stream().filter(l -> l.cpu() == 0).count());
                if (c.switches()) {
                    assertEquals(task(k, pid), k.cpu(0).current().address());
                    assertTrue(log.only("sched_switch").body().contains(" prev_state=" + c.prevState() + " ==> "),
                            log.only("sched_switch").text());
                } else {
                    assertEquals(interrupted, k.cpu(0).current().address(), "keeps the CPU");
                    assertTrue(tasks(k).needResched(interrupted), "with TIF_NEED_RESCHED still set");
                    assertEquals(List.of(), log.events("sched_switch"));
                }
            }
        }));
    }

    @Test
    @DisplayName("an interrupt returning into a bh-disabled section of the idle task goes back there; do_idle switches when it runs again")
    void anInterruptReturningIntoIdlesBhSectionDoesNotSwitch() {
        Kernel k = boot(2);
        int pid = sleeper(k, 1);
        assertEquals(k.cpu(1).idleTask().address(), k.cpu(1).current().address());
        k.setScheduler(Pid.of(pid), SCHED_FIFO, 10);
        k.cpu(1).localBhDisable();
        k.cpu(0).wakeUp(Pid.of(pid));

        k.cpu(1).localBhEnable();

        assertEquals(List.of(), k.bugs(), "no scheduling while atomic");
        assertEquals(facts().preemptDisableOffset(), k.cpu(1).preemptCount().value(), "the bh section closed normally");
        k.cpu(1).tick();
        assertEquals(task(k, pid), k.cpu(1).current().address(),
                "the idle loop sees need_resched and calls schedule_idle()");
    }

    @Test
    @DisplayName("a kernel thread keeps TIF_NEED_RESCHED until a preemption point: preempt_enable/local_bh_enable with CONFIG_PREEMPT, else schedule()")
    void aKernelThreadIsPreemptedAtTheNextPreemptionPoint() {
        Kernel k = boot(2);
        int pid = sleeper(k, 0);
        k.setScheduler(Pid.of(pid), SCHED_FIFO, 10);
        k.cpu(0).run(Pid.KTHREADD);
        long kthreadd = k.cpu(0).current().address();
        k.cpu(0).localBhDisable();
        k.cpu(1).wakeUp(Pid.of(pid));
        k.cpu(0).step();
        assertEquals(kthreadd, k.cpu(0).current().address());
        TraceLog log = TraceLog.attach(k);

        k.cpu(0).localBhEnable();

        if (facts().preempt()) {
            assertEquals(task(k, pid), k.cpu(0).current().address(), "preempt_check_resched() in __local_bh_enable_ip");
            assertTrue(log.only("sched_switch").body().contains(" prev_state=R+ ==> "));
        } else {
            assertEquals(kthreadd, k.cpu(0).current().address(), "no preemption points without CONFIG_PREEMPT");
            k.cpu(0).schedule();
            assertEquals(task(k, pid), k.cpu(0).current().address());
            assertTrue(log.only("sched_switch").body().contains(" prev_state=R ==> "));
        }
    }

    // ---- the classes ----

    @Test
    @DisplayName("pick_next_task: SCHED_FIFO before CFS whatever the vruntimes; idle only when nothing else is runnable")
    void fifoBeatsFairRegardlessOfVruntime() {
        Kernel k = boot(1);
        Tasks t = tasks(k);
        int fair = queuedChild(k, 0);
        int fifo = queuedChild(k, 0);
        k.setScheduler(Pid.of(fifo), SCHED_FIFO, 1);
        long min = k.cpu(0).minVruntime();
        t.vruntime(task(k, fair), min - 1_000_000_000L);
        t.vruntime(task(k, fifo), min + 1_000_000_000_000L);

        k.cpu(0).schedule();

        assertEquals(task(k, fifo), k.cpu(0).current().address());
    }

    @Test
    @DisplayName("pick_next_rt_entity: the highest rt_priority first; a sleeping FIFO task lets the next one run")
    void fifoRunsByPriority() {
        Kernel k = boot(1);
        int low = queuedChild(k, 0);
        int high = queuedChild(k, 0);
        int mid = queuedChild(k, 0);
        k.setScheduler(Pid.of(low), SCHED_FIFO, 10);
        k.setScheduler(Pid.of(high), SCHED_FIFO, 50);
        k.setScheduler(Pid.of(mid), SCHED_FIFO, 30);
        assertEquals(49, k.task(task(k, high)).prio(), "prio = MAX_RT_PRIO - 1 - rt_priority");
        assertEquals(50, tasks(k).rtPriority(task(k, high)));

        k.cpu(0).schedule();
        assertEquals(task(k, high), k.cpu(0).current().address());
        k.cpu(0).sleep();
        assertEquals(task(k, mid), k.cpu(0).current().address());
        k.cpu(0).sleep();
        assertEquals(task(k, low), k.cpu(0).current().address());
    }

    @Test
    @DisplayName("task_tick_rt: SCHED_FIFO has no time slice; ticks never switch it away from CFS tasks or an equal FIFO task")
    void fifoIsNotPreemptedByTicks() {
        Kernel k = boot(1);
        int a = queuedChild(k, 0);
        int b = queuedChild(k, 0);
        k.setScheduler(Pid.of(a), SCHED_FIFO, 10);
        k.setScheduler(Pid.of(b), SCHED_FIFO, 10);
        k.cpu(0).schedule();
        long running = k.cpu(0).current().address();
        long switches = k.cpu(0).nrSwitches();

        for (int i = 0; i < 3 * facts().hz(); i++) {
            k.tickAll();
        }

        assertEquals(running, k.cpu(0).current().address());
        assertEquals(switches, k.cpu(0).nrSwitches());
    }

    @Test
    @DisplayName("__sched_fork: rt.time_slice = sched_rr_timeslice = RR_TIMESLICE (100 ms in jiffies)")
    void rtTimeSliceIsOneHundredMillisecondsInJiffies() {
        Kernel k = boot(1);
        int pid = queuedChild(k, 0);
        assertEquals(facts().rrTimeslice(), tasks(k).rtTimeSlice(task(k, pid)));
        assertEquals(facts().hz() / 10, tasks(k).rtTimeSlice(task(k, pid)));
    }

    @Test
    @DisplayName("task_tick_rt: SCHED_RR of equal priority round-robin every RR_TIMESLICE ticks; the slice is refilled")
    void roundRobinOfEqualPrioritiesOnTicks() {
        Kernel k = boot(1);
        Tasks t = tasks(k);
        int a = queuedChild(k, 0);
        int b = queuedChild(k, 0);
        int c = queuedChild(k, 0);
        for (int pid : new int[] {a, b, c}) {
            k.setScheduler(Pid.of(pid), SCHED_RR, 20);
        }
        k.cpu(0).schedule();
        int slice = facts().rrTimeslice();
        List<Long> order = new ArrayList<>();
        order.add(k.cpu(0).current().address());
        for (int round = 0; round < 5; round++) {
            long running = k.cpu(0).current().address();
            for (int tick = 1; tick < slice; tick++) {
                k.tickAll();
                assertEquals(running, k.cpu(0).current().address(),
                        "still running after " + tick + " of " + slice + " ticks");
                assertEquals(slice - tick, t.rtTimeSlice(running));
            }
            k.tickAll();
            assertNotEquals(running, k.cpu(0).current().address(), "switched after " + slice + " ticks");
            assertEquals(slice, t.rtTimeSlice(running), "time_slice refilled to sched_rr_timeslice");
            order.add(k.cpu(0).current().address());
        }
        List<Long> expected = new ArrayList<>();
        for (int i = 0; i < order.size(); i++) {
            expected.add(order.get(i % 3));
        }
        assertEquals(expected, order, "requeue_task_rt puts the expired task at the tail: a, b, c, a, ...");
        assertEquals(3, order.stream().distinct().count());
    }

    @Test
    @DisplayName("task_tick_rt: a SCHED_RR task alone at its priority gets a new slice and keeps running")
    void roundRobinAloneKeepsRunning() {
        Kernel k = boot(1);
        int rr = queuedChild(k, 0);
        int other = queuedChild(k, 0);
        k.setScheduler(Pid.of(rr), SCHED_RR, 20);
        k.setScheduler(Pid.of(other), SCHED_RR, 10);
        k.cpu(0).schedule();
        assertEquals(task(k, rr), k.cpu(0).current().address());
        for (int i = 0; i < 3 * facts().rrTimeslice(); i++) {
            k.tickAll();
        }
        assertEquals(task(k, rr), k.cpu(0).current().address());
    }

    @Test
    @DisplayName("pick_next_entity: CFS runs the queued entity with the smallest vruntime")
    void fairPicksTheSmallestVruntime() {
        qt().withFixedSeed(SEED).withExamples(40)
                .forAll(lists().of(integers().between(-5_000_000, 5_000_000)).ofSizeBetween(1, 6))
                .checkAssert(offsets -> {
                    try (Kernel k = bootUnmanaged(1)) {
                        Tasks t = tasks(k);
                        List<Long> queued = new ArrayList<>();
                        for (int i = 0; i < offsets.size(); i++) {
                            queued.add(task(k, queuedChild(k, 0)));
                        }
                        long min = k.cpu(0).minVruntime();
                        // init, which calls schedule(), and kthreadd are far behind
                        t.vruntime(k.cpu(0).current().address(), min + 1_000_000_000_000L);
                        t.vruntime(task(k, 2), min + 1_000_000_000_000L);
                        for (int i = 0; i < offsets.size(); i++) {
                            t.vruntime(queued.get(i), min + offsets.get(i) * 1000L + i);
                        }
                        long smallest = queued.stream().min((x, y) -> Long.compare(t.vruntime(x), t.vruntime(y)))
                                .orElseThrow();

                        k.cpu(0).schedule();

                        assertEquals(smallest, k.cpu(0).current().address());
                    }
                });
    }

    @Test
    @DisplayName("set_load_weight: se.load = scale_load(sched_prio_to_weight[static_prio - 100]), inv_weight = sched_prio_to_wmult")
    void niceWeightsComeFromSchedPrioToWeight() {
        Kernel k = boot(1);
        Tasks t = tasks(k);
        int pid = queuedChild(k, 0);
        long p = task(k, pid);
        assertEquals(NICE_0 << facts().loadShift(), t.loadWeight(p), "nice 0 = NICE_0_LOAD");
        for (int nice = -20; nice <= 19; nice++) {
            k.setNice(Pid.of(pid), nice);
            assertEquals(PRIO_TO_WEIGHT[nice + 20] << facts().loadShift(), t.loadWeight(p), "weight of nice " + nice);
            assertEquals(PRIO_TO_WMULT[nice + 20], t.loadInvWeight(p), "inv_weight of nice " + nice);
            assertEquals(120 + nice, k.task(p).staticPrio());
            assertEquals(120 + nice, k.task(p).prio());
        }
        k.setScheduler(Pid.of(pid), SCHED_IDLE, 0);
        assertEquals(WEIGHT_IDLEPRIO << facts().loadShift(), t.loadWeight(p), "SCHED_IDLE: WEIGHT_IDLEPRIO");
        assertEquals(WMULT_IDLEPRIO, t.loadInvWeight(p));
    }

    @TestFactory
    @DisplayName("update_curr: a tick adds delta_exec to sum_exec_runtime and calc_delta_fair(delta_exec) = delta * NICE_0_LOAD / weight to vruntime")
    Stream<DynamicTest> tickAdvancesVruntimeByTheWeightedDelta() {
        return IntStream.of(-20, -7, -1, 0, 1, 5, 13, 19).mapToObj(nice -> DynamicTest.dynamicTest("nice " + nice, () -> {
            try (Kernel k = bootUnmanaged(2)) {
                Tasks t = tasks(k);
                int pid = queuedChild(k, 1);
                k.cpu(1).run(Pid.of(pid));
                k.setNice(Pid.of(pid), nice);
                long p = task(k, pid);
                for (int tick = 0; tick < 3; tick++) {
                    long vruntime = t.vruntime(p);
                    long sum = t.sumExecRuntime(p);

                    k.tickAll();

                    long delta = facts().tickNanos();
                    long weight = PRIO_TO_WEIGHT[nice + 20];
                    long expected = weight == NICE_0 ? delta : calcDelta(delta, NICE_0, PRIO_TO_WMULT[nice + 20]);
                    assertEquals(p, k.cpu(1).current().address(), "alone on CPU 1");
                    assertEquals(sum + delta, t.sumExecRuntime(p), "sum_exec_runtime");
                    assertEquals(expected, t.vruntime(p) - vruntime, "vruntime of nice " + nice);
                    assertTrue(Math.abs(expected - delta * NICE_0 / weight) <= 1, "about delta * 1024 / weight");
                }
            }
        }));
    }

    /**
     * {@code sched_slice()} of the running entity: its share, by weight, of {@code __sched_period()} among
     * the runqueue's CFS entities (itself included once).
     */
    private static long schedSlice(long weight, long totalWeight, int nrRunning, int cpus) {
        long period = nrRunning > 8 ? nrRunning * minGranularity(cpus) : latency(cpus);
        return calcDelta(period, weight, invWeight(totalWeight));
    }

    /**
     * The tick at which {@code check_preempt_tick()} reschedules the running task when the others start
     * level with it: delta_exec past its sched_slice, or (after min_granularity) its vruntime that far
     * ahead of the leftmost.
     */
    private int ticksToPreemption(int nice, long slice, int cpus) {
        long tick = facts().tickNanos();
        long vruntimeLead = 0;
        for (int n = 1; n < 1000; n++) {
            long ran = n * tick;
            vruntimeLead += nice == 0 ? tick : calcDelta(tick, NICE_0, PRIO_TO_WMULT[nice + 20]);
            if (ran > slice || (ran >= minGranularity(cpus) && vruntimeLead > slice)) {
                return n;
            }
        }
        throw new AssertionError("never");
    }

    @TestFactory
    @DisplayName("check_preempt_tick: the running task is rescheduled once it ran past its sched_slice (or that far ahead in vruntime)")
    Stream<DynamicTest> tickPreemptsATaskThatRanPastItsSlice() {
        record Case(int nice, int[] others) {
        }
        return Stream.of(new Case(0, new int[] {0}), new Case(0, new int[] {0, 0}), new Case(-10, new int[] {0}),
                new Case(-5, new int[] {0, 5}), new Case(5, new int[] {0}), new Case(-15, new int[] {-15}),
                new Case(-20, new int[] {19, 19, 19}), new Case(0, new int[] {0, 0, 0, 0, 0, 0, 0, 0, 0}))
                .map(c -> DynamicTest.dynamicTest("nice " + c.nice() + " against "
                        + Arrays.toString(c.others()), () -> {
                    int cpus = 2;
                    try (Kernel k = bootUnmanaged(cpus)) {
                        Tasks t = tasks(k);
                        List<Long> others = new ArrayList<>();
                        long total = PRIO_TO_WEIGHT[c.nice() + 20];
                        for (int nice : c.others()) {
                            int other = queuedChild(k, 1);
                            k.setNice(Pid.of(other), nice);
                            others.add(task(k, other));
                            total += PRIO_TO_WEIGHT[nice + 20];
                        }
                        int pid = queuedChild(k, 1);
                        long p = task(k, pid);
                        k.cpu(1).run(Pid.of(pid));
                        k.setNice(Pid.of(pid), c.nice());
                        // set_user_nice may have asked for a reschedule: let schedule() keep p, then level the field
                        for (long other : others) {
                            t.vruntime(other, t.vruntime(p) + 1_000_000_000L);
                        }
                        k.cpu(1).schedule();
                        assertEquals(p, k.cpu(1).current().address());
                        for (long other : others) {
                            t.vruntime(other, t.vruntime(p));
                        }
                        long slice = schedSlice(PRIO_TO_WEIGHT[c.nice() + 20], total, others.size() + 1, cpus);
                        int ticks = 0;
                        while (k.cpu(1).current().address() == p && ticks < 1000) {
                            k.tickAll();
                            ticks++;
                        }
                        assertEquals(ticksToPreemption(c.nice(), slice, cpus), ticks,
                                String.format("ticks of %d ns to be preempted with a slice of %d ns",
                                        facts().tickNanos(), slice));
                        assertTrue(others.contains(k.cpu(1).current().address()), "a level task runs next");
                    }
                }));
    }

    @Test
    @DisplayName("pick_next_task_idle: a CPU runs its idle task exactly when nothing else is runnable there")
    void idleRunsOnlyWhenNothingElseIsRunnable() {
        Kernel k = boot(2);
        int pid = queuedChild(k, 1);
        long p = task(k, pid);
        k.cpu(1).step();
        k.cpu(1).tick();
        assertEquals(p, k.cpu(1).current().address(),
                "the idle CPU was kicked by the fork's wakeup and runs the child");
        assertEquals(1, k.cpu(1).nrRunning());

        k.cpu(1).sleep();

        assertEquals(k.cpu(1).idleTask().address(), k.cpu(1).current().address());
        assertEquals(0, k.cpu(1).nrRunning());
        k.cpu(1).schedule();
        assertEquals(k.cpu(1).idleTask().address(), k.cpu(1).current().address(),
                "schedule() with nothing queued keeps idle");

        k.cpu(0).wakeUp(Pid.of(pid));
        k.cpu(1).step();

        assertEquals(p, k.cpu(1).current().address());
    }

    @Test
    @DisplayName("check_preempt_wakeup: SCHED_BATCH and SCHED_IDLE wakeups never preempt, whatever their vruntime")
    void batchAndIdleWakeupsDoNotPreempt() {
        for (Policy policy : new Policy[] {SCHED_BATCH, SCHED_IDLE}) {
            try (Kernel k = bootUnmanaged(1)) {
                int pid = sleeper(k, 0);
                k.setScheduler(Pid.of(pid), policy, 0);
                long init = k.cpu(0).current().address();
                tasks(k).vruntime(init, k.cpu(0).minVruntime() + 1_000_000_000L);

                k.cpu(0).wakeUp(Pid.of(pid));

                assertFalse(tasks(k).needResched(init), "policy " + policy + ": preemption is driven by the tick");
            }
        }
    }

    @Test
    @DisplayName("check_preempt_wakeup: a running SCHED_IDLE task is preempted by any non-idle wakeup, whatever the vruntimes")
    void aSchedIdleTaskIsPreemptedByAnyWakeup() {
        Kernel k = boot(1);
        int pid = sleeper(k, 0);
        int idlePolicy = queuedChild(k, 0);
        k.setScheduler(Pid.of(idlePolicy), SCHED_IDLE, 0);
        k.cpu(0).run(Pid.of(idlePolicy));
        long running = k.cpu(0).current().address();
        tasks(k).vruntime(running, k.cpu(0).minVruntime() - 1_000_000_000L);
        tasks(k).vruntime(task(k, pid), k.cpu(0).minVruntime() + 1_000_000_000L);

        k.cpu(0).wakeUp(Pid.of(pid));

        assertTrue(tasks(k).needResched(running));
    }

    // ---- sleep and wake up ----

    @Test
    @DisplayName("sleep: TASK_INTERRUPTIBLE, deactivate_task (off the runqueue, nr_running - 1), a voluntary switch, prev_state=S")
    void sleepIsAVoluntarySwitchOffTheRunqueue() {
        Kernel k = boot(2);
        Tasks t = tasks(k);
        int pid = queuedChild(k, 1);
        long p = task(k, pid);
        k.cpu(1).run(Pid.of(pid));
        long nvcsw = t.nvcsw(p);
        long nivcsw = t.nivcsw(p);
        int running = k.cpu(1).nrRunning();
        TraceLog log = TraceLog.attach(k);

        k.cpu(1).sleep();

        assertEquals(TASK_INTERRUPTIBLE, t.state(p));
        assertEquals(0, t.onRq(p));
        assertFalse(k.cpu(1).queued().stream().anyMatch(q -> q.address() == p));
        assertNotEquals(p, k.cpu(1).current().address());
        assertEquals(running - 1, k.cpu(1).nrRunning());
        assertEquals(nvcsw + 1, t.nvcsw(p), "nvcsw");
        assertEquals(nivcsw, t.nivcsw(p));
        assertTrue(log.only("sched_switch").body().contains(" prev_state=S ==> "));
    }

    @Test
    @DisplayName("try_to_wake_up: TASK_RUNNING, on_rq, enqueued on task_cpu; a running or runnable task is not woken")
    void wakeUpMakesASleeperRunnableOnItsCpu() {
        Kernel k = boot(2);
        Tasks t = tasks(k);
        int pid = sleeper(k, 1);
        long p = task(k, pid);
        TraceLog log = TraceLog.attach(k);

        assertTrue(k.cpu(0).wakeUp(Pid.of(pid)));

        assertEquals(0, t.state(p));
        assertEquals(1, t.onRq(p));
        assertTrue(k.cpu(1).queued().stream().anyMatch(q -> q.address() == p) || k.cpu(1).current().address() == p);
        assertEquals(2, log.lines().stream().filter(l -> l.event().startsWith("sched_wak")).count());

        log.clear();
        assertFalse(k.cpu(0).wakeUp(Pid.of(pid)), "already TASK_RUNNING");
        assertFalse(k.cpu(0).wakeUp(Pid.INIT), "init is running");
        assertEquals(List.of(), log.lines());
    }

    @Test
    @DisplayName("check_preempt_curr on a wakeup to another CPU: an IPI only when the woken task should preempt")
    void wakeupOntoAnotherCpuSendsAnIpiOnlyWhenItShouldPreempt() {
        Kernel k = boot(2);
        int rt = queuedChild(k, 0);
        int fair = sleeper(k, 0);
        k.setScheduler(Pid.of(rt), SCHED_FIFO, 10);
        k.cpu(0).run(Pid.of(rt));
        k.cpu(1).run(Pid.KTHREADD);

        k.cpu(1).wakeUp(Pid.of(fair));

        assertEquals(0, k.cpu(0).reschedIpis(), "a CFS task does not preempt SCHED_FIFO");
        assertFalse(tasks(k).needResched(k.cpu(0).current().address()));
        assertTrue(k.cpu(0).queued().stream().map(TaskStruct::address).toList().contains(task(k, fair)));
    }
}
