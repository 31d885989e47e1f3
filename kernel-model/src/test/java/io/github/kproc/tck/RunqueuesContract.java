package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.arch.Platform;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Policy;
import io.github.kproc.layout.Pahole;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskStruct;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The runqueues as a debugger finds them: {@code per_cpu_ptr(&runqueues, cpu)} = {@code runqueues}
 * + {@code __per_cpu_offset[cpu]} (System.map symbols), each a {@code struct rq} at the profile's
 * layout (kernel/sched/sched.h) whose {@code cfs.tasks_timeline} is a red-black tree of
 * {@code se.run_node} (lib/rbtree.c) and whose {@code rt.active} is a priority array. Read from memory
 * only, the way crash's {@code runq} reads them.
 */
public abstract class RunqueuesContract extends KernelContract {
    private long at(String type, String path) {
        return platform().profile().offsetOf(type, path);
    }

    private long rq(Kernel k, int cpu) {
        AddressSpace m = k.addressSpace();
        return k.symbol("runqueues") + m.readPointer(k.symbol("__per_cpu_offset") + (long) cpu * m.pointerSize());
    }

    /** The tasks of a cfs_rq's timeline in order, by a bounded in-order walk of the rb_nodes. */
    private List<Long> timeline(Kernel k, long rq) {
        AddressSpace m = k.addressSpace();
        long root = rq + at("rq", "cfs") + at("cfs_rq", "tasks_timeline");
        List<Long> out = new ArrayList<>();
        walk(m, m.readPointer(root + at("rb_root_cached", "rb_root")), 0, out);
        long leftmost = m.readPointer(root + at("rb_root_cached", "rb_leftmost"));
        long runNode = at("task_struct", "se.run_node");
        assertEquals(out.isEmpty() ? 0 : out.get(0) + runNode, leftmost, "rb_leftmost caches the first node");
        return out;
    }

    private void walk(AddressSpace m, long node, int depth, List<Long> out) {
        if (node == 0) {
            return;
        }
        assertTrue(depth < 64, "the timeline is a tree, not a cycle");
        long mask = m.pointerSize() == 8 ? ~3L : 0xfffffffcL;
        long left = m.readPointer(node + at("rb_node", "rb_left"));
        long right = m.readPointer(node + at("rb_node", "rb_right"));
        for (long child : new long[] {left, right}) {
            if (child != 0) {
                assertEquals(node, m.readPointer(child + at("rb_node", "__rb_parent_color")) & mask, "parent pointer");
            }
        }
        walk(m, left, depth + 1, out);
        out.add(node - at("task_struct", "se.run_node"));
        walk(m, right, depth + 1, out);
    }

    /** The tasks on an rt_rq's priority lists, checking the bitmap against the lists. */
    private List<Long> rtQueued(Kernel k, long rq) {
        AddressSpace m = k.addressSpace();
        long array = rq + at("rq", "rt") + at("rt_rq", "active");
        long head = array + at("rt_prio_array", "queue");
        long listSize = platform().profile().sizeOf("list_head");
        int bits = 8 * m.pointerSize();
        List<Long> out = new ArrayList<>();
        for (int prio = 0; prio <= 100; prio++) {
            long word = m.readPointer(array + at("rt_prio_array", "bitmap") + (long) (prio / bits) * m.pointerSize());
            boolean set = (word & (1L << (prio % bits))) != 0;
            if (prio == 100) {
                assertTrue(set, "the MAX_RT_PRIO delimiter bit (init_rt_rq)");
                break;
            }
            long h = head + prio * listSize;
            int n = 0;
            for (long node = m.readPointer(h); node != h; node = m.readPointer(node)) {
                out.add(node - at("task_struct", "rt.run_list"));
                assertTrue(++n < 100_000, "a priority list closes");
            }
            assertEquals(n > 0, set, "bit " + prio + " is set exactly when its list is not empty");
        }
        return out;
    }

    private Kernel busy(int cpus, int children) {
        Kernel k = boot(cpus);
        k.cpu(0).run(Pid.INIT);
        for (int i = 0; i < children; i++) {
            k.cpu(0).fork();
        }
        return k;
    }

    @Test
    @DisplayName("sched_init: rq->cpu, curr, idle and nr_running of every CPU's runqueues, found through __per_cpu_offset")
    void runqueuesArePerCpuStructRq() {
        Kernel k = busy(4, 12);
        k.stepAll();
        AddressSpace m = k.addressSpace();
        for (int cpu = 0; cpu < 4; cpu++) {
            long rq = rq(k, cpu);
            assertEquals(cpu, m.readInt(rq + at("rq", "cpu")));
            assertEquals(k.cpu(cpu).current().address(), m.readPointer(rq + at("rq", "curr")));
            assertEquals(k.cpu(cpu).idleTask().address(), m.readPointer(rq + at("rq", "idle")));
            assertEquals(k.cpu(cpu).nrRunning(), m.readInt(rq + at("rq", "nr_running")));
            assertEquals(k.cpu(cpu).nrSwitches(), m.readLong(rq + at("rq", "nr_switches")));
            assertEquals(k.cpu(cpu).minVruntime(), m.readLong(rq + at("rq", "cfs") + at("cfs_rq", "min_vruntime")));
        }
    }

    @Test
    @DisplayName("enqueue_entity/__enqueue_entity, enqueue_rt_entity: every queued task is in exactly one runqueue's tree or list, in order")
    void everyRunnableTaskIsQueuedOnce() {
        Kernel k = busy(2, 16);
        List<Long> tasks = taskAddresses(k);
        k.setScheduler(Pid.of(k.pidNr(tasks.get(tasks.size() - 1), k.initPidNamespace())), Policy.FIFO, 10);
        k.setScheduler(Pid.of(k.pidNr(tasks.get(tasks.size() - 2), k.initPidNamespace())), Policy.RR, 30);
        k.stepAll();
        AddressSpace m = k.addressSpace();
        long vruntime = at("task_struct", "se.vruntime");
        Set<Long> seen = new HashSet<>();
        int queued = 0;
        for (int cpu = 0; cpu < 2; cpu++) {
            long rq = rq(k, cpu);
            List<Long> fair = timeline(k, rq);
            for (int i = 1; i < fair.size(); i++) {
                assertTrue(m.readLong(fair.get(i - 1) + vruntime) - m.readLong(fair.get(i) + vruntime) <= 0,
                        "the timeline is ordered by vruntime (entity_before)");
            }
            List<Long> rt = rtQueued(k, rq);
            for (long t : fair) {
                assertTrue(seen.add(t), "queued once");
            }
            for (long t : rt) {
                assertTrue(seen.add(t), "queued once");
            }
            queued += fair.size() + rt.size();
            int fairOnCpu = fair.size() + (isFair(k, k.cpu(cpu).current().address()) ? 1 : 0);
            assertEquals(fairOnCpu, m.readInt(rq + at("rq", "cfs") + at("cfs_rq", "nr_running")),
                    "cfs_rq->nr_running counts the queued and the running fair entity");
            assertEquals(new HashSet<>(k.cpu(cpu).queued().stream().map(TaskStruct::address).toList()),
                    new HashSet<>(concat(fair, rt)));
        }
        long state = at("task_struct", "state");
        long onRq = at("task_struct", "on_rq");
        int runnable = 0;
        for (long t : taskAddresses(k)) {
            boolean running = false;
            for (int cpu = 0; cpu < 2; cpu++) {
                running |= k.cpu(cpu).current().address() == t;
            }
            boolean idle = (m.readInt(t + at("task_struct", "flags")) & 0x2) != 0;
            if (!running && !idle && m.readPointer(t + state) == 0 && m.readInt(t + onRq) == 1) {
                runnable++;
                assertTrue(seen.contains(t), "a runnable task is on a runqueue");
            }
        }
        assertEquals(runnable, queued);
    }

    private boolean isFair(Kernel k, long task) {
        return k.addressSpace().readPointer(task + at("task_struct", "sched_class")) == k.symbol("fair_sched_class");
    }

    private static List<Long> concat(List<Long> a, List<Long> b) {
        List<Long> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @Test
    @DisplayName("A profile without kernel/sched/sched.h's struct rq loads, and booting on it names the missing struct")
    void bootWithoutRqFailsClearly() throws Exception {
        Profile full = platform().profile();
        String config = full.config().asMap().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n", "", "\n"));
        Profile forkOnly = Profile.parse("fork-only", Pahole.print(full, 0), config);
        assertTrue(forkOnly.find("rq").isEmpty());
        Platform platform = platform().architecture().bind(forkOnly);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Kernel.builder(platform).cpus(1).memory(64L << 20).boot());
        assertTrue(e.getMessage().contains("struct rq"), e.getMessage());
    }

    @Test
    @DisplayName("Kernel.symbol: the System.map names a reader starts from, and the globals fork counts in")
    void symbols() {
        Kernel k = boot(2);
        assertEquals(k.initTask(), k.symbol("init_task"));
        assertEquals(k.initPidNamespace(), k.symbol("init_pid_ns"));
        for (String name : List.of("init_struct_pid", "init_mm", "__per_cpu_offset", "runqueues", "nr_threads",
                "total_forks", "max_threads", "pid_max")) {
            assertTrue(k.addressSpace().contains(k.symbol(name), 4), name + " is kernel memory");
        }
        AddressSpace m = k.addressSpace();
        assertEquals(k.nrThreads(), m.readInt(k.symbol("nr_threads")));
        assertEquals(k.totalForks(), m.readPointer(k.symbol("total_forks")));
        assertEquals(k.maxThreads(), m.readInt(k.symbol("max_threads")));
        assertEquals(k.pidMax(), m.readInt(k.symbol("pid_max")));
        Map<Integer, Long> rqs = new java.util.HashMap<>();
        for (int cpu = 0; cpu < 2; cpu++) {
            rqs.put(cpu, rq(k, cpu));
        }
        assertTrue(rqs.get(0) != rqs.get(1).longValue(), "each CPU has its own struct rq");
    }
}
