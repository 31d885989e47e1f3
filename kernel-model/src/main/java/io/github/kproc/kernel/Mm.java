package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;

/**
 * The lifetime of a {@code struct mm_struct}: {@code kernel/fork.c}'s {@code dup_mm}, {@code mm_init},
 * {@code mm_alloc} and {@code mmput}, and {@code include/linux/sched/mm.h}'s {@code mmgrab}/
 * {@code mmdrop}. An address space is its mm_struct and its pgd; VMAs and user pages are not modelled
 * beyond the words {@code put_user} writes ({@link UserMemory}).
 */
final class Mm {
    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;

    Mm(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
    }

    /**
     * {@code dup_mm(tsk)}: a copy of the parent's mm with {@code mm_init} resetting what must not be
     * shared (users 1, count 1, no VMAs, owner = tsk) and a new pgd, or 0 without memory.
     */
    long dupMm(long oldmm, long tsk) {
        long mm = mc.kmemCacheAlloc(mc.mmCache);
        if (mm == 0) {
            return 0;
        }
        m.copy(oldmm, mm, f.mm.size);
        if (!mmInit(mm, tsk)) {
            mc.mmCache.free(mm);
            return 0;
        }
        mc.userMemory.duplicate(oldmm, mm);
        return mm;
    }

    /** {@code mm_init}: counters and lists reset, {@code pgd_alloc} (16 KiB on ARM32, a page on arm64). */
    private boolean mmInit(long mm, long owner) {
        m.writePointer(mm + f.mm.mmap, 0);
        m.writeInt(mm + f.mm.users, 1);
        m.writeInt(mm + f.mm.count, 1);
        m.writeInt(mm + f.mm.mapCount, 0);
        mc.lists.init(mm + f.mm.mmlist);
        if (f.mm.owner >= 0) {
            m.writePointer(mm + f.mm.owner, owner);
        }
        long pgd = mc.allocPages(mc.pgdOrder);
        if (pgd == 0) {
            return false;
        }
        m.fill(pgd, (long) mc.platform.pageSize() << mc.pgdOrder, (byte) 0);
        m.writePointer(mm + f.mm.pgd, pgd);
        return true;
    }

    /** {@code mm_alloc()} for exec: a fresh mm, or 0 without memory. */
    long mmAlloc(long owner) {
        long mm = mc.kmemCacheZalloc(mc.mmCache);
        if (mm == 0) {
            return 0;
        }
        if (!mmInit(mm, owner)) {
            mc.mmCache.free(mm);
            return 0;
        }
        return mm;
    }

    /** {@code mmget}: mm_users++. */
    void mmget(long mm) {
        m.writeInt(mm + f.mm.users, m.readInt(mm + f.mm.users) + 1);
    }

    /** {@code mmput(mm)}: mm_users--; at zero {@code __mmput} frees the page tables and drops mm_count. */
    void mmput(long mm) {
        int users = m.readInt(mm + f.mm.users) - 1;
        m.writeInt(mm + f.mm.users, users);
        if (users == 0) {
            mc.mem.pages().freePages(m.readPointer(mm + f.mm.pgd), mc.pgdOrder);
            m.writePointer(mm + f.mm.pgd, 0);
            mc.userMemory.drop(mm);
            mmdrop(mm);
        }
    }

    /** {@code mmgrab}: mm_count++. */
    void mmgrab(long mm) {
        m.writeInt(mm + f.mm.count, m.readInt(mm + f.mm.count) + 1);
    }

    /** {@code mmdrop}: mm_count--, the mm_struct freed at zero (init_mm never). */
    void mmdrop(long mm) {
        int count = m.readInt(mm + f.mm.count) - 1;
        m.writeInt(mm + f.mm.count, count);
        if (count == 0 && mm != mc.initMm) {
            mc.mmCache.free(mm);
        }
    }
}
