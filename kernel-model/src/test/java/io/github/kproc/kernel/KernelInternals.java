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
        return k.core().rq.curr[cpu];
    }

    /** The tasks queued (runnable, not running) on a CPU's runqueue, in list order. */
    public static List<Long> runQueue(Kernel k, int cpu) {
        List<Long> out = k.core().queued(cpu);
        if (out.size() > 1 << 20) {
            throw new AssertionError("runqueue of CPU " + cpu + " does not close");
        }
        return out;
    }

    /** True if the task is blocked in, or has not yet returned from, {@code wait_for_vfork_done}. */
    public static boolean inVforkWait(Kernel k, long task) {
        return k.vfork().inVforkWait(task);
    }

    /** {@code &init_mm}: static, with users and count no task accounts for. */
    public static long initMm(Kernel k) {
        return k.machine().initMm;
    }

    /** The address of the kernel text symbol the model uses for {@code name}. */
    public static long symbol(Kernel k, String name) {
        return k.machine().symbols.address(name);
    }

    /**
     * What {@code setresuid(uid, uid, uid)} leaves behind for {@code task}, which the model has no
     * system call for: a new cred (usage 2: cred and real_cred) of a new user_struct for {@code uid}
     * ({@code alloc_uid}) counting the task as one of its processes; the old cred and the old user's
     * process count are dropped as {@code commit_creds} does.
     */
    public static void setUid(Kernel k, long task, int uid) {
        Machine mc = k.machine();
        Cred creds = new Cred(mc);
        long user = mc.staticAlloc(mc.f.userSize, 8);
        mc.m.writeInt(user + mc.f.userCount, 1);
        mc.m.writeInt(user + mc.f.userUid, uid);
        long old = mc.m.readPointer(task + mc.f.taskCred);
        long cred = mc.credCache.alloc();
        mc.m.copy(old, cred, mc.f.credSize);
        mc.m.writeInt(cred + mc.f.credUsage, 2);
        mc.m.writeInt(cred + mc.f.credUid, uid);
        mc.m.writeInt(cred + mc.f.credEuid, uid);
        mc.m.writePointer(cred + mc.f.credUser, user);
        mc.m.writeInt(user + mc.f.userProcesses, 1);
        long oldUser = mc.m.readPointer(old + mc.f.credUser);
        mc.m.writeInt(oldUser + mc.f.userProcesses, mc.m.readInt(oldUser + mc.f.userProcesses) - 1);
        mc.m.writePointer(task + mc.f.taskCred, cred);
        mc.m.writePointer(task + mc.f.taskRealCred, cred);
        creds.putCred(old);
        creds.putCred(old);
    }
}
