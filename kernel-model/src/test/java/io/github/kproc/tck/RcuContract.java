package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.layout.Pahole;
import io.github.kproc.layout.Profile;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Tracer;
import io.github.kproc.mem.MemoryState;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.Violation;
import io.github.kproc.testkit.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Release through RCU ({@code kernel/rcu/tree.c}, {@code rcu_segcblist.c}, {@code kernel/exit.c}):
 * {@code release_task} ends with {@code call_rcu(&p->rcu, delayed_put_task_struct)}; the callback waits
 * on its CPU's {@code rcu_data.cblist} until a grace period has passed (every online CPU reported a
 * quiescent state to the {@code rcu_node} tree), then runs in RCU_SOFTIRQ ({@code rcu_do_batch}), where
 * {@code sched_process_free} is traced and the task_struct freed. The flavour is the build's:
 * {@code rcu_sched} on TREE_RCU without PREEMPT_RCU, {@code rcu_preempt} with it. Everything is read
 * from the arena at the layouts of kernel/rcu/tree.o.
 */
public abstract class RcuContract extends KernelContract {
    private static final int RCU_NEXT_TAIL = 3;
    private static final int RCU_SOFTIRQ = 9;

    private boolean preemptRcu() {
        return built("CONFIG_PREEMPT_RCU");
    }

    private String flavour() {
        return preemptRcu() ? "rcu_preempt" : "rcu_sched";
    }

    private long mask() {
        return platform().pointerSize() == 4 ? 0xffff_ffffL : -1L;
    }

    /** {@code per_cpu_ptr(&<flavour>_data, cpu)}. */
    private long rdp(Kernel k, int cpu) {
        int ptr = platform().pointerSize();
        long offset = k.addressSpace().readPointer(k.symbol("__per_cpu_offset") + (long) cpu * ptr);
        return (k.symbol(flavour() + "_data") + offset) & mask();
    }

    private long state(Kernel k) {
        return k.symbol(flavour() + "_state");
    }

    private long root(Kernel k) {
        return state(k) + structs(k).offset("rcu_state", "node");
    }

    private long cblist(Kernel k, int cpu) {
        return rdp(k, cpu) + structs(k).offset("rcu_data", "cblist");
    }

    private long len(Kernel k, int cpu) {
        return structs(k).get(cblist(k, cpu), "rcu_segcblist", "len");
    }

    private long gpSeq(Kernel k) {
        return ulong(k, state(k), "rcu_state", "gp_seq");
    }

    /** An unsigned long member, zero-extended. */
    private long ulong(Kernel k, long address, String type, String path) {
        return structs(k).get(address, type, path) & mask();
    }

    private void tickAll(Kernel k) {
        for (int c = 0; c < k.cpus(); c++) {
            k.cpu(c).tick();
        }
    }

    /** Forks a child of init on CPU 0, runs it on CPU 1 to its exit, and has init reap it on CPU 0. */
    private long forkExitReap(Kernel k) {
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        long child = address(k, pid);
        migrateAndRun(k, pid, 1);
        k.cpu(1).exit(0);
        k.cpu(0).run(Pid.INIT);
        assertTrue(k.cpu(0).wait4(Pid.of(pid)));
        return child;
    }

    @Test
    @DisplayName("rcu_init_one / rcu_boot_init_percpu_data: the build's flavour in memory, its symbols, one root rcu_node over the CPUs")
    void flavourFollowsTheBuild() {
        Kernel k = boot(2);
        Structs s = structs(k);
        String other = preemptRcu() ? "rcu_sched" : "rcu_preempt";
        assertTrue(k.symbols().containsKey(flavour() + "_state") && k.symbols().containsKey(flavour() + "_data"));
        assertFalse(k.symbols().containsKey(other + "_state"), "call_rcu is " + (preemptRcu() ? "rcu_preempt's" : "call_rcu_sched"));
        assertEquals(k.symbol("delayed_put_task_struct"), k.symbols().get("delayed_put_task_struct"));
        long rsp = state(k);
        assertEquals(flavour(), k.addressSpace().readCString(s.ptr(rsp, "rcu_state", "name"), 16));
        assertEquals(preemptRcu() ? 'p' : 's', (char) s.get(rsp, "rcu_state", "abbr"));
        assertEquals(k.symbol(preemptRcu() ? "call_rcu" : "call_rcu_sched"), s.ptr(rsp, "rcu_state", "call"));
        assertEquals(k.symbol(flavour() + "_data"), s.ptr(rsp, "rcu_state", "rda"));
        assertEquals(2, s.i32(rsp, "rcu_state", "ncpus"));
        assertEquals(((0L - 300L) << 2) & mask(), gpSeq(k), "RCU_STATE_INITIALIZER: (0UL - 300UL) << RCU_SEQ_CTR_SHIFT");
        long root = root(k);
        assertEquals(root, s.ptr(rsp, "rcu_state", "level"), "level[0]");
        assertEquals(0b11, s.get(root, "rcu_node", "qsmaskinit"), "both CPUs online (rcu_cpu_starting)");
        assertEquals(0, s.get(root, "rcu_node", "qsmask"), "no grace period in progress");
        assertEquals(0, s.i32(root, "rcu_node", "grplo"));
        assertEquals(1, s.i32(root, "rcu_node", "grphi"));
        assertEquals(0, s.ptr(root, "rcu_node", "parent"));
        assertEquals(gpSeq(k), ulong(k, root, "rcu_node", "gp_seq"));
        for (int cpu = 0; cpu < 2; cpu++) {
            long rdp = rdp(k, cpu);
            assertEquals(cpu, s.i32(rdp, "rcu_data", "cpu"));
            assertEquals(rsp, s.ptr(rdp, "rcu_data", "rsp"));
            assertEquals(root, s.ptr(rdp, "rcu_data", "mynode"));
            assertEquals(1L << cpu, s.get(rdp, "rcu_data", "grpmask"), "leaf_node_cpu_bit");
            assertEquals(1, s.get(rdp, "rcu_data", "beenonline"));
            assertEquals(10, s.get(rdp, "rcu_data", "blimit"), "DEFAULT_RCU_BLIMIT");
            long seg = cblist(k, cpu);
            assertEquals(0, s.ptr(seg, "rcu_segcblist", "head"));
            for (int i = 0; i < 4; i++) {
                assertEquals(seg, k.addressSpace().readPointer(seg + s.offset("rcu_segcblist", "tails")
                        + (long) i * platform().pointerSize()), "rcu_segcblist_init: every tail at &head");
            }
        }
    }

    @Test
    @DisplayName("release_task: call_rcu(&p->rcu, delayed_put_task_struct) on the reaping CPU; the task is gone from every lookup, its memory is not")
    void releaseTaskQueuesTheTaskOnItsCpu() {
        Kernel k = boot(2);
        int threads = k.nrThreads();
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        threads++;
        long child = address(k, pid);
        migrateAndRun(k, pid, 1);
        k.cpu(1).exit(0);
        k.cpu(0).run(Pid.INIT);
        assertTrue(k.cpu(0).wait4(Pid.of(pid)));
        Structs s = structs(k);
        long head = child + s.offset("task_struct", "rcu");
        assertEquals(k.symbol("delayed_put_task_struct"), s.ptr(head, "callback_head", "func"));
        assertEquals(0, s.ptr(head, "callback_head", "next"));
        long seg = cblist(k, 0);
        assertEquals(head, s.ptr(seg, "rcu_segcblist", "head"));
        assertEquals(head + s.offset("callback_head", "next"), k.addressSpace().readPointer(
                seg + s.offset("rcu_segcblist", "tails") + (long) RCU_NEXT_TAIL * platform().pointerSize()),
                "rcu_segcblist_enqueue: tails[RCU_NEXT_TAIL] = &rhp->next");
        assertEquals(1, len(k, 0));
        assertEquals(0, len(k, 1));
        assertEquals(List.of(child), KernelInvariants.rcuPendingTasks(k));
        assertEquals(0, address(k, pid), "__unhash_process: no pid lookup finds it");
        assertFalse(taskAddresses(k).contains(child));
        assertEquals(Optional.empty(), k.task(Pid.of(pid)));
        assertEquals(threads - 1, k.nrThreads());
        assertEquals(MemoryState.Kind.LIVE_OBJECT, k.memory().classify(child).kind(), "freed only by the callback");
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("rcu_report_qs_rnp: the grace period ends only when every online CPU has reported; then rcu_do_batch frees the task")
    void gracePeriodWaitsForEveryCpu() {
        Kernel k = boot(2);
        long child = forkExitReap(k);
        Structs s = structs(k);
        long start = gpSeq(k);
        long root = root(k);
        // CPU 0's tick: rcu_pending (callbacks need a grace period), RCU_SOFTIRQ, rcu_accelerate_cbs,
        // rcu_start_this_gp, and the GP kthread's rcu_gp_init done where it would be woken
        k.cpu(0).tick();
        assertEquals(start + 1, gpSeq(k), "rcu_seq_start");
        assertEquals(0b11, s.get(root, "rcu_node", "qsmask"), "rcu_gp_init: qsmask = qsmaskinit");
        assertEquals(start + 1, ulong(k, root, "rcu_node", "gp_seq"));
        assertEquals(start + 1, ulong(k, rdp(k, 0), "rcu_data", "gp_seq"), "the kthread's CPU noted it (__note_gp_changes)");
        assertEquals(1, s.get(rdp(k, 0), "rcu_data", "core_needs_qs"));
        // CPU 0 alone: its quiescent states are reported, CPU 1's bit stays, the callback waits
        for (int i = 0; i < 5; i++) {
            k.cpu(0).tick();
        }
        assertEquals(0b10, s.get(root, "rcu_node", "qsmask"), "rcu_report_qs_rdp cleared CPU 0's bit only");
        assertEquals(1, len(k, 0));
        assertEquals(MemoryState.Kind.LIVE_OBJECT, k.memory().classify(child).kind());
        // CPU 1 (idle) notices the grace period on one tick and reports its quiescent state on the next
        k.cpu(1).tick();
        assertEquals(start + 1, ulong(k, rdp(k, 1), "rcu_data", "gp_seq"), "note_gp_changes in CPU 1's RCU_SOFTIRQ");
        k.cpu(1).tick();
        // the last report ends the grace period (rcu_gp_cleanup: rcu_seq_end to start + 4); CPU 0's report
        // had accelerated its callbacks (rcu_report_qs_rdp -> rcu_accelerate_cbs), which asked for the
        // next one too, so rcu_future_gp_cleanup finds it needed and the kthread starts it at once
        assertEquals(start + 1, ulong(k, root, "rcu_node", "completedqs"), "rcu_report_qs_rnp: every CPU reported");
        assertEquals(start + 8, ulong(k, root, "rcu_node", "gp_seq_needed"));
        assertEquals(start + 5, gpSeq(k), "rcu_seq_end then rcu_seq_start");
        assertEquals(0b11, s.get(root, "rcu_node", "qsmask"));
        assertEquals(1, len(k, 0), "the callback runs on its own CPU");
        k.cpu(0).tick();
        assertEquals(0, len(k, 0), "rcu_advance_cbs moved it to DONE (its gp_seq start + 4 is complete), rcu_do_batch ran it");
        assertEquals(0, s.ptr(cblist(k, 0), "rcu_segcblist", "head"));
        assertTrue(k.memory().classify(child).kind() != MemoryState.Kind.LIVE_OBJECT, "delayed_put_task_struct freed it");
        // the extra grace period ends as the others: both CPUs report, no callback asks for another
        for (int i = 0; i < 3; i++) {
            tickAll(k);
        }
        assertEquals(start + 8, gpSeq(k));
        assertEquals(0, s.get(root, "rcu_node", "qsmask"));
        assertEquals(start + 8, ulong(k, root, "rcu_node", "gp_seq_needed"), "rcu_future_gp_cleanup: no further request");
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("rcu_process_callbacks in RCU_SOFTIRQ: sched_process_free traced in softirq context (flag s) with whatever task is current there")
    void callbackRunsInRcuSoftirq() {
        List<String> lines = new ArrayList<>();
        Kernel k = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.events(lines::add)));
        long child = forkExitReap(k);
        int pid = structs(k).i32(child, "task_struct", "pid");
        lines.clear();
        Workload.passGracePeriods(k, 8);
        List<FtraceLine> parsed = lines.stream().map(FtraceLine::parse).toList();
        FtraceLine free = parsed.stream().filter(l -> l.event().equals("sched_process_free")).findFirst().orElseThrow();
        assertEquals("comm=init pid=" + pid + " prio=120", free.body());
        assertEquals(0, free.cpu(), "on the CPU that queued it");
        assertEquals('s', free.irqInfo().charAt(2), "in_serving_softirq");
        assertEquals("init", free.comm().trim(), "the task current on CPU 0 (init), not the freed one");
        int at = parsed.indexOf(free);
        assertTrue(parsed.subList(0, at).reversed().stream().filter(l -> l.cpu() == 0).findFirst().orElseThrow().text()
                .contains("softirq_entry: vec=" + RCU_SOFTIRQ + " [action=RCU]"), () -> String.join("\n", lines));
        assertTrue(parsed.stream().anyMatch(l -> l.event().equals("softirq_raise") && l.body().equals("vec=9 [action=RCU]")
                && l.irqInfo().charAt(2) == 'h'), "invoke_rcu_core from the tick's hardirq");
        assertEquals(1, parsed.stream().filter(l -> l.event().equals("sched_process_free")).count());
    }

    @Test
    @DisplayName("rcu_note_context_switch: a context switch is a quiescent state (cpu_no_qs.b.norm cleared)")
    void contextSwitchIsAQuiescentState() {
        Kernel k = boot(2);
        forkExitReap(k);
        Structs s = structs(k);
        k.cpu(0).tick();
        long rdp0 = rdp(k, 0);
        assertEquals(1, s.get(rdp0, "rcu_data", "cpu_no_qs.b.norm"), "a new grace period wants a quiescent state");
        k.cpu(0).run(Pid.KTHREADD);
        assertEquals(0, s.get(rdp0, "rcu_data", "cpu_no_qs.b.norm"), "__schedule -> rcu_note_context_switch");
        assertEquals(1, s.get(rdp0, "rcu_data", "core_needs_qs"), "noted, reported at the next RCU_SOFTIRQ");
    }

    @Test
    @DisplayName("rcu_check_callbacks: a tick in a kernel thread is no rcu_sched quiescent state; with PREEMPT_RCU (rcu_preempt_check_callbacks) it is")
    void kernelModeTickFollowsTheFlavour() {
        Kernel k = boot(2);
        forkExitReap(k);
        Structs s = structs(k);
        migrateAndRun(k, 2, 0);
        long rdp0 = rdp(k, 0);
        // kthreadd's tick starts the grace period, which then wants a quiescent state from CPU 0
        k.cpu(0).tick();
        assertEquals(1, s.get(rdp0, "rcu_data", "core_needs_qs"));
        assertEquals(1, s.get(rdp0, "rcu_data", "cpu_no_qs.b.norm"));
        k.cpu(0).tick();
        assertEquals(currentPid(k, 0), 2, "kthreadd still runs on CPU 0");
        assertEquals(preemptRcu() ? 0 : 1, s.get(rdp0, "rcu_data", "cpu_no_qs.b.norm"),
                preemptRcu() ? "rcu_preempt_qs on every tick outside rcu_read_lock"
                        : "rcu_sched_qs only from user mode or the idle loop (rcu_is_cpu_rrupt_from_idle)");
        assertEquals(preemptRcu() ? 0 : 1, s.get(rdp0, "rcu_data", "core_needs_qs"), "rcu_report_qs_rdp");
        assertEquals(preemptRcu() ? 0b10 : 0b11, s.get(root(k), "rcu_node", "qsmask"));
    }

    @Test
    @DisplayName("rcu_do_batch: at most blimit (10) callbacks per batch on a busy CPU, RCU_SOFTIRQ raised again for the rest")
    void batchLimit() {
        List<String> lines = new ArrayList<>();
        Kernel k = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.events(lines::add)));
        k.cpu(0).run(Pid.INIT);
        List<Integer> pids = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            int pid = k.cpu(0).fork().nr();
            pids.add(pid);
            migrateAndRun(k, pid, 1);
            k.cpu(1).exit(0);
            k.cpu(0).run(Pid.INIT);
        }
        for (int pid : pids) {
            assertTrue(k.cpu(0).wait4(Pid.of(pid)));
        }
        assertEquals(25, len(k, 0));
        // grace period: start, quiescent states of both CPUs
        for (int round = 0; round < 2; round++) {
            tickAll(k);
        }
        assertEquals(25, len(k, 0));
        lines.clear();
        k.cpu(0).tick();
        List<FtraceLine> parsed = lines.stream().map(FtraceLine::parse).toList();
        assertEquals(0, len(k, 0), "__do_softirq restarted RCU_SOFTIRQ until they all ran");
        assertEquals(25, parsed.stream().filter(l -> l.event().equals("sched_process_free")).count());
        assertEquals(3, parsed.stream().filter(l -> l.event().equals("softirq_entry") && l.body().startsWith("vec=9 ")).count(),
                "batches of 10, 10 and 5 on CPU 0 running init: " + String.join("\n", lines));
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("KernelInvariants: a callback list whose len disagrees, or a callback with an unknown func, breaks Rule.RCU")
    void invariantsReadTheCallbackLists() {
        Kernel k = boot(2);
        long child = forkExitReap(k);
        Structs s = structs(k);
        assertEquals(List.of(), KernelInvariants.of(k).check());
        long seg = cblist(k, 0);
        s.set(seg, "rcu_segcblist", "len", 2);
        assertTrue(KernelInvariants.of(k).check().stream().anyMatch(v -> v.rule() == Violation.Rule.RCU),
                "len is not the number of callbacks");
        s.set(seg, "rcu_segcblist", "len", 1);
        long head = child + s.offset("task_struct", "rcu");
        long func = s.ptr(head, "callback_head", "func");
        s.set(head, "callback_head", "func", func + 4);
        assertTrue(KernelInvariants.of(k).check().stream().anyMatch(v -> v.rule() == Violation.Rule.RCU),
                "an unknown func");
        s.set(head, "callback_head", "func", func);
        assertEquals(List.of(), KernelInvariants.of(k).check());
        Workload.passGracePeriods(k, 8);
        assertEquals(0, Workload.pendingRcuCallbacks(k));
        assertEquals(List.of(), KernelInvariants.of(k).check());
    }

    @Test
    @DisplayName("rcu_init_geometry: more CPUs than RCU_FANOUT_LEAF (16) get leaves under a root; grace periods report up the tree")
    void twoLevelTree() {
        assumeTrue(platform().nrCpus() > 16, "NR_CPUS " + platform().nrCpus() + " fits one rcu_node");
        Kernel k = boot(b -> b.cpus(20).memory(256L << 20));
        Structs s = structs(k);
        long root = root(k);
        long leaf0 = root + s.size("rcu_node");
        long leaf1 = leaf0 + s.size("rcu_node");
        assertEquals(leaf0, k.addressSpace().readPointer(state(k) + s.offset("rcu_state", "level") + platform().pointerSize()));
        assertEquals(0b11, s.get(root, "rcu_node", "qsmaskinit"));
        assertEquals(0xffff, s.get(leaf0, "rcu_node", "qsmaskinit"));
        assertEquals(0xf, s.get(leaf1, "rcu_node", "qsmaskinit"));
        assertEquals(16, s.i32(leaf1, "rcu_node", "grplo"));
        assertEquals(19, s.i32(leaf1, "rcu_node", "grphi"));
        assertEquals(root, s.ptr(leaf1, "rcu_node", "parent"));
        assertEquals(leaf1, s.ptr(rdp(k, 17), "rcu_data", "mynode"));
        assertEquals(1L << 1, s.get(rdp(k, 17), "rcu_data", "grpmask"));
        long child = forkExitReap(k);
        assertTrue(Workload.passGracePeriods(k, 8) <= 3, "start, report, run");
        assertTrue(k.memory().classify(child).kind() != MemoryState.Kind.LIVE_OBJECT);
        assertEquals(gpSeq(k), ulong(k, leaf1, "rcu_node", "gp_seq"));
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("A profile without kernel/rcu/tree.o's dump boots: with no callback lists to lay out, release_task frees at once")
    void profileWithoutTreeO() throws Exception {
        Profile full = platform().profile();
        String config = full.config().asMap().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining("\n", "", "\n"));
        List<String> dumps = new ArrayList<>();
        for (int i = 0; i < full.sources().size(); i++) {
            if (!full.sources().get(i).contains("rcu.pahole")) {
                dumps.add(Pahole.print(full, i));
            }
        }
        assertEquals(full.sources().size() - 1, dumps.size(), full.sources().toString());
        Profile noTreeO = Profile.parse("without-tree.o", dumps, config);
        assertTrue(noTreeO.find("rcu_data").isEmpty());
        try (Kernel k = Kernel.builder(platform().architecture().bind(noTreeO)).cpus(2).memory(64L << 20).boot()) {
            assertFalse(k.symbols().containsKey(flavour() + "_state"));
            long child = forkExitReap(k);
            assertTrue(k.memory().classify(child).kind() != MemoryState.Kind.LIVE_OBJECT,
                    "delayed_put_task_struct ran at once");
            assertEquals(0, Workload.pendingRcuCallbacks(k));
            assertEquals(List.of(), KernelInvariants.rcuPendingTasks(k));
            KernelInvariants.of(k).assertHolds();
        }
    }
}
