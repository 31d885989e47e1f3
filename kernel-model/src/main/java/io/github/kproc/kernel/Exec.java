package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;

/**
 * What {@code execve} does that fork and exit depend on ({@code fs/exec.c}): {@code unshare_files}
 * and {@code de_thread}'s copy of a shared sighand_struct, so that nothing CLONE_FILES or CLONE_SIGHAND
 * shared survives the exec; {@code exec_mmap} to a new mm (releasing a vfork parent);
 * {@code flush_old_exec}'s flags and USER_DS, {@code __set_task_comm}, {@code flush_signal_handlers}.
 * Program loading itself is outside the model.
 */
final class Exec {
    private static final int PF_RANDOMIZE = 0x00400000;
    private static final int PF_NO_SETAFFINITY = 0x04000000;

    private final Kernel k;
    private final AddressSpace m;
    private final Offsets o;
    private final Fields f;

    Exec(Kernel k) {
        this.k = k;
        this.m = k.m;
        this.o = k.o;
        this.f = k.f;
    }

    void exec(int cpu, String comm) {
        long tsk = k.current(cpu);
        if (k.sched.isIdle(tsk)) {
            throw new KernelException(Errno.EPERM, "the idle task cannot exec");
        }
        long leader = m.readPointer(tsk + o.taskGroupLeader);
        if (leader != tsk || !k.lists.empty(tsk + f.taskThreadGroup)) {
            throw new KernelException(Errno.EINVAL, "exec of a multi-threaded process (de_thread) is not modelled");
        }
        // do_execveat_common: unshare_files(), so the new program's descriptors are its own
        long files = m.readPointer(tsk + f.taskFiles);
        long unshared = 0;
        if (files != 0 && m.readInt(files + f.filesCount) > 1) {
            unshared = k.dupFd(files);
            if (unshared == 0) {
                throw new KernelException(Errno.ENOMEM, "exec: no memory to unshare the file table");
            }
        }
        long mm = k.mmAlloc(tsk);
        if (mm == 0) {
            freeUnshared(unshared);
            throw new KernelException(Errno.ENOMEM, "exec: no memory for a new mm");
        }
        // de_thread(): a sighand_struct shared with another process (CLONE_SIGHAND) is replaced by a copy
        long sighand = m.readPointer(tsk + f.taskSighand);
        long newSighand = 0;
        if (m.readInt(sighand + f.sighandCount) != 1) {
            newSighand = k.kmemCacheAlloc(k.sighandCache);
            if (newSighand == 0) {
                k.mmput(mm);
                freeUnshared(unshared);
                throw new KernelException(Errno.ENOMEM, "exec: no memory to unshare the signal handlers");
            }
            k.sighandCtor(newSighand);
            m.writeInt(newSighand + f.sighandCount, 1);
            m.copy(sighand + f.sighandAction, newSighand + f.sighandAction, 64 * f.sigactionSize);
        }
        // past the point of no return
        if (unshared != 0) {
            m.writePointer(tsk + f.taskFiles, unshared);
            m.writeInt(files + f.filesCount, m.readInt(files + f.filesCount) - 1);
        }
        if (newSighand != 0) {
            m.writePointer(tsk + f.taskSighand, newSighand);
            k.cleanupSighand(sighand);
            sighand = newSighand;
        }
        // exec_mmap(mm)
        long oldMm = m.readPointer(tsk + o.taskMm);
        long activeMm = m.readPointer(tsk + o.taskActiveMm);
        k.exit.mmRelease(tsk, oldMm);
        m.writePointer(tsk + o.taskMm, mm);
        m.writePointer(tsk + o.taskActiveMm, mm);
        if (oldMm != 0) {
            k.mmput(oldMm);
        } else if (activeMm != 0) {
            k.mmdrop(activeMm);
        }
        // flush_old_exec / setup_new_exec
        int flags = m.readInt(tsk + o.taskFlags);
        m.writeInt(tsk + o.taskFlags, flags & ~(PF_RANDOMIZE | Fork.PF_FORKNOEXEC | Fork.PF_KTHREAD
                | Fork.PF_NOFREEZE | PF_NO_SETAFFINITY));
        k.threadInfoView(tsk).addrLimit(k.platform.userDs());
        m.writeCString(tsk + o.taskComm, o.commLength, comm);
        m.writeInt(tsk + f.taskSelfExecId, m.readInt(tsk + f.taskSelfExecId) + 1);
        // flush_signal_handlers(current, 0)
        for (int sig = 1; sig <= 64; sig++) {
            long handler = sighand + f.sighandAction + (sig - 1) * f.sigactionSize + f.sigactionHandler;
            if (m.readPointer(handler) != Kernel.SIG_IGN) {
                m.writePointer(handler, 0);
            }
        }
    }

    /** {@code reset_files_struct}: a failed exec gives back the copy unshare_files made. */
    private void freeUnshared(long copy) {
        if (copy != 0) {
            k.filesCache.free(copy);
        }
    }
}
