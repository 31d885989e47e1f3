package io.github.kproc.kernel.sched;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Policy;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.CpuContextSave;
import io.github.kproc.view.TaskStruct;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/**
 * What the scheduler contracts share: booting kernels of the backend's build, and reading a task's
 * scheduling state from the arena the way a debugger would, by the profile's member offsets.
 *
 * <p>A backend runs a contract by extending it and returning its platform.
 */
public abstract class SchedContractBase {
    /** The seed of every property; {@code -DQT_SEED=n} explores another part of the space. */
    static final long SEED = Long.getLong("QT_SEED", 0x5ced0419L);

    /** {@code TASK_INTERRUPTIBLE}. */
    static final long TASK_INTERRUPTIBLE = 0x1;
    /** {@code TASK_UNINTERRUPTIBLE}. */
    static final long TASK_UNINTERRUPTIBLE = 0x2;
    /** {@code SCHED_NORMAL}, {@code SCHED_FIFO}, {@code SCHED_RR}, {@code SCHED_BATCH}, {@code SCHED_IDLE}. */
    static final Policy SCHED_NORMAL = Policy.NORMAL;
    static final Policy SCHED_FIFO = Policy.FIFO;
    static final Policy SCHED_RR = Policy.RR;
    static final Policy SCHED_BATCH = Policy.BATCH;
    static final Policy SCHED_IDLE = Policy.IDLE;

    private final List<Kernel> booted = new ArrayList<>();

    /** The backend's build. */
    protected abstract Platform platform();

    /** The facts of the build written down from the kernel sources; a build without a bundled entry overrides this. */
    protected SchedFacts facts() {
        return SchedFacts.of(platform().profile().name());
    }

    @AfterEach
    final void closeKernels() {
        for (Kernel k : booted) {
            k.close();
        }
        booted.clear();
    }

    /**
     * Boots {@code cpus} CPUs (closed after the test): every CPU runs its idle task, init (pid 1, a user
     * process) and kthreadd (pid 2) are queued on CPU 0.
     */
    final Kernel boot(int cpus) {
        Kernel k = bootUnmanaged(cpus);
        booted.add(k);
        return k;
    }

    /** Boots a kernel the caller closes. */
    final Kernel bootUnmanaged(int cpus) {
        return Kernel.builder(platform()).cpus(cpus).memory(64L << 20).boot();
    }

    /** The task_struct of a pid, failing if there is none. */
    static long task(Kernel k, int pid) {
        long t = address(k, pid);
        if (t == 0) {
            throw new AssertionError("no task with pid " + pid);
        }
        return t;
    }

    /** The task_struct of the task with global pid {@code pid}, or 0 if there is none (as {@code find_task_by_vpid}). */
    static long address(Kernel k, int pid) {
        return pid < 1 ? 0 : k.task(Pid.of(pid)).map(TaskStruct::address).orElse(0L);
    }

    /** The addresses of the tasks on the global task list, init_task first. */
    static List<Long> taskAddresses(Kernel k) {
        return k.tasks().stream().map(TaskStruct::address).toList();
    }

    /** A task as {@code comm-pid}. */
    static String name(Kernel k, long task) {
        return k.task(task).comm() + "-" + k.task(task).pid();
    }

    /** The pid of CPU {@code cpu}'s current task. */
    static int currentPid(Kernel k, int cpu) {
        return k.cpu(cpu).current().pid();
    }

    /** A reader of one kernel's task_struct members by name. */
    final Tasks tasks(Kernel k) {
        return new Tasks(k);
    }

    /** Reads and writes the scheduler's members of task_struct through the profile's layout. */
    static final class Tasks {
        private final Kernel k;
        private final Platform platform;
        private final AddressSpace m;
        private final Offsets o;

        Tasks(Kernel k) {
            this.k = k;
            this.platform = k.platform();
            this.m = k.addressSpace();
            this.o = platform.offsets();
        }

        private long at(long task, String member) {
            return task + o.required("task_struct", member);
        }

        /** {@code p->state}. */
        long state(long task) {
            return k.task(task).rawState();
        }

        /** {@code p->on_rq}. */
        int onRq(long task) {
            return m.readInt(at(task, "on_rq"));
        }

        /** {@code p->on_cpu}. */
        int onCpu(long task) {
            return m.readInt(at(task, "on_cpu"));
        }

        /** {@code p->wake_cpu}. */
        int wakeCpu(long task) {
            return m.readInt(at(task, "wake_cpu"));
        }

        /** {@code p->se.vruntime}. */
        long vruntime(long task) {
            return m.readLong(at(task, "se.vruntime"));
        }

        /** Sets {@code p->se.vruntime}; a queued entity is moved to its new place in the timeline. */
        void vruntime(long task, long value) {
            io.github.kproc.kernel.KernelInternals.setVruntime(k, task, value);
        }

        /** {@code p->se.sum_exec_runtime}. */
        long sumExecRuntime(long task) {
            return m.readLong(at(task, "se.sum_exec_runtime"));
        }

        /** {@code p->se.nr_migrations}. */
        long nrMigrations(long task) {
            return m.readLong(at(task, "se.nr_migrations"));
        }

        /** {@code p->se.load.weight} (an unsigned long). */
        long loadWeight(long task) {
            return m.readPointer(at(task, "se.load.weight"));
        }

        /** {@code p->se.load.inv_weight} (a u32). */
        long loadInvWeight(long task) {
            return Integer.toUnsignedLong(m.readInt(at(task, "se.load.inv_weight")));
        }

        /** {@code p->rt.time_slice}. */
        int rtTimeSlice(long task) {
            return m.readInt(at(task, "rt.time_slice"));
        }

        /** {@code p->rt_priority}. */
        int rtPriority(long task) {
            return m.readInt(at(task, "rt_priority"));
        }

        /** {@code p->nvcsw}: voluntary switches. */
        long nvcsw(long task) {
            return m.readPointer(at(task, "nvcsw"));
        }

        /** {@code p->nivcsw}: involuntary switches. */
        long nivcsw(long task) {
            return m.readPointer(at(task, "nivcsw"));
        }

        /** {@code task_thread_info(p)->preempt_count}. */
        int preemptCount(long task) {
            return k.task(task).threadInfo().preemptCountValue();
        }

        /** {@code test_tsk_need_resched(p)}: TIF_NEED_RESCHED in thread_info.flags. */
        boolean needResched(long task) {
            return k.task(task).threadInfo().testFlag(platform.tifBit("TIF_NEED_RESCHED"));
        }

        /** The saved register context of a task. */
        CpuContextSave context(long task) {
            return k.task(task).cpuContext();
        }

        /** True if {@code address} is inside the task's kernel stack. */
        boolean onStack(long task, long address) {
            long stack = k.task(task).stack();
            return Long.compareUnsigned(address, stack) >= 0
                    && Long.compareUnsigned(address, stack + platform.threadSize()) < 0;
        }

        /** True if the task is an idle task (swapper/N). */
        boolean isIdle(long task) {
            for (int cpu = 0; cpu < k.cpus(); cpu++) {
                if (k.cpu(cpu).idleTask().address() == task) {
                    return true;
                }
            }
            return false;
        }
    }

    /** The index of a register in {@link Platform#cpuRegisters()}. */
    final int reg(String name) {
        int i = platform().cpuRegisters().indexOf(name);
        if (i < 0) {
            throw new AssertionError("no register " + name + " in " + platform().cpuRegisters());
        }
        return i;
    }
}
