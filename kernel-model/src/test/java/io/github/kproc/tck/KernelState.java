package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.layout.Member;
import io.github.kproc.mem.MemoryUsage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What "the model is exactly as before" means for a failed fork: the same memory accounting (after
 * shrinking the caches), nr_threads, total_forks, task list and runqueue lengths, and byte-identical
 * shared structures of the caller: files, fs, sighand, signal, mm, nsproxy, creds and user, its
 * struct pids and pid namespaces, and the numbers in those namespaces' IDRs (read from the radix
 * tree with {@code idr_get_next}). The one exception is the pid namespace's IDR cursor: a pid
 * allocated and freed again by a failed fork leaves {@code idr_next} advanced, as in the kernel. The
 * other is the caller's {@code sysvsem.undo_list}: a CLONE_SYSVSEM fork that fails after
 * {@code copy_semundo} leaves the list {@code get_undo_list} gave the caller (count 1), as 4.19 does.
 * And with CONFIG_NUMA_BALANCING the caller's mm's {@code numa_next_scan} and {@code numa_scan_seq}:
 * {@code __sched_fork}'s {@code init_numa_balancing} runs before {@code copy_mm}, on the parent's mm,
 * and restarts its scan when it has one user, whether or not the fork then fails.
 */
record KernelState(MemoryUsage usage, int nrThreads, long totalForks, List<Long> tasks, List<Integer> nrRunning,
        Map<String, byte[]> structs, Map<Long, List<Integer>> idrs, long undoList, String undoCache) {

    /** Snapshots a kernel and the shared structures of {@code task}. */
    static KernelState of(Kernel k, long task) {
        Structs s = new Structs(k);
        Map<String, byte[]> structs = new LinkedHashMap<>();
        add(structs, s, "files", s.taskPtr(task, "files"), "files_struct");
        add(structs, s, "fs", s.taskPtr(task, "fs"), "fs_struct");
        add(structs, s, "sighand", s.taskPtr(task, "sighand"), "sighand_struct");
        long signal = s.taskPtr(task, "signal");
        add(structs, s, "signal", signal, "signal_struct");
        addMm(k, structs, s, "mm", s.taskPtr(task, "mm"));
        addMm(k, structs, s, "active_mm", s.taskPtr(task, "active_mm"));
        long nsproxy = s.taskPtr(task, "nsproxy");
        add(structs, s, "nsproxy", nsproxy, "nsproxy");
        long cred = s.taskPtr(task, "cred");
        add(structs, s, "cred", cred, "cred");
        add(structs, s, "real_cred", s.taskPtr(task, "real_cred"), "cred");
        add(structs, s, "user", s.ptr(cred, "cred", "user"), "user_struct");
        long pid = s.taskPtr(task, "thread_pid");
        add(structs, s, "thread_pid", pid, "pid");
        for (int type = 1; type < 4; type++) {
            long p = s.memory().readPointer(signal + s.offset("signal_struct", "pids") + (long) type * s.memory().pointerSize());
            add(structs, s, "signal->pids[" + type + "]", p, "pid");
        }
        addPidNs(structs, s, "active pid_ns", k.taskActivePidNs(task));
        Map<Long, List<Integer>> idrs = new LinkedHashMap<>();
        for (long ns = k.taskActivePidNs(task); ns != 0; ns = s.ptr(ns, "pid_namespace", "parent")) {
            idrs.put(ns, new Debugger(k).idrNumbers(ns));
        }
        if (nsproxy != 0) {
            long forChildren = s.ptr(nsproxy, "nsproxy", "pid_ns_for_children");
            addPidNs(structs, s, "pid_ns_for_children", forChildren);
            for (long ns = forChildren; ns != 0 && !idrs.containsKey(ns); ns = s.ptr(ns, "pid_namespace", "parent")) {
                idrs.put(ns, new Debugger(k).idrNumbers(ns));
            }
        }
        List<Integer> running = new ArrayList<>();
        for (int cpu = 0; cpu < k.cpus(); cpu++) {
            running.add(k.cpu(cpu).nrRunning());
        }
        k.memory().shrinkCaches();
        long undoList = k.platform().profile().has("task_struct", "sysvsem.undo_list") ? s.taskPtr(task, "sysvsem.undo_list") : 0;
        return new KernelState(k.memory().usage(), k.nrThreads(), k.totalForks(), KernelContract.taskAddresses(k),
                running, structs, idrs, undoList, kmallocName(k, s));
    }

    /**
     * {@code u} without the {@code sem_undo_list}s live tasks hold: a task that once made a
     * CLONE_SYSVSEM thread keeps its list until it exits ({@code exit_sem}), as init does for good.
     */
    static MemoryUsage withoutUndoLists(Kernel k, MemoryUsage u) {
        var p = k.platform().profile();
        if (!p.has("task_struct", "sysvsem.undo_list")) {
            return u;
        }
        Structs s = new Structs(k);
        java.util.Set<Long> lists = new java.util.HashSet<>();
        for (long t : KernelContract.taskAddresses(k)) {
            long list = s.taskPtr(t, "sysvsem.undo_list");
            if (list != 0) {
                lists.add(list);
            }
        }
        if (lists.isEmpty()) {
            return u;
        }
        Map<String, Long> objects = new java.util.HashMap<>(u.objectsInUse());
        objects.merge(kmallocName(k, s), (long) -lists.size(), Long::sum);
        // and the slab pages only they keep (with VMAP_STACK the stacks' vmap_areas share kmalloc-128,
        // so a list can land in a slab of short-lived areas and alone keep it after they are freed)
        long pages = 0;
        for (long list : lists) {
            pages += slabPagesHeldBy(k, list);
        }
        return new MemoryUsage(u.freePages() + pages, u.freeVmallocSlots(), objects);
    }

    /** The pages of the slab holding {@code object} if it is the slab's only live object, else 0. */
    private static long slabPagesHeldBy(Kernel k, long object) {
        var state = k.memory().classify(object);
        var cache = k.memory().caches().stream().filter(c -> c.name().equals(state.cache())).findFirst().orElse(null);
        if (cache == null) {
            return 0;
        }
        long slabBytes = (long) k.platform().pageSize() << cache.order();
        long base = object & -slabBytes;
        for (int i = 0; i < cache.objectsPerSlab(); i++) {
            long o = base + i * cache.size();
            if (o != state.start() && k.memory().classify(o).kind() == io.github.kproc.mem.MemoryState.Kind.LIVE_OBJECT) {
                return 0;
            }
        }
        return 1L << cache.order();
    }

    /** The kmalloc cache of a {@code struct sem_undo_list} (KMALLOC_MIN_SIZE 128 on arm64, 64 on ARM32). */
    private static String kmallocName(Kernel k, Structs s) {
        if (!k.platform().profile().has("sem_undo_list", "refcnt")) {
            return "";
        }
        long size = k.platform().profile().sizeOf("sem_undo_list");
        int min = k.platform().pointerSize() == 8 ? 128 : 64;
        long n = min;
        while (n < size) {
            n = n == 128 && min <= 64 && size <= 192 ? 192 : n * 2;
        }
        return "kmalloc-" + n;
    }

    private static void add(Map<String, byte[]> structs, Structs s, String name, long address, String type) {
        if (address != 0) {
            structs.put(name + " (struct " + type + " @0x" + Long.toHexString(address) + ")", s.bytes(address, type));
        }
    }

    private static void addMm(Kernel k, Map<String, byte[]> structs, Structs s, String name, long mm) {
        if (mm == 0) {
            return;
        }
        byte[] bytes = s.bytes(mm, "mm_struct");
        var p = k.platform().profile();
        String aside = "";
        if (p.config().enabled("CONFIG_NUMA_BALANCING") && p.has("mm_struct", "numa_next_scan")) {
            for (String member : new String[] {"numa_next_scan", "numa_scan_seq"}) {
                var f = p.field("mm_struct", member);
                Arrays.fill(bytes, (int) f.offset(), (int) (f.offset() + f.size()), (byte) 0);
            }
            aside = ", numa_next_scan and numa_scan_seq aside";
        }
        structs.put(name + " (struct mm_struct @0x" + Long.toHexString(mm) + aside + ")", bytes);
    }

    private static void addPidNs(Map<String, byte[]> structs, Structs s, String name, long ns) {
        byte[] bytes = s.bytes(ns, "pid_namespace");
        long cursor = s.offset("pid_namespace", "idr.idr_next");
        Arrays.fill(bytes, (int) cursor, (int) cursor + 4, (byte) 0);
        structs.put(name + " (struct pid_namespace @0x" + Long.toHexString(ns) + ", idr_next aside)", bytes);
    }

    /** Asserts {@code after} is exactly this state, naming the first differing member of a struct. */
    void assertUnchanged(Kernel k, KernelState after) {
        MemoryUsage afterUsage = after.usage;
        if (undoList == 0 && after.undoList != 0) {
            // get_undo_list's list stays with the caller
            Map<String, Long> objects = new java.util.HashMap<>(afterUsage.objectsInUse());
            objects.merge(undoCache, -1L, Long::sum);
            // and the slab page it alone keeps (the failed fork's vmap_area and vm_struct came first)
            afterUsage = new MemoryUsage(afterUsage.freePages() + slabPagesHeldBy(k, after.undoList),
                    afterUsage.freeVmallocSlots(), objects);
        }
        KernelContract.assertSameUsage(usage, afterUsage);
        assertEquals(nrThreads, after.nrThreads, "nr_threads");
        assertEquals(totalForks, after.totalForks, "total_forks");
        assertEquals(tasks, after.tasks, "the task list");
        assertEquals(nrRunning, after.nrRunning, "rq->nr_running per CPU");
        assertEquals(idrs, after.idrs, "the numbers in the IDR of each pid namespace of the caller (idr_get_next)");
        assertEquals(structs.keySet(), after.structs.keySet(), "the caller's structures");
        for (Map.Entry<String, byte[]> e : structs.entrySet()) {
            byte[] now = after.structs.get(e.getKey());
            int at = Arrays.mismatch(e.getValue(), now);
            if (at >= 0) {
                String type = e.getKey().replaceAll(".*\\(struct (\\S+) .*", "$1");
                fail(e.getKey() + " changed at byte " + at + " (" + memberAt(k, type, at) + ")");
            }
        }
    }

    private static String memberAt(Kernel k, String type, long offset) {
        StringBuilder path = new StringBuilder(type);
        List<Member> members = k.platform().profile().struct(type).members();
        long base = 0;
        outer:
        while (members != null && !members.isEmpty()) {
            for (Member m : members) {
                if (offset >= base + m.offset() && offset < base + m.offset() + Math.max(m.size(), 1)) {
                    path.append('.').append(m.name() == null ? "<anon>" : m.name());
                    base += m.offset();
                    members = m.members();
                    continue outer;
                }
            }
            break;
        }
        return path.toString();
    }
}
