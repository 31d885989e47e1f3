package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.PreemptCount;

/**
 * {@code include/linux/preempt.h} (asm-generic preempt, as ARM and arm64 use in 4.19) and the irq
 * half of {@code spinlock.h}: the current task's {@code thread_info.preempt_count} raised and
 * lowered field by field, and the CPU's irq mask around the scheduler's locks.
 *
 * <p>As the bundled builds have it (no CONFIG_DEBUG_PREEMPT), {@code preempt_count_add} and
 * {@code _sub} are plain additions: a field that overflows carries into the next one (the 256th
 * preempt_disable looks like a softirq), an exit without its entry borrows from the higher fields,
 * and nothing is printed; what follows (a "scheduling while atomic" BUG, say) is what the kernel
 * does next. In the opt-in strict mode ({@code Kernel.Builder.strictPreemptCount}) such an operation
 * is refused with {@link PreemptCountException} and the count is left as it was. Nested NMIs are
 * the kernel's {@code BUG_ON(in_nmi())}, refused in both modes. The preemption points
 * ({@code preempt_enable} reaching zero with CONFIG_PREEMPT) are {@link Core#preemptEnable}.
 */
final class Preempt {
    private final Machine mc;
    private final AddressSpace m;
    private final Platform platform;
    private final Offsets o;

    Preempt(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        this.platform = mc.platform;
        this.o = mc.o;
    }

    private long ti(int cpu) {
        return platform.taskThreadInfo(m, mc.current(cpu));
    }

    /** {@code preempt_count()} on {@code cpu}. */
    int count(int cpu) {
        return m.readInt(ti(cpu) + o.tiPreemptCount);
    }

    /** {@code preempt_count_set}. */
    void set(int cpu, int value) {
        m.writeInt(ti(cpu) + o.tiPreemptCount, value);
    }

    /** {@code preempt_count_add(delta)} into the field {@code mask}; strict mode refuses an overflow of the field. */
    void add(int cpu, int delta, int mask, String what) {
        int c = count(cpu);
        int field = c & mask;
        int shift = Integer.numberOfTrailingZeros(mask);
        if (mc.strictPreemptCount && ((field >>> shift) + (delta >>> shift)) > (mask >>> shift)) {
            throw new PreemptCountException(String.format("BUG: %s overflows preempt_count 0x%08x", what, c));
        }
        set(cpu, c + delta);
    }

    /** {@code preempt_count_sub(delta)} from the field {@code mask}; strict mode refuses an underflow. */
    void sub(int cpu, int delta, int mask, String what) {
        int c = count(cpu);
        if (mc.strictPreemptCount && (c & mask) < delta) {
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

    /** {@code nmi_enter()}: {@code BUG_ON(in_nmi())}, recorded and refused; +NMI_OFFSET + HARDIRQ_OFFSET. */
    void nmiEnter(int cpu) {
        int c = count(cpu);
        if ((c & PreemptCount.NMI_MASK) != 0) {
            mc.bug("kernel BUG at include/linux/hardirq.h:68!");
            throw new PreemptCountException(String.format("BUG: nmi_enter in NMI 0x%08x", c));
        }
        add(cpu, PreemptCount.HARDIRQ_OFFSET, PreemptCount.HARDIRQ_MASK, "nmi_enter");
        set(cpu, count(cpu) + PreemptCount.NMI_OFFSET);
    }

    /** {@code nmi_exit()}: {@code BUG_ON(!in_nmi())}, recorded and refused; -(NMI_OFFSET + HARDIRQ_OFFSET). */
    void nmiExit(int cpu) {
        int c = count(cpu);
        if ((c & PreemptCount.NMI_MASK) == 0) {
            mc.bug("kernel BUG at include/linux/hardirq.h:78!");
            throw new PreemptCountException(String.format("BUG: nmi_exit outside NMI 0x%08x", c));
        }
        if (mc.strictPreemptCount && (c & PreemptCount.HARDIRQ_MASK) == 0) {
            throw new PreemptCountException(String.format("BUG: nmi_exit without HARDIRQ_OFFSET 0x%08x", c));
        }
        set(cpu, c - PreemptCount.NMI_OFFSET - PreemptCount.HARDIRQ_OFFSET);
    }

    /** {@code need_resched()}: TIF_NEED_RESCHED of the current task. */
    boolean needResched(int cpu) {
        return (m.readPointer(ti(cpu) + o.tiFlags) & (1L << Machine.TIF_NEED_RESCHED)) != 0;
    }

    boolean irqsEnabled(int cpu) {
        return !mc.irqsOff[cpu];
    }

    /** {@code raw_spin_lock_irqsave}: irqs off, preemption disabled. */
    void lockIrqSave(int cpu) {
        mc.irqsOff[cpu] = true;
        preemptDisable(cpu);
    }

    /** {@code raw_spin_unlock_irqrestore}. */
    void unlockIrqRestore(int cpu) {
        preemptEnableNoResched(cpu);
        mc.irqsOff[cpu] = false;
    }
}
