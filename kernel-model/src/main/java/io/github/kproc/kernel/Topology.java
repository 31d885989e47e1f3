package io.github.kproc.kernel;

import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.SlabCache;

/**
 * {@code kernel/sched/topology.c}: the scheduling domains {@code sched_init_smp} builds once the CPUs
 * are up, in the arena at the profile's layouts: per CPU a {@code struct sched_domain} per level (with
 * its span), reached from {@code rq->sd} and linked by {@code parent}/{@code child}, whose
 * {@code groups} is a circular list of {@code struct sched_group}s, each with its
 * {@code struct sched_group_capacity}; the per-CPU {@code sd_llc}, {@code sd_llc_size},
 * {@code sd_llc_id} and {@code sd_llc_shared}; and the root domains: {@code def_root_domain} in the
 * image's data, which {@code sched_init} attaches every runqueue to, and the {@code kmalloc}'d one
 * {@code build_sched_domains} moves them to ({@code rq->rd}).
 *
 * <p>The machine is one cluster unless {@link Kernel.Builder#clusters(int...)} says otherwise. The
 * levels are the build's: arm64's {@code default_topology} (CONFIG_SCHED_MC, no SMT) has MC, a
 * cluster sharing its cache (SD_SHARE_PKG_RESOURCES, with a {@code sched_domain_shared}), and DIE
 * over all CPUs, whose groups are the clusters; one cluster spans every CPU at MC already, so DIE is
 * not built, and a one-CPU cluster's MC is degenerate and dropped. ARM32's {@code arm_topology}
 * without CONFIG_SCHED_MC (the vexpress build) has DIE alone, one group per CPU, whatever the
 * clusters. A one-CPU machine has no domain at all. The fields are {@code sd_init}'s.
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
    private final long sgcNextUpdate;
    private final long sgcImbalance;
    /** {@code &sd_llc}, {@code &sd_llc_size}, {@code &sd_llc_id}, {@code &sd_llc_shared}: per-CPU variables. */
    final long sdLlcVar;
    final long sdLlcSizeVar;
    final long sdLlcIdVar;
    final long sdLlcSharedVar;
    /** {@code struct root_domain}'s members the model keeps. */
    private final long rdRefcount;
    private final long rdSpan;
    private final long rdOnline;
    private final long rdDlBw;
    private final long rdRtoCpu;
    private final long rdMaxCpuCapacity;
    private final long rdSize;
    private final long rqOnline;
    /** {@code &def_root_domain}, in the image's data. */
    final long defRootDomain;
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
        this.sgcNextUpdate = p.offsetOf("sched_group_capacity", "next_update");
        this.sgcImbalance = p.offsetOf("sched_group_capacity", "imbalance");
        this.sdsRef = p.offsetOf("sched_domain_shared", "ref");
        this.sdsNrBusyCpus = p.offsetOf("sched_domain_shared", "nr_busy_cpus");
        int nrCpus = mc.platform.nrCpus();
        this.cpumaskSize = (long) ((nrCpus + 8 * ptr - 1) / (8 * ptr)) * ptr;
        this.mcLevel = p.config().enabled("CONFIG_SCHED_MC");
        this.sdSize = p.sizeOf("sched_domain") + cpumaskSize;
        this.sgSize = p.sizeOf("sched_group") + cpumaskSize;
        this.sgcSize = p.sizeOf("sched_group_capacity") + cpumaskSize;
        this.sdsSize = p.sizeOf("sched_domain_shared");
        this.sdLlcVar = mc.perCpu.define(ptr, ptr);
        this.sdLlcSizeVar = mc.perCpu.define(4, 4);
        this.sdLlcIdVar = mc.perCpu.define(4, 4);
        this.sdLlcSharedVar = mc.perCpu.define(ptr, ptr);
        mc.sdLlc = sdLlcVar;
        mc.sdLlcSize = sdLlcSizeVar;
        mc.sdLlcId = sdLlcIdVar;
        mc.sdLlcShared = sdLlcSharedVar;
        this.rdRefcount = p.offsetOf("root_domain", "refcount");
        this.rdSpan = p.offsetOf("root_domain", "span");
        this.rdOnline = p.offsetOf("root_domain", "online");
        this.rdDlBw = p.offsetOf("root_domain", "dl_bw") + p.offsetOf("dl_bw", "bw");
        this.rdRtoCpu = p.offsetOf("root_domain", "rto_cpu");
        this.rdMaxCpuCapacity = p.offsetOf("root_domain", "max_cpu_capacity");
        this.rdSize = p.sizeOf("root_domain");
        this.rqOnline = p.offsetOf("rq", "online");
        this.defRootDomain = mc.staticAlloc(rdSize, Math.max(8, p.struct("root_domain").alignment()));
        mc.defRootDomain = defRootDomain;
        schedInitRootDomains();
    }

    // ---- root domains (topology.c): def_root_domain, alloc_rootdomain, rq_attach_root ----

    /** {@code BW_SHIFT}: deadline bandwidths are fractions of 2^20. */
    private static final int BW_SHIFT = 20;

    /**
     * {@code sched_init}'s part: {@code init_defrootdomain} (refcount 1) and, per CPU, capacities of
     * SCHED_CAPACITY_SCALE and {@code rq_attach_root(rq, &def_root_domain)}; only the boot CPU is
     * active then ({@code boot_cpu_init}), so only it is set online.
     */
    private void schedInitRootDomains() {
        initRootdomain(defRootDomain);
        m.writeInt(defRootDomain + rdRefcount, 1);
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            rq.setCpuCapacity(cpu, Pelt.SCHED_CAPACITY_SCALE, Pelt.SCHED_CAPACITY_SCALE);
            rqAttachRoot(cpu, defRootDomain, cpu == 0);
        }
    }

    /**
     * {@code init_rootdomain(rd)}: the cpumasks are inline (no CONFIG_CPUMASK_OFFSTACK) and start
     * empty; {@code rto_cpu} -1 (HAVE_RT_PUSH_IPI); {@code init_dl_bw}: bw = {@code to_ratio} of the
     * default global RT period and runtime (1 s, 0.95 s). (The {@code cpudl} and {@code cpupri}
     * arrays are not modelled.)
     */
    private void initRootdomain(long rd) {
        m.writeInt(rd + rdRtoCpu, -1);
        m.writeLong(rd + rdDlBw, (950_000_000L << BW_SHIFT) / 1_000_000_000L);
    }

    /** {@code alloc_rootdomain}: a zeroed {@code kmalloc} object, {@code init_rootdomain}. */
    private long allocRootdomain() {
        long rd = kmallocCache(rdSize).zalloc();
        initRootdomain(rd);
        return rd;
    }

    /** {@code rq->rd}. */
    long rd(int cpu) {
        return m.readPointer(rq.cpuRq(cpu) + rq.rd);
    }

    /**
     * {@code rq_attach_root(rq, rd)}: off the old root domain ({@code set_rq_offline} if online there,
     * out of its span, a reference dropped), a reference on the new one, into its span, and
     * {@code set_rq_online} if the CPU is active. (The old one is never the last reference here:
     * {@code def_root_domain} keeps its own.)
     */
    void rqAttachRoot(int cpu, long rd) {
        rqAttachRoot(cpu, rd, mc.online[cpu]);
    }

    private void rqAttachRoot(int cpu, long rd, boolean active) {
        long old = rd(cpu);
        if (old != 0) {
            if (testCpu(old + rdOnline, cpu)) {
                clearCpu(old + rdOnline, cpu);
                m.writeInt(rq.cpuRq(cpu) + rqOnline, 0);
            }
            clearCpu(old + rdSpan, cpu);
            m.writeInt(old + rdRefcount, m.readInt(old + rdRefcount) - 1);
        }
        m.writeInt(rd + rdRefcount, m.readInt(rd + rdRefcount) + 1);
        m.writePointer(rq.cpuRq(cpu) + rq.rd, rd);
        setCpu(rd + rdSpan, cpu);
        if (active) {
            setRqOnline(cpu);
        }
    }

    /**
     * {@code set_rq_online(rq)} (from {@code rq_attach_root}, or {@code sched_cpu_activate} as a CPU
     * comes up): the CPU into its root domain's {@code online} mask and {@code rq->online = 1}.
     */
    void setRqOnline(int cpu) {
        long base = rq.cpuRq(cpu);
        if (m.readInt(base + rqOnline) == 0) {
            setCpu(rd(cpu) + rdOnline, cpu);
            m.writeInt(base + rqOnline, 1);
        }
    }

    long maxCpuCapacity(long rd) {
        return m.readPointer(rd + rdMaxCpuCapacity);
    }

    void setMaxCpuCapacity(long rd, long capacity) {
        m.writePointer(rd + rdMaxCpuCapacity, capacity);
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

    /** {@code per_cpu(sd_llc, cpu)}: the CPU's highest cache-sharing domain, or 0 (ARM32's DIE shares no cache). */
    long llc(int cpu) {
        return m.readPointer(mc.perCpu.ptr(sdLlcVar, cpu));
    }

    /** {@code per_cpu(sd_llc_size, cpu)}: the LLC domain's weight, or 1. */
    int llcSize(int cpu) {
        return m.readInt(mc.perCpu.ptr(sdLlcSizeVar, cpu));
    }

    /** {@code cpus_share_cache(a, b)}: {@code per_cpu(sd_llc_id, a) == per_cpu(sd_llc_id, b)}. */
    boolean cpusShareCache(int a, int b) {
        return m.readInt(mc.perCpu.ptr(sdLlcIdVar, a)) == m.readInt(mc.perCpu.ptr(sdLlcIdVar, b));
    }

    long next(long sg) {
        return m.readPointer(sg + sgNext);
    }

    /** {@code group->sgc->capacity}. */
    long groupCapacity(long sg) {
        return m.readPointer(m.readPointer(sg + sgSgc) + sgcCapacity);
    }

    /** {@code group->sgc->imbalance}: {@code sg_imbalanced}, set when affinity kept a child domain unbalanced. */
    int groupImbalance(long sg) {
        return m.readInt(m.readPointer(sg + sgSgc) + sgcImbalance);
    }

    void setGroupImbalance(long sg, int value) {
        m.writeInt(m.readPointer(sg + sgSgc) + sgcImbalance, value);
    }

    boolean inGroup(long sg, int cpu) {
        return testCpu(sg + sgCpumask, cpu);
    }

    private boolean testCpu(long mask, int cpu) {
        long word = m.readPointer(mask + (long) (cpu / (8 * ptr)) * ptr);
        return (word & (1L << (cpu % (8 * ptr)))) != 0;
    }

    private void clearCpu(long mask, int cpu) {
        long at = mask + (long) (cpu / (8 * ptr)) * ptr;
        m.writePointer(at, m.readPointer(at) & ~(1L << (cpu % (8 * ptr))));
    }

    private void setCpu(long mask, int cpu) {
        long at = mask + (long) (cpu / (8 * ptr)) * ptr;
        m.writePointer(at, m.readPointer(at) | (1L << (cpu % (8 * ptr))));
    }

    /**
     * {@code sched_init_smp} -> {@code sched_init_domains} -> {@code build_sched_domains} over the
     * online CPUs, step by step as 4.19 takes them: {@code __sdt_alloc} (a {@code sched_domain},
     * {@code sched_domain_shared}, {@code sched_group} and {@code sched_group_capacity} per level and
     * CPU), {@code alloc_rootdomain}; per CPU the levels bottom-up ({@code build_sched_domain} ->
     * {@code sd_init}) until one spans every CPU of the map; {@code build_sched_groups} per domain;
     * {@code claim_allocations} and {@code init_sched_groups_capacity} from the highest CPU down;
     * {@code cpu_attach_domain} (degenerate levels dropped, {@code rq_attach_root},
     * {@code update_top_cache_domain}); {@code __sdt_free} of what no domain claimed. The levels are
     * the build's: arm64's {@code default_topology} with CONFIG_SCHED_MC is MC (a cluster,
     * {@code cpu_coregroup_mask}) then DIE (every CPU, {@code cpu_cpu_mask}); ARM32's
     * {@code arm_topology} without CONFIG_SCHED_MC is DIE alone, whatever the clusters.
     */
    void buildSchedDomains() {
        long cpuMap = 0;
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            if (mc.online[cpu]) {
                cpuMap |= 1L << cpu;
            }
        }
        int levels = mcLevel ? 2 : 1;
        sdCache = kmallocCache(sdSize);
        sdsCache = kmallocCache(sdsSize);
        sgCache = kmallocCache(sgSize);
        sgcCache = kmallocCache(sgcSize);
        // __sdt_alloc: every level, every CPU of the map
        long[][] sdd = new long[levels][mc.cpus];
        long[][] sds = new long[levels][mc.cpus];
        long[][] sgs = new long[levels][mc.cpus];
        long[][] sgcs = new long[levels][mc.cpus];
        for (int l = 0; l < levels; l++) {
            for (int j = 0; j < mc.cpus; j++) {
                if ((cpuMap & (1L << j)) == 0) {
                    continue;
                }
                sdd[l][j] = sdCache.zalloc();
                sds[l][j] = sdsCache.zalloc();
                sgs[l][j] = sgCache.zalloc();
                m.writePointer(sgs[l][j] + sgNext, sgs[l][j]);
                sgcs[l][j] = sgcCache.zalloc();
            }
        }
        long rd = allocRootdomain();
        long jiffies = ulong(mc.clock / (1_000_000_000L / mc.hz));
        long[] base = new long[mc.cpus];
        for (int i = 0; i < mc.cpus; i++) {
            if ((cpuMap & (1L << i)) == 0) {
                continue;
            }
            long sd = 0;
            for (int l = 0; l < levels; l++) {
                sd = buildSchedDomain(l, sdd[l][i], sds[l], cpuMap, sd, i, jiffies);
                if (l == 0) {
                    base[i] = sd;
                }
                if (span(sd) == cpuMap) {
                    break;
                }
            }
        }
        for (int i = 0; i < mc.cpus; i++) {
            if ((cpuMap & (1L << i)) == 0) {
                continue;
            }
            for (long sd = base[i]; sd != 0; sd = parent(sd)) {
                m.writeInt(sd + sdSpanWeight, Long.bitCount(span(sd)));
                buildSchedGroups(sd, i, sdd[m.readInt(sd + sdLevel)], sgs[m.readInt(sd + sdLevel)],
                        sgcs[m.readInt(sd + sdLevel)]);
            }
        }
        for (int i = mc.cpus - 1; i >= 0; i--) {
            if ((cpuMap & (1L << i)) == 0) {
                continue;
            }
            for (long sd = base[i]; sd != 0; sd = parent(sd)) {
                int l = m.readInt(sd + sdLevel);
                // claim_allocations: what a domain or group holds a reference to is not freed below
                sdd[l][i] = 0;
                if (m.readInt(sds[l][i] + sdsRef) != 0) {
                    sds[l][i] = 0;
                }
                if (m.readInt(sgs[l][i] + sgRef) != 0) {
                    sgs[l][i] = 0;
                }
                if (m.readInt(sgcs[l][i] + sgcRef) != 0) {
                    sgcs[l][i] = 0;
                }
                initSchedGroupsCapacity(i, sd, jiffies, Long.bitCount(cpuMap));
            }
        }
        for (int i = 0; i < mc.cpus; i++) {
            if ((cpuMap & (1L << i)) == 0) {
                continue;
            }
            if (rq.cpuCapacityOrig(i) > maxCpuCapacity(rd)) {
                setMaxCpuCapacity(rd, rq.cpuCapacityOrig(i));
            }
            cpuAttachDomain(base[i], rd, i);
        }
        // __free_domain_allocs(sa_rootdomain): the root domain is in use; __sdt_free of the unclaimed
        for (int l = 0; l < levels; l++) {
            for (int j = 0; j < mc.cpus; j++) {
                if ((cpuMap & (1L << j)) == 0) {
                    continue;
                }
                kfree(sdCache, sdd[l][j]);
                kfree(sdsCache, sds[l][j]);
                kfree(sgCache, sgs[l][j]);
                kfree(sgcCache, sgcs[l][j]);
            }
        }
    }

    private SlabCache sdCache;
    private SlabCache sdsCache;
    private SlabCache sgCache;
    private SlabCache sgcCache;

    private static void kfree(SlabCache cache, long object) {
        if (object != 0) {
            cache.free(object);
        }
    }

    /** The CPUs of a domain's span as a bit set (CONFIG_NR_CPUS is at most 64 in the bundled builds). */
    private long span(long sd) {
        return readMask(sd + sdSpan);
    }

    private long readMask(long mask) {
        long bits = 0;
        for (int c = 0; c < mc.cpus; c++) {
            if (testCpu(mask, c)) {
                bits |= 1L << c;
            }
        }
        return bits;
    }

    private void writeMask(long mask, long bits) {
        for (int c = 0; c < mc.cpus; c++) {
            if ((bits & (1L << c)) != 0) {
                setCpu(mask, c);
            }
        }
    }

    /**
     * {@code tl->mask(cpu)} of level {@code l}: MC's {@code cpu_coregroup_mask} (the cluster's CPUs,
     * {@code cpu_topology[cpu].core_sibling}; one NUMA node holds them all), DIE's {@code cpu_cpu_mask}
     * (the node's CPUs: every possible CPU).
     */
    private long tlMask(int l, int cpu) {
        long all = mc.cpus == 64 ? -1L : (1L << mc.cpus) - 1;
        if (mcLevel && l == 0) {
            long bits = 0;
            for (int c = 0; c < mc.cpus; c++) {
                if (mc.cluster[c] == mc.cluster[cpu]) {
                    bits |= 1L << c;
                }
            }
            return bits;
        }
        return all;
    }

    /**
     * {@code build_sched_domain} -> {@code sd_init(tl, cpu_map, child, cpu)}: intervals and
     * {@code balance_interval} from the level mask's weight, the flags and indexes each kind of level
     * gets (a cache-sharing level SD_SHARE_PKG_RESOURCES with imbalance_pct 117, busy_idx 2; any other
     * idle_idx 1 too and imbalance_pct 125; both SD_PREFER_SIBLING and cache_nice_tries 1), the span
     * {@code cpu_map & tl->mask(cpu)}, the {@code sched_domain_shared} of the span's first CPU
     * (ref++, nr_busy_cpus = weight) on a cache-sharing level; then {@code level} and the child's
     * {@code parent}. (No CONFIG_SCHED_DEBUG name; {@code set_domain_attribute} changes nothing
     * without a relax_domain_level.)
     */
    private long buildSchedDomain(int l, long sd, long[] sdsOfLevel, long cpuMap, long child, int cpu, long jiffies) {
        long mask = tlMask(l, cpu);
        int sdWeight = Long.bitCount(mask);
        boolean sharePkg = mcLevel && l == 0;
        m.writePointer(sd + sdMinInterval, sdWeight);
        m.writePointer(sd + sdMaxInterval, 2L * sdWeight);
        m.writeInt(sd + sdBusyFactor, 32);
        int flags = SD_LOAD_BALANCE | SD_BALANCE_NEWIDLE | SD_BALANCE_EXEC | SD_BALANCE_FORK | SD_WAKE_AFFINE
                | (sharePkg ? SD_SHARE_PKG_RESOURCES : 0);
        m.writePointer(sd + sdLastBalance, jiffies);
        m.writeInt(sd + sdBalanceInterval, sdWeight);
        m.writePointer(sd + sdNextDecayMaxLbCost, jiffies);
        m.writePointer(sd + sdChild, child);
        long spanBits = cpuMap & mask;
        writeMask(sd + sdSpan, spanBits);
        int sdId = Long.numberOfTrailingZeros(spanBits);
        flags |= SD_PREFER_SIBLING;
        m.writeInt(sd + sdCacheNiceTries, 1);
        m.writeInt(sd + sdBusyIdx, 2);
        if (sharePkg) {
            m.writeInt(sd + sdImbalancePct, 117);
        } else {
            m.writeInt(sd + sdImbalancePct, 125);
            m.writeInt(sd + sdIdleIdx, 1);
        }
        m.writeInt(sd + sdFlags, flags);
        if (sharePkg) {
            long shared = sdsOfLevel[sdId];
            m.writePointer(sd + sdShared, shared);
            m.writeInt(shared + sdsRef, m.readInt(shared + sdsRef) + 1);
            m.writeInt(shared + sdsNrBusyCpus, sdWeight);
        }
        if (child != 0) {
            m.writeInt(sd + sdLevel, m.readInt(child + sdLevel) + 1);
            m.writePointer(child + sdParent, sd);
        }
        return sd;
    }

    /**
     * {@code build_sched_groups(sd, cpu)}: the span walked {@code for_each_cpu_wrap} from the CPU, a
     * group ({@code get_group}) for each CPU not yet covered, linked in that order into a circle whose
     * first is the CPU's own group.
     */
    private void buildSchedGroups(long sd, int cpu, long[] sddOfLevel, long[] sgOfLevel, long[] sgcOfLevel) {
        long span = span(sd);
        long covered = 0;
        long first = 0;
        long last = 0;
        for (int k = 0; k < mc.cpus; k++) {
            int i = (cpu + k) % mc.cpus;
            if ((span & (1L << i)) == 0 || (covered & (1L << i)) != 0) {
                continue;
            }
            long sg = getGroup(i, sddOfLevel, sgOfLevel, sgcOfLevel);
            covered |= readMask(sg + sgCpumask);
            if (first == 0) {
                first = sg;
            }
            if (last != 0) {
                m.writePointer(last + sgNext, sg);
            }
            last = sg;
        }
        m.writePointer(last + sgNext, first);
        m.writePointer(sd + sdGroups, first);
    }

    /**
     * {@code get_group(cpu, sdd)}: the group of the child domain's first CPU (of the CPU itself at the
     * lowest level), a reference on it and its {@code sched_group_capacity}; its span and balance mask
     * the child's span (or the CPU); capacity SCHED_CAPACITY_SCALE per CPU, min_capacity one CPU's.
     */
    private long getGroup(int cpu, long[] sddOfLevel, long[] sgOfLevel, long[] sgcOfLevel) {
        long child = child(sddOfLevel[cpu]);
        long bits = 1L << cpu;
        if (child != 0) {
            bits = span(child);
            cpu = Long.numberOfTrailingZeros(bits);
        }
        long sg = sgOfLevel[cpu];
        long sgc = sgcOfLevel[cpu];
        m.writePointer(sg + sgSgc, sgc);
        m.writeInt(sg + sgRef, m.readInt(sg + sgRef) + 1);
        m.writeInt(sgc + sgcRef, m.readInt(sgc + sgcRef) + 1);
        writeMask(sg + sgCpumask, bits);
        writeMask(sgc + sgcCpumask, bits);
        m.writePointer(sgc + sgcCapacity, Pelt.SCHED_CAPACITY_SCALE * Long.bitCount(bits));
        m.writePointer(sgc + sgcMinCapacity, Pelt.SCHED_CAPACITY_SCALE);
        return sg;
    }

    /**
     * {@code init_sched_groups_capacity(cpu, sd)}: each group's {@code group_weight}; then, on the
     * balance CPU of the CPU's own group only, {@code update_group_capacity}.
     */
    private void initSchedGroupsCapacity(int cpu, long sd, long jiffies, int online) {
        long first = groups(sd);
        long sg = first;
        do {
            m.writeInt(sg + sgGroupWeight, Long.bitCount(readMask(sg + sgCpumask)));
            sg = next(sg);
        } while (sg != first);
        long balanceMask = readMask(m.readPointer(first + sgSgc) + sgcCpumask);
        if (cpu != Long.numberOfTrailingZeros(balanceMask)) {
            return;
        }
        updateGroupCapacity(sd, cpu, jiffies, online);
    }

    /**
     * {@code update_group_capacity(sd, cpu)}: the group's {@code next_update} a balance interval on;
     * at the lowest level {@code update_cpu_capacity} (the CPU's {@code cpu_capacity_orig} and
     * {@code cpu_capacity}: SCHED_CAPACITY_SCALE, no rt, deadline or irq time taken off); above it the
     * sum of the child domain's groups' capacities and the least of their min_capacity.
     */
    /** {@code update_group_capacity(sd, cpu)} at run time, from {@code update_sd_lb_stats}. */
    void updateGroupCapacity(long sd, int cpu, long jiffies) {
        int online = 0;
        for (int c = 0; c < mc.cpus; c++) {
            if (mc.online[c]) {
                online++;
            }
        }
        updateGroupCapacity(sd, cpu, jiffies, online);
    }

    /** {@code group->sgc->next_update} (jiffies). */
    long groupNextUpdate(long sg) {
        return m.readPointer(m.readPointer(sg + sgSgc) + sgcNextUpdate);
    }

    private void updateGroupCapacity(long sd, int cpu, long jiffies, int online) {
        long sgc = m.readPointer(groups(sd) + sgSgc);
        long interval = (balanceInterval(sd) * mc.hz + 999) / 1000;
        interval = Math.max(1, Math.min(interval, mc.hz * online / 10));
        m.writePointer(sgc + sgcNextUpdate, ulong(jiffies + interval));
        long child = child(sd);
        if (child == 0) {
            long capacity = Pelt.SCHED_CAPACITY_SCALE;
            rq.setCpuCapacity(cpu, capacity, capacity);
            m.writePointer(sgc + sgcCapacity, capacity);
            m.writePointer(sgc + sgcMinCapacity, capacity);
            return;
        }
        long capacity = 0;
        long minCapacity = -1L;
        long first = groups(child);
        long g = first;
        do {
            long c = m.readPointer(g + sgSgc);
            capacity += m.readPointer(c + sgcCapacity);
            minCapacity = Long.compareUnsigned(m.readPointer(c + sgcMinCapacity), minCapacity) < 0
                    ? m.readPointer(c + sgcMinCapacity) : minCapacity;
            g = next(g);
        } while (g != first);
        m.writePointer(sgc + sgcCapacity, capacity);
        m.writePointer(sgc + sgcMinCapacity, minCapacity);
    }

    /** {@code sd_degenerate(sd)}: one CPU, or (with balancing flags) one group and no SD_WAKE_AFFINE. */
    private boolean sdDegenerate(long sd) {
        if (Long.bitCount(span(sd)) == 1) {
            return true;
        }
        int needGroups = SD_LOAD_BALANCE | SD_BALANCE_NEWIDLE | SD_BALANCE_FORK | SD_BALANCE_EXEC
                | SD_SHARE_PKG_RESOURCES;
        if ((flags(sd) & needGroups) != 0 && groups(sd) != next(groups(sd))) {
            return false;
        }
        return (flags(sd) & SD_WAKE_AFFINE) == 0;
    }

    /**
     * {@code sd_parent_degenerate(sd, parent)}: the parent is degenerate, or spans the same CPUs and
     * has no flag the child lacks (group-needing flags not counted when it has one group).
     */
    private boolean sdParentDegenerate(long sd, long parent) {
        if (sdDegenerate(parent)) {
            return true;
        }
        if (span(sd) != span(parent)) {
            return false;
        }
        int cflags = flags(sd);
        int pflags = flags(parent);
        if (groups(parent) == next(groups(parent))) {
            pflags &= ~(SD_LOAD_BALANCE | SD_BALANCE_NEWIDLE | SD_BALANCE_FORK | SD_BALANCE_EXEC
                    | SD_SHARE_PKG_RESOURCES | SD_PREFER_SIBLING);
        }
        return (~cflags & pflags) == 0;
    }

    /**
     * {@code destroy_sched_domain(sd)}: {@code free_sched_groups(sd->groups, 1)} drops a reference on
     * each group and capacity round the circle, freeing those left with none; the shared part and the
     * domain likewise.
     */
    private void destroySchedDomain(long sd) {
        long first = groups(sd);
        long sg = first;
        do {
            long tmp = next(sg);
            long sgc = m.readPointer(sg + sgSgc);
            int sgcRefs = m.readInt(sgc + sgcRef) - 1;
            m.writeInt(sgc + sgcRef, sgcRefs);
            if (sgcRefs == 0) {
                sgcCache.free(sgc);
            }
            int refs = m.readInt(sg + sgRef) - 1;
            m.writeInt(sg + sgRef, refs);
            if (refs == 0) {
                sgCache.free(sg);
            }
            sg = tmp;
        } while (sg != first);
        long shared = m.readPointer(sd + sdShared);
        if (shared != 0) {
            int refs = m.readInt(shared + sdsRef) - 1;
            m.writeInt(shared + sdsRef, refs);
            if (refs == 0) {
                sdsCache.free(shared);
            }
        }
        sdCache.free(sd);
    }

    /**
     * {@code cpu_attach_domain(sd, rd, cpu)}: parents that add nothing are removed (SD_PREFER_SIBLING
     * passed down), a degenerate base domain is removed, {@code rq_attach_root}, {@code rq->sd}, and
     * {@code update_top_cache_domain}.
     */
    private void cpuAttachDomain(long sd, long rd, int cpu) {
        for (long tmp = sd; tmp != 0;) {
            long parent = parent(tmp);
            if (parent == 0) {
                break;
            }
            if (sdParentDegenerate(tmp, parent)) {
                long grand = parent(parent);
                m.writePointer(tmp + sdParent, grand);
                if (grand != 0) {
                    m.writePointer(grand + sdChild, tmp);
                }
                if ((flags(parent) & SD_PREFER_SIBLING) != 0) {
                    m.writeInt(tmp + sdFlags, flags(tmp) | SD_PREFER_SIBLING);
                }
                destroySchedDomain(parent);
            } else {
                tmp = parent;
            }
        }
        if (sd != 0 && sdDegenerate(sd)) {
            long tmp = sd;
            sd = parent(sd);
            destroySchedDomain(tmp);
            if (sd != 0) {
                m.writePointer(sd + sdChild, 0);
            }
        }
        rqAttachRoot(cpu, rd);
        m.writePointer(rq.cpuRq(cpu) + rqSd, sd);
        updateTopCacheDomain(cpu);
    }

    /**
     * {@code update_top_cache_domain(cpu)}: the per-CPU {@code sd_llc} (the highest domain with
     * SD_SHARE_PKG_RESOURCES), {@code sd_llc_size} and {@code sd_llc_id} (its weight and first CPU,
     * else 1 and the CPU) and {@code sd_llc_shared}. (No NUMA or asymmetric-packing levels, so
     * {@code sd_numa} and {@code sd_asym} stay NULL.)
     */
    private void updateTopCacheDomain(int cpu) {
        long hsd = 0;
        for (long sd = sd(cpu); sd != 0; sd = parent(sd)) {
            if ((flags(sd) & SD_SHARE_PKG_RESOURCES) == 0) {
                break;
            }
            hsd = sd;
        }
        int id = cpu;
        int size = 1;
        long shared = 0;
        if (hsd != 0) {
            id = Long.numberOfTrailingZeros(span(hsd));
            size = Long.bitCount(span(hsd));
            shared = m.readPointer(hsd + sdShared);
        }
        m.writePointer(mc.perCpu.ptr(sdLlcVar, cpu), hsd);
        m.writeInt(mc.perCpu.ptr(sdLlcSizeVar, cpu), size);
        m.writeInt(mc.perCpu.ptr(sdLlcIdVar, cpu), id);
        m.writePointer(mc.perCpu.ptr(sdLlcSharedVar, cpu), shared);
    }

    private long ulong(long value) {
        return ptr == 4 ? value & 0xffffffffL : value;
    }

    /** The {@code kmalloc-N} cache an object of {@code size} comes from (KMALLOC_MIN_SIZE: the DMA alignment). */
    private SlabCache kmallocCache(long size) {
        return mc.kmallocCache(size);
    }
}
