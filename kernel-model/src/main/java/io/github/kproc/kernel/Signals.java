package io.github.kproc.kernel;

import io.github.kproc.mem.AddressSpace;

/**
 * The parts of {@code kernel/signal.c} fork and exit look at: a task's private pending set
 * ({@code task_struct.pending}), {@code init_sigpending}, {@code flush_signals}, the sigaltstack reset,
 * and the SIGCHLD disposition {@code do_notify_parent} reads from the parent's sighand.
 */
final class Signals {
    /** {@code SA_NOCLDWAIT} (asm-generic). */
    static final long SA_NOCLDWAIT = 0x2;
    static final int SIGKILL = 9;
    static final int SIGSTOP = 19;
    static final int SIGCONT = 18;
    static final int SIGURG = 23;
    static final int SIGWINCH = 28;
    static final int SIGCHLD = CloneFlag.SIGCHLD;
    /** {@code SIG_IGN}. */
    static final long SIG_IGN = 1;
    /** {@code SIGNAL_UNKILLABLE} in {@code signal_struct.flags}: the init of a pid namespace. */
    static final int SIGNAL_UNKILLABLE = 0x00000040;
    /** {@code SS_DISABLE}. */
    static final int SS_DISABLE = 2;

    private final Machine mc;
    private final Fields f;
    /** {@code _NSIG}: signals 1..64, from the size of {@code sighand_struct.action}. */
    final int nsig;
    private final AddressSpace m;
    private final long pendingList;
    private final long pendingSignal;
    private final long sigsetSize;
    private final long sasSsSp;
    private final long sasSsSize;
    private final long sasSsFlags;
    /** {@code task_struct.blocked}. */
    private final long blockedOffset;

    Signals(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
        this.nsig = (int) (f.sighand.actionSize / f.sigaction.size);
        this.pendingList = mc.o.required("task_struct", "pending.list");
        this.pendingSignal = mc.o.required("task_struct", "pending.signal");
        this.sigsetSize = mc.platform.profile().field("task_struct", "pending.signal").size();
        this.sasSsSp = mc.o.required("task_struct", "sas_ss_sp");
        this.sasSsSize = mc.o.required("task_struct", "sas_ss_size");
        this.sasSsFlags = mc.o.required("task_struct", "sas_ss_flags");
        this.blockedOffset = mc.o.required("task_struct", "blocked");
    }

    /**
     * {@code sig_ignored(t, sig, force)}: a signal that is not blocked is dropped when
     * {@code sig_task_ignored} says so: SIGKILL and SIGSTOP to the global init; any default-action
     * signal to a SIGNAL_UNKILLABLE task (init, a namespace's init), except SIGKILL and SIGSTOP when
     * {@code force}d (sent from an ancestor pid namespace, {@code from_ancestor_ns}); a SIG_IGN handler
     * (kthreadd ignores every signal); a default action of ignoring (SIGCONT, SIGCHLD, SIGWINCH, SIGURG).
     */
    boolean sigIgnored(long t, int sig, boolean force) {
        long word = t + blockedOffset + ((sig - 1) / 32) * 4L;
        if ((m.readInt(word) & (1 << ((sig - 1) % 32))) != 0) {
            return false;
        }
        long handler = handler(m.readPointer(t + f.task.sighand), sig);
        boolean kernelOnly = sig == SIGKILL || sig == SIGSTOP;
        if (m.readInt(t + mc.o.taskTgid) == 1 && kernelOnly) {
            return true;
        }
        int flags = m.readInt(m.readPointer(t + f.task.signal) + f.signal.flags);
        if ((flags & SIGNAL_UNKILLABLE) != 0 && handler == 0 && !(force && kernelOnly)) {
            return true;
        }
        boolean kernelIgnore = sig == SIGCONT || sig == CloneFlag.SIGCHLD || sig == SIGWINCH || sig == SIGURG;
        return handler == SIG_IGN || (handler == 0 && kernelIgnore);
    }

    /** {@code init_sigpending(&p->pending)}: an empty queue and set. */
    void initSigpending(long p) {
        mc.lists.init(p + pendingList);
        m.fill(p + pendingSignal, sigsetSize, (byte) 0);
    }

    /** {@code sigaddset(&p->pending.signal, sig)}. */
    void sigaddset(long p, int sig) {
        long word = p + pendingSignal + ((sig - 1) / 32) * 4L;
        m.writeInt(word, m.readInt(word) | (1 << ((sig - 1) % 32)));
    }

    /** {@code sigdelset(&p->pending.signal, sig)}. */
    void sigdelset(long p, int sig) {
        long word = p + pendingSignal + ((sig - 1) / 32) * 4L;
        m.writeInt(word, m.readInt(word) & ~(1 << ((sig - 1) % 32)));
    }

    /** True if any signal is left in {@code p->pending.signal} (what {@code recalc_sigpending} looks at). */
    boolean anyPending(long p) {
        for (long off = 0; off < sigsetSize; off += 4) {
            if (m.readInt(p + pendingSignal + off) != 0) {
                return true;
            }
        }
        return false;
    }

    /** {@code sigismember(&p->pending.signal, sig)}. */
    boolean sigismember(long p, int sig) {
        long word = p + pendingSignal + ((sig - 1) / 32) * 4L;
        return (m.readInt(word) & (1 << ((sig - 1) % 32))) != 0;
    }

    /** {@code flush_signals(t)}: TIF_SIGPENDING cleared, the private set emptied. */
    void flushSignals(long t) {
        mc.clearTsiFlag(t, Machine.TIF_SIGPENDING);
        m.fill(t + pendingSignal, sigsetSize, (byte) 0);
    }

    /** {@code sas_ss_reset(p)}: no alternate signal stack. */
    void sasSsReset(long p) {
        m.writePointer(p + sasSsSp, 0);
        m.writePointer(p + sasSsSize, 0);
        m.writeInt(p + sasSsFlags, SS_DISABLE);
    }

    /** The handler of {@code sig} in a sighand_struct. */
    long handler(long sighand, int sig) {
        return m.readPointer(sighand + f.sighand.action + (sig - 1) * f.sigaction.size + f.sigaction.handler);
    }

    long saFlags(long sighand, int sig) {
        return m.readPointer(sighand + f.sighand.action + (sig - 1) * f.sigaction.size + f.sigaction.flags);
    }

    /** {@code ignore_signals(t)}: every handler SIG_IGN, pending signals flushed (kthreadd does this). */
    void ignoreSignals(long t) {
        long sighand = m.readPointer(t + f.task.sighand);
        for (int sig = 1; sig <= nsig; sig++) {
            m.writePointer(sighand + f.sighand.action + (sig - 1) * f.sigaction.size + f.sigaction.handler,
                    SIG_IGN);
        }
        flushSignals(t);
    }

    /**
     * {@code do_notify_parent(tsk, sig)}: whether the dead child is reaped at once because its parent
     * ignores SIGCHLD (SIG_IGN or SA_NOCLDWAIT). A parent that has exec'd since the fork
     * ({@code parent_exec_id != parent->self_exec_id}) is notified with SIGCHLD whatever the child's
     * exit signal. SIGCHLD with the default disposition is discarded ({@code sig_ignored}), so nothing
     * is queued.
     */
    boolean doNotifyParent(long tsk, int sig) {
        long parent = m.readPointer(tsk + mc.o.taskParent);
        int notify = sig;
        if (notify != SIGCHLD && m.readInt(tsk + f.task.parentExecId) != m.readInt(parent + f.task.selfExecId)) {
            notify = SIGCHLD;
        }
        long psig = m.readPointer(parent + f.task.sighand);
        return notify == SIGCHLD && (handler(psig, SIGCHLD) == SIG_IGN
                || (saFlags(psig, SIGCHLD) & SA_NOCLDWAIT) != 0);
    }

    /** {@code signal_pending(p)}: TIF_SIGPENDING. */
    boolean signalPending(long task) {
        return mc.testTsiFlag(task, Machine.TIF_SIGPENDING);
    }

    /** {@code fatal_signal_pending(p)}: signal pending and SIGKILL in the private pending set. */
    boolean fatalSignalPending(long task) {
        return signalPending(task) && sigismember(task, SIGKILL);
    }

    /** {@code sighand_ctor}: the signalfd wait queue (and the siglock) of a new sighand_struct. */
    void sighandCtor(long sig) {
        mc.lists.init(sig + f.sighand.signalfdHead);
    }

    /** A new {@code sighand_struct} with one reference and a copy of {@code from}'s handlers, or 0 without memory. */
    long copySighandStruct(long from) {
        long sig = mc.kmemCacheAlloc(mc.sighandCache);
        if (sig == 0) {
            return 0;
        }
        sighandCtor(sig);
        m.writeInt(sig + f.sighand.count, 1);
        m.copy(from + f.sighand.action, sig + f.sighand.action, f.sighand.actionSize);
        return sig;
    }

    /** {@code __cleanup_sighand}: count--, freed at zero. */
    void cleanupSighand(long sighand) {
        if (sighand == 0) {
            return;
        }
        int count = m.readInt(sighand + f.sighand.count) - 1;
        m.writeInt(sighand + f.sighand.count, count);
        if (count == 0) {
            mc.sighandCache.free(sighand);
        }
    }

    /** {@code flush_signal_handlers(t, 0)}: every handler but SIG_IGN back to SIG_DFL (exec). */
    void flushSignalHandlers(long sighand) {
        for (int sig = 1; sig <= nsig; sig++) {
            long handler = sighand + f.sighand.action + (sig - 1) * f.sigaction.size + f.sigaction.handler;
            if (m.readPointer(handler) != SIG_IGN) {
                m.writePointer(handler, 0);
            }
        }
    }

    /** {@code for_each_process_thread}: every task on the task list, init_task first, each group's threads after its leader. */
    java.util.List<Long> forEachProcessThread() {
        java.util.List<Long> out = new java.util.ArrayList<>();
        out.add(mc.initTask);
        long tasks = mc.o.taskTasks;
        long group = f.task.threadGroup;
        long head = mc.initTask + tasks;
        // every task on the list is init_task or an object of task_struct_cachep: more is a cycle
        long bound = mc.taskCache.objectsInUse() + 1;
        for (long node = mc.lists.next(head); node != head; node = mc.lists.next(node)) {
            long leader = node - tasks;
            out.add(leader);
            checkBound(out.size(), bound, "init_task.tasks");
            for (long t = mc.lists.next(leader + group); t != leader + group; t = mc.lists.next(t)) {
                out.add(t - group);
                checkBound(out.size(), bound, String.format("the thread_group of 0x%x", leader));
            }
        }
        return out;
    }

    /** A walk that met more tasks than exist went round a cycle that misses its head: corrupted memory. */
    private static void checkBound(int seen, long bound, String list) {
        if (seen > bound) {
            throw new IllegalStateException("corrupted list: " + list + " does not return to its head within the "
                    + bound + " task_structs that exist");
        }
    }
}
