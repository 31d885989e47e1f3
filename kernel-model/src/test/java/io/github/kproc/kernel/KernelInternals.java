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
        return k.sched.curr[cpu];
    }

    /** The tasks queued (runnable, not running) on a CPU's runqueue, in list order. */
    public static List<Long> runQueue(Kernel k, int cpu) {
        List<Long> out = new ArrayList<>();
        long head = k.sched.queue[cpu];
        int bound = 1 << 20;
        for (long node = k.lists.next(head); node != head; node = k.lists.next(node)) {
            out.add(node - k.f.taskSeGroupNode);
            if (--bound == 0) {
                throw new AssertionError("runqueue of CPU " + cpu + " does not close");
            }
        }
        return out;
    }

    /** True if the task is blocked in, or has not yet returned from, {@code wait_for_vfork_done}. */
    public static boolean inVforkWait(Kernel k, long task) {
        return k.exit.inVforkWait(task);
    }

    /** {@code &init_mm}: static, with users and count no task accounts for. */
    public static long initMm(Kernel k) {
        return k.initMm;
    }

    /** The address of the kernel text symbol the model uses for {@code name}. */
    public static long symbol(Kernel k, String name) {
        return k.symbols.address(name);
    }

    /**
     * What {@code setresuid(uid, uid, uid)} leaves behind for {@code task}, which the model has no
     * system call for: a new cred (usage 2: cred and real_cred) of a new user_struct for {@code uid}
     * ({@code alloc_uid}) counting the task as one of its processes; the old cred and the old user's
     * process count are dropped as {@code commit_creds} does.
     */
    public static void setUid(Kernel k, long task, int uid) {
        long user = k.staticAlloc(k.f.userSize, 8);
        k.m.writeInt(user + k.f.userCount, 1);
        k.m.writeInt(user + k.f.userUid, uid);
        long old = k.m.readPointer(task + k.f.taskCred);
        long cred = k.credCache.alloc();
        k.m.copy(old, cred, k.f.credSize);
        k.m.writeInt(cred + k.f.credUsage, 2);
        k.m.writeInt(cred + k.f.credUid, uid);
        k.m.writeInt(cred + k.f.credEuid, uid);
        k.m.writePointer(cred + k.f.credUser, user);
        k.m.writeInt(user + k.f.userProcesses, 1);
        long oldUser = k.m.readPointer(old + k.f.credUser);
        k.m.writeInt(oldUser + k.f.userProcesses, k.m.readInt(oldUser + k.f.userProcesses) - 1);
        k.m.writePointer(task + k.f.taskCred, cred);
        k.m.writePointer(task + k.f.taskRealCred, cred);
        k.putCred(old);
        k.putCred(old);
    }
}
