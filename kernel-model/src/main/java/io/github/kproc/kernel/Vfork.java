package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;
import java.util.HashMap;
import java.util.Map;

/**
 * The vfork handshake of {@code kernel/fork.c}: {@code _do_fork}'s on-stack {@code struct completion},
 * {@code wait_for_vfork_done} in the parent and {@code mm_release} -> {@code complete_vfork_done} in
 * the child.
 *
 * <p>The parents blocked in a vfork wait are kept in a Java map from parent to the child and pid
 * {@code _do_fork} will put when it returns: the simulator's stand-in for the parent's stack frame.
 */
final class Vfork {
    private final Machine mc;
    private final AddressSpace m;
    private final Offsets o;
    private final Fields f;
    private final TaskAlloc taskAlloc;
    private final Pids pids;
    /** Parents blocked in wait_for_vfork_done: the child and pid they will put when they run again. */
    private final Map<Long, long[]> waiters = new HashMap<>();

    Vfork(Machine mc, TaskAlloc taskAlloc, Pids pids) {
        this.mc = mc;
        this.m = mc.m;
        this.o = mc.o;
        this.f = mc.f;
        this.taskAlloc = taskAlloc;
        this.pids = pids;
    }

    /** {@code init_completion(&vfork)} on the parent's stack, and {@code p->vfork_done = &vfork}. */
    void initCompletion(long parent, long child) {
        long vfork = mc.onStackCompletion(parent);
        m.writePointer(child + f.taskVforkDone, vfork);
        m.writeInt(vfork + f.completionDone, 0);
        mc.lists.init(vfork + f.completionWaitHead);
    }

    /**
     * {@code wait_for_vfork_done(child, &vfork)}: the parent will sleep TASK_KILLABLE until the child
     * releases its mm. Returns true if the caller must now {@code schedule()}; when the parent runs
     * again ({@link #resumed}) it drops the child reference _do_fork took and the pid reference.
     */
    boolean waitForVforkDone(long parent, long child, long pid) {
        waiters.put(parent, new long[] {child, pid});
        if (m.readPointer(child + f.taskVforkDone) == 0) {
            resumed(parent);
            return false;
        }
        m.writePointer(parent + o.taskState, TaskState.TASK_KILLABLE);
        return true;
    }

    /**
     * {@code mm_release(tsk, mm)}: CLONE_CHILD_CLEARTID writes 0 to the tid word if others share the mm,
     * and a vfork parent's completion is signalled ({@code complete_vfork_done}). Returns the parent
     * the caller must wake ({@code complete()}'s wakeup), or 0.
     */
    long mmRelease(long tsk, long mm) {
        long clear = m.readPointer(tsk + f.taskClearChildTid);
        if (clear != 0) {
            if (mm != 0 && m.readInt(mm + f.mmUsers) > 1) {
                mc.userMemory.putUser(mm, clear, 0);
            }
            m.writePointer(tsk + f.taskClearChildTid, 0);
        }
        long vfork = m.readPointer(tsk + f.taskVforkDone);
        if (vfork == 0) {
            return 0;
        }
        m.writePointer(tsk + f.taskVforkDone, 0);
        m.writeInt(vfork + f.completionDone, m.readInt(vfork + f.completionDone) + 1);
        for (Map.Entry<Long, long[]> e : waiters.entrySet()) {
            if (e.getValue()[0] == tsk) {
                return e.getKey();
            }
        }
        return 0;
    }

    /** A task resumes after {@code __schedule} returned to it: finish a vfork wait if it was in one. */
    void resumed(long task) {
        if (waiters.isEmpty()) {
            return;
        }
        long[] waiting = waiters.remove(task);
        if (waiting != null) {
            taskAlloc.putTaskStruct(waiting[0]);
            pids.putPid(waiting[1]);
        }
    }

    /** True if the task is blocked in a vfork wait. */
    boolean inVforkWait(long task) {
        return !waiters.isEmpty() && waiters.containsKey(task);
    }
}
