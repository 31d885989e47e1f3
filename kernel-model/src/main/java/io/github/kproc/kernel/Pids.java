package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.SlabCache;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code kernel/pid.c} and {@code kernel/pid_namespace.c}: {@code struct pid} with one {@code upid}
 * per namespace level, cyclic allocation in [1 or RESERVED_PIDS, pid_max), pid namespaces.
 *
 * <p>Each namespace's IDR is modelled by a bitmap of numbers in use (the radix tree nodes are
 * allocator internals); its cursor is kept in the namespace's {@code idr.idr_next} in the arena.
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

    /** What the kernel keeps beside a pid_namespace: its IDR's bitmap. */
    static final class Namespace {
        final long address;
        final int level;
        final @org.jspecify.annotations.Nullable Namespace parent;
        final long[] used;

        Namespace(long address, int level, @org.jspecify.annotations.Nullable Namespace parent, int pidMax) {
            this.address = address;
            this.level = level;
            this.parent = parent;
            this.used = new long[(pidMax + 63) / 64];
        }
    }

    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;
    private final int pidMax;
    private final List<Namespace> namespaces = new ArrayList<>();
    private final SlabCache[] pidCaches = new SlabCache[MAX_PID_NS_LEVEL + 1];

    Pids(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
        this.pidMax = mc.pidMax;
    }

    int pidMax() {
        return pidMax;
    }

    /** Registers a namespace already laid out in the arena (init_pid_ns at boot). */
    Namespace register(long address, int level, @org.jspecify.annotations.Nullable Namespace parent) {
        Namespace ns = new Namespace(address, level, parent, pidMax);
        namespaces.add(ns);
        return ns;
    }

    Namespace namespace(long address) {
        for (int i = namespaces.size() - 1; i >= 0; i--) {
            Namespace ns = namespaces.get(i);
            if (ns.address == address) {
                return ns;
            }
        }
        throw new IllegalStateException(String.format("0x%x is not a pid namespace", address));
    }

    int namespaceCount() {
        return namespaces.size();
    }

    /** The cache of struct pids with level + 1 upids: "pid" for init_pid_ns, "pid_N" ({@code create_pid_cachep}) below. */
    SlabCache cacheFor(int level) {
        SlabCache c = pidCaches[level];
        if (c == null) {
            long size = f.pidBaseSize + (long) level * f.upidSize;
            // init_pid_ns uses KMEM_CACHE(pid, SLAB_HWCACHE_ALIGN); create_pid_cachep() names the deeper ones pid_N
            c = mc.mem.createCache(level == 0 ? "pid" : "pid_" + (level + 1), size, 64);
            pidCaches[level] = c;
        }
        return c;
    }

    long numberAddress(long pid, int level) {
        return pid + f.pidNumbers + (long) level * f.upidSize;
    }

    int level(long pid) {
        return m.readInt(pid + f.pidLevel);
    }

    /** {@code pid_nr()}: the global number. */
    int nr(long pid) {
        return pid == 0 ? 0 : m.readInt(numberAddress(pid, 0) + f.upidNr);
    }

    /** {@code ns_of_pid()}: the namespace the pid was allocated in. */
    long nsOf(long pid) {
        return m.readPointer(numberAddress(pid, level(pid)) + f.upidNs);
    }

    /** {@code pid_nr_ns(pid, ns)}. */
    int nrNs(long pid, long ns) {
        if (pid == 0) {
            return 0;
        }
        int nsLevel = m.readInt(ns + f.pidNsLevel);
        if (nsLevel <= level(pid)) {
            long upid = numberAddress(pid, nsLevel);
            if (m.readPointer(upid + f.upidNs) == ns) {
                return m.readInt(upid + f.upidNr);
            }
        }
        return 0;
    }

    /** {@code is_child_reaper(pid)}: number 1 in its own namespace. */
    boolean isChildReaper(long pid) {
        return m.readInt(numberAddress(pid, level(pid)) + f.upidNr) == 1;
    }

    private int cursor(Namespace ns) {
        return m.readInt(ns.address + f.pidNsIdrNext);
    }

    private void cursor(Namespace ns, int value) {
        m.writeInt(ns.address + f.pidNsIdrNext, value);
    }

    private boolean used(Namespace ns, int nr) {
        return (ns.used[nr >>> 6] & (1L << nr)) != 0;
    }

    private void mark(Namespace ns, int nr, boolean value) {
        if (value) {
            ns.used[nr >>> 6] |= 1L << nr;
        } else {
            ns.used[nr >>> 6] &= ~(1L << nr);
        }
    }

    /** {@code idr_alloc_cyclic(idr, NULL, start, end)}: the next free number from the cursor, wrapping to start; -1 if full. */
    private int allocCyclic(Namespace ns, int start, int end) {
        int from = Math.max(cursor(ns), start);
        for (int nr = from; nr < end; nr++) {
            if (!used(ns, nr)) {
                return take(ns, nr);
            }
        }
        for (int nr = start; nr < from && nr < end; nr++) {
            if (!used(ns, nr)) {
                return take(ns, nr);
            }
        }
        return -1;
    }

    private int take(Namespace ns, int nr) {
        mark(ns, nr, true);
        cursor(ns, nr + 1);
        return nr;
    }

    /**
     * {@code alloc_pid(ns)}: a struct pid with a number in every namespace from {@code ns} up to the
     * root, or a negative errno (-ENOMEM, -EAGAIN when a namespace has no free number). On failure
     * nothing is left allocated.
     */
    long allocPid(long nsAddress) {
        Namespace ns = namespace(nsAddress);
        SlabCache cache = cacheFor(ns.level);
        long pid = mc.kmemCacheAlloc(cache);
        if (pid == 0) {
            return Errno.ENOMEM.negative();
        }
        m.writeInt(pid + f.pidLevel, ns.level);
        Namespace tmp = ns;
        int failedAt = -1;
        for (int i = ns.level; i >= 0; i--) {
            int pidMin = cursor(tmp) > RESERVED_PIDS ? RESERVED_PIDS : 1;
            int nr = allocCyclic(tmp, pidMin, pidMax);
            if (nr < 0) {
                failedAt = i;
                break;
            }
            long upid = numberAddress(pid, i);
            m.writeInt(upid + f.upidNr, nr);
            m.writePointer(upid + f.upidNs, tmp.address);
            tmp = tmp.parent;
        }
        if (failedAt < 0 && (m.readInt(ns.address + f.pidNsPidAllocated) & PIDNS_ADDING) == 0) {
            failedAt = -2;
        }
        if (failedAt != -1) {
            // out_free: give back the numbers taken at levels above the failing one
            for (int i = failedAt < 0 ? 0 : failedAt + 1; i <= ns.level; i++) {
                long upid = numberAddress(pid, i);
                mark(namespace(m.readPointer(upid + f.upidNs)), m.readInt(upid + f.upidNr), false);
            }
            if (m.readInt(ns.address + f.pidNsPidAllocated) == PIDNS_ADDING) {
                cursor(ns, 0);
            }
            cache.free(pid);
            return failedAt == -2 ? Errno.ENOMEM.negative() : Errno.EAGAIN.negative();
        }
        getPidNs(ns.address);
        m.writeInt(pid + f.pidCount, 1);
        for (int type = 0; type < PIDTYPE_MAX; type++) {
            mc.lists.hlistInitHead(pid + f.pidTasks + (long) type * mc.platform.pointerSize());
        }
        for (int i = ns.level; i >= 0; i--) {
            long upidNs = m.readPointer(numberAddress(pid, i) + f.upidNs);
            m.writeInt(upidNs + f.pidNsPidAllocated, m.readInt(upidNs + f.pidNsPidAllocated) + 1);
        }
        return pid;
    }

    /** {@code free_pid(pid)}: releases the numbers, then drops the reference the pid was born with. */
    void freePid(long pid) {
        int level = level(pid);
        for (int i = 0; i <= level; i++) {
            long upid = numberAddress(pid, i);
            long nsAddr = m.readPointer(upid + f.upidNs);
            m.writeInt(nsAddr + f.pidNsPidAllocated, m.readInt(nsAddr + f.pidNsPidAllocated) - 1);
            mark(namespace(nsAddr), m.readInt(upid + f.upidNr), false);
        }
        putPid(pid);
    }

    /** {@code get_pid()}. */
    void getPid(long pid) {
        if (pid != 0) {
            m.writeInt(pid + f.pidCount, m.readInt(pid + f.pidCount) + 1);
        }
    }

    /** {@code put_pid()}: frees the struct pid and drops its namespace when the last reference goes. */
    void putPid(long pid) {
        if (pid == 0) {
            return;
        }
        int count = m.readInt(pid + f.pidCount) - 1;
        m.writeInt(pid + f.pidCount, count);
        if (count == 0) {
            long ns = nsOf(pid);
            cacheFor(level(pid)).free(pid);
            putPidNs(ns);
        }
    }

    /** {@code get_pid_ns()}: kref++ (init_pid_ns is never freed). */
    void getPidNs(long ns) {
        m.writeInt(ns + f.pidNsKref, m.readInt(ns + f.pidNsKref) + 1);
    }

    /** {@code put_pid_ns()}: kref--, freeing the namespace (and dropping its parent) at zero. */
    void putPidNs(long nsAddress) {
        long ns = nsAddress;
        while (ns != 0) {
            int ref = m.readInt(ns + f.pidNsKref) - 1;
            m.writeInt(ns + f.pidNsKref, ref);
            if (ref != 0 || ns == mc.initPidNs) {
                return;
            }
            long parent = m.readPointer(ns + f.pidNsParent);
            Namespace gone = namespace(ns);
            namespaces.remove(gone);
            mc.pidNsCache.free(ns);
            ns = parent;
        }
    }

    /**
     * {@code create_pid_namespace(user_ns, parent)}: a new namespace one level down, accepting pids;
     * -ENOSPC beyond MAX_PID_NS_LEVEL, -ENOMEM without memory.
     */
    long createPidNamespace(long parentAddress) {
        Namespace parent = namespace(parentAddress);
        int level = parent.level + 1;
        if (level > MAX_PID_NS_LEVEL) {
            return Errno.ENOSPC.negative();
        }
        long ns = mc.kmemCacheZalloc(mc.pidNsCache);
        if (ns == 0) {
            return Errno.ENOMEM.negative();
        }
        m.writeInt(ns + f.pidNsKref, 1);
        m.writeInt(ns + f.pidNsLevel, level);
        getPidNs(parentAddress);
        m.writePointer(ns + f.pidNsParent, parentAddress);
        m.writeInt(ns + f.pidNsPidAllocated, PIDNS_ADDING);
        register(ns, level, parent);
        cacheFor(level);
        return ns;
    }

    /** {@code disable_pid_allocation(ns)}: the namespace's init is gone; no new pids. */
    void disablePidAllocation(long ns) {
        m.writeInt(ns + f.pidNsPidAllocated, m.readInt(ns + f.pidNsPidAllocated) & ~PIDNS_ADDING);
    }

    /** {@code attach_pid(task, type)}: link the task into its pid's list of that type. */
    void attachPid(long task, int type) {
        long pid = taskPid(task, type);
        mc.lists.hlistAddHead(task + f.taskPidLinks + type * f.hnodeSize,
                pid + f.pidTasks + (long) type * mc.platform.pointerSize());
    }

    /** {@code detach_pid(task, type)}: unlink, and free the pid once no task of any type uses it. */
    void detachPid(long task, int type) {
        long pid = taskPid(task, type);
        mc.lists.hlistDel(task + f.taskPidLinks + type * f.hnodeSize);
        if (type == PIDTYPE_PID) {
            m.writePointer(task + f.taskThreadPid, 0);
        } else {
            m.writePointer(m.readPointer(task + f.taskSignal) + f.signalPids + (long) type * mc.platform.pointerSize(), 0);
        }
        for (int t = 0; t < PIDTYPE_MAX; t++) {
            if (mc.lists.hlistFirst(pid + f.pidTasks + (long) t * mc.platform.pointerSize()) != 0) {
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
            return m.readPointer(task + f.taskThreadPid);
        }
        return m.readPointer(m.readPointer(task + f.taskSignal) + f.signalPids + (long) type * mc.platform.pointerSize());
    }

    /** {@code task_pid_nr_ns(task, ns)}: 0 if the task is not visible in {@code ns}. */
    int taskPidNrNs(long task, long ns) {
        return nrNs(m.readPointer(task + f.taskThreadPid), ns);
    }

    /** {@code task_active_pid_ns(task)}. */
    long taskActivePidNs(long task) {
        long pid = m.readPointer(task + f.taskThreadPid);
        return pid == 0 ? mc.initPidNs : nsOf(pid);
    }

    /** {@code find_task_by_pid_ns(nr, &init_pid_ns)}: the task with this global pid, or 0. */
    long findTaskByVpid(int nr) {
        if (nr <= 0) {
            return 0;
        }
        long head = mc.initTask + mc.o.taskTasks;
        for (long node = mc.lists.next(head); node != head; node = mc.lists.next(node)) {
            long leader = node - mc.o.taskTasks;
            if (m.readInt(leader + mc.o.taskPid) == nr) {
                return leader;
            }
            long group = leader + f.taskThreadGroup;
            for (long t = mc.lists.next(group); t != group; t = mc.lists.next(t)) {
                if (m.readInt(t - f.taskThreadGroup + mc.o.taskPid) == nr) {
                    return t - f.taskThreadGroup;
                }
            }
        }
        return 0;
    }
}
