package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/sched/rt.c}: SCHED_FIFO and SCHED_RR above CFS, on each CPU's {@code rq->rt}: the
 * {@code rt_prio_array} of one list per priority (linked through {@code rt.run_list}) and a bitmap of
 * the non-empty ones with the MAX_RT_PRIO delimiter bit, and {@code rt_nr_running}. The pick is the
 * first task of the first set bit ({@code sched_find_first_bit}). A preempted task goes back to the
 * head of its list, one whose RR slice ran out to the tail. Unlike the kernel, which leaves the running
 * RT task on its list, the model takes it off while it runs, as it does for every class.
 */
final class Rt implements SchedClass {
    static final int SCHED_FIFO = 1;
    static final int SCHED_RR = 2;
    static final int MAX_RT_PRIO = 100;

    private final Machine mc;
    private final AddressSpace m;
    private final Offsets o;
    private final Fields f;
    private final Rq rq;
    private final long address;
    private final int bitsPerWord;
    /** {@code rt_rq.active.bitmap}, from {@code rq}. */
    private final long bitmap;
    /** {@code rt_rq.active.queue}, from {@code rq}: MAX_RT_PRIO list heads. */
    private final long queue;
    private final long listHeadSize;
    /** {@code rt_rq.rt_nr_running}, from {@code rq}. */
    private final long rtNrRunning;
    /** The CPU's running SCHED_RR task used up its slice with a peer queued: it goes to the tail. */
    final boolean[] rrExpired;

    Rt(Machine mc, Rq rq) {
        this.mc = mc;
        this.m = mc.m;
        this.o = mc.o;
        this.f = mc.f;
        this.rq = rq;
        var profile = mc.platform.profile();
        this.address = mc.symbols.address("rt_sched_class");
        this.bitsPerWord = 8 * mc.platform.pointerSize();
        this.bitmap = rq.rt + profile.offsetOf("rt_rq", "active.bitmap");
        this.queue = rq.rt + profile.offsetOf("rt_rq", "active.queue");
        this.listHeadSize = profile.sizeOf("list_head");
        this.rtNrRunning = rq.rt + profile.offsetOf("rt_rq", "rt_nr_running");
        long queues = profile.struct("rt_prio_array").member("queue").elementCount();
        if (queues != MAX_RT_PRIO) {
            throw new IllegalArgumentException("rt_prio_array has " + queues + " queues, MAX_RT_PRIO is " + MAX_RT_PRIO);
        }
        this.rrExpired = new boolean[mc.cpus];
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            // init_rt_rq: every list empty, the delimiter bit set
            for (int prio = 0; prio < MAX_RT_PRIO; prio++) {
                mc.lists.init(queueHead(cpu, prio));
            }
            setBit(cpu, MAX_RT_PRIO);
        }
    }

    private long queueHead(int cpu, int prio) {
        return rq.cpuRq(cpu) + queue + prio * listHeadSize;
    }

    private long bitWord(int cpu, int bit) {
        return rq.cpuRq(cpu) + bitmap + (long) (bit / bitsPerWord) * mc.platform.pointerSize();
    }

    private void setBit(int cpu, int bit) {
        long w = bitWord(cpu, bit);
        m.writePointer(w, m.readPointer(w) | (1L << (bit % bitsPerWord)));
    }

    private void clearBit(int cpu, int bit) {
        long w = bitWord(cpu, bit);
        m.writePointer(w, m.readPointer(w) & ~(1L << (bit % bitsPerWord)));
    }

    /** {@code sched_find_first_bit(array->bitmap)}: the best non-empty priority, MAX_RT_PRIO if none. */
    private int findFirstBit(int cpu) {
        for (int bit = 0; ; bit += bitsPerWord) {
            long word = m.readPointer(bitWord(cpu, bit));
            if (bitsPerWord == 32) {
                word &= 0xffffffffL;
            }
            if (word != 0) {
                return bit + Long.numberOfTrailingZeros(word);
            }
        }
    }

    /** {@code rt_rq->rt_nr_running}. */
    int nrRunning(int cpu) {
        return m.readInt(rq.cpuRq(cpu) + rtNrRunning);
    }

    /** {@code __delist_rt_entity}: off its list, the priority's bit cleared when the list empties. */
    private void delist(int cpu, long p) {
        if (m.readShort(p + f.task.rtOnList) == 0) {
            return;
        }
        mc.lists.delInit(p + f.task.rtRunList);
        int prio = m.readInt(p + o.taskPrio);
        if (mc.lists.empty(queueHead(cpu, prio))) {
            clearBit(cpu, prio);
        }
        m.writeShort(p + f.task.rtOnList, (short) 0);
    }

    /** The list half of {@code __enqueue_rt_entity}: at the head or the tail of its priority's list. */
    private void enlist(int cpu, long p, boolean head) {
        int prio = m.readInt(p + o.taskPrio);
        if (head) {
            mc.lists.add(p + f.task.rtRunList, queueHead(cpu, prio));
        } else {
            mc.lists.addTail(p + f.task.rtRunList, queueHead(cpu, prio));
        }
        setBit(cpu, prio);
        m.writeShort(p + f.task.rtOnList, (short) 1);
    }

    @Override
    public long address() {
        return address;
    }

    /** {@code sched_rr_timeslice}: RR_TIMESLICE, 100 ms in jiffies. */
    int rrTimeslice() {
        return (int) (100 * mc.hz / 1000);
    }

    /** {@code enqueue_rt_entity}: at the tail of its priority's list, counted ({@code inc_rt_tasks}). */
    @Override
    public void enqueueTask(int cpu, long p, int flags) {
        enlist(cpu, p, false);
        m.writeShort(p + f.task.rtOnRq, (short) 1);
        m.writeInt(rq.cpuRq(cpu) + rtNrRunning, nrRunning(cpu) + 1);
    }

    /** {@code dequeue_rt_entity}: off its list, no longer counted ({@code dec_rt_tasks}). */
    @Override
    public void dequeueTask(int cpu, long p, int flags) {
        delist(cpu, p);
        m.writeShort(p + f.task.rtOnRq, (short) 0);
        m.writeInt(rq.cpuRq(cpu) + rtNrRunning, nrRunning(cpu) - 1);
    }

    /** {@code yield_task_rt} -> {@code requeue_task_rt(rq, curr, 0)}: behind the other tasks of its priority when put back. */
    @Override
    public void yieldTask(int cpu) {
        rrExpired[cpu] = true;
    }

    /** {@code check_preempt_curr_rt}: a strictly higher priority (lower prio) preempts. */
    @Override
    public void checkPreemptCurr(int cpu, long p, int thisCpu) {
        if (m.readInt(p + o.taskPrio) < m.readInt(rq.curr(cpu) + o.taskPrio)) {
            rq.reschedCurr(cpu, thisCpu);
        }
    }

    /** {@code pick_next_rt_entity}: the first task of the best non-empty priority. */
    @Override
    public long pickNextTask(int cpu) {
        int prio = findFirstBit(cpu);
        return prio >= MAX_RT_PRIO ? 0 : mc.lists.next(queueHead(cpu, prio)) - f.task.rtRunList;
    }

    @Override
    public void setNextTask(int cpu, long next) {
        delist(cpu, next);
    }

    @Override
    public void putPrevTask(int cpu, long prev) {
        enlist(cpu, prev, !rrExpired[cpu]);
    }

    /** {@code update_curr_rt}: the runtime charged to {@code sum_exec_runtime}. */
    @Override
    public void updateCurr(int cpu, long p) {
        rq.accountExec(p);
    }

    /**
     * {@code task_tick_rt}: a SCHED_RR task's slice counts down; when it runs out it is refilled and,
     * if another task of its priority is queued, the task goes behind it ({@code requeue_task_rt}).
     */
    @Override
    public void taskTick(int cpu, long p) {
        if (m.readInt(p + o.taskPolicy) != SCHED_RR) {
            return;
        }
        int slice = m.readInt(p + f.task.rtTimeSlice) - 1;
        if (slice > 0) {
            m.writeInt(p + f.task.rtTimeSlice, slice);
            return;
        }
        m.writeInt(p + f.task.rtTimeSlice, rrTimeslice());
        if (hasQueuedOfPrio(cpu, m.readInt(p + o.taskPrio))) {
            rrExpired[cpu] = true;
            rq.reschedCurr(cpu, cpu);
        }
    }

    private boolean hasQueuedOfPrio(int cpu, int prio) {
        return !mc.lists.empty(queueHead(cpu, prio));
    }

    @Override
    public void taskFork(int cpu, long p) {
    }

    @Override
    public void queuedTasks(int cpu, java.util.List<Long> out) {
        for (int prio = findFirstBit(cpu); prio < MAX_RT_PRIO; prio++) {
            long head = queueHead(cpu, prio);
            for (long node = mc.lists.next(head); node != head; node = mc.lists.next(node)) {
                out.add(node - f.task.rtRunList);
            }
        }
    }
}
