package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.WaitOption;
import io.github.kproc.kernel.WaitStatus;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.view.TaskState;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code wait4} and {@code waitid} as v4.19's kernel/exit.c answers them: {@code kernel_wait4} and
 * {@code kernel_waitid}'s option checks, {@code do_wait}'s order (the calling thread's children, then
 * its group's), {@code eligible_child} (__WALL, __WCLONE), {@code wait_task_zombie} (the status word,
 * WNOWAIT), and the sleep on {@code signal->wait_chldexit} that {@code __wake_up_parent} ends.
 */
public abstract class WaitContract extends KernelContract {
    private static final Set<WaitOption> NOHANG = EnumSet.of(WaitOption.NOHANG);

    /** init on CPU 0 forks a process that runs on CPU 1; returns its pid. */
    private static int processOnCpu1(Kernel k) {
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        k.cpu(1).run(Pid.of(pid));
        return pid;
    }

    /** The current task of {@code cpu} forks a child that runs on {@code on} and exits with {@code status}. */
    private static int zombie(Kernel k, int cpu, int on, int status) {
        int child = k.cpu(cpu).fork().nr();
        k.cpu(cpuRunning(k, child, on)).exit(status);
        return child;
    }

    @Test
    @DisplayName("wait_task_zombie: the status word is exit_code, (status & 0xff) << 8 after exit(status)")
    void statusWordOfAnExit() {
        Kernel k = boot(3);
        processOnCpu1(k);
        int child = zombie(k, 1, 2, 0x1ff);
        WaitStatus w = k.cpu(1).wait4(-1, NOHANG).orElseThrow();
        assertEquals(new WaitStatus(Pid.of(child), 0xff00), w);
        assertTrue(w.exited());
        assertFalse(w.signaled());
        assertEquals(0xff, w.exitStatus());
        assertEquals(0, address(k, child), "reaped");
    }

    @Test
    @DisplayName("kernel_wait4 / kernel_waitid: WNOWAIT and WEXITED are -EINVAL for wait4; waitid needs WEXITED and peeks with WNOWAIT")
    void waitidPeeksWithWnowait() {
        Kernel k = boot(3);
        processOnCpu1(k);
        int child = zombie(k, 1, 2, 7);
        assertErrno(Errno.EINVAL, () -> k.cpu(1).wait4(-1, EnumSet.of(WaitOption.NOHANG, WaitOption.NOWAIT)));
        assertErrno(Errno.EINVAL, () -> k.cpu(1).wait4(-1, EnumSet.of(WaitOption.EXITED)));
        assertErrno(Errno.EINVAL, () -> k.cpu(1).waitid(-1, NOHANG));
        Set<WaitOption> peek = EnumSet.of(WaitOption.EXITED, WaitOption.NOWAIT, WaitOption.NOHANG);
        assertEquals(Optional.of(new WaitStatus(Pid.of(child), 7 << 8)), k.cpu(1).waitid(child, peek));
        assertEquals(EXIT_ZOMBIE, k.task(address(k, child)).exitState(), "WNOWAIT leaves the zombie");
        assertEquals(Optional.of(new WaitStatus(Pid.of(child), 7 << 8)),
                k.cpu(1).waitid(-1, EnumSet.of(WaitOption.EXITED, WaitOption.NOHANG)));
        assertEquals(0, address(k, child));
    }

    @Test
    @DisplayName("eligible_child: without __WALL only children reporting SIGCHLD, with __WCLONE only the others")
    void cloneChildrenNeedWclone() {
        Kernel k = boot(3);
        processOnCpu1(k);
        int child = k.cpu(1).clone(CloneArgs.fork().withExitSignal(0)).nr();
        k.cpu(cpuRunning(k, child, 2)).exit(0);
        assertErrno(Errno.ECHILD, () -> k.cpu(1).wait4(-1, NOHANG));
        assertEquals(Optional.of(new WaitStatus(Pid.of(child), 0)),
                k.cpu(1).wait4(child, EnumSet.of(WaitOption.NOHANG, WaitOption.CLONE)));
        int forked = zombie(k, 1, 2, 0);
        assertErrno(Errno.ECHILD, () -> k.cpu(1).wait4(-1, EnumSet.of(WaitOption.NOHANG, WaitOption.CLONE)));
        assertEquals(forked, k.cpu(1).wait4(-1, EnumSet.of(WaitOption.NOHANG, WaitOption.ALL)).orElseThrow().pid().nr());
    }

    @Test
    @DisplayName("do_wait: the calling thread's own children first, then its thread group's; __WNOTHREAD only its own")
    void doWaitStartsWithTheCallingThread() {
        Kernel k = boot(3);
        int leader = processOnCpu1(k);
        int thread = k.cpu(1).clone(CloneArgs.thread()).nr();
        int leadersChild = zombie(k, 1, 2, 1);
        int c = cpuRunning(k, thread, 0);
        int threadsChild = zombie(k, c, (c + 1) % 3, 2);
        c = cpuRunning(k, thread, c);
        assertEquals(threadsChild, k.cpu(c).wait4(-1, NOHANG).orElseThrow().pid().nr(), "the caller's own child first");
        assertErrno(Errno.ECHILD, () -> k.cpu(cpuRunning(k, thread, 0)).wait4(-1, EnumSet.of(WaitOption.NOHANG, WaitOption.NOTHREAD)));
        assertEquals(leadersChild, k.cpu(cpuRunning(k, thread, 0)).wait4(-1, NOHANG).orElseThrow().pid().nr(), "then the group's");
        assertTrue(address(k, leader) != 0);
    }

    @Test
    @DisplayName("do_wait + __wake_up_parent: without WNOHANG the parent sleeps on wait_chldexit until a matching child exits")
    void waitSleepsUntilAChildExits() {
        Kernel k = boot(3);
        int parent = processOnCpu1(k);
        int first = k.cpu(1).fork().nr();
        int second = k.cpu(1).fork().nr();
        assertEquals(Optional.empty(), k.cpu(1).wait4(second, Set.of()));
        long p = address(k, parent);
        assertEquals(TaskState.INTERRUPTIBLE, k.task(p).state());
        Structs s = structs(k);
        long waitHead = s.taskPtr(p, "signal") + s.offset("signal_struct", "wait_chldexit.head");
        assertTrue(s.memory().readPointer(waitHead) != waitHead, "do_wait's entry is queued");
        k.cpu(cpuRunning(k, first, 2)).exit(0);
        assertEquals(TaskState.INTERRUPTIBLE, k.task(p).state(), "child_wait_callback: not the pid waited for");
        k.cpu(cpuRunning(k, second, 2)).exit(5);
        assertEquals(TaskState.RUNNING, k.task(p).state(), "woken by __wake_up_parent");
        assertEquals(waitHead, s.memory().readPointer(waitHead), "the entry is off the queue");
        int c = cpuRunning(k, parent, 1);
        assertEquals(Optional.of(new WaitStatus(Pid.of(second), 5 << 8)), k.cpu(c).wait4(second, Set.of()));
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("do_wait: with a signal pending the wait does not sleep but returns -ERESTARTSYS")
    void pendingSignalInterruptsTheWait() {
        Kernel k = boot(3);
        int parent = processOnCpu1(k);
        k.cpu(1).fork();
        assertTrue(k.kill(Pid.of(parent), SIGUSR1));
        assertErrno(Errno.ERESTARTSYS, () -> k.cpu(1).wait4(-1, Set.of()));
        assertEquals(TaskState.RUNNING, k.task(address(k, parent)).state());
    }

    @Test
    @DisplayName("wake_up_process of a task asleep in do_wait takes its entry off wait_chldexit")
    void wakeUpEndsTheWaitSleep() {
        Kernel k = boot(3);
        int parent = processOnCpu1(k);
        int child = k.cpu(1).fork().nr();
        assertEquals(Optional.empty(), k.cpu(1).wait4(-1, Set.of()));
        assertTrue(k.cpu(0).wakeUp(Pid.of(parent)));
        Structs s = structs(k);
        long waitHead = s.taskPtr(address(k, parent), "signal") + s.offset("signal_struct", "wait_chldexit.head");
        assertEquals(waitHead, s.memory().readPointer(waitHead));
        k.cpu(cpuRunning(k, child, 2)).exit(0);
        KernelInvariants.of(k).assertHolds();
    }
}
