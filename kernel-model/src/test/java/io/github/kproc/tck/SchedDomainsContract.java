package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The scheduling domains of a one-cluster machine as v4.19's {@code kernel/sched/topology.c} builds
 * them ({@code sd_init}, {@code build_sched_groups}, {@code cpu_attach_domain}), read from memory, and
 * fork balancing over them: {@code select_task_rq_fair(SD_BALANCE_FORK)} -> {@code find_idlest_group}
 * on the CPUs' PELT loads. The loads are written into each {@code cfs_rq.avg} as a debugger would,
 * and the expected CPU is worked out by hand from {@code find_idlest_group}'s rules.
 */
public abstract class SchedDomainsContract extends KernelContract {
    private static final int SD_LOAD_BALANCE = 0x0001;
    private static final int SD_BALANCE_NEWIDLE = 0x0002;
    private static final int SD_BALANCE_EXEC = 0x0004;
    private static final int SD_BALANCE_FORK = 0x0008;
    private static final int SD_WAKE_AFFINE = 0x0020;
    private static final int SD_SHARE_PKG_RESOURCES = 0x0200;
    private static final int SD_PREFER_SIBLING = 0x1000;

    /** ARM32's arm_topology without CONFIG_SCHED_MC has only DIE; arm64's MC level survives (its DIE degenerates). */
    private boolean mcLevel() {
        return platform().profile().config().enabled("CONFIG_SCHED_MC");
    }

    private int imbalancePct() {
        return mcLevel() ? 117 : 125;
    }

    private long sd(Kernel k, int cpu) {
        return structs(k).ptr(new Debugger(k).rq(cpu), "rq", "sd");
    }

    private boolean bit(Kernel k, long mask, int cpu) {
        int bits = 8 * platform().pointerSize();
        long word = k.addressSpace().readPointer(mask + (long) (cpu / bits) * platform().pointerSize());
        return (word & (1L << (cpu % bits))) != 0;
    }

    @Test
    @DisplayName("sd_init of the one level: flags, imbalance_pct, intervals and indexes; span of the online CPUs; rq->sd of every CPU")
    void sdInitOfTheOneLevel() {
        Kernel k = boot(4);
        Structs s = structs(k);
        int flags = SD_LOAD_BALANCE | SD_BALANCE_NEWIDLE | SD_BALANCE_EXEC | SD_BALANCE_FORK | SD_WAKE_AFFINE
                | SD_PREFER_SIBLING | (mcLevel() ? SD_SHARE_PKG_RESOURCES : 0);
        for (int cpu = 0; cpu < 4; cpu++) {
            long sd = sd(k, cpu);
            assertEquals(flags, s.i32(sd, "sched_domain", "flags"), "CPU " + cpu);
            assertEquals(imbalancePct(), s.i32(sd, "sched_domain", "imbalance_pct"));
            assertEquals(4, s.get(sd, "sched_domain", "min_interval"), "sd_weight");
            assertEquals(8, s.get(sd, "sched_domain", "max_interval"));
            assertEquals(32, s.i32(sd, "sched_domain", "busy_factor"));
            assertEquals(4, s.i32(sd, "sched_domain", "balance_interval"));
            assertEquals(1, s.i32(sd, "sched_domain", "cache_nice_tries"));
            assertEquals(2, s.i32(sd, "sched_domain", "busy_idx"));
            assertEquals(mcLevel() ? 0 : 1, s.i32(sd, "sched_domain", "idle_idx"));
            assertEquals(0, s.i32(sd, "sched_domain", "forkexec_idx"));
            assertEquals(4, s.i32(sd, "sched_domain", "span_weight"));
            assertEquals(0, s.ptr(sd, "sched_domain", "parent"), "one level");
            assertEquals(0, s.ptr(sd, "sched_domain", "child"));
            for (int c = 0; c < 4; c++) {
                assertEquals(true, bit(k, sd + s.offset("sched_domain", "span"), c));
            }
            if (mcLevel()) {
                long shared = s.ptr(sd, "sched_domain", "shared");
                assertEquals(4, s.i32(shared, "sched_domain_shared", "nr_busy_cpus"));
                assertEquals(shared, s.ptr(sd(k, 0), "sched_domain", "shared"), "one sched_domain_shared for the span");
            }
        }
    }

    @Test
    @DisplayName("build_sched_groups: one group per CPU (no child level) in a circular list in CPU order, each domain's groups its own CPU's, sgc->capacity SCHED_CAPACITY_SCALE")
    void oneGroupPerCpuInACircle() {
        Kernel k = boot(4);
        Structs s = structs(k);
        for (int cpu = 0; cpu < 4; cpu++) {
            long group = s.ptr(sd(k, cpu), "sched_domain", "groups");
            List<Integer> order = new ArrayList<>();
            long sg = group;
            do {
                assertEquals(1, s.i32(sg, "sched_group", "group_weight"));
                assertEquals(1024, s.ptr(s.ptr(sg, "sched_group", "sgc"), "sched_group_capacity", "capacity"));
                for (int c = 0; c < 4; c++) {
                    if (bit(k, sg + s.offset("sched_group", "cpumask"), c)) {
                        order.add(c);
                    }
                }
                sg = s.ptr(sg, "sched_group", "next");
            } while (sg != group && order.size() < 8);
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                expected.add((cpu + i) % 4);
            }
            assertEquals(expected, order, "for_each_cpu_wrap from CPU " + cpu);
        }
    }

    @Test
    @DisplayName("cpu_attach_domain: a one-CPU machine has no domain (rq->sd == NULL), and a fork stays on its CPU")
    void aOneCpuMachineHasNoDomain() {
        Kernel k = boot(1);
        assertEquals(0, sd(k, 0));
        k.cpu(0).run(Pid.INIT);
        assertEquals(0, forkFrom(k, 0), "select_task_rq_fair without a domain: prev_cpu");
    }

    /** Writes a CPU's {@code cfs_rq.avg.runnable_load_avg} and {@code load_avg}. */
    private void loads(Kernel k, int cpu, long runnable, long load) {
        Structs s = structs(k);
        long avg = new Debugger(k).rq(cpu) + s.offset("rq", "cfs") + s.offset("cfs_rq", "avg");
        s.set(avg, "sched_avg", "runnable_load_avg", runnable);
        s.set(avg, "sched_avg", "load_avg", load);
    }

    private int forkFrom(Kernel k, int cpu) {
        int child = k.cpu(cpu).fork().nr();
        return k.task(Pid.of(child)).orElseThrow().cpu();
    }

    @Test
    @DisplayName("find_idlest_group: a group lower in runnable load by more than the imbalance replaces the idlest so far; 0 beats 100 beats 300 from a busy CPU 0")
    void theIdlestGroupByRunnableLoad() {
        Kernel k = boot(4);
        k.cpu(0).run(Pid.INIT);
        loads(k, 0, 2048, 2048);
        loads(k, 1, 300, 300);
        loads(k, 2, 100, 100);
        loads(k, 3, 0, 0);
        // each group in turn is lower than the idlest so far, by more than the imbalance or (DIE's 256 between
        // 300 and 100) within it with 100 * 300 > imbalance_scale * 100; CPU 0's 2048 is far above: CPU 3
        assertEquals(3, forkFrom(k, 0));
    }

    @Test
    @DisplayName("find_idlest_group: the local group keeps the task when it is within the imbalance and its PELT load is lower by more than imbalance_scale")
    void theLocalGroupKeepsTheTaskWhenNotBusierEnough() {
        Kernel k = boot(4);
        k.cpu(0).run(Pid.INIT);
        loads(k, 0, 100, 100);
        loads(k, 1, 50, 150);
        loads(k, 2, 1000, 1000);
        loads(k, 3, 1000, 1000);
        // idlest: group 1 (50); this 100 < 50 + imbalance and 100 * 100 < imbalance_scale * 150: stay
        assertEquals(0, forkFrom(k, 0), "the nr_running rule would have picked an emptier CPU");
    }

    @Test
    @DisplayName("find_idlest_group: within the imbalance but with more PELT load than imbalance_scale allows, the local group gives the task away")
    void theLocalGroupGivesTheTaskAwayWhenItsLoadIsHigher() {
        Kernel k = boot(4);
        k.cpu(0).run(Pid.INIT);
        loads(k, 0, 300, 1000);
        loads(k, 1, 200, 200);
        loads(k, 2, 1000, 1000);
        loads(k, 3, 1000, 1000);
        // this 300 < 200 + imbalance, but 100 * 1000 >= imbalance_scale * 200
        assertEquals(1, forkFrom(k, 0));
    }

    @Test
    @DisplayName("find_idlest_group walks the groups from the forking CPU (for_each_cpu_wrap): among equally idle CPUs the next one after it wins")
    void groupsAreWalkedFromTheForkingCpu() {
        Kernel k = boot(4);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        migrateAndRun(k, pid, 2);
        loads(k, 0, 0, 0);
        loads(k, 1, 0, 0);
        loads(k, 2, 1024, 1024);
        loads(k, 3, 0, 0);

        assertEquals(3, forkFrom(k, 2), "CPU 3 comes first after CPU 2; 0 and 1 only tie with it");
    }

    // ---- wakeup placement: select_task_rq_fair(SD_BALANCE_WAKE) ----

    /** A child of init that sleeps with task_cpu() == {@code cpu}; init is current on CPU 0 afterwards. */
    private static long sleeperOn(Kernel k, int cpu) {
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        migrateAndRun(k, pid, cpu);
        k.cpu(cpu).sleep();
        if (cpu != 0) {
            k.cpu(0).run(Pid.INIT);
        }
        return task(k, pid);
    }

    @Test
    @DisplayName("select_idle_sibling: a wakeup by a busy CPU leaves the task on its idle previous CPU (wake_affine_weight keeps prev, prev is idle)")
    void anIdlePreviousCpuKeepsTheTask() {
        Kernel k = boot(2);
        long p = sleeperOn(k, 1);
        loads(k, 0, 2048, 2048);

        k.cpu(0).wakeUp(Pid.of(pidOf(k, p)));

        assertEquals(1, k.task(p).cpu());
    }

    @Test
    @DisplayName("wake_affine: a wakeup by an idle CPU pulls the task from its busy previous CPU (wake_affine_idle with a shared cache, else wake_affine_weight), then select_idle_sibling keeps the idle target")
    void anIdleWakingCpuPullsTheTask() {
        Kernel k = boot(2);
        long p = sleeperOn(k, 0);
        k.cpu(0).run(Pid.INIT);
        loads(k, 0, 3000, 3000);
        long taskLoad = structs(k).get(p + structs(k).offset("task_struct", "se.avg"), "sched_avg", "load_avg");
        assertTrue(taskLoad * 100 <= (3000 - taskLoad) * (100 + (imbalancePct() - 100) / 2),
                "this_eff_load <= prev_eff_load for a task of load " + taskLoad);
        TraceLog log = TraceLog.attach(k);

        k.cpu(1).wakeUp(Pid.of(pidOf(k, p)));

        assertEquals(1, k.task(p).cpu());
        assertEquals("orig_cpu=0 dest_cpu=1", log.only("sched_migrate_task").body().replaceAll(".* orig_cpu", "orig_cpu"),
                "set_task_cpu in try_to_wake_up traces the move");
    }

    @Test
    @DisplayName("select_idle_cpu: with both prev and target busy, an idle CPU of the target's LLC domain takes the task (arm64's MC); ARM32's DIE shares no cache, so the target keeps it")
    void anIdleCpuOfTheLlcTakesTheTask() {
        Kernel k = boot(3);
        long p = sleeperOn(k, 1);
        int x = k.cpu(0).fork().nr();
        migrateAndRun(k, x, 1);
        assertEquals(0, k.cpu(2).nrRunning());

        k.cpu(1).wakeUp(Pid.of(pidOf(k, p)));

        assertEquals(mcLevel() ? 2 : 1, k.task(p).cpu());
    }
}
