package io.github.kproc.tck;

import static io.github.kproc.kernel.CloneFlag.CHILD_CLEARTID;
import static io.github.kproc.kernel.CloneFlag.CHILD_SETTID;
import static io.github.kproc.kernel.CloneFlag.FILES;
import static io.github.kproc.kernel.CloneFlag.FS;
import static io.github.kproc.kernel.CloneFlag.NEWPID;
import static io.github.kproc.kernel.CloneFlag.PARENT;
import static io.github.kproc.kernel.CloneFlag.PARENT_SETTID;
import static io.github.kproc.kernel.CloneFlag.SIGHAND;
import static io.github.kproc.kernel.CloneFlag.THREAD;
import static io.github.kproc.kernel.CloneFlag.VM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import java.util.EnumSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code _do_fork()} (kernel/fork.c) around copy_process: the tid words of CLONE_PARENT_SETTID,
 * CLONE_CHILD_SETTID (written by the child in schedule_tail) and CLONE_CHILD_CLEARTID (cleared by
 * mm_release), the vfork wait, and CLONE_PARENT.
 */
public abstract class DoForkContract extends KernelContract {
    /** {@code PF_FREEZER_SKIP} (include/linux/sched.h). */
    private static final int PF_FREEZER_SKIP = 0x40000000;

    private static final long PTID = 0x7e000010L;
    private static final long CTID = 0x7e000020L;

    @Test
    @DisplayName("_do_fork: CLONE_PARENT_SETTID puts the child's pid_vnr into the parent's memory before the child runs")
    void parentSettidIsWrittenInTheParent() {
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        int pid = k.cpu(0).clone(new CloneArgs(EnumSet.of(PARENT_SETTID), SIGCHLD, 0, 0, PTID, 0, 0)).nr();
        assertEquals(pid, k.userWord(init, PTID));
        assertNull(k.userWord(address(k, pid), PTID), "written after dup_mm: not in the child's copy");
    }

    @Test
    @DisplayName("schedule_tail: CLONE_CHILD_SETTID is written by the child at its first run, with its own pid_vnr")
    void childSettidIsWrittenAtTheFirstRun() {
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        int pid = k.cpu(0).clone(new CloneArgs(EnumSet.of(CHILD_SETTID), SIGCHLD, 0, 0, 0, CTID, 0)).nr();
        long child = address(k, pid);
        assertEquals(CTID, structs(k).taskPtr(child, "set_child_tid"));
        assertNull(k.userWord(child, CTID), "not before the child runs");
        k.cpu(1).run(Pid.of(pid));
        assertEquals(pid, k.userWord(child, CTID));
        assertNull(k.userWord(init, CTID), "the child's own address space");
    }

    @Test
    @DisplayName("schedule_tail: in a new pid namespace (CONFIG_PID_NS) the child writes the number it sees, 1")
    void childSettidIsTheNumberInTheChildsNamespace() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = boot(2);
        runAs(k, 0, 1);
        int nsInit = k.cpu(0).clone(new CloneArgs(EnumSet.of(CHILD_SETTID, NEWPID), SIGCHLD, 0, 0, 0, CTID, 0)).nr();
        k.cpu(1).run(Pid.of(nsInit));
        assertEquals(1, k.userWord(address(k, nsInit), CTID));
    }

    @Test
    @DisplayName("mm_release: CLONE_CHILD_CLEARTID writes 0 to the tid word at exit when the mm is shared")
    void childCleartidIsClearedAtExit() {
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        int pid = k.cpu(0).clone(new CloneArgs(EnumSet.of(VM, FS, FILES, SIGHAND, THREAD, CHILD_SETTID,
                CHILD_CLEARTID), 0, 0, 0, 0, CTID, 0)).nr();
        assertEquals(CTID, structs(k).taskPtr(address(k, pid), "clear_child_tid"));
        k.cpu(1).run(Pid.of(pid));
        assertEquals(pid, k.userWord(init, CTID), "CLONE_CHILD_SETTID, in the shared mm");
        k.cpu(1).exit(0);
        assertEquals(0, k.userWord(init, CTID), "cleared for the futex waiter (pthread_join)");
    }

    @Test
    @DisplayName("mm_release at exec: a vfork child's CLONE_CHILD_CLEARTID word is cleared in the mm it shared")
    void vforkChildClearsItsTidAtExec() {
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        int pid = k.cpu(0).clone(new CloneArgs(EnumSet.of(CloneFlag.VFORK, VM, CHILD_SETTID, CHILD_CLEARTID), SIGCHLD,
                0, 0, 0, CTID, 0)).nr();
        long child = address(k, pid);
        int cpu = k.task(child).cpu();
        if (k.cpu(cpu).current().address() != child) {
            k.cpu(cpu).run(Pid.of(pid));
        }
        assertEquals(pid, k.userWord(init, CTID), "schedule_tail wrote it into the borrowed mm");
        k.cpu(cpu).exec("sh");
        assertEquals(0, k.userWord(init, CTID), "mm_users was 2: put_user(0, clear_child_tid)");
        assertEquals(0, structs(k).taskPtr(child, "clear_child_tid"));
    }

    @Test
    @DisplayName("wait_for_vfork_done: the parent sleeps TASK_KILLABLE until the child execs, then is runnable again")
    void vforkParentWaitsForExec() {
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        Structs s = structs(k);
        long mm = s.taskPtr(init, "mm");
        int pid = k.cpu(0).vfork().nr();
        long child = address(k, pid);
        assertEquals(TASK_KILLABLE, k.task(init).rawState());
        assertEquals(built("CONFIG_FREEZER"), (k.task(init).flags() & PF_FREEZER_SKIP) != 0,
                "freezer_do_not_count before the wait");
        assertEquals(0, k.task(init).onRq(), "not runnable");
        assertTrue(k.cpu(0).current().address() != init && k.cpu(1).current().address() != init, "switched away");
        assertEquals(mm, s.taskPtr(child, "mm"), "CLONE_VM: the child borrows the parent's address space");
        assertEquals(3, k.task(child).usage(), "_do_fork's get_task_struct for the wait");
        long pid0 = s.taskPtr(child, "thread_pid");
        assertEquals(2, s.i32(pid0, "pid", "count"), "_do_fork's get_task_pid");
        long completion = s.taskPtr(child, "vfork_done");
        assertTrue(completion > k.task(init).stack() && completion < k.task(init).stack() + facts().threadSize(),
                "the completion is on the parent's stack");
        int cpu = k.task(child).cpu();
        if (k.cpu(cpu).current().address() != child) {
            k.cpu(cpu).run(Pid.of(pid));
        }
        k.cpu(cpu).exec("sh");
        assertEquals(0, s.taskPtr(child, "vfork_done"), "complete_vfork_done");
        assertEquals(TASK_RUNNING, k.task(init).rawState());
        assertEquals(1, k.task(init).onRq());
        assertTrue(s.taskPtr(child, "mm") != mm, "exec_mmap: a new address space");
        assertTrue(new Debugger(k).inVforkWait(init), "until the parent runs again");
        k.cpu(k.task(init).cpu()).run(Pid.INIT);
        assertFalse(new Debugger(k).inVforkWait(init));
        assertEquals(0, k.task(init).flags() & PF_FREEZER_SKIP, "freezer_count after it");
        assertEquals(2, k.task(child).usage(), "put_task_struct in wait_for_vfork_done");
        assertEquals(1, s.i32(pid0, "pid", "count"), "put_pid at the end of _do_fork");
    }

    @Test
    @DisplayName("complete_vfork_done: a vfork child that exits without exec releases its parent too")
    void vforkParentWaitsForExit() {
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        long users = structs(k).get(structs(k).taskPtr(init, "mm"), "mm_struct", "mm_users");
        int pid = k.cpu(0).vfork().nr();
        long child = address(k, pid);
        int cpu = k.task(child).cpu();
        if (k.cpu(cpu).current().address() != child) {
            k.cpu(cpu).run(Pid.of(pid));
        }
        k.cpu(cpu).exit(0);
        assertEquals(TASK_RUNNING, k.task(init).rawState());
        assertEquals(users, structs(k).get(structs(k).taskPtr(init, "mm"), "mm_struct", "mm_users"));
        k.cpu(k.task(init).cpu()).run(Pid.INIT);
        assertTrue(k.cpu(k.task(init).cpu()).wait4(Pid.of(pid)));
    }

    @Test
    @DisplayName("copy_process: CLONE_PARENT makes the child a sibling: real_parent and exit_signal from the caller's")
    void cloneParentMakesASibling() {
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        int middle = k.cpu(0).fork().nr();
        long caller = runAs(k, 1, middle);
        int pid = k.cpu(1).clone(new CloneArgs(EnumSet.of(PARENT), 0, 0, 0, 0, 0, 0)).nr();
        long child = address(k, pid);
        assertEquals(init, k.task(child).realParent(), "current->real_parent");
        assertEquals(SIGCHLD, k.task(child).exitSignal(), "current->group_leader->exit_signal, not the CSIGNAL 0");
        Structs s = structs(k);
        assertTrue(s.entries(init + s.offset("task_struct", "children"))
                .contains(child + s.offset("task_struct", "sibling")));
        assertTrue(s.entries(caller + s.offset("task_struct", "children")).isEmpty());
        assertEquals(s.task(caller, "parent_exec_id"), s.task(child, "parent_exec_id"));
    }
}
