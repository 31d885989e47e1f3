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
 * allocated and freed again by a failed fork leaves {@code idr_next} advanced, as in the kernel.
 */
record KernelState(MemoryUsage usage, int nrThreads, long totalForks, List<Long> tasks, List<Integer> nrRunning,
        Map<String, byte[]> structs, Map<Long, List<Integer>> idrs) {

    /** Snapshots a kernel and the shared structures of {@code task}. */
    static KernelState of(Kernel k, long task) {
        Structs s = new Structs(k);
        Map<String, byte[]> structs = new LinkedHashMap<>();
        add(structs, s, "files", s.taskPtr(task, "files"), "files_struct");
        add(structs, s, "fs", s.taskPtr(task, "fs"), "fs_struct");
        add(structs, s, "sighand", s.taskPtr(task, "sighand"), "sighand_struct");
        long signal = s.taskPtr(task, "signal");
        add(structs, s, "signal", signal, "signal_struct");
        add(structs, s, "mm", s.taskPtr(task, "mm"), "mm_struct");
        add(structs, s, "active_mm", s.taskPtr(task, "active_mm"), "mm_struct");
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
        return new KernelState(k.memory().usage(), k.nrThreads(), k.totalForks(), KernelContract.taskAddresses(k),
                running, structs, idrs);
    }

    private static void add(Map<String, byte[]> structs, Structs s, String name, long address, String type) {
        if (address != 0) {
            structs.put(name + " (struct " + type + " @0x" + Long.toHexString(address) + ")", s.bytes(address, type));
        }
    }

    private static void addPidNs(Map<String, byte[]> structs, Structs s, String name, long ns) {
        byte[] bytes = s.bytes(ns, "pid_namespace");
        long cursor = s.offset("pid_namespace", "idr.idr_next");
        Arrays.fill(bytes, (int) cursor, (int) cursor + 4, (byte) 0);
        structs.put(name + " (struct pid_namespace @0x" + Long.toHexString(ns) + ", idr_next aside)", bytes);
    }

    /** Asserts {@code after} is exactly this state, naming the first differing member of a struct. */
    void assertUnchanged(Kernel k, KernelState after) {
        KernelContract.assertSameUsage(usage, after.usage);
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
