package io.github.kproc.tck;

import static io.github.kproc.kernel.CloneFlag.FILES;
import static io.github.kproc.kernel.CloneFlag.FS;
import static io.github.kproc.kernel.CloneFlag.NEWPID;
import static io.github.kproc.kernel.CloneFlag.SIGHAND;
import static io.github.kproc.kernel.CloneFlag.VM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.ForkStep;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@code bad_fork_*} ladder of {@code copy_process()} (kernel/fork.c): whichever step fails, and
 * whichever allocation, the fork returns that step's errno and every step before it is undone, so
 * memory, nr_threads, total_forks, the task list and every structure the caller shares (their
 * reference counts included) are exactly as before. The same fork then succeeds.
 */
public abstract class FaultInjectionContract extends KernelContract {

    /** The forks whose unwinding is checked, each from the task that would make it. */
    enum Variant {
        /** {@code fork()} by init: every structure copied, a new mm. */
        FORK(1, 10, k -> k.cpu(0).fork().nr()),
        /** {@code clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD)} by init: everything shared. */
        THREAD(1, 3, k -> k.cpu(0).clone(new CloneArgs(EnumSet.of(VM, FS, FILES, SIGHAND, CloneFlag.THREAD), 0, 0, 0,
                0, 0, 0)).nr()),
        /** {@code kernel_thread(fn, arg, CLONE_FS|CLONE_FILES)} by kthreadd: no mm at all. */
        KERNEL_THREAD(2, 6, k -> k.cpu(0).kernelThread("kthread", 7, EnumSet.of(FS, FILES)).nr()),
        /**
         * {@code clone(CLONE_NEWPID)} by init: a new nsproxy and pid namespace, a two-level pid, and a
         * {@code radix_tree_node} for number 1 in the new namespace's empty IDR ({@code idr_alloc_cyclic}:
         * only index 0 fits in the root itself).
         */
        NEW_PID(1, 13, k -> k.cpu(0).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr());

        final int caller;
        /** Slab and page allocations the fork makes (task, stack, cred, files, fs, sighand, signal, mm, pgd, nsproxy, pid_ns, pid, IDR nodes as needed). */
        final int allocations;
        final ToIntFunction<Kernel> fork;

        Variant(int caller, int allocations, ToIntFunction<Kernel> fork) {
            this.caller = caller;
            this.allocations = allocations;
            this.fork = fork;
        }
    }

    /** The errno each step's kernel function fails with. */
    static Errno errnoOf(ForkStep step) {
        return switch (step) {
            case SCHED_FORK, CGROUP_CAN_FORK -> Errno.EAGAIN;
            case LATE_FATAL_SIGNAL -> Errno.EINTR;
            default -> Errno.ENOMEM;
        };
    }

    static Stream<Arguments> everyStepOfEveryVariant() {
        return Arrays.stream(Variant.values())
                .flatMap(v -> Arrays.stream(ForkStep.values()).map(s -> Arguments.of(v, s)));
    }

    private Kernel bootAs(Variant v) {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.of(v.caller));
        return k;
    }

    @ParameterizedTest(name = "{0} failing in {1}")
    @MethodSource("everyStepOfEveryVariant")
    void everyStepUnwindsExactly(Variant variant, ForkStep step) {
        if (variant == Variant.NEW_PID) {
            requireBuilt("CONFIG_PID_NS");
        }
        Kernel k = bootAs(variant);
        long caller = k.cpu(0).current().address();
        KernelState before = KernelState.of(k, caller);
        long injected = k.faults().injected();
        k.faults().failStep(step, errnoOf(step), 1);
        assertErrno(errnoOf(step), () -> variant.fork.applyAsInt(k));
        assertEquals(injected + 1, k.faults().injected(), "the step ran and failed");
        before.assertUnchanged(k, KernelState.of(k, caller));
        assertTrue(variant.fork.applyAsInt(k) > 0, "the same fork once the fault is gone");
    }

    @Test
    @DisplayName("execve: each allocation (unshared files, mm, pgd, sighand) can fail, leaving the task as it was")
    void everyAllocationOfExecUnwinds() {
        int n = 1;
        for (;; n++) {
            Kernel k = boot(2);
            k.cpu(0).run(Pid.INIT);
            int pid = k.cpu(0).clone(new CloneArgs(EnumSet.of(VM, FILES, SIGHAND), SIGCHLD, 0, 0, 0, 0, 0)).nr();
            k.cpu(1).run(Pid.of(pid));
            long task = k.cpu(1).current().address();
            KernelState before = KernelState.of(k, task);
            k.faults().failNthAllocation(n);
            try {
                k.cpu(1).exec("sh");
            } catch (KernelException e) {
                assertEquals(Errno.ENOMEM, e.errno());
                before.assertUnchanged(k, KernelState.of(k, task));
                k.faults().clear();
                k.cpu(1).exec("sh");
                continue;
            }
            k.faults().clear();
            break;
        }
        assertEquals(4, n - 1, "allocations of an exec that unshares files and sighand");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Variant.class)
    void everyAllocationUnwindsExactly(Variant variant) {
        if (variant == Variant.NEW_PID) {
            requireBuilt("CONFIG_PID_NS");
        }
        int n = 1;
        for (;; n++) {
            Kernel k = bootAs(variant);
            long caller = k.cpu(0).current().address();
            KernelState before = KernelState.of(k, caller);
            long injected = k.faults().injected();
            k.faults().failNthAllocation(n);
            int pid;
            try {
                pid = variant.fork.applyAsInt(k);
            } catch (KernelException e) {
                assertEquals(Errno.ENOMEM, e.errno(), "allocation " + n);
                assertEquals(injected + 1, k.faults().injected());
                int at = n;
                try {
                    before.assertUnchanged(k, KernelState.of(k, caller));
                } catch (AssertionError a) {
                    throw new AssertionError("after allocation " + at + " failed: " + a.getMessage(), a);
                }
                k.faults().clear();
                assertTrue(variant.fork.applyAsInt(k) > 0, "the same fork once the fault is gone");
                continue;
            }
            assertTrue(pid > 0);
            assertEquals(injected, k.faults().injected(), "the fork made fewer than " + n + " allocations");
            k.faults().clear();
            break;
        }
        assertEquals(variant.allocations, n - 1, "allocations in one " + variant);
    }
}
