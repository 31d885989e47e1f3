package io.github.kproc.kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * Test access to the model's state that the arena does not hold (struct rq is private to
 * kernel/sched and not in the profiles; the vfork waiters live on kernel stacks as completions) and
 * the few operations the public API has no system call for. Read-only except where named.
 */
public final class KernelInternals {
    private KernelInternals() {
    }

    /** {@code rq->curr} of a CPU, as the scheduler sees it. */
    public static long rqCurr(Kernel k, int cpu) {
        return k.core().rq.curr(cpu);
    }

    /** The tasks queued (runnable, not running) on a CPU's runqueue, in list order. */
    public static List<Long> runQueue(Kernel k, int cpu) {
        List<Long> out = k.core().queued(cpu);
        if (out.size() > 1 << 20) {
            throw new AssertionError("runqueue of CPU " + cpu + " does not close");
        }
        return out;
    }

    /**
     * Sets a task's {@code se.vruntime} as a test needs it; an entity queued in a CFS timeline is
     * taken out and put back at its new key, so the red-black tree stays ordered.
     */
    public static void setVruntime(Kernel k, long task, long value) {
        k.core().setVruntime(task, value);
    }

    /** True if the task is blocked in, or has not yet returned from, {@code wait_for_vfork_done}. */
    public static boolean inVforkWait(Kernel k, long task) {
        // read from the task's stack only while the task is alive (a reaped one's memory is poison)
        return k.tasks().stream().anyMatch(t -> t.address() == task) && k.core().vfork.inVforkWait(task);
    }

    /** {@code &init_mm}: static, with users and count no task accounts for. */
    public static long initMm(Kernel k) {
        return k.core().mc.initMm;
    }

    /** The address of the kernel text symbol the model uses for {@code name}. */
    public static long symbol(Kernel k, String name) {
        return k.core().mc.symbols.address(name);
    }

    /**
     * What {@code setresuid(uid, uid, uid)} leaves behind for {@code task}, which the model has no
     * system call for: a new cred (usage 2: cred and real_cred) of a new user_struct for {@code uid}
     * ({@code alloc_uid}) counting the task as one of its processes; the old cred and the old user's
     * process count are dropped as {@code commit_creds} does.
     */
    public static void setUid(Kernel k, long task, int uid) {
        Machine mc = k.core().mc;
        Cred creds = new Cred(mc);
        long user = mc.staticAlloc(mc.f.user.size, 8);
        mc.m.writeInt(user + mc.f.user.count, 1);
        mc.m.writeInt(user + mc.f.user.uid, uid);
        long old = mc.m.readPointer(task + mc.f.task.cred);
        long cred = mc.credCache.alloc();
        mc.m.copy(old, cred, mc.f.cred.size);
        mc.m.writeInt(cred + mc.f.cred.usage, 2);
        mc.m.writeInt(cred + mc.f.cred.uid, uid);
        mc.m.writeInt(cred + mc.f.cred.euid, uid);
        mc.m.writePointer(cred + mc.f.cred.user, user);
        mc.m.writeInt(user + mc.f.user.processes, 1);
        long oldUser = mc.m.readPointer(old + mc.f.cred.user);
        mc.m.writeInt(oldUser + mc.f.user.processes, mc.m.readInt(oldUser + mc.f.user.processes) - 1);
        mc.m.writePointer(task + mc.f.task.cred, cred);
        mc.m.writePointer(task + mc.f.task.realCred, cred);
        creds.putCred(old);
        creds.putCred(old);
    }

    /** {@code find_task_by_pid_ns(nr, ns)} (kernel/pid.c): through the namespace's IDR, 0 if no task has that number. */
    public static long findTaskByPidNs(Kernel k, int nr, long ns) {
        return k.core().pids.findTaskByPidNs(nr, ns);
    }

    /** {@code find_pid_ns(nr, ns)} (kernel/pid.c): {@code idr_find(&ns->idr, nr)}, the struct pid or 0. */
    public static long findPidNs(Kernel k, int nr, long ns) {
        return k.core().pids.findPidNs(nr, ns);
    }

    /**
     * The numbers in {@code ns->idr} mapped to a pid, ascending, read from the arena with
     * {@code idr_get_next} from 0 ({@code idr_for_each_entry}).
     */
    public static List<Integer> idrNumbers(Kernel k, long ns) {
        Machine mc = k.core().mc;
        long idr = ns + mc.f.pidNs.idr;
        List<Integer> out = new ArrayList<>();
        for (int id = mc.idr.getNext(idr, 0); id >= 0; id = mc.idr.getNext(idr, id + 1)) {
            out.add(id);
            if (out.size() > 1 << 22) {
                throw new AssertionError("IDR of 0x" + Long.toHexString(ns) + " does not end");
            }
        }
        return out;
    }

    /** {@code idr_get_cursor(&ns->idr)}: the number the cyclic allocator tries next. */
    public static int idrCursor(Kernel k, long ns) {
        return k.core().mc.idr.getCursor(ns + k.core().mc.f.pidNs.idr);
    }
}
