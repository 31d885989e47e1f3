package io.github.kproc.kernel;

/**
 * {@code kernel/sched/idle.c}: the lowest class, whose only task is the CPU's idle task. It is never
 * queued; it is picked when no other class has a task.
 */
final class Idle implements SchedClass {
    private final Rq rq;
    private final long address;

    Idle(Machine mc, Rq rq) {
        this.rq = rq;
        this.address = mc.symbols.address("idle_sched_class");
    }

    @Override
    public long address() {
        return address;
    }

    @Override
    public void enqueueTask(int cpu, long p, int flags) {
    }

    @Override
    public void dequeueTask(int cpu, long p, int flags) {
    }

    @Override
    public void yieldTask(int cpu) {
    }

    /** {@code check_preempt_curr_idle}: whatever wakes preempts idle (the core resches on a higher class). */
    @Override
    public void checkPreemptCurr(int cpu, long p, int thisCpu) {
    }

    /** {@code pick_next_task_idle}: {@code rq->idle}. */
    @Override
    public long pickNextTask(int cpu) {
        return rq.idle(cpu);
    }

    @Override
    public void setNextTask(int cpu, long next) {
    }

    @Override
    public void putPrevTask(int cpu, long prev) {
    }

    @Override
    public void updateCurr(int cpu, long p) {
    }

    @Override
    public void taskTick(int cpu, long p) {
    }

    @Override
    public void taskFork(int cpu, long p) {
    }

    @Override
    public void queuedTasks(int cpu, java.util.List<Long> out) {
    }
}
