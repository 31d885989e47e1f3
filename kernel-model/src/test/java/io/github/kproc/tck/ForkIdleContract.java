package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code fork_idle()} (kernel/fork.c) for each secondary CPU: copy_process with
 * {@code &init_struct_pid}, so no pid, no task list and no nr_threads, but a total_forks; then
 * {@code init_idle()} and the CPU's {@code secondary_start_kernel()}, which lends the idle task
 * init_mm and disables preemption before the idle loop.
 */
public abstract class ForkIdleContract extends KernelContract {

    @Test
    @DisplayName("rest_init: kernel_thread(kernel_init, NULL, CLONE_FS) and kernel_thread(kthreadd, NULL, CLONE_FS |"
            + " CLONE_FILES): exit_signal 0 (kthreadd keeps it; init's exec of /sbin/init makes it SIGCHLD in"
            + " de_thread), task_newtask shows clone_flags=800300 and 800700")
    void restInitCloneFlags() {
        java.util.List<String> lines = new java.util.ArrayList<>();
        Kernel k = boot(b -> b.cpus(1).memory(64L << 20).tracer(io.github.kproc.kernel.Tracer.events(lines::add)));
        // de_thread's no_thread_group: every exec sets exit_signal = SIGCHLD, init's too
        assertEquals(SIGCHLD, k.task(io.github.kproc.kernel.Pid.INIT).orElseThrow().exitSignal());
        assertTrue(lines.stream().anyMatch(l -> l.contains("task_newtask: pid=1 ") && l.contains("clone_flags=800300 ")),
                "exit_signal 0 at the clone: CSIGNAL bits 0");
        assertEquals(0, k.task(io.github.kproc.kernel.Pid.KTHREADD).orElseThrow().exitSignal());
        java.util.List<String> newTasks = lines.stream().filter(l -> l.contains("task_newtask:")).toList();
        assertTrue(newTasks.get(0).contains("task_newtask: pid=1 comm=swapper/0 clone_flags=800300 "), newTasks.get(0));
        assertTrue(newTasks.get(1).contains("task_newtask: pid=2 comm=swapper/0 clone_flags=800700 "), newTasks.get(1));
    }

    @Test
    @DisplayName("fork_idle: pid 0 on init_struct_pid, on no list, not in nr_threads but in total_forks")
    void idleTasksHaveNoPid() {
        Kernel k = boot(4);
        Structs s = structs(k);
        long initStructPid = s.taskPtr(k.initTask(), "thread_pid");
        assertEquals(2, k.nrThreads(), "init and kthreadd");
        assertEquals(5, k.totalForks(), "init, kthreadd and three idle tasks");
        for (int cpu = 1; cpu < 4; cpu++) {
            long idle = k.cpu(cpu).idleTask().address();
            assertEquals(0, k.task(idle).pid());
            assertEquals(initStructPid, s.taskPtr(idle, "thread_pid"));
            assertFalse(taskAddresses(k).contains(idle));
            assertEquals("swapper/" + cpu, k.task(idle).comm());
            assertEquals(2, k.task(idle).flags() & 0x2, "PF_IDLE");
            assertEquals(1, s.task(idle, "nr_cpus_allowed"));
            assertEquals(cpu, k.task(idle).cpu());
            assertEquals(idle, k.cpu(cpu).current().address());
        }
    }

    @Test
    @DisplayName("secondary_start_kernel: the idle task borrows init_mm (mmgrab) and runs with preemption disabled")
    void secondaryIdleTasksBorrowInitMm() {
        Kernel k = boot(4);
        Structs s = structs(k);
        long initMm = k.symbol("init_mm");
        for (int cpu = 1; cpu < 4; cpu++) {
            long idle = k.cpu(cpu).idleTask().address();
            assertEquals(0, k.task(idle).mm());
            assertEquals(initMm, k.task(idle).activeMm(), "current->active_mm = &init_mm");
            assertEquals(facts().forkPreemptCount() / 2, k.task(idle).threadInfo().preemptCountValue(),
                    "preempt_disable(): PREEMPT_DISABLE_OFFSET");
        }
        // init_mm: its static reference plus one per idle task lending it. CPU 0's idle has it back too:
        // init's sched_exec switched kernel_init out before exec_mmap, kthreadd borrowed init_mm from
        // it (context_switch's mmgrab; the kernel thread switched out gives its own up), and the idle
        // task from kthreadd
        assertEquals(initMm, k.cpu(0).idleTask().activeMm());
        assertEquals(1 + 4, s.i32(initMm, "mm_struct", "mm_count"));
        // the first switch to a task with an mm gives init_mm back (finish_task_switch's mmdrop)
        k.cpu(1).step();
        assertEquals(1, k.cpu(1).current().pid(), "CPU 1 runs init, which its exec was sent to");
        assertEquals(1 + 3, s.i32(initMm, "mm_struct", "mm_count"));
    }
}
