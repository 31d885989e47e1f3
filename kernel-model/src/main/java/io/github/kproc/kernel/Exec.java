package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskFlags;

/**
 * What {@code execve} does that fork and exit depend on ({@code fs/exec.c}): {@code unshare_files}
 * and {@code de_thread}'s copy of a shared sighand_struct, so that nothing CLONE_FILES or CLONE_SIGHAND
 * shared survives the exec; {@code exec_mmap} to a new mm (releasing a vfork parent);
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

    Exec(Machine mc, Core core, Mm mm, Files files, Signals signals, Vfork vfork) {
        this.mc = mc;
        this.m = mc.m;
        this.o = mc.o;
        this.f = mc.f;
        this.core = core;
        this.mm = mm;
        this.files = files;
        this.signals = signals;
        this.vfork = vfork;
    }

    /**
     * The effects of {@code execve} the fork and exit paths depend on: a file table and signal handlers
     * of its own ({@code unshare_files}, {@code de_thread}), a new user address space ({@code exec_mmap}),
     * {@code mm_release} completing a vfork parent's wait, {@code __set_task_comm}, addr_limit USER_DS,
     * and a kernel thread becoming a user task.
     */
    void exec(int cpu, String comm) {
        exec(cpu, comm, true);
    }

    /**
     * {@link #exec(int, String)}, with {@code sched_exec}'s balancing only if {@code balance}: Boot's
     * exec of init runs at the model's boot clock 0, where every task's PELT {@code last_update_time}
     * of 0 reads as "not attached" and {@code cpu_util_wake} sees CPU 0 full, so the spare-capacity rule
     * would send init away where a kernel whose clock had moved keeps it on CPU 0 (its spare capacity
     * after init's own util); the model's boot keeps init on CPU 0.
     */
    void exec(int cpu, String comm, boolean balance) {
        long tsk = mc.current(cpu);
        if (core.isIdle(tsk)) {
            throw new KernelException(Errno.EPERM, "the idle task cannot exec");
        }
        long leader = m.readPointer(tsk + o.taskGroupLeader);
        if (leader != tsk || !mc.lists.empty(tsk + f.task.threadGroup)) {
            throw new KernelException(Errno.EINVAL, "exec of a multi-threaded process (de_thread) is not modelled");
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
        // sched_exec(): the exec balancing point, once the binary is open; the task may continue on another CPU
        if (balance) {
            core.schedExec(cpu);
        }
        long newMm = mm.mmAlloc(tsk);
        if (newMm == 0) {
            freeUnshared(unshared);
            throw new KernelException(Errno.ENOMEM, "exec: no memory for a new mm");
        }
        // de_thread(): a sighand_struct shared with another process (CLONE_SIGHAND) is replaced by a copy
        long sighand = m.readPointer(tsk + f.task.sighand);
        long newSighand = 0;
        if (m.readInt(sighand + f.sighand.count) != 1) {
            newSighand = signals.copySighandStruct(sighand);
            if (newSighand == 0) {
                mm.mmput(newMm);
                freeUnshared(unshared);
                throw new KernelException(Errno.ENOMEM, "exec: no memory to unshare the signal handlers");
            }
        }
        // past the point of no return
        if (unshared != 0) {
            m.writePointer(tsk + f.task.files, unshared);
            m.writeInt(oldFiles + f.files.count, m.readInt(oldFiles + f.files.count) - 1);
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
    }

    /** {@code reset_files_struct}: a failed exec gives back the copy unshare_files made. */
    private void freeUnshared(long copy) {
        if (copy != 0) {
            mc.filesCache.free(copy);
        }
    }
}
