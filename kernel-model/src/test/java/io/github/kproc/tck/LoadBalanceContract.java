package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Load balancing as v4.19's {@code kernel/sched/fair.c} does it on the one-level domains of a
 * one-cluster machine: {@code scheduler_tick} -> {@code trigger_load_balance} raising SCHED_SOFTIRQ
 * at {@code rq->next_balance}, {@code run_rebalance_domains} -> {@code rebalance_domains} ->
 * {@code load_balance}, and newly-idle balancing ({@code idle_balance} from
 * {@code pick_next_task_fair}) with {@code find_busiest_group}, {@code calculate_imbalance},
 * {@code find_busiest_queue}, {@code detach_tasks}/{@code can_migrate_task}/{@code task_hot} and
 * {@code attach_tasks}. Intervals and loads are worked out by hand from the kernel's formulas.
 *
 * <p>Every machine here boots with kthreadd queued on CPU 0 and init queued on CPU 1, where its exec's
 * {@code sched_exec} sent it (CPU 0 had init and kthreadd runnable); at its exec CPU 0 had two runnable
 * tasks, which marked the root domain overloaded ({@code add_nr_running}).
 */
public abstract class LoadBalanceContract extends KernelContract {
    private static final int SCHED_SOFTIRQ = 7;
    private static final int KTHREADD = 2;

    private long hz(Kernel k) {
        return 1_000_000_000L / k.tickNanos();
    }

    private long rq(Kernel k, int cpu, String field) {
        return structs(k).get(new Debugger(k).rq(cpu), "rq", field);
    }

    private long sd(Kernel k, int cpu) {
        return structs(k).ptr(new Debugger(k).rq(cpu), "rq", "sd");
    }

    private long sdField(Kernel k, int cpu, String field) {
        return structs(k).get(sd(k, cpu), "sched_domain", field);
    }

    private long jiffies(Kernel k) {
        return k.clock() / k.tickNanos();
    }

    private static long schedSoftirqs(TraceLog log, String event) {
        return log.events(event).stream().filter(l -> l.intField("vec") == SCHED_SOFTIRQ).count();
    }

    @Test
    @DisplayName("trigger_load_balance: SCHED_SOFTIRQ is raised when jiffies reach rq->next_balance; rebalance_domains of a busy CPU with nothing to pull backs off (balance_interval 2 -> 4 ms) and sets next_balance = last_balance + msecs_to_jiffies(4 * busy_factor 32)")
    void triggerLoadBalanceAtNextBalance() {
        Kernel k = boot(2);
        k.advanceClock(1_000_000_000L);
        k.cpu(0).run(Pid.INIT);
        assertEquals(0, rq(k, 0, "next_balance"), "sched_init: next_balance = jiffies (0 at boot)");
        assertEquals(2, sdField(k, 0, "balance_interval"), "sd_init: sd_weight");
        TraceLog log = TraceLog.attach(k);

        k.cpu(0).tick();

        assertEquals(1, schedSoftirqs(log, "softirq_raise"), "jiffies >= next_balance");
        assertEquals(1, schedSoftirqs(log, "softirq_entry"), "run_rebalance_domains on the way out of the interrupt");
        long now = jiffies(k);
        assertEquals(now, sdField(k, 0, "last_balance"));
        // CPU 1's group has no task: find_busiest_group is balanced -> out_balanced: interval doubles up to max_interval 4
        assertEquals(4, sdField(k, 0, "balance_interval"));
        assertEquals(0, sdField(k, 0, "nr_balance_failed"));
        // get_sd_balance_interval(sd, busy): 4 ms * 32 = 128 ms = 13 jiffies at HZ=100 (DIV_ROUND_UP), 32 at HZ=250;
        // under max_load_balance_interval = HZ * 2 / 10 (20 and 50)
        long interval = hz(k) == 100 ? 13 : 32;
        assertTrue(hz(k) == 100 || hz(k) == 250, "the bundled builds' HZ");
        assertEquals(now + interval, rq(k, 0, "next_balance"));
        assertEquals(0, k.task(Pid.of(KTHREADD)).orElseThrow().cpu(), "nothing moved");

        for (long j = 1; j < interval; j++) {
            k.advanceClock(k.tickNanos());
            k.cpu(0).tick();
        }
        assertEquals(1, schedSoftirqs(log, "softirq_raise"), "not before next_balance");
        k.advanceClock(k.tickNanos());
        k.cpu(0).tick();
        assertEquals(2, schedSoftirqs(log, "softirq_raise"), "at next_balance");
        assertEquals(4, sdField(k, 0, "balance_interval"), "stays at max_interval");
    }

    /** A child of init forked (by fork balancing) onto the idle CPU 1, running there, 1 s after boot. */
    /**
     * {@code rq->rd->overload} set as a top-level {@code update_sd_lb_stats} would set it: the root
     * domain {@code build_sched_domains} attaches is a fresh {@code kzalloc}, and boot queued init and
     * kthreadd on CPU 0 before it, so no {@code add_nr_running} transition has marked it yet.
     */
    private void markOverloaded(Kernel k) {
        Structs s = structs(k);
        s.set(s.ptr(new Debugger(k).rq(0), "rq", "rd"), "root_domain", "overload", 1);
    }

    private long childRunningOnCpu1(Kernel k) {
        k.advanceClock(1_000_000_000L);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        assertEquals(1, k.task(Pid.of(pid)).orElseThrow().cpu(), "fork balancing to the idle CPU");
        k.cpu(1).step();
        long child = task(k, pid);
        assertEquals(child, k.cpu(1).current().address());
        return child;
    }

    @Test
    @DisplayName("idle_balance: a CPU going idle pulls the tail of the overloaded CPU's cfs_tasks (kthreadd, cold) with imbalance = floor(B/2) of CPU 0's weighted load B (newidle_idx 0), traced sched_migrate_task on the pulling CPU, and runs it")
    void idleBalancePullsFromTheOverloadedCpu() {
        Kernel k = boot(2);
        childRunningOnCpu1(k);
        Structs s = structs(k);
        long kthreadd = task(k, KTHREADD);
        long cfs0 = new Debugger(k).rq(0) + s.offset("rq", "cfs");
        List<Long> tasks0 = s.entries(new Debugger(k).rq(0) + s.offset("rq", "cfs_tasks"));
        assertEquals(kthreadd + s.offset("task_struct", "se.group_node"), tasks0.get(tasks0.size() - 1),
                "init, picked last, went to the head of cfs_tasks: kthreadd is at the tail");
        long b = s.get(cfs0 + s.offset("cfs_rq", "avg"), "sched_avg", "runnable_load_avg");
        // calculate_imbalance: sds.avg_load = 1024 * B / 2048; max_pull = B - avg; imbalance = min(max_pull, avg - 0)
        long avg = 1024 * b / 2048;
        long imbalance = Math.min(b - avg, avg);
        long load = s.get(kthreadd + s.offset("task_struct", "se.avg"), "sched_avg", "load_avg");
        assertTrue(load / 2 <= imbalance, "detach_tasks takes kthreadd: load " + load + " / 2 <= imbalance " + imbalance);
        TraceLog log = TraceLog.attach(k);
        markOverloaded(k);

        k.cpu(1).sleep();

        assertEquals(1, k.task(Pid.of(KTHREADD)).orElseThrow().cpu());
        assertEquals(kthreadd, k.cpu(1).current().address(), "pick_next_task_fair picks again after the pull");
        FtraceLine migrate = log.only("sched_migrate_task");
        assertEquals(1, migrate.cpu(), "detach_task runs on the pulling CPU");
        assertEquals("kthreadd", migrate.field("comm"));
        assertEquals(0, migrate.intField("orig_cpu"));
        assertEquals(1, migrate.intField("dest_cpu"));
        assertEquals("kthreadd", log.only("sched_switch").field("next_comm"));
        assertEquals(0, rq(k, 1, "idle_stamp"), "a pull clears idle_stamp");
        assertEquals(1, k.cpu(0).nrRunning(), "init alone on CPU 0");
    }

    @Test
    @DisplayName("can_migrate_task -> task_hot: a task that ran less than sysctl_sched_migration_cost (0.5 ms) ago stays; 0.6 ms later it is pulled")
    void taskHotKeepsARecentlyRunTask() {
        for (long since : new long[] {100_000L, 600_000L}) {
            Kernel k = boot(2);
            k.advanceClock(1_000_000_000L);
            k.cpu(0).run(Pid.of(KTHREADD));
            k.cpu(0).run(Pid.INIT);
            int pid = k.cpu(0).fork().nr();
            k.cpu(1).step();
            assertEquals(task(k, pid), k.cpu(1).current().address());
            k.advanceClock(since);
            markOverloaded(k);

            k.cpu(1).sleep();

            boolean hot = since < 500_000L;
            assertEquals(hot ? 0 : 1, k.task(Pid.of(KTHREADD)).orElseThrow().cpu(),
                    "kthreadd last ran " + since + " ns ago");
            assertEquals(hot ? 0 : KTHREADD, k.cpu(1).current().pid(), "CPU 1 idles when nothing could be pulled");
            if (hot) {
                assertEquals(k.clock(), rq(k, 1, "idle_stamp"), "idle_balance stamps the idle start");
                assertEquals(0, sdField(k, 1, "nr_balance_failed"), "a newly idle failure is not counted");
            }
        }
    }

    @Test
    @DisplayName("ttwu_do_wakeup: a wakeup on a CPU idle since idle_balance stamped it feeds the idle time to rq->avg_idle (update_avg: avg += (sample - avg) >> 3), capped at 2 * max_idle_balance_cost, and clears idle_stamp")
    void aWakeupUpdatesAvgIdle() {
        Kernel k = boot(2);
        k.advanceClock(1_000_000_000L);
        migrateAndRun(k, KTHREADD, 0);
        k.cpu(0).sleep();
        migrateAndRun(k, 1, 0);
        int pid = k.cpu(0).fork().nr();
        assertEquals(1, k.task(Pid.of(pid)).orElseThrow().cpu(), "fork balancing to the idle CPU 1");
        // sched_init: avg_idle = 2 * sysctl_sched_migration_cost, max_idle_balance_cost = the cost
        assertEquals(1_000_000L, rq(k, 1, "avg_idle"));
        assertEquals(500_000L, rq(k, 1, "max_idle_balance_cost"));
        // 300 us idle: 1000000 + (-700000 >> 3) = 912500
        long[] idleNanos = {300_000L, 100_000L, 5_000_000_000L};
        // 912500 + (-812500 >> 3): the s64 shift floors, -101563
        long[] expected = {912_500L, 810_937L, 1_000_000L};
        for (int i = 0; i < idleNanos.length; i++) {
            if (k.cpu(1).current().pid() != pid) {
                k.cpu(1).run(Pid.of(pid));
            }
            k.cpu(1).sleep();
            assertEquals(0, k.cpu(1).current().pid(), "nothing to pull: CPU 0 runs init alone");
            assertEquals(k.clock(), rq(k, 1, "idle_stamp"), "idle_balance stamps the idle start");
            k.advanceClock(idleNanos[i]);

            k.cpu(1).wakeUp(Pid.of(pid));

            assertEquals(1, k.task(Pid.of(pid)).orElseThrow().cpu());
            assertEquals(expected[i], rq(k, 1, "avg_idle"), "after " + idleNanos[i] + " ns idle");
            assertEquals(0, rq(k, 1, "idle_stamp"), "ttwu_do_wakeup clears idle_stamp");
        }
    }

    @Test
    @DisplayName("find_busiest_queue: one task on the busy CPU is not pulled (its load exceeds the imbalance), so an idle CPU stays idle")
    void aLoneTaskIsNotPulled() {
        Kernel k = boot(2);
        k.advanceClock(1_000_000_000L);
        k.cpu(0).run(Pid.of(KTHREADD));
        k.cpu(0).sleep();
        int home = k.task(Pid.INIT).orElseThrow().cpu();
        assertEquals(1, k.cpu(home).nrRunning(), "init alone on its CPU");
        assertEquals(0, k.cpu(1 - home).nrRunning(), "the other CPU idle");
        TraceLog log = TraceLog.attach(k);

        for (int i = 0; i < 20; i++) {
            k.tickAll();
        }

        assertEquals(0, log.events("sched_migrate_task").size());
        assertEquals(home, k.task(Pid.INIT).orElseThrow().cpu());
        assertTrue(schedSoftirqs(log, "softirq_entry") > 0, "the balancer ran");
    }

    @Test
    @DisplayName("rebalance_domains from a busy CPU's tick: CPU_NOT_IDLE load_balance (busy_idx 2: source_load/target_load biased by cpu_load[1]) pulls one task from a CPU with four runnable tasks when 100 * busiest avg_load > imbalance_pct * local avg_load; nr_balance_failed = 0, balance_interval = min_interval")
    void periodicBalanceOfABusyCpu() {
        Kernel k = boot(2);
        k.advanceClock(1_000_000_000L);
        k.cpu(0).run(Pid.INIT);
        int a = k.cpu(0).fork().nr();
        assertEquals(1, k.task(Pid.of(a)).orElseThrow().cpu());
        k.cpu(1).step();
        assertEquals(a, k.cpu(1).current().pid(), "CPU 1 busy with one task");
        for (int i = 0; i < 2; i++) {
            int c = k.cpu(0).fork().nr();
            k.migrate(Pid.of(c), 0);
        }
        assertEquals(4, k.cpu(0).nrRunning(), "init, kthreadd and two children on CPU 0");
        k.cpu(0).tick();
        Structs s = structs(k);
        long cfsAvg = s.offset("rq", "cfs") + s.offset("cfs_rq", "avg");
        long wl0 = s.get(new Debugger(k).rq(0) + cfsAvg, "sched_avg", "runnable_load_avg");
        long wl1 = s.get(new Debugger(k).rq(1) + cfsAvg, "sched_avg", "runnable_load_avg");
        // source_load(0, 2) = min(cpu_load[1], weighted load): CPU 0 ticked once, so cpu_load[1] = (0 + wl0 + 1) >> 1
        long load0 = Math.min(cpuLoad(k, 0, 1), wl0);
        assertEquals((wl0 + 1) >> 1, cpuLoad(k, 0, 1), "cpu_load_update: half-way, rounded up while rising");
        long pct = s.i32(sd(k, 1), "sched_domain", "imbalance_pct");
        TraceLog log = TraceLog.attach(k);

        k.cpu(1).tick();

        // target_load(1, 2) = max(cpu_load[1] after this tick, wl1) = wl1 (cpu_load[1] moves half-way from 0)
        long local = Math.max(cpuLoad(k, 1, 1), wl1);
        assertEquals(wl1, local);
        assertTrue(100 * load0 > pct * local, "find_busiest_group: 100 * " + load0 + " > " + pct + " * " + local);
        List<FtraceLine> moves = log.events("sched_migrate_task");
        assertEquals(1, moves.size(), "fix_small_imbalance: one task's load");
        assertEquals(1, moves.get(0).cpu());
        assertEquals(0, moves.get(0).intField("orig_cpu"));
        assertEquals(1, moves.get(0).intField("dest_cpu"));
        assertEquals(3, k.cpu(0).nrRunning());
        assertEquals(0, sdField(k, 1, "nr_balance_failed"));
        assertEquals(sdField(k, 1, "min_interval"), sdField(k, 1, "balance_interval"));
    }

    private long util(Kernel k, long sa) {
        return structs(k).get(sa, "sched_avg", "util_avg");
    }

    private long cfsAvgOf(Kernel k, int cpu) {
        Structs s = structs(k);
        return new Debugger(k).rq(cpu) + s.offset("rq", "cfs") + s.offset("cfs_rq", "avg");
    }

    /**
     * find_idlest_group's spare-capacity rule for an exec on {@code thisCpu} of a two-CPU machine: true
     * when the task stays ({@code this_spare > task_util / 2 && imbalance_scale * this_spare > 100 *
     * most_spare}).
     */
    private boolean staysBySpareCapacity(Kernel k, long p, int thisCpu) {
        long pct = structs(k).i32(sd(k, thisCpu), "sched_domain", "imbalance_pct");
        long scale = 100 + (pct - 100) / 2;
        long taskUtil = util(k, p + structs(k).offset("task_struct", "se.avg"));
        long cpuUtilWake = util(k, cfsAvgOf(k, thisCpu));
        cpuUtilWake = Math.min(cpuUtilWake - Math.min(cpuUtilWake, taskUtil), 1024);
        long thisSpare = 1024 - cpuUtilWake;
        long mostSpare = 1024 - Math.min(util(k, cfsAvgOf(k, 1 - thisCpu)), 1024);
        assertTrue(mostSpare > taskUtil / 2, "else no group is returned by the spare rule");
        return thisSpare > taskUtil / 2 && scale * thisSpare > 100 * mostSpare;
    }

    @Test
    @DisplayName("sched_exec -> select_task_rq_fair(SD_BALANCE_EXEC): init sharing CPU 0 with kthreadd leaves too little spare capacity (capacity_spare_wake), so find_idlest_group sends the exec to the idle CPU 1: the stopper's move_queued_task (sched_migrate_task on CPU 0), CPU 0 switches away (R+), CPU 1 runs the new program")
    void schedExecMovesToTheIdleCpu() {
        Kernel k = initSharingCpu0();
        long init = task(k, 1);
        TraceLog log = TraceLog.attach(k);

        k.cpu(0).exec("sh");

        assertEquals(1, k.task(Pid.INIT).orElseThrow().cpu());
        FtraceLine migrate = log.only("sched_migrate_task");
        assertEquals(0, migrate.cpu(), "migration_cpu_stop runs on the exec's CPU");
        assertEquals(0, migrate.intField("orig_cpu"));
        assertEquals(1, migrate.intField("dest_cpu"));
        FtraceLine sw = log.only("sched_switch");
        assertEquals(0, sw.cpu());
        assertEquals(1, sw.intField("prev_pid"));
        assertEquals("R+", sw.field("prev_state"), "preempted by the stopper");
        assertEquals(KTHREADD, k.cpu(0).current().pid());
        k.cpu(1).step();
        assertEquals(init, k.cpu(1).current().address(), "check_preempt_curr's IPI: CPU 1 runs it");
        assertEquals("sh", k.cpu(1).current().comm());
    }

    /** Init current on CPU 0 after 50 ticks shared with kthreadd: too little spare capacity there for its exec. */
    private Kernel initSharingCpu0() {
        Kernel k = boot(2);
        k.advanceClock(1_000_000_000L);
        k.cpu(0).run(Pid.INIT);
        for (int i = 0; i < 50; i++) {
            k.advanceClock(k.tickNanos());
            k.cpu(0).tick();
        }
        if (k.cpu(0).current().pid() != 1) {
            k.cpu(0).run(Pid.INIT);
        }
        assertEquals(false, staysBySpareCapacity(k, task(k, 1), 0), "CPU 0's util is kthreadd's and init's");
        return k;
    }

    @Test
    @DisplayName("sched_exec in the model: an exec that fails (no memory for the new mm) moves nothing, though it would have been sent to the idle CPU 1")
    void aFailedExecIsNotMoved() {
        Kernel k = initSharingCpu0();
        long init = task(k, 1);
        TraceLog log = TraceLog.attach(k);
        k.faults().failNthAllocation(1);

        assertErrno(Errno.ENOMEM, () -> k.cpu(0).exec("sh"));

        k.faults().clear();
        assertEquals(0, k.task(Pid.INIT).orElseThrow().cpu());
        assertEquals(init, k.cpu(0).current().address());
        assertEquals(0, log.events("sched_migrate_task").size());
        k.cpu(0).exec("sh");
        assertEquals(1, k.task(Pid.INIT).orElseThrow().cpu(), "the same exec with memory is moved");
    }

    @Test
    @DisplayName("sched_exec: a task alone on CPU 1 has the spare capacity (cpu_util_wake leaves its own util out), so its exec stays although CPU 0 is idle with no runnable load (find_idlest_group's spare rule returns before the load rule)")
    void schedExecStaysWithSpareCapacity() {
        Kernel k = boot(2);
        k.advanceClock(1_000_000_000L);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        k.cpu(1).step();
        long child = task(k, pid);
        assertEquals(child, k.cpu(1).current().address());
        k.cpu(0).run(Pid.of(KTHREADD));
        k.cpu(0).sleep();
        k.cpu(0).sleep();
        assertEquals(0, k.cpu(0).nrRunning(), "CPU 0 idle: kthreadd and init asleep");
        for (int i = 0; i < 50; i++) {
            k.advanceClock(k.tickNanos());
            k.cpu(1).tick();
        }
        assertEquals(child, k.cpu(1).current().address());
        assertEquals(true, staysBySpareCapacity(k, child, 1));
        TraceLog log = TraceLog.attach(k);

        k.cpu(1).exec("sh");

        assertEquals(0, log.events("sched_migrate_task").size());
        assertEquals(child, k.cpu(1).current().address());
        assertEquals("sh", k.cpu(1).current().comm());
    }

    private long cpuLoad(Kernel k, int cpu, int idx) {
        long at = new Debugger(k).rq(cpu) + structs(k).offset("rq", "cpu_load") + (long) idx * platform().pointerSize();
        return k.addressSpace().readPointer(at);
    }
}
