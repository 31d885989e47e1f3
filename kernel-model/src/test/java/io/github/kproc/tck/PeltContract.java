package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import java.math.BigInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Per-entity load tracking as v4.19 keeps it ({@code kernel/sched/pelt.c} and the PELT half of
 * {@code fair.c}), read from each task's {@code se.avg} and each {@code cfs_rq}'s {@code avg}:
 * {@code init_entity_runnable_average} and {@code post_init_entity_util_avg} at fork,
 * {@code ___update_load_sum}/{@code accumulate_sum} at the tick, decay over a sleep, and the
 * detach/attach of a migration. Expected sums come from the 4.19 formulas, restated here.
 */
public abstract class PeltContract extends KernelContract {
    /** {@code LOAD_AVG_MAX}. */
    static final long LOAD_AVG_MAX = 47742;
    /** {@code runnable_avg_yN_inv} (kernel/sched/sched-pelt.h). */
    private static final long[] Y_N_INV = {
        0xffffffffL, 0xfa83b2daL, 0xf5257d14L, 0xefe4b99aL, 0xeac0c6e6L, 0xe5b906e6L,
        0xe0ccdeebL, 0xdbfbb796L, 0xd744fcc9L, 0xd2a81d91L, 0xce248c14L, 0xc9b9bd85L,
        0xc5672a10L, 0xc12c4cc9L, 0xbd08a39eL, 0xb8fbaf46L, 0xb504f333L, 0xb123f581L,
        0xad583ee9L, 0xa9a15ab4L, 0xa5fed6a9L, 0xa2704302L, 0x9ef5325fL, 0x9b8d39b9L,
        0x9837f050L, 0x94f4efa8L, 0x91c3d373L, 0x8ea4398aL, 0x8b95c1e3L, 0x88980e80L,
        0x85aac367L, 0x82cd8698L};

    /** {@code decay_load(val, n)}. */
    static long decayLoad(long val, long n) {
        if (n > 32 * 63) {
            return 0;
        }
        if (n >= 32) {
            val >>>= n / 32;
            n %= 32;
        }
        return BigInteger.valueOf(val).multiply(BigInteger.valueOf(Y_N_INV[(int) n])).shiftRight(32).longValue();
    }

    /** A {@code struct sched_avg} as read from memory. */
    record Avg(long lastUpdateTime, long loadSum, long runnableLoadSum, long utilSum, long periodContrib, long loadAvg,
            long runnableLoadAvg, long utilAvg) {
        long divider() {
            return LOAD_AVG_MAX - 1024 + periodContrib;
        }

        /**
         * {@code ___update_load_sum(now, ..., load, runnable, running)} then, if a period was crossed,
         * {@code ___update_load_avg(sa, weight, weight)}: what the kernel makes of this avg at {@code now}.
         */
        Avg advance(long now, long load, boolean running, long weight) {
            long delta = (now - lastUpdateTime) >>> 10;
            if (delta == 0) {
                return this;
            }
            long lut = lastUpdateTime + (delta << 10);
            long contrib = delta;
            long d = delta + periodContrib;
            long periods = d / 1024;
            long ls = loadSum;
            long rs = runnableLoadSum;
            long us = utilSum;
            if (periods != 0) {
                ls = decayLoad(ls, periods);
                rs = decayLoad(rs, periods);
                us = decayLoad(us, periods);
                d %= 1024;
                contrib = decayLoad(1024 - periodContrib, periods) + LOAD_AVG_MAX - decayLoad(LOAD_AVG_MAX, periods)
                        - 1024 + d;
            }
            long runnable = load;
            if (load == 0) {
                running = false;
            }
            ls += load * contrib;
            rs += runnable * contrib;
            if (running) {
                us += contrib * 1024;
            }
            if (periods == 0) {
                return new Avg(lut, ls, rs, us, d, loadAvg, runnableLoadAvg, utilAvg);
            }
            long divider = LOAD_AVG_MAX - 1024 + d;
            return new Avg(lut, ls, rs, us, d, weight * ls / divider, weight * rs / divider, us / divider);
        }
    }

    private static Avg read(Structs s, long sa) {
        return new Avg(s.get(sa, "sched_avg", "last_update_time"), s.get(sa, "sched_avg", "load_sum"),
                s.get(sa, "sched_avg", "runnable_load_sum"), s.get(sa, "sched_avg", "util_sum") & 0xffffffffL,
                s.get(sa, "sched_avg", "period_contrib") & 0xffffffffL, s.get(sa, "sched_avg", "load_avg"),
                s.get(sa, "sched_avg", "runnable_load_avg"), s.get(sa, "sched_avg", "util_avg"));
    }

    private Avg se(Kernel k, long task) {
        Structs s = structs(k);
        return read(s, task + s.offset("task_struct", "se.avg"));
    }

    private Avg cfs(Kernel k, int cpu) {
        Structs s = structs(k);
        return read(s, new Debugger(k).rq(cpu) + s.offset("rq", "cfs") + s.offset("cfs_rq", "avg"));
    }

    /** A child of init forked onto the idle CPU 1 of a two-CPU kernel, one second after boot. */
    private static long childOnCpu1(Kernel k) {
        k.advanceClock(1_000_000_000L);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        assertEquals(1, k.task(Pid.of(pid)).orElseThrow().cpu(), "fork balancing to the idle CPU");
        return task(k, pid);
    }

    @Test
    @DisplayName("init_entity_runnable_average + post_init_entity_util_avg: a new task starts at its full weight and half the free capacity, attached to its cfs_rq's decay window")
    void aNewTaskIsAttachedAtFullWeight() {
        Kernel k = boot(2);
        long p = childOnCpu1(k);
        Avg se = se(k, p);
        Avg cfs = cfs(k, 1);

        assertEquals(1024, se.loadAvg(), "scale_load_down(NICE_0_LOAD)");
        assertEquals(1024, se.runnableLoadAvg());
        assertEquals(512, se.utilAvg(), "(SCHED_CAPACITY_SCALE - cfs util_avg 0) / 2");
        assertEquals(cfs.lastUpdateTime(), se.lastUpdateTime(), "attach_entity_load_avg aligns the window");
        assertEquals(cfs.periodContrib(), se.periodContrib());
        assertEquals(cfs.divider(), se.loadSum(), "load_avg * divider / weight");
        assertEquals(cfs.divider(), se.runnableLoadSum());
        assertEquals(512 * cfs.divider(), se.utilSum());
        assertEquals(1024, cfs.loadAvg(), "enqueue_load_avg");
        assertEquals(1024, cfs.runnableLoadAvg(), "enqueue_runnable_load_avg");
        assertEquals(512, cfs.utilAvg());
        assertTrue(cfs.lastUpdateTime() <= k.clock() && k.clock() - cfs.lastUpdateTime() < 1024,
                "last_update_time advances in whole 1024 ns units");
    }

    @Test
    @DisplayName("entity_tick -> update_load_avg: 5 ms of running accumulate as accumulate_sum says (decayed periods, the three segments, util while running)")
    void aTickAccumulatesTheRunningTime() {
        Kernel k = boot(2);
        long p = childOnCpu1(k);
        k.cpu(1).step();
        assertEquals(p, k.cpu(1).current().address(), "the reschedule IPI of the fork runs the child");
        Avg before = se(k, p);

        k.advanceClock(5_000_000L);
        k.cpu(1).tick();

        Avg expected = before.advance(k.clock(), 1, true, 1024);
        assertEquals(expected, se(k, p));
        assertTrue(expected.utilSum() > before.utilSum(), "running raises util_sum from its start at half capacity");
    }

    @Test
    @DisplayName("___update_load_sum over a sleep of 3 s (more than 63 half-lives): the task's and the idle cfs_rq's sums and averages decay to 0")
    void aLongSleepDecaysToZero() {
        Kernel k = boot(2);
        long p = childOnCpu1(k);
        // kthreadd, queued behind init on CPU 0, sleeps first: else CPU 1 going idle would pull it
        // (idle_balance from pick_next_task_fair, as CPU 0 has two runnable tasks)
        k.cpu(0).run(Pid.of(2));
        k.cpu(0).sleep();
        k.cpu(1).step();
        k.advanceClock(20_000_000L);
        k.cpu(1).tick();
        k.cpu(1).sleep();
        assertTrue(se(k, p).loadAvg() > 0);
        assertEquals(0, k.task(Pid.of(2)).orElseThrow().cpu(), "one runnable task on CPU 0: nothing to pull (find_busiest_queue skips a lone task)");

        k.advanceClock(3_000_000_000L);
        k.cpu(0).wakeUp(Pid.of(pidOf(k, p)));

        Avg se = se(k, p);
        assertEquals(0, se.loadSum());
        assertEquals(0, se.loadAvg());
        assertEquals(0, se.runnableLoadAvg());
        assertEquals(0, se.utilSum());
        assertEquals(0, se.utilAvg());
        assertEquals(0, cfs(k, 1).loadAvg(), "nothing but the decayed task was ever on CPU 1");
        assertEquals(0, cfs(k, 1).utilAvg());
    }

    @Test
    @DisplayName("migrate_task_rq_fair of a queued task: detach_entity_cfs_rq takes its load off the old cfs_rq, enqueue_entity(DO_ATTACH) adds it to the new one")
    void aMigrationMovesTheLoad() {
        Kernel k = boot(2);
        long p = childOnCpu1(k);
        Avg se = se(k, p);
        long from0 = cfs(k, 0).loadAvg();
        long from1 = cfs(k, 1).loadAvg();

        k.migrate(Pid.of(pidOf(k, p)), 0);

        assertEquals(from1 - se.loadAvg(), cfs(k, 1).loadAvg(), "dequeue_load_avg on CPU 1");
        assertEquals(from0 + se(k, p).loadAvg(), cfs(k, 0).loadAvg(), "enqueue_load_avg on CPU 0");
        assertEquals(cfs(k, 0).lastUpdateTime(), se(k, p).lastUpdateTime(), "attached to CPU 0's window");
    }

    @Test
    @DisplayName("post_init_entity_util_avg -> attach_entity_cfs_rq, then enqueue_entity(DO_ATTACH): the tasks rest_init forks are attached once, as the clock (sched_clock) has moved from 0 by then")
    void theBootThreadsAreAttachedOnce() {
        Kernel k = boot(2);
        assertEquals(150_000_000L, k.clock(), "sched_clock when rest_init forks (sched_clock_init ran earlier)");
        // the first update of CPU 0's cfs_rq at 150 ms: 150000000 >> 10 = 146484 units, kept whole
        assertEquals(146484L * 1024, cfs(k, 0).lastUpdateTime(), "___update_load_sum moves last_update_time in 1024 ns units");
        assertEquals(146484L % 1024, cfs(k, 0).periodContrib());
        Avg kthreadd = se(k, task(k, 2));
        Avg init = se(k, task(k, 1));
        assertEquals(cfs(k, 0).lastUpdateTime(), kthreadd.lastUpdateTime(), "attached: a last_update_time that is not 0");
        // init first: util (1024 - 0) / 2 = 512; kthreadd then: min(512 * 1024 / (1024 + 1), (1024 - 512) / 2) = 256
        assertEquals(512, init.utilAvg());
        assertEquals(256, kthreadd.utilAvg());
        // init's exec sent it to CPU 1 (sched_exec: kthreadd shares CPU 0), detached there and attached here,
        // all at the same clock, so nothing decayed; each cfs_rq holds its one task once
        assertEquals(1, k.task(Pid.INIT).orElseThrow().cpu());
        assertEquals(256, cfs(k, 0).utilAvg(), "kthreadd's util once, not 256 + 256");
        assertEquals(1024, cfs(k, 0).loadAvg(), "kthreadd's load once");
        assertEquals(1024, cfs(k, 0).runnableLoadAvg());
        assertEquals(512, cfs(k, 1).utilAvg(), "init's util once");
        assertEquals(1024, cfs(k, 1).loadAvg());
    }

    @Test
    @DisplayName("__sched_setscheduler -> check_class_changed: switched_from_fair (detach_task_cfs_rq) takes an RT task's load and util off its cfs_rq, switched_to_fair (attach_task_cfs_rq) puts them back once")
    void aPolicyChangeDetachesAndAttaches() {
        Kernel k = boot(2);
        long p = childOnCpu1(k);
        Pid pid = Pid.of(pidOf(k, p));
        long util = cfs(k, 1).utilAvg();
        long load = cfs(k, 1).loadAvg();
        Avg se = se(k, p);
        assertEquals(512, se.utilAvg());

        k.setScheduler(pid, io.github.kproc.kernel.Policy.FIFO, 10);

        assertEquals(util - se.utilAvg(), cfs(k, 1).utilAvg(), "detach_entity_load_avg: util");
        assertEquals(load - se.loadAvg(), cfs(k, 1).loadAvg(), "detach_entity_load_avg: load");
        assertEquals(0, cfs(k, 1).runnableLoadAvg(), "dequeued from CFS");

        k.setScheduler(pid, io.github.kproc.kernel.Policy.NORMAL, 0);

        assertEquals(util, cfs(k, 1).utilAvg(), "attach_entity_load_avg: util back once (no time passed)");
        assertEquals(load, cfs(k, 1).loadAvg());
        io.github.kproc.testkit.KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("switched_from_fair of a sleeper Kernel.migrate moved (remove_entity_load_avg left it detached, last_update_time 0, until its wakeup's DO_ATTACH): nothing is detached from the new CPU's cfs_rq")
    void aMigratedSleeperHasNothingToDetach() {
        Kernel k = boot(2);
        long p = childOnCpu1(k);
        Pid pid = Pid.of(pidOf(k, p));
        k.cpu(1).step();
        k.advanceClock(2_000_000L);
        k.cpu(1).sleep();
        k.migrate(pid, 0);
        assertEquals(0, se(k, p).lastUpdateTime(), "migrate_task_rq_fair: detached until enqueued");
        long util = cfs(k, 0).utilAvg();
        long load = cfs(k, 0).loadAvg();

        k.setScheduler(pid, io.github.kproc.kernel.Policy.FIFO, 10);

        assertEquals(util, cfs(k, 0).utilAvg());
        assertEquals(load, cfs(k, 0).loadAvg());
        io.github.kproc.testkit.KernelInvariants.of(k).assertHolds();
    }
}
