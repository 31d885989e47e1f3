package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;

/**
 * What {@code execve} does that fork and exit depend on ({@code fs/exec.c}): {@code exec_mmap} to a
 * new mm (releasing a vfork parent), {@code flush_old_exec}'s flags and USER_DS, {@code __set_task_comm}.
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
        long mm = k.mmAlloc(tsk);
        if (mm == 0) {
            throw new KernelException(Errno.ENOMEM, "exec: no memory for a new mm");
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
        long sighand = m.readPointer(tsk + f.taskSighand);
        for (int sig = 1; sig <= 64; sig++) {
            long handler = sighand + f.sighandAction + (sig - 1) * f.sigactionSize + f.sigactionHandler;
            if (m.readPointer(handler) != Kernel.SIG_IGN) {
                m.writePointer(handler, 0);
            }
        }
    }
}
