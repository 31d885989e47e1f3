package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/nsproxy.c}: a task's {@code struct nsproxy}, shared or copied at fork
 * ({@code copy_namespaces} -> {@code create_new_namespaces}) and released at exit
 * ({@code exit_task_namespaces}). Of the namespaces only the pid namespace is modelled as an object;
 * a new nsproxy shares the others. Which {@code CLONE_NEW*} flags a build accepts follows its
 * {@code .config}: without {@code CONFIG_UTS_NS}, {@code IPC_NS}, {@code PID_NS} or {@code NET_NS} the
 * {@code copy_utsname}, {@code copy_ipcs}, {@code copy_pid_ns} and {@code copy_net_ns} stubs return
 * -EINVAL for their flag, as v4.19's headers do.
 */
final class Nsproxy {
    /** {@code CLONE_NEW*} flags that make {@code copy_namespaces} create an nsproxy. */
    private static final long NS_FLAGS = CloneFlag.NEWNS.value() | CloneFlag.NEWUTS.value() | CloneFlag.NEWIPC.value()
            | CloneFlag.NEWPID.value() | CloneFlag.NEWNET.value() | CloneFlag.NEWCGROUP.value();

    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;
    private final Pids pids;
    private final Cred cred;
    /** {@code CONFIG_UTS_NS}, {@code CONFIG_IPC_NS}, {@code CONFIG_NET_NS} of the profile's build. */
    private final boolean utsNs;
    private final boolean ipcNs;
    private final boolean netNs;

    Nsproxy(Machine mc, Pids pids, Cred cred) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
        this.pids = pids;
        this.cred = cred;
        var config = mc.platform.profile().config();
        this.utsNs = config.enabled("CONFIG_UTS_NS");
        this.ipcNs = config.enabled("CONFIG_IPC_NS");
        this.netNs = config.enabled("CONFIG_NET_NS");
    }

    /**
     * {@code copy_namespaces()}: without CLONE_NEW* flags share the nsproxy; otherwise -EPERM without
     * CAP_SYS_ADMIN (in the child's user namespace: one CLONE_NEWUSER made is the caller's), then
     * {@code create_new_namespaces}: a new nsproxy, then each namespace in the kernel's order (mount,
     * UTS, IPC, pid, cgroup, net), a stub of a namespace the build lacks failing with -EINVAL and
     * undoing the nsproxy. The pid namespace for children is new with CLONE_NEWPID.
     */
    long copyNamespaces(long flags, long p, long current) {
        long old = m.readPointer(p + f.task.nsproxy);
        if ((flags & NS_FLAGS) == 0) {
            m.writeInt(old + f.nsproxy.count, m.readInt(old + f.nsproxy.count) + 1);
            return 0;
        }
        // ns_capable(the child's user_ns, CAP_SYS_ADMIN): a user namespace copy_creds just made is owned
        // by the caller, who has every capability in it
        if ((flags & CloneFlag.NEWUSER.value()) == 0 && !cred.capable(current, Cred.CAP_SYS_ADMIN)) {
            return Errno.EPERM.negative();
        }
        long newIpcSysvsem = CloneFlag.NEWIPC.value() | CloneFlag.SYSVSEM.value();
        if ((flags & newIpcSysvsem) == newIpcSysvsem) {
            return Errno.EINVAL.negative();
        }
        // create_nsproxy
        long ns = mc.kmemCacheAlloc(mc.nsproxyCache);
        if (ns == 0) {
            return Errno.ENOMEM.negative();
        }
        m.copy(old, ns, f.nsproxy.size);
        m.writeInt(ns + f.nsproxy.count, 1);
        // copy_mnt_ns: fs/namespace.c is always built; copy_utsname, copy_ipcs: the !CONFIG stubs
        if (((flags & CloneFlag.NEWUTS.value()) != 0 && !utsNs) || ((flags & CloneFlag.NEWIPC.value()) != 0 && !ipcNs)) {
            mc.nsproxyCache.free(ns);
            return Errno.EINVAL.negative();
        }
        long pidNs = copyPidNs(flags, current, m.readPointer(old + f.nsproxy.pidNsForChildren));
        if (Machine.isErr(pidNs)) {
            mc.nsproxyCache.free(ns);
            return pidNs;
        }
        // copy_cgroup_ns: with or without CONFIG_CGROUPS the model shares it; copy_net_ns: the !CONFIG_NET_NS stub
        if ((flags & CloneFlag.NEWNET.value()) != 0 && !netNs) {
            pids.putPidNs(pidNs);
            mc.nsproxyCache.free(ns);
            return Errno.EINVAL.negative();
        }
        m.writePointer(ns + f.nsproxy.pidNsForChildren, pidNs);
        m.writePointer(p + f.task.nsproxy, ns);
        return 0;
    }

    /**
     * {@code copy_pid_ns(flags, user_ns, old)}: {@code get_pid_ns(old)} without CLONE_NEWPID; with it
     * -EINVAL unless the build has CONFIG_PID_NS and the caller's children stay in its own namespace,
     * else {@code create_pid_namespace}.
     */
    private long copyPidNs(long flags, long current, long old) {
        if ((flags & CloneFlag.NEWPID.value()) == 0) {
            pids.getPidNs(old);
            return old;
        }
        if (!pids.pidNsBuilt || pids.taskActivePidNs(current) != old) {
            return Errno.EINVAL.negative();
        }
        return pids.createPidNamespace(old);
    }

    /** {@code exit_task_namespaces(p)}: {@code put_nsproxy}, freeing it (and its pid namespace reference) at zero. */
    void exitTaskNamespaces(long p) {
        long ns = m.readPointer(p + f.task.nsproxy);
        if (ns == 0) {
            return;
        }
        m.writePointer(p + f.task.nsproxy, 0);
        int count = m.readInt(ns + f.nsproxy.count) - 1;
        m.writeInt(ns + f.nsproxy.count, count);
        if (count == 0 && ns != mc.initNsproxy) {
            pids.putPidNs(m.readPointer(ns + f.nsproxy.pidNsForChildren));
            mc.nsproxyCache.free(ns);
        }
    }
}
