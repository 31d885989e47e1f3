package io.github.kproc.kernel.contract;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Platform;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.mem.MemoryUsage;
import io.github.kproc.view.TaskStruct;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.function.Executable;

/**
 * The base of every contract: a backend names its platform and its facts; the contract boots
 * kernels on it (closed after each test) and reads their structures the way a debugger would, by
 * the profile's member offsets.
 */
public abstract class KernelContract {
    /** {@code SIGCHLD} on ARM and arm64. */
    protected static final int SIGCHLD = 17;
    protected static final int SIGKILL = 9;
    protected static final int SIGUSR1 = 10;
    protected static final long TASK_RUNNING = 0;
    protected static final long TASK_UNINTERRUPTIBLE = 0x2;
    protected static final long TASK_KILLABLE = 0x102;
    protected static final long TASK_NEW = 0x800;
    protected static final int EXIT_DEAD = 0x10;
    protected static final int EXIT_ZOMBIE = 0x20;
    protected static final int TIF_NEED_RESCHED = 1;
    protected static final long STACK_END_MAGIC = 0x57AC6E9DL;
    protected static final int RLIMIT_NPROC = 6;

    private final List<Kernel> kernels = new ArrayList<>();

    /** The platform under test. */
    protected abstract Platform platform();

    /** The build's facts, from the kernel sources. */
    protected abstract ArchFacts arch();

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

    /** Struct members of a kernel, read and written by the profile's offsets. */
    protected final Structs structs(Kernel k) {
        return new Structs(k);
    }

    /** Runs {@code pid} on {@code cpu} and returns its task_struct. */
    protected static long runAs(Kernel k, int cpu, int pid) {
        k.cpu(cpu).run(Pid.of(pid));
        return k.cpu(cpu).current().address();
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
}
