package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskFlags;
import io.github.kproc.view.TaskStateBits;

/**
 * What {@code execve} does that fork and exit depend on ({@code fs/exec.c}): {@code unshare_files},
 * {@code de_thread} (the other threads killed and waited for, a non-leader taking the leader's pid)
 * and its copy of a shared sighand_struct, so that nothing CLONE_FILES or CLONE_SIGHAND shared
 * survives the exec; {@code exec_mmap} to a new mm (releasing a vfork parent);
 * {@code flush_old_exec}'s flags and USER_DS, {@code __set_task_comm}, {@code flush_signal_handlers}.
 * Program loading itself is outside the model.
 */
final class Exec {
    private final Machine mc;
    private final AddressSpace m;
    private final Offsets o;
    private final Fields f;
    private final Core core;
    private final Mm mm;
    private final Files files;
    private final Signals signals;
    private final Vfork vfork;
    private final Exit exit;
    private final Pids pids;

    Exec(Machine mc, Core core, Mm mm, Files files, Signals signals, Vfork vfork, Exit exit, Pids pids) {
        this.mc = mc;
        this.m = mc.m;
        this.o = mc.o;
        this.f = mc.f;
        this.core = core;
        this.mm = mm;
        this.files = files;
        this.signals = signals;
        this.vfork = vfork;
        this.exit = exit;
        this.pids = pids;
    }

    /**
     * The effects of {@code execve} the fork and exit paths depend on: a file table and signal handlers
     * of its own ({@code unshare_files}, {@code de_thread}), a new user address space ({@code exec_mmap}),
     * {@code mm_release} completing a vfork parent's wait, {@code __set_task_comm}, addr_limit USER_DS,
     * and a kernel thread becoming a user task.
     */
    void exec(int cpu, String comm) {
        long tsk = mc.current(cpu);
        if (core.isIdle(tsk)) {
            throw new KernelException(Errno.EPERM, "the idle task cannot exec");
        }
        // do_execveat_common: a set*uid() that found the new user at RLIMIT_NPROC fails the exec now
        int pflags = m.readInt(tsk + o.taskFlags);
        if ((pflags & TaskFlags.PF_NPROC_EXCEEDED) != 0) {
            long user = m.readPointer(m.readPointer(tsk + f.task.cred) + f.cred.user);
            long nproc = m.readPointer(m.readPointer(tsk + f.task.signal) + f.signal.rlim
                    + Rlimit.RLIMIT_NPROC * f.signal.rlimitSize);
            if (Long.compareUnsigned(Integer.toUnsignedLong(m.readInt(user + f.user.processes)), nproc) > 0) {
                throw new KernelException(Errno.EAGAIN, "exec: the user is over RLIMIT_NPROC (PF_NPROC_EXCEEDED)");
            }
            m.writeInt(tsk + o.taskFlags, pflags & ~TaskFlags.PF_NPROC_EXCEEDED);
        }
        // unshare_files(), so the new program's descriptors are its own
        long oldFiles = m.readPointer(tsk + f.task.files);
        long unshared = 0;
        if (oldFiles != 0 && m.readInt(oldFiles + f.files.count) > 1) {
            unshared = files.dupFd(oldFiles);
            if (unshared == 0) {
                throw new KernelException(Errno.ENOMEM, "exec: no memory to unshare the file table");
            }
        }
        long newMm = mm.mmAlloc(tsk);
        if (newMm == 0) {
            freeUnshared(unshared);
            throw new KernelException(Errno.ENOMEM, "exec: no memory for a new mm");
        }
        if (mc.lists.empty(tsk + f.task.threadGroup)) {
            long err = flushOldExec(cpu, tsk, newMm, unshared, comm);
            if (err < 0) {
                throw new KernelException(Errno.fromNegative(err), "exec: no memory to unshare the signal handlers");
            }
            return;
        }
        // de_thread(): the other threads are killed and waited for
        long sig = m.readPointer(tsk + f.task.signal);
        if (exit.signalGroupExit(sig)) {
            mm.mmput(newMm);
            freeUnshared(unshared);
            throw new KernelException(Errno.EAGAIN, "exec: the thread group is exiting (de_thread)");
        }
        long bprm = bprm(tsk);
        m.writePointer(bprm + BPRM_MM, newMm);
        m.writePointer(bprm + BPRM_FILES, unshared);
        m.writeCString(bprm + BPRM_NAME, o.commLength, comm);
        m.writePointer(sig + f.signal.groupExitTask, tsk);
        int others = exit.zapOtherThreads(cpu, tsk);
        m.writeInt(sig + f.signal.notifyCount, m.readPointer(tsk + o.taskGroupLeader) == tsk ? others : others - 1);
        if (deThreadWait(cpu, tsk)) {
            finishExec(cpu, tsk);
        }
    }

    /**
     * What exec keeps across de_thread's sleep, in the kernel's {@code linux_binprm} (kmalloc'ed): the
     * new mm, the unshared file table and the new name; in the model at its own place in the exec'ing
     * thread's frame.
     */
    private long bprm(long task) {
        return (mc.platform.taskPtRegs(m, task) - 0x1a0) & -8L;
    }

    private static final int BPRM_MM = 0;
    private static final int BPRM_FILES = 8;
    private static final int BPRM_NAME = 16;

    /** True if the task is in exec's {@code de_thread}: its group's {@code group_exit_task}, and not exiting. */
    boolean inDeThread(long task) {
        long sig = m.readPointer(task + f.task.signal);
        return sig != 0 && m.readPointer(sig + f.signal.groupExitTask) == task
                && (m.readInt(task + o.taskFlags) & TaskFlags.PF_EXITING) == 0;
    }

    /**
     * The exec'ing thread runs again in {@code de_thread}: killed meanwhile, it gives up
     * ({@code goto killed}: group_exit_task and notify_count cleared, the new mm and file table
     * dropped) and dies on its way out; otherwise it waits on or finishes the exec.
     */
    void resumeDeThread(int cpu, long tsk) {
        if (signals.fatalSignalPending(tsk)) {
            long sig = m.readPointer(tsk + f.task.signal);
            m.writePointer(sig + f.signal.groupExitTask, 0);
            m.writeInt(sig + f.signal.notifyCount, 0);
            long bprm = bprm(tsk);
            mm.mmput(m.readPointer(bprm + BPRM_MM));
            freeUnshared(m.readPointer(bprm + BPRM_FILES));
            exit.getSignalKill(cpu, tsk);
            return;
        }
        if (deThreadWait(cpu, tsk)) {
            finishExec(cpu, tsk);
        }
    }

    /**
     * {@code de_thread}'s waits: TASK_KILLABLE until {@code notify_count} (the other threads not yet
     * released, counted down by {@code __exit_signal}) is 0; then, for a thread that is not the leader,
     * {@code notify_count = -1} and until the leader is a zombie ({@code exit_notify} wakes it). Then a
     * non-leader takes the leader's place: its start times, its pid ({@code change_pid}), the TGID,
     * PGID and SID links ({@code transfer_pid}), its place on the task list and among its parent's
     * children, group leadership, exit_signal SIGCHLD (the old leader -1, EXIT_DEAD), and
     * {@code release_task} frees the old leader.
     *
     * @return true when de_thread is done; false if the task went to sleep
     */
    private boolean deThreadWait(int cpu, long tsk) {
        long sig = m.readPointer(tsk + f.task.signal);
        if (m.readInt(sig + f.signal.notifyCount) > 0) {
            m.writePointer(tsk + o.taskState, TaskStateBits.TASK_KILLABLE);
            core.schedule(cpu, false, 0);
            return false;
        }
        long leader = m.readPointer(tsk + o.taskGroupLeader);
        if (leader != tsk) {
            m.writeInt(sig + f.signal.notifyCount, -1);
            if (m.readInt(leader + o.taskExitState) == 0) {
                m.writePointer(tsk + o.taskState, TaskStateBits.TASK_KILLABLE);
                core.schedule(cpu, false, 0);
                return false;
            }
            m.writeLong(tsk + f.task.startTime, m.readLong(leader + f.task.startTime));
            m.writeLong(tsk + f.task.realStartTime, m.readLong(leader + f.task.realStartTime));
            m.writeInt(tsk + o.taskPid, m.readInt(leader + o.taskPid));
            pids.changePid(tsk, m.readPointer(leader + f.task.threadPid));
            pids.transferPid(leader, tsk, Pids.PIDTYPE_TGID);
            pids.transferPid(leader, tsk, Pids.PIDTYPE_PGID);
            pids.transferPid(leader, tsk, Pids.PIDTYPE_SID);
            mc.lists.replace(leader + o.taskTasks, tsk + o.taskTasks);
            mc.lists.replaceInit(leader + o.taskSibling, tsk + o.taskSibling);
            m.writePointer(tsk + o.taskGroupLeader, tsk);
            m.writePointer(leader + o.taskGroupLeader, tsk);
            m.writeInt(tsk + o.taskExitSignal, Signals.SIGCHLD);
            m.writeInt(leader + o.taskExitSignal, -1);
            m.writeInt(leader + o.taskExitState, (int) TaskStateBits.EXIT_DEAD);
            exit.releaseTask(cpu, leader);
        }
        m.writePointer(sig + f.signal.groupExitTask, 0);
        m.writeInt(sig + f.signal.notifyCount, 0);
        return true;
    }

    /** The exec after de_thread slept: the rest of flush_old_exec with what bprm kept; its errno goes to the task's return register. */
    private void finishExec(int cpu, long tsk) {
        long bprm = bprm(tsk);
        long err = flushOldExec(cpu, tsk, m.readPointer(bprm + BPRM_MM), m.readPointer(bprm + BPRM_FILES),
                m.readCString(bprm + BPRM_NAME, o.commLength));
        if (err < 0) {
            mc.platform.setSyscallArgument(m, tsk, 0, err);
        }
    }

    /**
     * The rest of {@code flush_old_exec} and {@code setup_new_exec} once the task is alone in its
     * group: de_thread's copy of a sighand_struct still shared (CLONE_SIGHAND with another process),
     * exit_signal SIGCHLD, the new files and mm ({@code exec_mmap}), flags, addr_limit, comm, handlers.
     *
     * @return 0, or -ENOMEM (the new mm and file table given back) without memory for the sighand copy
     */
    private long flushOldExec(int cpu, long tsk, long newMm, long unshared, String comm) {
        long oldFiles = m.readPointer(tsk + f.task.files);
        // de_thread(): a sighand_struct shared with another process (CLONE_SIGHAND) is replaced by a copy
        long sighand = m.readPointer(tsk + f.task.sighand);
        long newSighand = 0;
        if (m.readInt(sighand + f.sighand.count) != 1) {
            newSighand = signals.copySighandStruct(sighand);
            if (newSighand == 0) {
                mm.mmput(newMm);
                freeUnshared(unshared);
                return Errno.ENOMEM.negative();
            }
        }
        // de_thread's no_thread_group: "we have changed execution domain"
        m.writeInt(tsk + o.taskExitSignal, Signals.SIGCHLD);
        // sched_exec(): the exec balancing point. The kernel takes it before bprm_mm_init and de_thread;
        // the model applies exec's effects at once (to a task that may then be queued on another CPU),
        // so it takes it here, where nothing can fail any more and de_thread's sleeps are over: a failed
        // exec leaves the task where it was, and a multithreaded exec is balanced once it is alone
        core.schedExec(cpu);
        // past the point of no return
        if (unshared != 0) {
            // put_files_struct(displaced): the last user (de_thread's dead threads let go meanwhile) frees it
            m.writePointer(tsk + f.task.files, unshared);
            files.putFiles(oldFiles);
        }
        if (newSighand != 0) {
            m.writePointer(tsk + f.task.sighand, newSighand);
            signals.cleanupSighand(sighand);
            sighand = newSighand;
        }
        // exec_mmap(mm)
        long oldMm = m.readPointer(tsk + o.taskMm);
        long activeMm = m.readPointer(tsk + o.taskActiveMm);
        long parent = vfork.mmRelease(tsk, oldMm);
        if (parent != 0) {
            core.tryToWakeUp(core.taskCpu(tsk), parent);
        }
        m.writePointer(tsk + o.taskMm, newMm);
        m.writePointer(tsk + o.taskActiveMm, newMm);
        if (oldMm != 0) {
            mm.mmput(oldMm);
        } else if (activeMm != 0) {
            mm.mmdrop(activeMm);
        }
        // flush_old_exec / setup_new_exec
        int flags = m.readInt(tsk + o.taskFlags);
        m.writeInt(tsk + o.taskFlags, flags & ~(TaskFlags.PF_RANDOMIZE | TaskFlags.PF_FORKNOEXEC
                | TaskFlags.PF_KTHREAD | TaskFlags.PF_NOFREEZE | TaskFlags.PF_NO_SETAFFINITY));
        m.writePointer(mc.platform.taskThreadInfo(m, tsk) + o.tiAddrLimit, mc.platform.userDs());
        m.writeCString(tsk + o.taskComm, o.commLength, comm);
        m.writeInt(tsk + f.task.selfExecId, m.readInt(tsk + f.task.selfExecId) + 1);
        signals.flushSignalHandlers(sighand);
        // do_execveat_common, once the binary is loaded: rseq_execve(current)
        core.rseq.rseqExecve(tsk);
        return 0;
    }

    /** {@code reset_files_struct}: a failed exec gives back the copy unshare_files made. */
    private void freeUnshared(long copy) {
        if (copy != 0) {
            mc.filesCache.free(copy);
        }
    }
}
