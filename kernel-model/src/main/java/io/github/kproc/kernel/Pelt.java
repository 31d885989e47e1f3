package io.github.kproc.kernel;

import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/sched/pelt.c}: per-entity load tracking on a {@code struct sched_avg} in the arena
 * (a task's {@code se.avg} or a {@code cfs_rq}'s {@code avg}). Time is counted in 1024 ns units and
 * 1024-unit periods; each period's contribution decays by y per period with y^32 = 1/2, through the
 * kernel's 32.32 fixed-point table {@code runnable_avg_yN_inv}. The sums saturate at
 * {@code LOAD_AVG_MAX}; the averages are sum * weight / (LOAD_AVG_MAX - 1024 + period_contrib).
 * Frequency and CPU capacity scaling are the identity (1024), as on the bundled boards.
 */
final class Pelt {
    /** {@code LOAD_AVG_PERIOD}: the half-life in periods. */
    static final int LOAD_AVG_PERIOD = 32;
    /** {@code LOAD_AVG_MAX}: the largest sum 1024 * sum(y^n) reaches. */
    static final long LOAD_AVG_MAX = 47742;
    /** {@code SCHED_CAPACITY_SCALE}: a CPU's capacity and the util scale. */
    static final long SCHED_CAPACITY_SCALE = 1024;
    /** {@code runnable_avg_yN_inv[n]}: y^n in 32.32 fixed point (kernel/sched/sched-pelt.h, generated). */
    static final long[] RUNNABLE_AVG_YN_INV = {
        0xffffffffL, 0xfa83b2daL, 0xf5257d14L, 0xefe4b99aL, 0xeac0c6e6L, 0xe5b906e6L,
        0xe0ccdeebL, 0xdbfbb796L, 0xd744fcc9L, 0xd2a81d91L, 0xce248c14L, 0xc9b9bd85L,
        0xc5672a10L, 0xc12c4cc9L, 0xbd08a39eL, 0xb8fbaf46L, 0xb504f333L, 0xb123f581L,
        0xad583ee9L, 0xa9a15ab4L, 0xa5fed6a9L, 0xa2704302L, 0x9ef5325fL, 0x9b8d39b9L,
        0x9837f050L, 0x94f4efa8L, 0x91c3d373L, 0x8ea4398aL, 0x8b95c1e3L, 0x88980e80L,
        0x85aac367L, 0x82cd8698L};

    private final AddressSpace m;
    /** {@code sched_avg.last_update_time} (u64). */
    final long lastUpdateTime;
    /** {@code sched_avg.load_sum} (u64). */
    final long loadSum;
    /** {@code sched_avg.runnable_load_sum} (u64). */
    final long runnableLoadSum;
    /** {@code sched_avg.util_sum} (u32). */
    final long utilSum;
    /** {@code sched_avg.period_contrib} (u32). */
    final long periodContrib;
    /** {@code sched_avg.load_avg} (unsigned long). */
    final long loadAvg;
    /** {@code sched_avg.runnable_load_avg} (unsigned long). */
    final long runnableLoadAvg;
    /** {@code sched_avg.util_avg} (unsigned long). */
    final long utilAvg;
    /** {@code sizeof(struct sched_avg)}. */
    final long size;

    Pelt(AddressSpace m, Profile profile) {
        this.m = m;
        this.lastUpdateTime = profile.offsetOf("sched_avg", "last_update_time");
        this.loadSum = profile.offsetOf("sched_avg", "load_sum");
        this.runnableLoadSum = profile.offsetOf("sched_avg", "runnable_load_sum");
        this.utilSum = profile.offsetOf("sched_avg", "util_sum");
        this.periodContrib = profile.offsetOf("sched_avg", "period_contrib");
        this.loadAvg = profile.offsetOf("sched_avg", "load_avg");
        this.runnableLoadAvg = profile.offsetOf("sched_avg", "runnable_load_avg");
        this.utilAvg = profile.offsetOf("sched_avg", "util_avg");
        this.size = profile.sizeOf("sched_avg");
    }

    /** {@code mul_u64_u32_shr(a, mul, 32)}: the top of a 96-bit product. */
    static long mulShr32(long a, long mul) {
        long low = a * mul;
        long high = Math.unsignedMultiplyHigh(a, mul);
        return (high << 32) | (low >>> 32);
    }

    /** {@code decay_load(val, n)}: val * y^n; 0 past 63 half-lives. */
    static long decayLoad(long val, long n) {
        if (Long.compareUnsigned(n, LOAD_AVG_PERIOD * 63L) > 0) {
            return 0;
        }
        int local = (int) n;
        if (local >= LOAD_AVG_PERIOD) {
            val >>>= local / LOAD_AVG_PERIOD;
            local %= LOAD_AVG_PERIOD;
        }
        return mulShr32(val, RUNNABLE_AVG_YN_INV[local]);
    }

    /**
     * {@code __accumulate_pelt_segments(periods, d1, d3)}: the rest of the first period decayed by all
     * the periods, the whole periods between (LOAD_AVG_MAX minus its decayed part minus y^0), and the
     * start of the current one undecayed; a u32.
     */
    static long accumulatePeltSegments(long periods, long d1, long d3) {
        long c1 = decayLoad(d1, periods);
        long c2 = LOAD_AVG_MAX - decayLoad(LOAD_AVG_MAX, periods) - 1024;
        return (c1 + c2 + d3) & 0xffffffffL;
    }

    /**
     * {@code accumulate_sum(delta, cpu, sa, load, runnable, running)}: decays the sums over the periods
     * crossed and adds this update's contribution; returns the number of periods crossed.
     */
    long accumulateSum(long delta, long sa, long load, long runnable, boolean running) {
        long contrib = delta & 0xffffffffL;
        delta += Integer.toUnsignedLong(m.readInt(sa + periodContrib));
        long periods = delta / 1024;
        if (periods != 0) {
            m.writeLong(sa + loadSum, decayLoad(m.readLong(sa + loadSum), periods));
            m.writeLong(sa + runnableLoadSum, decayLoad(m.readLong(sa + runnableLoadSum), periods));
            m.writeInt(sa + utilSum, (int) decayLoad(Integer.toUnsignedLong(m.readInt(sa + utilSum)), periods));
            delta %= 1024;
            contrib = accumulatePeltSegments(periods, 1024 - Integer.toUnsignedLong(m.readInt(sa + periodContrib)),
                    delta);
        }
        m.writeInt(sa + periodContrib, (int) delta);
        if (load != 0) {
            m.writeLong(sa + loadSum, m.readLong(sa + loadSum) + load * contrib);
        }
        if (runnable != 0) {
            m.writeLong(sa + runnableLoadSum, m.readLong(sa + runnableLoadSum) + runnable * contrib);
        }
        if (running) {
            m.writeInt(sa + utilSum, (int) (m.readInt(sa + utilSum) + contrib * SCHED_CAPACITY_SCALE));
        }
        return periods;
    }

    /**
     * {@code ___update_load_sum(now, cpu, sa, load, runnable, running)}: the sums brought to
     * {@code now} in whole 1024 ns units; true if a period boundary was crossed (the averages are due).
     */
    boolean updateLoadSum(long now, long sa, long load, long runnable, boolean running) {
        long delta = now - m.readLong(sa + lastUpdateTime);
        if (delta < 0) {
            m.writeLong(sa + lastUpdateTime, now);
            return false;
        }
        delta >>>= 10;
        if (delta == 0) {
            return false;
        }
        m.writeLong(sa + lastUpdateTime, m.readLong(sa + lastUpdateTime) + (delta << 10));
        if (load == 0) {
            runnable = 0;
            running = false;
        }
        return accumulateSum(delta, sa, load, runnable, running) != 0;
    }

    /** {@code LOAD_AVG_MAX - 1024 + sa->period_contrib}: the divider of the averages. */
    long divider(long sa) {
        return LOAD_AVG_MAX - 1024 + Integer.toUnsignedLong(m.readInt(sa + periodContrib));
    }

    /** {@code ___update_load_avg(sa, load, runnable)}: the averages from the sums. */
    void updateLoadAvg(long sa, long load, long runnable) {
        long divider = divider(sa);
        m.writePointer(sa + loadAvg, Long.divideUnsigned(load * m.readLong(sa + loadSum), divider));
        m.writePointer(sa + runnableLoadAvg, Long.divideUnsigned(runnable * m.readLong(sa + runnableLoadSum), divider));
        m.writePointer(sa + utilAvg, Integer.toUnsignedLong(m.readInt(sa + utilSum)) / divider);
    }

    long loadAvg(long sa) {
        return m.readPointer(sa + loadAvg);
    }

    long runnableLoadAvg(long sa) {
        return m.readPointer(sa + runnableLoadAvg);
    }

    long utilAvg(long sa) {
        return m.readPointer(sa + utilAvg);
    }

    long loadSum(long sa) {
        return m.readLong(sa + loadSum);
    }

    long runnableLoadSum(long sa) {
        return m.readLong(sa + runnableLoadSum);
    }

    long utilSum(long sa) {
        return Integer.toUnsignedLong(m.readInt(sa + utilSum));
    }

    long lastUpdateTime(long sa) {
        return m.readLong(sa + lastUpdateTime);
    }

    /** {@code sub_positive(&field, value)} of an unsigned long member: never below 0. */
    void subPositiveUlong(long address, long value) {
        long var = m.readPointer(address);
        long res = var - value;
        m.writePointer(address, Long.compareUnsigned(res, var) > 0 ? 0 : res);
    }

    /** {@code sub_positive} of a u64 member. */
    void subPositiveU64(long address, long value) {
        long var = m.readLong(address);
        long res = var - value;
        m.writeLong(address, Long.compareUnsigned(res, var) > 0 ? 0 : res);
    }

    /** {@code sub_positive} of a u32 member. */
    void subPositiveU32(long address, long value) {
        long var = Integer.toUnsignedLong(m.readInt(address));
        long res = (var - (value & 0xffffffffL)) & 0xffffffffL;
        m.writeInt(address, (int) (res > var ? 0 : res));
    }
}
