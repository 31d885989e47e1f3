package io.github.kproc.tck;

import static io.github.kproc.kernel.CloneFlag.NEWPID;
import static io.github.kproc.kernel.CloneFlag.SIGHAND;
import static io.github.kproc.kernel.CloneFlag.THREAD;
import static io.github.kproc.kernel.CloneFlag.VM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.mem.MemoryUsage;
import io.github.kproc.testkit.Workload;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code alloc_pid()} and {@code pid_idr_init()} (kernel/pid.c), {@code create_pid_namespace()}
 * (kernel/pid_namespace.c): cyclic numbers that wrap to RESERVED_PIDS, pid_max from the CPU count,
 * and one number per namespace level for a task in a new pid namespace, which it is init of. Each
 * namespace's numbers are in its {@code idr} in memory, and {@code find_pid_ns} /
 * {@code find_task_by_pid_ns} look them up there.
 */
public abstract class PidsContract extends KernelContract {
    private static final Set<CloneFlag> THREAD_FLAGS = EnumSet.of(VM, SIGHAND, THREAD);

    @Test
    @DisplayName("alloc_pid: numbers are handed out in sequence (init 1, kthreadd 2, then 3, 4, ...)")
    void pidsAreSequential() {
        Kernel k = boot(2);
        assertEquals("init", k.task(Pid.INIT).orElseThrow().comm());
        assertEquals("kthreadd", k.task(Pid.KTHREADD).orElseThrow().comm());
        k.cpu(0).run(Pid.INIT);
        assertEquals(3, k.cpu(0).fork().nr());
        assertEquals(4, k.cpu(0).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr());
        k.cpu(1).run(Pid.KTHREADD);
        assertEquals(5, k.cpu(1).kernelThread("kthread", 0, EnumSet.noneOf(CloneFlag.class)).nr());
        assertEquals(6, k.cpu(0).fork().nr());
    }

    @Test
    @DisplayName("alloc_pid: past pid_max - 1 the cursor wraps to RESERVED_PIDS (300), never back to 1")
    void pidsWrapToReservedPids() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int pid = 0;
        while (pid != k.pidMax() - 1) {
            pid = k.cpu(0).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
            k.cpu(1).run(Pid.of(pid));
            k.cpu(1).exit(0);
            tickEvery(k, pid, 16);
        }
        assertEquals(300, k.cpu(0).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr());
        assertEquals(301, k.cpu(0).fork().nr());
    }

    @Test
    @DisplayName("pid_idr_init: pid_max_min, kernel.pid_max's lower bound, is RESERVED_PIDS + 1 or 8 per possible CPU")
    void pidMaxMinFollowsTheCpuCount() {
        Kernel one = boot(1);
        assertEquals(301, one.addressSpace().readInt(one.symbol("pid_max_min")));
        assertErrno(Errno.EINVAL, () -> one.sysctl("kernel.pid_max", 300));
        one.sysctl("kernel.pid_max", 301);
        int max = facts().maxCpus();
        Kernel all = boot(b -> b.cpus(max).memory(64L << 20));
        int min = Math.max(301, 8 * max);
        assertEquals(min, all.addressSpace().readInt(all.symbol("pid_max_min")));
        assertErrno(Errno.EINVAL, () -> all.sysctl("kernel.pid_max", min - 1));
        all.sysctl("kernel.pid_max", min);
        assertEquals(min, all.pidMax());
    }

    @Test
    @DisplayName("pid_idr_init: pid_max is 32768, or 1024 per possible CPU above 32 CPUs")
    void pidMaxFollowsTheCpuCount() {
        assertEquals(32768, boot(1).pidMax());
        int max = facts().maxCpus();
        assertEquals(Math.max(32768, 1024 * max), boot(b -> b.cpus(max).memory(64L << 20)).pidMax());
        if (max > 32) {
            assertEquals(32768, boot(b -> b.cpus(32).memory(64L << 20)).pidMax());
            assertEquals(33 * 1024, boot(b -> b.cpus(33).memory(64L << 20)).pidMax());
        }
    }

    @Test
    @DisplayName("copy_process + alloc_pid: CLONE_NEWPID makes the child pid 1 and child reaper of a new namespace")
    void newPidNamespaceChildIsItsInit() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = boot(2);
        Structs s = structs(k);
        k.cpu(0).run(Pid.INIT);
        int global = k.cpu(0).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        long child = address(k, global);
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
        assertEquals(k.initPidNamespace(), s.ptr(s.taskPtr(k.cpu(0).current().address(), "nsproxy"), "nsproxy",
                "pid_ns_for_children"));
    }

    @Test
    @DisplayName("_do_fork: the return value is pid_vnr, the child's number in the caller's pid namespace")
    void forkInsideANamespaceReturnsItsNumber() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        int nsInit = k.cpu(0).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        long init = runAs(k, 1, nsInit);
        long ns = k.taskActivePidNs(init);
        int vnr = k.cpu(1).fork().nr();
        assertEquals(2, vnr);
        long child = findByNs(k, ns, 2);
        assertEquals(2, k.pidNr(child, ns));
        int global = k.task(child).pid();
        assertNotEquals(2, global);
        assertEquals(global, k.pidNr(child, k.initPidNamespace()));
        assertEquals(ns, k.taskActivePidNs(child));
        assertEquals(init, k.task(child).realParent());
        // the numbers of a namespace are its own: the global cursor went on meanwhile
        assertEquals(global + 1, k.cpu(0).fork().nr());
        // wait4 takes and returns the number as the caller sees it
        k.cpu(2).run(Pid.of(global));
        k.cpu(2).exit(0);
        assertTrue(k.cpu(1).wait4(Pid.KTHREADD));
    }

    @Test
    @DisplayName("alloc_pid: once a namespace's init has exited (no PIDNS_ADDING) a fork into it is -ENOMEM")
    void deadNamespaceRefusesNewPids() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        int nsInit = k.cpu(0).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        long init = runAs(k, 1, nsInit);
        long ns = k.taskActivePidNs(init);
        int child = k.task(findByNs(k, ns, k.cpu(1).fork().nr())).pid();
        Structs s = structs(k);
        int adding = 1 << 31;
        assertEquals(adding, s.i32(ns, "pid_namespace", "pid_allocated") & adding);
        k.cpu(1).exit(0);
        assertEquals(0, s.i32(ns, "pid_namespace", "pid_allocated") & adding, "disable_pid_allocation");
        assertTrue(address(k, child) != 0, "zap_pid_ns_processes waits for the killed child");
        // a task of init_pid_ns that setns()'d into the namespace for its children forks into it
        long task = runAs(k, 0, 1);
        long nsproxy = s.taskPtr(task, "nsproxy");
        long own = s.ptr(nsproxy, "nsproxy", "pid_ns_for_children");
        s.set(nsproxy, "nsproxy", "pid_ns_for_children", ns);
        KernelState before = KernelState.of(k, task);
        assertErrno(io.github.kproc.Errno.ENOMEM, () -> k.cpu(0).fork());
        before.assertUnchanged(k, KernelState.of(k, task));
        s.set(nsproxy, "nsproxy", "pid_ns_for_children", own);
    }

    @Test
    @DisplayName("alloc_pid: nested namespaces give one number per level, pid 1 at the innermost")
    void nestedNamespaces() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int outer = k.cpu(0).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        long outerInit = runAs(k, 1, outer);
        long ns1 = k.taskActivePidNs(outerInit);
        assertEquals(2, k.cpu(1).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr(),
                "numbered 2 in the caller's namespace");
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
        requireBuilt("CONFIG_PID_NS");
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        MemoryUsage before = usage(k);
        int nsInit = k.cpu(0).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        assertEquals(1L, k.memory().usage().objectsInUse().get("pid_namespace"));
        k.cpu(1).run(Pid.of(nsInit));
        k.cpu(1).exit(0);
        assertTrue(k.cpu(0).wait4(Pid.of(nsInit)));
        Workload.passGracePeriods(k, 16);
        // the idle task of CPU 1 lazily holds the dead task's mm until it switches to another mm
        k.cpu(0).runIdle();
        k.cpu(1).run(Pid.INIT);
        k.cpu(1).runIdle();
        assertSameUsage(before, usage(k));
    }

    @Test
    @DisplayName("alloc_pid + idr_alloc_cyclic: idr_get_cursor is the last number + 1, and 300 + 1 after the wrap")
    void idrCursorFollowsAllocAndWraps() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        long init = k.initPidNamespace();
        int pid = k.cpu(0).fork().nr();
        assertEquals(pid + 1, new Debugger(k).idrCursor(init));
        while (pid != k.pidMax() - 1) {
            pid = k.cpu(0).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
            k.cpu(1).run(Pid.of(pid));
            k.cpu(1).exit(0);
            tickEvery(k, pid, 16);
        }
        assertEquals(k.pidMax(), new Debugger(k).idrCursor(init), "idr_next past pid_max - 1");
        assertEquals(300, k.cpu(0).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr(),
                "pid_min = RESERVED_PIDS once the cursor is past it");
        assertEquals(301, new Debugger(k).idrCursor(init));
        assertEquals(List.of(1, 2, 3, 300), new Debugger(k).idrNumbers(init), "the exited threads' numbers are gone");
    }

    @Test
    @DisplayName("find_task_by_pid_ns(pid_nr_ns(task, ns), ns) is the task, for every task in every pid namespace")
    void findTaskByPidNsAgreesWithTheTaskList() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = busyNamespaces();
        Set<Long> namespaces = namespaces(k);
        assertEquals(3, namespaces.size(), "init_pid_ns and two nested namespaces");
        for (long ns : namespaces) {
            for (long task : taskAddresses(k)) {
                int nr = k.pidNr(task, ns);
                if (nr != 0) {
                    assertEquals(task, new Debugger(k).findTaskByPidNs(nr, ns),
                            "find_task_by_pid_ns(" + nr + ", 0x" + Long.toHexString(ns) + ")");
                    assertEquals(structs(k).taskPtr(task, "thread_pid"), new Debugger(k).findPidNs(nr, ns), "find_pid_ns");
                }
            }
            assertEquals(0, new Debugger(k).findTaskByPidNs(0, ns), "number 0 (the idle tasks') is not in the IDR");
            assertEquals(0, new Debugger(k).findTaskByPidNs(k.pidMax() - 1, ns), "a number never allocated");
        }
        for (long task : taskAddresses(k)) {
            int global = k.pidNr(task, k.initPidNamespace());
            if (global != 0) {
                assertEquals(task, address(k, global), "Kernel.findTask = find_task_by_pid_ns(nr, &init_pid_ns)");
            }
        }
    }

    @Test
    @DisplayName("alloc_pid/free_pid: each pid namespace's IDR, walked with idr_get_next, holds exactly its live numbers")
    void idrHoldsExactlyTheLiveNumbers() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = busyNamespaces();
        for (long ns : namespaces(k)) {
            Set<Integer> live = new TreeSet<>();
            for (long task : taskAddresses(k)) {
                int nr = k.pidNr(task, ns);
                if (nr != 0) {
                    live.add(nr);
                }
            }
            assertEquals(new ArrayList<>(live), new Debugger(k).idrNumbers(ns), "IDR of 0x" + Long.toHexString(ns));
        }
    }

    @Test
    @DisplayName("free_pid: idr_remove drops the number once the task is reaped (a zombie keeps it)")
    void reapRemovesTheNumberFromTheIdr() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        long init = k.initPidNamespace();
        List<Integer> before = new Debugger(k).idrNumbers(init);
        int pid = k.cpu(0).fork().nr();
        long task = address(k, pid);
        assertTrue(new Debugger(k).idrNumbers(init).contains(pid));
        k.cpu(1).run(Pid.of(pid));
        k.cpu(1).exit(0);
        assertEquals(task, new Debugger(k).findTaskByPidNs(pid, init), "a zombie is still found by its number");
        assertTrue(k.cpu(0).wait4(Pid.of(pid)));
        assertEquals(before, new Debugger(k).idrNumbers(init));
        assertEquals(0, new Debugger(k).findPidNs(pid, init), "find_pid_ns after free_pid");
        assertEquals(0, address(k, pid));
    }

    @Test
    @DisplayName("alloc_pid: a nested namespace's IDR holds that level's numbers, its parents' IDRs theirs")
    void nestedNamespaceIdrHoldsTheLevelsNumbers() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int outer = k.cpu(0).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        long outerInit = runAs(k, 1, outer);
        long ns1 = k.taskActivePidNs(outerInit);
        assertEquals(List.of(1), new Debugger(k).idrNumbers(ns1));
        assertEquals(2, k.cpu(1).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr());
        assertEquals(3, k.cpu(1).fork().nr());
        long inner = findByNs(k, ns1, 2);
        long ns2 = k.taskActivePidNs(inner);
        assertEquals(List.of(1, 2, 3), new Debugger(k).idrNumbers(ns1));
        assertEquals(List.of(1), new Debugger(k).idrNumbers(ns2));
        assertEquals(inner, new Debugger(k).findTaskByPidNs(1, ns2));
        assertEquals(inner, new Debugger(k).findTaskByPidNs(2, ns1));
        assertEquals(outerInit, new Debugger(k).findTaskByPidNs(1, ns1));
        int global = k.task(inner).pid();
        assertTrue(new Debugger(k).idrNumbers(k.initPidNamespace()).containsAll(List.of(outer, global, global + 1)));
        assertEquals(2, new Debugger(k).idrCursor(ns2), "idr_next of the inner namespace");
        assertEquals(4, new Debugger(k).idrCursor(ns1), "idr_next of the outer namespace");
    }

    @Test
    @DisplayName("alloc_pid out_unlock/out_free: a fork into a dead namespace takes numbers and idr_removes them again")
    void deadNamespaceForkLeavesTheIdrs() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        int nsInit = k.cpu(0).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        long init = runAs(k, 1, nsInit);
        long ns = k.taskActivePidNs(init);
        k.cpu(1).fork();
        k.cpu(1).exit(0);
        // setns()+fork into the dying namespace by a task of init_pid_ns
        Structs s = structs(k);
        long nsproxy = s.taskPtr(runAs(k, 0, 1), "nsproxy");
        long own = s.ptr(nsproxy, "nsproxy", "pid_ns_for_children");
        s.set(nsproxy, "nsproxy", "pid_ns_for_children", ns);
        List<Integer> inNs = new Debugger(k).idrNumbers(ns);
        List<Integer> global = new Debugger(k).idrNumbers(k.initPidNamespace());
        assertErrno(io.github.kproc.Errno.ENOMEM, () -> k.cpu(0).fork());
        assertEquals(inNs, new Debugger(k).idrNumbers(ns));
        assertEquals(global, new Debugger(k).idrNumbers(k.initPidNamespace()));
        s.set(nsproxy, "nsproxy", "pid_ns_for_children", own);
    }

    /**
     * Threads, forks, an exited-and-reaped child and a zombie in init_pid_ns, a namespace with its own
     * children and a thread, and a namespace nested in it.
     */
    private Kernel busyNamespaces() {
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        k.cpu(0).fork();
        int thread = k.cpu(0).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
        int reaped = k.cpu(0).fork().nr();
        k.cpu(1).run(Pid.of(reaped));
        k.cpu(1).exit(0);
        assertTrue(k.cpu(0).wait4(Pid.of(reaped)));
        int zombie = k.cpu(0).fork().nr();
        k.cpu(1).run(Pid.of(zombie));
        k.cpu(1).exit(0);
        int nsInit = k.cpu(0).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        runAs(k, 1, nsInit);
        k.cpu(1).fork();
        k.cpu(1).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0));
        k.cpu(1).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0));
        assertTrue(thread > 0);
        return k;
    }

    /** Every pid namespace a task is in, with its ancestors. */
    private Set<Long> namespaces(Kernel k) {
        Structs s = structs(k);
        Set<Long> out = new LinkedHashSet<>();
        for (long task : taskAddresses(k)) {
            for (long ns = k.taskActivePidNs(task); ns != 0; ns = s.ptr(ns, "pid_namespace", "parent")) {
                out.add(ns);
            }
        }
        return out;
    }

    /** The task numbered {@code nr} in pid namespace {@code ns}. */
    static long findByNs(Kernel k, long ns, int nr) {
        for (long t : taskAddresses(k)) {
            if (k.pidNr(t, ns) == nr) {
                return t;
            }
        }
        throw new AssertionError("no task " + nr + " in namespace 0x" + Long.toHexString(ns));
    }
}
