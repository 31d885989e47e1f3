package io.github.kproc.kernel;

import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.SlabCache;

/**
 * {@code kernel/sched/topology.c}: the scheduling domains {@code sched_init_smp} builds once the CPUs
 * are up, in the arena at the profile's layouts: per CPU a {@code struct sched_domain} (with its
 * span), reached from {@code rq->sd}, whose {@code groups} is a circular list of
 * {@code struct sched_group}s, each with its {@code struct sched_group_capacity}.
 *
 * <p>The simulated machine is one cluster, so the bundled builds have one level: ARM32's
 * {@code arm_topology} without CONFIG_SCHED_MC has only DIE; arm64's {@code default_topology} has MC
 * (SD_SHARE_PKG_RESOURCES, with a {@code sched_domain_shared}) and a DIE of the same span, which
 * {@code cpu_attach_domain} drops as degenerate. Each group is one CPU (the level has no child), and
 * a one-CPU machine has no domain at all. The fields are {@code sd_init}'s.
 */
final class Topology {
    /** {@code SD_LOAD_BALANCE}, {@code SD_BALANCE_NEWIDLE}, {@code SD_BALANCE_EXEC}, ... (include/linux/sched/topology.h). */
    static final int SD_LOAD_BALANCE = 0x0001;
    static final int SD_BALANCE_NEWIDLE = 0x0002;
    static final int SD_BALANCE_EXEC = 0x0004;
    static final int SD_BALANCE_FORK = 0x0008;
    static final int SD_WAKE_AFFINE = 0x0020;
    static final int SD_SHARE_PKG_RESOURCES = 0x0200;
    static final int SD_PREFER_SIBLING = 0x1000;

    private final Machine mc;
    private final AddressSpace m;
    private final Rq rq;
    private final int ptr;
    private final long rqSd;
    private final long sdParent;
    private final long sdChild;
    private final long sdGroups;
    private final long sdMinInterval;
    private final long sdMaxInterval;
    private final long sdBusyFactor;
    private final long sdImbalancePct;
    private final long sdCacheNiceTries;
    private final long sdBusyIdx;
    private final long sdIdleIdx;
    private final long sdForkexecIdx;
    private final long sdFlags;
    private final long sdLevel;
    private final long sdLastBalance;
    private final long sdBalanceInterval;
    private final long sdShared;
    private final long sdSpanWeight;
    private final long sdAvgScanCost;
    private final long sdSpan;
    private final long sdNewidleIdx;
    private final long sdNrBalanceFailed;
    private final long sdMaxNewidleLbCost;
    private final long sdNextDecayMaxLbCost;
    private final long sgNext;
    private final long sgRef;
    private final long sgGroupWeight;
    private final long sgSgc;
    private final long sgCpumask;
    private final long sgcRef;
    private final long sgcCapacity;
    private final long sgcMinCapacity;
    private final long sgcCpumask;
    private final long sdsRef;
    private final long sdsNrBusyCpus;
    /** {@code cpumask_size()}: BITS_TO_LONGS(NR_CPUS) longs. */
    private final long cpumaskSize;
    private final boolean mcLevel;
    private final long sdSize;
    private final long sgSize;
    private final long sgcSize;
    private final long sdsSize;

    Topology(Machine mc, Rq rq) {
        this.mc = mc;
        this.m = mc.m;
        this.rq = rq;
        Profile p = mc.platform.profile();
        this.ptr = mc.platform.pointerSize();
        this.rqSd = p.offsetOf("rq", "sd");
        this.sdParent = p.offsetOf("sched_domain", "parent");
        this.sdChild = p.offsetOf("sched_domain", "child");
        this.sdGroups = p.offsetOf("sched_domain", "groups");
        this.sdMinInterval = p.offsetOf("sched_domain", "min_interval");
        this.sdMaxInterval = p.offsetOf("sched_domain", "max_interval");
        this.sdBusyFactor = p.offsetOf("sched_domain", "busy_factor");
        this.sdImbalancePct = p.offsetOf("sched_domain", "imbalance_pct");
        this.sdCacheNiceTries = p.offsetOf("sched_domain", "cache_nice_tries");
        this.sdBusyIdx = p.offsetOf("sched_domain", "busy_idx");
        this.sdIdleIdx = p.offsetOf("sched_domain", "idle_idx");
        this.sdForkexecIdx = p.offsetOf("sched_domain", "forkexec_idx");
        this.sdFlags = p.offsetOf("sched_domain", "flags");
        this.sdLevel = p.offsetOf("sched_domain", "level");
        this.sdLastBalance = p.offsetOf("sched_domain", "last_balance");
        this.sdBalanceInterval = p.offsetOf("sched_domain", "balance_interval");
        this.sdShared = p.offsetOf("sched_domain", "shared");
        this.sdSpanWeight = p.offsetOf("sched_domain", "span_weight");
        this.sdAvgScanCost = p.offsetOf("sched_domain", "avg_scan_cost");
        this.sdSpan = p.offsetOf("sched_domain", "span");
        this.sdNewidleIdx = p.offsetOf("sched_domain", "newidle_idx");
        this.sdNrBalanceFailed = p.offsetOf("sched_domain", "nr_balance_failed");
        this.sdMaxNewidleLbCost = p.offsetOf("sched_domain", "max_newidle_lb_cost");
        this.sdNextDecayMaxLbCost = p.offsetOf("sched_domain", "next_decay_max_lb_cost");
        this.sgNext = p.offsetOf("sched_group", "next");
        this.sgRef = p.offsetOf("sched_group", "ref");
        this.sgGroupWeight = p.offsetOf("sched_group", "group_weight");
        this.sgSgc = p.offsetOf("sched_group", "sgc");
        this.sgCpumask = p.offsetOf("sched_group", "cpumask");
        this.sgcRef = p.offsetOf("sched_group_capacity", "ref");
        this.sgcCapacity = p.offsetOf("sched_group_capacity", "capacity");
        this.sgcMinCapacity = p.offsetOf("sched_group_capacity", "min_capacity");
        this.sgcCpumask = p.offsetOf("sched_group_capacity", "cpumask");
        this.sdsRef = p.offsetOf("sched_domain_shared", "ref");
        this.sdsNrBusyCpus = p.offsetOf("sched_domain_shared", "nr_busy_cpus");
        int nrCpus = mc.platform.nrCpus();
        this.cpumaskSize = (long) ((nrCpus + 8 * ptr - 1) / (8 * ptr)) * ptr;
        this.mcLevel = p.config().enabled("CONFIG_SCHED_MC");
        this.sdSize = p.sizeOf("sched_domain") + cpumaskSize;
        this.sgSize = p.sizeOf("sched_group") + cpumaskSize;
        this.sgcSize = p.sizeOf("sched_group_capacity") + cpumaskSize;
        this.sdsSize = p.sizeOf("sched_domain_shared");
    }

    /** {@code rq->sd}: the CPU's lowest domain, or 0. */
    long sd(int cpu) {
        return m.readPointer(rq.cpuRq(cpu) + rqSd);
    }

    long parent(long sd) {
        return m.readPointer(sd + sdParent);
    }

    long child(long sd) {
        return m.readPointer(sd + sdChild);
    }

    long groups(long sd) {
        return m.readPointer(sd + sdGroups);
    }

    int flags(long sd) {
        return m.readInt(sd + sdFlags);
    }

    int imbalancePct(long sd) {
        return m.readInt(sd + sdImbalancePct);
    }

    int spanWeight(long sd) {
        return m.readInt(sd + sdSpanWeight);
    }

    /** {@code sd->last_balance} (jiffies). */
    long lastBalance(long sd) {
        return m.readPointer(sd + sdLastBalance);
    }

    void setLastBalance(long sd, long jiffy) {
        m.writePointer(sd + sdLastBalance, jiffy);
    }

    /** {@code sd->balance_interval} (ms). */
    int balanceInterval(long sd) {
        return m.readInt(sd + sdBalanceInterval);
    }

    void setBalanceInterval(long sd, int ms) {
        m.writeInt(sd + sdBalanceInterval, ms);
    }

    long minInterval(long sd) {
        return m.readPointer(sd + sdMinInterval);
    }

    long maxInterval(long sd) {
        return m.readPointer(sd + sdMaxInterval);
    }

    int busyFactor(long sd) {
        return m.readInt(sd + sdBusyFactor);
    }

    int cacheNiceTries(long sd) {
        return m.readInt(sd + sdCacheNiceTries);
    }

    /** {@code sd->nr_balance_failed}. */
    int nrBalanceFailed(long sd) {
        return m.readInt(sd + sdNrBalanceFailed);
    }

    void setNrBalanceFailed(long sd, int n) {
        m.writeInt(sd + sdNrBalanceFailed, n);
    }

    long maxNewidleLbCost(long sd) {
        return m.readLong(sd + sdMaxNewidleLbCost);
    }

    void setMaxNewidleLbCost(long sd, long cost) {
        m.writeLong(sd + sdMaxNewidleLbCost, cost);
    }

    long nextDecayMaxLbCost(long sd) {
        return m.readPointer(sd + sdNextDecayMaxLbCost);
    }

    void setNextDecayMaxLbCost(long sd, long jiffy) {
        m.writePointer(sd + sdNextDecayMaxLbCost, jiffy);
    }

    /** {@code get_sd_load_idx(sd, idle)}: busy_idx when not idle, newidle_idx when newly idle, else idle_idx. */
    int loadIdx(long sd, int idle) {
        long field = idle == Fair.CPU_NOT_IDLE ? sdBusyIdx : idle == Fair.CPU_NEWLY_IDLE ? sdNewidleIdx : sdIdleIdx;
        return m.readInt(sd + field);
    }

    /** {@code group->group_weight}. */
    int groupWeight(long sg) {
        return m.readInt(sg + sgGroupWeight);
    }

    boolean inDomainSpan(long sd, int cpu) {
        return testCpu(sd + sdSpan, cpu);
    }

    /** {@code sd->avg_scan_cost}. */
    long avgScanCost(long sd) {
        return m.readLong(sd + sdAvgScanCost);
    }

    void setAvgScanCost(long sd, long value) {
        m.writeLong(sd + sdAvgScanCost, value);
    }

    /**
     * {@code per_cpu(sd_llc, cpu)} as {@code update_top_cache_domain} derives it: the highest domain
     * with SD_SHARE_PKG_RESOURCES ({@code highest_flag_domain}), or 0 (ARM32's DIE shares no cache).
     */
    long llc(int cpu) {
        long hsd = 0;
        for (long sd = sd(cpu); sd != 0; sd = parent(sd)) {
            if ((flags(sd) & SD_SHARE_PKG_RESOURCES) == 0) {
                break;
            }
            hsd = sd;
        }
        return hsd;
    }

    /** {@code per_cpu(sd_llc_size, cpu)}: the LLC domain's weight, or 1. */
    int llcSize(int cpu) {
        long llc = llc(cpu);
        return llc == 0 ? 1 : spanWeight(llc);
    }

    /** {@code cpus_share_cache(a, b)}: the same {@code sd_llc_id} (the LLC span's first CPU, or the CPU itself). */
    boolean cpusShareCache(int a, int b) {
        return llcId(a) == llcId(b);
    }

    private int llcId(int cpu) {
        long llc = llc(cpu);
        if (llc == 0) {
            return cpu;
        }
        for (int c = 0; c < mc.cpus; c++) {
            if (inDomainSpan(llc, c)) {
                return c;
            }
        }
        return cpu;
    }

    long next(long sg) {
        return m.readPointer(sg + sgNext);
    }

    /** {@code group->sgc->capacity}. */
    long groupCapacity(long sg) {
        return m.readPointer(m.readPointer(sg + sgSgc) + sgcCapacity);
    }

    boolean inGroup(long sg, int cpu) {
        return testCpu(sg + sgCpumask, cpu);
    }

    private boolean testCpu(long mask, int cpu) {
        long word = m.readPointer(mask + (long) (cpu / (8 * ptr)) * ptr);
        return (word & (1L << (cpu % (8 * ptr)))) != 0;
    }

    private void setCpu(long mask, int cpu) {
        long at = mask + (long) (cpu / (8 * ptr)) * ptr;
        m.writePointer(at, m.readPointer(at) | (1L << (cpu % (8 * ptr))));
    }

    /**
     * {@code sched_init_smp} -> {@code sched_init_domains} -> {@code build_sched_domains} over the
     * online CPUs: {@code sd_init} of the one level per CPU, one group per CPU linked in CPU order
     * ({@code build_sched_groups} walks {@code for_each_cpu_wrap} from the domain's CPU, so each
     * domain's {@code groups} is its own CPU's), {@code init_sched_groups_capacity}, and
     * {@code cpu_attach_domain} setting {@code rq->sd}. Nothing on a one-CPU machine.
     */
    void buildSchedDomains() {
        int weight = 0;
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            if (mc.online[cpu]) {
                weight++;
            }
        }
        if (weight < 2) {
            return;
        }
        SlabCache sdCache = kmallocCache(sdSize);
        SlabCache sgCache = kmallocCache(sgSize);
        SlabCache sgcCache = kmallocCache(sgcSize);
        long shared = 0;
        if (mcLevel) {
            // __sdt_alloc's sched_domain_shared of the first CPU of the span: ref per domain, nr_busy_cpus = weight
            shared = kmallocCache(sdsSize).zalloc();
            m.writeInt(shared + sdsRef, weight);
            m.writeInt(shared + sdsNrBusyCpus, weight);
        }
        long[] groups = new long[mc.cpus];
        long firstGroup = 0;
        long lastGroup = 0;
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            if (!mc.online[cpu]) {
                continue;
            }
            long sgc = sgcCache.zalloc();
            m.writeInt(sgc + sgcRef, 1);
            setCpu(sgc + sgcCpumask, cpu);
            m.writePointer(sgc + sgcCapacity, Pelt.SCHED_CAPACITY_SCALE);
            m.writePointer(sgc + sgcMinCapacity, Pelt.SCHED_CAPACITY_SCALE);
            long sg = sgCache.zalloc();
            m.writeInt(sg + sgRef, weight);
            m.writeInt(sg + sgGroupWeight, 1);
            m.writePointer(sg + sgSgc, sgc);
            setCpu(sg + sgCpumask, cpu);
            if (lastGroup != 0) {
                m.writePointer(lastGroup + sgNext, sg);
            } else {
                firstGroup = sg;
            }
            lastGroup = sg;
            groups[cpu] = sg;
        }
        m.writePointer(lastGroup + sgNext, firstGroup);
        long jiffies = mc.clock / (1_000_000_000L / mc.hz);
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            if (!mc.online[cpu]) {
                continue;
            }
            long sd = sdCache.zalloc();
            m.writePointer(sd + sdMinInterval, weight);
            m.writePointer(sd + sdMaxInterval, 2L * weight);
            m.writeInt(sd + sdBusyFactor, 32);
            int flags = SD_LOAD_BALANCE | SD_BALANCE_NEWIDLE | SD_BALANCE_EXEC | SD_BALANCE_FORK | SD_WAKE_AFFINE
                    | SD_PREFER_SIBLING;
            m.writeInt(sd + sdCacheNiceTries, 1);
            m.writeInt(sd + sdBusyIdx, 2);
            if (mcLevel) {
                flags |= SD_SHARE_PKG_RESOURCES;
                m.writeInt(sd + sdImbalancePct, 117);
                m.writePointer(sd + sdShared, shared);
            } else {
                m.writeInt(sd + sdImbalancePct, 125);
                m.writeInt(sd + sdIdleIdx, 1);
            }
            m.writeInt(sd + sdForkexecIdx, 0);
            m.writeInt(sd + sdFlags, flags);
            m.writeInt(sd + sdLevel, 0);
            m.writePointer(sd + sdLastBalance, jiffies);
            m.writePointer(sd + sdNextDecayMaxLbCost, jiffies);
            m.writeInt(sd + sdBalanceInterval, weight);
            m.writeInt(sd + sdSpanWeight, weight);
            for (int c = 0; c < mc.cpus; c++) {
                if (mc.online[c]) {
                    setCpu(sd + sdSpan, c);
                }
            }
            m.writePointer(sd + sdGroups, groups[cpu]);
            m.writePointer(rq.cpuRq(cpu) + rqSd, sd);
        }
    }

    /** The {@code kmalloc-N} cache an object of {@code size} comes from (KMALLOC_MIN_SIZE: the DMA alignment). */
    private SlabCache kmallocCache(long size) {
        return mc.kmallocCache(size);
    }
}
