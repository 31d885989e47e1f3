package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskFlags;

/**
 * {@code kernel/cred.c}, {@code kernel/user.c} and the uid and capability calls of {@code kernel/sys.c}
 * and {@code kernel/capability.c}: {@code copy_creds}, {@code prepare_creds}/{@code commit_creds},
 * {@code get_cred}/{@code put_cred}, {@code exit_creds}; the {@code user_struct} of each uid, found in
 * {@code uidhash_table} by {@code find_user}/{@code alloc_uid} and freed by {@code free_uid} with its
 * last reference, with its {@code processes} count; {@code capable()} as {@code cap_capable} decides it
 * in the initial user namespace (a bit of {@code cap_effective}); {@code setuid}, {@code setresuid} with
 * {@code cap_task_fix_setuid}'s capability rules, and {@code capset}.
 */
final class Cred {
    /** {@code UIDHASH_SZ}: 1 << UIDHASH_BITS (7; CONFIG_BASE_SMALL builds are not modelled). */
    static final int UIDHASH_SZ = 1 << 7;
    /** {@code CAP_SETUID}, {@code CAP_SETPCAP}, {@code CAP_SYS_ADMIN}, {@code CAP_SYS_RESOURCE}. */
    static final int CAP_SETUID = 7;
    static final int CAP_SETPCAP = 8;
    static final int CAP_SYS_ADMIN = 21;
    static final int CAP_SYS_RESOURCE = 24;
    /** {@code CAP_LAST_CAP} of v4.19 (CAP_AUDIT_READ): the bits a capability set may hold. */
    static final int CAP_LAST_CAP = 37;
    /** Every capability: {@code CAP_FULL_SET}. */
    static final long CAP_FULL_SET = (1L << (CAP_LAST_CAP + 1)) - 1;
    /** {@code SECURE_KEEP_CAPS} (a bit of securebits). */
    private static final int SECURE_KEEP_CAPS = 4;
    /** {@code RATELIMIT_MSG_ON_RELEASE}. */
    private static final int RATELIMIT_MSG_ON_RELEASE = 1;

    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;
    private final int ptr;
    /** {@code kernel/user_namespace.c}: without CONFIG_USER_NS {@code create_user_ns} is the stub returning -EINVAL. */
    private final UserNs userNs;

    Cred(Machine mc, UserNs userNs) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
        this.ptr = mc.platform.pointerSize();
        this.userNs = userNs;
    }

    // ---- kernel/user.c ----

    /** {@code uid_cache_init}: an empty {@code uidhash_table} with {@code root_user} hashed in. */
    void uidCacheInit() {
        for (int n = 0; n < UIDHASH_SZ; n++) {
            mc.lists.hlistInitHead(mc.uidhashTable + (long) n * ptr);
        }
        mc.lists.hlistAddHead(mc.rootUser + f.user.uidhashNode, uidhashEntry(0));
    }

    /** {@code uidhashentry(uid)}: the bucket, {@code ((uid >> UIDHASH_BITS) + uid) & UIDHASH_MASK}. */
    private long uidhashEntry(int uid) {
        return mc.uidhashTable + (long) (((uid >>> 7) + uid) & (UIDHASH_SZ - 1)) * ptr;
    }

    /** {@code find_user(uid)}: the user_struct of a uid with a reference taken, or 0 if it has none. */
    long findUser(int uid) {
        for (long node = mc.lists.hlistFirst(uidhashEntry(uid)); node != 0; node = mc.lists.hlistNext(node)) {
            long user = node - f.user.uidhashNode;
            if (m.readInt(user + f.user.uid) == uid) {
                getUid(user);
                return user;
            }
        }
        return 0;
    }

    /** {@code alloc_uid(uid)}: {@code find_user}, else a new hashed user_struct with one reference; 0 without memory. */
    long allocUid(int uid) {
        long up = findUser(uid);
        if (up != 0) {
            return up;
        }
        long created = mc.kmemCacheZalloc(mc.uidCache);
        if (created == 0) {
            return 0;
        }
        m.writeInt(created + f.user.uid, uid);
        m.writeInt(created + f.user.count, 1);
        // ratelimit_state_init(&new->ratelimit, HZ, 100) and RATELIMIT_MSG_ON_RELEASE
        m.writeInt(created + f.user.ratelimitInterval, (int) mc.hz);
        m.writeInt(created + f.user.ratelimitBurst, 100);
        m.writePointer(created + f.user.ratelimitFlags, RATELIMIT_MSG_ON_RELEASE);
        mc.lists.hlistAddHead(created + f.user.uidhashNode, uidhashEntry(uid));
        return created;
    }

    /** {@code get_uid}. */
    void getUid(long user) {
        m.writeInt(user + f.user.count, m.readInt(user + f.user.count) + 1);
    }

    /** {@code free_uid}: the last reference unhashes and frees the user_struct (root_user is static). */
    void freeUid(long user) {
        int count = m.readInt(user + f.user.count) - 1;
        m.writeInt(user + f.user.count, count);
        if (count == 0 && user != mc.rootUser) {
            mc.lists.hlistDelInit(user + f.user.uidhashNode);
            mc.uidCache.free(user);
        }
    }

    /** The {@code user_struct} of a task's real credentials. */
    long user(long task) {
        return m.readPointer(m.readPointer(task + f.task.realCred) + f.cred.user);
    }

    /** {@code atomic_inc/dec(&user->processes)}. */
    void addProcesses(long user, int delta) {
        m.writeInt(user + f.user.processes, m.readInt(user + f.user.processes) + delta);
    }

    // ---- capabilities ----

    private long capSet(long cred, long set) {
        return Integer.toUnsignedLong(m.readInt(cred + set)) | ((long) m.readInt(cred + set + 4) << 32);
    }

    private void setCapSet(long cred, long set, long value) {
        m.writeInt(cred + set, (int) value);
        m.writeInt(cred + set + 4, (int) (value >>> 32));
    }

    /** {@code capable(cap)} of a task: {@code cap_capable} of its cred in the initial user namespace. */
    boolean capable(long task, int cap) {
        return userNs.capCapable(m.readPointer(task + f.task.cred), mc.initUserNs, cap);
    }

    /** {@code ns_capable(ns, cap)} of a task: {@code cap_capable} of its cred in the user namespace {@code ns}. */
    boolean nsCapable(long task, long ns, int cap) {
        return userNs.capCapable(m.readPointer(task + f.task.cred), ns, cap);
    }

    /** {@code ns_capable(current_user_ns(), cap)}: the capability in the task's own user namespace, its cred's bit. */
    private boolean ownCapable(long task, int cap) {
        return (capSet(m.readPointer(task + f.task.cred), f.cred.capEffective) & (1L << cap)) != 0;
    }

    // ---- kernel/cred.c ----

    void getCred(long cred) {
        m.writeInt(cred + f.cred.usage, m.readInt(cred + f.cred.usage) + 1);
    }

    /** {@code put_cred}: frees a cred (dropping its user) at zero; the static init_cred is never freed. */
    void putCred(long cred) {
        int usage = m.readInt(cred + f.cred.usage) - 1;
        m.writeInt(cred + f.cred.usage, usage);
        if (usage == 0 && cred != mc.initCred) {
            // put_cred_rcu: free_uid, put_user_ns, then the cred goes back to cred_jar
            long ns = m.readPointer(cred + f.cred.userNs);
            freeUid(m.readPointer(cred + f.cred.user));
            mc.credCache.free(cred);
            userNs.putUserNs(ns);
        }
    }

    /** {@code prepare_creds()} of a task: a copy of its cred with usage 1 and references on the user and user namespace; 0 without memory. */
    private long prepareCreds(long task) {
        long old = m.readPointer(task + f.task.cred);
        long created = mc.kmemCacheAlloc(mc.credCache);
        if (created == 0) {
            return 0;
        }
        m.copy(old, created, f.cred.size);
        m.writeInt(created + f.cred.usage, 1);
        getUid(m.readPointer(created + f.cred.user));
        userNs.getUserNs(m.readPointer(created + f.cred.userNs));
        return created;
    }

    /**
     * {@code commit_creds(new)} for a task: cred and real_cred become {@code created} (one reference
     * each), a change of user moves one process from the old user to the new one, and the old cred
     * loses both references.
     */
    private void commitCreds(long task, long created) {
        long old = m.readPointer(task + f.task.realCred);
        long oldCred = m.readPointer(task + f.task.cred);
        long newUser = m.readPointer(created + f.cred.user);
        long oldUser = m.readPointer(old + f.cred.user);
        getCred(created);
        if (newUser != oldUser) {
            addProcesses(newUser, 1);
        }
        m.writePointer(task + f.task.realCred, created);
        m.writePointer(task + f.task.cred, created);
        if (newUser != oldUser) {
            addProcesses(oldUser, -1);
        }
        putCred(old);
        putCred(oldCred);
    }

    /**
     * {@code copy_creds()}: a thread shares its parent's cred (two more references); a process gets a
     * copy ({@code prepare_creds}) holding references on the user and the user namespace, moved by
     * CLONE_NEWUSER into a new user namespace ({@code create_user_ns}; the stub's -EINVAL without
     * CONFIG_USER_NS). Either way the user's {@code processes} count goes up.
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
            userNs.getUserNs(m.readPointer(created + f.cred.userNs));
            if ((flags & CloneFlag.NEWUSER.value()) != 0) {
                // create_user_ns (the !CONFIG_USER_NS stub returns -EINVAL); error_put
                long err = userNs.built ? userNs.createUserNs(created) : Errno.EINVAL.negative();
                if (err < 0) {
                    putCred(created);
                    return err;
                }
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

    // ---- kernel/sys.c ----

    /**
     * {@code set_user(new)}: the new uid's user_struct ({@code alloc_uid}; -EAGAIN without memory)
     * replaces the cred's, and the caller's PF_NPROC_EXCEEDED says whether that user is at its
     * RLIMIT_NPROC already (root_user never is).
     */
    private long setUser(long task, long created) {
        long newUser = allocUid(m.readInt(created + f.cred.uid));
        if (newUser == 0) {
            return Errno.EAGAIN.negative();
        }
        long nproc = m.readPointer(m.readPointer(task + f.task.signal) + f.signal.rlim
                + Rlimit.RLIMIT_NPROC * f.signal.rlimitSize);
        int flags = m.readInt(task + mc.o.taskFlags);
        boolean exceeded = Long.compareUnsigned(Integer.toUnsignedLong(m.readInt(newUser + f.user.processes)), nproc) >= 0
                && newUser != mc.rootUser;
        m.writeInt(task + mc.o.taskFlags,
                exceeded ? flags | TaskFlags.PF_NPROC_EXCEEDED : flags & ~TaskFlags.PF_NPROC_EXCEEDED);
        freeUid(m.readPointer(created + f.cred.user));
        m.writePointer(created + f.cred.user, newUser);
        return 0;
    }

    /**
     * {@code __sys_setresuid(ruid, euid, suid)} of a task ({@code -1} keeps one): without CAP_SETUID each
     * new id must be one of the old three (-EPERM); a new real uid switches the user_struct
     * ({@code set_user}); fsuid follows euid; then {@code cap_emulate_setxuid} and {@code commit_creds}.
     */
    long setresuid(long task, int ruid, int euid, int suid) {
        long old = m.readPointer(task + f.task.cred);
        int oldUid = m.readInt(old + f.cred.uid);
        int oldEuid = m.readInt(old + f.cred.euid);
        int oldSuid = m.readInt(old + f.cred.suid);
        if (!ownCapable(task, CAP_SETUID)) {
            for (int id : new int[] {ruid, euid, suid}) {
                if (id != -1 && id != oldUid && id != oldEuid && id != oldSuid) {
                    return Errno.EPERM.negative();
                }
            }
        }
        long created = prepareCreds(task);
        if (created == 0) {
            return Errno.ENOMEM.negative();
        }
        if (ruid != -1) {
            m.writeInt(created + f.cred.uid, ruid);
            if (ruid != oldUid) {
                long err = setUser(task, created);
                if (err < 0) {
                    putCred(created);
                    return err;
                }
            }
        }
        if (euid != -1) {
            m.writeInt(created + f.cred.euid, euid);
        }
        if (suid != -1) {
            m.writeInt(created + f.cred.suid, suid);
        }
        m.writeInt(created + f.cred.fsuid, m.readInt(created + f.cred.euid));
        capEmulateSetxuid(created, old);
        commitCreds(task, created);
        return 0;
    }

    /**
     * {@code __sys_setuid(uid)} of a task: with CAP_SETUID real, saved (and effective) uid all become
     * {@code uid}; without it only the effective uid may change, to the real or saved one (-EPERM
     * otherwise).
     */
    long setuid(long task, int uid) {
        long old = m.readPointer(task + f.task.cred);
        int oldUid = m.readInt(old + f.cred.uid);
        boolean privileged = ownCapable(task, CAP_SETUID);
        if (!privileged && uid != oldUid && uid != m.readInt(old + f.cred.suid)) {
            return Errno.EPERM.negative();
        }
        long created = prepareCreds(task);
        if (created == 0) {
            return Errno.ENOMEM.negative();
        }
        if (privileged) {
            m.writeInt(created + f.cred.uid, uid);
            m.writeInt(created + f.cred.suid, uid);
            if (uid != oldUid) {
                long err = setUser(task, created);
                if (err < 0) {
                    putCred(created);
                    return err;
                }
            }
        }
        m.writeInt(created + f.cred.euid, uid);
        m.writeInt(created + f.cred.fsuid, uid);
        capEmulateSetxuid(created, old);
        commitCreds(task, created);
        return 0;
    }

    /**
     * {@code cap_emulate_setxuid(new, old)} (security/commoncap.c): leaving uid 0 in all of real,
     * effective and saved drops permitted and effective (unless SECURE_KEEP_CAPS) and ambient; an
     * effective uid leaving 0 drops effective; one becoming 0 raises effective to permitted.
     */
    private void capEmulateSetxuid(long created, long old) {
        boolean oldRoot = m.readInt(old + f.cred.uid) == 0 || m.readInt(old + f.cred.euid) == 0
                || m.readInt(old + f.cred.suid) == 0;
        boolean newRoot = m.readInt(created + f.cred.uid) == 0 || m.readInt(created + f.cred.euid) == 0
                || m.readInt(created + f.cred.suid) == 0;
        if (oldRoot && !newRoot) {
            if ((m.readInt(created + f.cred.securebits) & (1 << SECURE_KEEP_CAPS)) == 0) {
                setCapSet(created, f.cred.capPermitted, 0);
                setCapSet(created, f.cred.capEffective, 0);
            }
            setCapSet(created, f.cred.capAmbient, 0);
        }
        boolean oldEuidRoot = m.readInt(old + f.cred.euid) == 0;
        boolean newEuidRoot = m.readInt(created + f.cred.euid) == 0;
        if (oldEuidRoot && !newEuidRoot) {
            setCapSet(created, f.cred.capEffective, 0);
        }
        if (!oldEuidRoot && newEuidRoot) {
            setCapSet(created, f.cred.capEffective, capSet(created, f.cred.capPermitted));
        }
    }

    /**
     * {@code capset} of a task on itself ({@code cap_capset}): the new inheritable set within the old
     * inheritable and permitted ones (unless CAP_SETPCAP) and within inheritable and the bounding set,
     * permitted within the old permitted, effective within the new permitted (-EPERM otherwise);
     * ambient keeps only what is both permitted and inheritable. Bits above CAP_LAST_CAP are dropped as
     * {@code sys_capset} drops them.
     */
    long capset(long task, long effective, long permitted, long inheritable) {
        long eff = effective & CAP_FULL_SET;
        long perm = permitted & CAP_FULL_SET;
        long inh = inheritable & CAP_FULL_SET;
        long old = m.readPointer(task + f.task.cred);
        long oldInh = capSet(old, f.cred.capInheritable);
        long oldPerm = capSet(old, f.cred.capPermitted);
        if ((!ownCapable(task, CAP_SETPCAP) && (inh & ~(oldInh | oldPerm)) != 0)
                || (inh & ~(oldInh | capSet(old, f.cred.capBset))) != 0
                || (perm & ~oldPerm) != 0 || (eff & ~perm) != 0) {
            return Errno.EPERM.negative();
        }
        long created = prepareCreds(task);
        if (created == 0) {
            return Errno.ENOMEM.negative();
        }
        setCapSet(created, f.cred.capEffective, eff);
        setCapSet(created, f.cred.capInheritable, inh);
        setCapSet(created, f.cred.capPermitted, perm);
        setCapSet(created, f.cred.capAmbient, capSet(created, f.cred.capAmbient) & perm & inh);
        commitCreds(task, created);
        return 0;
    }
}
