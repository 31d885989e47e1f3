package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/sched/rt.c}: SCHED_FIFO and SCHED_RR above CFS. Queued tasks are linked through
 * {@code rt.run_list} into a list head per CPU in the arena; the pick is the lowest {@code prio}, first
 * queued first. A preempted task goes back to the head of its queue, one whose RR slice ran out to
 * the tail.
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
    private final long[] queue;
    /** The CPU's running SCHED_RR task used up its slice with a peer queued: it goes to the tail. */
    final boolean[] rrExpired;

    Rt(Machine mc, Rq rq) {
        this.mc = mc;
        this.m = mc.m;
        this.o = mc.o;
        this.f = mc.f;
        this.rq = rq;
        this.address = mc.symbols.address("rt_sched_class");
        this.queue = new long[mc.cpus];
        this.rrExpired = new boolean[mc.cpus];
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            queue[cpu] = mc.staticAlloc(2L * mc.platform.pointerSize(), mc.platform.pointerSize());
            mc.lists.init(queue[cpu]);
        }
    }

    @Override
    public long address() {
        return address;
    }

    /** {@code sched_rr_timeslice}: RR_TIMESLICE, 100 ms in jiffies. */
    int rrTimeslice() {
        return (int) (100 * mc.hz / 1000);
    }

    @Override
    public void enqueueTask(int cpu, long p, boolean renormalize) {
        mc.lists.addTail(p + f.taskRtRunList, queue[cpu]);
    }

    @Override
    public void dequeueTask(int cpu, long p, boolean normalize) {
        mc.lists.delInit(p + f.taskRtRunList);
    }

    /** {@code check_preempt_curr_rt}: a strictly higher priority (lower prio) preempts. */
    @Override
    public void checkPreemptCurr(int cpu, long p, int thisCpu) {
        if (m.readInt(p + o.taskPrio) < m.readInt(rq.curr[cpu] + o.taskPrio)) {
            rq.reschedCurr(cpu, thisCpu);
        }
    }

    /** {@code pick_next_rt_entity}: the first queued task of the best priority. */
    @Override
    public long pickNextTask(int cpu) {
        long head = queue[cpu];
        long best = 0;
        int bestPrio = 0;
        for (long node = mc.lists.next(head); node != head; node = mc.lists.next(node)) {
            long t = node - f.taskRtRunList;
            int prio = m.readInt(t + o.taskPrio);
            if (best == 0 || prio < bestPrio) {
                best = t;
                bestPrio = prio;
            }
        }
        return best;
    }

    @Override
    public void setNextTask(int cpu, long next) {
        mc.lists.delInit(next + f.taskRtRunList);
    }

    @Override
    public void putPrevTask(int cpu, long prev) {
        if (rrExpired[cpu]) {
            mc.lists.addTail(prev + f.taskRtRunList, queue[cpu]);
        } else {
            mc.lists.add(prev + f.taskRtRunList, queue[cpu]);
        }
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
        int slice = m.readInt(p + f.taskRtTimeSlice) - 1;
        if (slice > 0) {
            m.writeInt(p + f.taskRtTimeSlice, slice);
            return;
        }
        m.writeInt(p + f.taskRtTimeSlice, rrTimeslice());
        if (hasQueuedOfPrio(cpu, m.readInt(p + o.taskPrio))) {
            rrExpired[cpu] = true;
            rq.reschedCurr(cpu, cpu);
        }
    }

    private boolean hasQueuedOfPrio(int cpu, int prio) {
        long head = queue[cpu];
        for (long node = mc.lists.next(head); node != head; node = mc.lists.next(node)) {
            if (m.readInt(node - f.taskRtRunList + o.taskPrio) == prio) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void taskFork(int cpu, long p) {
    }

    @Override
    public void queuedTasks(int cpu, java.util.List<Long> out) {
        long head = queue[cpu];
        for (long node = mc.lists.next(head); node != head; node = mc.lists.next(node)) {
            out.add(node - f.taskRtRunList);
        }
    }
}
