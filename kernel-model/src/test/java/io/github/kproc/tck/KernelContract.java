package io.github.kproc.tck;

import io.github.kproc.testkit.Workload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Platform;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Policy;
import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.CpuContextSave;
import io.github.kproc.mem.MemoryUsage;
import io.github.kproc.view.TaskStruct;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.function.Executable;
import org.jspecify.annotations.Nullable;

/**
 * The base of every contract of the TCK: a backend gives its {@link Backend} (platform and facts) from
 * the one factory method {@link #backend()}; the contract boots kernels on it (closed after each test)
 * and reads their structures the way a debugger would, by the profile's member offsets.
 */
public abstract class KernelContract {
    /** What a contract runs against: the platform under test and its build's facts from the kernel sources. */
    public record Backend(Platform platform, ArchFacts facts) {
    }

    /** The seed of every property; {@code -DQT_SEED=n} explores another part of the space. */
    static final long SEED = Long.getLong("QT_SEED", 0x5ced0419L);

    /** {@code SIGCHLD} on ARM and arm64. */
    protected static final int SIGCHLD = 17;
    protected static final int SIGKILL = 9;
    protected static final int SIGUSR1 = 10;
    protected static final long TASK_RUNNING = 0;
    /** {@code TASK_INTERRUPTIBLE}. */
    protected static final long TASK_INTERRUPTIBLE = 0x1;
    protected static final long TASK_UNINTERRUPTIBLE = 0x2;
    protected static final long TASK_KILLABLE = 0x102;
    protected static final long TASK_NEW = 0x800;
    protected static final int EXIT_DEAD = 0x10;
    protected static final int EXIT_ZOMBIE = 0x20;
    protected static final int TIF_NEED_RESCHED = 1;
    protected static final long STACK_END_MAGIC = 0x57AC6E9DL;
    protected static final int RLIMIT_NPROC = 6;
    /** {@code SCHED_NORMAL}, {@code SCHED_FIFO}, {@code SCHED_RR}, {@code SCHED_BATCH}, {@code SCHED_IDLE}. */
    static final Policy SCHED_NORMAL = Policy.NORMAL;
    static final Policy SCHED_FIFO = Policy.FIFO;
    static final Policy SCHED_RR = Policy.RR;
    static final Policy SCHED_BATCH = Policy.BATCH;
    static final Policy SCHED_IDLE = Policy.IDLE;

    private final List<Kernel> kernels = new ArrayList<>();

    private @Nullable Backend backend;

    /** The backend under test: the one method an implementer of the TCK writes. */
    protected abstract Backend backend();

    private Backend under() {
        Backend b = backend;
        if (b == null) {
            b = backend();
            if (!b.facts().profile().equals(b.platform().profile().name())) {
                throw new IllegalStateException("facts of " + b.facts().profile() + " for a platform of "
                        + b.platform().profile().name());
            }
            backend = b;
        }
        return b;
    }

    /** The platform under test. */
    protected final Platform platform() {
        return under().platform();
    }

    /** The build's facts, from the kernel sources. */
    protected final ArchFacts facts() {
        return under().facts();
    }

    /** True if the build under test has the Kconfig option ({@code y} or {@code m}). */
    protected final boolean built(String option) {
        return platform().profile().config().enabled(option);
    }

    /**
     * Skips a test of a feature the build under test lacks (a backend runs the contract again on a
     * profile whose {@code .config} has it).
     */
    protected final void requireBuilt(String option) {
        org.junit.jupiter.api.Assumptions.assumeTrue(built(option), () -> platform().profile().name() + " has no " + option);
    }

    @AfterEach
    final void closeKernels() {
        for (Kernel k : kernels) {
            k.close();
        }
        kernels.clear();
    }

    /** Boots a kernel with {@code cpus} CPUs and 64 MiB. */
    protected final Kernel boot(int cpus) {
        return boot(b -> b.cpus(cpus).memory(64L << 20));
    }

    /** Boots a kernel configured by {@code options}. */
    protected final Kernel boot(Consumer<Kernel.Builder> options) {
        Kernel.Builder b = Kernel.builder(platform());
        options.accept(b);
        Kernel k = b.boot();
        kernels.add(k);
        return k;
    }

    /** Boots a kernel with {@code cpus} CPUs and 64 MiB that the caller closes. */
    final Kernel bootUnmanaged(int cpus) {
        return Kernel.builder(platform()).cpus(cpus).memory(64L << 20).boot();
    }

    /** Struct members of a kernel, read and written by the profile's offsets. */
    protected final Structs structs(Kernel k) {
        return new Structs(k);
    }

    /** Runs {@code pid} on {@code cpu} and returns its task_struct. */
    protected static long runAs(Kernel k, int cpu, int pid) {
        k.cpu(cpu).run(Pid.of(pid));
        return k.cpu(cpu).current().address();
    }

    /**
     * Makes {@code pid} the current task of {@code cpu}: {@code Kernel.migrate} there first if it is
     * queued elsewhere (so the run itself is a plain pick), then {@code Cpu.run}.
     */
    protected static void migrateAndRun(Kernel k, int pid, int cpu) {
        if (k.task(Pid.of(pid)).orElseThrow().cpu() != cpu) {
            k.migrate(Pid.of(pid), cpu);
        }
        k.cpu(cpu).run(Pid.of(pid));
    }

    /** The CPU {@code pid} runs on: where it already is current, else {@code cpu} after running it there. */
    protected static int cpuRunning(Kernel k, int pid, int cpu) {
        long t = address(k, pid);
        for (int c = 0; c < k.cpus(); c++) {
            if (k.cpu(c).current().address() == t) {
                return c;
            }
        }
        k.cpu(cpu).run(Pid.of(pid));
        return cpu;
    }

    /** The task_struct of the task with global pid {@code pid}, or 0 if there is none (as {@code find_task_by_vpid}). */
    protected static long address(Kernel k, int pid) {
        return pid < 1 ? 0 : k.task(Pid.of(pid)).map(TaskStruct::address).orElse(0L);
    }

    /** The addresses of the tasks on the global task list, init_task first. */
    protected static List<Long> taskAddresses(Kernel k) {
        return k.tasks().stream().map(TaskStruct::address).toList();
    }

    /**
     * {@code wait4(pid, ..., WNOHANG | __WALL)} on {@code cpu} ({@code pid} -1 for any child): the reaped
     * child's pid, or 0 if no matching child has exited yet; ECHILD is thrown.
     */
    protected static int reap(Kernel k, int cpu, int pid) {
        if (pid == -1) {
            return k.cpu(cpu).wait4Any().map(Pid::nr).orElse(0);
        }
        return k.cpu(cpu).wait4(Pid.of(pid)) ? pid : 0;
    }

    /** Asserts a kernel call fails with {@code errno}. */
    protected static void assertErrno(Errno errno, Executable call) {
        KernelException e = assertThrows(KernelException.class, call);
        assertEquals(errno, e.errno(), e.getMessage());
    }

    /**
     * Every {@code every}-th {@code i}, a tick on each CPU: the scheduling-clock interrupts a loop of
     * forks and exits would take, through which RCU's grace periods pass and the reaped tasks'
     * {@code delayed_put_task_struct} callbacks run (release_task frees nothing at once).
     */
    protected static void tickEvery(Kernel k, int i, int every) {
        if (i % every == 0) {
            for (int c = 0; c < k.cpus(); c++) {
                k.cpu(c).tick();
            }
        }
    }

    /** The accounting after giving back empty slabs, for leak comparisons. */
    protected static MemoryUsage usage(Kernel k) {
        k.memory().shrinkCaches();
        return k.memory().usage();
    }

    /**
     * Asserts two accounting snapshots agree. A cache that exists in only one of them must be empty:
     * kmem caches are never destroyed (create_pid_cachep makes a pid_N cache on first use of a level).
     */
    protected static void assertSameUsage(MemoryUsage expected, MemoryUsage actual) {
        assertEquals(expected.freePages(), actual.freePages(), "free pages");
        assertEquals(expected.freeVmallocSlots(), actual.freeVmallocSlots(), "free vmalloc slots");
        Map<String, Long> a = new HashMap<>(expected.objectsInUse());
        Map<String, Long> b = new HashMap<>(actual.objectsInUse());
        a.values().removeIf(v -> v == 0);
        b.values().removeIf(v -> v == 0);
        assertEquals(a, b, "objects in use per cache");
    }

    /** The pid of the task at an address. */
    protected static int pidOf(Kernel k, long task) {
        return k.task(task).pid();
    }

    /** The task_struct of a pid, failing if there is none. */
    static long task(Kernel k, int pid) {
        long t = address(k, pid);
        if (t == 0) {
            throw new AssertionError("no task with pid " + pid);
        }
        return t;
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
            new Debugger(k).setVruntime(task, value);
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

    /**
     * The CPU is overloaded for load balancing as its lowest domain sees it ({@code group_is_overloaded}
     * of its one-CPU group): more than one fair task and {@code cpu_util * imbalance_pct > 1024 * 100}.
     */
    protected final boolean overloaded(Kernel k, int cpu) {
        Structs s = structs(k);
        long rq = new Debugger(k).rq(cpu);
        long cfs = rq + s.offset("rq", "cfs");
        long util = Math.min(s.get(cfs + s.offset("cfs_rq", "avg"), "sched_avg", "util_avg"), 1024);
        long sd = s.ptr(rq, "rq", "sd");
        return s.i32(cfs, "cfs_rq", "nr_running") > 1 && util * s.i32(sd, "sched_domain", "imbalance_pct") > 1024 * 100;
    }
}
