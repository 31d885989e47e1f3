package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/cred.c} and {@code kernel/user.c} as far as fork and exit go: {@code copy_creds},
 * {@code get_cred}/{@code put_cred}, {@code exit_creds}, the {@code user_struct} references and its
 * {@code processes} count, and {@code capable()} as a root check.
 */
final class Cred {
    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;

    Cred(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
    }

    /** {@code capable(CAP_SYS_ADMIN)}/{@code CAP_SYS_RESOURCE} as the model has them: euid 0. */
    boolean capable(long task) {
        return m.readInt(m.readPointer(task + f.taskCred) + f.credEuid) == 0;
    }

    void getCred(long cred) {
        m.writeInt(cred + f.credUsage, m.readInt(cred + f.credUsage) + 1);
    }

    /** {@code put_cred}: frees a cred (dropping its user) at zero; the static init_cred is never freed. */
    void putCred(long cred) {
        int usage = m.readInt(cred + f.credUsage) - 1;
        m.writeInt(cred + f.credUsage, usage);
        if (usage == 0 && cred != mc.initCred) {
            freeUid(m.readPointer(cred + f.credUser));
            mc.credCache.free(cred);
        }
    }

    /** {@code get_uid}. */
    void getUid(long user) {
        m.writeInt(user + f.userCount, m.readInt(user + f.userCount) + 1);
    }

    /** {@code free_uid}. */
    void freeUid(long user) {
        m.writeInt(user + f.userCount, m.readInt(user + f.userCount) - 1);
    }

    /** The {@code user_struct} of a task's real credentials. */
    long user(long task) {
        return m.readPointer(m.readPointer(task + f.taskRealCred) + f.credUser);
    }

    /** {@code atomic_inc/dec(&user->processes)}. */
    void addProcesses(long user, int delta) {
        m.writeInt(user + f.userProcesses, m.readInt(user + f.userProcesses) + delta);
    }

    /**
     * {@code copy_creds()}: a thread shares its parent's cred (two more references); a process gets a
     * copy ({@code prepare_creds}) holding a reference on the user. Either way the user's
     * {@code processes} count goes up.
     */
    long copyCreds(long p, long flags) {
        long cred = m.readPointer(p + f.taskCred);
        long user;
        if ((flags & CloneFlag.THREAD.value()) != 0) {
            getCred(cred);
            getCred(cred);
            m.writePointer(p + f.taskRealCred, cred);
            user = m.readPointer(cred + f.credUser);
        } else {
            long created = mc.kmemCacheAlloc(mc.credCache);
            if (created == 0) {
                return Errno.ENOMEM.negative();
            }
            m.copy(cred, created, f.credSize);
            m.writeInt(created + f.credUsage, 1);
            user = m.readPointer(created + f.credUser);
            getUid(user);
            getCred(created);
            m.writePointer(p + f.taskCred, created);
            m.writePointer(p + f.taskRealCred, created);
        }
        addProcesses(user, 1);
        return 0;
    }

    /** {@code exit_creds(p)}: drops real_cred and cred. */
    void exitCreds(long p) {
        long real = m.readPointer(p + f.taskRealCred);
        long cred = m.readPointer(p + f.taskCred);
        m.writePointer(p + f.taskCred, 0);
        m.writePointer(p + f.taskRealCred, 0);
        putCred(real);
        putCred(cred);
    }
}
