package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.Cpu;
import io.github.kproc.kernel.ForkStep;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.MemoryState;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.KernelSnapshot;
import io.github.kproc.testkit.Violation;
import io.github.kproc.testkit.Violation.Rule;
import io.github.kproc.testkit.Workload;
import io.github.kproc.view.TaskStruct;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The public test kit on this backend: the invariants hold on a healthy kernel and catch each kind
 * of corruption (a cyclic list without hanging), snapshots see a failed fork change nothing, leak
 * checks count lazy-TLB mm references right, and memory classification tells objects from pages.
 */
public abstract class TestKitContract extends KernelContract {
    private long off(String type, String path) {
        return platform().profile().offsetOf(type, path);
    }

    private Kernel busy() {
        Kernel k = boot(2);
        Cpu cpu0 = k.cpu(0);
        cpu0.run(Pid.INIT);
        for (int i = 0; i < 4; i++) {
            cpu0.as(Pid.INIT).fork();
        }
        cpu0.as(Pid.INIT).clone(CloneArgs.thread());
        k.stepAll();
        return k;
    }

    private static boolean has(List<Violation> found, Rule rule) {
        return found.stream().anyMatch(v -> v.rule() == rule);
    }

    @Test
    @DisplayName("A booted kernel and one after forks and a thread break no invariant")
    void healthyKernelHolds() {
        assertEquals(List.of(), KernelInvariants.of(boot(2)).check());
        assertEquals(List.of(), KernelInvariants.of(busy()).check());
    }

    @Test
    @DisplayName("idr_find through a two-level IDR: with pids past 63 the radix tree grows a level and the invariants"
            + " still find every pid (radix_tree_extend)")
    void pidsPastOneRadixNode() {
        Kernel k = boot(b -> b.cpus(1).memory(64L << 20));
        k.cpu(0).run(Pid.INIT);
        Pid last = Pid.INIT;
        for (int i = 0; i < 200; i++) {
            last = k.cpu(0).as(Pid.INIT).fork();
        }
        assertTrue(last.nr() > 200, "pids reach " + last);
        assertEquals(List.of(), KernelInvariants.of(k).check());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    @DisplayName("Workload.generate: any seeded workload leaves every invariant holding")
    void workloadsKeepInvariants(long seed) {
        Kernel k = boot(b -> b.cpus(3).memory(64L << 20));
        KernelInvariants invariants = KernelInvariants.of(k);
        for (Workload.Op op : Workload.generate(seed, 150).ops()) {
            Workload.apply(k, op);
            List<Violation> found = invariants.check();
            assertEquals(List.of(), found, "after " + op);
        }
    }

    @Test
    @DisplayName("Workload: setresuid, PR_SET_CHILD_SUBREAPER, the build's namespaces and signals to unkillable inits act, then every task is reaped without a leak")
    void workloadUidsSubreapersNamespacesAndUnkillableSignals() {
        Kernel k = boot(b -> b.cpus(3).memory(64L << 20));
        k.cpu(0).run(Pid.INIT);
        KernelSnapshot atBoot = KernelSnapshot.take(k);
        List<Workload.Op> ops = new java.util.ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ops.add(new Workload.Op(Workload.Kind.FORK, 0, i, 0));
            ops.add(new Workload.Op(Workload.Kind.NAMESPACE, i % 3, i, i));
            ops.add(new Workload.Op(Workload.Kind.SETUID, i % 3, i, 1 + i % 3));
            ops.add(new Workload.Op(Workload.Kind.SUBREAPER, i % 3, i, i));
            ops.add(new Workload.Op(Workload.Kind.FORK, i % 3, i + 1, 0));
            ops.add(new Workload.Op(Workload.Kind.KILL_UNKILLABLE, 0, i, i % 2 == 0 ? 15 : 9));
            ops.add(new Workload.Op(Workload.Kind.EXIT, i % 3, i, 0));
        }
        for (Workload.Op op : ops) {
            Workload.Outcome out = Workload.apply(k, op);
            if (op.kind() == Workload.Kind.NAMESPACE && out.actor() == 1) {
                assertEquals(null, out.errno(), "init may create every namespace its build has: " + out);
            }
            if (op.kind() == Workload.Kind.SETUID && out.actor() != 0 && out.errno() != null) {
                assertEquals(Errno.EPERM, out.errno(), "only a change away from the user's own uid fails: " + out);
            }
            assertEquals(List.of(), KernelInvariants.of(k).check(), "after " + op);
        }
        assertTrue(ops.stream().map(op -> op.kind()).distinct().count() >= 6);
        Workload.reapAll(k, 200);
        assertEquals(List.of(), KernelInvariants.of(k).check());
        assertEquals(Map.of(), atBoot.leaksSince(k), "user_structs, creds, namespaces all freed");
    }

    @Test
    @DisplayName("KernelInvariants: a pid namespace's kref off by one (a lost put_pid_ns) is a REFCOUNT violation, with or without CONFIG_PID_NS")
    void pidNamespaceKrefIsChecked() {
        Kernel k = boot(b -> b.cpus(2).memory(64L << 20));
        k.cpu(0).run(Pid.INIT);
        long ns = k.initPidNamespace();
        if (built("CONFIG_PID_NS")) {
            int pid = k.cpu(0).clone(CloneArgs.of(io.github.kproc.kernel.CloneFlag.NEWPID)).nr();
            ns = k.taskActivePidNs(k.task(Pid.of(pid)).orElseThrow().address());
        }
        assertEquals(List.of(), KernelInvariants.of(k).check());
        long kref = ns + off("pid_namespace", "kref");
        k.addressSpace().writeInt(kref, k.addressSpace().readInt(kref) + 1);
        List<Violation> found = KernelInvariants.of(k).check();
        assertTrue(has(found, Rule.REFCOUNT) && found.toString().contains("pid_namespace.kref"), found.toString());
    }

    @Test
    @DisplayName("A cyclic task list is a LIST_CLOSES violation, not a hang")
    void cyclicListDoesNotHang() {
        Kernel k = busy();
        long child = k.task(Pid.of(3)).orElseThrow().address();
        long node = child + off("task_struct", "tasks");
        k.addressSpace().writePointer(node, node);
        List<Violation> found = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> KernelInvariants.of(k).check());
        assertTrue(has(found, Rule.LIST_CLOSES), found.toString());
    }

    @Test
    @DisplayName("set_task_stack_end_magic: an overwritten STACK_END_MAGIC is a STACK violation")
    void stackEndMagic() {
        Kernel k = busy();
        TaskStruct t = k.task(Pid.of(3)).orElseThrow();
        k.addressSpace().writePointer(platform().endOfStack(k.addressSpace(), t.address()), 0);
        assertTrue(has(KernelInvariants.of(k).check(), Rule.STACK));
    }

    @Test
    @DisplayName("attach_entity_load_avg: a task's util counted twice in its cfs_rq (the boot double attach the clock at 0 caused) is a PELT violation")
    void peltDoubleAttach() {
        Kernel k = busy();
        assertEquals(List.of(), KernelInvariants.of(k).check());
        TaskStruct t = k.task(Pid.of(3)).orElseThrow();
        Structs s = structs(k);
        long seUtil = s.get(t.address() + off("task_struct", "se.avg"), "sched_avg", "util_avg");
        long sa = new Debugger(k).rq(t.cpu()) + off("rq", "cfs") + off("cfs_rq", "avg");
        assertTrue(seUtil > 20, "a util worth checking: " + seUtil);
        s.set(sa, "sched_avg", "util_avg", s.get(sa, "sched_avg", "util_avg") + seUtil);
        assertTrue(has(KernelInvariants.of(k).check(), Rule.PELT));
    }

    @Test
    @DisplayName("alloc_pid/attach_pid: a task whose pid disagrees with its struct pid is a PID violation")
    void pidMismatch() {
        Kernel k = busy();
        long t = k.task(Pid.of(3)).orElseThrow().address();
        k.addressSpace().writeInt(t + off("task_struct", "pid"), 4000);
        assertTrue(has(KernelInvariants.of(k).check(), Rule.PID));
    }

    @Test
    @DisplayName("copy_files: a files_struct count off by one is a REFCOUNT violation")
    void refcount() {
        Kernel k = busy();
        long t = k.task(Pid.of(3)).orElseThrow().address();
        AddressSpace m = k.addressSpace();
        long files = m.readPointer(t + off("task_struct", "files"));
        m.writeInt(files + off("files_struct", "count"), m.readInt(files + off("files_struct", "count")) + 1);
        assertTrue(has(KernelInvariants.of(k).check(), Rule.REFCOUNT));
    }

    @Test
    @DisplayName("copy_process: a child on a stranger's children list is a FAMILY violation")
    void family() {
        Kernel k = busy();
        long t = k.task(Pid.of(3)).orElseThrow().address();
        k.addressSpace().writePointer(t + off("task_struct", "real_parent"), k.task(Pid.KTHREADD).orElseThrow().address());
        assertTrue(has(KernelInvariants.of(k).check(), Rule.FAMILY));
    }

    @Test
    @DisplayName("copy_process with CLONE_THREAD: a thread with another tgid is a THREAD_GROUP violation")
    void threadGroup() {
        Kernel k = busy();
        long thread = k.tasks().stream().filter(t -> !t.isGroupLeader()).findFirst().orElseThrow().address();
        k.addressSpace().writeInt(thread + off("task_struct", "tgid"), 3999);
        assertTrue(has(KernelInvariants.of(k).check(), Rule.THREAD_GROUP));
    }

    @Test
    @DisplayName("enqueue_task: rq->nr_running off by one, or a red root of the timeline, is a RUNQUEUE violation")
    void runqueue() {
        Kernel k = busy();
        AddressSpace m = k.addressSpace();
        long rq = k.symbol("runqueues") + m.readPointer(k.symbol("__per_cpu_offset"));
        long nr = rq + off("rq", "nr_running");
        m.writeInt(nr, m.readInt(nr) + 1);
        assertTrue(has(KernelInvariants.of(k).check(), Rule.RUNQUEUE));
        m.writeInt(nr, m.readInt(nr) - 1);
        assertEquals(List.of(), KernelInvariants.of(k).check());
        long root = rq + off("rq", "cfs") + off("cfs_rq", "tasks_timeline");
        long top = m.readPointer(root);
        assertTrue(top != 0, "forked children are queued");
        long pc = top + off("rb_node", "__rb_parent_color");
        m.writePointer(pc, m.readPointer(pc) & ~1L);
        assertTrue(has(KernelInvariants.of(k).check(), Rule.RUNQUEUE));
    }

    @Test
    @DisplayName("context_switch: current with on_cpu clear is a CURRENT violation")
    void current() {
        Kernel k = busy();
        long cur = k.cpu(0).current().address();
        k.addressSpace().writeInt(cur + off("task_struct", "on_cpu"), 0);
        assertTrue(has(KernelInvariants.of(k).check(), Rule.CURRENT));
    }

    @Test
    @DisplayName("release_task: an EXIT_DEAD task still on the list is an EXIT_STATE violation")
    void exitState() {
        Kernel k = busy();
        long t = k.task(Pid.of(3)).orElseThrow().address();
        k.addressSpace().writeInt(t + off("task_struct", "exit_state"), EXIT_DEAD);
        assertTrue(has(KernelInvariants.of(k).check(), Rule.EXIT_STATE));
    }

    @Test
    @DisplayName("copy_process: a thread linked on init_task.tasks as if it led a group is a TASK_LIST violation")
    void threadOnTheTaskList() {
        Kernel k = busy();
        long thread = k.tasks().stream().filter(t -> !t.isGroupLeader()).findFirst().orElseThrow().address();
        long leader = k.task(thread).groupLeader();
        AddressSpace m = k.addressSpace();
        long tasks = off("task_struct", "tasks");
        // splice the thread's tasks node into the ring right after its leader's (list_add)
        long next = m.readPointer(leader + tasks);
        m.writePointer(thread + tasks, next);
        m.writePointer(thread + tasks + m.pointerSize(), leader + tasks);
        m.writePointer(next + m.pointerSize(), thread + tasks);
        m.writePointer(leader + tasks, thread + tasks);
        assertTrue(has(KernelInvariants.of(k).check(), Rule.TASK_LIST));
    }

    @Test
    @DisplayName("schedule_debug/sched_fork: a task off the CPU with a preempt_count other than FORK_PREEMPT_COUNT is a"
            + " PREEMPT_COUNT violation (CONFIG_PREEMPT_COUNT builds)")
    void preemptCountOffTheCpu() {
        org.junit.jupiter.api.Assumptions.assumeTrue(platform().preemptCountEnabled(),
                "without CONFIG_PREEMPT_COUNT the count is not kept");
        Kernel k = busy();
        TaskStruct queued = java.util.stream.IntStream.range(0, k.cpus()).mapToObj(c -> k.cpu(c).queued())
                .flatMap(List::stream).findFirst().orElseThrow();
        long ti = platform().taskThreadInfo(k.addressSpace(), queued.address());
        k.addressSpace().writeInt(ti + platform().offsets().tiPreemptCount, 5);
        assertTrue(has(KernelInvariants.of(k).check(), Rule.PREEMPT_COUNT));
    }

    @Test
    @DisplayName("KernelSnapshot: a fork failing at any step leaves no difference; a successful one does")
    void snapshotOfFailedFork() {
        Kernel k = busy();
        for (ForkStep step : ForkStep.values()) {
            KernelSnapshot before = KernelSnapshot.take(k);
            k.faults().failStep(step, Errno.ENOMEM, 1);
            KernelException e = assertThrows(KernelException.class, () -> k.cpu(0).as(Pid.INIT).fork());
            k.faults().clear();
            assertEquals(List.of(), before.differences(KernelSnapshot.take(k)), step + " failed with " + e.errno());
        }
        KernelSnapshot before = KernelSnapshot.take(k);
        k.cpu(0).as(Pid.INIT).fork();
        assertFalse(before.differences(KernelSnapshot.take(k)).isEmpty());
    }

    @Test
    @DisplayName("leaksSince: a reaped child leaks nothing, even while a lazy-TLB task still holds its mm_struct")
    void leaksAccountForLazyTlb() {
        Kernel k = boot(2);
        Cpu cpu0 = k.cpu(0);
        cpu0.run(Pid.INIT);
        KernelSnapshot before = KernelSnapshot.take(k);
        Pid child = cpu0.as(Pid.INIT).fork();
        Cpu cpu1 = k.cpu(1);
        cpu1.run(child);
        cpu1.as(child).exit(0);
        assertTrue(cpu1.current().isIdle(), "CPU 1 goes idle, borrowing the dead child's mm (context_switch)");
        assertTrue(cpu0.as(Pid.INIT).wait4(child));
        assertEquals(1L, before.leaksSince(k).get("task_struct"),
                "release_task: the task_struct waits for a grace period (call_rcu, delayed_put_task_struct)");
        assertEquals(1, Workload.pendingRcuCallbacks(k));
        Workload.passGracePeriods(k, 16);
        assertTrue(cpu1.current().isIdle(), "ticks on an idle CPU with nothing queued leave it idle");
        assertEquals(Map.of(), before.leaksSince(k));
        Pid zombie = cpu0.as(Pid.INIT).fork();
        cpu1.run(zombie);
        cpu1.as(zombie).exit(0);
        Map<String, Long> leaks = before.leaksSince(k);
        assertEquals(1L, leaks.get("task_struct"), "an unreaped zombie keeps its task_struct: " + leaks);
    }

    @Test
    @DisplayName("KernelMemory.classify: a live task_struct, its freed slot after reap, and free pages")
    void classify() {
        Kernel k = boot(2);
        Cpu cpu0 = k.cpu(0);
        cpu0.run(Pid.INIT);
        Pid child = cpu0.as(Pid.INIT).fork();
        long t = k.task(child).orElseThrow().address();
        MemoryState live = k.memory().classify(t + 8);
        assertEquals(MemoryState.Kind.LIVE_OBJECT, live.kind());
        assertEquals("task_struct", live.cache());
        assertEquals(t, live.start());
        k.cpu(1).run(child);
        k.cpu(1).as(child).exit(0);
        cpu0.as(Pid.INIT).wait4(child);
        assertEquals(MemoryState.Kind.LIVE_OBJECT, k.memory().classify(t).kind(),
                "reaped, its task_struct waits for delayed_put_task_struct after a grace period");
        Workload.passGracePeriods(k, 16);
        MemoryState freed = k.memory().classify(t);
        assertTrue(freed.kind() == MemoryState.Kind.FREE_OBJECT || freed.kind() == MemoryState.Kind.FREE_PAGES,
                freed.toString());
        long lastPage = k.memory().map().linearBase() + k.memory().map().linearSize() - platform().pageSize();
        assertEquals(MemoryState.Kind.FREE_PAGES, k.memory().classify(lastPage).kind());
    }
}
