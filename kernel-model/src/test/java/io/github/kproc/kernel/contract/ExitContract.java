package io.github.kproc.kernel.contract;

import static io.github.kproc.kernel.CloneFlag.FILES;
import static io.github.kproc.kernel.CloneFlag.FS;
import static io.github.kproc.kernel.CloneFlag.SIGHAND;
import static io.github.kproc.kernel.CloneFlag.THREAD;
import static io.github.kproc.kernel.CloneFlag.VM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Tracer;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
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
        k.run(0, 1);
        int pid = k.fork(0);
        long child = k.findTask(pid);
        k.run(1, pid);
        int threads = k.nrThreads();
        k.exit(1, 3);
        assertEquals(EXIT_ZOMBIE, k.task(child).exitState());
        assertEquals(0x80, k.task(child).state(), "TASK_DEAD");
        assertTrue(k.tasks().contains(child));
        assertEquals(threads, k.nrThreads(), "a zombie still counts");
        assertEquals(0, structs(k).taskPtr(child, "mm"), "exit_mm");
        assertEquals(0, structs(k).taskPtr(child, "files"), "exit_files");
        assertEquals(0, structs(k).taskPtr(child, "fs"), "exit_fs");
        assertEquals(3, structs(k).task(child, "exit_code"));
        assertTrue(lines.stream().anyMatch(l -> l.endsWith("sched_process_exit: comm=init pid=" + pid + " prio=120")),
                () -> String.join("\n", lines));
        assertFalse(lines.stream().anyMatch(l -> l.contains("sched_process_free")));
        assertEquals(pid, k.wait(0, -1));
        assertEquals(0, k.findTask(pid));
        assertEquals(threads - 1, k.nrThreads());
        assertTrue(lines.getLast().endsWith("sched_process_free: comm=init pid=" + pid + " prio=120"), lines.getLast());
        assertErrno(Errno.ECHILD, () -> k.wait(0, -1));
    }

    @Test
    @DisplayName("wait4(WNOHANG): 0 while the child still runs; -ECHILD without such a child")
    void waitReturnsZeroWhileTheChildRuns() {
        Kernel k = boot(2);
        k.run(0, 1);
        assertErrno(Errno.ECHILD, () -> k.wait(0, -1));
        int pid = k.fork(0);
        assertEquals(0, k.wait(0, -1));
        assertEquals(0, k.wait(0, pid));
        assertErrno(Errno.ECHILD, () -> k.wait(0, 2));
    }

    @Test
    @DisplayName("exit_notify: a thread is EXIT_DEAD and released at once (sched_process_free), never a zombie")
    void exitedThreadIsReleasedAtOnce() {
        List<String> lines = new ArrayList<>();
        Kernel k = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.events(lines::add)));
        k.run(0, 1);
        int threads = k.nrThreads();
        int tid = k.clone(0, THREAD_FLAGS, 0, 0, 0, 0, 0);
        k.run(1, tid);
        lines.clear();
        k.exit(1, 0);
        assertEquals(0, k.findTask(tid));
        assertEquals(threads, k.nrThreads());
        assertTrue(lines.stream().anyMatch(l -> l.contains("sched_process_free: comm=init pid=" + tid)),
                () -> String.join("\n", lines));
        assertErrno(Errno.ECHILD, () -> k.wait(0, -1));
    }

    @Test
    @DisplayName("do_notify_parent: kthreadd ignores SIGCHLD, so its children are reaped at exit (EXIT_DEAD)")
    void kthreaddsChildrenAreReapedAtExit() {
        Kernel k = boot(2);
        k.run(0, 2);
        int threads = k.nrThreads();
        int pid = k.kernelThread(0, "kthread", 0, EnumSet.noneOf(CloneFlag.class));
        k.run(1, pid);
        k.exit(1, 0);
        assertEquals(0, k.findTask(pid));
        assertEquals(threads, k.nrThreads());
    }

    @Test
    @DisplayName("forget_original_parent: orphans go to the child reaper (init), which reaps them")
    void orphansAreReparentedToInit() {
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        int parent = k.fork(0);
        runAs(k, 1, parent);
        int orphan = k.clone(1, EnumSet.noneOf(CloneFlag.class), SIGUSR1, 0, 0, 0, 0);
        long child = k.findTask(orphan);
        k.exit(1, 0);
        assertEquals(init, k.task(child).realParent());
        assertEquals(init, k.task(child).parent());
        assertEquals(SIGCHLD, k.task(child).exitSignal(), "reparent_leader: exit_signal = SIGCHLD");
        Structs s = structs(k);
        assertTrue(s.entries(init + s.offset("task_struct", "children"))
                .contains(child + s.offset("task_struct", "sibling")));
        assertEquals(parent, k.wait(0, parent));
        k.run(1, orphan);
        k.exit(1, 0);
        assertEquals(orphan, k.wait(0, -1));
        assertErrno(Errno.ECHILD, () -> k.wait(0, -1));
    }

    @Test
    @DisplayName("wait4: a zombie leader is not reaped while its threads live (delay_group_leader)")
    void zombieLeaderWaitsForItsThreads() {
        Kernel k = boot(3);
        k.run(0, 1);
        int leader = k.fork(0);
        k.run(1, leader);
        int thread = k.clone(1, THREAD_FLAGS, 0, 0, 0, 0, 0);
        k.exit(1, 0);
        assertEquals(EXIT_ZOMBIE, k.task(k.findTask(leader)).exitState());
        assertEquals(0, k.wait(0, leader));
        k.run(2, thread);
        k.exit(2, 0);
        assertEquals(leader, k.wait(0, -1));
        assertEquals(0, k.findTask(thread));
    }

    @Test
    @DisplayName("find_child_reaper: when init's leader exits, a live thread of init becomes the child reaper")
    void aThreadOfInitBecomesTheChildReaper() {
        Kernel k = boot(3);
        Structs s = structs(k);
        k.run(0, 1);
        int thread = k.clone(0, THREAD_FLAGS, 0, 0, 0, 0, 0);
        k.exit(0, 0);
        long reaper = k.findTask(thread);
        assertEquals(reaper, s.ptr(k.initPidNamespace(), "pid_namespace", "child_reaper"));
        // an orphan made later goes to that thread, and the thread can reap it
        int cpu = cpuRunning(k, 2, 1);
        int worker = k.kernelThread(cpu, "kthread", 0, EnumSet.noneOf(CloneFlag.class));
        cpu = cpuRunning(k, worker, 2);
        int orphan = k.fork(cpu);
        k.exit(cpu, 0);
        assertEquals(reaper, k.task(k.findTask(orphan)).realParent());
        cpu = cpuRunning(k, orphan, 2);
        k.exit(cpu, 0);
        assertEquals(orphan, k.wait(cpuRunning(k, thread, 0), orphan));
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
        k.run(0, 1);
        int parent = k.fork(0);
        long p = runAs(k, 1, parent);
        ignoreSigchld(k, p);
        int sigchld = k.clone(1, EnumSet.noneOf(CloneFlag.class), SIGCHLD, 0, 0, 0, 0);
        int quiet = k.clone(1, EnumSet.noneOf(CloneFlag.class), 0, 0, 0, 0, 0);
        for (int child : new int[] {sigchld, quiet}) {
            k.run(0, child);
            k.exit(0, 0);
        }
        assertEquals(0, k.findTask(sigchld), "SIGCHLD child: EXIT_DEAD and released");
        assertEquals(EXIT_ZOMBIE, k.task(k.findTask(quiet)).exitState(), "exit signal 0: a zombie to wait for");
        assertEquals(quiet, k.wait(1, quiet));
    }

    @Test
    @DisplayName("do_notify_parent: once the parent has exec'd (parent_exec_id != self_exec_id) any exit signal becomes SIGCHLD")
    void exitSignalIsSigchldAfterTheParentExecs() {
        Kernel k = boot(2);
        k.run(0, 1);
        int parent = k.fork(0);
        long p = runAs(k, 1, parent);
        ignoreSigchld(k, p);
        int quiet = k.clone(1, EnumSet.noneOf(CloneFlag.class), 0, 0, 0, 0, 0);
        Structs s = structs(k);
        assertEquals(s.task(p, "self_exec_id"), s.task(k.findTask(quiet), "parent_exec_id"));
        k.exec(1, "sh");
        assertEquals(s.task(p, "self_exec_id"), s.task(k.findTask(quiet), "parent_exec_id") + 1);
        k.run(0, quiet);
        k.exit(0, 0);
        assertEquals(0, k.findTask(quiet), "notified as SIGCHLD, which the parent ignores: released at once");
        assertErrno(Errno.ECHILD, () -> k.wait(1, -1));
    }

    @Test
    @DisplayName("find_new_reaper: orphans of a dying pid-namespace init never go to a reaper that is itself gone")
    void orphansOfNestedNamespaceInitsGoToALiveReaper() {
        Kernel k = boot(3);
        long init = runAs(k, 0, 1);
        int outer = k.clone(0, EnumSet.of(CloneFlag.NEWPID), SIGCHLD, 0, 0, 0, 0);
        runAs(k, 1, outer);
        k.clone(1, EnumSet.of(CloneFlag.NEWPID), SIGCHLD, 0, 0, 0, 0);
        long inner = k.tasks().getLast();
        int innerPid = pidOf(k, inner);
        runAs(k, 2, innerPid);
        k.fork(2);
        long leaf = k.tasks().getLast();
        // the outer namespace's init exits first and is reaped; then the inner one exits
        k.exit(1, 0);
        assertEquals(init, k.task(inner).realParent());
        assertEquals(outer, k.wait(0, outer));
        k.exit(2, 0);
        assertEquals(init, k.task(leaf).realParent(), "the nearest namespace whose init lives: init_pid_ns");
        assertEquals(innerPid, k.wait(0, innerPid));
        int leafPid = pidOf(k, leaf);
        runAs(k, 2, leafPid);
        k.exit(2, 0);
        assertEquals(leafPid, k.wait(0, leafPid));
        assertErrno(Errno.ECHILD, () -> k.wait(0, -1));
    }

    @Test
    @DisplayName("find_child_reaper: in a namespace whose init is gone, orphans go to a live reaper, not the dead init")
    void orphansInADeadNamespaceGoToALiveReaper() {
        Kernel k = boot(3);
        long init = runAs(k, 0, 1);
        int nsInit = k.clone(0, EnumSet.of(CloneFlag.NEWPID), SIGCHLD, 0, 0, 0, 0);
        runAs(k, 1, nsInit);
        k.fork(1);
        long child = k.tasks().getLast();
        int childPid = pidOf(k, child);
        runAs(k, 2, childPid);
        k.fork(2);
        long grandchild = k.tasks().getLast();
        k.exit(1, 0);
        assertEquals(init, k.task(child).realParent());
        assertEquals(nsInit, k.wait(0, nsInit), "the namespace's init is reaped and freed");
        k.exit(2, 0);
        assertEquals(init, k.task(grandchild).realParent());
        assertEquals(childPid, k.wait(0, childPid));
    }

    @Test
    @DisplayName("release_task: the last thread of a zombie leader whose parent ignores SIGCHLD releases the leader too")
    void lastThreadReleasesAnIgnoredZombieLeader() {
        Kernel k = boot(3);
        k.run(0, 2);
        int threads = k.nrThreads();
        int leader = k.kernelThread(0, "kthread", 0, EnumSet.noneOf(CloneFlag.class));
        k.run(1, leader);
        int thread = k.clone(1, THREAD_FLAGS, 0, 0, 0, 0, 0);
        k.exit(1, 0);
        assertEquals(EXIT_ZOMBIE, k.task(k.findTask(leader)).exitState(), "not notified while a thread lives");
        k.run(2, thread);
        k.exit(2, 0);
        assertEquals(0, k.findTask(thread));
        assertEquals(0, k.findTask(leader), "zap_leader: kthreadd ignores SIGCHLD");
        assertEquals(threads, k.nrThreads());
    }
}
