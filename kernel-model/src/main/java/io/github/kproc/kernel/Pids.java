package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.SlabCache;

/**
 * {@code kernel/pid.c} and {@code kernel/pid_namespace.c}: {@code struct pid} with one {@code upid}
 * per namespace level, cyclic allocation in [1 or RESERVED_PIDS, pid_max), pid namespaces.
 *
 * <p>Each namespace's numbers live in its {@code pid_namespace.idr} in the arena ({@link Idr}: radix
 * tree nodes from the {@code radix_tree_node} cache), mapping each number to its {@code struct pid};
 * a namespace's level and parent are read from the namespace. Lookups by number go through the IDR
 * ({@code find_pid_ns}, {@code find_task_by_pid_ns}), O(tree height). The only Java state is the
 * registry of the per-level {@code pid} slab caches.
 */
final class Pids {
    static final int RESERVED_PIDS = 300;
    /** {@code PIDNS_ADDING}: the namespace accepts new pids. */
    static final int PIDNS_ADDING = 1 << 31;
    /** {@code MAX_PID_NS_LEVEL}. */
    static final int MAX_PID_NS_LEVEL = 32;
    static final int PIDTYPE_PID = 0;
    static final int PIDTYPE_TGID = 1;
    static final int PIDTYPE_PGID = 2;
    static final int PIDTYPE_SID = 3;
    static final int PIDTYPE_MAX = 4;

    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;
    private final Idr idr;
    /** {@code pid_namespace.pid_cachep} by level: the allocator's registry of caches, not kernel memory state. */
    private final SlabCache[] pidCaches = new SlabCache[MAX_PID_NS_LEVEL + 1];

    /**
     * {@code CONFIG_PID_NS}: without it {@code get_pid_ns}/{@code put_pid_ns} are the empty inlines of
     * {@code pid_namespace.h} (init_pid_ns, the only namespace, keeps its static kref) and
     * {@code copy_pid_ns} refuses CLONE_NEWPID.
     */
    final boolean pidNsBuilt;

    /** The user namespaces a pid namespace belongs to and is counted in ({@code inc_pid_namespaces}). */
    private final UserNs userNs;

    Pids(Machine mc, UserNs userNs) {
        this.mc = mc;
        this.userNs = userNs;
        this.m = mc.m;
        this.f = mc.f;
        this.idr = mc.idr;
        this.pidNsBuilt = mc.platform.profile().config().enabled("CONFIG_PID_NS");
    }

    int pidMax() {
        return mc.pidMax();
    }

    /** The cache of struct pids with level + 1 upids: "pid" for init_pid_ns, "pid_N" ({@code create_pid_cachep}) below. */
    SlabCache cacheFor(int level) {
        SlabCache c = pidCaches[level];
        if (c == null) {
            long size = f.pid.baseSize + (long) level * f.upid.size;
            // init_pid_ns uses KMEM_CACHE(pid, SLAB_HWCACHE_ALIGN); create_pid_cachep() names the deeper ones pid_N
            c = mc.mem.createCache(level == 0 ? "pid" : "pid_" + (level + 1), size, 64);
            pidCaches[level] = c;
        }
        return c;
    }

    long numberAddress(long pid, int level) {
        return pid + f.pid.numbers + (long) level * f.upid.size;
    }

    int level(long pid) {
        return m.readInt(pid + f.pid.level);
    }

    /** {@code pid_nr()}: the global number. */
    int nr(long pid) {
        return pid == 0 ? 0 : m.readInt(numberAddress(pid, 0) + f.upid.nr);
    }

    /** {@code ns_of_pid()}: the namespace the pid was allocated in. */
    long nsOf(long pid) {
        return m.readPointer(numberAddress(pid, level(pid)) + f.upid.ns);
    }

    /** {@code pid_nr_ns(pid, ns)}. */
    int nrNs(long pid, long ns) {
        if (pid == 0) {
            return 0;
        }
        int nsLevel = m.readInt(ns + f.pidNs.level);
        if (nsLevel <= level(pid)) {
            long upid = numberAddress(pid, nsLevel);
            if (m.readPointer(upid + f.upid.ns) == ns) {
                return m.readInt(upid + f.upid.nr);
            }
        }
        return 0;
    }

    /** {@code is_child_reaper(pid)}: number 1 in its own namespace. */
    boolean isChildReaper(long pid) {
        return m.readInt(numberAddress(pid, level(pid)) + f.upid.nr) == 1;
    }

    /** {@code &ns->idr}. */
    private long idrOf(long ns) {
        return ns + f.pidNs.idr;
    }

    /**
     * {@code alloc_pid(ns)}: a struct pid with a number in every namespace from {@code ns} up to the
     * root, or a negative errno (-ENOMEM, -EAGAIN when a namespace has no free number). Each number is
     * first mapped to NULL so {@code find_pid_ns} cannot see a half-made pid, then, once the namespace
     * is known to accept pids, to the pid ({@code idr_replace}). On failure nothing is left allocated.
     *
     * <p>One difference from 4.19: its {@code out_free} removes every number taken from
     * {@code ns->idr}, which for a number of a parent namespace leaks it there (and may remove another
     * pid's number from {@code ns}); later kernels remove each from {@code upid->ns->idr}, as here.
     * {@code pid_ns_prepare_proc} (procfs) is not modelled.
     */
    long allocPid(long ns) {
        int nsLevel = m.readInt(ns + f.pidNs.level);
        SlabCache cache = cacheFor(nsLevel);
        int retval = Errno.ENOMEM.negative();
        long pid = mc.kmemCacheAlloc(cache);
        if (pid == 0) {
            return retval;
        }
        long tmp = ns;
        m.writeInt(pid + f.pid.level, nsLevel);
        int i;
        boolean failed = false;
        for (i = nsLevel; i >= 0; i--) {
            int pidMin = 1;
            // init really needs pid 1, but after reaching the maximum wrap back to RESERVED_PIDS
            if (idr.getCursor(idrOf(tmp)) > RESERVED_PIDS) {
                pidMin = RESERVED_PIDS;
            }
            // store a null pointer so find_pid_ns does not find a partially initialized pid
            int nr = idr.allocCyclic(idrOf(tmp), 0, pidMin, mc.pidMax());
            if (nr < 0) {
                retval = nr == Errno.ENOSPC.negative() ? Errno.EAGAIN.negative() : nr;
                failed = true;
                break;
            }
            long upid = numberAddress(pid, i);
            m.writeInt(upid + f.upid.nr, nr);
            m.writePointer(upid + f.upid.ns, tmp);
            tmp = m.readPointer(tmp + f.pidNs.parent);
        }
        if (!failed) {
            getPidNs(ns);
            m.writeInt(pid + f.pid.count, 1);
            for (int type = 0; type < PIDTYPE_MAX; type++) {
                mc.lists.hlistInitHead(pid + f.pid.tasks + (long) type * mc.platform.pointerSize());
            }
            if ((m.readInt(ns + f.pidNs.pidAllocated) & PIDNS_ADDING) != 0) {
                for (int u = nsLevel; u >= 0; u--) {
                    // make the pid visible to find_pid_ns
                    long upid = numberAddress(pid, u);
                    long upidNs = m.readPointer(upid + f.upid.ns);
                    idr.replace(idrOf(upidNs), pid, m.readInt(upid + f.upid.nr));
                    m.writeInt(upidNs + f.pidNs.pidAllocated, m.readInt(upidNs + f.pidNs.pidAllocated) + 1);
                }
                return pid;
            }
            // out_unlock
            putPidNs(ns);
        }
        // out_free: give back the numbers taken at the levels below the failing one (i is -1 after out_unlock)
        while (++i <= nsLevel) {
            long upid = numberAddress(pid, i);
            idr.remove(idrOf(m.readPointer(upid + f.upid.ns)), m.readInt(upid + f.upid.nr));
        }
        // on failure to allocate the first pid, reset the state
        if (m.readInt(ns + f.pidNs.pidAllocated) == PIDNS_ADDING) {
            idr.setCursor(idrOf(ns), 0);
        }
        cache.free(pid);
        return retval;
    }

    /**
     * {@code free_pid(pid)}: removes the number of every level from its namespace's IDR, then drops the
     * reference the pid was born with (the kernel does so after an RCU grace period; the model at once).
     */
    void freePid(long pid) {
        int level = level(pid);
        for (int i = 0; i <= level; i++) {
            long upid = numberAddress(pid, i);
            long ns = m.readPointer(upid + f.upid.ns);
            int allocated = m.readInt(ns + f.pidNs.pidAllocated) - 1;
            if ((allocated == 1 || allocated == 2) && nrReapersToWake < reapersToWake.length) {
                // only the reaper is left: wake_up_process(ns->child_reaper), asleep in zap_pid_ns_processes
                reapersToWake[nrReapersToWake++] = m.readPointer(ns + f.pidNs.childReaper);
            }
            // case PIDNS_ADDING: a fork failure of the namespace's first process; no pids after it
            m.writeInt(ns + f.pidNs.pidAllocated, allocated == PIDNS_ADDING ? 0 : allocated);
            idr.remove(idrOf(ns), m.readInt(upid + f.upid.nr));
        }
        putPid(pid);
    }

    /**
     * The child reapers {@code free_pid} found alone in their namespaces ({@code case 2: case 1:}),
     * for the caller, which knows the CPU, to {@code wake_up_process}: at most one per level.
     */
    final long[] reapersToWake = new long[MAX_PID_NS_LEVEL + 1];
    int nrReapersToWake;

    /** {@code pid_ns->pid_allocated}. */
    int pidAllocated(long ns) {
        return m.readInt(ns + f.pidNs.pidAllocated);
    }

    /**
     * The step of {@code idr_for_each_entry_continue(&ns->idr, pid, nr)}: the smallest number at least
     * {@code nr} in use in {@code ns} ({@code idr_get_next}), -1 if there is none.
     */
    int nextNr(long ns, int nr) {
        return idr.getNext(idrOf(ns), nr);
    }

    /** {@code get_pid()}. */
    void getPid(long pid) {
        if (pid != 0) {
            m.writeInt(pid + f.pid.count, m.readInt(pid + f.pid.count) + 1);
        }
    }

    /** {@code put_pid()}: frees the struct pid and drops its namespace when the last reference goes. */
    void putPid(long pid) {
        if (pid == 0) {
            return;
        }
        int count = m.readInt(pid + f.pid.count) - 1;
        m.writeInt(pid + f.pid.count, count);
        if (count == 0) {
            long ns = nsOf(pid);
            cacheFor(level(pid)).free(pid);
            putPidNs(ns);
        }
    }

    /** {@code get_pid_ns()}: kref++ (init_pid_ns is never freed); nothing without CONFIG_PID_NS. */
    void getPidNs(long ns) {
        if (!pidNsBuilt) {
            return;
        }
        m.writeInt(ns + f.pidNs.kref, m.readInt(ns + f.pidNs.kref) + 1);
    }

    /** {@code put_pid_ns()}: kref--, freeing the namespace (and dropping its parent) at zero; nothing without CONFIG_PID_NS. */
    void putPidNs(long nsAddress) {
        if (!pidNsBuilt) {
            return;
        }
        long ns = nsAddress;
        while (ns != 0) {
            int ref = m.readInt(ns + f.pidNs.kref) - 1;
            m.writeInt(ns + f.pidNs.kref, ref);
            if (ref != 0 || ns == mc.initPidNs) {
                return;
            }
            long parent = m.readPointer(ns + f.pidNs.parent);
            // destroy_pid_namespace: ns_free_inum, idr_destroy; delayed_free_pidns: dec_pid_namespaces,
            // put_user_ns, and the namespace goes back to its cache
            userNs.procFreeInum(m.readInt(ns + f.pidNs.ns + f.nsCommon.inum));
            idr.destroy(idrOf(ns));
            long ucounts = m.readPointer(ns + f.pidNs.ucounts);
            long owner = m.readPointer(ns + f.pidNs.userNs);
            mc.pidNsCache.free(ns);
            userNs.decUcount(ucounts, UserNs.UCOUNT_PID_NAMESPACES);
            userNs.putUserNs(owner);
            ns = parent;
        }
    }

    /**
     * {@code create_pid_namespace(user_ns, parent)}: a new namespace one level down, accepting pids,
     * owned by {@code owner} (a user namespace at or below the parent's, else -EINVAL) and counted in
     * its ucounts for {@code euid}; -ENOSPC beyond MAX_PID_NS_LEVEL or at the ucount maximum, -ENOMEM
     * without memory.
     */
    long createPidNamespace(long owner, long parentAddress, int euid) {
        int level = m.readInt(parentAddress + f.pidNs.level) + 1;
        if (!inUserns(m.readPointer(parentAddress + f.pidNs.userNs), owner)) {
            return Errno.EINVAL.negative();
        }
        if (level > MAX_PID_NS_LEVEL) {
            return Errno.ENOSPC.negative();
        }
        long ucounts = userNs.incUcount(owner, euid, UserNs.UCOUNT_PID_NAMESPACES);
        if (ucounts == 0) {
            return Errno.ENOSPC.negative();
        }
        long ns = mc.kmemCacheZalloc(mc.pidNsCache);
        if (ns == 0) {
            userNs.decUcount(ucounts, UserNs.UCOUNT_PID_NAMESPACES);
            return Errno.ENOMEM.negative();
        }
        idr.init(idrOf(ns));
        long inum = userNs.procAllocInum();
        if (inum < 0) {
            idr.destroy(idrOf(ns));
            mc.pidNsCache.free(ns);
            userNs.decUcount(ucounts, UserNs.UCOUNT_PID_NAMESPACES);
            return inum;
        }
        m.writeInt(ns + f.pidNs.ns + f.nsCommon.inum, (int) inum);
        m.writePointer(ns + f.pidNs.ns + f.nsCommon.ops, mc.symbol("pidns_operations"));
        userNs.getUserNs(owner);
        m.writePointer(ns + f.pidNs.userNs, owner);
        m.writePointer(ns + f.pidNs.ucounts, ucounts);
        m.writeInt(ns + f.pidNs.kref, 1);
        m.writeInt(ns + f.pidNs.level, level);
        getPidNs(parentAddress);
        m.writePointer(ns + f.pidNs.parent, parentAddress);
        m.writeInt(ns + f.pidNs.pidAllocated, PIDNS_ADDING);
        cacheFor(level);
        return ns;
    }

    /** {@code in_userns(ancestor, child)}: {@code child} is {@code ancestor} or below it. */
    private boolean inUserns(long ancestor, long child) {
        long ns = child;
        int level = m.readInt(ancestor + f.userNs.level);
        while (m.readInt(ns + f.userNs.level) > level) {
            ns = m.readPointer(ns + f.userNs.parent);
        }
        return ns == ancestor;
    }

    /** {@code disable_pid_allocation(ns)}: the namespace's init is gone; no new pids. */
    void disablePidAllocation(long ns) {
        m.writeInt(ns + f.pidNs.pidAllocated, m.readInt(ns + f.pidNs.pidAllocated) & ~PIDNS_ADDING);
    }

    /** {@code attach_pid(task, type)}: link the task into its pid's list of that type. */
    void attachPid(long task, int type) {
        long pid = taskPid(task, type);
        mc.lists.hlistAddHead(task + f.task.pidLinks + type * f.list.hnodeSize,
                pid + f.pid.tasks + (long) type * mc.platform.pointerSize());
    }

    /**
     * {@code change_pid(task, PIDTYPE_PID, pid)}: {@code __change_pid} unlinks the task from its own
     * pid (freed if no task uses it any more) and {@code attach_pid} links it to {@code pid}.
     */
    void changePid(long task, long pid) {
        long old = taskPid(task, PIDTYPE_PID);
        mc.lists.hlistDel(task + f.task.pidLinks);
        m.writePointer(task + f.task.threadPid, pid);
        boolean used = false;
        for (int t = 0; t < PIDTYPE_MAX; t++) {
            used |= mc.lists.hlistFirst(old + f.pid.tasks + (long) t * mc.platform.pointerSize()) != 0;
        }
        if (!used && old != mc.initStructPid) {
            freePid(old);
        }
        attachPid(task, PIDTYPE_PID);
    }

    /** {@code transfer_pid(old, new, type)}: {@code new} takes {@code old}'s place on the pid's list of that type. */
    void transferPid(long old, long task, int type) {
        if (type == PIDTYPE_PID) {
            m.writePointer(task + f.task.threadPid, m.readPointer(old + f.task.threadPid));
        }
        mc.lists.hlistReplace(old + f.task.pidLinks + type * f.list.hnodeSize, task + f.task.pidLinks + type * f.list.hnodeSize);
    }

    /** {@code detach_pid(task, type)}: unlink, and free the pid once no task of any type uses it. */
    void detachPid(long task, int type) {
        long pid = taskPid(task, type);
        mc.lists.hlistDel(task + f.task.pidLinks + type * f.list.hnodeSize);
        if (type == PIDTYPE_PID) {
            m.writePointer(task + f.task.threadPid, 0);
        } else {
            m.writePointer(m.readPointer(task + f.task.signal) + f.signal.pids + (long) type * mc.platform.pointerSize(), 0);
        }
        for (int t = 0; t < PIDTYPE_MAX; t++) {
            if (mc.lists.hlistFirst(pid + f.pid.tasks + (long) t * mc.platform.pointerSize()) != 0) {
                return;
            }
        }
        if (pid != mc.initStructPid) {
            freePid(pid);
        }
    }

    /** {@code task_pid_ptr}: thread_pid for PIDTYPE_PID, else {@code signal->pids[type]}. */
    long taskPid(long task, int type) {
        if (type == PIDTYPE_PID) {
            return m.readPointer(task + f.task.threadPid);
        }
        return m.readPointer(m.readPointer(task + f.task.signal) + f.signal.pids + (long) type * mc.platform.pointerSize());
    }

    /** {@code task_pid_nr_ns(task, ns)}: 0 if the task is not visible in {@code ns}. */
    int taskPidNrNs(long task, long ns) {
        return nrNs(m.readPointer(task + f.task.threadPid), ns);
    }

    /** {@code task_active_pid_ns(task)}. */
    long taskActivePidNs(long task) {
        long pid = m.readPointer(task + f.task.threadPid);
        return pid == 0 ? mc.initPidNs : nsOf(pid);
    }

    /** {@code find_pid_ns(nr, ns)}: the struct pid numbered {@code nr} in {@code ns} ({@code idr_find}), or 0. */
    long findPidNs(int nr, long ns) {
        return idr.find(idrOf(ns), nr);
    }

    /** {@code pid_task(pid, type)}: the first task on {@code pid->tasks[type]}, or 0 (also for a 0 pid). */
    long pidTask(long pid, int type) {
        if (pid == 0) {
            return 0;
        }
        long first = mc.lists.hlistFirst(pid + f.pid.tasks + (long) type * mc.platform.pointerSize());
        return first == 0 ? 0 : first - (f.task.pidLinks + (long) type * f.list.hnodeSize);
    }

    /** {@code find_task_by_pid_ns(nr, ns)}: the task numbered {@code nr} in {@code ns}, or 0. */
    long findTaskByPidNs(int nr, long ns) {
        return pidTask(findPidNs(nr, ns), PIDTYPE_PID);
    }

    /** {@code find_task_by_pid_ns(nr, &init_pid_ns)}: the task with this global pid, or 0. */
    long findTaskByVpid(int nr) {
        return findTaskByPidNs(nr, mc.initPidNs);
    }
}
