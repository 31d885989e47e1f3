package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * CFS as v4.19's {@code kernel/sched/fair.c} orders it: {@code update_curr()} before every decision
 * that reads a vruntime ({@code task_fork_fair}, {@code enqueue_entity}, {@code check_preempt_wakeup},
 * {@code put_prev_entity}), the buddies {@code cfs_rq->next}, {@code ->last} and {@code ->skip} in
 * {@code pick_next_entity()}, and {@code resched_curr()} of a remote CPU from {@code set_user_nice()}
 * and {@code __sched_setscheduler()}. Expected values are worked out from the 4.19 formulas.
 */
public abstract class CfsContract extends KernelContract {
    private static final long MS = 1_000_000L;

    /** {@code sysctl_sched_wakeup_granularity} on one CPU: 1 ms * (1 + ilog2(1)). */
    private static final long WAKEUP_GRAN_1CPU = MS;

    private long cfsRq(Kernel k, int cpu) {
        return new Debugger(k).rq(cpu) + structs(k).offset("rq", "cfs");
    }

    /** A {@code cfs_rq} buddy pointer ({@code "next"}, {@code "last"}, {@code "skip"}) as the task it names, or 0. */
    private long buddy(Kernel k, int cpu, String which) {
        long se = structs(k).ptr(cfsRq(k, cpu), "cfs_rq", which);
        return se == 0 ? 0 : se - structs(k).offset("task_struct", "se");
    }

    /** A new child of init, queued on CPU 0 of a one-CPU kernel (init stays current). */
    private static long child(Kernel k) {
        int pid = k.cpu(0).as(Pid.INIT).fork().nr();
        return task(k, pid);
    }

    /** A child of init that sleeps (TASK_INTERRUPTIBLE) on CPU 0 of a one-CPU kernel; init is current afterwards. */
    private static long sleeping(Kernel k) {
        k.cpu(0).run(Pid.INIT);
        long p = child(k);
        k.cpu(0).run(Pid.of(pidOf(k, p)));
        k.cpu(0).sleep();
        k.cpu(0).run(Pid.INIT);
        return p;
    }

    // ---- update_curr where 4.19 calls it ----

    @Test
    @DisplayName("task_fork_fair: update_curr(cfs_rq) first, so a child forked 4 ms after the parent's last update starts from the parent's current vruntime and does not preempt it")
    void taskForkFairUpdatesTheParentFirst() {
        Kernel k = boot(1);
        Tasks t = tasks(k);
        k.cpu(0).run(Pid.INIT);
        long init = k.cpu(0).current().address();
        long v0 = t.vruntime(init);
        long sum0 = t.sumExecRuntime(init);
        long cfs = cfsRq(k, 0);
        int nr = structs(k).i32(cfs, "cfs_rq", "nr_running");
        long load = structs(k).ptr(cfs, "cfs_rq", "load.weight") >>> (platform().pointerSize() == 8 ? 10 : 0);

        k.advanceClock(4 * MS);
        long child = child(k);

        assertEquals(v0 + 4 * MS, t.vruntime(init), "update_curr: a nice-0 parent's vruntime grows by delta_exec");
        assertEquals(sum0 + 4 * MS, t.sumExecRuntime(init), "sum_exec_runtime");
        // place_entity(cfs_rq, se, 1): max(curr->vruntime, min_vruntime + sched_vslice), the slice of
        // __sched_period(nr_running + 1) by weight among load + the child's NICE_0_LOAD
        long period = nr + 1 > 8 ? (nr + 1) * 750_000L : 6 * MS;
        long vslice = SchedContract.calcDelta(period, SchedContract.NICE_0, SchedContract.invWeight(load + SchedContract.NICE_0));
        long expected = Math.max(t.vruntime(init), k.cpu(0).minVruntime() + vslice);
        assertEquals(expected, t.vruntime(child), "the child's vruntime once enqueued on the same CPU");
        assertFalse(t.needResched(init), "check_preempt_wakeup: the child is not behind the parent, no preemption");
    }

    @Test
    @DisplayName("enqueue_entity: update_curr before place_entity, so a wakeup 10 ms after the last update is placed against the up-to-date min_vruntime")
    void enqueueEntityUpdatesCurrBeforePlacing() {
        Kernel k = boot(1);
        Tasks t = tasks(k);
        long sleeper = sleeping(k);
        long init = k.cpu(0).current().address();
        long v0 = k.cpu(0).minVruntime();
        t.vruntime(init, v0);
        // the queued tasks far right: min_vruntime follows init alone
        for (long q : new Debugger(k).runQueue(0)) {
            t.vruntime(q, v0 + 1000 * MS);
        }
        t.vruntime(sleeper, v0 - 100 * MS);

        k.advanceClock(10 * MS);
        k.cpu(0).wakeUp(Pid.of(pidOf(k, sleeper)));

        assertEquals(v0 + 10 * MS, t.vruntime(init), "update_curr at the enqueue");
        assertEquals(v0 + 10 * MS, k.cpu(0).minVruntime(), "update_min_vruntime: init is the smallest");
        // place_entity(cfs_rq, se, 0): max(vruntime, min_vruntime - sysctl_sched_latency / 2)
        assertEquals(v0 + 10 * MS - 3 * MS, t.vruntime(sleeper));
    }

    // ---- buddies ----

    @Test
    @DisplayName("check_preempt_wakeup: a wakeup that preempts makes the woken entity cfs_rq->next (set_next_buddy); below sched_nr_latency no last buddy")
    void aPreemptingWakeupSetsTheNextBuddy() {
        Kernel k = boot(1);
        Tasks t = tasks(k);
        long sleeper = sleeping(k);
        long init = k.cpu(0).current().address();
        long min = k.cpu(0).minVruntime();
        t.vruntime(init, min + 10 * MS);
        t.vruntime(sleeper, min);

        k.cpu(0).wakeUp(Pid.of(pidOf(k, sleeper)));

        assertTrue(t.needResched(init), "10 ms behind is more than wakeup_gran");
        assertEquals(sleeper, buddy(k, 0, "next"));
        assertEquals(0, buddy(k, 0, "last"), "nr_running < sched_nr_latency (8)");
    }

    @Test
    @DisplayName("check_preempt_wakeup: a wakeup within the wakeup granularity neither preempts nor sets a buddy")
    void aWakeupWithinTheGranularitySetsNoBuddy() {
        Kernel k = boot(1);
        Tasks t = tasks(k);
        long sleeper = sleeping(k);
        long init = k.cpu(0).current().address();
        long min = k.cpu(0).minVruntime();
        t.vruntime(init, min + WAKEUP_GRAN_1CPU);
        t.vruntime(sleeper, min);

        k.cpu(0).wakeUp(Pid.of(pidOf(k, sleeper)));

        assertFalse(t.needResched(init), "wakeup_preempt_entity: vdiff == wakeup_gran is not more than it");
        assertEquals(0, buddy(k, 0, "next"));
    }

    /** One CPU: init preempted by a woken sleeper (next buddy), with {@code extra} more children queued. */
    private record Preempted(Kernel k, long init, long woken, List<Long> queued) {
    }

    private Preempted preemptedBySleeper(int extra) {
        Kernel k = boot(1);
        Tasks t = tasks(k);
        long sleeper = sleeping(k);
        List<Long> queued = new ArrayList<>();
        for (int i = 0; i < extra; i++) {
            queued.add(child(k));
        }
        long init = k.cpu(0).current().address();
        long min = k.cpu(0).minVruntime();
        for (long q : new Debugger(k).runQueue(0)) {
            t.vruntime(q, min + 100 * MS);
        }
        t.vruntime(init, min + 10 * MS);
        t.vruntime(sleeper, min);
        k.cpu(0).wakeUp(Pid.of(pidOf(k, sleeper)));
        assertTrue(t.needResched(init));
        return new Preempted(k, init, sleeper, queued);
    }

    @Test
    @DisplayName("pick_next_entity: the next buddy runs instead of the leftmost entity when it is within wakeup_gran of it; clear_buddies of the one picked")
    void pickNextEntityPrefersTheNextBuddyWithinTheGranularity() {
        Preempted s = preemptedBySleeper(1);
        Tasks t = tasks(s.k());
        long left = s.queued().getFirst();
        t.vruntime(left, t.vruntime(s.woken()) - WAKEUP_GRAN_1CPU / 2);

        s.k().cpu(0).schedule();

        assertEquals(s.woken(), s.k().cpu(0).current().address(), "the next buddy, 0.5 ms right of the leftmost");
        assertEquals(0, buddy(s.k(), 0, "next"), "__clear_buddies_next");
    }

    @Test
    @DisplayName("pick_next_entity: the leftmost entity runs when the next buddy is more than wakeup_gran right of it; the buddy stays")
    void pickNextEntityPassesOverAFarNextBuddy() {
        Preempted s = preemptedBySleeper(1);
        Tasks t = tasks(s.k());
        long left = s.queued().getFirst();
        t.vruntime(left, t.vruntime(s.woken()) - 2 * WAKEUP_GRAN_1CPU);

        s.k().cpu(0).schedule();

        assertEquals(left, s.k().cpu(0).current().address());
        assertEquals(s.woken(), buddy(s.k(), 0, "next"), "clear_buddies clears only the picked entity's");
    }

    @Test
    @DisplayName("check_preempt_wakeup with nr_running >= sched_nr_latency: the preempted task becomes cfs_rq->last, and pick_next_entity returns the CPU to it when it is within wakeup_gran of the leftmost")
    void theLastBuddyGetsTheCpuBack() {
        Preempted s = preemptedBySleeper(8);
        Kernel k = s.k();
        Tasks t = tasks(k);
        assertTrue(k.cpu(0).nrRunning() >= 8);
        assertEquals(s.init(), buddy(k, 0, "last"), "set_last_buddy(se) of the preempted curr");
        assertEquals(s.woken(), buddy(k, 0, "next"));
        long left = s.queued().getFirst();
        // the leftmost 0.5 ms left of init; the woken task (next) 2 ms right of the leftmost: not eligible
        t.vruntime(left, t.vruntime(s.init()) - WAKEUP_GRAN_1CPU / 2);
        t.vruntime(s.woken(), t.vruntime(left) + 2 * WAKEUP_GRAN_1CPU);
        long switches = k.cpu(0).nrSwitches();

        k.cpu(0).schedule();

        assertEquals(s.init(), k.cpu(0).current().address(), "LAST_BUDDY: the preempted task runs on");
        assertEquals(switches, k.cpu(0).nrSwitches(), "prev == next: no context switch");
        assertEquals(0, buddy(k, 0, "last"), "__clear_buddies_last");
        assertEquals(s.woken(), buddy(k, 0, "next"));
    }

    @Test
    @DisplayName("yield_task_fair: the yielding task becomes cfs_rq->skip, and pick_next_entity runs the second entity when it is within wakeup_gran")
    void yieldSetsTheSkipBuddy() {
        Kernel k = boot(1);
        Tasks t = tasks(k);
        k.cpu(0).run(Pid.INIT);
        long other = child(k);
        long init = k.cpu(0).current().address();
        for (long q : new Debugger(k).runQueue(0)) {
            t.vruntime(q, t.vruntime(init) + 100 * MS);
        }
        t.vruntime(other, t.vruntime(init) + WAKEUP_GRAN_1CPU / 2);
        TraceLog log = TraceLog.attach(k);

        k.cpu(0).schedYield();

        assertEquals(other, k.cpu(0).current().address(), "skip the leftmost (init) for the second");
        assertEquals(init, buddy(k, 0, "skip"), "the skip buddy stays until it is picked or dequeued");
        assertTrue(log.only("sched_switch").body().contains(" prev_state=R ==> "), "sched_yield is not a preemption");
    }

    @Test
    @DisplayName("yield_task_fair: the yielding task runs on when the second entity is more than wakeup_gran ahead, and clear_buddies drops the skip")
    void yieldKeepsRunningWhenTheSecondIsTooFarAhead() {
        Kernel k = boot(1);
        Tasks t = tasks(k);
        k.cpu(0).run(Pid.INIT);
        long other = child(k);
        long init = k.cpu(0).current().address();
        for (long q : new Debugger(k).runQueue(0)) {
            t.vruntime(q, t.vruntime(init) + 100 * MS);
        }
        t.vruntime(other, t.vruntime(init) + 2 * WAKEUP_GRAN_1CPU);

        k.cpu(0).schedYield();

        assertEquals(init, k.cpu(0).current().address());
        assertEquals(0, buddy(k, 0, "skip"));
    }

    @Test
    @DisplayName("yield_task_fair: a task alone on its rq (rq->nr_running == 1) sets no skip buddy")
    void yieldAloneSetsNoSkip() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        migrateAndRun(k, pid, 1);
        assertEquals(1, k.cpu(1).nrRunning());

        k.cpu(1).schedYield();

        assertEquals(task(k, pid), k.cpu(1).current().address());
        assertEquals(0, buddy(k, 1, "skip"));
    }

    // ---- resched_curr of another CPU ----

    @Test
    @DisplayName("set_user_nice of a task running on another CPU: prio worse while running -> resched_curr sends that CPU the reschedule IPI")
    void setUserNiceReschedulesARemoteCpuWithAnIpi() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        migrateAndRun(k, pid, 1);
        k.cpu(1).step();
        long ipis = k.cpu(1).reschedIpis();
        TraceLog log = TraceLog.attach(k);

        k.setNice(Pid.of(pid), 10);

        assertTrue(tasks(k).needResched(task(k, pid)));
        assertEquals(ipis + 1, k.cpu(1).reschedIpis());
        FtraceLine raise = log.only("ipi_raise");
        assertEquals(0, raise.cpu(), "sent from CPU 0, where the call runs");

        k.cpu(1).step();
        assertFalse(tasks(k).needResched(task(k, pid)), "the IPI was taken");
        k.setNice(Pid.of(pid), 10);
        assertEquals(ipis + 1, k.cpu(1).reschedIpis(), "set_user_nice: an unchanged nice does nothing");
        assertFalse(tasks(k).needResched(task(k, pid)));
    }

    @Test
    @DisplayName("__sched_setscheduler of a task queued on another CPU: check_preempt_curr there, and the reschedule IPI when it should preempt")
    void setSchedulerPreemptsARemoteCpuWithAnIpi() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int a = k.cpu(0).fork().nr();
        int b = k.cpu(0).fork().nr();
        for (int pid : new int[] {a, b}) {
            if (k.task(Pid.of(pid)).orElseThrow().cpu() != 1) {
                k.migrate(Pid.of(pid), 1);
            }
        }
        k.cpu(1).run(Pid.of(a));
        k.cpu(1).step();
        long ipis = k.cpu(1).reschedIpis();

        k.setScheduler(Pid.of(b), SCHED_FIFO, 10);

        assertTrue(tasks(k).needResched(task(k, a)), "an RT task queued behind a CFS one preempts it");
        assertEquals(ipis + 1, k.cpu(1).reschedIpis());
        k.cpu(1).step();
        assertEquals(task(k, b), k.cpu(1).current().address(), "taken at once, not at the next tick");
    }
}
