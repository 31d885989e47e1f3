package io.github.kproc.kernel;

/**
 * {@code struct sched_class} (kernel/sched/sched.h): what a scheduling class does for the core.
 * {@link Core} keeps the classes highest first and asks them in that order, as
 * {@code for_each_class} does. A class keeps its queued tasks where the kernel keeps them; the task
 * running on a CPU is not among them.
 */
interface SchedClass {
    /** {@code ENQUEUE_WAKEUP}: the task wakes from a sleep (its vruntime stayed absolute). */
    int ENQUEUE_WAKEUP = 0x01;
    /** {@code ENQUEUE_MIGRATED}: a waking task changed CPUs ({@code migrate_task_rq} made its vruntime relative). */
    int ENQUEUE_MIGRATED = 0x40;
    /** {@code DEQUEUE_SLEEP}: the task goes to sleep (its vruntime stays absolute). */
    int DEQUEUE_SLEEP = 0x01;
    /** {@code DEQUEUE_SAVE}: a dequeue that is undone right away ({@code __sched_setscheduler}). */
    int DEQUEUE_SAVE = 0x02;
    /** {@code DEQUEUE_MOVE}: the task's queue position may change. */
    int DEQUEUE_MOVE = 0x04;

    /** The class's {@code struct sched_class} address, as {@code task_struct.sched_class} holds it. */
    long address();

    /** {@code enqueue_task(rq, p, flags)}: {@code p} becomes queued on {@code cpu} ({@code ENQUEUE_*} flags). */
    void enqueueTask(int cpu, long p, int flags);

    /** {@code dequeue_task(rq, p, flags)} of a queued or the running task ({@code DEQUEUE_*} flags). */
    void dequeueTask(int cpu, long p, int flags);

    /** {@code yield_task}: the running task of the class on {@code cpu} gives way ({@code sched_yield}). */
    void yieldTask(int cpu);

    /** {@code check_preempt_curr} when {@code p} of this class wakes on {@code cpu} running a task of this class. */
    void checkPreemptCurr(int cpu, long p, int thisCpu);

    /** {@code pick_next_task}: the class's best queued task on {@code cpu}, or 0. */
    long pickNextTask(int cpu);

    /** {@code set_next_task}: {@code next} is chosen to run and leaves the class's queue. */
    void setNextTask(int cpu, long next);

    /** {@code put_prev_task}: the still runnable {@code prev} goes back to the queue. */
    void putPrevTask(int cpu, long prev);

    /** {@code update_curr}: charges the running task {@code p} for the time since it last was. */
    void updateCurr(int cpu, long p);

    /** {@code task_tick} of the running task {@code p} after {@code update_curr}. */
    void taskTick(int cpu, long p);

    /** Adds the tasks queued on {@code cpu} to {@code out}, in queue order. */
    void queuedTasks(int cpu, java.util.List<Long> out);

    /** {@code task_fork}: places a new task of the class forked on {@code cpu}. */
    void taskFork(int cpu, long p);
}
