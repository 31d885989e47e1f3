package io.github.kproc.kernel;

import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/sys.c}'s {@code prctl} options the process machinery depends on:
 * {@code PR_SET_CHILD_SUBREAPER}, which makes a process the reaper of its orphaned descendants
 * ({@code find_new_reaper} in {@link Exit}). The uid calls of sys.c are {@link Cred}'s.
 */
final class Sys {
    private final AddressSpace m;
    private final Fields f;
    private final Fork fork;
    private final Pids pids;

    Sys(Machine mc, Fork fork, Pids pids) {
        this.m = mc.m;
        this.f = mc.f;
        this.fork = fork;
        this.pids = pids;
    }

    /**
     * {@code prctl(PR_SET_CHILD_SUBREAPER, on)} by {@code me}: sets or clears its group's
     * {@code signal->is_child_subreaper}; setting it also marks every descendant's group
     * {@code has_child_subreaper} ({@code walk_process_tree} with {@code propagate_has_child_subreaper}),
     * skipping subtrees already marked and those below a namespace's child reaper.
     */
    void prctlSetChildSubreaper(long me, boolean on) {
        long signal = m.readPointer(me + f.task.signal);
        int bits = m.readInt(signal + f.signal.subreaperWord);
        int is = 1 << f.signal.isSubreaperBit;
        m.writeInt(signal + f.signal.subreaperWord, on ? bits | is : bits & ~is);
        if (on) {
            fork.walkProcessTree(me, this::propagateHasChildSubreaper);
        }
    }

    /** {@code propagate_has_child_subreaper(p)}: true if it marked {@code p} (and its subtree is to be visited). */
    private boolean propagateHasChildSubreaper(long p) {
        long signal = m.readPointer(p + f.task.signal);
        int bits = m.readInt(signal + f.signal.subreaperWord);
        int has = 1 << f.signal.hasSubreaperBit;
        if ((bits & has) != 0 || pids.isChildReaper(m.readPointer(p + f.task.threadPid))) {
            return false;
        }
        m.writeInt(signal + f.signal.subreaperWord, bits | has);
        return true;
    }
}
