package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.mem.AddressSpace;
import org.jspecify.annotations.Nullable;

/**
 * {@code kernel/nsproxy.c} and the namespaces it holds: a task's {@code struct nsproxy}, shared or
 * made at fork ({@code copy_namespaces} -> {@code create_new_namespaces}) and released at exit
 * ({@code exit_task_namespaces} -> {@code free_nsproxy}); and, each in the section of its kernel file,
 * {@code copy_mnt_ns}/{@code alloc_mnt_ns} (fs/namespace.c), {@code copy_utsname} (kernel/utsname.c),
 * {@code copy_ipcs}/{@code create_ipc_ns} (ipc/namespace.c), {@code copy_pid_ns} (through
 * {@link Pids}), {@code copy_cgroup_ns} (kernel/cgroup/namespace.c) and {@code copy_net_ns}
 * (net/core/net_namespace.c), with their {@code put_*}/{@code free_*}, and the initial namespaces boot
 * lays out.
 *
 * <p>Which namespaces exist follows the build's {@code .config}: without {@code CONFIG_UTS_NS},
 * {@code IPC_NS}, {@code PID_NS} or {@code NET_NS} the {@code copy_*} stubs return -EINVAL for their
 * flag and the get/put inlines do nothing, as v4.19's headers have them. A namespace the build has is
 * created from its cache with the fields {@code copy_*} sets: its refcount, {@code ns.inum} from
 * {@code proc_alloc_inum}, {@code ns.ops}, a reference on its owning user namespace and its
 * {@code ucounts} from {@code inc_ucount} (-ENOSPC at the maximum).
 *
 * <p>Not modelled, because the model has no VFS, cgroups, IPC objects or network stack: the mount
 * tree {@code copy_tree} copies (a new {@code mnt_namespace} has no {@code root}, an empty list and no
 * mounts; nor has the init one {@code init_mount_tree} makes), the {@code css_set}s (a cgroup
 * namespace's {@code root_cset} is the task's {@code cgroups} pointer as it stands, without a
 * reference), the ipc ids' hash tables and the mqueue mount ({@code mq_mnt} stays NULL), and every
 * pernet operation but {@code net_ns_ops} (the inode number): {@code net->gen} and the per-protocol
 * state are not made. Where 4.19 defers freeing to a kworker ({@code cleanup_net}) it is done at once.
 */
final class Nsproxy {
    /** {@code CLONE_NEW*} flags that make {@code copy_namespaces} create an nsproxy. */
    private static final long NS_FLAGS = CloneFlag.NEWNS.value() | CloneFlag.NEWUTS.value() | CloneFlag.NEWIPC.value()
            | CloneFlag.NEWPID.value() | CloneFlag.NEWNET.value() | CloneFlag.NEWCGROUP.value();
    /** {@code SEMMSL}, {@code SEMMNS}, {@code SEMOPM}, {@code SEMMNI} (include/uapi/linux/sem.h). */
    private static final int[] SEM_CTLS = {32000, 32000 * 32000, 500, 32000};
    /** {@code MSGMAX}, {@code MSGMNB}, {@code MSGMNI}; {@code SHMMNI}. */
    private static final int MSGMAX = 8192;
    private static final int MSGMNB = 16384;
    private static final int MSGMNI = 32000;
    private static final int SHMMNI = 4096;
    /** {@code DFLT_QUEUESMAX}, {@code DFLT_MSGMAX}, {@code DFLT_MSGSIZEMAX}, {@code DFLT_MSG}, {@code DFLT_MSGSIZE}. */
    private static final int[] MQ_DEFAULTS = {256, 10, 8192, 10, 8192};
    /** The kernel's release string of the bundled builds ({@code UTS_RELEASE}). */
    private static final String UTS_RELEASE = "4.19.1";

    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;
    private final int ptr;
    private final Pids pids;
    private final Cred cred;
    private final UserNs userNs;
    /** {@code CONFIG_UTS_NS}, {@code CONFIG_IPC_NS}, {@code CONFIG_NET_NS}, {@code CONFIG_CGROUPS} of the profile's build. */
    private final boolean utsNs;
    private final boolean ipcNs;
    private final boolean netNs;
    private final boolean cgroups;
    /** {@code CONFIG_SYSVIPC} and {@code CONFIG_POSIX_MQUEUE}: what {@code create_ipc_ns} initialises. */
    private final boolean sysvipc;
    private final boolean posixMqueue;
    /** {@code task_struct.cgroups} (-1 without CONFIG_CGROUPS). */
    private final long taskCgroups;
    /** {@code sizeof(struct rw_semaphore)}. */
    private final long rwsemSize;

    Nsproxy(Machine mc, Pids pids, Cred cred, UserNs userNs) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
        this.ptr = mc.platform.pointerSize();
        this.pids = pids;
        this.cred = cred;
        this.userNs = userNs;
        var config = mc.platform.profile().config();
        this.utsNs = config.enabled("CONFIG_UTS_NS");
        this.ipcNs = config.enabled("CONFIG_IPC_NS");
        this.netNs = config.enabled("CONFIG_NET_NS");
        this.cgroups = config.enabled("CONFIG_CGROUPS");
        this.sysvipc = config.enabled("CONFIG_SYSVIPC");
        this.posixMqueue = config.enabled("CONFIG_POSIX_MQUEUE");
        this.taskCgroups = mc.o.optional("task_struct", "cgroups");
        this.rwsemSize = mc.platform.profile().sizeOf("rw_semaphore");
    }

    // ---- boot: the initial namespaces ----

    /**
     * The static namespaces and what boot does to them before {@code rest_init}: {@code init_user_ns}
     * ({@code fork_init}'s {@code ucount_max}), {@code init_uts_ns} (kref 2, the build's utsname),
     * {@code init_ipc_ns} ({@code sem_init}, {@code msg_init}, {@code shm_init}, {@code init_mqueue_fs}'s
     * defaults), {@code init_cgroup_ns} (count 2), {@code init_pid_ns}'s inode number and owner,
     * {@code init_mount_tree}'s mount namespace (the first dynamic inode number, sequence 2, one
     * reference for init_nsproxy and one for the tree), {@code net_ns_init}'s {@code setup_net} of
     * {@code init_net} (count 1, on {@code net_namespace_list}, the next inode number), and
     * {@code init_nsproxy} pointing at them all; {@code init_cred} is in {@code init_user_ns}.
     */
    void initNamespaces() {
        userNs.initUserNs(mc.maxThreads());
        m.writePointer(mc.initCred + f.cred.userNs, mc.initUserNs);
        // init_uts_ns
        long uts = mc.initUtsNs;
        m.writeInt(uts + f.utsNs.kref, 2);
        var config = mc.platform.profile().config();
        String version = "#1" + (config.enabled("CONFIG_SMP") ? " SMP" : "") + (config.enabled("CONFIG_PREEMPT") ? " PREEMPT" : "");
        String[] name = {"Linux", "(none)", UTS_RELEASE, version, ptr == 8 ? "aarch64" : "armv7l", "(none)"};
        for (int i = 0; i < name.length; i++) {
            m.writeCString(uts + f.utsNs.name + 65L * i, 65, name[i]);
        }
        m.writePointer(uts + f.utsNs.userNs, mc.initUserNs);
        nsInit(uts + f.utsNs.ns, UserNs.PROC_UTS_INIT_INO, utsNs ? "utsns_operations" : null);
        // init_ipc_ns
        long ipc = mc.initIpcNs;
        m.writeInt(ipc + f.ipcNs.count, 1);
        m.writePointer(ipc + f.ipcNs.userNs, mc.initUserNs);
        nsInit(ipc + f.ipcNs.ns, UserNs.PROC_IPC_INIT_INO, ipcNs ? "ipcns_operations" : null);
        ipcInitNs(ipc);
        // init_cgroup_ns
        long cg = mc.initCgroupNs;
        m.writeInt(cg + f.cgroupNs.count, 2);
        m.writePointer(cg + f.cgroupNs.userNs, mc.initUserNs);
        nsInit(cg + f.cgroupNs.ns, UserNs.PROC_CGROUP_INIT_INO, cgroups ? "cgroupns_operations" : null);
        // init_pid_ns
        m.writePointer(mc.initPidNs + f.pidNs.userNs, mc.initUserNs);
        nsInit(mc.initPidNs + f.pidNs.ns, UserNs.PROC_PID_INIT_INO, pids.pidNsBuilt ? "pidns_operations" : null);
        // proc_root_init's IDA, empty (IDA_INIT) before the first proc_alloc_inum
        mc.ida.init(mc.procInumIda, mc.idr.idrRtMarker);
        // init_mount_tree -> create_mnt_ns -> alloc_mnt_ns(&init_user_ns) as uid 0; get_mnt_ns for init_task
        m.writeLong(mc.mntNsSeqVar, 1);
        long mnt = allocMntNs(mc.initUserNs, 0);
        if (Machine.isErr(mnt)) {
            throw Machine.tooLittleRam(mc.ramBytes, "init_mount_tree");
        }
        m.writeInt(mnt + f.mntNs.count, 2);
        mc.initMntNs = mnt;
        // net_ns_init: setup_net(&init_net, &init_user_ns), its net_ns_ops, net_namespace_list
        mc.lists.init(mc.netNamespaceList);
        if (setupNet(mc.initNet, mc.initUserNs) < 0) {
            throw Machine.tooLittleRam(mc.ramBytes, "net_ns_init");
        }
        // init_nsproxy
        long ns = mc.initNsproxy;
        m.writePointer(ns + f.nsproxy.utsNs, uts);
        m.writePointer(ns + f.nsproxy.ipcNs, sysvipc || posixMqueue ? ipc : 0);
        m.writePointer(ns + f.nsproxy.mntNs, mnt);
        m.writePointer(ns + f.nsproxy.netNs, mc.initNet);
        m.writePointer(ns + f.nsproxy.cgroupNs, cgroups ? cg : 0);
    }

    /** A static namespace's {@code ns_common}: its fixed inode number and, where the build has the namespace, its ops. */
    private void nsInit(long common, int inum, @Nullable String ops) {
        m.writeInt(common + f.nsCommon.inum, inum);
        if (ops != null) {
            m.writePointer(common + f.nsCommon.ops, mc.symbol(ops));
        }
    }

    /** {@code ns_alloc_inum(ns)}: {@code stashed} = 0, {@code inum} from {@code proc_alloc_inum}; 0 or a negative errno. */
    private long nsAllocInum(long common) {
        m.writePointer(common, 0);
        long inum = userNs.procAllocInum();
        if (inum < 0) {
            return inum;
        }
        m.writeInt(common + f.nsCommon.inum, (int) inum);
        return 0;
    }

    private void nsFreeInum(long common) {
        userNs.procFreeInum(m.readInt(common + f.nsCommon.inum));
    }

    private int currentEuid(long current) {
        return m.readInt(m.readPointer(current + f.task.cred) + f.cred.euid);
    }

    // ---- kernel/nsproxy.c ----

    /**
     * {@code copy_namespaces()}: without CLONE_NEW* flags share the nsproxy; otherwise -EPERM unless
     * the caller has CAP_SYS_ADMIN in the child's user namespace (the one CLONE_NEWUSER just made is
     * the caller's own), -EINVAL for CLONE_NEWIPC with CLONE_SYSVSEM, then
     * {@code create_new_namespaces}.
     */
    long copyNamespaces(long flags, long p, long current) {
        long old = m.readPointer(p + f.task.nsproxy);
        if ((flags & NS_FLAGS) == 0) {
            m.writeInt(old + f.nsproxy.count, m.readInt(old + f.nsproxy.count) + 1);
            return 0;
        }
        long owner = m.readPointer(m.readPointer(p + f.task.cred) + f.cred.userNs);
        if (!cred.nsCapable(current, owner, Cred.CAP_SYS_ADMIN)) {
            return Errno.EPERM.negative();
        }
        long newIpcSysvsem = CloneFlag.NEWIPC.value() | CloneFlag.SYSVSEM.value();
        if ((flags & newIpcSysvsem) == newIpcSysvsem) {
            return Errno.EINVAL.negative();
        }
        long ns = createNewNamespaces(flags, old, owner, current);
        if (Machine.isErr(ns)) {
            return ns;
        }
        m.writePointer(p + f.task.nsproxy, ns);
        return 0;
    }

    /**
     * {@code create_new_namespaces}: a new nsproxy (count 1), then each namespace in the kernel's order
     * (mount, UTS, IPC, pid, cgroup, net), shared with a reference or new; a failure puts back those
     * already taken, in reverse, and frees the nsproxy.
     */
    private long createNewNamespaces(long flags, long old, long owner, long current) {
        long ns = mc.kmemCacheAlloc(mc.nsproxyCache);
        if (ns == 0) {
            return Errno.ENOMEM.negative();
        }
        m.writeInt(ns + f.nsproxy.count, 1);
        int euid = currentEuid(current);
        long mnt = copyMntNs(flags, m.readPointer(old + f.nsproxy.mntNs), owner, euid);
        if (Machine.isErr(mnt)) {
            mc.nsproxyCache.free(ns);
            return mnt;
        }
        long uts = copyUtsname(flags, owner, m.readPointer(old + f.nsproxy.utsNs), euid);
        if (Machine.isErr(uts)) {
            putMntNs(mnt);
            mc.nsproxyCache.free(ns);
            return uts;
        }
        long ipc = copyIpcs(flags, owner, m.readPointer(old + f.nsproxy.ipcNs), euid);
        if (Machine.isErr(ipc)) {
            putUtsNs(uts);
            putMntNs(mnt);
            mc.nsproxyCache.free(ns);
            return ipc;
        }
        long pid = copyPidNs(flags, owner, current, m.readPointer(old + f.nsproxy.pidNsForChildren));
        if (Machine.isErr(pid)) {
            putIpcNs(ipc);
            putUtsNs(uts);
            putMntNs(mnt);
            mc.nsproxyCache.free(ns);
            return pid;
        }
        long cg = copyCgroupNs(flags, owner, m.readPointer(old + f.nsproxy.cgroupNs), current);
        if (Machine.isErr(cg)) {
            pids.putPidNs(pid);
            putIpcNs(ipc);
            putUtsNs(uts);
            putMntNs(mnt);
            mc.nsproxyCache.free(ns);
            return cg;
        }
        long net = copyNetNs(flags, owner, m.readPointer(old + f.nsproxy.netNs), euid);
        if (Machine.isErr(net)) {
            putCgroupNs(cg);
            pids.putPidNs(pid);
            putIpcNs(ipc);
            putUtsNs(uts);
            putMntNs(mnt);
            mc.nsproxyCache.free(ns);
            return net;
        }
        m.writePointer(ns + f.nsproxy.mntNs, mnt);
        m.writePointer(ns + f.nsproxy.utsNs, uts);
        m.writePointer(ns + f.nsproxy.ipcNs, ipc);
        m.writePointer(ns + f.nsproxy.pidNsForChildren, pid);
        m.writePointer(ns + f.nsproxy.cgroupNs, cg);
        m.writePointer(ns + f.nsproxy.netNs, net);
        return ns;
    }

    /**
     * {@code copy_pid_ns(flags, user_ns, old)}: {@code get_pid_ns(old)} without CLONE_NEWPID; with it
     * -EINVAL unless the build has CONFIG_PID_NS and the caller's children stay in its own namespace,
     * else {@code create_pid_namespace}.
     */
    private long copyPidNs(long flags, long owner, long current, long old) {
        if ((flags & CloneFlag.NEWPID.value()) == 0) {
            pids.getPidNs(old);
            return old;
        }
        if (!pids.pidNsBuilt || pids.taskActivePidNs(current) != old) {
            return Errno.EINVAL.negative();
        }
        return pids.createPidNamespace(owner, old, currentEuid(current));
    }

    /** {@code exit_task_namespaces(p)}: {@code put_nsproxy}, and {@code free_nsproxy} at zero. */
    void exitTaskNamespaces(long p) {
        long ns = m.readPointer(p + f.task.nsproxy);
        if (ns == 0) {
            return;
        }
        m.writePointer(p + f.task.nsproxy, 0);
        int count = m.readInt(ns + f.nsproxy.count) - 1;
        m.writeInt(ns + f.nsproxy.count, count);
        if (count == 0 && ns != mc.initNsproxy) {
            freeNsproxy(ns);
        }
    }

    /** {@code free_nsproxy}: puts the mount, UTS, IPC, pid, cgroup and net namespaces, then frees the nsproxy. */
    private void freeNsproxy(long ns) {
        putMntNs(m.readPointer(ns + f.nsproxy.mntNs));
        putUtsNs(m.readPointer(ns + f.nsproxy.utsNs));
        putIpcNs(m.readPointer(ns + f.nsproxy.ipcNs));
        pids.putPidNs(m.readPointer(ns + f.nsproxy.pidNsForChildren));
        putCgroupNs(m.readPointer(ns + f.nsproxy.cgroupNs));
        putNet(m.readPointer(ns + f.nsproxy.netNs));
        mc.nsproxyCache.free(ns);
    }

    // ---- fs/namespace.c ----

    /** {@code copy_mnt_ns}: {@code get_mnt_ns(ns)} without CLONE_NEWNS, else {@code alloc_mnt_ns} (the tree copy is not modelled). */
    private long copyMntNs(long flags, long old, long owner, int euid) {
        if ((flags & CloneFlag.NEWNS.value()) == 0) {
            m.writeInt(old + f.mntNs.count, m.readInt(old + f.mntNs.count) + 1);
            return old;
        }
        return allocMntNs(owner, euid);
    }

    /**
     * {@code alloc_mnt_ns(user_ns)}: -ENOSPC at the ucount maximum, -ENOMEM without memory (kmalloc),
     * else count 1, the next {@code mnt_ns_seq}, an empty list and poll wait queue, no root, no mounts.
     */
    private long allocMntNs(long owner, int euid) {
        long ucounts = userNs.incUcount(owner, euid, UserNs.UCOUNT_MNT_NAMESPACES);
        if (ucounts == 0) {
            return Errno.ENOSPC.negative();
        }
        long ns = mc.kmemCacheAlloc(mc.kmalloc(f.mntNs.size));
        if (ns == 0) {
            userNs.decUcount(ucounts, UserNs.UCOUNT_MNT_NAMESPACES);
            return Errno.ENOMEM.negative();
        }
        long err = nsAllocInum(ns + f.mntNs.ns);
        if (err < 0) {
            mc.kmalloc(f.mntNs.size).free(ns);
            userNs.decUcount(ucounts, UserNs.UCOUNT_MNT_NAMESPACES);
            return err;
        }
        m.writePointer(ns + f.mntNs.ns + f.nsCommon.ops, mc.symbol("mntns_operations"));
        long seq = m.readLong(mc.mntNsSeqVar) + 1;
        m.writeLong(mc.mntNsSeqVar, seq);
        m.writeLong(ns + f.mntNs.seq, seq);
        m.writeInt(ns + f.mntNs.count, 1);
        m.writePointer(ns + f.mntNs.root, 0);
        mc.lists.init(ns + f.mntNs.list);
        // init_waitqueue_head: the lock and an empty list
        m.writeInt(ns + f.mntNs.pollHead - ptr, 0);
        mc.lists.init(ns + f.mntNs.pollHead);
        m.writeLong(ns + f.mntNs.event, 0);
        userNs.getUserNs(owner);
        m.writePointer(ns + f.mntNs.userNs, owner);
        m.writePointer(ns + f.mntNs.ucounts, ucounts);
        m.writeInt(ns + f.mntNs.mounts, 0);
        m.writeInt(ns + f.mntNs.pendingMounts, 0);
        return ns;
    }

    /** {@code put_mnt_ns}: at zero {@code free_mnt_ns} (inode number, ucount, user namespace, kfree). */
    private void putMntNs(long ns) {
        int count = m.readInt(ns + f.mntNs.count) - 1;
        m.writeInt(ns + f.mntNs.count, count);
        if (count == 0) {
            nsFreeInum(ns + f.mntNs.ns);
            userNs.decUcount(m.readPointer(ns + f.mntNs.ucounts), UserNs.UCOUNT_MNT_NAMESPACES);
            long owner = m.readPointer(ns + f.mntNs.userNs);
            mc.kmalloc(f.mntNs.size).free(ns);
            userNs.putUserNs(owner);
        }
    }

    // ---- kernel/utsname.c ----

    /**
     * {@code copy_utsname}: the old namespace with a reference without CLONE_NEWUTS (-EINVAL with it
     * without CONFIG_UTS_NS), else {@code clone_uts_ns}: -ENOSPC at the ucount maximum, -ENOMEM
     * without memory, else kref 1, a copy of the old utsname, the owner referenced.
     */
    private long copyUtsname(long flags, long owner, long old, int euid) {
        if ((flags & CloneFlag.NEWUTS.value()) == 0) {
            getUtsNs(old);
            return old;
        }
        if (!utsNs) {
            return Errno.EINVAL.negative();
        }
        long ucounts = userNs.incUcount(owner, euid, UserNs.UCOUNT_UTS_NAMESPACES);
        if (ucounts == 0) {
            return Errno.ENOSPC.negative();
        }
        long ns = mc.kmemCacheAlloc(mc.utsNsCache);
        if (ns == 0) {
            userNs.decUcount(ucounts, UserNs.UCOUNT_UTS_NAMESPACES);
            return Errno.ENOMEM.negative();
        }
        m.writeInt(ns + f.utsNs.kref, 1);
        long err = nsAllocInum(ns + f.utsNs.ns);
        if (err < 0) {
            mc.utsNsCache.free(ns);
            userNs.decUcount(ucounts, UserNs.UCOUNT_UTS_NAMESPACES);
            return err;
        }
        m.writePointer(ns + f.utsNs.ucounts, ucounts);
        m.writePointer(ns + f.utsNs.ns + f.nsCommon.ops, mc.symbol("utsns_operations"));
        m.copy(old + f.utsNs.name, ns + f.utsNs.name, f.utsNs.nameSize);
        userNs.getUserNs(owner);
        m.writePointer(ns + f.utsNs.userNs, owner);
        return ns;
    }

    /** {@code get_uts_ns}: kref++ (nothing without CONFIG_UTS_NS). */
    private void getUtsNs(long ns) {
        if (utsNs) {
            m.writeInt(ns + f.utsNs.kref, m.readInt(ns + f.utsNs.kref) + 1);
        }
    }

    /** {@code put_uts_ns}: kref--, {@code free_uts_ns} at zero (nothing without CONFIG_UTS_NS). */
    private void putUtsNs(long ns) {
        if (!utsNs) {
            return;
        }
        int kref = m.readInt(ns + f.utsNs.kref) - 1;
        m.writeInt(ns + f.utsNs.kref, kref);
        if (kref == 0) {
            userNs.decUcount(m.readPointer(ns + f.utsNs.ucounts), UserNs.UCOUNT_UTS_NAMESPACES);
            long owner = m.readPointer(ns + f.utsNs.userNs);
            nsFreeInum(ns + f.utsNs.ns);
            mc.utsNsCache.free(ns);
            userNs.putUserNs(owner);
        }
    }

    // ---- ipc/namespace.c ----

    /**
     * {@code copy_ipcs}: the old namespace with a reference without CLONE_NEWIPC (-EINVAL with it
     * without CONFIG_IPC_NS), else {@code create_ipc_ns}: -ENOSPC at the ucount maximum, -ENOMEM
     * without memory (kmalloc), else count 1, the owner referenced, and the sysctl defaults.
     */
    private long copyIpcs(long flags, long owner, long old, int euid) {
        if ((flags & CloneFlag.NEWIPC.value()) == 0) {
            if (ipcNs) {
                m.writeInt(old + f.ipcNs.count, m.readInt(old + f.ipcNs.count) + 1);
            }
            return old;
        }
        if (!ipcNs) {
            return Errno.EINVAL.negative();
        }
        long ucounts = userNs.incUcount(owner, euid, UserNs.UCOUNT_IPC_NAMESPACES);
        if (ucounts == 0) {
            return Errno.ENOSPC.negative();
        }
        long ns = mc.kmemCacheAlloc(mc.kmalloc(f.ipcNs.size));
        if (ns == 0) {
            userNs.decUcount(ucounts, UserNs.UCOUNT_IPC_NAMESPACES);
            return Errno.ENOMEM.negative();
        }
        long err = nsAllocInum(ns + f.ipcNs.ns);
        if (err < 0) {
            mc.kmalloc(f.ipcNs.size).free(ns);
            userNs.decUcount(ucounts, UserNs.UCOUNT_IPC_NAMESPACES);
            return err;
        }
        m.writePointer(ns + f.ipcNs.ns + f.nsCommon.ops, mc.symbol("ipcns_operations"));
        m.writeInt(ns + f.ipcNs.count, 1);
        userNs.getUserNs(owner);
        m.writePointer(ns + f.ipcNs.userNs, owner);
        m.writePointer(ns + f.ipcNs.ucounts, ucounts);
        ipcInitNs(ns);
        return ns;
    }

    /**
     * {@code mq_init_ns} (with CONFIG_POSIX_MQUEUE; the mount is not made) and {@code sem_init_ns},
     * {@code msg_init_ns}, {@code shm_init_ns} (with CONFIG_SYSVIPC), each {@code ipc_init_ids}.
     */
    private void ipcInitNs(long ns) {
        if (posixMqueue) {
            long[] at = {f.ipcNs.mqQueuesMax, f.ipcNs.mqMsgMax, f.ipcNs.mqMsgsizeMax, f.ipcNs.mqMsgDefault,
                f.ipcNs.mqMsgsizeDefault};
            m.writeInt(ns + f.ipcNs.mqQueuesCount, 0);
            for (int i = 0; i < at.length; i++) {
                m.writeInt(ns + at[i], MQ_DEFAULTS[i]);
            }
            m.writePointer(ns + mc.o.required("ipc_namespace", "mq_mnt"), 0);
        }
        if (!sysvipc) {
            return;
        }
        for (int i = 0; i < SEM_CTLS.length; i++) {
            m.writeInt(ns + f.ipcNs.semCtls + 4L * i, SEM_CTLS[i]);
        }
        m.writeInt(ns + f.ipcNs.usedSems, 0);
        m.writeInt(ns + f.ipcNs.msgCtlmax, MSGMAX);
        m.writeInt(ns + f.ipcNs.msgCtlmnb, MSGMNB);
        m.writeInt(ns + f.ipcNs.msgCtlmni, MSGMNI);
        m.writeInt(ns + f.ipcNs.msgBytes, 0);
        m.writeInt(ns + f.ipcNs.msgHdrs, 0);
        long shmMax = (ptr == 8 ? -1L : 0xffff_ffffL) - (1L << 24);
        m.writePointer(ns + f.ipcNs.shmCtlmax, shmMax);
        m.writePointer(ns + f.ipcNs.shmCtlall, shmMax);
        m.writeInt(ns + f.ipcNs.shmCtlmni, SHMMNI);
        m.writeInt(ns + f.ipcNs.shmRmidForced, 0);
        m.writePointer(ns + f.ipcNs.shmTot, 0);
        for (int i = 0; i < 3; i++) {
            long ids = ns + f.ipcNs.ids + i * f.ipcNs.idsSize;
            m.writeInt(ids + f.ipcNs.idsInUse, 0);
            m.writeShort(ids + f.ipcNs.idsSeq, (short) 0);
            // init_rwsem: unlocked, no owner, an empty wait list
            m.fill(ids + f.ipcNs.idsRwsemWaitList - ptr, rwsemSize, (byte) 0);
            mc.lists.init(ids + f.ipcNs.idsRwsemWaitList);
            mc.idr.init(ids + f.ipcNs.idsIdr);
            m.writeInt(ids + f.ipcNs.idsMaxIdx, -1);
        }
    }

    /** {@code put_ipc_ns}: count--, and at zero {@code free_ipc_ns} (nothing without CONFIG_IPC_NS). */
    private void putIpcNs(long ns) {
        if (!ipcNs) {
            return;
        }
        int count = m.readInt(ns + f.ipcNs.count) - 1;
        m.writeInt(ns + f.ipcNs.count, count);
        if (count == 0) {
            // sem/msg/shm_exit_ns: no ipc objects exist; each ids' IDR is empty
            for (int i = 0; i < 3; i++) {
                mc.idr.destroy(ns + f.ipcNs.ids + i * f.ipcNs.idsSize + f.ipcNs.idsIdr);
            }
            userNs.decUcount(m.readPointer(ns + f.ipcNs.ucounts), UserNs.UCOUNT_IPC_NAMESPACES);
            long owner = m.readPointer(ns + f.ipcNs.userNs);
            nsFreeInum(ns + f.ipcNs.ns);
            mc.kmalloc(f.ipcNs.size).free(ns);
            userNs.putUserNs(owner);
        }
    }

    // ---- kernel/cgroup/namespace.c ----

    /**
     * {@code copy_cgroup_ns}: the old namespace with a reference without CLONE_NEWCGROUP (without
     * CONFIG_CGROUPS the old one whatever the flag), else -EPERM without CAP_SYS_ADMIN in the owner,
     * -ENOSPC at the ucount maximum, then {@code alloc_cgroup_ns} (kzalloc; -ENOMEM): count 1, the
     * owner referenced, {@code root_cset} the caller's css_set.
     */
    private long copyCgroupNs(long flags, long owner, long old, long current) {
        if (!cgroups) {
            return old;
        }
        if ((flags & CloneFlag.NEWCGROUP.value()) == 0) {
            m.writeInt(old + f.cgroupNs.count, m.readInt(old + f.cgroupNs.count) + 1);
            return old;
        }
        if (!cred.nsCapable(current, owner, Cred.CAP_SYS_ADMIN)) {
            return Errno.EPERM.negative();
        }
        long ucounts = userNs.incUcount(owner, currentEuid(current), UserNs.UCOUNT_CGROUP_NAMESPACES);
        if (ucounts == 0) {
            return Errno.ENOSPC.negative();
        }
        long cset = taskCgroups >= 0 ? m.readPointer(current + taskCgroups) : 0;
        long ns = mc.kmemCacheZalloc(mc.kmalloc(f.cgroupNs.size));
        if (ns == 0) {
            userNs.decUcount(ucounts, UserNs.UCOUNT_CGROUP_NAMESPACES);
            return Errno.ENOMEM.negative();
        }
        long err = nsAllocInum(ns + f.cgroupNs.ns);
        if (err < 0) {
            mc.kmalloc(f.cgroupNs.size).free(ns);
            userNs.decUcount(ucounts, UserNs.UCOUNT_CGROUP_NAMESPACES);
            return err;
        }
        m.writeInt(ns + f.cgroupNs.count, 1);
        m.writePointer(ns + f.cgroupNs.ns + f.nsCommon.ops, mc.symbol("cgroupns_operations"));
        userNs.getUserNs(owner);
        m.writePointer(ns + f.cgroupNs.userNs, owner);
        m.writePointer(ns + f.cgroupNs.ucounts, ucounts);
        m.writePointer(ns + f.cgroupNs.rootCset, cset);
        return ns;
    }

    /** {@code put_cgroup_ns}: count--, {@code free_cgroup_ns} at zero (nothing without CONFIG_CGROUPS). */
    private void putCgroupNs(long ns) {
        if (!cgroups || ns == 0) {
            return;
        }
        int count = m.readInt(ns + f.cgroupNs.count) - 1;
        m.writeInt(ns + f.cgroupNs.count, count);
        if (count == 0) {
            userNs.decUcount(m.readPointer(ns + f.cgroupNs.ucounts), UserNs.UCOUNT_CGROUP_NAMESPACES);
            long owner = m.readPointer(ns + f.cgroupNs.userNs);
            nsFreeInum(ns + f.cgroupNs.ns);
            mc.kmalloc(f.cgroupNs.size).free(ns);
            userNs.putUserNs(owner);
        }
    }

    // ---- net/core/net_namespace.c ----

    /**
     * {@code copy_net_ns}: the old namespace with a reference without CLONE_NEWNET (-EINVAL with it
     * without CONFIG_NET_NS), else -ENOSPC at the ucount maximum, {@code net_alloc} from
     * {@code net_cachep} (-ENOMEM), passive 1, the owner referenced, and {@code setup_net}.
     */
    private long copyNetNs(long flags, long owner, long old, int euid) {
        if ((flags & CloneFlag.NEWNET.value()) == 0) {
            getNet(old);
            return old;
        }
        if (!netNs) {
            return Errno.EINVAL.negative();
        }
        long ucounts = userNs.incUcount(owner, euid, UserNs.UCOUNT_NET_NAMESPACES);
        if (ucounts == 0) {
            return Errno.ENOSPC.negative();
        }
        long net = mc.kmemCacheZalloc(mc.netCache);
        if (net == 0) {
            userNs.decUcount(ucounts, UserNs.UCOUNT_NET_NAMESPACES);
            return Errno.ENOMEM.negative();
        }
        m.writeInt(net + f.net.passive, 1);
        m.writePointer(net + f.net.ucounts, ucounts);
        userNs.getUserNs(owner);
        long err = setupNet(net, owner);
        if (err < 0) {
            userNs.putUserNs(owner);
            mc.netCache.free(net);
            userNs.decUcount(ucounts, UserNs.UCOUNT_NET_NAMESPACES);
            return err;
        }
        return net;
    }

    /**
     * {@code setup_net(net, user_ns)}: count and passive 1, {@code dev_base_seq} 1, the owner, an
     * empty {@code netns_ids}; of the pernet operations {@code net_ns_net_init} (ops and inode number);
     * then the namespace joins {@code net_namespace_list}.
     */
    private long setupNet(long net, long owner) {
        m.writeInt(net + f.net.count, 1);
        m.writeInt(net + f.net.passive, 1);
        m.writeInt(net + f.net.devBaseSeq, 1);
        m.writePointer(net + f.net.userNs, owner);
        mc.idr.init(net + f.net.netnsIds);
        if (netNs) {
            m.writePointer(net + f.net.ns + f.nsCommon.ops, mc.symbol("netns_operations"));
        }
        long err = nsAllocInum(net + f.net.ns);
        if (err < 0) {
            return err;
        }
        mc.lists.addTail(net + f.net.list, mc.netNamespaceList);
        return 0;
    }

    /** {@code get_net}: count++ (nothing without CONFIG_NET_NS). */
    private void getNet(long net) {
        if (netNs) {
            m.writeInt(net + f.net.count, m.readInt(net + f.net.count) + 1);
        }
    }

    /**
     * {@code put_net}: count--, and at zero {@code cleanup_net} at once (no kworker): off
     * {@code net_namespace_list}, {@code net_ns_net_exit} frees the inode number, the ucount and the
     * owner go, and {@code net_drop_ns} frees it with its passive reference.
     */
    private void putNet(long net) {
        if (!netNs) {
            return;
        }
        int count = m.readInt(net + f.net.count) - 1;
        m.writeInt(net + f.net.count, count);
        if (count == 0) {
            mc.lists.del(net + f.net.list);
            nsFreeInum(net + f.net.ns);
            mc.idr.destroy(net + f.net.netnsIds);
            userNs.decUcount(m.readPointer(net + f.net.ucounts), UserNs.UCOUNT_NET_NAMESPACES);
            long owner = m.readPointer(net + f.net.userNs);
            int passive = m.readInt(net + f.net.passive) - 1;
            m.writeInt(net + f.net.passive, passive);
            if (passive == 0) {
                mc.netCache.free(net);
            }
            userNs.putUserNs(owner);
        }
    }
}
