package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Machines of several clusters ({@code Kernel.Builder.clusters}) as v4.19's
 * {@code build_sched_domains} lays their domains out from the build's topology levels (arm64's
 * {@code default_topology}: MC per cluster, DIE across; ARM32's vexpress {@code arm_topology} without
 * CONFIG_SCHED_MC: DIE alone), read from memory at the profile's layouts: {@code sd_init}'s fields per
 * level, {@code build_sched_groups}/{@code get_group}'s multi-CPU groups, {@code update_group_capacity},
 * {@code cpu_attach_domain}'s degenerate levels, {@code update_top_cache_domain}'s per-CPU
 * {@code sd_llc*}, the root domains ({@code rq_attach_root}); and the placement decisions made on them.
 * Every expected value is worked out by hand from those functions.
 */
public abstract class SchedClustersContract extends KernelContract {
    private static final int KTHREADD = 2;
    private static final int SD_LOAD_BALANCE = 0x0001;
    private static final int SD_BALANCE_NEWIDLE = 0x0002;
    private static final int SD_BALANCE_EXEC = 0x0004;
    private static final int SD_BALANCE_FORK = 0x0008;
    private static final int SD_WAKE_AFFINE = 0x0020;
    private static final int SD_SHARE_PKG_RESOURCES = 0x0200;
    private static final int SD_PREFER_SIBLING = 0x1000;
    private static final int DIE_FLAGS = SD_LOAD_BALANCE | SD_BALANCE_NEWIDLE | SD_BALANCE_EXEC | SD_BALANCE_FORK
            | SD_WAKE_AFFINE | SD_PREFER_SIBLING;
    private static final int MC_FLAGS = DIE_FLAGS | SD_SHARE_PKG_RESOURCES;

    private boolean mcLevel() {
        return platform().profile().config().enabled("CONFIG_SCHED_MC");
    }

    private Kernel boot(int cpus, int... clusters) {
        return boot(b -> b.cpus(cpus).memory(64L << 20).clusters(clusters));
    }

    private long sd(Kernel k, int cpu) {
        return structs(k).ptr(new Debugger(k).rq(cpu), "rq", "sd");
    }

    private long mask(Kernel k, long at) {
        int ptr = platform().pointerSize();
        long bits = 0;
        for (int c = 0; c < k.cpus(); c++) {
            long word = k.addressSpace().readPointer(at + (long) (c / (8 * ptr)) * ptr);
            if ((word & (1L << (c % (8 * ptr)))) != 0) {
                bits |= 1L << c;
            }
        }
        return bits;
    }

    private long span(Kernel k, long sd) {
        return mask(k, sd + structs(k).offset("sched_domain", "span"));
    }

    /** The groups of a domain in list order, each as its CPU bit set. */
    private List<Long> groups(Kernel k, long sd) {
        Structs s = structs(k);
        List<Long> out = new ArrayList<>();
        long first = s.ptr(sd, "sched_domain", "groups");
        long sg = first;
        do {
            out.add(mask(k, sg + s.offset("sched_group", "cpumask")));
            sg = s.ptr(sg, "sched_group", "next");
        } while (sg != first && out.size() < 64);
        return out;
    }

    private long perCpu(Kernel k, String var, int cpu) {
        int ptr = platform().pointerSize();
        return k.symbol(var) + k.addressSpace().readPointer(k.symbol("__per_cpu_offset") + (long) cpu * ptr);
    }

    @Test
    @DisplayName("Kernel.Builder.clusters: sizes below 1, or not adding up to the CPUs booted, are refused with IllegalArgumentException")
    void badClustersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> boot(4, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> boot(4, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> boot(4, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> boot(4, new int[0]));
    }

    @Test
    @DisplayName("build_sched_domains on 2+2 clusters: arm64's MC per cluster under a DIE across (sd_init's fields per level); ARM32's DIE alone, one group per CPU")
    void twoClustersOfTwo() {
        Kernel k = boot(4, 2, 2);
        Structs s = structs(k);
        for (int cpu = 0; cpu < 4; cpu++) {
            long sd = sd(k, cpu);
            long cluster = cpu < 2 ? 0b0011 : 0b1100;
            if (!mcLevel()) {
                // arm_topology without CONFIG_SCHED_MC: DIE over the four CPUs, as on one cluster
                assertEquals(DIE_FLAGS, s.i32(sd, "sched_domain", "flags"));
                assertEquals(0b1111, span(k, sd));
                assertEquals(0, s.ptr(sd, "sched_domain", "parent"));
                assertEquals(4, groups(k, sd).size(), "no child level: a group per CPU");
                continue;
            }
            // MC: cpu_coregroup_mask = the cluster; sd_init with SD_SHARE_PKG_RESOURCES
            assertEquals(MC_FLAGS, s.i32(sd, "sched_domain", "flags"));
            assertEquals(cluster, span(k, sd));
            assertEquals(2, s.i32(sd, "sched_domain", "span_weight"));
            assertEquals(0, s.i32(sd, "sched_domain", "level"));
            assertEquals(117, s.i32(sd, "sched_domain", "imbalance_pct"));
            assertEquals(2, s.get(sd, "sched_domain", "min_interval"), "sd_weight of the level's mask");
            assertEquals(4, s.get(sd, "sched_domain", "max_interval"));
            assertEquals(2, s.i32(sd, "sched_domain", "balance_interval"));
            assertEquals(0, s.i32(sd, "sched_domain", "idle_idx"));
            assertEquals(0, s.ptr(sd, "sched_domain", "child"));
            assertEquals(List.of(1L << cpu, cluster & ~(1L << cpu)), groups(k, sd), "one-CPU groups from the CPU on");
            long shared = s.ptr(sd, "sched_domain", "shared");
            assertEquals(2, s.i32(shared, "sched_domain_shared", "nr_busy_cpus"));
            assertEquals(2, s.i32(shared, "sched_domain_shared", "ref"), "one reference per MC domain of the cluster");
            // DIE: cpu_cpu_mask; the groups are the clusters (the child's spans), the CPU's own first
            long die = s.ptr(sd, "sched_domain", "parent");
            assertEquals(DIE_FLAGS, s.i32(die, "sched_domain", "flags"));
            assertEquals(0b1111, span(k, die));
            assertEquals(4, s.i32(die, "sched_domain", "span_weight"));
            assertEquals(1, s.i32(die, "sched_domain", "level"));
            assertEquals(sd, s.ptr(die, "sched_domain", "child"));
            assertEquals(0, s.ptr(die, "sched_domain", "parent"));
            assertEquals(125, s.i32(die, "sched_domain", "imbalance_pct"));
            assertEquals(1, s.i32(die, "sched_domain", "idle_idx"));
            assertEquals(4, s.get(die, "sched_domain", "min_interval"));
            assertEquals(0, s.ptr(die, "sched_domain", "shared"));
            assertEquals(List.of(cluster, 0b1111 & ~cluster), groups(k, die));
        }
        if (mcLevel()) {
            assertNotEquals(s.ptr(sd(k, 0), "sched_domain", "shared"), s.ptr(sd(k, 2), "sched_domain", "shared"),
                    "a sched_domain_shared per cluster (sd_id: the span's first CPU)");
            assertEquals(s.ptr(sd(k, 0), "sched_domain", "shared"), s.ptr(sd(k, 1), "sched_domain", "shared"));
        }
    }

    @Test
    @DisplayName("get_group/update_group_capacity: a DIE group over a 2-CPU cluster has group_weight 2, capacity 2048 (the child's groups summed), min_capacity 1024, a reference from each of the 4 DIE domains")
    void multiCpuGroupCapacity() {
        requireBuilt("CONFIG_SCHED_MC");
        Kernel k = boot(4, 2, 2);
        Structs s = structs(k);
        long die = s.ptr(sd(k, 0), "sched_domain", "parent");
        long sg = s.ptr(die, "sched_domain", "groups");
        for (int i = 0; i < 2; i++) {
            long sgc = s.ptr(sg, "sched_group", "sgc");
            assertEquals(2, s.i32(sg, "sched_group", "group_weight"));
            assertEquals(2048, s.ptr(sgc, "sched_group_capacity", "capacity"));
            assertEquals(1024, s.ptr(sgc, "sched_group_capacity", "min_capacity"));
            assertEquals(4, s.i32(sg, "sched_group", "ref"));
            assertEquals(4, s.i32(sgc, "sched_group_capacity", "ref"));
            assertEquals(mask(k, sg + s.offset("sched_group", "cpumask")),
                    mask(k, sgc + s.offset("sched_group_capacity", "cpumask")), "group_balance_mask: the group's span");
            sg = s.ptr(sg, "sched_group", "next");
        }
        long mcGroup = s.ptr(sd(k, 0), "sched_domain", "groups");
        long mcSgc = s.ptr(mcGroup, "sched_group", "sgc");
        assertEquals(1024, s.ptr(mcSgc, "sched_group_capacity", "capacity"), "update_cpu_capacity: no rt/dl/irq time");
        assertEquals(2, s.i32(mcGroup, "sched_group", "ref"), "referenced by the cluster's two MC domains");
        assertEquals(1024, s.get(new Debugger(k).rq(0), "rq", "cpu_capacity_orig"));
        assertEquals(1024, s.get(new Debugger(k).rq(0), "rq", "cpu_capacity"));
    }

    @Test
    @DisplayName("cpu_attach_domain: a one-CPU cluster's MC is degenerate (sd_degenerate: span weight 1), so that CPU's rq->sd is DIE with no child; sd_llc NULL there")
    void aOneCpuClusterHasNoMcLevel() {
        requireBuilt("CONFIG_SCHED_MC");
        Kernel k = boot(4, 1, 3);
        Structs s = structs(k);
        long sd0 = sd(k, 0);
        assertEquals(0b1111, span(k, sd0), "DIE");
        assertEquals(1, s.i32(sd0, "sched_domain", "level"));
        assertEquals(0, s.ptr(sd0, "sched_domain", "child"));
        assertEquals(List.of(0b0001L, 0b1110L), groups(k, sd0), "the groups were built with MC as the child");
        long sd1 = sd(k, 1);
        assertEquals(0b1110, span(k, sd1), "CPU 1 keeps its MC");
        assertEquals(List.of(0b1110L, 0b0001L), groups(k, s.ptr(sd1, "sched_domain", "parent")));
        assertEquals(0, k.addressSpace().readPointer(perCpu(k, "sd_llc", 0)), "highest_flag_domain: DIE shares no cache");
        assertEquals(1, k.addressSpace().readInt(perCpu(k, "sd_llc_size", 0)));
        assertEquals(0, k.addressSpace().readInt(perCpu(k, "sd_llc_id", 0)));
        assertEquals(sd1, k.addressSpace().readPointer(perCpu(k, "sd_llc", 1)));
        assertEquals(3, k.addressSpace().readInt(perCpu(k, "sd_llc_size", 3)));
        assertEquals(1, k.addressSpace().readInt(perCpu(k, "sd_llc_id", 3)));
    }

    @Test
    @DisplayName("update_top_cache_domain: sd_llc is each CPU's MC (arm64) or NULL (ARM32's DIE shares no cache), sd_llc_size and sd_llc_id its weight and first CPU, sd_llc_shared its sched_domain_shared")
    void topCacheDomainPerCluster() {
        Kernel k = boot(4, 2, 2);
        for (int cpu = 0; cpu < 4; cpu++) {
            long llc = k.addressSpace().readPointer(perCpu(k, "sd_llc", cpu));
            int size = k.addressSpace().readInt(perCpu(k, "sd_llc_size", cpu));
            int id = k.addressSpace().readInt(perCpu(k, "sd_llc_id", cpu));
            long shared = k.addressSpace().readPointer(perCpu(k, "sd_llc_shared", cpu));
            if (mcLevel()) {
                assertEquals(sd(k, cpu), llc);
                assertEquals(2, size);
                assertEquals(cpu < 2 ? 0 : 2, id);
                assertEquals(structs(k).ptr(sd(k, cpu), "sched_domain", "shared"), shared);
            } else {
                assertEquals(0, llc);
                assertEquals(1, size);
                assertEquals(cpu, id);
                assertEquals(0, shared);
            }
        }
    }

    @Test
    @DisplayName("rq_attach_root: every rq->rd is the root domain build_sched_domains allocated (span and online all CPUs, a reference per CPU, max_cpu_capacity 1024); def_root_domain is left with its own reference and empty masks")
    void rootDomainInTheArena() {
        Kernel k = boot(4, 2, 2);
        Structs s = structs(k);
        long rd = s.ptr(new Debugger(k).rq(0), "rq", "rd");
        long def = k.symbol("def_root_domain");
        assertNotEquals(0, rd);
        assertNotEquals(def, rd);
        for (int cpu = 0; cpu < 4; cpu++) {
            assertEquals(rd, s.ptr(new Debugger(k).rq(cpu), "rq", "rd"));
            assertEquals(1, s.i32(new Debugger(k).rq(cpu), "rq", "online"));
        }
        assertEquals(0b1111, mask(k, rd + s.offset("root_domain", "span")));
        assertEquals(0b1111, mask(k, rd + s.offset("root_domain", "online")));
        assertEquals(4, s.i32(rd, "root_domain", "refcount"));
        assertEquals(1024, s.ptr(rd, "root_domain", "max_cpu_capacity"));
        assertEquals(-1, s.i32(rd, "root_domain", "rto_cpu"), "init_rootdomain (HAVE_RT_PUSH_IPI)");
        assertEquals(996147, s.get(rd, "root_domain", "dl_bw.bw"), "init_dl_bw: to_ratio(1 s, 0.95 s) = 0.95 << 20");
        assertEquals(1, s.i32(def, "root_domain", "refcount"), "init_defrootdomain's own reference");
        assertEquals(0, mask(k, def + s.offset("root_domain", "span")));
        assertEquals(0, mask(k, def + s.offset("root_domain", "online")));
    }

    @Test
    @DisplayName("rq_attach_root on a one-CPU machine: no domain, but the CPU still moves to the allocated root domain")
    void oneCpuRootDomain() {
        Kernel k = boot(1);
        Structs s = structs(k);
        long rd = s.ptr(new Debugger(k).rq(0), "rq", "rd");
        assertEquals(0, sd(k, 0));
        assertNotEquals(k.symbol("def_root_domain"), rd);
        assertEquals(1, mask(k, rd + s.offset("root_domain", "span")));
        assertEquals(1, s.i32(rd, "root_domain", "refcount"));
    }

    @Test
    @DisplayName("add_nr_running sets rq->rd->overload in memory when a CPU goes from 1 to 2 runnable tasks; idle_balance reads it there: cleared, a CPU going idle pulls nothing; set, it pulls")
    void overloadIsTheRootDomainsByte() {
        for (int overload : new int[] {0, 1}) {
            Kernel k = boot(2);
            Structs s = structs(k);
            long rd = s.ptr(new Debugger(k).rq(0), "rq", "rd");
            k.advanceClock(1_000_000_000L);
            k.cpu(0).run(Pid.INIT);
            s.set(rd, "root_domain", "overload", 0);
            int a = k.cpu(0).fork().nr();
            if (k.task(Pid.of(a)).orElseThrow().cpu() != 1) {
                k.migrate(Pid.of(a), 1);
            }
            assertEquals(0, s.get(rd, "root_domain", "overload"), "no CPU went from 1 to 2 runnable tasks");
            k.migrate(Pid.of(KTHREADD), 1);
            assertEquals(1, s.get(rd, "root_domain", "overload"), "add_nr_running: CPU 1 from 1 to 2");
            k.advanceClock(1_000_000L);
            s.set(rd, "root_domain", "overload", overload);

            k.cpu(0).sleep();

            assertEquals(overload, k.cpu(0).nrRunning(), "idle_balance with rd->overload " + overload);
        }
    }

    @Test
    @DisplayName("find_idlest_group over multi-CPU groups (arm64 2+2): the other cluster's summed load per its 2048 capacity is lower by more than the imbalance, so a fork from CPU 0 goes there; find_idlest_group_cpu takes its least weighted_cpuload CPU")
    void forkGoesToTheIdlestClustersLeastLoadedCpu() {
        requireBuilt("CONFIG_SCHED_MC");
        Kernel k = boot(4, 2, 2);
        k.cpu(0).run(Pid.INIT);
        for (int c = 1; c < 4; c++) {
            int pid = k.cpu(0).fork().nr();
            migrateAndRun(k, pid, c);
        }
        loads(k, 0, 2048, 2048);
        loads(k, 1, 1024, 1024);
        loads(k, 2, 600, 600);
        loads(k, 3, 400, 400);
        // DIE (imbalance_pct 125: imbalance = scale_load_down(NICE_0_LOAD) * 25 / 100 = 256, imbalance_scale
        // 112): local {0,1} = 3072 * 1024 / 2048 = 1536; other {2,3} = 1000 * 1024 / 2048 = 500, the idlest;
        // 500 > 1536 + 256 is false, 1536 < 500 + 256 is false: {2,3} wins. find_idlest_group_cpu: no idle
        // CPU there, least weighted_cpuload: CPU 3 (400 < 600). Then CPU 3's MC (weight 2 < 4): imbalance
        // 1024 * 17 / 100 = 174; local {3} = 400, other {2} = 600; 600 > 400 + 174: stay on 3.
        int child = k.cpu(0).fork().nr();
        assertEquals(3, k.task(Pid.of(child)).orElseThrow().cpu());
    }

    @Test
    @DisplayName("find_idlest_group_cpu: among idle CPUs of the chosen group the one with the latest rq->idle_stamp wins (the warmest cache); swapping the stamps swaps the CPU")
    void idlestGroupCpuPrefersTheLatestIdleStamp() {
        requireBuilt("CONFIG_SCHED_MC");
        for (int later : new int[] {2, 3}) {
            Kernel k = boot(4, 2, 2);
            Structs s = structs(k);
            k.cpu(0).run(Pid.INIT);
            int busy = k.cpu(0).fork().nr();
            migrateAndRun(k, busy, 1);
            loads(k, 0, 2048, 2048);
            loads(k, 1, 2048, 2048);
            // CPUs 2 and 3 idle with the same blocked load (runnable 0, load_avg 300)
            loads(k, 2, 0, 300);
            loads(k, 3, 0, 300);
            int earlier = 5 - later;
            s.set(new Debugger(k).rq(later), "rq", "idle_stamp", 5_000_000);
            s.set(new Debugger(k).rq(earlier), "rq", "idle_stamp", 1_000_000);
            // DIE: local {0,1} = 4096 * 1024 / 2048 = 2048, other {2,3} runnable 0: the idlest group, and
            // 2048 is not within 256 of 0. find_idlest_group_cpu: both idle, the later stamp wins. That
            // CPU's MC: local runnable 0 and load 300, other the same; 0 < 0 + 174 and 100 * 300 <
            // 108 * 300: stay.
            int child = k.cpu(0).fork().nr();
            assertEquals(later, k.task(Pid.of(child)).orElseThrow().cpu());
        }
    }

    @Test
    @DisplayName("find_idlest_group_cpu: idle CPUs whose idle_stamp is 0 are never the shallowest; with no busy CPU either, this_cpu is returned and find_idlest_cpu goes down to this CPU's child domain")
    void idleSinceBootCpusFallBackToThisCpu() {
        requireBuilt("CONFIG_SCHED_MC");
        Kernel k = boot(4, 2, 2);
        k.cpu(0).run(Pid.INIT);
        loads(k, 0, 2048, 2048);
        loads(k, 1, 2048, 2048);
        // group {2,3} is idlest at DIE, but both CPUs have idle_stamp 0: find_idlest_group_cpu returns
        // this_cpu (0), so the search continues in CPU 0's MC: {0} against {1}, equal loads: stay on 0
        int child = k.cpu(0).fork().nr();
        assertEquals(0, k.task(Pid.of(child)).orElseThrow().cpu());
    }

    @Test
    @DisplayName("select_idle_cpu stays inside the target's LLC (its cluster's MC): with prev and target busy, an idle CPU in the other cluster is not taken; on one cluster it is")
    void idleCpuSearchStaysInTheCluster() {
        requireBuilt("CONFIG_SCHED_MC");
        for (int[] clusters : new int[][] {{2, 2}, {4}}) {
            Kernel k = boot(4, clusters);
            k.cpu(0).run(Pid.INIT);
            int p = k.cpu(0).fork().nr();
            migrateAndRun(k, p, 1);
            k.cpu(1).sleep();
            int x = k.cpu(0).fork().nr();
            migrateAndRun(k, x, 1);
            int y = k.cpu(0).fork().nr();
            migrateAndRun(k, y, 3);
            // busy: 0 (init), 1 (x), 3 (y); idle: 2. CPU 1 wakes p (prev 1, this 1): target 1 busy,
            // recent_used_cpu none; select_idle_cpu over sd_llc(1): {0,1} on 2+2, all four on one cluster
            k.cpu(1).wakeUp(Pid.of(p));
            assertEquals(clusters.length == 2 ? 1 : 2, k.task(Pid.of(p)).orElseThrow().cpu(),
                    java.util.Arrays.toString(clusters));
        }
    }

    @Test
    @DisplayName("idle_balance across clusters (arm64 2+2): the newly idle CPU 2 finds nothing in its MC ({3} is idle), then at DIE the other cluster is the busiest group (SD_PREFER_SIBLING of the MC child: 4 tasks against 0 + 1, so group_no_capacity, a forced balance), find_busiest_queue its busier CPU 0, and detach_tasks pulls CPU 0's cfs_tasks tail")
    void idleBalancePullsFromTheOtherClustersBusiestCpu() {
        requireBuilt("CONFIG_SCHED_MC");
        Kernel k = boot(4, 2, 2);
        Structs s = structs(k);
        k.advanceClock(1_000_000_000L);
        k.cpu(0).run(Pid.INIT);
        int a = k.cpu(0).fork().nr();
        migrateAndRun(k, a, 1);
        int b = k.cpu(0).fork().nr();
        if (k.task(Pid.of(b)).orElseThrow().cpu() != 0) {
            k.migrate(Pid.of(b), 0);
        }
        int c = k.cpu(0).fork().nr();
        migrateAndRun(k, c, 2);
        k.advanceClock(1_000_000L);
        assertEquals(3, k.cpu(0).nrRunning(), "init running, kthreadd and b queued");
        assertEquals(1, k.cpu(1).nrRunning());
        // the root domain build_sched_domains attached is fresh; mark it as update_sd_lb_stats would
        s.set(s.ptr(new Debugger(k).rq(0), "rq", "rd"), "root_domain", "overload", 1);
        List<Long> tasks0 = s.entries(new Debugger(k).rq(0) + s.offset("rq", "cfs_tasks"));
        long tail = tasks0.get(tasks0.size() - 1) - s.offset("task_struct", "se.group_node");
        TraceLog log = TraceLog.attach(k);

        k.cpu(2).sleep();

        FtraceLine migrate = log.only("sched_migrate_task");
        assertEquals(0, migrate.intField("orig_cpu"), "find_busiest_queue: CPU 0 (three tasks) over CPU 1 (one)");
        assertEquals(2, migrate.intField("dest_cpu"));
        assertEquals(pidOf(k, tail), migrate.intField("pid"), "detach_tasks starts at the tail of cfs_tasks");
        assertEquals(tail, k.cpu(2).current().address());
        assertEquals(2, k.cpu(0).nrRunning());
        assertEquals(1, k.cpu(1).nrRunning(), "CPU 1's one task is left alone");
    }

    @Test
    @DisplayName("load_balance -> sg_imbalanced: when CPU 1's MC balance finds CPU 0's queued tasks pinned there (LBF_SOME_PINNED, imbalance left), the parent DIE's local group is marked sgc->imbalance = 1, which group_classify reads as group_imbalanced")
    void pinnedTasksMarkTheParentsGroupImbalanced() {
        requireBuilt("CONFIG_SCHED_MC");
        Kernel k = boot(4, 2, 2);
        Structs s = structs(k);
        k.advanceClock(1_000_000_000L);
        k.cpu(0).run(Pid.INIT);
        k.migrate(Pid.of(KTHREADD), 3);
        List<Integer> pinned = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            int pid = k.cpu(0).fork().nr();
            if (k.task(Pid.of(pid)).orElseThrow().cpu() != 0) {
                k.migrate(Pid.of(pid), 0);
            }
            long t = address(k, pid);
            s.set(t, "task_struct", "cpus_allowed", 1);
            s.set(t, "task_struct", "nr_cpus_allowed", 1);
            pinned.add(pid);
        }
        int z = k.cpu(0).fork().nr();
        migrateAndRun(k, z, 1);
        assertEquals(3, k.cpu(0).nrRunning());
        long die = s.ptr(sd(k, 1), "sched_domain", "parent");
        long local = s.ptr(die, "sched_domain", "groups");
        long sgc = s.ptr(local, "sched_group", "sgc");
        assertEquals(0b0011, mask(k, local + s.offset("sched_group", "cpumask")));
        assertEquals(0, s.i32(sgc, "sched_group_capacity", "imbalance"));
        k.advanceClock(1_000_000L);

        // z sleeps, CPU 1 goes idle: idle_balance -> load_balance(MC, CPU_NEWLY_IDLE): CPU 0 is the busiest; from
        // its cfs_tasks tail, init is allowed on CPU 1 (LBF_ALL_PINNED cleared) but running, the two
        // children are not allowed (LBF_SOME_PINNED; newly idle takes no other dst CPU): nothing moved
        k.cpu(1).sleep();

        assertEquals(0, k.cpu(1).nrRunning(), "nothing could be pulled");
        assertEquals(1, s.i32(sgc, "sched_group_capacity", "imbalance"), "sd_parent->groups->sgc->imbalance");
        assertEquals(3, k.cpu(0).nrRunning());
    }

    @Test
    @DisplayName("update_sd_lb_stats -> update_group_capacity: a newly idle balance after the local group's sgc->next_update refreshes it to jiffies + msecs_to_jiffies(balance_interval), capacity still 1024; at boot it was set from the boot jiffies")
    void localGroupCapacityIsRefreshedByBalancing() {
        Kernel k = boot(2);
        Structs s = structs(k);
        long hz = 1_000_000_000L / k.tickNanos();
        long sgc = s.ptr(s.ptr(sd(k, 1), "sched_domain", "groups"), "sched_group", "sgc");
        long interval = Math.max(1, (2 * hz + 999) / 1000);
        // sched_init_smp runs in kernel_init, after rest_init: at the boot clock
        long bootJiffies = k.clock() / k.tickNanos();
        assertEquals(bootJiffies + interval, s.get(sgc, "sched_group_capacity", "next_update"),
                "init_sched_groups_capacity at the boot jiffies: balance_interval 2 ms");
        k.advanceClock(1_000_000_000L);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        migrateAndRun(k, pid, 1);
        s.set(s.ptr(new Debugger(k).rq(0), "rq", "rd"), "root_domain", "overload", 1);

        k.cpu(1).sleep();

        assertEquals(k.clock() / k.tickNanos() + interval, s.get(sgc, "sched_group_capacity", "next_update"));
        assertEquals(1024, s.get(sgc, "sched_group_capacity", "capacity"));
    }

    @Test
    @DisplayName("wake_affine across clusters: an idle CPU 2 waking a task of busy CPU 0 takes it on one cluster (wake_affine_idle: cpus_share_cache); on 2+2 the caches differ, wake_affine_weight keeps prev (init's load against the task's), and select_idle_sibling finds idle CPU 1 in prev's cluster")
    void wakeAffineIdleNeedsASharedCache() {
        requireBuilt("CONFIG_SCHED_MC");
        for (int[] clusters : new int[][] {{4}, {2, 2}}) {
            Kernel k = boot(4, clusters);
            Structs s = structs(k);
            k.advanceClock(1_000_000_000L);
            k.cpu(0).run(Pid.INIT);
            k.migrate(Pid.of(KTHREADD), 3);
            int p = k.cpu(0).fork().nr();
            migrateAndRun(k, p, 0);
            k.advanceClock(50_000_000L);
            k.cpu(0).sleep();
            k.cpu(0).run(Pid.INIT);
            long cfs0 = new Debugger(k).rq(0) + s.offset("rq", "cfs") + s.offset("cfs_rq", "avg");
            long prevLoad = s.get(cfs0, "sched_avg", "runnable_load_avg");
            long taskLoad = s.get(address(k, p) + s.offset("task_struct", "se.avg"), "sched_avg", "load_avg");
            long cfs2 = new Debugger(k).rq(2) + s.offset("rq", "cfs") + s.offset("cfs_rq", "avg");
            long thisLoad = s.get(cfs2, "sched_avg", "runnable_load_avg");
            boolean two = clusters.length == 2;
            if (two) {
                // wake_affine_weight at DIE (imbalance_pct 125): this_eff = (this + task) * 100 against
                // prev_eff = (prev - task) * 112; prev stays when this_eff > prev_eff
                assertTrue((thisLoad + taskLoad) * 100 > (prevLoad - taskLoad) * 112,
                        "loads " + thisLoad + "/" + prevLoad + "/" + taskLoad);
            }

            k.cpu(2).wakeUp(Pid.of(p));

            assertEquals(two ? 1 : 2, k.task(Pid.of(p)).orElseThrow().cpu(), java.util.Arrays.toString(clusters));
        }
    }


    @Test
    @DisplayName("rebalance_domains and idle_balance across clusters (find_busiest_group over multi-CPU groups at DIE, then inside the cluster at MC): with always-runnable tasks started on CPU 0, no CPU stays idle for longer than one balance interval next to an overloaded one, and in the end no CPU is idle while another has two")
    void idleCpusPullAcrossClusters() {
        qt().withFixedSeed(SEED).withExamples(Integer.getInteger("QT_EXAMPLES", 24))
                .forAll(integers().between(2, 4), integers().between(1, 3), integers().between(2, 8))
                .assuming((cpus, first, n) -> first < cpus)
                .checkAssert((cpus, first, n) -> {
                    Kernel k = boot(cpus, first, cpus - first);
                    k.advanceClock(1_000_000_000L);
                    k.cpu(0).run(Pid.INIT);
                    for (int i = 0; i < n; i++) {
                        k.migrate(k.cpu(0).fork(), 0);
                    }
                    long hz = 1_000_000_000L / k.tickNanos();
                    // an idle CPU's interval at its top level: at most max_interval = 2 * sd_weight ms, in jiffies
                    long interval = Math.max(1, (2L * cpus * hz + 999) / 1000);
                    int streak = 0;
                    String where = cpus + " CPUs as " + first + "+" + (cpus - first) + ", " + n + " tasks";
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
                        assertTrue(streak <= interval, where + ": a CPU idle for " + streak
                                + " ticks next to an overloaded one, at tick " + t);
                    }
                    int min = Integer.MAX_VALUE;
                    int max = 0;
                    for (int c = 0; c < cpus; c++) {
                        min = Math.min(min, k.cpu(c).nrRunning());
                        max = Math.max(max, k.cpu(c).nrRunning());
                    }
                    assertTrue(min > 0 || max <= 1, where + ": balanced to " + min + ".." + max);
                    assertEquals(List.of(), k.bugs());
                });
    }

    /** Writes a CPU's {@code cfs_rq.avg.runnable_load_avg} and {@code load_avg}. */
    private void loads(Kernel k, int cpu, long runnable, long load) {
        Structs s = structs(k);
        long avg = new Debugger(k).rq(cpu) + s.offset("rq", "cfs") + s.offset("cfs_rq", "avg");
        s.set(avg, "sched_avg", "runnable_load_avg", runnable);
        s.set(avg, "sched_avg", "load_avg", load);
    }
}
