package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Tracer;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code sched_fork()} and {@code wake_up_new_task()} (kernel/sched/core.c): TASK_NEW while
 * copy_process runs, the parent's normal_prio, the forking CPU written where Kconfig keeps it,
 * FORK_PREEMPT_COUNT until the first run; then TASK_RUNNING on the idlest CPU with a reschedule of
 * what runs there.
 */
public abstract class SchedForkContract extends KernelContract {
    private static final Pattern NEWTASK = Pattern.compile("task_newtask: pid=(\\d+) ");

    /** What a tracer sees of the child when copy_process is done with it (task_newtask fires there). */
    private record AtNewTask(long state, int onRq, int cpu, int preemptCount) {
    }

    @Test
    @DisplayName("sched_fork: the child is TASK_NEW, off every runqueue, while copy_process finishes it")
    void childIsNewDuringCopyProcess() {
        List<AtNewTask> seen = new ArrayList<>();
        Kernel[] holder = new Kernel[1];
        Kernel k = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.events(line -> {
            Matcher m = NEWTASK.matcher(line);
            if (m.find() && holder[0] != null) {
                Kernel kk = holder[0];
                long t = address(kk, Integer.parseInt(m.group(1)));
                seen.add(new AtNewTask(kk.task(t).rawState(), kk.task(t).onRq(), kk.task(t).cpu(),
                        kk.task(t).threadInfo().preemptCountValue()));
            }
        })));
        holder[0] = k;
        k.cpu(1).run(Pid.INIT);
        int pid = k.cpu(1).fork().nr();
        assertEquals(List.of(new AtNewTask(TASK_NEW, 0, 1, facts().forkPreemptCount())), seen,
                "state, on_rq, task_cpu (smp_processor_id() of the fork) and preempt_count at task_newtask");
        long child = address(k, pid);
        assertEquals(TASK_RUNNING, k.task(child).rawState(), "wake_up_new_task: TASK_RUNNING");
        assertEquals(1, k.task(child).onRq(), "TASK_ON_RQ_QUEUED");
    }

    @Test
    @DisplayName("sched_fork: prio is the parent's normal_prio, so a priority boost is not inherited")
    void prioIsTheParentsNormalPrio() {
        Kernel k = boot(2);
        Structs s = structs(k);
        long init = runAs(k, 0, 1);
        s.set(init, "task_struct", "prio", 110);
        long child = address(k, k.cpu(0).fork().nr());
        assertEquals(120, k.task(child).prio());
        assertEquals(120, k.task(child).normalPrio());
        assertEquals(120, k.task(child).staticPrio());
    }

    @Test
    @DisplayName("sched_fork: sched_reset_on_fork gives a negative nice back as nice 0 and clears the flag")
    void resetOnForkRestoresNiceZero() {
        Kernel k = boot(2);
        Structs s = structs(k);
        long init = runAs(k, 0, 1);
        var reset = platform().profile().field("task_struct", "sched_reset_on_fork");
        long word = init + reset.offset();
        s.memory().writeInt(word, s.memory().readInt(word) | (1 << reset.bitOffset()));
        s.set(init, "task_struct", "static_prio", 110);
        s.set(init, "task_struct", "normal_prio", 110);
        long child = address(k, k.cpu(0).fork().nr());
        assertEquals(120, k.task(child).staticPrio());
        assertEquals(120, k.task(child).normalPrio());
        assertEquals(120, k.task(child).prio());
        assertEquals(0, s.memory().readInt(child + reset.offset()) & (1 << reset.bitOffset()));
    }

    @Test
    @DisplayName("sched_fork: a SCHED_DEADLINE parent without reset-on-fork is -EAGAIN")
    void deadlineParentIsEagain() {
        Kernel k = boot(2);
        Structs s = structs(k);
        long init = runAs(k, 0, 1);
        s.set(init, "task_struct", "policy", 6);
        s.set(init, "task_struct", "normal_prio", -1);
        KernelState before = KernelState.of(k, init);
        assertErrno(Errno.EAGAIN, () -> k.cpu(0).fork());
        before.assertUnchanged(k, KernelState.of(k, init));
    }

    @Test
    @DisplayName("init_task_preempt_count: FORK_PREEMPT_COUNT until schedule_tail's preempt_enable on the first run")
    void forkPreemptCountUntilTheFirstRun() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        long child = address(k, k.cpu(0).fork().nr());
        assertEquals(facts().forkPreemptCount(), k.task(child).threadInfo().preemptCountValue());
        k.cpu(1).run(Pid.of(pidOf(k, child)));
        assertEquals(0, k.task(child).threadInfo().preemptCountValue());
    }

    @Test
    @DisplayName("__set_task_cpu: the CPU goes where Kconfig keeps it (thread_info.cpu or task_struct.cpu) and to wake_cpu")
    void cpuIsWrittenWhereKconfigKeepsIt() {
        Kernel k = boot(4);
        Structs s = structs(k);
        k.cpu(2).run(Pid.INIT);
        long child = address(k, k.cpu(2).fork().nr());
        int cpu = k.task(child).cpu();
        assertEquals(cpu, s.memory().readInt(facts().cpu().address(platform(), s.memory(), child)));
        assertEquals(cpu, s.task(child, "wake_cpu"));
        assertEquals(2, s.task(child, "recent_used_cpu"), "wake_up_new_task records the forking CPU");
        if (platform().threadInfoInTask()) {
            assertEquals(cpu, s.task(child, "cpu"));
        } else {
            assertEquals(cpu, s.i32(k.task(child).stack(), "thread_info", "cpu"));
        }
    }

    @Test
    @DisplayName("wake_up_new_task: fork balancing queues the child on the idlest CPU and reschedules its idle task (resched_curr)")
    void newTaskGoesToTheIdlestCpu() {
        Kernel k = boot(4);
        k.cpu(0).run(Pid.INIT);
        // CPU 1 takes the reschedule IPI of init's boot exec (sched_exec sent init there): nothing to run now
        k.stepAll();
        long ipis = k.cpu(1).reschedIpis();
        long child = address(k, k.cpu(0).fork().nr());
        assertEquals(1, k.task(child).cpu(), "CPU 0 runs init; 1, 2 and 3 are idle");
        assertEquals(1, k.cpu(1).nrRunning());
        assertTrue(new Debugger(k).runQueue(1).contains(child));
        assertTrue(k.cpu(1).idleTask().threadInfo().testFlag(TIF_NEED_RESCHED),
                "check_preempt_curr: the idle class loses");
        assertEquals(ipis + 1, k.cpu(1).reschedIpis(), "another CPU gets a reschedule IPI");
        assertEquals(k.cpu(1).idleTask().address(), k.cpu(1).current().address(), "the child has not run yet");
        long second = address(k, k.cpu(0).fork().nr());
        assertEquals(2, k.task(second).cpu());
        assertFalse(k.cpu(0).current().threadInfo().testFlag(TIF_NEED_RESCHED));
    }
}
