package io.github.kproc.tck;

import static io.github.kproc.kernel.CloneFlag.FILES;
import static io.github.kproc.kernel.CloneFlag.FS;
import static io.github.kproc.kernel.CloneFlag.SIGHAND;
import static io.github.kproc.kernel.CloneFlag.THREAD;
import static io.github.kproc.kernel.CloneFlag.VM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Tracer;
import io.github.kproc.kernel.WaitOption;
import io.github.kproc.kernel.WaitStatus;
import io.github.kproc.mem.MemoryUsage;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.Workload;
import io.github.kproc.view.TaskState;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code execve} of a multithreaded process, as v4.19's {@code de_thread} (fs/exec.c) does it: the
 * other threads are killed ({@code zap_other_threads}) and waited for ({@code notify_count}); a thread
 * that is not the leader then waits for the leader to be a zombie and takes its place and pid
 * ({@code change_pid}, {@code transfer_pid}), and the old leader is released.
 */
public abstract class ExecContract extends KernelContract {
    private static final Set<CloneFlag> THREAD_FLAGS = EnumSet.of(VM, FS, FILES, SIGHAND, THREAD);
    private static final long SIGKILL_BIT = 1L << (SIGKILL - 1);

    private long signalPtr(Kernel k, long signal, String member) {
        return structs(k).ptr(signal, "signal_struct", member);
    }

    private int signalInt(Kernel k, long signal, String member) {
        return structs(k).i32(signal, "signal_struct", member);
    }

    /** A process forked by init, running on CPU 1; its pid. */
    private static int process(Kernel k) {
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        k.cpu(1).run(Pid.of(pid));
        return pid;
    }

    /** Runs every runnable task of {@code pids} back to user mode (on {@code cpu} if it runs nowhere). */
    private static void letRun(Kernel k, int cpu, int... pids) {
        k.stepAll();
        for (int pid : pids) {
            long t = address(k, pid);
            if (t != 0 && k.task(t).exitState() == 0 && k.task(t).state() == TaskState.RUNNING) {
                k.cpu(cpuRunning(k, pid, cpu)).step();
            }
        }
    }

    @Test
    @DisplayName("de_thread: exec by the leader kills the other threads, sleeps until notify_count is 0, then execs alone")
    void leaderExecKillsAndWaitsForTheOtherThreads() {
        Kernel k = boot(3);
        int leader = process(k);
        long leaderTask = address(k, leader);
        int running = k.cpu(1).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
        int sleeping = k.cpu(1).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
        k.cpu(cpuRunning(k, sleeping, 2)).sleep();
        k.cpu(cpuRunning(k, running, 2));
        k.cpu(cpuRunning(k, leader, 1)).exec("newprog");
        long signal = structs(k).taskPtr(leaderTask, "signal");
        assertEquals(leaderTask, signalPtr(k, signal, "group_exit_task"));
        assertEquals(2, signalInt(k, signal, "notify_count"), "zap_other_threads: two others");
        assertEquals(TASK_KILLABLE, k.task(leaderTask).rawState(), "waiting in de_thread");
        for (int t : new int[] {running, sleeping}) {
            assertTrue((structs(k).task(address(k, t), "pending.signal") & SIGKILL_BIT) != 0, "SIGKILL to " + t);
        }
        assertEquals(TaskState.RUNNING, k.task(Pid.of(sleeping)).orElseThrow().state(), "signal_wake_up");
        assertTrue(!k.task(leaderTask).comm().equals("newprog"), "not exec'd yet");
        KernelInvariants.of(k).assertHolds();

        letRun(k, 2, running, sleeping);
        assertEquals(0, address(k, running));
        assertEquals(0, address(k, sleeping));
        letRun(k, 1, leader);
        assertEquals("newprog", k.task(leaderTask).comm(), "setup_new_exec once alone");
        assertEquals(0, signalPtr(k, signal, "group_exit_task"));
        assertEquals(0, signalInt(k, signal, "notify_count"));
        assertEquals(1, signalInt(k, signal, "nr_threads"));
        assertEquals(0, k.task(leaderTask).exitState());
        assertEquals(0, structs(k).task(leaderTask, "pending.signal") & SIGKILL_BIT, "the exec'ing thread is not killed");
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("de_thread: a non-leader exec waits for the leader's zombie, takes its pid, place and start time (change_pid, transfer_pid); release_task frees the old leader")
    void threadExecTakesTheLeadersPid() {
        List<String> lines = new ArrayList<>();
        Kernel k = boot(b -> b.cpus(3).memory(64L << 20).tracer(Tracer.events(lines::add)));
        int leader = process(k);
        long leaderTask = address(k, leader);
        long parent = k.task(leaderTask).realParent();
        long start = structs(k).task(leaderTask, "start_time");
        int thread = k.cpu(1).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
        long threadTask = address(k, thread);
        int execCpu = cpuRunning(k, thread, 2);
        k.cpu(execCpu).exec("newprog");
        long signal = structs(k).taskPtr(threadTask, "signal");
        assertEquals(-1, signalInt(k, signal, "notify_count"), "no other threads: waiting for the leader");
        assertEquals(TASK_KILLABLE, k.task(threadTask).rawState());
        k.cpu(cpuRunning(k, leader, 1)).step();
        assertEquals(EXIT_ZOMBIE, k.task(leaderTask).exitState(), "a zombie while a thread lives");
        assertEquals(0, structs(k).task(leaderTask, "exit_code"), "do_group_exit: signal_group_exit(), group_exit_code 0");
        assertEquals(TaskState.RUNNING, k.task(threadTask).state(), "exit_notify: notify_count < 0 wakes the exec'ing thread");
        letRun(k, 2, thread);

        assertEquals(leader, k.task(threadTask).pid(), "tsk->pid = leader->pid");
        assertEquals(threadTask, address(k, leader), "find_task_by_vpid(the old pid) is the exec'd thread");
        assertEquals(0, address(k, thread), "its own pid is freed");
        assertEquals(threadTask, k.task(threadTask).groupLeader());
        assertEquals(parent, k.task(threadTask).realParent());
        assertEquals(start, structs(k).task(threadTask, "start_time"), "the leader's birthdate");
        assertEquals(SIGCHLD, structs(k).task(threadTask, "exit_signal"));
        assertTrue(taskAddresses(k).contains(threadTask) && !taskAddresses(k).contains(leaderTask),
                "list_replace_rcu(&leader->tasks, &tsk->tasks)");
        assertTrue(structs(k).entries(parent + structs(k).offset("task_struct", "children"))
                .contains(threadTask + structs(k).offset("task_struct", "sibling")), "list_replace_init of the sibling");
        assertTrue(KernelInvariants.rcuPendingTasks(k).contains(leaderTask),
                "release_task(leader): call_rcu(&leader->rcu, delayed_put_task_struct)");
        assertEquals("newprog", k.task(threadTask).comm());
        KernelInvariants.of(k).assertHolds();
        // sched_exec may have moved the exec'd thread (it runs under the leader's pid now)
        k.cpu(cpuRunning(k, leader, execCpu)).exit(5);
        WaitStatus w = k.cpu(cpuRunning(k, 1, 0)).wait4(leader, EnumSet.of(WaitOption.NOHANG)).orElseThrow();
        assertEquals(new WaitStatus(Pid.of(leader), 5 << 8), w, "the parent reaps the process under its old pid");
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("de_thread: killed while it waits, the exec gives up (goto killed: group_exit_task and notify_count cleared), drops the new mm and dies")
    void execKilledInDeThreadGivesUp() {
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        MemoryUsage before = usage(k);
        int leader = process(k);
        long leaderTask = address(k, leader);
        int thread = k.cpu(1).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
        long threadTask = address(k, thread);
        int execCpu = cpuRunning(k, thread, 2);
        k.cpu(execCpu).exec("newprog");
        long signal = structs(k).taskPtr(threadTask, "signal");
        assertTrue(k.kill(Pid.of(leader), SIGKILL));
        assertEquals(TaskState.RUNNING, k.task(threadTask).state(), "TASK_KILLABLE: woken by SIGKILL");
        letRun(k, 2, thread);
        assertEquals(0, address(k, thread), "it died instead of exec'ing");
        assertEquals(0, signalPtr(k, signal, "group_exit_task"));
        letRun(k, 1, leader);
        WaitStatus w = k.cpu(cpuRunning(k, 1, 0)).wait4(leader, EnumSet.of(WaitOption.NOHANG)).orElseThrow();
        assertEquals(SIGKILL, w.termSig());
        assertEquals(0, address(k, leader));
        KernelInvariants.of(k).assertHolds();
        Workload.passGracePeriods(k, 16);
        // idle tasks lazily hold the dead process's mm until they switch to another
        for (int c = k.cpus() - 1; c >= 0; c--) {
            for (int other = 0; other < k.cpus(); other++) {
                if (currentPid(k, other) == 1) {
                    k.cpu(other).runIdle();
                }
            }
            k.cpu(c).run(Pid.INIT);
        }
        assertSameUsage(before, usage(k));
        assertTrue(leaderTask != 0);
    }
}
