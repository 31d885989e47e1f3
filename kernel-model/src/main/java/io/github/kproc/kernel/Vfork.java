package io.github.kproc.kernel;

import io.github.kproc.view.TaskFlags;
import io.github.kproc.arch.Offsets;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskStateBits;

/**
 * The vfork handshake of {@code kernel/fork.c} on the parent's kernel stack, as the kernel keeps it:
 * {@code _do_fork}'s {@code struct completion vfork} and its locals {@code p} and {@code pid}, and
 * {@code do_wait_for_common}'s {@code struct wait_queue_entry} ({@code private} = the parent,
 * {@code func} = {@code default_wake_function}, exclusive) queued on the completion's wait queue.
 * {@code mm_release} -> {@code complete_vfork_done} -> {@code complete()} counts {@code done} and
 * wakes the first waiter; the parent, when it runs again, takes itself off the queue, consumes the
 * count, and {@code _do_fork} drops its references on the child and the pid.
 *
 * <p>A task is in a vfork wait exactly when its on-stack wait entry is queued on its on-stack
 * completion: that is read from memory, so nothing about the wait is kept in Java.
 */
final class Vfork {
    /** {@code WQ_FLAG_EXCLUSIVE}. */
    private static final int WQ_FLAG_EXCLUSIVE = 0x01;

    private final Machine mc;
    private final AddressSpace m;
    private final Offsets o;
    private final Fields f;
    private final TaskAlloc taskAlloc;
    private final Pids pids;
    private final int ptr;
    private final long defaultWakeFunction;
    /** {@code CONFIG_FREEZER}: freezer_do_not_count/freezer_count mark the waiting parent. */
    private final boolean freezer;
    /** {@code wait_queue_entry.flags}, {@code .private}, {@code .func}, {@code .entry}. */
    final long entryFlags;
    final long entryPrivate;
    final long entryFunc;
    final long entryList;

    Vfork(Machine mc, TaskAlloc taskAlloc, Pids pids) {
        this.mc = mc;
        this.m = mc.m;
        this.o = mc.o;
        this.f = mc.f;
        this.taskAlloc = taskAlloc;
        this.pids = pids;
        this.ptr = mc.platform.pointerSize();
        Profile p = mc.platform.profile();
        this.entryFlags = p.offsetOf("wait_queue_entry", "flags");
        this.entryPrivate = p.offsetOf("wait_queue_entry", "private");
        this.entryFunc = p.offsetOf("wait_queue_entry", "func");
        this.entryList = p.offsetOf("wait_queue_entry", "entry");
        this.defaultWakeFunction = mc.symbols.address("default_wake_function");
        this.freezer = p.config().enabled("CONFIG_FREEZER");
    }

    /** {@code do_wait_for_common}'s on-stack {@code DECLARE_WAITQUEUE(wait, current)}, below _do_fork's frame. */
    private long waitEntry(long task) {
        return (mc.platform.taskPtRegs(m, task) - 0xc0) & -8L;
    }

    /** {@code _do_fork}'s locals {@code p} and {@code pid}, live across the wait. */
    private long locals(long task) {
        return (mc.platform.taskPtRegs(m, task) - 0xe0) & -8L;
    }

    /** {@code init_completion(&vfork)} on the parent's stack, and {@code p->vfork_done = &vfork}. */
    void initCompletion(long parent, long child) {
        long vfork = mc.onStackCompletion(parent);
        m.writePointer(child + f.task.vforkDone, vfork);
        m.writeInt(vfork + f.completion.done, 0);
        mc.lists.init(vfork + f.completion.waitHead);
    }

    /**
     * {@code wait_for_vfork_done(child, &vfork)} -> {@code wait_for_completion_killable}: if the
     * completion is already done the count is consumed and _do_fork goes on; otherwise the parent
     * queues its wait entry, sleeps TASK_KILLABLE, and the caller must {@code schedule()} (returns true).
     * {@code _do_fork}'s {@code p} and {@code pid} stay in its frame for {@link #resumed}.
     */
    boolean waitForVforkDone(long parent, long child, long pid) {
        long locals = locals(parent);
        m.writePointer(locals, child);
        m.writePointer(locals + ptr, pid);
        long vfork = mc.onStackCompletion(parent);
        if (m.readInt(vfork + f.completion.done) != 0) {
            finish(parent, vfork);
            return false;
        }
        // freezer_do_not_count(): with CONFIG_FREEZER the frozen-system check skips the waiting parent
        if (freezer) {
            m.writeInt(parent + o.taskFlags, m.readInt(parent + o.taskFlags) | TaskFlags.PF_FREEZER_SKIP);
        }
        long wait = waitEntry(parent);
        m.writeInt(wait + entryFlags, WQ_FLAG_EXCLUSIVE);
        m.writePointer(wait + entryPrivate, parent);
        m.writePointer(wait + entryFunc, defaultWakeFunction);
        mc.lists.addTail(wait + entryList, vfork + f.completion.waitHead);
        m.writePointer(parent + o.taskState, TaskStateBits.TASK_KILLABLE);
        return true;
    }

    /**
     * {@code mm_release(tsk, mm)}: CLONE_CHILD_CLEARTID writes 0 to the tid word if others share the mm,
     * and a vfork parent's completion is signalled ({@code complete_vfork_done} -> {@code complete}:
     * done++ and the first waiter's {@code default_wake_function}). Returns the task the caller must
     * wake ({@code try_to_wake_up} of the entry's {@code private}), or 0.
     */
    long mmRelease(long tsk, long mm) {
        long clear = m.readPointer(tsk + f.task.clearChildTid);
        if (clear != 0) {
            if (mm != 0 && m.readInt(mm + f.mm.users) > 1) {
                mc.userMemory.putUser(mm, clear, 0);
            }
            m.writePointer(tsk + f.task.clearChildTid, 0);
        }
        long vfork = m.readPointer(tsk + f.task.vforkDone);
        if (vfork == 0) {
            return 0;
        }
        m.writePointer(tsk + f.task.vforkDone, 0);
        m.writeInt(vfork + f.completion.done, m.readInt(vfork + f.completion.done) + 1);
        long head = vfork + f.completion.waitHead;
        long first = mc.lists.next(head);
        if (first == head) {
            return 0;
        }
        long wait = first - entryList;
        return m.readPointer(wait + entryFunc) == defaultWakeFunction ? m.readPointer(wait + entryPrivate) : 0;
    }

    /**
     * A task resumes after {@code __schedule} returned to it: if it was waiting for a vfork, the rest of
     * {@code do_wait_for_common} and {@code _do_fork} runs ({@link #finish}). Woken with the completion
     * not done, the parent was killed (only SIGKILL wakes TASK_KILLABLE): {@code do_wait_for_common}
     * returns -ERESTARTSYS leaving {@code done} alone, and {@code wait_for_vfork_done} clears the
     * child's {@code vfork_done} before {@code _do_fork} drops its references; the parent then dies on
     * its way back to user mode.
     */
    void resumed(long task) {
        if (inVforkWait(task)) {
            long wait = waitEntry(task);
            mc.lists.del(wait + entryList);
            // freezer_count()
            m.writeInt(task + o.taskFlags, m.readInt(task + o.taskFlags) & ~TaskFlags.PF_FREEZER_SKIP);
            long vfork = mc.onStackCompletion(task);
            if (m.readInt(vfork + f.completion.done) == 0) {
                long locals = locals(task);
                long child = m.readPointer(locals);
                m.writePointer(child + f.task.vforkDone, 0);
                taskAlloc.putTaskStruct(child);
                pids.putPid(m.readPointer(locals + ptr));
                return;
            }
            finish(task, vfork);
        }
    }

    /** {@code x->done--} (not UINT_MAX), then _do_fork's {@code put_task_struct(p)} and {@code put_pid(pid)}. */
    private void finish(long parent, long vfork) {
        int done = m.readInt(vfork + f.completion.done);
        if (done != -1) {
            m.writeInt(vfork + f.completion.done, done - 1);
        }
        long locals = locals(parent);
        taskAlloc.putTaskStruct(m.readPointer(locals));
        pids.putPid(m.readPointer(locals + ptr));
    }

    /** True if the task's on-stack wait entry is queued on its on-stack vfork completion. */
    boolean inVforkWait(long task) {
        if (m.readPointer(task + o.taskStack) == 0) {
            return false;
        }
        long head = mc.onStackCompletion(task) + f.completion.waitHead;
        long entry = waitEntry(task) + entryList;
        return mc.lists.next(head) == entry && mc.lists.prev(entry) == head
                && m.readPointer(entry - entryList + entryPrivate) == task;
    }
}
