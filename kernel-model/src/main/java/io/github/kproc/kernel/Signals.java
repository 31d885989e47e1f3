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
    static final int SIGCHLD = 17;
    /** {@code SS_DISABLE}. */
    static final int SS_DISABLE = 2;

    private final Kernel k;
    private final AddressSpace m;
    private final long pendingList;
    private final long pendingSignal;
    private final long sigsetSize;
    private final long sasSsSp;
    private final long sasSsSize;
    private final long sasSsFlags;

    Signals(Kernel k) {
        this.k = k;
        this.m = k.m;
        this.pendingList = k.o.required("task_struct", "pending.list");
        this.pendingSignal = k.o.required("task_struct", "pending.signal");
        this.sigsetSize = k.platform.profile().field("task_struct", "pending.signal").size();
        this.sasSsSp = k.o.required("task_struct", "sas_ss_sp");
        this.sasSsSize = k.o.required("task_struct", "sas_ss_size");
        this.sasSsFlags = k.o.required("task_struct", "sas_ss_flags");
    }

    /** {@code init_sigpending(&p->pending)}: an empty queue and set. */
    void initSigpending(long p) {
        k.lists.init(p + pendingList);
        m.fill(p + pendingSignal, sigsetSize, (byte) 0);
    }

    /** {@code sigaddset(&p->pending.signal, sig)}. */
    void sigaddset(long p, int sig) {
        long word = p + pendingSignal + ((sig - 1) / 32) * 4L;
        m.writeInt(word, m.readInt(word) | (1 << ((sig - 1) % 32)));
    }

    /** {@code sigismember(&p->pending.signal, sig)}. */
    boolean sigismember(long p, int sig) {
        long word = p + pendingSignal + ((sig - 1) / 32) * 4L;
        return (m.readInt(word) & (1 << ((sig - 1) % 32))) != 0;
    }

    /** {@code flush_signals(t)}: TIF_SIGPENDING cleared, the private set emptied. */
    void flushSignals(long t) {
        k.clearTsiFlag(t, Kernel.TIF_SIGPENDING);
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
        return m.readPointer(sighand + k.f.sighandAction + (sig - 1) * k.f.sigactionSize + k.f.sigactionHandler);
    }

    long saFlags(long sighand, int sig) {
        return m.readPointer(sighand + k.f.sighandAction + (sig - 1) * k.f.sigactionSize + k.f.sigactionFlags);
    }

    /** {@code ignore_signals(t)}: every handler SIG_IGN, pending signals flushed (kthreadd does this). */
    void ignoreSignals(long t) {
        long sighand = m.readPointer(t + k.f.taskSighand);
        for (int sig = 1; sig <= 64; sig++) {
            m.writePointer(sighand + k.f.sighandAction + (sig - 1) * k.f.sigactionSize + k.f.sigactionHandler,
                    Kernel.SIG_IGN);
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
        long parent = m.readPointer(tsk + k.o.taskParent);
        int notify = sig;
        if (notify != SIGCHLD && m.readInt(tsk + k.f.taskParentExecId) != m.readInt(parent + k.f.taskSelfExecId)) {
            notify = SIGCHLD;
        }
        long psig = m.readPointer(parent + k.f.taskSighand);
        return notify == SIGCHLD && (handler(psig, SIGCHLD) == Kernel.SIG_IGN
                || (saFlags(psig, SIGCHLD) & SA_NOCLDWAIT) != 0);
    }
}
