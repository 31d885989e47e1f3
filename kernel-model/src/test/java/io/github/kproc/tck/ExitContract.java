package io.github.kproc.tck;

import static io.github.kproc.kernel.CloneFlag.FILES;
import static io.github.kproc.kernel.CloneFlag.FS;
import static io.github.kproc.kernel.CloneFlag.SIGHAND;
import static io.github.kproc.kernel.CloneFlag.THREAD;
import static io.github.kproc.kernel.CloneFlag.VM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.Workload;
import io.github.kproc.kernel.Tracer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code do_exit()}, {@code exit_notify()}, {@code release_task()} and {@code wait4()}
 * (kernel/exit.c): a process stays a zombie until its parent waits, unless it is a thread or its
 * parent ignores SIGCHLD; orphans go to the child reaper.
 */
public abstract class ExitContract extends KernelContract {
    private static final Set<CloneFlag> THREAD_FLAGS = EnumSet.of(VM, FS, FILES, SIGHAND, THREAD);

    @Test
    @DisplayName("exit_notify: an exited child is EXIT_ZOMBIE until wait4 reaps it (release_task)")
    void exitedChildIsAZombieUntilReaped() {
        List<String> lines = new ArrayList<>();
        Kernel k = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.events(lines::add)));
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        long child = address(k, pid);
        k.cpu(1).run(Pid.of(pid));
        int threads = k.nrThreads();
        k.cpu(1).exit(3);
        assertEquals(EXIT_ZOMBIE, k.task(child).exitState());
        assertEquals(0x80, k.task(child).rawState(), "TASK_DEAD");
        assertEquals(0x4 | 0x8 | 0x8000, k.task(child).flags() & (0x4 | 0x8 | 0x8000),
                "do_exit: PF_EXITING, PF_EXITPIDONE after exit_notify; do_task_dead: PF_NOFREEZE");
        assertTrue(taskAddresses(k).contains(child));
        assertEquals(threads, k.nrThreads(), "a zombie still counts");
        assertEquals(0, structs(k).taskPtr(child, "mm"), "exit_mm");
        assertEquals(0, structs(k).taskPtr(child, "files"), "exit_files");
        assertEquals(0, structs(k).taskPtr(child, "fs"), "exit_fs");
        assertEquals(3 << 8, structs(k).task(child, "exit_code"), "sys_exit: do_exit((3 & 0xff) << 8)");
        assertTrue(lines.stream().anyMatch(l -> l.endsWith("sched_process_exit: comm=init pid=" + pid + " prio=120")),
                () -> String.join("\n", lines));
        assertFalse(lines.stream().anyMatch(l -> l.contains("sched_process_free")));
        assertEquals(Optional.of(Pid.of(pid)), k.cpu(0).wait4Any());
        assertEquals(0, address(k, pid));
        assertEquals(threads - 1, k.nrThreads());
        assertFalse(lines.stream().anyMatch(l -> l.contains("sched_process_free")),
                "release_task: call_rcu(&p->rcu, delayed_put_task_struct); the free waits for a grace period");
        assertErrno(Errno.ECHILD, () -> k.cpu(0).wait4Any());
        Workload.passGracePeriods(k, 16);
        assertTrue(lines.stream().anyMatch(l -> l.endsWith("sched_process_free: comm=init pid=" + pid + " prio=120")
                && FtraceLine.parse(l).irqInfo().charAt(2) == 's'), () -> String.join("\n", lines));
    }

    @Test
    @DisplayName("wait4(WNOHANG): 0 while the child still runs; -ECHILD without such a child")
    void waitReturnsZeroWhileTheChildRuns() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        assertErrno(Errno.ECHILD, () -> k.cpu(0).wait4Any());
        int pid = k.cpu(0).fork().nr();
        assertEquals(Optional.empty(), k.cpu(0).wait4Any());
        assertFalse(k.cpu(0).wait4(Pid.of(pid)));
        assertErrno(Errno.ECHILD, () -> k.cpu(0).wait4(Pid.KTHREADD));
    }

    @Test
    @DisplayName("exit_notify: a thread is EXIT_DEAD and released at once (sched_process_free), never a zombie")
    void exitedThreadIsReleasedAtOnce() {
        List<String> lines = new ArrayList<>();
        Kernel k = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.events(lines::add)));
        k.cpu(0).run(Pid.INIT);
        int threads = k.nrThreads();
        int tid = k.cpu(0).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
        k.cpu(1).run(Pid.of(tid));
        lines.clear();
        k.cpu(1).exit(0);
        assertEquals(0, address(k, tid));
        assertEquals(threads, k.nrThreads());
        Workload.passGracePeriods(k, 16);
        assertTrue(lines.stream().anyMatch(l -> l.contains("sched_process_free: comm=init pid=" + tid)),
                () -> String.join("\n", lines));
        assertErrno(Errno.ECHILD, () -> k.cpu(0).wait4Any());
    }

    @Test
    @DisplayName("do_notify_parent: kthreadd ignores SIGCHLD, so its children are reaped at exit (EXIT_DEAD)")
    void kthreaddsChildrenAreReapedAtExit() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.KTHREADD);
        int threads = k.nrThreads();
        int pid = k.cpu(0).kernelThread("kthread", 0, EnumSet.noneOf(CloneFlag.class)).nr();
        k.cpu(1).run(Pid.of(pid));
        k.cpu(1).exit(0);
        assertEquals(0, address(k, pid));
        assertEquals(threads, k.nrThreads());
    }

    @Test
    @DisplayName("forget_original_parent: orphans go to the child reaper (init), which reaps them")
    void orphansAreReparentedToInit() {
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        int parent = k.cpu(0).fork().nr();
        runAs(k, 1, parent);
        int orphan = k.cpu(1).clone(new CloneArgs(EnumSet.noneOf(CloneFlag.class), SIGUSR1, 0, 0, 0, 0, 0)).nr();
        long child = address(k, orphan);
        k.cpu(1).exit(0);
        assertEquals(init, k.task(child).realParent());
        assertEquals(init, k.task(child).parent());
        assertEquals(SIGCHLD, k.task(child).exitSignal(), "reparent_leader: exit_signal = SIGCHLD");
        Structs s = structs(k);
        assertTrue(s.entries(init + s.offset("task_struct", "children"))
                .contains(child + s.offset("task_struct", "sibling")));
        assertTrue(k.cpu(0).wait4(Pid.of(parent)));
        k.cpu(1).run(Pid.of(orphan));
        k.cpu(1).exit(0);
        assertEquals(Optional.of(Pid.of(orphan)), k.cpu(0).wait4Any());
        assertErrno(Errno.ECHILD, () -> k.cpu(0).wait4Any());
    }

    @Test
    @DisplayName("wait4: a zombie leader is not reaped while its threads live (delay_group_leader)")
    void zombieLeaderWaitsForItsThreads() {
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        int leader = k.cpu(0).fork().nr();
        k.cpu(1).run(Pid.of(leader));
        int thread = k.cpu(1).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
        k.cpu(1).exit(0);
        assertEquals(EXIT_ZOMBIE, k.task(Pid.of(leader)).orElseThrow().exitState());
        assertFalse(k.cpu(0).wait4(Pid.of(leader)));
        k.cpu(2).run(Pid.of(thread));
        k.cpu(2).exit(0);
        assertEquals(Optional.of(Pid.of(leader)), k.cpu(0).wait4Any());
        assertEquals(0, address(k, thread));
    }

    @Test
    @DisplayName("find_child_reaper: when init's leader exits, a live thread of init becomes the child reaper")
    void aThreadOfInitBecomesTheChildReaper() {
        Kernel k = boot(3);
        Structs s = structs(k);
        k.cpu(0).run(Pid.INIT);
        int thread = k.cpu(0).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
        k.cpu(0).exit(0);
        long reaper = address(k, thread);
        assertEquals(reaper, s.ptr(k.initPidNamespace(), "pid_namespace", "child_reaper"));
        // an orphan made later goes to that thread, and the thread can reap it
        int cpu = cpuRunning(k, 2, 1);
        int worker = k.cpu(cpu).kernelThread("kthread", 0, EnumSet.noneOf(CloneFlag.class)).nr();
        cpu = cpuRunning(k, worker, 2);
        int orphan = k.cpu(cpu).fork().nr();
        k.cpu(cpu).exit(0);
        assertEquals(reaper, k.task(Pid.of(orphan)).orElseThrow().realParent());
        cpu = cpuRunning(k, orphan, 2);
        k.cpu(cpu).exit(0);
        assertTrue(k.cpu(cpuRunning(k, thread, 0)).wait4(Pid.of(orphan)));
    }

    /** {@code sigaction(SIGCHLD, SIG_IGN)} by a task: the handler word in its sighand_struct. */
    private static void ignoreSigchld(Kernel k, long task) {
        Structs s = new Structs(k);
        long sighand = s.taskPtr(task, "sighand");
        s.memory().writePointer(sighand + s.offset("sighand_struct", "action") + (SIGCHLD - 1) * s.size("k_sigaction")
                + s.offset("k_sigaction", "sa.sa_handler"), 1);
    }

    @Test
    @DisplayName("do_notify_parent: a parent ignoring SIGCHLD gets its SIGCHLD children reaped at exit, not others")
    void ignoredSigchldReapsOnlySigchldChildren() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int parent = k.cpu(0).fork().nr();
        long p = runAs(k, 1, parent);
        ignoreSigchld(k, p);
        int sigchld = k.cpu(1).clone(new CloneArgs(EnumSet.noneOf(CloneFlag.class), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        int quiet = k.cpu(1).clone(new CloneArgs(EnumSet.noneOf(CloneFlag.class), 0, 0, 0, 0, 0, 0)).nr();
        for (int child : new int[] {sigchld, quiet}) {
            k.cpu(0).run(Pid.of(child));
            k.cpu(0).exit(0);
        }
        assertEquals(0, address(k, sigchld), "SIGCHLD child: EXIT_DEAD and released");
        assertEquals(EXIT_ZOMBIE, k.task(Pid.of(quiet)).orElseThrow().exitState(),
                "exit signal 0: a zombie to wait for");
        assertTrue(k.cpu(1).wait4(Pid.of(quiet)));
    }

    @Test
    @DisplayName("do_notify_parent: once the parent has exec'd (parent_exec_id != self_exec_id) any exit signal becomes SIGCHLD")
    void exitSignalIsSigchldAfterTheParentExecs() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int parent = k.cpu(0).fork().nr();
        long p = runAs(k, 1, parent);
        ignoreSigchld(k, p);
        int quiet = k.cpu(1).clone(new CloneArgs(EnumSet.noneOf(CloneFlag.class), 0, 0, 0, 0, 0, 0)).nr();
        Structs s = structs(k);
        assertEquals(s.task(p, "self_exec_id"), s.task(address(k, quiet), "parent_exec_id"));
        k.cpu(1).exec("sh");
        assertEquals(s.task(p, "self_exec_id"), s.task(address(k, quiet), "parent_exec_id") + 1);
        k.cpu(0).run(Pid.of(quiet));
        k.cpu(0).exit(0);
        assertEquals(0, address(k, quiet), "notified as SIGCHLD, which the parent ignores: released at once");
        assertErrno(Errno.ECHILD, () -> k.cpu(1).wait4Any());
    }

    @Test
    @DisplayName("find_child_reaper: while a namespace's init zaps it, orphans of its dying tasks go to that init (child_reaper stays valid) and reap themselves")
    void orphansInADyingNamespaceGoToItsInit() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = boot(3);
        long init = runAs(k, 0, 1);
        int nsInit = k.cpu(0).clone(new CloneArgs(EnumSet.of(CloneFlag.NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        long nsInitTask = runAs(k, 1, nsInit);
        k.cpu(1).fork();
        long child = taskAddresses(k).getLast();
        int childPid = pidOf(k, child);
        k.cpu(cpuRunning(k, childPid, 2)).fork();
        long grandchild = taskAddresses(k).getLast();
        int grandchildPid = pidOf(k, grandchild);
        // the grandchild waits its turn on CPU 0, behind init
        k.migrate(Pid.of(grandchildPid), 0);
        k.cpu(cpuRunning(k, nsInit, 1)).exit(0);
        assertEquals(0, k.task(nsInitTask).exitState(), "asleep in zap_pid_ns_processes");
        // the child dies of the SIGKILL zap_pid_ns_processes sent it
        k.cpu(cpuRunning(k, childPid, 2)).step();
        assertEquals(0, address(k, childPid), "its parent ignores SIGCHLD now: released at once");
        assertEquals(nsInitTask, k.task(grandchild).realParent(), "pid_ns->child_reaper, not init");
        k.stepAll();
        if (address(k, grandchildPid) != 0) {
            k.cpu(cpuRunning(k, grandchildPid, 2)).step();
        }
        assertEquals(0, address(k, grandchildPid));
        k.stepAll();
        if (k.task(nsInitTask).exitState() == 0) {
            k.cpu(cpuRunning(k, nsInit, 1)).step();
        }
        assertEquals(init, k.task(nsInitTask).realParent());
        assertTrue(k.cpu(0).wait4(Pid.of(nsInit)), "the namespace's init is reaped and freed");
        assertErrno(Errno.ECHILD, () -> k.cpu(0).wait4Any());
    }

    @Test
    @DisplayName("release_task: the last thread of a zombie leader whose parent ignores SIGCHLD releases the leader too")
    void lastThreadReleasesAnIgnoredZombieLeader() {
        Kernel k = boot(3);
        k.cpu(0).run(Pid.KTHREADD);
        int threads = k.nrThreads();
        int leader = k.cpu(0).kernelThread("kthread", 0, EnumSet.noneOf(CloneFlag.class)).nr();
        k.cpu(1).run(Pid.of(leader));
        int thread = k.cpu(1).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
        k.cpu(1).exit(0);
        assertEquals(EXIT_ZOMBIE, k.task(Pid.of(leader)).orElseThrow().exitState(),
                "not notified while a thread lives");
        k.cpu(2).run(Pid.of(thread));
        k.cpu(2).exit(0);
        assertEquals(0, address(k, thread));
        assertEquals(0, address(k, leader), "zap_leader: kthreadd ignores SIGCHLD");
        assertEquals(threads, k.nrThreads());
    }

    /** A bit of {@code signal_struct}'s subreaper word of a task's group. */
    private static boolean subreaperBit(Kernel k, long task, String member) {
        var field = k.platform().profile().field("signal_struct", member);
        long signal = new Structs(k).taskPtr(task, "signal");
        return (k.addressSpace().readInt(signal + field.offset()) & (1 << field.bitOffset())) != 0;
    }

    @Test
    @DisplayName("find_new_reaper: an orphan goes to its nearest PR_SET_CHILD_SUBREAPER ancestor, not to init")
    void orphansGoToTheNearestSubreaper() {
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        int outer = k.cpu(0).fork().nr();
        k.cpu(1).run(Pid.of(outer));
        k.cpu(1).setChildSubreaper(true);
        int sub = k.cpu(1).fork().nr();
        k.cpu(1).run(Pid.of(sub));
        k.cpu(1).setChildSubreaper(true);
        int middle = k.cpu(1).fork().nr();
        k.cpu(2).run(Pid.of(middle));
        int orphan = k.cpu(2).fork().nr();
        assertTrue(subreaperBit(k, address(k, sub), "is_child_subreaper"));
        assertTrue(subreaperBit(k, address(k, orphan), "has_child_subreaper"), "copy_process inherits it");
        assertFalse(subreaperBit(k, address(k, orphan), "is_child_subreaper"));
        k.cpu(2).exit(0);
        assertEquals(address(k, sub), k.task(address(k, orphan)).realParent(), "the nearest subreaper");
        assertEquals(Optional.of(Pid.of(middle)), k.cpu(1).wait4Any());
        assertEquals(Optional.empty(), k.cpu(1).wait4Any(), "the adopted orphan lives");
        k.cpu(1).setChildSubreaper(false);
        assertFalse(subreaperBit(k, address(k, sub), "is_child_subreaper"), "PR_SET_CHILD_SUBREAPER, 0");
        k.cpu(1).exit(0);
        assertEquals(address(k, outer), k.task(address(k, orphan)).realParent(),
                "sub is no subreaper now: the next one up");
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("walk_process_tree + propagate_has_child_subreaper: descendants forked before the prctl are marked, and their orphans go to the subreaper")
    void subreaperMarksExistingDescendants() {
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        int sub = k.cpu(0).fork().nr();
        k.cpu(1).run(Pid.of(sub));
        int a = k.cpu(1).fork().nr();
        int b = k.cpu(1).fork().nr();
        k.cpu(2).run(Pid.of(b));
        int grandchild = k.cpu(2).fork().nr();
        int thread = k.cpu(2).clone(CloneArgs.thread()).nr();
        k.cpu(0).run(Pid.of(thread));
        int threadChild = k.cpu(0).fork().nr();
        for (int pid : new int[] {sub, a, b, grandchild, threadChild}) {
            assertFalse(subreaperBit(k, address(k, pid), "has_child_subreaper"));
        }
        k.cpu(1).setChildSubreaper(true);
        assertFalse(subreaperBit(k, address(k, sub), "has_child_subreaper"), "the caller itself is not marked");
        for (int pid : new int[] {a, b, grandchild, threadChild}) {
            assertTrue(subreaperBit(k, address(k, pid), "has_child_subreaper"), "pid " + pid);
        }
        k.cpu(0).exit(0);
        k.cpu(2).exit(0);
        assertEquals(address(k, sub), k.task(address(k, grandchild)).realParent());
        assertEquals(address(k, sub), k.task(address(k, threadChild)).realParent());
        KernelInvariants.of(k).assertHolds();
    }
}
