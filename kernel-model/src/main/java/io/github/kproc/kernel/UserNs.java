package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/user_namespace.c}, {@code kernel/ucount.c} and the namespace inode numbers of
 * {@code fs/proc/generic.c} and {@code include/linux/proc_ns.h}: {@code create_user_ns} and
 * {@code set_cred_user_ns}, {@code get_user_ns}/{@code put_user_ns} (no-ops without
 * {@code CONFIG_USER_NS}, as the header's inlines are), {@code cap_capable} across user namespaces,
 * the {@code struct ucounts} of each (user namespace, uid) in {@code ucounts_hashtable} with
 * {@code inc_ucount}/{@code dec_ucount} checked against every ancestor's {@code ucount_max}, and
 * {@code proc_alloc_inum}/{@code proc_free_inum} over {@code proc_inum_ida}.
 *
 * <p>Not modelled: the id maps beyond {@code init_user_ns}'s identity map (no {@code uid_map} writes,
 * so a nested user namespace fails {@code kuid_has_mapping} with -EPERM as an unmapped creator does),
 * the per-namespace sysctl tables ({@code setup_userns_sysctls}: {@code sysctls} stays NULL), keyrings,
 * and the kworker: {@code __put_user_ns} frees at once where 4.19 queues {@code free_user_ns} with
 * {@code schedule_work}.
 */
final class UserNs {
    /** {@code UCOUNTS_HASHTABLE_BITS} = 10. */
    static final int UCOUNTS_HASHTABLE_BITS = 10;
    static final int UCOUNTS_HASHTABLE_SIZE = 1 << UCOUNTS_HASHTABLE_BITS;
    /** {@code enum ucount_type}. */
    static final int UCOUNT_USER_NAMESPACES = 0;
    static final int UCOUNT_PID_NAMESPACES = 1;
    static final int UCOUNT_UTS_NAMESPACES = 2;
    static final int UCOUNT_IPC_NAMESPACES = 3;
    static final int UCOUNT_NET_NAMESPACES = 4;
    static final int UCOUNT_MNT_NAMESPACES = 5;
    static final int UCOUNT_CGROUP_NAMESPACES = 6;
    /** {@code PROC_DYNAMIC_FIRST}: the first inode number {@code proc_alloc_inum} hands out. */
    static final long PROC_DYNAMIC_FIRST = 0xF0000000L;
    /** {@code PROC_IPC_INIT_INO}, {@code PROC_UTS_INIT_INO}, {@code PROC_USER_INIT_INO}, {@code PROC_PID_INIT_INO}, {@code PROC_CGROUP_INIT_INO}. */
    static final int PROC_IPC_INIT_INO = 0xEFFFFFFF;
    static final int PROC_UTS_INIT_INO = 0xEFFFFFFE;
    static final int PROC_USER_INIT_INO = 0xEFFFFFFD;
    static final int PROC_PID_INIT_INO = 0xEFFFFFFC;
    static final int PROC_CGROUP_INIT_INO = 0xEFFFFFFB;
    /** {@code USERNS_INIT_FLAGS}: USERNS_SETGROUPS_ALLOWED. */
    static final long USERNS_INIT_FLAGS = 1;
    /** {@code SECUREBITS_DEFAULT}. */
    private static final int SECUREBITS_DEFAULT = 0;

    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;
    private final int ptr;
    /** {@code CONFIG_USER_NS}. */
    final boolean built;
    /** {@code UCOUNT_COUNTS}: the length of {@code ucount_max} in the build. */
    final int ucountCounts;
    private final long credEgid;

    UserNs(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
        this.ptr = mc.platform.pointerSize();
        this.built = mc.platform.profile().config().enabled("CONFIG_USER_NS");
        this.ucountCounts = (int) ((f.ucounts.size - f.ucounts.ucount) / 4);
        this.credEgid = mc.o.required("cred", "egid");
    }

    /**
     * {@code init_user_ns} (count 3, identity uid, gid and projid maps, level 0, owner and group 0,
     * {@code PROC_USER_INIT_INO}, the ops with CONFIG_USER_NS, USERNS_INIT_FLAGS), its
     * {@code ucount_max[]} = max_threads / 2 as {@code fork_init} sets them, and an empty
     * {@code ucounts_hashtable}.
     */
    void initUserNs(int maxThreads) {
        long ns = mc.initUserNs;
        for (long map : new long[] {f.userNs.uidMap, f.userNs.gidMap, f.userNs.projidMap}) {
            m.writeInt(ns + map + f.userNs.mapNrExtents, 1);
            long extent = ns + map + f.userNs.mapExtent;
            m.writeInt(extent + f.userNs.extentFirst, 0);
            m.writeInt(extent + f.userNs.extentLowerFirst, 0);
            m.writeInt(extent + f.userNs.extentCount, -1);
        }
        m.writeInt(ns + f.userNs.count, 3);
        m.writeInt(ns + f.userNs.ns + f.nsCommon.inum, PROC_USER_INIT_INO);
        if (built) {
            m.writePointer(ns + f.userNs.ns + f.nsCommon.ops, mc.symbol("userns_operations"));
        }
        m.writePointer(ns + f.userNs.flags, USERNS_INIT_FLAGS);
        for (int i = 0; i < ucountCounts; i++) {
            m.writeInt(ns + f.userNs.ucountMax + 4L * i, maxThreads / 2);
        }
        for (int i = 0; i < UCOUNTS_HASHTABLE_SIZE; i++) {
            mc.lists.hlistInitHead(mc.ucountsHashtable + (long) i * ptr);
        }
    }

    // ---- get/put ----

    /** {@code get_user_ns}: count++ (nothing without CONFIG_USER_NS, where every namespace is init_user_ns). */
    void getUserNs(long ns) {
        if (built) {
            m.writeInt(ns + f.userNs.count, m.readInt(ns + f.userNs.count) + 1);
        }
    }

    /**
     * {@code put_user_ns}: count--, and at zero {@code free_user_ns} (done at once, not on a kworker):
     * the inode number and the creator's ucount go, the namespace goes back to its cache, and its
     * parent loses the reference it held, up the chain while counts reach zero.
     */
    void putUserNs(long nsAddress) {
        if (!built) {
            return;
        }
        long ns = nsAddress;
        while (ns != 0) {
            int count = m.readInt(ns + f.userNs.count) - 1;
            m.writeInt(ns + f.userNs.count, count);
            if (count != 0 || ns == mc.initUserNs) {
                return;
            }
            long parent = m.readPointer(ns + f.userNs.parent);
            long ucounts = m.readPointer(ns + f.userNs.ucounts);
            procFreeInum(m.readInt(ns + f.userNs.ns + f.nsCommon.inum));
            mc.userNsCache.free(ns);
            decUcount(ucounts, UCOUNT_USER_NAMESPACES);
            ns = parent;
        }
    }

    // ---- kernel/ucount.c ----

    /** {@code ucounts_hashentry(ns, uid)}: {@code hash_long(uid + ns, UCOUNTS_HASHTABLE_BITS)}. */
    private long hashEntry(long ns, int uid) {
        int bucket;
        if (ptr == 8) {
            bucket = (int) ((Integer.toUnsignedLong(uid) + ns) * 0x61C8864680B583EBL >>> (64 - UCOUNTS_HASHTABLE_BITS));
        } else {
            bucket = (int) ((uid + (int) ns) * 0x61C88647) >>> (32 - UCOUNTS_HASHTABLE_BITS);
        }
        return mc.ucountsHashtable + (long) bucket * ptr;
    }

    /** {@code find_ucounts(ns, uid, hashent)}: 0 if none. */
    private long findUcounts(long ns, int uid, long hashent) {
        for (long node = mc.lists.hlistFirst(hashent); node != 0; node = mc.lists.hlistNext(node)) {
            long ucounts = node - f.ucounts.node;
            if (m.readInt(ucounts + f.ucounts.uid) == uid && m.readPointer(ucounts + f.ucounts.ns) == ns) {
                return ucounts;
            }
        }
        return 0;
    }

    /** {@code get_ucounts(ns, uid)}: found or a new zeroed one (kzalloc) hashed in, count + 1; 0 without memory or at INT_MAX. */
    private long getUcounts(long ns, int uid) {
        long hashent = hashEntry(ns, uid);
        long ucounts = findUcounts(ns, uid, hashent);
        if (ucounts == 0) {
            ucounts = mc.kmemCacheZalloc(mc.kmalloc(f.ucounts.size));
            if (ucounts == 0) {
                return 0;
            }
            m.writePointer(ucounts + f.ucounts.ns, ns);
            m.writeInt(ucounts + f.ucounts.uid, uid);
            mc.lists.hlistAddHead(ucounts + f.ucounts.node, hashent);
        }
        int count = m.readInt(ucounts + f.ucounts.count);
        if (count == Integer.MAX_VALUE) {
            return 0;
        }
        m.writeInt(ucounts + f.ucounts.count, count + 1);
        return ucounts;
    }

    /** {@code put_ucounts}: count--, unhashed and freed at zero. */
    private void putUcounts(long ucounts) {
        int count = m.readInt(ucounts + f.ucounts.count) - 1;
        m.writeInt(ucounts + f.ucounts.count, count);
        if (count == 0) {
            mc.lists.hlistDelInit(ucounts + f.ucounts.node);
            mc.kmalloc(f.ucounts.size).free(ucounts);
        }
    }

    /**
     * {@code inc_ucount(ns, uid, type)}: the (ns, uid) ucounts with its {@code ucount[type]} and each
     * ancestor namespace's (through {@code ns->ucounts}) raised, each below its namespace's
     * {@code ucount_max[type]}; 0 (the callers' -ENOSPC) with everything undone when one is at its maximum.
     */
    long incUcount(long ns, int uid, int type) {
        long ucounts = getUcounts(ns, uid);
        long iter = ucounts;
        while (iter != 0) {
            long tns = m.readPointer(iter + f.ucounts.ns);
            int max = m.readInt(tns + f.userNs.ucountMax + 4L * type);
            long at = iter + f.ucounts.ucount + 4L * type;
            int c = m.readInt(at);
            if (c >= max) {
                for (long undo = ucounts; undo != iter;
                        undo = m.readPointer(m.readPointer(undo + f.ucounts.ns) + f.userNs.ucounts)) {
                    long u = undo + f.ucounts.ucount + 4L * type;
                    m.writeInt(u, m.readInt(u) - 1);
                }
                putUcounts(ucounts);
                return 0;
            }
            m.writeInt(at, c + 1);
            iter = m.readPointer(tns + f.userNs.ucounts);
        }
        return ucounts;
    }

    /** {@code dec_ucount(ucounts, type)}: lowers {@code ucount[type]} up the chain, then {@code put_ucounts}. */
    void decUcount(long ucounts, int type) {
        for (long iter = ucounts; iter != 0; iter = m.readPointer(m.readPointer(iter + f.ucounts.ns) + f.userNs.ucounts)) {
            long at = iter + f.ucounts.ucount + 4L * type;
            int c = m.readInt(at);
            if (c > 0) {
                m.writeInt(at, c - 1);
            }
        }
        putUcounts(ucounts);
    }

    // ---- fs/proc/generic.c ----

    /** {@code proc_alloc_inum} ({@code ns_alloc_inum}): PROC_DYNAMIC_FIRST + an id of {@code proc_inum_ida}, or -ENOMEM/-ENOSPC. */
    long procAllocInum() {
        int id = mc.ida.alloc(mc.procInumIda, (int) (0x1_0000_0000L - PROC_DYNAMIC_FIRST));
        return id < 0 ? id : PROC_DYNAMIC_FIRST + id;
    }

    /** {@code proc_free_inum} ({@code ns_free_inum}). */
    void procFreeInum(int inum) {
        mc.ida.free(mc.procInumIda, (int) (Integer.toUnsignedLong(inum) - PROC_DYNAMIC_FIRST));
    }

    // ---- capabilities across namespaces (security/commoncap.c) ----

    /**
     * {@code cap_capable(cred, targ_ns, cap)}: in the cred's own namespace the capability's bit; in a
     * namespace below it, every capability when the cred's namespace is its parent and the cred's euid
     * owns it; never in a namespace above or beside it.
     */
    boolean capCapable(long cred, long targNs, int cap) {
        long credNs = m.readPointer(cred + f.cred.userNs);
        long ns = targNs;
        while (true) {
            if (ns == credNs) {
                int word = m.readInt(cred + f.cred.capEffective + (cap >= 32 ? 4 : 0));
                return (word >>> (cap & 31) & 1) != 0;
            }
            if (m.readInt(ns + f.userNs.level) <= m.readInt(credNs + f.userNs.level)) {
                return false;
            }
            if (m.readPointer(ns + f.userNs.parent) == credNs
                    && m.readInt(ns + f.userNs.owner) == m.readInt(cred + f.cred.euid)) {
                return true;
            }
            ns = m.readPointer(ns + f.userNs.parent);
        }
    }

    // ---- kernel/user_namespace.c ----

    /** {@code map_id_up(map, id) != (u32) -1} over the base extents: whether a kernel id is mapped in a namespace. */
    private boolean hasMapping(long ns, long map, int id) {
        int extents = m.readInt(ns + map + f.userNs.mapNrExtents);
        long extentSize = f.userNs.extentCount + 4;
        for (int i = 0; i < Math.min(extents, 5); i++) {
            long e = ns + map + f.userNs.mapExtent + i * extentSize;
            long lower = Integer.toUnsignedLong(m.readInt(e + f.userNs.extentLowerFirst));
            long last = lower + Integer.toUnsignedLong(m.readInt(e + f.userNs.extentCount)) - 1;
            long kid = Integer.toUnsignedLong(id);
            if (kid >= lower && kid <= last) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code create_user_ns(new)}: -ENOSPC when the parent is more than 32 levels deep or the creator's
     * user-namespace count is at its maximum; -EPERM when the creator's euid or egid has no mapping in
     * the parent; -ENOMEM without memory; else a namespace owned by the creator one level down, holding
     * the cred's reference on its parent, with empty maps and the parent's flags, into which
     * {@code set_cred_user_ns} moves the cred with every capability.
     */
    long createUserNs(long cred) {
        long parent = m.readPointer(cred + f.cred.userNs);
        int owner = m.readInt(cred + f.cred.euid);
        int group = m.readInt(cred + credEgid);
        if (m.readInt(parent + f.userNs.level) > 32) {
            return Errno.ENOSPC.negative();
        }
        long ucounts = incUcount(parent, owner, UCOUNT_USER_NAMESPACES);
        if (ucounts == 0) {
            return Errno.ENOSPC.negative();
        }
        if (!hasMapping(parent, f.userNs.uidMap, owner) || !hasMapping(parent, f.userNs.gidMap, group)) {
            decUcount(ucounts, UCOUNT_USER_NAMESPACES);
            return Errno.EPERM.negative();
        }
        long ns = mc.kmemCacheZalloc(mc.userNsCache);
        if (ns == 0) {
            decUcount(ucounts, UCOUNT_USER_NAMESPACES);
            return Errno.ENOMEM.negative();
        }
        long inum = procAllocInum();
        if (inum < 0) {
            mc.userNsCache.free(ns);
            decUcount(ucounts, UCOUNT_USER_NAMESPACES);
            return inum;
        }
        m.writeInt(ns + f.userNs.ns + f.nsCommon.inum, (int) inum);
        m.writePointer(ns + f.userNs.ns + f.nsCommon.ops, mc.symbol("userns_operations"));
        m.writeInt(ns + f.userNs.count, 1);
        m.writePointer(ns + f.userNs.parent, parent);
        m.writeInt(ns + f.userNs.level, m.readInt(parent + f.userNs.level) + 1);
        m.writeInt(ns + f.userNs.owner, owner);
        m.writeInt(ns + f.userNs.group, group);
        for (int i = 0; i < ucountCounts; i++) {
            m.writeInt(ns + f.userNs.ucountMax + 4L * i, Integer.MAX_VALUE);
        }
        m.writePointer(ns + f.userNs.ucounts, ucounts);
        m.writePointer(ns + f.userNs.flags, m.readPointer(parent + f.userNs.flags));
        setCredUserNs(cred, ns);
        return 0;
    }

    /**
     * {@code set_cred_user_ns}: securebits default, no inheritable or ambient capabilities, every
     * permitted, effective and bounding one, and the cred now in {@code ns}.
     */
    private void setCredUserNs(long cred, long ns) {
        m.writeInt(cred + f.cred.securebits, SECUREBITS_DEFAULT);
        writeCaps(cred + f.cred.capInheritable, 0);
        writeCaps(cred + f.cred.capPermitted, Cred.CAP_FULL_SET);
        writeCaps(cred + f.cred.capEffective, Cred.CAP_FULL_SET);
        writeCaps(cred + f.cred.capAmbient, 0);
        writeCaps(cred + f.cred.capBset, Cred.CAP_FULL_SET);
        m.writePointer(cred + f.cred.userNs, ns);
    }

    private void writeCaps(long at, long value) {
        m.writeInt(at, (int) value);
        m.writeInt(at + 4, (int) (value >>> 32));
    }
}
