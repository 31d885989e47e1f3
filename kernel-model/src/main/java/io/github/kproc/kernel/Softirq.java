package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.PreemptCount;

/**
 * {@code kernel/softirq.c} and the architecture's interrupt return: {@code irq_enter}/
 * {@code irq_exit}, {@code local_bh_enable}, {@code raise_softirq}, {@code __do_softirq}, the
 * reschedule IPI taken as an interrupt, and the reschedule on the way out of an interrupt.
 */
final class Softirq {
    /** Softirq vector names ({@code softirq_to_name}). */
    static final String[] SOFTIRQ_NAMES = {"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET",
        "SCHED", "HRTIMER", "RCU"};

    private final Machine mc;
    private final AddressSpace m;
    private final Offsets o;
    private final Preempt preempt;
    private final Core core;
    /** {@code SCHED_SOFTIRQ}: load balancing ({@code run_rebalance_domains}). */
    static final int SCHED_SOFTIRQ = 7;
    /** Set once RCU exists: RCU_SOFTIRQ runs its {@code rcu_process_callbacks}. */
    @org.jspecify.annotations.Nullable Rcu rcu;
    /** {@code local_softirq_pending()} per CPU (irq_stat's {@code __softirq_pending}): raised vectors. */
    final int[] softirqPending;

    Softirq(Machine mc, Preempt preempt, Core core) {
        this.mc = mc;
        this.m = mc.m;
        this.o = mc.o;
        this.preempt = preempt;
        this.core = core;
        this.softirqPending = new int[mc.cpus];
    }

    /** The {@code WARN_ON_ONCE} of {@code __local_bh_enable_ip} fired (once per boot, as its static flag). */
    private boolean warnedLocalBhEnableInIrq;

    /**
     * {@code local_bh_enable()} = {@code __local_bh_enable_ip(ip, SOFTIRQ_DISABLE_OFFSET)} (refused in
     * hardirq context): {@code preempt_count_sub(cnt - 1)} keeps preemption disabled while pending
     * softirqs run (when that leaves no interrupt context), then {@code preempt_count_dec()} and a
     * preemption check. Both are raw count operations, so the +1 shows on every build.
     */
    void localBhEnable(int cpu) {
        int c = preempt.count(cpu);
        if ((c & PreemptCount.HARDIRQ_MASK) != 0) {
            if (mc.strictPreemptCount) {
                throw new PreemptCountException(String.format("BUG: local_bh_enable in hardirq context 0x%08x", c));
            }
            if (!warnedLocalBhEnableInIrq) {
                // WARN_ON_ONCE(in_irq()) in __local_bh_enable_ip, kernel/softirq.c:168 in 4.19.1; then it goes on
                warnedLocalBhEnableInIrq = true;
                long current = mc.current(cpu);
                mc.bug(String.format("WARNING: CPU: %d PID: %d at kernel/softirq.c:168 __local_bh_enable_ip", cpu,
                        mc.m.readInt(current + mc.o.taskPid)));
            }
        }
        if (mc.strictPreemptCount && (c & PreemptCount.SOFTIRQ_MASK) < PreemptCount.SOFTIRQ_DISABLE_OFFSET) {
            throw new PreemptCountException(String.format("BUG: local_bh_enable without local_bh_disable 0x%08x", c));
        }
        preempt.set(cpu, c - (PreemptCount.SOFTIRQ_DISABLE_OFFSET - 1));
        doSoftirqIfPending(cpu);
        preempt.set(cpu, preempt.count(cpu) - 1);
        core.preemptCheckResched(cpu);
    }

    /**
     * {@code raise_softirq(nr)}: {@code local_irq_save()}, {@code raise_softirq_irqoff()} (whose
     * {@code __raise_softirq_irqoff()} writes {@code softirq_raise}, so irqs are always off there),
     * {@code local_irq_restore()}.
     */
    void raiseSoftirq(int cpu, int vector) {
        if (vector < 0 || vector >= SOFTIRQ_NAMES.length) {
            throw new IllegalArgumentException("no softirq vector " + vector);
        }
        boolean wasOff = mc.irqsOff[cpu];
        mc.irqsOff[cpu] = true;
        mc.trace.softirq(cpu, "softirq_raise", vector);
        softirqPending[cpu] |= 1 << vector;
        mc.irqsOff[cpu] = wasOff;
    }

    /**
     * {@code __do_softirq()}: serving softirqs (+SOFTIRQ_OFFSET) with irqs on, each pending vector's
     * {@code softirq_entry}/{@code softirq_exit} around its handler: SCHED_SOFTIRQ runs
     * {@code run_rebalance_domains}, RCU_SOFTIRQ {@code rcu_process_callbacks}; the other vectors have
     * no handler work in the model.
     */
    void doSoftirq(int cpu) {
        preempt.add(cpu, PreemptCount.SOFTIRQ_OFFSET, PreemptCount.SOFTIRQ_MASK, "__do_softirq");
        boolean wasOff = mc.irqsOff[cpu];
        mc.irqsOff[cpu] = false;
        while (softirqPending[cpu] != 0) {
            int pending = softirqPending[cpu];
            softirqPending[cpu] = 0;
            for (int vector = 0; vector < SOFTIRQ_NAMES.length; vector++) {
                if ((pending & (1 << vector)) != 0) {
                    mc.trace.softirq(cpu, "softirq_entry", vector);
                    if (vector == SCHED_SOFTIRQ) {
                        core.fair.runRebalanceDomains(cpu);
                    } else if (vector == Rcu.RCU_SOFTIRQ && rcu != null) {
                        rcu.processCallbacks(cpu);
                    }
                    mc.trace.softirq(cpu, "softirq_exit", vector);
                }
            }
        }
        mc.irqsOff[cpu] = wasOff;
        preempt.set(cpu, preempt.count(cpu) - PreemptCount.SOFTIRQ_OFFSET);
    }

    /** {@code irq_enter()}: hardirq context (+HARDIRQ_OFFSET), irqs off. */
    void irqEnter(int cpu) {
        preempt.add(cpu, PreemptCount.HARDIRQ_OFFSET, PreemptCount.HARDIRQ_MASK, "irq_enter");
        mc.irqsOff[cpu] = true;
    }

    /**
     * {@code irq_exit()}: -HARDIRQ_OFFSET and pending softirqs if that leaves no interrupt context;
     * then the architecture's return path reschedules when TIF_NEED_RESCHED is set and it may: the idle
     * loop with {@code schedule_idle()} (when the interrupt returns into the loop itself); a user task
     * (preempt count 0: interrupted in user space) on its way back there, {@code __irq_usr}/
     * {@code el0_irq} -> {@code schedule()} (prev_state R); a kernel thread only with CONFIG_PREEMPT and
     * a zero preempt count, {@code __irq_svc}/{@code el1_irq} -> {@code preempt_schedule_irq()}
     * (prev_state R+).
     */
    void irqExit(int cpu) {
        preempt.sub(cpu, PreemptCount.HARDIRQ_OFFSET, PreemptCount.HARDIRQ_MASK, "irq_exit without irq_enter");
        doSoftirqIfPending(cpu);
        returnFromInterrupt(cpu);
    }

    /**
     * The reschedule IPI arriving on {@code cpu}: the exception entry masks irqs, {@code handle_IPI()}
     * (arch/arm/kernel/smp.c, arch/arm64/kernel/smp.c) writes {@code ipi_entry}, runs
     * {@code scheduler_ipi()} and writes {@code ipi_exit}; the reschedule happens on the way out of the
     * exception. IPI_RESCHEDULE takes no {@code irq_enter()}: scheduler_ipi() enters hardirq context
     * only to run a wake_list or a nohz idle kick, which the model does not queue, so the lines show no
     * 'h'. A CPU with irqs masked, or in a hardirq or NMI handler, does not take the interrupt: it stays
     * pending.
     */
    void deliverReschedIpi(int cpu) {
        if (mc.irqsOff[cpu]
                || (preempt.count(cpu) & (PreemptCount.HARDIRQ_MASK | PreemptCount.NMI_MASK)) != 0) {
            return;
        }
        mc.ipiPending[cpu] = false;
        mc.irqsOff[cpu] = true;
        mc.trace.ipi(cpu, "ipi_entry", -1);
        mc.trace.ipi(cpu, "ipi_exit", -1);
        returnFromInterrupt(cpu);
    }

    /** {@code if (!in_interrupt() && local_softirq_pending()) do_softirq();} */
    private void doSoftirqIfPending(int cpu) {
        if ((preempt.count(cpu) & (PreemptCount.HARDIRQ_MASK | PreemptCount.SOFTIRQ_MASK | PreemptCount.NMI_MASK)) == 0
                && softirqPending[cpu] != 0) {
            doSoftirq(cpu);
        }
    }

    private void returnFromInterrupt(int cpu) {
        int count = preempt.count(cpu);
        if ((count & (PreemptCount.HARDIRQ_MASK | PreemptCount.NMI_MASK)) != 0) {
            return;
        }
        mc.irqsOff[cpu] = false;
        if (!preempt.needResched(cpu)) {
            return;
        }
        long current = mc.current(cpu);
        if (core.isIdle(current)) {
            // do_idle() notices need_resched() only when the interrupt returns into the idle loop itself,
            // not into a softirq or bh-disabled section the idle task is running
            if (count == mc.platform.preemptDisableOffset()) {
                core.schedule(cpu, false, 0);
            }
        } else if (m.readPointer(current + o.taskMm) != 0 && count == 0) {
            // back to user space: ret_to_user -> do_work_pending() / do_notify_resume() -> schedule()
            core.schedule(cpu, false, 0);
        } else if (mc.platform.preemptible() && count == 0) {
            // __irq_svc / el1_irq with CONFIG_PREEMPT -> preempt_schedule_irq() -> __schedule(true)
            core.schedule(cpu, true, 0);
        }
    }
}
