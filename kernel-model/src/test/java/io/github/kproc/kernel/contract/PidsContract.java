package io.github.kproc.kernel.contract;

import static io.github.kproc.kernel.CloneFlag.NEWPID;
import static io.github.kproc.kernel.CloneFlag.SIGHAND;
import static io.github.kproc.kernel.CloneFlag.THREAD;
import static io.github.kproc.kernel.CloneFlag.VM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.mem.MemoryUsage;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code alloc_pid()} and {@code pid_idr_init()} (kernel/pid.c), {@code create_pid_namespace()}
 * (kernel/pid_namespace.c): cyclic numbers that wrap to RESERVED_PIDS, pid_max from the CPU count,
 * and one number per namespace level for a task in a new pid namespace, which it is init of.
 */
public abstract class PidsContract extends KernelContract {
    private static final Set<CloneFlag> THREAD_FLAGS = EnumSet.of(VM, SIGHAND, THREAD);

    @Test
    @DisplayName("alloc_pid: numbers are handed out in sequence (init 1, kthreadd 2, then 3, 4, ...)")
    void pidsAreSequential() {
        Kernel k = boot(2);
        assertEquals("init", k.task(k.findTask(1)).comm());
        assertEquals("kthreadd", k.task(k.findTask(2)).comm());
        k.run(0, 1);
        assertEquals(3, k.fork(0));
        assertEquals(4, k.clone(0, THREAD_FLAGS, 0, 0, 0, 0, 0));
        k.run(1, 2);
        assertEquals(5, k.kernelThread(1, "kthread", 0, EnumSet.noneOf(CloneFlag.class)));
        assertEquals(6, k.fork(0));
    }

    @Test
    @DisplayName("alloc_pid: past pid_max - 1 the cursor wraps to RESERVED_PIDS (300), never back to 1")
    void pidsWrapToReservedPids() {
        Kernel k = boot(2);
        k.run(0, 1);
        int pid = 0;
        while (pid != k.pidMax() - 1) {
            pid = k.clone(0, THREAD_FLAGS, 0, 0, 0, 0, 0);
            k.run(1, pid);
            k.exit(1, 0);
        }
        assertEquals(300, k.clone(0, THREAD_FLAGS, 0, 0, 0, 0, 0));
        assertEquals(301, k.fork(0));
    }

    @Test
    @DisplayName("pid_idr_init: pid_max is 32768, or 1024 per possible CPU above 32 CPUs")
    void pidMaxFollowsTheCpuCount() {
        assertEquals(32768, boot(1).pidMax());
        int max = arch().maxCpus();
        assertEquals(Math.max(32768, 1024 * max), boot(b -> b.cpus(max).memory(64L << 20)).pidMax());
        if (max > 32) {
            assertEquals(32768, boot(b -> b.cpus(32).memory(64L << 20)).pidMax());
            assertEquals(33 * 1024, boot(b -> b.cpus(33).memory(64L << 20)).pidMax());
        }
    }

    @Test
    @DisplayName("copy_process + alloc_pid: CLONE_NEWPID makes the child pid 1 and child reaper of a new namespace")
    void newPidNamespaceChildIsItsInit() {
        Kernel k = boot(2);
        Structs s = structs(k);
        k.run(0, 1);
        int global = k.clone(0, EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0);
        long child = k.findTask(global);
        assertEquals(global, k.task(child).pid(), "_do_fork returns pid_vnr: the number in the caller's namespace");
        long ns = k.taskActivePidNs(child);
        assertNotEquals(k.initPidNamespace(), ns);
        assertEquals(1, s.i32(ns, "pid_namespace", "level"));
        assertEquals(k.initPidNamespace(), s.ptr(ns, "pid_namespace", "parent"));
        assertEquals(1, k.pidNr(child, ns));
        assertEquals(global, k.pidNr(child, k.initPidNamespace()));
        assertEquals(child, s.ptr(ns, "pid_namespace", "child_reaper"));
        assertTrue((s.i32(s.taskPtr(child, "signal"), "signal_struct", "flags") & 0x40) != 0, "SIGNAL_UNKILLABLE");
        // struct pid: level 1, numbers[0] global, numbers[1] in the new namespace
        long pid = s.taskPtr(child, "thread_pid");
        assertEquals(1, s.i32(pid, "pid", "level"));
        long numbers = pid + s.offset("pid", "numbers");
        long upid = s.size("upid");
        assertEquals(global, s.i32(numbers, "upid", "nr"));
        assertEquals(k.initPidNamespace(), s.ptr(numbers, "upid", "ns"));
        assertEquals(1, s.i32(numbers + upid, "upid", "nr"));
        assertEquals(ns, s.ptr(numbers + upid, "upid", "ns"));
        // the parent's own pid namespace for children is untouched
        assertEquals(k.initPidNamespace(), s.ptr(s.taskPtr(k.current(0), "nsproxy"), "nsproxy", "pid_ns_for_children"));
    }

    @Test
    @DisplayName("_do_fork: the return value is pid_vnr, the child's number in the caller's pid namespace")
    void forkInsideANamespaceReturnsItsNumber() {
        Kernel k = boot(3);
        k.run(0, 1);
        int nsInit = k.clone(0, EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0);
        long init = runAs(k, 1, nsInit);
        long ns = k.taskActivePidNs(init);
        int vnr = k.fork(1);
        assertEquals(2, vnr);
        long child = findByNs(k, ns, 2);
        assertEquals(2, k.pidNr(child, ns));
        int global = k.task(child).pid();
        assertNotEquals(2, global);
        assertEquals(global, k.pidNr(child, k.initPidNamespace()));
        assertEquals(ns, k.taskActivePidNs(child));
        assertEquals(init, k.task(child).realParent());
        // the numbers of a namespace are its own: the global cursor went on meanwhile
        assertEquals(global + 1, k.fork(0));
        // wait4 takes and returns the number as the caller sees it
        k.run(2, global);
        k.exit(2, 0);
        assertEquals(2, k.wait(1, 2));
    }

    @Test
    @DisplayName("alloc_pid: once a namespace's init has exited (no PIDNS_ADDING) a fork into it is -ENOMEM")
    void deadNamespaceRefusesNewPids() {
        Kernel k = boot(3);
        k.run(0, 1);
        int nsInit = k.clone(0, EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0);
        long init = runAs(k, 1, nsInit);
        long ns = k.taskActivePidNs(init);
        int child = k.task(findByNs(k, ns, k.fork(1))).pid();
        Structs s = structs(k);
        int adding = 1 << 31;
        assertEquals(adding, s.i32(ns, "pid_namespace", "pid_allocated") & adding);
        k.exit(1, 0);
        assertEquals(0, s.i32(ns, "pid_namespace", "pid_allocated") & adding, "disable_pid_allocation");
        long task = runAs(k, 2, child);
        KernelState before = KernelState.of(k, task);
        assertErrno(io.github.kproc.Errno.ENOMEM, () -> k.fork(2));
        before.assertUnchanged(k, KernelState.of(k, task));
    }

    @Test
    @DisplayName("alloc_pid: nested namespaces give one number per level, pid 1 at the innermost")
    void nestedNamespaces() {
        Kernel k = boot(2);
        k.run(0, 1);
        int outer = k.clone(0, EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0);
        long outerInit = runAs(k, 1, outer);
        long ns1 = k.taskActivePidNs(outerInit);
        assertEquals(2, k.clone(1, EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0), "numbered 2 in the caller's namespace");
        long inner = findByNs(k, ns1, 2);
        long ns2 = k.taskActivePidNs(inner);
        Structs s = structs(k);
        assertEquals(2, s.i32(ns2, "pid_namespace", "level"));
        assertEquals(ns1, s.ptr(ns2, "pid_namespace", "parent"));
        assertEquals(1, k.pidNr(inner, ns2));
        assertEquals(2, k.pidNr(inner, ns1));
        assertEquals(k.task(inner).pid(), k.pidNr(inner, k.initPidNamespace()));
        assertEquals(outer + 1, k.task(inner).pid());
        assertEquals(0, k.pidNr(outerInit, ns2), "a parent namespace's task is not visible from a child namespace");
        assertEquals(inner, s.ptr(ns2, "pid_namespace", "child_reaper"));
    }

    @Test
    @DisplayName("put_pid_ns: a pid namespace is freed when its last task is reaped")
    void namespaceIsFreedWithItsLastTask() {
        Kernel k = boot(2);
        k.run(0, 1);
        MemoryUsage before = usage(k);
        int nsInit = k.clone(0, EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0);
        assertEquals(1L, k.memory().usage().objectsInUse().get("pid_namespace"));
        k.run(1, nsInit);
        k.exit(1, 0);
        assertEquals(nsInit, k.wait(0, nsInit));
        // the idle task of CPU 1 lazily holds the dead task's mm until it switches to another mm
        k.runIdle(0);
        k.run(1, 1);
        k.runIdle(1);
        assertSameUsage(before, usage(k));
    }

    /** The task numbered {@code nr} in pid namespace {@code ns}. */
    static long findByNs(Kernel k, long ns, int nr) {
        for (long t : k.tasks()) {
            if (k.pidNr(t, ns) == nr) {
                return t;
            }
        }
        throw new AssertionError("no task " + nr + " in namespace 0x" + Long.toHexString(ns));
    }
}
