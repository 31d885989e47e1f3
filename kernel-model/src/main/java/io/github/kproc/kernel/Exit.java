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
        files.exitFiles(tsk);
        files.exitFs(tsk);
        nsproxy.exitTaskNamespaces(tsk);
        exitNotify(cpu, tsk, groupDead);
        m.writePointer(tsk + o.taskState, TaskStateBits.TASK_DEAD);
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
     * the job passes to a live thread of its group, and if none is left the namespace stops
     * allocating pids ({@code zap_pid_ns_processes}). Runs for every exit, children or not.
     *
     * <p>The kernel's zap_pid_ns_processes then kills every task of the namespace before its init is
     * gone; the model cannot run them, so they outlive it, and for them (and the dying init's own
     * children, see {@link #findNewReaper}) the reaper is that of the nearest ancestor namespace
     * whose init still lives.
     */
    private long findChildReaper(long father) {
        long ns = pids.taskActivePidNs(father);
        long reaper = m.readPointer(ns + f.pidNs.childReaper);
        if (reaper != father) {
            return accepting(ns) ? reaper : liveAncestorReaper(ns);
        }
        long thread = findAliveThread(father);
        if (thread != 0) {
            m.writePointer(ns + f.pidNs.childReaper, thread);
            return thread;
        }
        pids.disablePidAllocation(ns);
        return father;
    }

    /**
     * {@code find_new_reaper(father, child_reaper)}: a live thread of the dying task's group; else, if
     * the group has a subreaper above it ({@code has_child_subreaper}), the live thread of the nearest
     * {@code is_child_subreaper} ancestor in the same pid namespace (same {@code pid->level}, below
     * init_task); else the child reaper (for a dying namespace init, the model's stand-in described at
     * {@link #findChildReaper}).
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
        return childReaper == father ? liveAncestorReaper(pids.taskActivePidNs(father)) : childReaper;
    }

    /** True while a namespace's init lives: it still has PIDNS_ADDING (cleared when its init dies). */
    private boolean accepting(long ns) {
        return (m.readInt(ns + f.pidNs.pidAllocated) & Pids.PIDNS_ADDING) != 0;
    }

    /** The child reaper of the nearest ancestor of {@code ns} whose init still lives (init_pid_ns's at the latest). */
    private long liveAncestorReaper(long ns) {
        long up = m.readPointer(ns + f.pidNs.parent);
        while (up != mc.initPidNs && !accepting(up)) {
            up = m.readPointer(up + f.pidNs.parent);
        }
        return m.readPointer(up + f.pidNs.childReaper);
    }

    /**
     * {@code exit_notify(tsk, group_dead)}: {@code forget_original_parent} hands the children to the new
     * reaper (zombies the reaper ignores are released at once); then the task becomes EXIT_ZOMBIE for
     * its parent to reap, or EXIT_DEAD and is released now (a thread, or a child of a parent that
     * ignores SIGCHLD).
     */
    private void exitNotify(int cpu, long tsk, boolean groupDead) {
        // forget_original_parent
        long childReaper = findChildReaper(tsk);
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
            autoreap = threadGroupEmpty(tsk) && signals.doNotifyParent(tsk, m.readInt(tsk + o.taskExitSignal));
        } else {
            autoreap = true;
        }
        m.writeInt(tsk + o.taskExitState, (int) (autoreap ? TaskStateBits.EXIT_DEAD : TaskStateBits.EXIT_ZOMBIE));
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
                    && signals.doNotifyParent(p, m.readInt(p + o.taskExitSignal))) {
                m.writeInt(p + o.taskExitState, (int) TaskStateBits.EXIT_DEAD);
                releaseTask(cpu, p);
            }
        }
    }

    /**
     * {@code release_task(p)}: the user's process count, {@code __exit_signal} (unhash the pids and
     * lists, drop the sighand), the RCU-delayed {@code put_task_struct} with
     * {@code sched_process_free}; then a zombie leader whose last thread this was is notified and
     * possibly released too.
     */
    void releaseTask(int cpu, long task) {
        long p = task;
        while (true) {
            cred.addProcesses(cred.user(p), -1);
            exitSignal(p);
            boolean zapLeader = false;
            long leader = m.readPointer(p + o.taskGroupLeader);
            if (leader != p && threadGroupEmpty(leader) && m.readInt(leader + o.taskExitState) == TaskStateBits.EXIT_ZOMBIE) {
                zapLeader = signals.doNotifyParent(leader, m.readInt(leader + o.taskExitSignal));
                if (zapLeader) {
                    m.writeInt(leader + o.taskExitState, (int) TaskStateBits.EXIT_DEAD);
                }
            }
            mc.trace.processExit(cpu, p, "sched_process_free");
            taskAlloc.putTaskStruct(p);
            if (!zapLeader) {
                return;
            }
            p = leader;
        }
    }

    /** {@code __exit_signal(tsk)}: nr_threads down, {@code __unhash_process}, the sighand dropped. */
    private void exitSignal(long tsk) {
        long sig = m.readPointer(tsk + f.task.signal);
        boolean groupDead = threadGroupLeader(tsk);
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

    /**
     * {@code wait4(pid, WNOHANG | __WALL)}: reaps the first zombie child (of any thread of the caller's
     * group) matching {@code pid} (-1: any) that is not a leader with live threads.
     */
    int wait(int cpu, int pid) {
        long current = mc.current(cpu);
        long ns = pids.taskActivePidNs(current);
        boolean any = false;
        long leader = m.readPointer(current + o.taskGroupLeader);
        long thread = leader;
        do {
            long head = thread + o.taskChildren;
            for (long node = lists.next(head); node != head; node = lists.next(node)) {
                long child = node - o.taskSibling;
                int nr = pids.taskPidNrNs(child, ns);
                if (pid != -1 && nr != pid) {
                    continue;
                }
                any = true;
                if (m.readInt(child + o.taskExitState) == TaskStateBits.EXIT_ZOMBIE
                        && !(threadGroupLeader(child) && !threadGroupEmpty(child))) {
                    m.writeInt(child + o.taskExitState, (int) TaskStateBits.EXIT_DEAD);
                    releaseTask(cpu, child);
                    return nr;
                }
            }
            thread = lists.next(thread + f.task.threadGroup) - f.task.threadGroup;
        } while (thread != leader);
        if (!any) {
            throw new KernelException(Errno.ECHILD, "no child " + (pid == -1 ? "" : "with pid " + pid));
        }
        return 0;
    }
}
