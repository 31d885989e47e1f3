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

    /** {@code CONFIG_USER_NS}: without it {@code create_user_ns} is the stub returning -EINVAL. */
    private final boolean userNs;

    Cred(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
        this.userNs = mc.platform.profile().config().enabled("CONFIG_USER_NS");
    }

    /** {@code capable(CAP_SYS_ADMIN)}/{@code CAP_SYS_RESOURCE} as the model has them: euid 0. */
    boolean capable(long task) {
        return m.readInt(m.readPointer(task + f.task.cred) + f.cred.euid) == 0;
    }

    void getCred(long cred) {
        m.writeInt(cred + f.cred.usage, m.readInt(cred + f.cred.usage) + 1);
    }

    /** {@code put_cred}: frees a cred (dropping its user) at zero; the static init_cred is never freed. */
    void putCred(long cred) {
        int usage = m.readInt(cred + f.cred.usage) - 1;
        m.writeInt(cred + f.cred.usage, usage);
        if (usage == 0 && cred != mc.initCred) {
            freeUid(m.readPointer(cred + f.cred.user));
            mc.credCache.free(cred);
        }
    }

    /** {@code get_uid}. */
    void getUid(long user) {
        m.writeInt(user + f.user.count, m.readInt(user + f.user.count) + 1);
    }

    /** {@code free_uid}. */
    void freeUid(long user) {
        m.writeInt(user + f.user.count, m.readInt(user + f.user.count) - 1);
    }

    /** The {@code user_struct} of a task's real credentials. */
    long user(long task) {
        return m.readPointer(m.readPointer(task + f.task.realCred) + f.cred.user);
    }

    /** {@code atomic_inc/dec(&user->processes)}. */
    void addProcesses(long user, int delta) {
        m.writeInt(user + f.user.processes, m.readInt(user + f.user.processes) + delta);
    }

    /**
     * {@code copy_creds()}: a thread shares its parent's cred (two more references); a process gets a
     * copy ({@code prepare_creds}) holding a reference on the user; CLONE_NEWUSER on a build without
     * CONFIG_USER_NS is -EINVAL ({@code create_user_ns}'s stub). Either way the user's {@code processes}
     * count goes up.
     */
    long copyCreds(long p, long flags) {
        long cred = m.readPointer(p + f.task.cred);
        long user;
        if ((flags & CloneFlag.THREAD.value()) != 0) {
            getCred(cred);
            getCred(cred);
            m.writePointer(p + f.task.realCred, cred);
            user = m.readPointer(cred + f.cred.user);
        } else {
            long created = mc.kmemCacheAlloc(mc.credCache);
            if (created == 0) {
                return Errno.ENOMEM.negative();
            }
            m.copy(cred, created, f.cred.size);
            m.writeInt(created + f.cred.usage, 1);
            user = m.readPointer(created + f.cred.user);
            getUid(user);
            if ((flags & CloneFlag.NEWUSER.value()) != 0 && !userNs) {
                // create_user_ns: the !CONFIG_USER_NS stub; error_put
                putCred(created);
                return Errno.EINVAL.negative();
            }
            getCred(created);
            m.writePointer(p + f.task.cred, created);
            m.writePointer(p + f.task.realCred, created);
        }
        addProcesses(user, 1);
        return 0;
    }

    /** {@code exit_creds(p)}: drops real_cred and cred. */
    void exitCreds(long p) {
        long real = m.readPointer(p + f.task.realCred);
        long cred = m.readPointer(p + f.task.cred);
        m.writePointer(p + f.task.cred, 0);
        m.writePointer(p + f.task.realCred, 0);
        putCred(real);
        putCred(cred);
    }
}
