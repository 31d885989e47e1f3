package io.github.kproc.kernel.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.github.kproc.kernel.Kernel;
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
public abstract class SchedContract extends SchedContractBase {

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
        k.run(0, 1);
        int pid = k.fork(0);
        if (k.task(task(k, pid)).cpu() != cpu) {
            k.migrate(pid, cpu);
        }
        k.run(cpu, pid);
        k.sleep(cpu);
        k.run(0, 1);
        return pid;
    }

    /** A new child of init queued on {@code cpu} (init runs on CPU 0). */
    static int queuedChild(Kernel k, int cpu) {
        k.run(0, 1);
        int pid = k.fork(0);
        if (k.task(task(k, pid)).cpu() != cpu) {
            k.migrate(pid, cpu);
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
        assertEquals(facts().nrCpus(), config.number("CONFIG_NR_CPUS", -1));
        assertEquals(facts().threadSize(), platform().threadSize());
        assertEquals(facts().tickNanos(), boot(1).tickNanos(), "TICK_NSEC");
    }

    // ---- resched_curr ----

    @Test
    @DisplayName("resched_curr on this CPU: set_tsk_need_resched(curr), no IPI; the reschedule happens on the next way out of an interrupt")
    void reschedCurrOnThisCpuSetsNeedReschedWithoutAnIpi() {
        Kernel k = boot(2);
        int pid = sleeper(k, 0);
        k.setScheduler(pid, SCHED_FIFO, 10);
        long init = k.current(0);
        TraceLog log = TraceLog.attach(k);

        assertTrue(k.wakeUp(0, pid));

        assertTrue(tasks(k).needResched(init), "TIF_NEED_RESCHED on the running task");
        assertEquals(0, k.reschedIpis(0));
        assertEquals(List.of(), log.events("ipi_raise"));
        assertEquals(init, k.current(0), "nothing switches inside the wakeup");

        k.tick(0);

        assertEquals(task(k, pid), k.current(0));
        assertFalse(tasks(k).needResched(init), "clear_tsk_need_resched(prev)");
    }

    @Test
    @DisplayName("resched_curr on another CPU: TIF_NEED_RESCHED and smp_send_reschedule; taken when that CPU steps or ticks")
    void reschedCurrOnAnotherCpuSendsAReschedIpi() {
        Kernel k = boot(2);
        int pid = sleeper(k, 0);
        k.setScheduler(pid, SCHED_FIFO, 10);
        k.run(1, 2);
        k.step(1);
        long init = k.current(0);
        long ipis0 = k.reschedIpis(0);
        long ipis1 = k.reschedIpis(1);
        TraceLog log = TraceLog.attach(k);

        k.wakeUp(1, pid);

        assertTrue(tasks(k).needResched(init));
        assertEquals(ipis0 + 1, k.reschedIpis(0));
        assertEquals(ipis1, k.reschedIpis(1));
        assertEquals(1, log.only("ipi_raise").cpu());
        assertEquals(init, k.current(0), "pending until CPU 0 takes the interrupt");

        k.tick(0);

        assertEquals(1, log.events("ipi_entry").size());
        assertEquals(task(k, pid), k.current(0));
    }

    @Test
    @DisplayName("resched_curr: test_tsk_need_resched(curr) already set -> no second IPI")
    void noSecondIpiWhileNeedReschedIsSet() {
        Kernel k = boot(2);
        int a = sleeper(k, 0);
        int b = sleeper(k, 0);
        k.setScheduler(a, SCHED_FIFO, 10);
        k.setScheduler(b, SCHED_FIFO, 20);
        k.run(1, 2);
        long ipis = k.reschedIpis(0);

        k.wakeUp(1, a);
        k.wakeUp(1, b);

        assertEquals(ipis + 1, k.reschedIpis(0));
        k.step(0);
        assertEquals(task(k, b), k.current(0), "the higher rt_priority runs");
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
                k.setScheduler(pid, SCHED_FIFO, 10);
                switch (c.who()) {
                    case "idle" -> k.runIdle(0);
                    case "user task" -> k.run(0, 1);
                    default -> k.run(0, 2);
                }
                if (c.who().endsWith("bh disabled")) {
                    k.localBhDisable(0);
                }
                long interrupted = k.current(0);
                TraceLog log = TraceLog.attach(k);
                k.wakeUp(1, pid);

                k.step(0);

                assertEquals(1, log.events("ipi_entry").stream().filter(l -> l.cpu() == 0).count());
                if (c.switches()) {
                    assertEquals(task(k, pid), k.current(0));
                    assertTrue(log.only("sched_switch").body().contains(" prev_state=" + c.prevState() + " ==> "),
                            log.only("sched_switch").text());
                } else {
                    assertEquals(interrupted, k.current(0), "keeps the CPU");
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
        assertEquals(k.idleTask(1), k.current(1));
        k.setScheduler(pid, SCHED_FIFO, 10);
        k.localBhDisable(1);
        k.wakeUp(0, pid);

        k.localBhEnable(1);

        assertEquals(List.of(), k.bugs(), "no scheduling while atomic");
        assertEquals(facts().preemptDisableOffset(), k.preemptCount(1), "the bh section closed normally");
        k.tick(1);
        assertEquals(task(k, pid), k.current(1), "the idle loop sees need_resched and calls schedule_idle()");
    }

    @Test
    @DisplayName("a kernel thread keeps TIF_NEED_RESCHED until a preemption point: preempt_enable/local_bh_enable with CONFIG_PREEMPT, else schedule()")
    void aKernelThreadIsPreemptedAtTheNextPreemptionPoint() {
        Kernel k = boot(2);
        int pid = sleeper(k, 0);
        k.setScheduler(pid, SCHED_FIFO, 10);
        k.run(0, 2);
        long kthreadd = k.current(0);
        k.localBhDisable(0);
        k.wakeUp(1, pid);
        k.step(0);
        assertEquals(kthreadd, k.current(0));
        TraceLog log = TraceLog.attach(k);

        k.localBhEnable(0);

        if (facts().preempt()) {
            assertEquals(task(k, pid), k.current(0), "preempt_check_resched() in __local_bh_enable_ip");
            assertTrue(log.only("sched_switch").body().contains(" prev_state=R+ ==> "));
        } else {
            assertEquals(kthreadd, k.current(0), "no preemption points without CONFIG_PREEMPT");
            k.schedule(0);
            assertEquals(task(k, pid), k.current(0));
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
        k.setScheduler(fifo, SCHED_FIFO, 1);
        long min = k.minVruntime(0);
        t.vruntime(task(k, fair), min - 1_000_000_000L);
        t.vruntime(task(k, fifo), min + 1_000_000_000_000L);

        k.schedule(0);

        assertEquals(task(k, fifo), k.current(0));
    }

    @Test
    @DisplayName("pick_next_rt_entity: the highest rt_priority first; a sleeping FIFO task lets the next one run")
    void fifoRunsByPriority() {
        Kernel k = boot(1);
        int low = queuedChild(k, 0);
        int high = queuedChild(k, 0);
        int mid = queuedChild(k, 0);
        k.setScheduler(low, SCHED_FIFO, 10);
        k.setScheduler(high, SCHED_FIFO, 50);
        k.setScheduler(mid, SCHED_FIFO, 30);
        assertEquals(49, k.task(task(k, high)).prio(), "prio = MAX_RT_PRIO - 1 - rt_priority");
        assertEquals(50, tasks(k).rtPriority(task(k, high)));

        k.schedule(0);
        assertEquals(task(k, high), k.current(0));
        k.sleep(0);
        assertEquals(task(k, mid), k.current(0));
        k.sleep(0);
        assertEquals(task(k, low), k.current(0));
    }

    @Test
    @DisplayName("task_tick_rt: SCHED_FIFO has no time slice; ticks never switch it away from CFS tasks or an equal FIFO task")
    void fifoIsNotPreemptedByTicks() {
        Kernel k = boot(1);
        int a = queuedChild(k, 0);
        int b = queuedChild(k, 0);
        k.setScheduler(a, SCHED_FIFO, 10);
        k.setScheduler(b, SCHED_FIFO, 10);
        k.schedule(0);
        long running = k.current(0);
        long switches = k.nrSwitches(0);

        for (int i = 0; i < 3 * facts().hz(); i++) {
            k.tickAll();
        }

        assertEquals(running, k.current(0));
        assertEquals(switches, k.nrSwitches(0));
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
            k.setScheduler(pid, SCHED_RR, 20);
        }
        k.schedule(0);
        int slice = facts().rrTimeslice();
        List<Long> order = new ArrayList<>();
        order.add(k.current(0));
        for (int round = 0; round < 5; round++) {
            long running = k.current(0);
            for (int tick = 1; tick < slice; tick++) {
                k.tickAll();
                assertEquals(running, k.current(0), "still running after " + tick + " of " + slice + " ticks");
                assertEquals(slice - tick, t.rtTimeSlice(running));
            }
            k.tickAll();
            assertNotEquals(running, k.current(0), "switched after " + slice + " ticks");
            assertEquals(slice, t.rtTimeSlice(running), "time_slice refilled to sched_rr_timeslice");
            order.add(k.current(0));
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
        k.setScheduler(rr, SCHED_RR, 20);
        k.setScheduler(other, SCHED_RR, 10);
        k.schedule(0);
        assertEquals(task(k, rr), k.current(0));
        for (int i = 0; i < 3 * facts().rrTimeslice(); i++) {
            k.tickAll();
        }
        assertEquals(task(k, rr), k.current(0));
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
                        long min = k.minVruntime(0);
                        // init, which calls schedule(), and kthreadd are far behind
                        t.vruntime(k.current(0), min + 1_000_000_000_000L);
                        t.vruntime(task(k, 2), min + 1_000_000_000_000L);
                        for (int i = 0; i < offsets.size(); i++) {
                            t.vruntime(queued.get(i), min + offsets.get(i) * 1000L + i);
                        }
                        long smallest = queued.stream().min((x, y) -> Long.compare(t.vruntime(x), t.vruntime(y)))
                                .orElseThrow();

                        k.schedule(0);

                        assertEquals(smallest, k.current(0));
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
            k.setNice(pid, nice);
            assertEquals(PRIO_TO_WEIGHT[nice + 20] << facts().loadShift(), t.loadWeight(p), "weight of nice " + nice);
            assertEquals(PRIO_TO_WMULT[nice + 20], t.loadInvWeight(p), "inv_weight of nice " + nice);
            assertEquals(120 + nice, k.task(p).staticPrio());
            assertEquals(120 + nice, k.task(p).prio());
        }
        k.setScheduler(pid, SCHED_IDLE, 0);
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
                k.run(1, pid);
                k.setNice(pid, nice);
                long p = task(k, pid);
                for (int tick = 0; tick < 3; tick++) {
                    long vruntime = t.vruntime(p);
                    long sum = t.sumExecRuntime(p);

                    k.tickAll();

                    long delta = facts().tickNanos();
                    long weight = PRIO_TO_WEIGHT[nice + 20];
                    long expected = weight == NICE_0 ? delta : calcDelta(delta, NICE_0, PRIO_TO_WMULT[nice + 20]);
                    assertEquals(p, k.current(1), "alone on CPU 1");
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
                            k.setNice(other, nice);
                            others.add(task(k, other));
                            total += PRIO_TO_WEIGHT[nice + 20];
                        }
                        int pid = queuedChild(k, 1);
                        long p = task(k, pid);
                        k.run(1, pid);
                        k.setNice(pid, c.nice());
                        // set_user_nice may have asked for a reschedule: let schedule() keep p, then level the field
                        for (long other : others) {
                            t.vruntime(other, t.vruntime(p) + 1_000_000_000L);
                        }
                        k.schedule(1);
                        assertEquals(p, k.current(1));
                        for (long other : others) {
                            t.vruntime(other, t.vruntime(p));
                        }
                        long slice = schedSlice(PRIO_TO_WEIGHT[c.nice() + 20], total, others.size() + 1, cpus);
                        int ticks = 0;
                        while (k.current(1) == p && ticks < 1000) {
                            k.tickAll();
                            ticks++;
                        }
                        assertEquals(ticksToPreemption(c.nice(), slice, cpus), ticks,
                                String.format("ticks of %d ns to be preempted with a slice of %d ns",
                                        facts().tickNanos(), slice));
                        assertTrue(others.contains(k.current(1)), "a level task runs next");
                    }
                }));
    }

    @Test
    @DisplayName("pick_next_task_idle: a CPU runs its idle task exactly when nothing else is runnable there")
    void idleRunsOnlyWhenNothingElseIsRunnable() {
        Kernel k = boot(2);
        int pid = queuedChild(k, 1);
        long p = task(k, pid);
        k.step(1);
        k.tick(1);
        assertEquals(p, k.current(1), "the idle CPU was kicked by the fork's wakeup and runs the child");
        assertEquals(1, k.nrRunning(1));

        k.sleep(1);

        assertEquals(k.idleTask(1), k.current(1));
        assertEquals(0, k.nrRunning(1));
        k.schedule(1);
        assertEquals(k.idleTask(1), k.current(1), "schedule() with nothing queued keeps idle");

        k.wakeUp(0, pid);
        k.step(1);

        assertEquals(p, k.current(1));
    }

    @Test
    @DisplayName("check_preempt_wakeup: SCHED_BATCH and SCHED_IDLE wakeups never preempt, whatever their vruntime")
    void batchAndIdleWakeupsDoNotPreempt() {
        for (int policy : new int[] {SCHED_BATCH, SCHED_IDLE}) {
            try (Kernel k = bootUnmanaged(1)) {
                int pid = sleeper(k, 0);
                k.setScheduler(pid, policy, 0);
                long init = k.current(0);
                tasks(k).vruntime(init, k.minVruntime(0) + 1_000_000_000L);

                k.wakeUp(0, pid);

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
        k.setScheduler(idlePolicy, SCHED_IDLE, 0);
        k.run(0, idlePolicy);
        long running = k.current(0);
        tasks(k).vruntime(running, k.minVruntime(0) - 1_000_000_000L);
        tasks(k).vruntime(task(k, pid), k.minVruntime(0) + 1_000_000_000L);

        k.wakeUp(0, pid);

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
        k.run(1, pid);
        long nvcsw = t.nvcsw(p);
        long nivcsw = t.nivcsw(p);
        int running = k.nrRunning(1);
        TraceLog log = TraceLog.attach(k);

        k.sleep(1);

        assertEquals(TASK_INTERRUPTIBLE, t.state(p));
        assertEquals(0, t.onRq(p));
        assertFalse(k.queued(1).contains(p));
        assertNotEquals(p, k.current(1));
        assertEquals(running - 1, k.nrRunning(1));
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

        assertTrue(k.wakeUp(0, pid));

        assertEquals(0, t.state(p));
        assertEquals(1, t.onRq(p));
        assertTrue(k.queued(1).contains(p) || k.current(1) == p);
        assertEquals(2, log.lines().stream().filter(l -> l.event().startsWith("sched_wak")).count());

        log.clear();
        assertFalse(k.wakeUp(0, pid), "already TASK_RUNNING");
        assertFalse(k.wakeUp(0, 1), "init is running");
        assertEquals(List.of(), log.lines());
    }

    @Test
    @DisplayName("check_preempt_curr on a wakeup to another CPU: an IPI only when the woken task should preempt")
    void wakeupOntoAnotherCpuSendsAnIpiOnlyWhenItShouldPreempt() {
        Kernel k = boot(2);
        int rt = queuedChild(k, 0);
        int fair = sleeper(k, 0);
        k.setScheduler(rt, SCHED_FIFO, 10);
        k.run(0, rt);
        k.run(1, 2);

        k.wakeUp(1, fair);

        assertEquals(0, k.reschedIpis(0), "a CFS task does not preempt SCHED_FIFO");
        assertFalse(tasks(k).needResched(k.current(0)));
        assertTrue(k.queued(0).contains(task(k, fair)));
    }
}
