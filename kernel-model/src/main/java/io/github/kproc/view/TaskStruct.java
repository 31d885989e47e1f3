package io.github.kproc.view;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code struct task_struct} at an address. A flyweight: {@link #at(long)} re-points it. Pointer
 * accessors return kernel addresses (0 for NULL).
 */
public final class TaskStruct {
    private final Platform platform;
    private final AddressSpace memory;
    private final Offsets o;
    private long address;

    public TaskStruct(Platform platform, AddressSpace memory, long address) {
        this.platform = platform;
        this.memory = memory;
        this.o = platform.offsets();
        this.address = address;
    }

    /** Re-points this view; returns it. */
    public TaskStruct at(long newAddress) {
        this.address = newAddress;
        return this;
    }

    public long address() {
        return address;
    }

    /** {@code state} as stored: TASK_RUNNING 0, TASK_INTERRUPTIBLE 1, TASK_NEW 0x800, ... */
    public long rawState() {
        return memory.readSigned(address + o.taskState, platform.pointerSize());
    }

    /** What {@code ps} reports for the task ({@code __get_task_state} of {@code state} and {@code exit_state}). */
    public TaskState state() {
        return TaskState.of(rawState(), exitState());
    }

    /** {@code PF_KTHREAD}: a kernel thread (no user address space of its own). */
    public boolean isKernelThread() {
        return (flags() & TaskFlags.PF_KTHREAD) != 0;
    }

    /** {@code PF_IDLE}: a CPU's idle task (swapper/N). */
    public boolean isIdle() {
        return (flags() & TaskFlags.PF_IDLE) != 0;
    }

    /** {@code exit_state == EXIT_ZOMBIE}: exited and not yet reaped. */
    public boolean isZombie() {
        return exitState() == TaskStateBits.EXIT_ZOMBIE;
    }

    /** {@code PF_EXITING}: in {@code do_exit} or past it. */
    public boolean isExiting() {
        return (flags() & TaskFlags.PF_EXITING) != 0;
    }

    /** {@code TASK_NEW}: forked and not yet woken by {@code wake_up_new_task}. */
    public boolean isNew() {
        return rawState() == TaskStateBits.TASK_NEW;
    }

    /** {@code thread_group_leader()}: its own group leader. */
    public boolean isGroupLeader() {
        return groupLeader() == address;
    }

    /** {@code stack}: the base of the kernel stack. */
    public long stack() {
        return memory.readPointer(address + o.taskStack);
    }

    /** {@code usage.counter}. */
    public int usage() {
        return memory.readInt(address + o.taskUsage);
    }

    /** {@code flags}: PF_* bits. */
    public int flags() {
        return memory.readInt(address + o.taskFlags);
    }

    /** {@code pid}: the global thread id. */
    public int pid() {
        return memory.readInt(address + o.taskPid);
    }

    /** {@code tgid}: the global thread group id. */
    public int tgid() {
        return memory.readInt(address + o.taskTgid);
    }

    /** {@code comm}: the executable name, at most TASK_COMM_LEN - 1 characters. */
    public String comm() {
        return memory.readCString(address + o.taskComm, o.commLength);
    }

    /** {@code prio}: the effective priority (120 for nice 0). */
    public int prio() {
        return memory.readInt(address + o.taskPrio);
    }

    /** {@code static_prio}. */
    public int staticPrio() {
        return memory.readInt(address + o.taskStaticPrio);
    }

    /** {@code normal_prio}. */
    public int normalPrio() {
        return memory.readInt(address + o.taskNormalPrio);
    }

    /** {@code policy}: SCHED_NORMAL 0, SCHED_FIFO 1, SCHED_RR 2, ... */
    public int policy() {
        return memory.readInt(address + o.taskPolicy);
    }

    /** {@code on_rq}: 0, TASK_ON_RQ_QUEUED 1 or TASK_ON_RQ_MIGRATING 2. */
    public int onRq() {
        return memory.readInt(address + o.taskOnRq);
    }

    /** {@code task_cpu(p)}. */
    public int cpu() {
        return platform.taskCpu(memory, address);
    }

    /** {@code real_parent}. */
    public long realParent() {
        return memory.readPointer(address + o.taskRealParent);
    }

    /** {@code parent}. */
    public long parent() {
        return memory.readPointer(address + o.taskParent);
    }

    /** {@code group_leader}. */
    public long groupLeader() {
        return memory.readPointer(address + o.taskGroupLeader);
    }

    /** {@code mm}: NULL for kernel threads. */
    public long mm() {
        return memory.readPointer(address + o.taskMm);
    }

    /** {@code active_mm}. */
    public long activeMm() {
        return memory.readPointer(address + o.taskActiveMm);
    }

    /** {@code exit_state}: 0, EXIT_ZOMBIE 0x20, EXIT_DEAD 0x10. */
    public int exitState() {
        return memory.readInt(address + o.taskExitState);
    }

    /** {@code exit_signal}: SIGCHLD for processes, -1 for threads. */
    public int exitSignal() {
        return memory.readInt(address + o.taskExitSignal);
    }

    /** {@code task_thread_info(p)}. */
    public ThreadInfo threadInfo() {
        return new ThreadInfo(platform, memory, platform.taskThreadInfo(memory, address));
    }

    /** The registers the last switch away from this task saved. */
    public CpuContextSave cpuContext() {
        return new CpuContextSave(platform, memory, platform.cpuContext(memory, address));
    }

    /** {@code !task_stack_end_corrupted(p)}. */
    public boolean stackEndMagicIntact() {
        return platform.stackEndMagicIntact(memory, address);
    }

    @Override
    public String toString() {
        return String.format("task_struct@0x%x %s-%d", address, comm(), pid());
    }
}
