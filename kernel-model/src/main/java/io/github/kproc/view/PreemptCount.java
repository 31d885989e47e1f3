package io.github.kproc.view;

/**
 * A {@code preempt_count} value split as v4.19 {@code include/linux/preempt.h} defines it: preempt
 * depth in bits 0-7, softirq count in 8-15, hardirq count in 16-19, NMI in bit 20. The predicates
 * are the kernel's macros applied to this value.
 *
 * @param value the raw 32-bit count as stored in {@code thread_info.preempt_count}
 */
public record PreemptCount(int value) {
    public static final int PREEMPT_BITS = 8;
    public static final int SOFTIRQ_BITS = 8;
    public static final int HARDIRQ_BITS = 4;
    public static final int NMI_BITS = 1;
    public static final int PREEMPT_SHIFT = 0;
    public static final int SOFTIRQ_SHIFT = PREEMPT_SHIFT + PREEMPT_BITS;
    public static final int HARDIRQ_SHIFT = SOFTIRQ_SHIFT + SOFTIRQ_BITS;
    public static final int NMI_SHIFT = HARDIRQ_SHIFT + HARDIRQ_BITS;
    public static final int PREEMPT_MASK = ((1 << PREEMPT_BITS) - 1) << PREEMPT_SHIFT;
    public static final int SOFTIRQ_MASK = ((1 << SOFTIRQ_BITS) - 1) << SOFTIRQ_SHIFT;
    public static final int HARDIRQ_MASK = ((1 << HARDIRQ_BITS) - 1) << HARDIRQ_SHIFT;
    public static final int NMI_MASK = ((1 << NMI_BITS) - 1) << NMI_SHIFT;
    public static final int PREEMPT_OFFSET = 1 << PREEMPT_SHIFT;
    public static final int SOFTIRQ_OFFSET = 1 << SOFTIRQ_SHIFT;
    public static final int HARDIRQ_OFFSET = 1 << HARDIRQ_SHIFT;
    public static final int NMI_OFFSET = 1 << NMI_SHIFT;
    /** {@code SOFTIRQ_DISABLE_OFFSET}: local_bh_disable() adds twice SOFTIRQ_OFFSET. */
    public static final int SOFTIRQ_DISABLE_OFFSET = 2 * SOFTIRQ_OFFSET;
    /** {@code PREEMPT_NEED_RESCHED}: defined for every arch, folded only by x86; never set on ARM. */
    public static final int PREEMPT_NEED_RESCHED = 0x80000000;
    /** {@code INIT_PREEMPT_COUNT} = PREEMPT_OFFSET: preemption off until the scheduler runs. */
    public static final int INIT_PREEMPT_COUNT = PREEMPT_OFFSET;

    /**
     * The bits v4.19 gives no meaning: 21 to 30 (bit 31 is {@link #PREEMPT_NEED_RESCHED}). Bit 21 was
     * {@code PREEMPT_ACTIVE} before v4.4 removed it, so a count like {@code 0x200003} comes from an
     * older kernel's memory, or from corruption.
     */
    public static final int UNDEFINED_MASK = ~(PREEMPT_MASK | SOFTIRQ_MASK | HARDIRQ_MASK | NMI_MASK
            | PREEMPT_NEED_RESCHED);
    /** {@code PREEMPT_ACTIVE} of kernels before v4.4 (bit 21 on ARM and arm64), not a 4.19 field. */
    public static final int PRE_4_4_PREEMPT_ACTIVE = 1 << (NMI_SHIFT + NMI_BITS);

    /** The bits of this count that are not 4.19 fields ({@link #UNDEFINED_MASK}); 0 for a 4.19 count. */
    public int undefinedBits() {
        return value & UNDEFINED_MASK;
    }

    /** Preempt-disable depth: {@code preempt_count() & PREEMPT_MASK}. */
    public int preemptDepth() {
        return (value & PREEMPT_MASK) >>> PREEMPT_SHIFT;
    }

    /** Softirq field (BH-disable adds 2, serving a softirq adds 1): {@code softirq_count() >> SOFTIRQ_SHIFT}. */
    public int softirqField() {
        return (value & SOFTIRQ_MASK) >>> SOFTIRQ_SHIFT;
    }

    /** Nested hardirq count: {@code hardirq_count() >> HARDIRQ_SHIFT}. */
    public int hardirqField() {
        return (value & HARDIRQ_MASK) >>> HARDIRQ_SHIFT;
    }

    /** NMI bit: {@code (preempt_count() & NMI_MASK) >> NMI_SHIFT}. */
    public int nmiField() {
        return (value & NMI_MASK) >>> NMI_SHIFT;
    }

    /** {@code hardirq_count()}. */
    public int hardirqCount() {
        return value & HARDIRQ_MASK;
    }

    /** {@code softirq_count()}. */
    public int softirqCount() {
        return value & SOFTIRQ_MASK;
    }

    /** {@code irq_count()}: hardirq, softirq and NMI bits. */
    public int irqCount() {
        return value & (HARDIRQ_MASK | SOFTIRQ_MASK | NMI_MASK);
    }

    /** {@code in_irq()}: in hardirq context. */
    public boolean inIrq() {
        return hardirqCount() != 0;
    }

    /** {@code in_softirq()}: serving a softirq or BH disabled. */
    public boolean inSoftirq() {
        return softirqCount() != 0;
    }

    /** {@code in_serving_softirq()}: serving a softirq (not merely BH disabled). */
    public boolean inServingSoftirq() {
        return (softirqCount() & SOFTIRQ_OFFSET) != 0;
    }

    /** {@code in_interrupt()}: any of hardirq, softirq or NMI. */
    public boolean inInterrupt() {
        return irqCount() != 0;
    }

    /** {@code in_nmi()}. */
    public boolean inNmi() {
        return (value & NMI_MASK) != 0;
    }

    /** {@code in_task()}: not in NMI, hardirq or serving softirq. */
    public boolean inTask() {
        return (value & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET)) == 0;
    }

    /** {@code in_atomic()}: {@code preempt_count() != 0}. */
    public boolean inAtomic() {
        return value != 0;
    }

    /**
     * {@code in_atomic_preempt_off()}: {@code preempt_count() != PREEMPT_DISABLE_OFFSET}, where the
     * offset is 1 with CONFIG_PREEMPT_COUNT and 0 without.
     */
    public boolean inAtomicPreemptOff(int preemptDisableOffset) {
        return value != preemptDisableOffset;
    }

    /**
     * The count in words, as a reader of a debugger view would decode it:
     * {@code "preempt depth 1, softirq 0, hardirq 0, NMI 0: task context, atomic"}.
     */
    public String describe() {
        StringBuilder s = new StringBuilder();
        s.append("preempt depth ").append(preemptDepth());
        s.append(", softirq ").append(softirqField());
        if (softirqField() != 0) {
            s.append(" (").append(inServingSoftirq() ? "serving" : "not serving")
                    .append(", bh disabled ").append(softirqField() >>> 1).append(')');
        }
        s.append(", hardirq ").append(hardirqField()).append(", NMI ").append(nmiField()).append(": ");
        s.append(inNmi() ? "NMI context" : inIrq() ? "hardirq context" : inServingSoftirq() ? "softirq context"
                : "task context");
        if (inAtomic()) {
            s.append(", atomic");
        }
        int undefined = undefinedBits();
        if (undefined != 0) {
            s.append("; bits 0x").append(Integer.toHexString(undefined)).append(" are not 4.19 fields");
            if ((undefined & PRE_4_4_PREEMPT_ACTIVE) != 0) {
                s.append(" (0x").append(Integer.toHexString(PRE_4_4_PREEMPT_ACTIVE))
                        .append(" was PREEMPT_ACTIVE before 4.4)");
            }
        }
        if ((value & PREEMPT_NEED_RESCHED) != 0) {
            s.append("; PREEMPT_NEED_RESCHED (bit 31) set, which only x86 folds in");
        }
        return s.toString();
    }

    @Override
    public String toString() {
        return String.format("0x%x (%s)", value, describe());
    }
}
