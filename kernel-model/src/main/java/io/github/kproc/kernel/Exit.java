package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskStateBits;
import io.github.kproc.view.TaskFlags;

/**
 * {@code kernel/exit.c}: {@code do_exit} (resources dropped, children reparented, the parent
 * notified, the task dead), {@code release_task} and {@code wait4}'s reaping; plus the vfork
 * completion ({@code mm_release} -> {@code complete_vfork_done}) a parent waits on.
 */
final class Exit {
    private final Machine mc;
    private final AddressSpace m;
    private final Offsets o;
    private final Fields f;
    private final Lists lists;
    private final Core core;
    private final Pids pids;
    private final Files files;
    private final Nsproxy nsproxy;
    private final Mm mm;
    private final Signals signals;
    private final Cred cred;
    private final TaskAlloc taskAlloc;
    private final Vfork vfork;
    /** {@code child_wait_callback}: the wake function of do_wait's wait queue entry. */
    private final long childWaitCallback;

    Exit(Machine mc, Core core, Pids pids, Files files, Nsproxy nsproxy, Mm mm, Signals signals, Cred cred,
            TaskAlloc taskAlloc, Vfork vfork) {
        this.mc = mc;
        this.m = mc.m;
        this.o = mc.o;
        this.f = mc.f;
        this.lists = mc.lists;
        this.core = core;
        this.pids = pids;
        this.files = files;
        this.nsproxy = nsproxy;
        this.mm = mm;
        this.signals = signals;
        this.cred = cred;
        this.taskAlloc = taskAlloc;
        this.vfork = vfork;
        this.childWaitCallback = mc.symbols.address("child_wait_callback");
    }

    private boolean threadGroupLeader(long p) {
        return m.readPointer(p + o.taskGroupLeader) == p;
    }

    private boolean threadGroupEmpty(long p) {
        return lists.empty(p + f.task.threadGroup);
    }

    /**
     * {@code do_exit(code)} of the current task of {@code cpu}: PF_EXITING, {@code exit_mm},
     * {@code sched_process_exit}, {@code exit_files}, {@code exit_fs}, {@code exit_task_namespaces},
     * {@code exit_notify}, then {@code do_task_dead}: TASK_DEAD and a final {@code __schedule}.
     */
    void doExit(int cpu, int code) {
        long tsk = mc.current(cpu);
        if (core.isIdle(tsk)) {
            throw new IllegalStateException("Attempted to kill the idle task!");
        }
        long signal = m.readPointer(tsk + f.task.signal);
        int live = m.readInt(signal + f.signal.live);
        boolean groupDead = live - 1 == 0;
        if (groupDead && m.readInt(tsk + o.taskTgid) == 1 && pids.taskActivePidNs(tsk) == mc.initPidNs) {
            throw new IllegalStateException(String.format("Attempted to kill init! exitcode=0x%08x", code));
        }
        m.writeInt(tsk + o.taskFlags, m.readInt(tsk + o.taskFlags) | TaskFlags.PF_EXITING);
        m.writeInt(signal + f.signal.live, live - 1);
        m.writeInt(tsk + o.taskExitCode, code);
        exitMm(tsk);
        mc.trace.processExit(cpu, tsk, "sched_process_exit");
        mc.sem.exitSem(tsk);
        files.exitFiles(tsk);
        files.exitFs(tsk);
        nsproxy.exitTaskNamespaces(tsk);
        long childReaper = findChildReaper(cpu, tsk);
        if (childReaper == 0) {
            return; // asleep in zap_pid_ns_processes: resumeZap goes on when it runs again
        }
        exitNotify(cpu, tsk, childReaper, groupDead);
        doTaskDead(cpu, tsk);
    }

    /** The end of {@code do_exit}: PF_EXITPIDONE, then {@code do_task_dead}. */
    private void doTaskDead(int cpu, long tsk) {
        m.writeInt(tsk + o.taskFlags, m.readInt(tsk + o.taskFlags) | TaskFlags.PF_EXITPIDONE);
        // do_task_dead: TASK_DEAD, PF_NOFREEZE, and the final __schedule
        m.writePointer(tsk + o.taskState, TaskStateBits.TASK_DEAD);
        m.writeInt(tsk + o.taskFlags, m.readInt(tsk + o.taskFlags) | TaskFlags.PF_NOFREEZE);
        core.schedule(cpu, false, 0);
    }

    /** {@code exit_mm}: {@code mm_release}, then the task lets go of its mm (active_mm stays until the switch). */
    private void exitMm(long tsk) {
        long old = m.readPointer(tsk + o.taskMm);
        long parent = vfork.mmRelease(tsk, old);
        if (parent != 0) {
            core.tryToWakeUp(core.taskCpu(tsk), parent);
        }
        if (old == 0) {
            return;
        }
        mm.mmgrab(old);
        m.writePointer(tsk + o.taskMm, 0);
        mm.mmput(old);
    }

    private long findAliveThread(long p) {
        long signal = m.readPointer(p + f.task.signal);
        long head = signal + f.signal.threadHead;
        for (long node = lists.next(head); node != head; node = lists.next(node)) {
            long t = node - f.task.threadNode;
            if ((m.readInt(t + o.taskFlags) & TaskFlags.PF_EXITING) == 0) {
                return t;
            }
        }
        return 0;
    }

    /**
     * {@code find_child_reaper(father)}: the pid namespace's child reaper; if that is the dying task,
     * the job passes to a live thread of its group, and if none is left the namespace dies with it:
     * {@link #zapPidNsProcesses}. Runs for every exit, children or not.
     *
     * @return the reaper, or 0 if the father went to sleep in zap_pid_ns_processes
     */
    private long findChildReaper(int cpu, long father) {
        long ns = pids.taskActivePidNs(father);
        long reaper = m.readPointer(ns + f.pidNs.childReaper);
        if (reaper != father) {
            return reaper;
        }
        long thread = findAliveThread(father);
        if (thread != 0) {
            m.writePointer(ns + f.pidNs.childReaper, thread);
            return thread;
        }
        return zapPidNsProcesses(cpu, father, ns) ? father : 0;
    }

    /**
     * {@code zap_pid_ns_processes(pid_ns)} by the namespace's last init thread, inside its do_exit:
     * no more pids ({@code disable_pid_allocation}), SIGCHLD ignored so that dying children reap
     * themselves, SIGKILL to every task numbered 2 and up in the namespace that has none pending
     * (threads and nested namespaces' tasks included: they have numbers here) unless it ignores it
     * (a kernel thread's SIG_IGN), then {@link #zapWait}.
     *
     * @return true if the namespace is empty now and do_exit goes on; false if the task sleeps
     */
    private boolean zapPidNsProcesses(int cpu, long me, long ns) {
        pids.disablePidAllocation(ns);
        long sighand = m.readPointer(me + f.task.sighand);
        m.writePointer(sighand + f.sighand.action + (Signals.SIGCHLD - 1) * f.sigaction.size + f.sigaction.handler,
                Signals.SIG_IGN);
        for (int nr = pids.nextNr(ns, 2); nr >= 0; nr = pids.nextNr(ns, nr + 1)) {
            long task = pids.pidTask(pids.findPidNs(nr, ns), Pids.PIDTYPE_PID);
            // send_sig_info(SIGKILL, SEND_SIG_FORCED, task): prepare_signal's sig_ignored(task, SIGKILL, force)
            if (task != 0 && !signals.fatalSignalPending(task) && !signals.sigIgnored(task, Signals.SIGKILL, true)) {
                sendSigkill(cpu, task);
            }
        }
        return zapWait(cpu, me, ns);
    }

    /**
     * The two waits of {@code zap_pid_ns_processes}: {@code kernel_wait4(-1, NULL, __WALL)} until
     * -ECHILD (TIF_SIGPENDING cleared before each), reaping the zombies the task had; then, in
     * TASK_INTERRUPTIBLE, until {@code pid_allocated} is down to the reaper's own pids (1, or 2 if it is
     * not the group leader), woken by {@code free_pid}. {@code pid_ns->reboot} is not modelled.
     *
     * @return true once both waits are over; false if the task went to sleep in one of them
     */
    private boolean zapWait(int cpu, long me, long ns) {
        while (true) {
            mc.clearTsiFlag(me, Machine.TIF_SIGPENDING);
            long rc = doWait(cpu, Pids.PIDTYPE_MAX, 0, WALL | WEXITED);
            if (rc == WAIT_BLOCKED) {
                return false;
            }
            if (rc == Errno.ECHILD.negative()) {
                break;
            }
        }
        int initPids = threadGroupLeader(me) ? 1 : 2;
        if (pids.pidAllocated(ns) != initPids) {
            m.writePointer(me + o.taskState, TaskStateBits.TASK_INTERRUPTIBLE);
            core.schedule(cpu, false, 0);
            return false;
        }
        return true;
    }

    /**
     * True if the task sleeps (or was woken) inside do_exit's {@code zap_pid_ns_processes}: exiting,
     * not yet past exit_notify (no PF_EXITPIDONE) and no exit state. Every other do_exit runs through.
     */
    boolean inZap(long task) {
        int flags = m.readInt(task + o.taskFlags);
        return (flags & (TaskFlags.PF_EXITING | TaskFlags.PF_EXITPIDONE)) == TaskFlags.PF_EXITING
                && m.readInt(task + o.taskExitState) == 0;
    }

    /** A namespace's init running again in {@code zap_pid_ns_processes}: its waits, then the rest of do_exit. */
    void resumeZap(int cpu, long me) {
        if (!zapWait(cpu, me, pids.taskActivePidNs(me))) {
            return;
        }
        int live = m.readInt(m.readPointer(me + f.task.signal) + f.signal.live);
        exitNotify(cpu, me, me, live == 0);
        doTaskDead(cpu, me);
    }

    /**
     * The return to user mode of the current task of {@code cpu} ({@code do_work_pending} ->
     * {@code do_signal} -> {@code get_signal}), run before the CPU's next operation: a task killed
     * (SIGKILL pending) dies there, {@code do_group_exit(SIGKILL)} with PF_SIGNALED; a namespace's
     * init woken in zap_pid_ns_processes goes on with it, and a thread woken in exec's
     * {@code de_thread} goes on with its exec ({@link Exec#resumeDeThread}). Repeats for the task that
     * runs next. Kernel threads do not return to user mode; the idle task has nothing to do.
     */
    void exitToUserMode(int cpu, Exec exec) {
        while (true) {
            long cur = mc.current(cpu);
            if (core.isIdle(cur)) {
                return;
            }
            if (inZap(cur)) {
                resumeZap(cpu, cur);
            } else if (exec.inDeThread(cur)) {
                exec.resumeDeThread(cpu, cur);
            } else if ((m.readInt(cur + o.taskFlags) & TaskFlags.PF_KTHREAD) == 0 && signals.fatalSignalPending(cur)) {
                getSignalKill(cpu, cur);
            } else {
                return;
            }
            if (mc.current(cpu) == cur) {
                return;
            }
        }
    }

    /** {@code get_signal} for a killed task: SIGKILL dequeued, {@code recalc_sigpending}, PF_SIGNALED, {@code do_group_exit}. */
    void getSignalKill(int cpu, long cur) {
        signals.sigdelset(cur, Signals.SIGKILL);
        if (!signals.anyPending(cur)) {
            mc.clearTsiFlag(cur, Machine.TIF_SIGPENDING);
        }
        m.writeInt(cur + o.taskFlags, m.readInt(cur + o.taskFlags) | TaskFlags.PF_SIGNALED);
        doGroupExit(cpu, Signals.SIGKILL);
    }

    /**
     * {@code do_group_exit(exit_code)} of the current task: the group's exit code if it is already
     * exiting as a group ({@link #signalGroupExit}: a thread killed by de_thread exits with it too); else, with other threads, it becomes the group's ({@code SIGNAL_GROUP_EXIT})
     * and {@link #zapOtherThreads} kills them; then {@code do_exit}.
     */
    void doGroupExit(int cpu, int code) {
        long current = mc.current(cpu);
        long sig = m.readPointer(current + f.task.signal);
        int exitCode = code;
        if (signalGroupExit(sig)) {
            exitCode = m.readInt(sig + f.signal.groupExitCode);
        } else if (!threadGroupEmpty(current)) {
            m.writeInt(sig + f.signal.groupExitCode, code);
            m.writeInt(sig + f.signal.flags, SIGNAL_GROUP_EXIT);
            zapOtherThreads(cpu, current);
        }
        doExit(cpu, exitCode);
    }

    /**
     * {@code signal_group_exit(sig)}: the group exits ({@code SIGNAL_GROUP_EXIT}) or an exec's
     * de_thread is killing it ({@code group_exit_task} set).
     */
    boolean signalGroupExit(long sig) {
        return (m.readInt(sig + f.signal.flags) & SIGNAL_GROUP_EXIT) != 0 || m.readPointer(sig + f.signal.groupExitTask) != 0;
    }

    /**
     * {@code zap_other_threads(p)} (kernel/signal.c): SIGKILL to every other thread of p's group that
     * has not exited, each woken ({@code signal_wake_up(t, 1)}). Returns how many other threads there are.
     */
    int zapOtherThreads(int cpu, long p) {
        int count = 0;
        long head = p + f.task.threadGroup;
        for (long node = lists.next(head); node != head; node = lists.next(node)) {
            long t = node - f.task.threadGroup;
            count++;
            if (m.readInt(t + o.taskExitState) != 0) {
                continue;
            }
            signals.sigaddset(t, Signals.SIGKILL);
            signalWakeUp(cpu, t, true);
        }
        return count;
    }

    /**
     * SIGKILL sent to {@code p} ({@code send_signal} -> {@code complete_signal}, kernel/signal.c), the
     * signal already past {@code sig_ignored}: if no thread of the group wants it (all exiting) it
     * only stays pending; if the group is not exiting yet, the whole group is killed:
     * {@code SIGNAL_GROUP_EXIT} with {@code group_exit_code} SIGKILL, and SIGKILL added to every
     * thread, each woken from an interruptible or killable sleep ({@code signal_wake_up(t, 1)}).
     * A running task dies on its next return to user mode ({@link #exitToUserMode}).
     */
    void sendSigkill(int cpu, long p) {
        signals.sigaddset(p, Signals.SIGKILL);
        // complete_signal: wants_signal(sig, p), or another thread of the group that does
        long t = p;
        if (!wantsSigkill(t)) {
            long head = p + f.task.threadGroup;
            t = 0;
            for (long node = lists.next(head); node != head; node = lists.next(node)) {
                if (wantsSigkill(node - f.task.threadGroup)) {
                    t = node - f.task.threadGroup;
                    break;
                }
            }
            if (t == 0) {
                return;
            }
        }
        long sig = m.readPointer(p + f.task.signal);
        if ((m.readInt(sig + f.signal.flags) & SIGNAL_GROUP_EXIT) != 0) {
            signalWakeUp(cpu, t, true);
            return;
        }
        m.writeInt(sig + f.signal.flags, SIGNAL_GROUP_EXIT);
        m.writeInt(sig + f.signal.groupExitCode, Signals.SIGKILL);
        long q = p;
        do {
            signals.sigaddset(q, Signals.SIGKILL);
            signalWakeUp(cpu, q, true);
            q = lists.next(q + f.task.threadGroup) - f.task.threadGroup;
        } while (q != p);
    }

    /** {@code wants_signal(SIGKILL, p)}: any task not exiting. */
    private boolean wantsSigkill(long p) {
        return (m.readInt(p + o.taskFlags) & TaskFlags.PF_EXITING) == 0;
    }

    /**
     * {@code signal_wake_up(t, resume)}: TIF_SIGPENDING, and {@code wake_up_state(t, TASK_INTERRUPTIBLE
     * | (resume ? TASK_WAKEKILL : 0))} (a killable vfork parent too); a task it does not wake is kicked
     * ({@code signal_wake_up_state} -> {@code kick_process}): running on another CPU, that CPU gets a
     * reschedule IPI, and the task meets the signal on its return to user mode from the interrupt.
     */
    void signalWakeUp(int cpu, long t, boolean resume) {
        mc.setTsiFlag(t, Machine.TIF_SIGPENDING);
        long mask = TaskStateBits.TASK_INTERRUPTIBLE | (resume ? TaskStateBits.TASK_WAKEKILL : 0);
        if ((m.readPointer(t + o.taskState) & mask) != 0) {
            if (inDoWait(t)) {
                removeChildWait(t);
            }
            core.tryToWakeUp(cpu, t);
        } else {
            core.kickProcess(cpu, t);
        }
    }

    /**
     * {@code wake_up_process(p)}: {@code try_to_wake_up(p, TASK_NORMAL)}, nothing if p is not in an
     * interruptible or uninterruptible sleep (a do_wait sleep's entry is taken off, as do_wait would).
     */
    void wakeUpProcess(int cpu, long p) {
        if ((m.readPointer(p + o.taskState) & (TaskStateBits.TASK_INTERRUPTIBLE | TaskStateBits.TASK_UNINTERRUPTIBLE)) == 0) {
            return;
        }
        if (inDoWait(p)) {
            removeChildWait(p);
        }
        core.tryToWakeUp(cpu, p);
    }

    /**
     * {@code find_new_reaper(father, child_reaper)}: a live thread of the dying task's group; else, if
     * the group has a subreaper above it ({@code has_child_subreaper}), the live thread of the nearest
     * {@code is_child_subreaper} ancestor in the same pid namespace (same {@code pid->level}, below
     * init_task); else the child reaper.
     */
    private long findNewReaper(long father, long childReaper) {
        long thread = findAliveThread(father);
        if (thread != 0) {
            return thread;
        }
        long signal = m.readPointer(father + f.task.signal);
        if ((m.readInt(signal + f.signal.subreaperWord) & (1 << f.signal.hasSubreaperBit)) != 0) {
            int level = pids.level(m.readPointer(father + f.task.threadPid));
            for (long reaper = m.readPointer(father + o.taskRealParent);
                    pids.level(m.readPointer(reaper + f.task.threadPid)) == level;
                    reaper = m.readPointer(reaper + o.taskRealParent)) {
                if (reaper == mc.initTask) {
                    break;
                }
                long rs = m.readPointer(reaper + f.task.signal);
                if ((m.readInt(rs + f.signal.subreaperWord) & (1 << f.signal.isSubreaperBit)) == 0) {
                    continue;
                }
                thread = findAliveThread(reaper);
                if (thread != 0) {
                    return thread;
                }
            }
        }
        return childReaper;
    }

    /**
     * {@code exit_notify(tsk, group_dead)}: {@code forget_original_parent} hands the children to the new
     * reaper (zombies the reaper ignores are released at once); then the task becomes EXIT_ZOMBIE for
     * its parent to reap, or EXIT_DEAD and is released now (a thread, or a child of a parent that
     * ignores SIGCHLD).
     */
    private void exitNotify(int cpu, long tsk, long childReaper, boolean groupDead) {
        // forget_original_parent, after find_child_reaper
        long children = tsk + o.taskChildren;
        if (!lists.empty(children)) {
            long reaper = findNewReaper(tsk, childReaper);
            boolean sameGroup = m.readInt(reaper + o.taskTgid) == m.readInt(tsk + o.taskTgid);
            for (long node = lists.next(children); node != children; node = lists.next(node)) {
                long p = node - o.taskSibling;
                reparent(p, tsk, reaper);
                long head = p + f.task.threadGroup;
                for (long t = lists.next(head); t != head; t = lists.next(t)) {
                    reparent(t - f.task.threadGroup, tsk, reaper);
                }
                if (!sameGroup && m.readInt(p + o.taskExitState) != TaskStateBits.EXIT_DEAD) {
                    m.writeInt(p + o.taskExitSignal, Signals.SIGCHLD);
                }
            }
            // list_splice_tail_init(&father->children, &reaper->children)
            long first = lists.next(children);
            long last = lists.prev(children);
            long rhead = reaper + o.taskChildren;
            long rlast = lists.prev(rhead);
            m.writePointer(first + f.list.prev, rlast);
            m.writePointer(rlast + f.list.next, first);
            m.writePointer(last + f.list.next, rhead);
            m.writePointer(rhead + f.list.prev, last);
            lists.init(children);
            if (!sameGroup) {
                releaseIgnoredZombies(cpu, reaper);
            }
        }
        boolean autoreap;
        if (threadGroupLeader(tsk)) {
            autoreap = threadGroupEmpty(tsk) && notifyParent(cpu, tsk, m.readInt(tsk + o.taskExitSignal));
        } else {
            autoreap = true;
        }
        m.writeInt(tsk + o.taskExitState, (int) (autoreap ? TaskStateBits.EXIT_DEAD : TaskStateBits.EXIT_ZOMBIE));
        // mt-exec: de_thread waits for the group leader to be a zombie
        long sig = m.readPointer(tsk + f.task.signal);
        if (m.readInt(sig + f.signal.notifyCount) < 0) {
            wakeUpProcess(cpu, m.readPointer(sig + f.signal.groupExitTask));
        }
        if (autoreap) {
            releaseTask(cpu, tsk);
        }
    }

    private void reparent(long t, long father, long reaper) {
        m.writePointer(t + o.taskRealParent, reaper);
        if (m.readPointer(t + o.taskParent) == father) {
            m.writePointer(t + o.taskParent, reaper);
        }
    }

    /**
     * {@code reparent_leader}'s second half: a reparented zombie whose new parent ignores SIGCHLD is
     * EXIT_DEAD and released now.
     */
    private void releaseIgnoredZombies(int cpu, long reaper) {
        long head = reaper + o.taskChildren;
        long node = lists.next(head);
        while (node != head) {
            long p = node - o.taskSibling;
            node = lists.next(node);
            if (m.readInt(p + o.taskExitState) == TaskStateBits.EXIT_ZOMBIE && threadGroupEmpty(p)
                    && notifyParent(cpu, p, m.readInt(p + o.taskExitSignal))) {
                m.writeInt(p + o.taskExitState, (int) TaskStateBits.EXIT_DEAD);
                releaseTask(cpu, p);
            }
        }
    }

    /**
     * {@code release_task(p)}: the user's process count, {@code __exit_signal} (unhash the pids and
     * lists, drop the sighand), then {@code call_rcu(&p->rcu, delayed_put_task_struct)}: the task is
     * gone from every list and lookup now, its memory after a grace period ({@link #delayedPutTaskStruct});
     * then a zombie leader whose last thread this was is notified and possibly released too.
     */
    void releaseTask(int cpu, long task) {
        long p = task;
        while (true) {
            cred.addProcesses(cred.user(p), -1);
            pids.nrReapersToWake = 0;
            exitSignal(cpu, p);
            for (int i = 0; i < pids.nrReapersToWake; i++) {
                wakeUpProcess(cpu, pids.reapersToWake[i]);
            }
            pids.nrReapersToWake = 0;
            boolean zapLeader = false;
            long leader = m.readPointer(p + o.taskGroupLeader);
            if (leader != p && threadGroupEmpty(leader) && m.readInt(leader + o.taskExitState) == TaskStateBits.EXIT_ZOMBIE) {
                zapLeader = notifyParent(cpu, leader, m.readInt(leader + o.taskExitSignal));
                if (zapLeader) {
                    m.writeInt(leader + o.taskExitState, (int) TaskStateBits.EXIT_DEAD);
                }
            }
            Rcu rcu = mc.rcu;
            if (rcu != null) {
                rcu.callRcu(cpu, p + rcu.taskRcu(), rcu.delayedPutTaskStructFunc());
            } else {
                // a profile without kernel/rcu/tree.o's layout has no callback lists to wait on
                delayedPutTaskStruct(cpu, p);
            }
            if (!zapLeader) {
                return;
            }
            p = leader;
        }
    }

    /**
     * {@code delayed_put_task_struct}, the RCU callback of {@code release_task}, run on {@code cpu}
     * (in RCU_SOFTIRQ, whatever task is current there): {@code sched_process_free} for the task, then
     * {@code put_task_struct}, the release's reference.
     */
    void delayedPutTaskStruct(int cpu, long tsk) {
        mc.trace.processExit(cpu, tsk, "sched_process_free");
        taskAlloc.putTaskStruct(tsk);
    }

    /**
     * {@code __exit_signal(tsk)}: a thread counts down de_thread's {@code notify_count}, nr_threads down,
     * {@code __unhash_process}, the sighand dropped.
     */
    private void exitSignal(int cpu, long tsk) {
        long sig = m.readPointer(tsk + f.task.signal);
        boolean groupDead = threadGroupLeader(tsk);
        if (!groupDead) {
            // de_thread waits for the other threads: the last one released wakes it
            int notify = m.readInt(sig + f.signal.notifyCount);
            if (notify > 0) {
                m.writeInt(sig + f.signal.notifyCount, notify - 1);
                if (notify == 1) {
                    wakeUpProcess(cpu, m.readPointer(sig + f.signal.groupExitTask));
                }
            }
        }
        if (!groupDead && m.readPointer(sig + f.signal.currTarget) == tsk) {
            m.writePointer(sig + f.signal.currTarget, lists.next(tsk + f.task.threadGroup) - f.task.threadGroup);
        }
        m.writeInt(sig + f.signal.nrThreads, m.readInt(sig + f.signal.nrThreads) - 1);
        // __unhash_process
        mc.addNrThreads(-1);
        pids.detachPid(tsk, Pids.PIDTYPE_PID);
        if (groupDead) {
            pids.detachPid(tsk, Pids.PIDTYPE_TGID);
            pids.detachPid(tsk, Pids.PIDTYPE_PGID);
            pids.detachPid(tsk, Pids.PIDTYPE_SID);
            lists.del(tsk + o.taskTasks);
            lists.delInit(tsk + o.taskSibling);
        }
        lists.del(tsk + f.task.threadGroup);
        lists.del(tsk + f.task.threadNode);
        long sighand = m.readPointer(tsk + f.task.sighand);
        m.writePointer(tsk + f.task.sighand, 0);
        signals.cleanupSighand(sighand);
    }

    // ---- do_wait ----

    /** {@code WNOHANG}, {@code WUNTRACED}/{@code WSTOPPED}, {@code WEXITED}, {@code WCONTINUED}, {@code WNOWAIT}. */
    static final int WNOHANG = 0x1;
    static final int WSTOPPED = 0x2;
    static final int WEXITED = 0x4;
    static final int WCONTINUED = 0x8;
    static final int WNOWAIT = 0x01000000;
    /** {@code __WNOTHREAD}, {@code __WALL}, {@code __WCLONE}. */
    static final int WNOTHREAD = 0x20000000;
    static final int WALL = 0x40000000;
    static final int WCLONE = 0x80000000;
    /** What {@code kernel_wait4} accepts. */
    static final int WAIT4_OPTIONS = WNOHANG | WSTOPPED | WCONTINUED | WNOTHREAD | WCLONE | WALL;
    /** What {@code kernel_waitid} accepts. */
    static final int WAITID_OPTIONS = WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | WNOTHREAD | WCLONE | WALL;
    /** {@code -ERESTARTSYS}: a kernel-internal errno, returned when a signal interrupts a blocking wait. */
    static final long ERESTARTSYS = Errno.ERESTARTSYS.negative();
    /** {@code SIGNAL_GROUP_EXIT}: the group exits with {@code group_exit_code}. */
    private static final int SIGNAL_GROUP_EXIT = 0x4;

    /**
     * The result of {@link #doWait} when the caller went to sleep in it (no WNOHANG, nothing to reap
     * yet): the model's system calls return when the task sleeps; it calls again once woken.
     */
    static final long WAIT_BLOCKED = 0;

    /**
     * {@code do_wait(wo)} of the current task of {@code cpu}: {@code type} is the {@code wo_type}
     * (PIDTYPE_PID, PIDTYPE_PGID, or PIDTYPE_MAX for any child) and {@code pid} the {@code struct pid}
     * to match. Children are considered thread by thread, starting with the caller and then the
     * other threads of its group ({@code while_each_thread}; only the caller with {@code __WNOTHREAD}),
     * each child as {@code wait_consider_task} and {@code eligible_child} decide (EXIT_DEAD ones are
     * skipped; without {@code __WALL} only children whose exit signal is SIGCHLD, or with
     * {@code __WCLONE} only those whose is not; a zombie leader with live threads is not reaped).
     *
     * @return {@code pid << 32 | status} of the reaped (or, with WNOWAIT, the peeked) zombie; 0 with
     *     WNOHANG and nothing to reap yet, or when the caller went to sleep ({@link #WAIT_BLOCKED});
     *     -ECHILD without an eligible child; {@link #ERESTARTSYS} with a signal pending instead of
     *     sleeping
     */
    long doWait(int cpu, int type, long pid, int flags) {
        long current = mc.current(cpu);
        if (type < Pids.PIDTYPE_MAX && (pid == 0 || lists.hlistFirst(pid + f.pid.tasks + (long) type * mc.platform.pointerSize()) == 0)) {
            return Errno.ECHILD.negative();
        }
        long ns = pids.taskActivePidNs(current);
        boolean eligible = false;
        long tsk = current;
        do {
            long head = tsk + o.taskChildren;
            for (long node = lists.next(head); node != head; node = lists.next(node)) {
                long child = node - o.taskSibling;
                int exitState = m.readInt(child + o.taskExitState);
                if (exitState == TaskStateBits.EXIT_DEAD || !eligibleChild(type, pid, flags, child)) {
                    continue;
                }
                if (exitState == TaskStateBits.EXIT_ZOMBIE && !(threadGroupLeader(child) && !threadGroupEmpty(child))) {
                    return waitTaskZombie(cpu, flags, child, ns);
                }
                eligible = true;
            }
            if ((flags & WNOTHREAD) != 0) {
                break;
            }
            tsk = lists.next(tsk + f.task.threadGroup) - f.task.threadGroup;
        } while (tsk != current);
        if (!eligible) {
            return Errno.ECHILD.negative();
        }
        if ((flags & WNOHANG) != 0) {
            return 0;
        }
        if (signals.signalPending(current)) {
            return ERESTARTSYS;
        }
        // add_wait_queue(&current->signal->wait_chldexit, &wo->child_wait), TASK_INTERRUPTIBLE, schedule()
        long wo = waitOpts(current);
        m.writeInt(wo + WO_TYPE, type);
        m.writeInt(wo + WO_FLAGS, flags);
        m.writePointer(wo + WO_PID, pid);
        long wait = childWait(current);
        m.writeInt(wait + vfork.entryFlags, 0);
        m.writePointer(wait + vfork.entryPrivate, current);
        m.writePointer(wait + vfork.entryFunc, childWaitCallback);
        lists.addTail(wait + vfork.entryList, m.readPointer(current + f.task.signal) + f.signal.waitChldexitHead);
        m.writePointer(current + o.taskState, TaskStateBits.TASK_INTERRUPTIBLE);
        core.schedule(cpu, false, 0);
        return WAIT_BLOCKED;
    }

    /** {@code eligible_pid} and {@code eligible_child}. */
    private boolean eligibleChild(int type, long pid, int flags, long p) {
        if (type < Pids.PIDTYPE_MAX && pids.taskPid(p, type) != pid) {
            return false;
        }
        if ((flags & WALL) != 0) {
            return true;
        }
        return (m.readInt(p + o.taskExitSignal) != Signals.SIGCHLD) == ((flags & WCLONE) != 0);
    }

    /**
     * {@code wait_task_zombie(wo, p)}: with WNOWAIT the exit code is reported and the zombie stays;
     * otherwise it becomes EXIT_DEAD, the status is {@code group_exit_code} if the group exited as one
     * ({@code SIGNAL_GROUP_EXIT}) or its {@code exit_code}, and {@code release_task} frees it.
     */
    private long waitTaskZombie(int cpu, int flags, long p, long ns) {
        int nr = pids.taskPidNrNs(p, ns);
        if ((flags & WNOWAIT) != 0) {
            return ((long) nr << 32) | Integer.toUnsignedLong(m.readInt(p + o.taskExitCode));
        }
        m.writeInt(p + o.taskExitState, (int) TaskStateBits.EXIT_DEAD);
        long sig = m.readPointer(p + f.task.signal);
        int status = (m.readInt(sig + f.signal.flags) & SIGNAL_GROUP_EXIT) != 0
                ? m.readInt(sig + f.signal.groupExitCode) : m.readInt(p + o.taskExitCode);
        releaseTask(cpu, p);
        return ((long) nr << 32) | Integer.toUnsignedLong(status);
    }

    /** {@code wait_opts} is a local of exit.c (not in the pahole dumps): its three words the wakeup reads, at the model's place in do_wait's frame. */
    private static final int WO_TYPE = 0;
    private static final int WO_FLAGS = 4;
    private static final int WO_PID = 8;

    private long waitOpts(long task) {
        return (mc.platform.taskPtRegs(m, task) - 0x160) & -8L;
    }

    /** {@code wo->child_wait}, the wait queue entry of do_wait's frame. */
    private long childWait(long task) {
        return (mc.platform.taskPtRegs(m, task) - 0x140) & -8L;
    }

    /** True if the task sleeps in {@code do_wait}: its on-stack entry is queued on its group's wait_chldexit. */
    boolean inDoWait(long task) {
        if (m.readPointer(task + o.taskStack) == 0
                || (m.readPointer(task + o.taskState) & TaskStateBits.TASK_INTERRUPTIBLE) == 0) {
            return false;
        }
        long entry = childWait(task) + vfork.entryList;
        long head = m.readPointer(task + f.task.signal) + f.signal.waitChldexitHead;
        for (long node = lists.next(head); node != head; node = lists.next(node)) {
            if (node == entry) {
                return m.readPointer(entry - vfork.entryList + vfork.entryPrivate) == task;
            }
        }
        return false;
    }

    /**
     * The end of a {@code do_wait} sleep: {@code remove_wait_queue}. The model's do_wait returned when
     * the task slept, so whoever wakes it takes the entry off ({@code __wake_up_parent} below, or
     * {@code Cpu.wakeUp}).
     */
    void removeChildWait(long task) {
        lists.del(childWait(task) + vfork.entryList);
    }

    /**
     * {@code __wake_up_parent(p, parent)}: every task sleeping in do_wait on the parent's group's
     * wait_chldexit whose {@code child_wait_callback} accepts {@code p} (an eligible pid, and with
     * __WNOTHREAD {@code p}'s own parent) is woken.
     */
    private void wakeUpParent(int cpu, long p) {
        long parent = m.readPointer(p + o.taskParent);
        long head = m.readPointer(parent + f.task.signal) + f.signal.waitChldexitHead;
        long node = lists.next(head);
        while (node != head) {
            long wait = node - vfork.entryList;
            node = lists.next(node);
            if (m.readPointer(wait + vfork.entryFunc) != childWaitCallback) {
                continue;
            }
            long waiter = m.readPointer(wait + vfork.entryPrivate);
            long wo = waitOpts(waiter);
            int type = m.readInt(wo + WO_TYPE);
            if ((type < Pids.PIDTYPE_MAX && pids.taskPid(p, type) != m.readPointer(wo + WO_PID))
                    || ((m.readInt(wo + WO_FLAGS) & WNOTHREAD) != 0 && waiter != parent)) {
                continue;
            }
            removeChildWait(waiter);
            core.tryToWakeUp(cpu, waiter);
        }
    }

    /** {@code do_notify_parent(tsk, sig)} with its {@code __wake_up_parent}: true if the task is to be released now. */
    private boolean notifyParent(int cpu, long tsk, int sig) {
        boolean autoreap = signals.doNotifyParent(tsk, sig);
        wakeUpParent(cpu, tsk);
        return autoreap;
    }
}
