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
 * SIGKILL as v4.19 delivers it: {@code complete_signal} kills the whole thread group
 * (SIGNAL_GROUP_EXIT, SIGKILL in every thread, sleepers woken by {@code signal_wake_up}), and a
 * killed task dies on its way back to user mode ({@code get_signal} -> {@code do_group_exit}); a pid
 * namespace dies with its init ({@code zap_pid_ns_processes}).
 */
public abstract class KillContract extends KernelContract {
    private static final Set<CloneFlag> THREAD_FLAGS = EnumSet.of(VM, FS, FILES, SIGHAND, THREAD);
    private static final Set<WaitOption> NOHANG = EnumSet.of(WaitOption.NOHANG);
    private static final int PF_EXITING = 0x4;
    private static final int PF_EXITPIDONE = 0x8;
    private static final int PF_SIGNALED = 0x400;
    private static final int SIGNAL_GROUP_EXIT = 0x4;
    private static final long SIG_IGN = 1;

    /** Bit {@code sig} of a task's private pending set. */
    private boolean pending(Kernel k, long task, int sig) {
        long set = structs(k).task(task, "pending.signal");
        return (set & (1L << (sig - 1))) != 0;
    }

    private int signalFlags(Kernel k, long task) {
        return structs(k).i32(structs(k).taskPtr(task, "signal"), "signal_struct", "flags");
    }

    /** Lets every CPU take what is pending, then {@code pid}, if runnable, run (on {@code cpu} if it runs nowhere) back to user mode. */
    private static void letRun(Kernel k, int pid, int cpu) {
        k.stepAll();
        long t = address(k, pid);
        if (t == 0 || k.task(t).exitState() != 0 || k.task(t).state() != TaskState.RUNNING) {
            return; // gone, or asleep (a nested namespace's init waiting in zap_pid_ns_processes)
        }
        k.cpu(cpuRunning(k, pid, cpu)).step();
    }

    @Test
    @DisplayName("signal_wake_up_state -> kick_process: SIGKILL to a task running on another CPU sends that CPU a reschedule IPI, taken as ipi_entry/ipi_exit, and the task dies on the interrupt's return to user mode")
    void kickProcessSendsARescheduleIpiToTheRunningTasksCpu() {
        List<String> lines = new ArrayList<>();
        Kernel k = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.events(lines::add)));
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        long child = runAs(k, 1, pid);
        k.stepAll();
        long ipisBefore = k.cpu(1).reschedIpis();
        lines.clear();
        assertTrue(k.kill(Pid.of(pid), SIGKILL));
        // smp_send_reschedule(1) from the sender's CPU 0; no TIF_NEED_RESCHED (kick_process only interrupts)
        assertEquals(ipisBefore + 1, k.cpu(1).reschedIpis());
        List<String> raises = lines.stream().filter(l -> l.contains("ipi_raise:")).toList();
        assertEquals(1, raises.size(), () -> String.join("\n", lines));
        assertTrue(raises.getFirst().contains("[000]"), raises.getFirst());
        assertTrue(raises.getFirst().contains("ipi_raise: target_mask="), raises.getFirst());
        assertFalse(k.task(child).threadInfo().testFlag(TIF_NEED_RESCHED));
        assertEquals(pid, currentPid(k, 1), "still running until CPU 1 takes the interrupt");
        lines.clear();
        k.cpu(1).step();
        // handle_IPI on CPU 1, then ret_to_user -> do_work_pending -> get_signal -> do_group_exit
        assertTrue(lines.stream().anyMatch(l -> l.contains("[001]") && l.contains("ipi_entry:")), () -> String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.contains("[001]") && l.contains("ipi_exit:")));
        assertTrue(lines.stream().anyMatch(l -> l.contains("sched_process_exit:") && l.contains("pid=" + pid)));
        assertEquals(EXIT_ZOMBIE, k.task(child).exitState());
    }

    @Test
    @DisplayName("kick_process: no IPI for a task current on the sending CPU itself (cpu == smp_processor_id())")
    void kickProcessSendsNoIpiToTheSendersOwnCpu() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int here = k.cpu(0).fork().nr();
        migrateAndRun(k, here, 0);
        k.stepAll();
        long[] before = {k.cpu(0).reschedIpis(), k.cpu(1).reschedIpis()};
        assertTrue(k.kill(Pid.of(here), SIGKILL));
        assertEquals(before[0], k.cpu(0).reschedIpis(), "task_curr on smp_processor_id(): no IPI");
        assertEquals(before[1], k.cpu(1).reschedIpis());
        k.cpu(0).step();
        assertEquals(EXIT_ZOMBIE, k.task(address(k, here)).exitState(), "it dies on CPU 0's own way back to user mode");
    }

    @Test
    @DisplayName("get_signal -> do_group_exit: a killed process dies before its CPU's next operation; its parent reaps WIFSIGNALED, WTERMSIG 9")
    void killedTaskDiesOnItsWayToUserMode() {
        List<String> lines = new ArrayList<>();
        Kernel k = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.events(lines::add)));
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        long child = runAs(k, 1, pid);
        assertTrue(k.kill(Pid.of(pid), SIGKILL));
        // complete_signal: the group is exiting, SIGKILL is pending in its thread, nothing has run yet
        assertEquals(SIGNAL_GROUP_EXIT, signalFlags(k, child));
        assertEquals(SIGKILL, structs(k).i32(structs(k).taskPtr(child, "signal"), "signal_struct", "group_exit_code"));
        assertTrue(pending(k, child, SIGKILL));
        assertEquals(pid, currentPid(k, 1), "still running: it meets the signal on its return to user mode");
        assertEquals(0, k.task(child).exitState());
        k.cpu(1).step();
        assertEquals(EXIT_ZOMBIE, k.task(child).exitState());
        assertTrue(k.cpu(1).current().isIdle(), "the CPU went on with the next task");
        assertEquals(PF_EXITING | PF_SIGNALED, k.task(child).flags() & (PF_EXITING | PF_SIGNALED),
                "get_signal: PF_SIGNALED before do_group_exit");
        assertFalse(pending(k, child, SIGKILL), "dequeued by get_signal");
        assertEquals(SIGKILL, structs(k).task(child, "exit_code"), "do_group_exit(SIGKILL): group_exit_code");
        assertTrue(lines.stream().anyMatch(l -> l.endsWith("sched_process_exit: comm=init pid=" + pid + " prio=120")));
        WaitStatus w = k.cpu(0).wait4(-1, NOHANG).orElseThrow();
        assertEquals(new WaitStatus(Pid.of(pid), SIGKILL), w);
        assertTrue(w.signaled());
        assertEquals(SIGKILL, w.termSig());
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("complete_signal: SIGKILL to one thread kills the group; each thread dies when it next runs, the leader's status is 9")
    void sigkillKillsTheWholeThreadGroup() {
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        int leader = k.cpu(0).fork().nr();
        runAs(k, 1, leader);
        int thread = k.cpu(1).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr();
        long leaderTask = address(k, leader);
        long threadTask = address(k, thread);
        runAs(k, 2, thread);
        assertTrue(k.kill(Pid.of(thread), SIGKILL));
        assertTrue(pending(k, leaderTask, SIGKILL) && pending(k, threadTask, SIGKILL), "sigaddset in every thread");
        k.cpu(2).step();
        assertEquals(0, address(k, thread), "a thread is released at once");
        assertEquals(0, k.task(leaderTask).exitState(), "the leader has not run yet");
        k.stepAll();
        assertEquals(EXIT_ZOMBIE, k.task(leaderTask).exitState());
        assertEquals(new WaitStatus(Pid.of(leader), SIGKILL), k.cpu(0).wait4(-1, NOHANG).orElseThrow(),
                "wait_task_zombie: group_exit_code after SIGNAL_GROUP_EXIT");
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("signal_wake_up(t, 1): SIGKILL wakes a task asleep in do_wait (its wait_chldexit entry off) and one asleep in TASK_INTERRUPTIBLE")
    void sigkillWakesSleepers() {
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        int waiter = k.cpu(0).fork().nr();
        int sleeper = k.cpu(0).fork().nr();
        long waiterTask = runAs(k, 1, waiter);
        k.cpu(1).fork();
        assertEquals(java.util.Optional.empty(), k.cpu(1).wait4(-1, Set.of()), "asleep in do_wait");
        long sleeperTask = runAs(k, 2, sleeper);
        k.cpu(2).sleep();
        assertEquals(TaskState.INTERRUPTIBLE, k.task(waiterTask).state());
        assertEquals(TaskState.INTERRUPTIBLE, k.task(sleeperTask).state());
        long chldexit = structs(k).taskPtr(waiterTask, "signal")
                + structs(k).offset("signal_struct", "wait_chldexit.head");
        assertEquals(1, structs(k).entries(chldexit).size());
        k.kill(Pid.of(waiter), SIGKILL);
        k.kill(Pid.of(sleeper), SIGKILL);
        assertEquals(TaskState.RUNNING, k.task(waiterTask).state());
        assertEquals(TaskState.RUNNING, k.task(sleeperTask).state());
        assertEquals(0, structs(k).entries(chldexit).size(), "the do_wait entry is off wait_chldexit");
        KernelInvariants.of(k).assertHolds();
        letRun(k, waiter, 1);
        letRun(k, sleeper, 2);
        assertEquals(EXIT_ZOMBIE, k.task(waiterTask).exitState());
        assertEquals(EXIT_ZOMBIE, k.task(sleeperTask).exitState());
        assertEquals(SIGKILL, k.cpu(0).wait4(waiter, NOHANG).orElseThrow().termSig());
        assertEquals(SIGKILL, k.cpu(0).wait4(sleeper, NOHANG).orElseThrow().termSig());
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("wait_for_vfork_done: a killed vfork parent (TASK_KILLABLE) wakes, leaves the completion undone, clears the child's vfork_done and dies; the child lives on")
    void killedVforkParentLetsGoOfItsChild() {
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        int parent = k.cpu(0).fork().nr();
        long parentTask = runAs(k, 1, parent);
        int child = k.cpu(1).vfork().nr();
        long childTask = address(k, child);
        assertEquals(TASK_KILLABLE, k.task(parentTask).rawState());
        long vforkDone = structs(k).taskPtr(childTask, "vfork_done");
        assertTrue(vforkDone != 0);
        assertTrue(k.kill(Pid.of(parent), SIGKILL));
        assertEquals(TaskState.RUNNING, k.task(parentTask).state(), "TASK_WAKEKILL: woken");
        // it resumes in wait_for_vfork_done (its stack, with the completion, lives until it is dead)
        k.cpu(2).run(Pid.of(parent));
        assertEquals(0, structs(k).taskPtr(childTask, "vfork_done"), "wait_for_vfork_done: killed");
        assertEquals(0, structs(k).i32(vforkDone, "completion", "done"), "done untouched: -ERESTARTSYS");
        k.cpu(2).step();
        assertEquals(EXIT_ZOMBIE, k.task(parentTask).exitState());
        // the child was reparented to init; its exit no longer completes anything
        k.cpu(cpuRunning(k, child, 1)).exit(0);
        assertEquals(SIGKILL, k.cpu(0).wait4(parent, NOHANG).orElseThrow().termSig());
        assertTrue(k.cpu(0).wait4(child, NOHANG).orElseThrow().exited());
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("sig_task_ignored: init and kthreadd drop SIGKILL; a killed kernel thread does not die (no return to user mode)")
    void initAndKernelThreadsSurviveSigkill() {
        Kernel k = boot(2);
        assertFalse(k.kill(Pid.INIT, SIGKILL));
        assertFalse(k.kill(Pid.KTHREADD, SIGKILL));
        k.cpu(0).run(Pid.INIT);
        k.cpu(0).step();
        assertEquals(1, currentPid(k, 0));
        assertEquals(0, signalFlags(k, address(k, 1)) & SIGNAL_GROUP_EXIT);
    }

    /** The global pid of the task numbered {@code local} in the pid namespace of {@code member}. */
    private static int global(Kernel k, int member, int local) {
        long ns = k.taskActivePidNs(address(k, member));
        return k.tasks().stream().filter(t -> !t.isIdle() && k.pidNr(t.address(), ns) == local)
                .findFirst().orElseThrow().pid();
    }

    /** A pid namespace: its init (global pid returned) runs on CPU 1. */
    private static int namespaceInit(Kernel k) {
        k.cpu(0).run(Pid.INIT);
        int nsInit = k.cpu(0).clone(new CloneArgs(EnumSet.of(CloneFlag.NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        runAs(k, 1, nsInit);
        return nsInit;
    }

    @Test
    @DisplayName("zap_pid_ns_processes: the namespace's init kills every task of it, reaps its zombies, sleeps until they are gone, then exits")
    void namespaceDiesWithItsInit() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = boot(3);
        k.cpu(0).run(Pid.INIT);
        MemoryUsage before = usage(k);
        int nsInit = namespaceInit(k);
        long initTask = address(k, nsInit);
        long ns = k.taskActivePidNs(initTask);
        // fork and clone return numbers in the caller's namespace; Pid names global ones
        int zombie = global(k, nsInit, k.cpu(1).fork().nr());
        int sleeper = global(k, nsInit, k.cpu(1).fork().nr());
        int runner = global(k, nsInit, k.cpu(1).fork().nr());
        int withThread = global(k, nsInit, k.cpu(1).fork().nr());
        // a zombie child, a sleeping one, one with a thread, and a nested namespace under the runner
        k.cpu(cpuRunning(k, zombie, 2)).exit(4);
        k.cpu(cpuRunning(k, sleeper, 2)).sleep();
        int thread = global(k, nsInit,
                k.cpu(cpuRunning(k, withThread, 2)).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr());
        int nested = global(k, nsInit, k.cpu(cpuRunning(k, runner, 2))
                .clone(new CloneArgs(EnumSet.of(CloneFlag.NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr());
        long nestedNs = k.taskActivePidNs(address(k, nested));
        int deep = global(k, nested, k.cpu(cpuRunning(k, nested, 2)).fork().nr());
        List<Integer> victims = List.of(sleeper, runner, withThread, thread, nested, deep);

        k.cpu(cpuRunning(k, nsInit, 1)).exit(0);
        Structs s = structs(k);
        assertEquals(0, s.i32(ns, "pid_namespace", "pid_allocated") & (1 << 31), "disable_pid_allocation");
        long sighand = s.taskPtr(initTask, "sighand");
        assertEquals(SIG_IGN, s.memory().readPointer(sighand + s.offset("sighand_struct", "action")
                + (SIGCHLD - 1) * s.size("k_sigaction")), "SIGCHLD ignored");
        assertEquals(0, address(k, zombie), "kernel_wait4(-1, __WALL) reaped the zombie");
        for (int v : victims) {
            assertTrue(pending(k, address(k, v), SIGKILL), "SIGKILL to pid " + v);
        }
        assertEquals(TaskState.RUNNING, k.task(Pid.of(sleeper)).orElseThrow().state(), "signal_wake_up");
        assertEquals(TaskState.INTERRUPTIBLE, k.task(initTask).state(), "asleep in zap_pid_ns_processes");
        assertEquals(PF_EXITING, k.task(initTask).flags() & (PF_EXITING | PF_EXITPIDONE));
        assertEquals(0, k.task(initTask).exitState());
        KernelInvariants.of(k).assertHolds();

        // the victims die as they run; the last one's free_pid wakes the namespace's init
        for (int round = 0; round < 3; round++) {
            for (int v : victims) {
                letRun(k, v, 2); // a nested namespace's init zaps its own namespace first
            }
        }
        for (int v : victims) {
            assertEquals(0, address(k, v), "autoreaped: pid " + v);
        }
        assertEquals(1, s.i32(ns, "pid_namespace", "pid_allocated"), "only the reaper's pid is left");
        assertTrue(k.task(initTask).state() == TaskState.RUNNING || k.task(initTask).exitState() == EXIT_ZOMBIE,
                "free_pid: wake_up_process(child_reaper), which may have run on to its end already");
        letRun(k, nsInit, 1);
        assertEquals(EXIT_ZOMBIE, k.task(initTask).exitState());
        assertEquals(new WaitStatus(Pid.of(nsInit), 0), k.cpu(cpuRunning(k, 1, 0)).wait4(nsInit, NOHANG).orElseThrow());
        assertEquals(0L, k.memory().usage().objectsInUse().getOrDefault("pid_namespace", 0L),
                "both namespaces freed (" + Long.toHexString(ns) + ", " + Long.toHexString(nestedNs) + ")");
        KernelInvariants.of(k).assertHolds();
        Workload.passGracePeriods(k, 16);
        // idle tasks lazily hold the dead tasks' mms until they switch to another mm
        for (int c = k.cpus() - 1; c >= 0; c--) {
            for (int other = 0; other < k.cpus(); other++) {
                if (currentPid(k, other) == 1) {
                    k.cpu(other).runIdle();
                }
            }
            k.cpu(c).run(Pid.INIT);
        }
        assertSameUsage(before, usage(k));
    }

    @Test
    @DisplayName("zap_pid_ns_processes: SIGKILL to a namespace's init from init_pid_ns takes the namespace with it")
    void killingANamespaceInitZapsIt() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = boot(3);
        int nsInit = namespaceInit(k);
        int child = global(k, nsInit, k.cpu(1).fork().nr());
        assertTrue(k.kill(Pid.of(nsInit), SIGKILL), "from_ancestor_ns forces SIGKILL");
        long childTask = address(k, child);
        k.migrate(Pid.of(child), 2);
        k.cpu(1).step();
        assertTrue(pending(k, childTask, SIGKILL), "zap_pid_ns_processes: SIGKILL to the child");
        assertEquals(TaskState.INTERRUPTIBLE, k.task(Pid.of(nsInit)).orElseThrow().state(),
                "waiting in kernel_wait4 for its child");
        letRun(k, child, 2);
        assertEquals(0, address(k, child));
        letRun(k, nsInit, 1);
        WaitStatus w = k.cpu(cpuRunning(k, 1, 0)).wait4(nsInit, NOHANG).orElseThrow();
        assertEquals(SIGKILL, w.termSig());
        assertErrno(Errno.ECHILD, () -> k.cpu(cpuRunning(k, 1, 0)).wait4(nsInit, NOHANG));
        KernelInvariants.of(k).assertHolds();
    }
}
