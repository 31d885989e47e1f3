package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/nsproxy.c}: a task's {@code struct nsproxy}, shared or copied at fork
 * ({@code copy_namespaces}) and released at exit ({@code exit_task_namespaces}). Of the namespaces
 * only the pid namespace is modelled; a new nsproxy shares the others.
 */
final class Nsproxy {
    /** {@code CLONE_NEW*} flags that make {@code copy_namespaces} create an nsproxy. */
    private static final long NS_FLAGS = CloneFlag.NEWNS.value() | CloneFlag.NEWUTS.value() | CloneFlag.NEWIPC.value()
            | CloneFlag.NEWPID.value() | CloneFlag.NEWNET.value() | CloneFlag.NEWCGROUP.value();

    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;
    private final Pids pids;

    Nsproxy(Machine mc, Pids pids) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
        this.pids = pids;
    }

    /**
     * {@code copy_namespaces()}: without CLONE_NEW* flags share the nsproxy; otherwise a new nsproxy
     * whose pid namespace for children is new with CLONE_NEWPID.
     */
    long copyNamespaces(long flags, long p, long current) {
        long old = m.readPointer(p + f.task.nsproxy);
        if ((flags & NS_FLAGS) == 0) {
            m.writeInt(old + f.nsproxy.count, m.readInt(old + f.nsproxy.count) + 1);
            return 0;
        }
        long newIpcSysvsem = CloneFlag.NEWIPC.value() | CloneFlag.SYSVSEM.value();
        if ((flags & newIpcSysvsem) == newIpcSysvsem) {
            return Errno.EINVAL.negative();
        }
        long ns = mc.kmemCacheAlloc(mc.nsproxyCache);
        if (ns == 0) {
            return Errno.ENOMEM.negative();
        }
        m.copy(old, ns, f.nsproxy.size);
        m.writeInt(ns + f.nsproxy.count, 1);
        long oldPidNs = m.readPointer(old + f.nsproxy.pidNsForChildren);
        long pidNs;
        if ((flags & CloneFlag.NEWPID.value()) == 0) {
            pids.getPidNs(oldPidNs);
            pidNs = oldPidNs;
        } else {
            if (pids.taskActivePidNs(current) != oldPidNs) {
                mc.nsproxyCache.free(ns);
                return Errno.EINVAL.negative();
            }
            pidNs = pids.createPidNamespace(oldPidNs);
            if (Machine.isErr(pidNs)) {
                mc.nsproxyCache.free(ns);
                return pidNs;
            }
        }
        m.writePointer(ns + f.nsproxy.pidNsForChildren, pidNs);
        m.writePointer(p + f.task.nsproxy, ns);
        return 0;
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
