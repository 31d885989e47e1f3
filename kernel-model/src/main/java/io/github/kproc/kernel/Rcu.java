package io.github.kproc.kernel;

import io.github.kproc.mem.AddressSpace;

/**
 * {@code kernel/rcu/tree.c} (with {@code tree_plugin.h} and {@code rcu_segcblist.c}) for the one RCU
 * flavour {@code call_rcu} uses in the build: {@code rcu_sched} on a TREE_RCU build without PREEMPT
 * (the ARM32 vexpress build, where {@code call_rcu} is {@code call_rcu_sched}), {@code rcu_preempt} with
 * CONFIG_PREEMPT_RCU (arm64 defconfig). Everything lives in the arena at the layouts of
 * {@code kernel/rcu/tree.o}: the {@code rcu_state} with its {@code rcu_node} tree in the image's data,
 * the per-CPU {@code rcu_data} with its segmented callback list ({@code rcu_segcblist}), and each
 * callback's {@code callback_head} inside the object it frees.
 *
 * <p>A grace period's life: {@code call_rcu} queues a callback in the NEXT segment; the next
 * scheduling-clock tick finds work ({@code rcu_pending}) and raises RCU_SOFTIRQ, whose
 * {@code rcu_process_callbacks} assigns the callbacks a grace-period number
 * ({@code rcu_accelerate_cbs}) and asks for that grace period ({@code rcu_start_this_gp}). The
 * grace-period kthread's work ({@code rcu_gp_init}, {@code rcu_gp_cleanup}) is done synchronously where
 * the kernel would wake it ({@code rcu_gp_kthread_wake}): the kthread does not exist in the model
 * (Boot creates only init, kthreadd and the idle tasks, and one more kthread would renumber every pid),
 * so its wakeup and context-switch lines are absent from the trace and the CPU that woke it stands in
 * for the CPU it runs on. Each CPU notices the new grace period in its own RCU_SOFTIRQ
 * ({@code note_gp_changes}), passes a quiescent state (a context switch, a tick in user mode or from
 * the idle loop; with PREEMPT_RCU any tick, since the model has no read-side critical sections) and
 * reports it ({@code rcu_report_qs_rdp} clearing its bit in its leaf's {@code qsmask}, up the tree);
 * the last report ends the grace period, after which each CPU moves its WAIT segment to DONE
 * ({@code rcu_advance_cbs}) and runs the callbacks in {@code rcu_do_batch}, in RCU_SOFTIRQ on that CPU.
 *
 * <p>Not modelled: the other flavours ({@code rcu_bh}, and {@code rcu_sched} next to
 * {@code rcu_preempt}; nothing queues callbacks there), expedited grace periods, no-CBs CPUs,
 * force-quiescent-state scans ({@code rcu_gp_fqs}: a CPU that never ticks in user or idle mode and
 * never switches holds the grace period), stall warnings, CPU hotplug, {@code rcu_dynticks}, tracing of
 * the {@code rcu:} events, and preempted readers ({@code blkd_tasks} stays empty).
 */
final class Rcu {
    /** The segments of {@code rcu_segcblist}. */
    static final int RCU_DONE_TAIL = 0;
    static final int RCU_WAIT_TAIL = 1;
    static final int RCU_NEXT_READY_TAIL = 2;
    static final int RCU_NEXT_TAIL = 3;
    static final int RCU_CBLIST_NSEGS = 4;
    /** {@code RCU_SOFTIRQ}. */
    static final int RCU_SOFTIRQ = 9;
    /** {@code rcu_state.gp_flags} bits. */
    static final int RCU_GP_FLAG_INIT = 0x1;
    static final int RCU_GP_FLAG_FQS = 0x2;
    /** {@code rcu_state.gp_state} values ({@code kernel/rcu/tree.h}). */
    static final int RCU_GP_IDLE = 0;
    static final int RCU_GP_WAIT_GPS = 1;
    static final int RCU_GP_INIT = 4;
    static final int RCU_GP_WAIT_FQS = 5;
    static final int RCU_GP_CLEANUP = 7;
    /** {@code RCU_SEQ_CTR_SHIFT} and {@code RCU_SEQ_STATE_MASK}. */
    static final int RCU_SEQ_CTR_SHIFT = 2;
    static final long RCU_SEQ_STATE_MASK = (1 << RCU_SEQ_CTR_SHIFT) - 1;
    /** {@code DEFAULT_RCU_BLIMIT}, {@code DEFAULT_RCU_QHIMARK}, {@code DEFAULT_RCU_QLOMARK}. */
    static final long BLIMIT = 10;
    static final long QHIMARK = 10000;
    static final long QLOWMARK = 100;
    /** {@code CONFIG_RCU_FANOUT_LEAF}'s default: CPUs per leaf {@code rcu_node}. */
    static final int RCU_FANOUT_LEAF = 16;

    private final Machine mc;
    private final AddressSpace m;
    private final Fields.RcuStructs r;
    private final Softirq softirq;
    private final Core core;
    private final Preempt preempt;
    /** {@code exit.c}'s {@code delayed_put_task_struct}, the one callback the model queues. */
    Exit exit;
    /** CONFIG_PREEMPT_RCU: the flavour is {@code rcu_preempt}, else {@code rcu_sched}. */
    final boolean preemptRcu;
    /** {@code "rcu_preempt"} or {@code "rcu_sched"}: the flavour, its state {@code <name>_state}, its data {@code <name>_data}. */
    final String name;
    /** {@code &rcu_sched_state} / {@code &rcu_preempt_state}. */
    final long state;
    /** {@code &rcu_sched_data} / {@code &rcu_preempt_data}: the per-CPU variable. */
    final long data;
    /** {@code per_cpu_ptr(rsp->rda, cpu)}, computed once. */
    private final long[] rdp;
    private final int nodes;
    private final long ulongMask;
    private final long delayedPutTaskStruct;

    Rcu(Machine mc, Core core, Preempt preempt, Softirq softirq) {
        this.mc = mc;
        this.core = core;
        this.preempt = preempt;
        this.m = mc.m;
        this.r = java.util.Objects.requireNonNull(mc.f.rcu, "rcu structs");
        this.softirq = softirq;
        this.preemptRcu = mc.platform.profile().config().enabled("CONFIG_PREEMPT_RCU");
        this.name = preemptRcu ? "rcu_preempt" : "rcu_sched";
        int ptr = mc.platform.pointerSize();
        this.ulongMask = ptr == 4 ? 0xffff_ffffL : -1L;
        this.delayedPutTaskStruct = mc.symbols.address("delayed_put_task_struct");
        // rcu_init -> rcu_init_geometry: one level up to RCU_FANOUT_LEAF CPUs, else a root over leaves
        int leaves = (mc.cpus + RCU_FANOUT_LEAF - 1) / RCU_FANOUT_LEAF;
        this.nodes = leaves == 1 ? 1 : leaves + 1;
        if (nodes > r.numRcuNodes) {
            throw new IllegalStateException(mc.cpus + " CPUs need " + nodes + " rcu_nodes, rcu_state has " + r.numRcuNodes);
        }
        this.state = mc.staticAlloc(r.stateSize, r.stateAlign);
        this.data = mc.perCpu.define(r.dataSize, r.dataAlign);
        this.rdp = new long[mc.cpus];
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            rdp[cpu] = mc.perCpu.ptr(data, cpu);
        }
        rcuInitOne(ptr, leaves);
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            rcuInitPercpuData(cpu);
            rcuCpuStarting(cpu);
        }
    }

    // ---- rcu_init ----

    /**
     * {@code RCU_STATE_INITIALIZER} and {@code rcu_init_one}: the state's gp_seq at
     * {@code (0UL - 300UL) << RCU_SEQ_CTR_SHIFT}, name and abbreviation, the {@code rcu_node} tree in
     * breadth-first order (each node's gp_seq, CPU range, group bit and parent), and each CPU's
     * {@code rcu_data} attached to its leaf ({@code rcu_boot_init_percpu_data}).
     */
    private void rcuInitOne(int ptr, int leaves) {
        long gpSeq = ((0L - 300L) << RCU_SEQ_CTR_SHIFT) & ulongMask;
        m.writePointer(state + r.stateGpSeq, gpSeq);
        m.writeShort(state + r.stateGpState, (short) RCU_GP_IDLE);
        long nameStr = mc.staticAlloc(name.length() + 1, 1);
        m.writeCString(nameStr, name.length() + 1, name);
        m.writePointer(state + r.stateName, nameStr);
        m.writeByte(state + r.stateAbbr, (byte) (preemptRcu ? 'p' : 's'));
        m.writePointer(state + r.stateRda, data);
        m.writePointer(state + r.stateCall, mc.symbols.address(preemptRcu ? "call_rcu" : "call_rcu_sched"));
        m.writeInt(state + r.stateNcpus, mc.cpus);
        mc.lists.init(state + r.stateFlavors);
        for (int i = 0; i < nodes; i++) {
            long rnp = node(i);
            boolean root = i == 0;
            boolean leaf = nodes == 1 || !root;
            int grplo = leaf && !root ? (i - 1) * RCU_FANOUT_LEAF : 0;
            int grphi = leaf && !root ? Math.min(grplo + RCU_FANOUT_LEAF, mc.cpus) - 1 : mc.cpus - 1;
            m.writePointer(rnp + r.nodeGpSeq, gpSeq);
            m.writePointer(rnp + r.nodeGpSeqNeeded, gpSeq);
            m.writePointer(rnp + r.nodeCompletedqs, gpSeq);
            m.writeInt(rnp + r.nodeGrplo, grplo);
            m.writeInt(rnp + r.nodeGrphi, grphi);
            m.writeByte(rnp + r.nodeGrpnum, (byte) (root ? 0 : i - 1));
            m.writePointer(rnp + r.nodeGrpmask, root ? 0 : 1L << (i - 1));
            m.writeByte(rnp + r.nodeLevel, (byte) (root ? 0 : 1));
            m.writePointer(rnp + r.nodeParent, root ? 0 : node(0));
            mc.lists.init(rnp + r.nodeBlkdTasks);
        }
        m.writePointer(state + r.stateLevel, node(0));
        if (nodes > 1) {
            m.writePointer(state + r.stateLevel + ptr, node(1));
        }
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            long d = rdp[cpu];
            long leaf = leafOf(cpu);
            m.writePointer(d + r.dataMynode, leaf);
            m.writePointer(d + r.dataGrpmask, 1L << (cpu - m.readInt(leaf + r.nodeGrplo)));
            m.writeInt(d + r.dataCpu, cpu);
            m.writePointer(d + r.dataRsp, state);
        }
    }

    /**
     * {@code rcutree_prepare_cpu} -> {@code rcu_init_percpu_data}: the batch limit, an empty enabled
     * callback list ({@code rcu_segcblist_init}), {@code beenonline}, the leaf's gp_seq, and a quiescent
     * state wanted ({@code cpu_no_qs.b.norm}) but not yet asked for ({@code core_needs_qs}).
     */
    private void rcuInitPercpuData(int cpu) {
        long d = rdp[cpu];
        long rnp = m.readPointer(d + r.dataMynode);
        m.writePointer(d + r.dataQlenLastFqsCheck, 0);
        m.writePointer(d + r.dataNForceQsSnap, m.readPointer(state + r.stateNForceQs));
        m.writePointer(d + r.dataBlimit, BLIMIT);
        long seg = d + r.dataCblist;
        m.writePointer(seg + r.segHead, 0);
        for (int i = 0; i < RCU_CBLIST_NSEGS; i++) {
            m.writePointer(tail(seg, i), seg + r.segHead);
            m.writePointer(seg + r.segGpSeq + (long) i * mc.platform.pointerSize(), 0);
        }
        m.writePointer(seg + r.segLen, 0);
        m.writePointer(seg + r.segLenLazy, 0);
        m.writeByte(d + r.dataBeenonline, (byte) 1);
        long gpSeq = m.readPointer(rnp + r.nodeGpSeq);
        m.writePointer(d + r.dataGpSeq, gpSeq);
        m.writePointer(d + r.dataGpSeqNeeded, gpSeq);
        m.writeByte(d + r.dataCpuNoQsNorm, (byte) 1);
        m.writeByte(d + r.dataCoreNeedsQs, (byte) 0);
    }

    /**
     * {@code rcu_cpu_starting}: the CPU's bit in its leaf's {@code qsmaskinitnext}. The first grace
     * period's {@code rcu_gp_init} would copy it into {@code qsmaskinit} up the tree; the real boot has
     * run many grace periods by the time user space runs, so the model applies it here.
     */
    private void rcuCpuStarting(int cpu) {
        long d = rdp[cpu];
        long rnp = m.readPointer(d + r.dataMynode);
        long mask = m.readPointer(d + r.dataGrpmask);
        m.writePointer(rnp + r.nodeQsmaskinitnext, m.readPointer(rnp + r.nodeQsmaskinitnext) | mask);
        while (rnp != 0) {
            m.writePointer(rnp + r.nodeQsmaskinit, m.readPointer(rnp + r.nodeQsmaskinit) | mask);
            mask = m.readPointer(rnp + r.nodeGrpmask);
            rnp = m.readPointer(rnp + r.nodeParent);
        }
    }

    private long node(int i) {
        return state + r.stateNode + i * r.nodeSize;
    }

    private long leafOf(int cpu) {
        return nodes == 1 ? node(0) : node(1 + cpu / RCU_FANOUT_LEAF);
    }

    /** {@code per_cpu_ptr(rsp->rda, cpu)}. */
    long rdp(int cpu) {
        return rdp[cpu];
    }

    // ---- the sequence numbers (kernel/rcu/rcu.h) ----

    private boolean ulongCmpLt(long a, long b) {
        long d = (a - b) & ulongMask;
        return Long.compareUnsigned(d, ulongMask >>> 1) > 0;
    }

    private boolean ulongCmpGe(long a, long b) {
        long d = (a - b) & ulongMask;
        return Long.compareUnsigned(d, ulongMask >>> 1) <= 0;
    }

    private static int seqState(long s) {
        return (int) (s & RCU_SEQ_STATE_MASK);
    }

    /** {@code rcu_seq_snap}. */
    private long seqSnap(long s) {
        return ((s + 2 * RCU_SEQ_STATE_MASK + 1) & ~RCU_SEQ_STATE_MASK) & ulongMask;
    }

    /** {@code rcu_seq_endval}. */
    private long seqEndval(long s) {
        return ((s | RCU_SEQ_STATE_MASK) + 1) & ulongMask;
    }

    /** {@code rcu_gp_in_progress}: the state's gp_seq is in a grace period. */
    boolean gpInProgress() {
        return seqState(m.readPointer(state + r.stateGpSeq)) != 0;
    }

    // ---- rcu_segcblist ----

    private long tail(long seg, int i) {
        return seg + r.segTails + (long) i * mc.platform.pointerSize();
    }

    private long tailAt(long seg, int i) {
        return m.readPointer(tail(seg, i));
    }

    private long segGpSeq(long seg, int i) {
        return seg + r.segGpSeq + (long) i * mc.platform.pointerSize();
    }

    /** {@code rcu_segcblist_restempty(rsclp, seg)}: no callbacks after segment {@code seg}. */
    private boolean restempty(long seg, int i) {
        return m.readPointer(tailAt(seg, i)) == 0;
    }

    /** {@code rcu_segcblist_ready_cbs}: callbacks in the DONE segment. */
    private boolean readyCbs(long seg) {
        return tailAt(seg, RCU_NEXT_TAIL) != 0 && tailAt(seg, RCU_DONE_TAIL) != seg + r.segHead;
    }

    /** {@code rcu_segcblist_pend_cbs}: callbacks after the DONE segment. */
    private boolean pendCbs(long seg) {
        return tailAt(seg, RCU_NEXT_TAIL) != 0 && !restempty(seg, RCU_DONE_TAIL);
    }

    /** {@code rcu_segcblist_n_cbs}. */
    private long nCbs(long seg) {
        return m.readPointer(seg + r.segLen);
    }

    /** {@code rcu_segcblist_enqueue(rsclp, rhp, false)}: at the end of the NEXT segment, len + 1. */
    private void segcblistEnqueue(long seg, long rhp) {
        m.writePointer(seg + r.segLen, m.readPointer(seg + r.segLen) + 1);
        m.writePointer(rhp + r.cbNext, 0);
        m.writePointer(tailAt(seg, RCU_NEXT_TAIL), rhp);
        m.writePointer(tail(seg, RCU_NEXT_TAIL), rhp + r.cbNext);
    }

    /** {@code rcu_segcblist_advance(rsclp, seq)}: the segments whose grace period {@code seq} completed move to DONE. */
    private void segcblistAdvance(long seg, long seq) {
        if (restempty(seg, RCU_DONE_TAIL)) {
            return;
        }
        int i;
        for (i = RCU_WAIT_TAIL; i < RCU_NEXT_TAIL; i++) {
            if (ulongCmpLt(seq, m.readPointer(segGpSeq(seg, i)))) {
                break;
            }
            m.writePointer(tail(seg, RCU_DONE_TAIL), tailAt(seg, i));
        }
        if (i == RCU_WAIT_TAIL) {
            return;
        }
        for (int j = RCU_WAIT_TAIL; j < i; j++) {
            m.writePointer(tail(seg, j), tailAt(seg, RCU_DONE_TAIL));
        }
        for (int j = RCU_WAIT_TAIL; i < RCU_NEXT_TAIL; i++, j++) {
            if (tailAt(seg, j) == tailAt(seg, RCU_NEXT_TAIL)) {
                break;
            }
            m.writePointer(tail(seg, j), tailAt(seg, i));
            m.writePointer(segGpSeq(seg, j), m.readPointer(segGpSeq(seg, i)));
        }
    }

    /**
     * {@code rcu_segcblist_accelerate(rsclp, seq)}: the callbacks that can be ready at {@code seq}
     * join the segments waiting for it; true if any segment was given {@code seq}.
     */
    private boolean segcblistAccelerate(long seg, long seq) {
        if (restempty(seg, RCU_DONE_TAIL)) {
            return false;
        }
        int i;
        for (i = RCU_NEXT_READY_TAIL; i > RCU_DONE_TAIL; i--) {
            if (tailAt(seg, i) != tailAt(seg, i - 1) && ulongCmpLt(m.readPointer(segGpSeq(seg, i)), seq)) {
                break;
            }
        }
        if (++i >= RCU_NEXT_TAIL) {
            return false;
        }
        for (; i < RCU_NEXT_TAIL; i++) {
            m.writePointer(tail(seg, i), tailAt(seg, RCU_NEXT_TAIL));
            m.writePointer(segGpSeq(seg, i), seq);
        }
        return true;
    }

    // ---- call_rcu ----

    /**
     * {@code call_rcu(head, func)} on {@code cpu} ({@code __call_rcu} of the build's flavour), with
     * irqs on as {@code release_task} calls it: the callback at the end of the CPU's list; then
     * {@code __call_rcu_core}: past {@code qhimark} callbacks a grace period is asked for at once (its
     * {@code force_quiescent_state} kick is not modelled).
     */
    void callRcu(int cpu, long head, long func) {
        m.writePointer(head + r.cbFunc, func);
        long d = rdp[cpu];
        long seg = d + r.dataCblist;
        segcblistEnqueue(seg, head);
        if (nCbs(seg) > m.readPointer(d + r.dataQlenLastFqsCheck) + QHIMARK) {
            noteGpChanges(cpu, d);
            if (!gpInProgress()) {
                accelerateCbsUnlocked(cpu, d);
            } else {
                m.writePointer(d + r.dataBlimit, ulongMask >>> 1);
                m.writePointer(d + r.dataNForceQsSnap, m.readPointer(state + r.stateNForceQs));
                m.writePointer(d + r.dataQlenLastFqsCheck, nCbs(seg));
            }
        }
    }

    /** The offset of {@code task_struct.rcu}, the callback_head {@code release_task} queues. */
    long taskRcu() {
        return r.taskRcu;
    }

    /** The address {@code call_rcu} gives {@code task_struct.rcu} ({@code delayed_put_task_struct}'s). */
    long delayedPutTaskStructFunc() {
        return delayedPutTaskStruct;
    }

    // ---- quiescent states ----

    /**
     * {@code rcu_sched_qs()} / {@code rcu_preempt_qs()}: if the CPU still owes a quiescent state
     * ({@code cpu_no_qs.s}), it has one now ({@code cpu_no_qs.b.norm} cleared).
     */
    private void qs(int cpu) {
        long d = rdp[cpu];
        if (m.readShort(d + r.dataCpuNoQsS) == 0) {
            return;
        }
        m.writeByte(d + r.dataCpuNoQsNorm, (byte) 0);
    }

    /**
     * {@code rcu_note_context_switch(preempt)} from {@code __schedule}: {@code rcu_sched_qs}, and with
     * PREEMPT_RCU {@code rcu_preempt_note_context_switch} ending in {@code rcu_preempt_qs} (the model's
     * tasks are never inside {@code rcu_read_lock}).
     */
    void noteContextSwitch(int cpu) {
        qs(cpu);
    }

    /**
     * {@code rcu_check_callbacks(user)} from the tick's {@code update_process_times}: a tick from user
     * mode or from the idle loop ({@code rcu_is_cpu_rrupt_from_idle}) is an rcu_sched quiescent state;
     * with PREEMPT_RCU {@code rcu_preempt_check_callbacks} counts any tick outside a read-side critical
     * section. Then RCU_SOFTIRQ is raised if {@code rcu_pending}.
     *
     * @param userOrIdle the tick interrupted user mode or the idle loop itself
     */
    void checkCallbacks(int cpu, boolean userOrIdle) {
        if (userOrIdle || preemptRcu) {
            qs(cpu);
        }
        if (pending(cpu)) {
            invokeRcuCore(cpu);
        }
    }

    /** {@code invoke_rcu_core}: {@code raise_softirq(RCU_SOFTIRQ)} on an online CPU. */
    private void invokeRcuCore(int cpu) {
        if (mc.online[cpu]) {
            softirq.raiseSoftirq(cpu, RCU_SOFTIRQ);
        }
    }

    /** {@code __rcu_pending}: whether this CPU's RCU core has work. */
    boolean pending(int cpu) {
        long d = rdp[cpu];
        long seg = d + r.dataCblist;
        long rnp = m.readPointer(d + r.dataMynode);
        if (m.readByte(d + r.dataCoreNeedsQs) != 0 && m.readByte(d + r.dataCpuNoQsNorm) == 0) {
            return true;
        }
        if (readyCbs(seg)) {
            return true;
        }
        if (!gpInProgress() && tailAt(seg, RCU_NEXT_TAIL) != 0 && !restempty(seg, RCU_NEXT_READY_TAIL)) {
            return true;
        }
        return m.readPointer(rnp + r.nodeGpSeq) != m.readPointer(d + r.dataGpSeq) || m.readByte(d + r.dataGpwrap) != 0;
    }

    // ---- RCU_SOFTIRQ ----

    /**
     * {@code rcu_process_callbacks} -> {@code __rcu_process_callbacks} in RCU_SOFTIRQ on {@code cpu}:
     * the grace-period changes and this CPU's quiescent state ({@code rcu_check_quiescent_state}), a
     * grace period asked for idle callbacks, then the ready callbacks ({@code rcu_do_batch}).
     */
    void processCallbacks(int cpu) {
        if (!mc.online[cpu]) {
            return;
        }
        long d = rdp[cpu];
        long seg = d + r.dataCblist;
        checkQuiescentState(cpu, d);
        if (!gpInProgress() && tailAt(seg, RCU_NEXT_TAIL) != 0 && !restempty(seg, RCU_NEXT_READY_TAIL)) {
            accelerateCbsUnlocked(cpu, d);
        }
        if (readyCbs(seg)) {
            doBatch(cpu, d);
        }
    }

    /**
     * {@code rcu_do_batch}: up to {@code blimit} ready callbacks run (all of them on the idle task or
     * when the batch limit was lifted), each read before its object goes; the rest stay at the head of
     * the list, {@code len} drops by the count run, and RCU_SOFTIRQ is raised again if ready ones remain.
     */
    private void doBatch(int cpu, long d) {
        long seg = d + r.dataCblist;
        long bl = m.readPointer(d + r.dataBlimit);
        // rcu_segcblist_extract_done_cbs
        long list = m.readPointer(seg + r.segHead);
        long doneTail = tailAt(seg, RCU_DONE_TAIL);
        m.writePointer(seg + r.segHead, m.readPointer(doneTail));
        m.writePointer(doneTail, 0);
        for (int i = RCU_CBLIST_NSEGS - 1; i >= RCU_DONE_TAIL; i--) {
            if (tailAt(seg, i) == doneTail) {
                m.writePointer(tail(seg, i), seg + r.segHead);
            }
        }
        long count = 0;
        long rhp = list;
        boolean isIdle = mc.current(cpu) == core.rq.idle(cpu);
        while (rhp != 0) {
            long next = m.readPointer(rhp + r.cbNext);
            invoke(cpu, rhp);
            count++;
            rhp = next;
            if (count >= bl && rhp != 0 && (preempt.needResched(cpu) || !isIdle)) {
                break;
            }
        }
        if (rhp != 0) {
            // rcu_segcblist_insert_done_cbs: the rest back in front, ending at the old DONE tail
            m.writePointer(doneTail, m.readPointer(seg + r.segHead));
            m.writePointer(seg + r.segHead, rhp);
            for (int i = RCU_DONE_TAIL; i < RCU_CBLIST_NSEGS; i++) {
                if (tailAt(seg, i) == seg + r.segHead) {
                    m.writePointer(tail(seg, i), doneTail);
                } else {
                    break;
                }
            }
        }
        long n = nCbs(seg) - count;
        m.writePointer(seg + r.segLen, n);
        if (m.readPointer(d + r.dataBlimit) == (ulongMask >>> 1) && n <= QLOWMARK) {
            m.writePointer(d + r.dataBlimit, BLIMIT);
        }
        long lastCheck = m.readPointer(d + r.dataQlenLastFqsCheck);
        if (n == 0 && lastCheck != 0) {
            m.writePointer(d + r.dataQlenLastFqsCheck, 0);
            m.writePointer(d + r.dataNForceQsSnap, m.readPointer(state + r.stateNForceQs));
        } else if (n < lastCheck - QHIMARK) {
            m.writePointer(d + r.dataQlenLastFqsCheck, n);
        }
        if (readyCbs(seg)) {
            invokeRcuCore(cpu);
        }
    }

    /** {@code __rcu_reclaim}: the callback's function called on its head. */
    private void invoke(int cpu, long rhp) {
        long func = m.readPointer(rhp + r.cbFunc);
        if (func == delayedPutTaskStruct) {
            exit.delayedPutTaskStruct(cpu, rhp - r.taskRcu);
        } else {
            throw new IllegalStateException(String.format("RCU callback %#x with unknown func %#x", rhp, func));
        }
    }

    // ---- grace periods ----

    /** {@code rcu_check_quiescent_state}: note grace-period changes, then report a quiescent state this CPU owes and has. */
    private void checkQuiescentState(int cpu, long d) {
        noteGpChanges(cpu, d);
        if (m.readByte(d + r.dataCoreNeedsQs) == 0 || m.readByte(d + r.dataCpuNoQsNorm) != 0) {
            return;
        }
        reportQsRdp(cpu, d);
    }

    /** {@code note_gp_changes}: {@code __note_gp_changes} if the leaf's gp_seq moved, then wake the GP kthread if asked. */
    private void noteGpChanges(int cpu, long d) {
        long rnp = m.readPointer(d + r.dataMynode);
        if (m.readPointer(d + r.dataGpSeq) == m.readPointer(rnp + r.nodeGpSeq) && m.readByte(d + r.dataGpwrap) == 0) {
            return;
        }
        if (noteGpChangesLocked(d, rnp)) {
            gpKthreadWake(cpu);
        }
    }

    /**
     * {@code __note_gp_changes}: an ended grace period advances the callbacks (else they are
     * accelerated), a new one this CPU owes a quiescent state for sets {@code cpu_no_qs.b.norm} and
     * {@code core_needs_qs}; the leaf's gp_seq and gp_seq_needed are copied.
     */
    private boolean noteGpChangesLocked(long d, long rnp) {
        long rdpSeq = m.readPointer(d + r.dataGpSeq);
        long rnpSeq = m.readPointer(rnp + r.nodeGpSeq);
        if (rdpSeq == rnpSeq) {
            return false;
        }
        boolean wrap = m.readByte(d + r.dataGpwrap) != 0;
        boolean ret;
        if (ulongCmpLt(rdpSeq, rnpSeq & ~RCU_SEQ_STATE_MASK) || wrap) {
            ret = advanceCbs(rnp, d);
        } else {
            ret = accelerateCbs(rnp, d);
        }
        if (ulongCmpLt((rdpSeq + RCU_SEQ_STATE_MASK) & ~RCU_SEQ_STATE_MASK & ulongMask, rnpSeq) || wrap) {
            boolean needGp = (m.readPointer(rnp + r.nodeQsmask) & m.readPointer(d + r.dataGrpmask)) != 0;
            m.writeByte(d + r.dataCpuNoQsNorm, (byte) (needGp ? 1 : 0));
            m.writeByte(d + r.dataCoreNeedsQs, (byte) (needGp ? 1 : 0));
        }
        m.writePointer(d + r.dataGpSeq, rnpSeq);
        long needed = m.readPointer(rnp + r.nodeGpSeqNeeded);
        if (ulongCmpGe(needed, m.readPointer(d + r.dataGpSeqNeeded)) || wrap) {
            m.writePointer(d + r.dataGpSeqNeeded, needed);
        }
        m.writeByte(d + r.dataGpwrap, (byte) 0);
        return ret;
    }

    /** {@code rcu_accelerate_cbs}: the pending callbacks get the next grace period that covers them, which is asked for. */
    private boolean accelerateCbs(long rnp, long d) {
        long seg = d + r.dataCblist;
        if (!pendCbs(seg)) {
            return false;
        }
        long gpSeqReq = seqSnap(m.readPointer(state + r.stateGpSeq));
        return segcblistAccelerate(seg, gpSeqReq) && startThisGp(rnp, d, gpSeqReq);
    }

    /** {@code rcu_accelerate_cbs_unlocked}: as {@link #accelerateCbs}, unless the CPU's request already covers it. */
    private void accelerateCbsUnlocked(int cpu, long d) {
        long c = seqSnap(m.readPointer(state + r.stateGpSeq));
        if (m.readByte(d + r.dataGpwrap) == 0 && ulongCmpGe(m.readPointer(d + r.dataGpSeqNeeded), c)) {
            segcblistAccelerate(d + r.dataCblist, c);
            return;
        }
        if (accelerateCbs(m.readPointer(d + r.dataMynode), d)) {
            gpKthreadWake(cpu);
        }
    }

    /** {@code rcu_advance_cbs}: callbacks whose grace period the leaf has seen end move to DONE, the rest are accelerated. */
    private boolean advanceCbs(long rnp, long d) {
        long seg = d + r.dataCblist;
        if (!pendCbs(seg)) {
            return false;
        }
        segcblistAdvance(seg, m.readPointer(rnp + r.nodeGpSeq));
        return accelerateCbs(rnp, d);
    }

    /**
     * {@code rcu_start_this_gp}: record the request up the tree (funnel locking, stopping where it is
     * already recorded or started); at the root with no grace period in progress set
     * {@code RCU_GP_FLAG_INIT}: true, the caller wakes the GP kthread.
     */
    private boolean startThisGp(long rnpStart, long d, long gpSeqReq) {
        boolean ret = false;
        long rnp = rnpStart;
        boolean prestarted = false;
        while (true) {
            long needed = m.readPointer(rnp + r.nodeGpSeqNeeded);
            long seq = m.readPointer(rnp + r.nodeGpSeq);
            if (ulongCmpGe(needed, gpSeqReq) || ulongCmpLt(((gpSeqReq - 1) & ~RCU_SEQ_STATE_MASK) & ulongMask, seq)
                    || (rnp != rnpStart && seqState(seq) != 0)) {
                prestarted = true;
                break;
            }
            m.writePointer(rnp + r.nodeGpSeqNeeded, gpSeqReq);
            if (seqState(seq) != 0) {
                prestarted = true;
                break;
            }
            long parent = m.readPointer(rnp + r.nodeParent);
            if (parent == 0) {
                break;
            }
            rnp = parent;
        }
        if (!prestarted && !gpInProgress()) {
            m.writeShort(state + r.stateGpFlags, (short) (m.readShort(state + r.stateGpFlags) | RCU_GP_FLAG_INIT));
            m.writePointer(state + r.stateGpReqActivity, jiffies());
            ret = true;
        }
        long needed = m.readPointer(rnp + r.nodeGpSeqNeeded);
        if (ulongCmpLt(gpSeqReq, needed)) {
            m.writePointer(rnpStart + r.nodeGpSeqNeeded, needed);
            m.writePointer(d + r.dataGpSeqNeeded, needed);
        }
        return ret;
    }

    /**
     * {@code rcu_gp_kthread_wake} and what the woken {@code rcu_gp_kthread} does, synchronously on
     * {@code cpu}: start the requested grace period ({@code rcu_gp_init}); once the root's
     * {@code qsmask} is empty clean it up ({@code rcu_gp_cleanup}) and start the next if one was asked for.
     */
    private void gpKthreadWake(int cpu) {
        while (m.readShort(state + r.stateGpFlags) != 0) {
            if (!gpInProgress()) {
                if ((m.readShort(state + r.stateGpFlags) & RCU_GP_FLAG_INIT) == 0) {
                    return;
                }
                gpInit(cpu);
            }
            if (m.readPointer(node(0) + r.nodeQsmask) != 0) {
                m.writeShort(state + r.stateGpState, (short) RCU_GP_WAIT_FQS);
                return;
            }
            m.writeShort(state + r.stateGpState, (short) RCU_GP_CLEANUP);
            gpCleanup(cpu);
            m.writeShort(state + r.stateGpState, (short) RCU_GP_WAIT_GPS);
        }
    }

    /**
     * {@code rcu_gp_init}: flags cleared, the state's gp_seq started ({@code rcu_seq_start}), then each
     * node breadth-first gets its {@code qsmask} from {@code qsmaskinit} and the new gp_seq, the
     * kthread's CPU noting it at its leaf.
     */
    private void gpInit(int cpu) {
        m.writePointer(state + r.stateGpActivity, jiffies());
        m.writeShort(state + r.stateGpFlags, (short) 0);
        m.writePointer(state + r.stateGpStart, jiffies());
        long gpSeq = (m.readPointer(state + r.stateGpSeq) + 1) & ulongMask;
        m.writePointer(state + r.stateGpSeq, gpSeq);
        m.writeShort(state + r.stateGpState, (short) RCU_GP_INIT);
        long d = rdp[cpu];
        long mine = m.readPointer(d + r.dataMynode);
        for (int i = 0; i < nodes; i++) {
            long rnp = node(i);
            m.writePointer(rnp + r.nodeQsmask, m.readPointer(rnp + r.nodeQsmaskinit));
            m.writePointer(rnp + r.nodeGpSeq, gpSeq);
            if (rnp == mine) {
                noteGpChangesLocked(d, rnp);
            }
        }
    }

    /**
     * {@code rcu_gp_cleanup}: every node's gp_seq to the end value ({@code rcu_seq_end}), the kthread's
     * CPU noting it, old requests dropped ({@code rcu_future_gp_cleanup}); the state's gp_seq ended;
     * another grace period asked for if any CPU needs one.
     */
    private void gpCleanup(int cpu) {
        m.writePointer(state + r.stateGpActivity, jiffies());
        long newGpSeq = seqEndval(m.readPointer(state + r.stateGpSeq));
        long d = rdp[cpu];
        long mine = m.readPointer(d + r.dataMynode);
        boolean needgp = false;
        for (int i = 0; i < nodes; i++) {
            long rnp = node(i);
            m.writePointer(rnp + r.nodeGpSeq, newGpSeq);
            if (rnp == mine) {
                needgp = noteGpChangesLocked(d, rnp) || needgp;
            }
            // rcu_future_gp_cleanup
            boolean needmore = ulongCmpLt(newGpSeq, m.readPointer(rnp + r.nodeGpSeqNeeded));
            if (!needmore) {
                m.writePointer(rnp + r.nodeGpSeqNeeded, newGpSeq);
            }
            needgp = needmore || needgp;
        }
        long root = node(0);
        m.writePointer(state + r.stateGpSeq, newGpSeq);
        m.writeShort(state + r.stateGpState, (short) RCU_GP_IDLE);
        if (!needgp && ulongCmpLt(m.readPointer(root + r.nodeGpSeq), m.readPointer(root + r.nodeGpSeqNeeded))) {
            needgp = true;
        }
        if (!accelerateCbs(root, d) && needgp) {
            m.writeShort(state + r.stateGpFlags, (short) RCU_GP_FLAG_INIT);
            m.writePointer(state + r.stateGpReqActivity, jiffies());
        } else {
            m.writeShort(state + r.stateGpFlags, (short) (m.readShort(state + r.stateGpFlags) & RCU_GP_FLAG_INIT));
        }
    }

    /**
     * {@code rcu_report_qs_rdp}: a quiescent state from a CPU for the grace period it noted: stale
     * (the grace period moved on) it is dropped and a new one wanted; else the CPU's bit is cleared up
     * the tree ({@code rcu_report_qs_rnp}) after its callbacks are accelerated.
     */
    private void reportQsRdp(int cpu, long d) {
        long rnp = m.readPointer(d + r.dataMynode);
        if (m.readByte(d + r.dataCpuNoQsNorm) != 0 || m.readPointer(d + r.dataGpSeq) != m.readPointer(rnp + r.nodeGpSeq)
                || m.readByte(d + r.dataGpwrap) != 0) {
            m.writeByte(d + r.dataCpuNoQsNorm, (byte) 1);
            return;
        }
        long mask = m.readPointer(d + r.dataGrpmask);
        if ((m.readPointer(rnp + r.nodeQsmask) & mask) == 0) {
            return;
        }
        m.writeByte(d + r.dataCoreNeedsQs, (byte) 0);
        boolean needwake = accelerateCbs(rnp, d);
        reportQsRnp(cpu, mask, rnp, m.readPointer(rnp + r.nodeGpSeq));
        if (needwake) {
            gpKthreadWake(cpu);
        }
    }

    /**
     * {@code rcu_report_qs_rnp}: clear {@code mask} in the node's {@code qsmask} for grace period
     * {@code gps}; a node left empty records {@code completedqs} and reports its own bit to its parent;
     * the root left empty ends the grace period ({@code rcu_report_qs_rsp}: {@code RCU_GP_FLAG_FQS} and
     * the GP kthread woken).
     */
    private void reportQsRnp(int cpu, long mask, long rnp, long gps) {
        while (true) {
            long qsmask = m.readPointer(rnp + r.nodeQsmask);
            if ((qsmask & mask) == 0 || m.readPointer(rnp + r.nodeGpSeq) != gps) {
                return;
            }
            qsmask &= ~mask;
            m.writePointer(rnp + r.nodeQsmask, qsmask);
            if (qsmask != 0) {
                return;
            }
            m.writePointer(rnp + r.nodeCompletedqs, m.readPointer(rnp + r.nodeGpSeq));
            mask = m.readPointer(rnp + r.nodeGrpmask);
            long parent = m.readPointer(rnp + r.nodeParent);
            if (parent == 0) {
                break;
            }
            rnp = parent;
        }
        m.writeShort(state + r.stateGpFlags, (short) (m.readShort(state + r.stateGpFlags) | RCU_GP_FLAG_FQS));
        gpKthreadWake(cpu);
    }

    private long jiffies() {
        return core.rq.jiffies() & ulongMask;
    }

    /**
     * The tick's {@code rcu_check_callbacks(user_mode(regs))}, with the preempt count the interrupt
     * found: user mode is a task with an mm at count 0, the idle loop is the idle task at its own
     * count ({@code rcu_is_cpu_rrupt_from_idle}).
     */
    void tick(int cpu, int interruptedCount) {
        checkCallbacks(cpu, fromUser(cpu, interruptedCount) || fromIdleLoop(cpu, interruptedCount));
    }

    /** Whether an interrupt on {@code cpu} with {@code count} as preempt count came from the idle loop itself. */
    boolean fromIdleLoop(int cpu, int count) {
        return mc.current(cpu) == core.rq.idle(cpu) && count == mc.platform.preemptDisableOffset();
    }

    /** Whether the interrupted context was user mode: a task with an mm at preempt count 0. */
    boolean fromUser(int cpu, int count) {
        long current = mc.current(cpu);
        return count == 0 && current != core.rq.idle(cpu) && m.readPointer(current + mc.o.taskMm) != 0;
    }
}
