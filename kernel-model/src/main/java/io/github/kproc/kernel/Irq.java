package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.PreemptCount;

/**
 * Contexts a CPU runs in, kept where the kernel keeps them, in the current task's
 * {@code thread_info.preempt_count} (asm-generic preempt, as ARM and arm64 use in 4.19):
 * {@code preempt_disable}/{@code enable} (counting only with CONFIG_PREEMPT_COUNT, a preemption
 * point only with CONFIG_PREEMPT), {@code local_bh_disable}/{@code enable}, {@code irq_enter}/
 * {@code irq_exit} with the return-from-interrupt preemption, softirq processing, {@code nmi_enter}/
 * {@code nmi_exit}, and the reschedule IPI delivered as an interrupt.
 *
 * <p>A field overflow or an unbalanced exit is a kernel BUG: it is refused with
 * {@link PreemptCountException} and the count is left as it was.
 */
final class Irq {
    private final Kernel k;
    private final AddressSpace m;
    private final Platform platform;
    private final Offsets o;
    /** {@code local_softirq_pending()} per CPU: a bitmask of raised softirq vectors. */
    final int[] softirqPending;

    /** Softirq vector names ({@code softirq_to_name}). */
    static final String[] SOFTIRQ_NAMES = {"HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET",
        "SCHED", "HRTIMER", "RCU"};
    static final int TIMER_SOFTIRQ = 1;
    static final int SCHED_SOFTIRQ = 7;
    static final int RCU_SOFTIRQ = 9;

    Irq(Kernel k) {
        this.k = k;
        this.m = k.m;
        this.platform = k.platform;
        this.o = k.o;
        this.softirqPending = new int[k.cpus];
    }

    private long ti(int cpu) {
        return platform.taskThreadInfo(m, k.current(cpu));
    }

    int count(int cpu) {
        return m.readInt(ti(cpu) + o.tiPreemptCount);
    }

    private void set(int cpu, int value) {
        m.writeInt(ti(cpu) + o.tiPreemptCount, value);
    }

    private void add(int cpu, int delta, int mask, String what) {
        int c = count(cpu);
        int field = c & mask;
        int shift = Integer.numberOfTrailingZeros(mask);
        if (((field >>> shift) + (delta >>> shift)) > (mask >>> shift)) {
            throw new PreemptCountException(String.format("BUG: %s overflows preempt_count 0x%08x", what, c));
        }
        set(cpu, c + delta);
    }

    private void sub(int cpu, int delta, int mask, String what) {
        int c = count(cpu);
        if ((c & mask) < delta) {
            throw new PreemptCountException(String.format("BUG: %s with preempt_count 0x%08x", what, c));
        }
        set(cpu, c - delta);
    }

    /** {@code preempt_disable()}: +1 with CONFIG_PREEMPT_COUNT, a compiler barrier otherwise. */
    void preemptDisable(int cpu) {
        if (platform.preemptCountEnabled()) {
            add(cpu, PreemptCount.PREEMPT_OFFSET, PreemptCount.PREEMPT_MASK, "preempt_disable");
        }
    }

    /**
     * {@code preempt_enable()}: -1 with CONFIG_PREEMPT_COUNT; with CONFIG_PREEMPT, reaching zero with
     * TIF_NEED_RESCHED set is a preemption point ({@code __preempt_schedule}).
     */
    void preemptEnable(int cpu) {
        if (!platform.preemptCountEnabled()) {
            return;
        }
        sub(cpu, PreemptCount.PREEMPT_OFFSET, PreemptCount.PREEMPT_MASK, "preempt_enable underflow");
        preemptCheckResched(cpu);
    }

    /** {@code preempt_enable_no_resched()}: -1 with CONFIG_PREEMPT_COUNT, no preemption point (the unlock of a lock). */
    void preemptEnableNoResched(int cpu) {
        if (platform.preemptCountEnabled()) {
            sub(cpu, PreemptCount.PREEMPT_OFFSET, PreemptCount.PREEMPT_MASK, "preempt_enable_no_resched underflow");
        }
    }

    /** {@code local_bh_disable()}: +SOFTIRQ_DISABLE_OFFSET. */
    void localBhDisable(int cpu) {
        add(cpu, PreemptCount.SOFTIRQ_DISABLE_OFFSET, PreemptCount.SOFTIRQ_MASK, "local_bh_disable");
    }

    /**
     * {@code local_bh_enable()} = {@code __local_bh_enable_ip(ip, SOFTIRQ_DISABLE_OFFSET)} (refused in
     * hardirq context): {@code preempt_count_sub(cnt - 1)} keeps preemption disabled while pending
     * softirqs run (when that leaves no interrupt context), then {@code preempt_count_dec()} and a
     * preemption check. Both are raw count operations, so the +1 shows on every build.
     */
    void localBhEnable(int cpu) {
        int c = count(cpu);
        if ((c & PreemptCount.HARDIRQ_MASK) != 0) {
            throw new PreemptCountException(String.format("BUG: local_bh_enable in hardirq context 0x%08x", c));
        }
        if ((c & PreemptCount.SOFTIRQ_MASK) < PreemptCount.SOFTIRQ_DISABLE_OFFSET) {
            throw new PreemptCountException(String.format("BUG: local_bh_enable without local_bh_disable 0x%08x", c));
        }
        set(cpu, c - (PreemptCount.SOFTIRQ_DISABLE_OFFSET - 1));
        doSoftirqIfPending(cpu);
        set(cpu, count(cpu) - 1);
        preemptCheckResched(cpu);
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
        boolean wasOff = k.sched.irqsOff[cpu];
        k.sched.irqsOff[cpu] = true;
        k.traceSoftirq(cpu, "softirq_raise", vector);
        softirqPending[cpu] |= 1 << vector;
        k.sched.irqsOff[cpu] = wasOff;
    }

    /**
     * {@code __do_softirq()}: serving softirqs (+SOFTIRQ_OFFSET) with irqs on, each pending vector's
     * {@code softirq_entry}/{@code softirq_exit}.
     */
    void doSoftirq(int cpu) {
        add(cpu, PreemptCount.SOFTIRQ_OFFSET, PreemptCount.SOFTIRQ_MASK, "__do_softirq");
        boolean wasOff = k.sched.irqsOff[cpu];
        k.sched.irqsOff[cpu] = false;
        while (softirqPending[cpu] != 0) {
            int pending = softirqPending[cpu];
            softirqPending[cpu] = 0;
            for (int vector = 0; vector < SOFTIRQ_NAMES.length; vector++) {
                if ((pending & (1 << vector)) != 0) {
                    k.traceSoftirq(cpu, "softirq_entry", vector);
                    k.traceSoftirq(cpu, "softirq_exit", vector);
                }
            }
        }
        k.sched.irqsOff[cpu] = wasOff;
        set(cpu, count(cpu) - PreemptCount.SOFTIRQ_OFFSET);
    }

    /** {@code irq_enter()}: hardirq context (+HARDIRQ_OFFSET), irqs off. */
    void irqEnter(int cpu) {
        add(cpu, PreemptCount.HARDIRQ_OFFSET, PreemptCount.HARDIRQ_MASK, "irq_enter");
        k.sched.irqsOff[cpu] = true;
    }

    /**
     * {@code irq_exit()}: -HARDIRQ_OFFSET and pending softirqs if that leaves no interrupt context;
     * then the architecture's return path reschedules when TIF_NEED_RESCHED is set and it may: the idle
     * loop with {@code schedule_idle()} (when the interrupt returns into the loop itself); a user task (preempt count 0: interrupted in user space) on
     * its way back there, {@code __irq_usr}/{@code el0_irq} -> {@code schedule()} (prev_state R); a
     * kernel thread only with CONFIG_PREEMPT and a zero preempt count, {@code __irq_svc}/{@code el1_irq}
     * -> {@code preempt_schedule_irq()} (prev_state R+).
     */
    void irqExit(int cpu) {
        sub(cpu, PreemptCount.HARDIRQ_OFFSET, PreemptCount.HARDIRQ_MASK, "irq_exit without irq_enter");
        doSoftirqIfPending(cpu);
        returnFromInterrupt(cpu);
    }

    /** {@code nmi_enter()}: BUG in NMI already; +NMI_OFFSET + HARDIRQ_OFFSET. */
    void nmiEnter(int cpu) {
        int c = count(cpu);
        if ((c & PreemptCount.NMI_MASK) != 0) {
            throw new PreemptCountException(String.format("BUG: nmi_enter in NMI 0x%08x", c));
        }
        add(cpu, PreemptCount.HARDIRQ_OFFSET, PreemptCount.HARDIRQ_MASK, "nmi_enter");
        set(cpu, count(cpu) + PreemptCount.NMI_OFFSET);
    }

    /** {@code nmi_exit()}: BUG outside NMI; -(NMI_OFFSET + HARDIRQ_OFFSET). */
    void nmiExit(int cpu) {
        int c = count(cpu);
        if ((c & PreemptCount.NMI_MASK) == 0 || (c & PreemptCount.HARDIRQ_MASK) == 0) {
            throw new PreemptCountException(String.format("BUG: nmi_exit outside NMI 0x%08x", c));
        }
        set(cpu, c - PreemptCount.NMI_OFFSET - PreemptCount.HARDIRQ_OFFSET);
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
        if (k.sched.irqsOff[cpu] || (count(cpu) & (PreemptCount.HARDIRQ_MASK | PreemptCount.NMI_MASK)) != 0) {
            return;
        }
        k.sched.ipiPending[cpu] = false;
        k.sched.irqsOff[cpu] = true;
        k.traceIpi(cpu, "ipi_entry", -1);
        k.traceIpi(cpu, "ipi_exit", -1);
        returnFromInterrupt(cpu);
    }

    /** {@code if (!in_interrupt() && local_softirq_pending()) do_softirq();} */
    private void doSoftirqIfPending(int cpu) {
        if ((count(cpu) & (PreemptCount.HARDIRQ_MASK | PreemptCount.SOFTIRQ_MASK | PreemptCount.NMI_MASK)) == 0
                && softirqPending[cpu] != 0) {
            doSoftirq(cpu);
        }
    }

    /** {@code preempt_check_resched()}: with CONFIG_PREEMPT, a zero count and TIF_NEED_RESCHED preempt now. */
    private void preemptCheckResched(int cpu) {
        if (platform.preemptible() && count(cpu) == 0 && irqsEnabled(cpu) && needResched(cpu)) {
            k.sched.schedule(cpu, true, 0);
        }
    }

    private void returnFromInterrupt(int cpu) {
        if ((count(cpu) & (PreemptCount.HARDIRQ_MASK | PreemptCount.NMI_MASK)) != 0) {
            return;
        }
        k.sched.irqsOff[cpu] = false;
        if (!needResched(cpu)) {
            return;
        }
        long current = k.current(cpu);
        if (k.sched.isIdle(current)) {
            // do_idle() notices need_resched() only when the interrupt returns into the idle loop itself,
            // not into a softirq or bh-disabled section the idle task is running
            if (count(cpu) == platform.preemptDisableOffset()) {
                k.sched.schedule(cpu, false, 0);
            }
        } else if (m.readPointer(current + o.taskMm) != 0 && count(cpu) == 0) {
            // back to user space: ret_to_user -> do_work_pending() / do_notify_resume() -> schedule()
            k.sched.schedule(cpu, false, 0);
        } else if (platform.preemptible() && count(cpu) == 0) {
            // __irq_svc / el1_irq with CONFIG_PREEMPT -> preempt_schedule_irq() -> __schedule(true)
            k.sched.schedule(cpu, true, 0);
        }
    }

    boolean needResched(int cpu) {
        return (m.readPointer(ti(cpu) + o.tiFlags) & (1L << Kernel.TIF_NEED_RESCHED)) != 0;
    }

    boolean irqsEnabled(int cpu) {
        return !k.sched.irqsOff[cpu];
    }
}
