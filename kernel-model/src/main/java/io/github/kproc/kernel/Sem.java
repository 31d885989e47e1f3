package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.SlabCache;
import org.jspecify.annotations.Nullable;

/**
 * {@code ipc/sem.c} as far as fork and exit go (CONFIG_SYSVIPC): a task's {@code sysvsem.undo_list},
 * the {@code struct sem_undo_list} (layout of the build's {@code ipc.pahole}) that CLONE_SYSVSEM
 * shares. Semaphore sets and their undo entries ({@code semop} with SEM_UNDO) are not modelled, so a
 * list's {@code list_proc} stays empty.
 */
final class Sem {
    private final Machine mc;
    private final AddressSpace m;
    /** {@code task_struct.sysvsem.undo_list}, or -1 without CONFIG_SYSVIPC. */
    private final long undoList;
    private final long refcnt;
    private final long lock;
    private final long listProc;
    private final @Nullable SlabCache kmalloc;

    Sem(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        Profile p = mc.platform.profile();
        boolean built = p.config().enabled("CONFIG_SYSVIPC") && p.has("task_struct", "sysvsem.undo_list")
                && p.has("sem_undo_list", "list_proc");
        this.undoList = built ? p.offsetOf("task_struct", "sysvsem.undo_list") : -1;
        this.refcnt = built ? p.offsetOf("sem_undo_list", "refcnt") : -1;
        this.lock = built ? p.offsetOf("sem_undo_list", "lock") : -1;
        this.listProc = built ? p.offsetOf("sem_undo_list", "list_proc") : -1;
        this.kmalloc = built ? mc.kmallocCache(p.sizeOf("sem_undo_list")) : null;
    }

    /** {@code current->sysvsem.undo_list}. */
    long undoList(long tsk) {
        return undoList < 0 ? 0 : m.readPointer(tsk + undoList);
    }

    /**
     * {@code copy_semundo(clone_flags, tsk)}: with CLONE_SYSVSEM the caller's undo list
     * ({@code get_undo_list} kzallocs it, count 1, on first use) is shared and counted; otherwise the
     * child has none.
     *
     * @return 0, or -ENOMEM if the list could not be allocated
     */
    long copySemundo(long cloneFlags, long tsk, long current) {
        if (undoList < 0) {
            return 0;
        }
        if ((cloneFlags & CloneFlag.SYSVSEM.value()) == 0) {
            m.writePointer(tsk + undoList, 0);
            return 0;
        }
        long list = m.readPointer(current + undoList);
        if (list == 0) {
            list = mc.kmemCacheZalloc(kmalloc);
            if (list == 0) {
                return Errno.ENOMEM.negative();
            }
            m.writeInt(list + lock, 0);
            m.writeInt(list + refcnt, 1);
            mc.lists.init(list + listProc);
            m.writePointer(current + undoList, list);
        }
        m.writeInt(list + refcnt, m.readInt(list + refcnt) + 1);
        m.writePointer(tsk + undoList, list);
        return 0;
    }

    /**
     * {@code exit_sem(tsk)}: the task lets go of its undo list; the last user frees it (its
     * {@code list_proc} has no undo entries to apply in the model).
     */
    void exitSem(long tsk) {
        if (undoList < 0) {
            return;
        }
        long list = m.readPointer(tsk + undoList);
        if (list == 0) {
            return;
        }
        m.writePointer(tsk + undoList, 0);
        int count = m.readInt(list + refcnt) - 1;
        m.writeInt(list + refcnt, count);
        if (count == 0) {
            kmalloc.free(list);
        }
    }
}
