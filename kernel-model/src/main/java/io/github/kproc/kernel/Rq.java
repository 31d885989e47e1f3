package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code struct rq}: the per-CPU variable {@code runqueues}, one {@code struct rq} per CPU in the
 * per-CPU areas at the profile's layout (kernel/sched/sched.h, from {@code sched.pahole}), as
 * {@code sched_init} sets it up. The core reads and writes its {@code curr}, {@code idle},
 * {@code nr_running}, {@code nr_switches}, {@code clock}/{@code clock_task} and {@code cpu} there; the
 * classes keep their queues in its {@code cfs} and {@code rt}. Also {@code resched_curr}, which the
 * classes call.
 */
final class Rq {
    private final Machine mc;
    private final AddressSpace m;
    private final Platform platform;
    private final Offsets o;
    private final Fields f;
    /** {@code &runqueues}: the variable's address in the per-CPU section (a System.map symbol). */
    final long runqueues;
    /** {@code sizeof(struct rq)}. */
    final long size;
    /** {@code rq.nr_running}: queued plus running tasks of every class but idle. */
    private final long nrRunning;
    /** {@code rq.nr_switches}. */
    private final long nrSwitches;
    /** {@code rq.curr}. */
    private final long curr;
    /** {@code rq.idle}. */
    private final long idle;
    /** {@code rq.clock}. */
    private final long clock;
    /** {@code rq.clock_task}. */
    private final long clockTask;
    /** {@code rq.cpu}. */
    private final long cpu;
    /** {@code rq.online}. */
    private final long online;
    /** {@code rq.cfs}: the CPU's {@code struct cfs_rq}. */
    final long cfs;
    /** {@code rq.rt}: the CPU's {@code struct rt_rq}. */
    final long rt;
    /** {@code rq.avg_idle}: the average idle time select_idle_cpu scales its scan by. */
    private final long avgIdle;
    /** {@code sysctl_sched_migration_cost}: 0.5 ms. */
    static final long SCHED_MIGRATION_COST = 500_000L;
    /** {@code rq.cfs_tasks}: every fair task on the CPU through its {@code se.group_node}. */
    final long cfsTasks;
    /** {@code per_cpu_ptr(&runqueues, cpu)}, derived once at boot (the per-CPU offsets never change). */
    private final long[] base;
    /** {@code rq.cpu_load[CPU_LOAD_IDX_MAX]}: the tick-decayed loads load balancing biases by. */
    private final long cpuLoad;
    /** {@code CPU_LOAD_IDX_MAX}. */
    static final int CPU_LOAD_IDX_MAX = 5;
    /** {@code rq.nr_load_updates}. */
    private final long nrLoadUpdates;
    /** {@code rq.next_balance}: the jiffy from which the tick raises SCHED_SOFTIRQ. */
    private final long nextBalance;
    /** {@code rq.idle_balance}: the CPU was idle at its last tick. */
    private final long idleBalance;
    /** {@code rq.idle_stamp}: when newly-idle balancing last found nothing to pull. */
    private final long idleStamp;
    /** {@code rq.max_idle_balance_cost}. */
    private final long maxIdleBalanceCost;
    /** {@code rq.rd}: the root domain the CPU is attached to ({@link Topology#rqAttachRoot}). */
    final long rd;
    /** {@code root_domain.overload}. */
    private final long rdOverload;
    /** {@code rq.cpu_capacity} and {@code rq.cpu_capacity_orig}. */
    private final long cpuCapacity;
    private final long cpuCapacityOrig;

    Rq(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        this.platform = mc.platform;
        this.o = mc.o;
        this.f = mc.f;
        Profile p = platform.profile();
        this.size = p.sizeOf("rq");
        this.nrRunning = p.offsetOf("rq", "nr_running");
        this.nrSwitches = p.offsetOf("rq", "nr_switches");
        this.curr = p.offsetOf("rq", "curr");
        this.idle = p.offsetOf("rq", "idle");
        this.clock = p.offsetOf("rq", "clock");
        this.clockTask = p.offsetOf("rq", "clock_task");
        this.cpu = p.offsetOf("rq", "cpu");
        this.online = p.offsetOf("rq", "online");
        this.cfs = p.offsetOf("rq", "cfs");
        this.rt = p.offsetOf("rq", "rt");
        this.cfsTasks = p.offsetOf("rq", "cfs_tasks");
        this.avgIdle = p.offsetOf("rq", "avg_idle");
        this.maxIdleBalanceCost = p.offsetOf("rq", "max_idle_balance_cost");
        this.cpuLoad = p.offsetOf("rq", "cpu_load");
        this.nrLoadUpdates = p.offsetOf("rq", "nr_load_updates");
        this.nextBalance = p.offsetOf("rq", "next_balance");
        this.idleBalance = p.offsetOf("rq", "idle_balance");
        this.idleStamp = p.offsetOf("rq", "idle_stamp");
        this.rd = p.offsetOf("rq", "rd");
        this.rdOverload = p.offsetOf("root_domain", "overload");
        this.cpuCapacity = p.offsetOf("rq", "cpu_capacity");
        this.cpuCapacityOrig = p.offsetOf("rq", "cpu_capacity_orig");
        this.runqueues = mc.perCpu.define(size, Math.max(64, p.struct("rq").alignment()));
        mc.runqueues = runqueues;
        this.base = new long[mc.cpus];
        for (int c = 0; c < mc.cpus; c++) {
            base[c] = mc.perCpu.ptr(runqueues, c);
            m.writeInt(base[c] + cpu, c);
            mc.lists.init(base[c] + cfsTasks);
            // sched_init: avg_idle = 2 * sysctl_sched_migration_cost, max_idle_balance_cost = it
            m.writeLong(base[c] + avgIdle, 2 * SCHED_MIGRATION_COST);
            m.writeLong(base[c] + maxIdleBalanceCost, SCHED_MIGRATION_COST);
            // sched_init: next_balance = jiffies
            m.writePointer(base[c] + nextBalance, jiffies());
        }
    }

    /** {@code cpu_rq(cpu)}. */
    long cpuRq(int c) {
        return base[c];
    }

    long curr(int c) {
        return m.readPointer(base[c] + curr);
    }

    void setCurr(int c, long task) {
        m.writePointer(base[c] + curr, task);
    }

    long idle(int c) {
        return m.readPointer(base[c] + idle);
    }

    void setIdle(int c, long task) {
        m.writePointer(base[c] + idle, task);
    }

    long avgIdle(int c) {
        return m.readLong(base[c] + avgIdle);
    }

    void setAvgIdle(int c, long value) {
        m.writeLong(base[c] + avgIdle, value);
    }

    /** {@code idle_cpu(cpu)} (and so {@code available_idle_cpu}): running its idle task with nothing queued. */
    boolean idleCpu(int c) {
        return curr(c) == idle(c) && nrRunning(c) == 0;
    }

    int nrRunning(int c) {
        return m.readInt(base[c] + nrRunning);
    }

    /**
     * {@code add_nr_running}/{@code sub_nr_running}: a CPU reaching two runnable tasks marks the root
     * domain overloaded (what lets newly-idle balancing look for work).
     */
    void addNrRunning(int c, int delta) {
        int prev = m.readInt(base[c] + nrRunning);
        m.writeInt(base[c] + nrRunning, prev + delta);
        if (delta > 0 && prev < 2 && prev + delta >= 2 && !rdOverload(c)) {
            setRdOverload(c, true);
        }
    }

    /** {@code rq->rd->overload}: some CPU of the root domain has more than one runnable task. */
    boolean rdOverload(int c) {
        return m.readByte(m.readPointer(base[c] + rd) + rdOverload) != 0;
    }

    void setRdOverload(int c, boolean value) {
        m.writeByte(m.readPointer(base[c] + rd) + rdOverload, (byte) (value ? 1 : 0));
    }

    /** {@code rq.cpu_capacity_orig}. */
    long cpuCapacityOrig(int c) {
        return m.readPointer(base[c] + cpuCapacityOrig);
    }

    /** {@code rq.cpu_capacity} and {@code rq.cpu_capacity_orig}. */
    void setCpuCapacity(int c, long capacity, long orig) {
        m.writePointer(base[c] + cpuCapacity, capacity);
        m.writePointer(base[c] + cpuCapacityOrig, orig);
    }

    /** {@code jiffies} of the machine's clock, as the build's {@code unsigned long}. */
    long jiffies() {
        long j = mc.clock / (1_000_000_000L / mc.hz);
        return platform.pointerSize() == 8 ? j : j & 0xffffffffL;
    }

    /** {@code rq.cpu_load[idx]}. */
    long cpuLoad(int c, int idx) {
        return m.readPointer(base[c] + cpuLoad + (long) idx * platform.pointerSize());
    }

    /**
     * {@code cpu_load_update_active(rq)} from {@code scheduler_tick} -> {@code cpu_load_update_periodic}
     * -> {@code cpu_load_update(rq, load, 1)}: {@code cpu_load[0]} is the weighted load; each
     * {@code cpu_load[i]} moves 1/2^i of the way to it, rounded up while the load rises. (With
     * NO_HZ_COMMON and one pending update the tickless terms cancel.)
     */
    void cpuLoadUpdateActive(int c, long load) {
        int ptr = platform.pointerSize();
        long mask = ptr == 8 ? -1L : 0xffffffffL;
        m.writePointer(base[c] + nrLoadUpdates, m.readPointer(base[c] + nrLoadUpdates) + 1);
        m.writePointer(base[c] + cpuLoad, load);
        long scale = 2;
        for (int i = 1; i < CPU_LOAD_IDX_MAX; i++, scale += scale) {
            long at = base[c] + cpuLoad + (long) i * ptr;
            long oldLoad = m.readPointer(at);
            long newLoad = load;
            if (Long.compareUnsigned(newLoad, oldLoad) > 0) {
                newLoad += scale - 1;
            }
            m.writePointer(at, ((oldLoad * (scale - 1) + newLoad) & mask) >>> i);
        }
    }

    long nextBalance(int c) {
        return m.readPointer(base[c] + nextBalance);
    }

    void setNextBalance(int c, long jiffy) {
        m.writePointer(base[c] + nextBalance, jiffy);
    }

    boolean idleBalance(int c) {
        return m.readByte(base[c] + idleBalance) != 0;
    }

    void setIdleBalance(int c, boolean idle) {
        m.writeByte(base[c] + idleBalance, (byte) (idle ? 1 : 0));
    }

    void setIdleStamp(int c, long stamp) {
        m.writeLong(base[c] + idleStamp, stamp);
    }

    long idleStamp(int c) {
        return m.readLong(base[c] + idleStamp);
    }

    long maxIdleBalanceCost(int c) {
        return m.readLong(base[c] + maxIdleBalanceCost);
    }

    void setMaxIdleBalanceCost(int c, long cost) {
        m.writeLong(base[c] + maxIdleBalanceCost, cost);
    }

    long nrSwitches(int c) {
        return m.readLong(base[c] + nrSwitches);
    }

    void incNrSwitches(int c) {
        m.writeLong(base[c] + nrSwitches, m.readLong(base[c] + nrSwitches) + 1);
    }

    /** {@code set_rq_online}. */
    void setOnline(int c) {
        m.writeInt(base[c] + online, 1);
    }

    /** {@code update_rq_clock}: the rq's clock and task clock follow the machine's clock. */
    void updateRqClock(int c) {
        m.writeLong(base[c] + clock, mc.clock);
        m.writeLong(base[c] + clockTask, mc.clock);
    }

    /**
     * The part of {@code update_curr} every class shares: the time since {@code se.exec_start} is
     * added to {@code sum_exec_runtime} and {@code exec_start} moves to now. Returns that time, or 0
     * if none passed.
     */
    long accountExec(long p) {
        long now = mc.clock;
        long delta = now - m.readLong(p + f.task.seExecStart);
        if (delta <= 0) {
            return 0;
        }
        m.writeLong(p + f.task.seExecStart, now);
        m.writeLong(p + f.task.seSumExec, m.readLong(p + f.task.seSumExec) + delta);
        return delta;
    }

    /**
     * {@code resched_curr(rq)}: nothing if TIF_NEED_RESCHED is already set; on the CPU running this
     * code set it; on another CPU set it and send a reschedule IPI.
     */
    void reschedCurr(int c, int thisCpu) {
        long ti = platform.taskThreadInfo(m, curr(c));
        long flags = m.readPointer(ti + o.tiFlags);
        if ((flags & (1L << Machine.TIF_NEED_RESCHED)) != 0) {
            return;
        }
        m.writePointer(ti + o.tiFlags, flags | (1L << Machine.TIF_NEED_RESCHED));
        if (c != thisCpu) {
            smpSendReschedule(thisCpu, c);
        }
    }

    /**
     * {@code smp_send_reschedule(c)} from {@code thisCpu}: IPI_RESCHEDULE raised for {@code c}
     * ({@code ipi_raise}), taken there at its next step, tick or operation.
     */
    void smpSendReschedule(int thisCpu, int c) {
        mc.ipis[c]++;
        mc.ipiPending[c] = true;
        mc.trace.ipi(thisCpu, "ipi_raise", c);
    }
}
