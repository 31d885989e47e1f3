package io.github.kproc.view;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.quicktheories.QuickTheory;

/**
 * The {@code preempt_count} predicates of v4.19 {@code include/linux/preempt.h} on the raw count an
 * ARM {@code thread_info} holds (asm-generic: {@code preempt_count()} is the stored int, nothing
 * folded or masked). Expected values are written out by hand from the macros, not computed by them.
 */
class PreemptCountTest {
    private static final long SEED = Long.getLong("QT_SEED", 0x4_19_6b_aaL);

    /**
     * One row: a count, what puts a CPU in that state, and the macros' answers. {@code atomicOff1}
     * and {@code atomicOff0} are {@code in_atomic_preempt_off()} with PREEMPT_DISABLE_OFFSET 1
     * (CONFIG_PREEMPT_COUNT, arm64 defconfig) and 0 (without it, ARM32 vexpress).
     */
    record Row(int value, String state, boolean inIrq, boolean inSoftirq, boolean inServingSoftirq, boolean inInterrupt,
            boolean inNmi, boolean inTask, boolean inAtomic, boolean atomicOff1, boolean atomicOff0) {
        @Override
        public String toString() {
            return String.format("0x%x %s", value, state);
        }
    }

    private static final boolean T = true;
    private static final boolean F = false;

    static List<Row> rows() {
        return List.of(
                //                                                          irq sirq serv intr nmi task atom off1 off0
                new Row(0, "task, preemptible", F, F, F, F, F, T, F, T, F),
                new Row(1, "preempt_disable() (PREEMPT_OFFSET)", F, F, F, F, F, T, T, F, T),
                new Row(2, "FORK_PREEMPT_COUNT with PREEMPT_COUNT", F, F, F, F, F, T, T, T, T),
                new Row(0xff, "PREEMPT_MASK full: 255 nested preempt_disable()", F, F, F, F, F, T, T, T, T),
                new Row(0x100, "serving a softirq (SOFTIRQ_OFFSET)", F, T, T, T, F, F, T, T, T),
                new Row(0x200, "local_bh_disable() (SOFTIRQ_DISABLE_OFFSET)", F, T, F, T, F, T, T, T, T),
                new Row(0x201, "spin_lock_bh() (SOFTIRQ_LOCK_OFFSET with PREEMPT_COUNT)", F, T, F, T, F, T, T, T, T),
                new Row(0x300, "local_bh_disable() while serving a softirq", F, T, T, T, F, F, T, T, T),
                new Row(0xfe00, "127 nested local_bh_disable()", F, T, F, T, F, T, T, T, T),
                new Row(0xff00, "SOFTIRQ_MASK full", F, T, T, T, F, F, T, T, T),
                new Row(0x10000, "__irq_enter() (HARDIRQ_OFFSET)", T, F, F, T, F, F, T, T, T),
                new Row(0x10001, "hardirq with preemption disabled", T, F, F, T, F, F, T, T, T),
                new Row(0x10100, "hardirq interrupting a softirq", T, T, T, T, F, F, T, T, T),
                new Row(0x10200, "hardirq interrupting a bh-disabled section", T, T, F, T, F, F, T, T, T),
                new Row(0xf0000, "HARDIRQ_MASK full: 15 nested hardirqs", T, F, F, T, F, F, T, T, T),
                new Row(0x100000, "NMI_MASK bit alone (NMI_OFFSET)", F, F, F, T, T, F, T, T, T),
                new Row(0x110000, "nmi_enter() (NMI_OFFSET + HARDIRQ_OFFSET)", T, F, F, T, T, F, T, T, T),
                new Row(0x1fffff, "every field full", T, T, T, T, T, F, T, T, T),
                new Row(0x200000, "bit 21, above every field", F, F, F, F, F, T, T, T, T),
                new Row(0x80000000, "PREEMPT_NEED_RESCHED bit alone (never set by asm-generic)", F, F, F, F, F, T, T, T, T),
                new Row(0x80000001, "PREEMPT_NEED_RESCHED + preempt_disable()", F, F, F, F, F, T, T, T, T),
                new Row(0x80010000, "PREEMPT_NEED_RESCHED + hardirq", T, F, F, T, F, F, T, T, T));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void everyPredicateMatchesItsPreemptHMacro(Row row) {
        PreemptCount count = new PreemptCount(row.value());
        assertAll(
                () -> assertEquals(row.inIrq(), count.inIrq(), "in_irq() = hardirq_count()"),
                () -> assertEquals(row.inSoftirq(), count.inSoftirq(), "in_softirq() = softirq_count()"),
                () -> assertEquals(row.inServingSoftirq(), count.inServingSoftirq(),
                        "in_serving_softirq() = softirq_count() & SOFTIRQ_OFFSET"),
                () -> assertEquals(row.inInterrupt(), count.inInterrupt(), "in_interrupt() = irq_count()"),
                () -> assertEquals(row.inNmi(), count.inNmi(), "in_nmi() = preempt_count() & NMI_MASK"),
                () -> assertEquals(row.inTask(), count.inTask(),
                        "in_task() = !(preempt_count() & (NMI_MASK | HARDIRQ_MASK | SOFTIRQ_OFFSET))"),
                () -> assertEquals(row.inAtomic(), count.inAtomic(), "in_atomic() = preempt_count() != 0"),
                () -> assertEquals(row.atomicOff1(), count.inAtomicPreemptOff(1),
                        "in_atomic_preempt_off() = preempt_count() != PREEMPT_DISABLE_OFFSET (1)"),
                () -> assertEquals(row.atomicOff0(), count.inAtomicPreemptOff(0),
                        "in_atomic_preempt_off() = preempt_count() != PREEMPT_DISABLE_OFFSET (0)"));
    }

    @Test
    void fieldsAreSplitAtTheBitsPreemptHDefines() {
        assertEquals(0xff, PreemptCount.PREEMPT_MASK);
        assertEquals(0xff00, PreemptCount.SOFTIRQ_MASK);
        assertEquals(0xf0000, PreemptCount.HARDIRQ_MASK);
        assertEquals(0x100000, PreemptCount.NMI_MASK);
        assertEquals(1, PreemptCount.PREEMPT_OFFSET);
        assertEquals(0x100, PreemptCount.SOFTIRQ_OFFSET);
        assertEquals(0x200, PreemptCount.SOFTIRQ_DISABLE_OFFSET);
        assertEquals(0x10000, PreemptCount.HARDIRQ_OFFSET);
        assertEquals(0x100000, PreemptCount.NMI_OFFSET);
        assertEquals(0x80000000, PreemptCount.PREEMPT_NEED_RESCHED);
        assertEquals(1, PreemptCount.INIT_PREEMPT_COUNT, "INIT_PREEMPT_COUNT = PREEMPT_OFFSET");
    }

    @Test
    void fieldValuesAtTheirBoundaries() {
        assertFields(0, 0, 0, 0, 0);
        assertFields(0xff, 255, 0, 0, 0);
        assertFields(0x100, 0, 1, 0, 0);
        assertFields(0xff00, 0, 255, 0, 0);
        assertFields(0x10000, 0, 0, 1, 0);
        assertFields(0xf0000, 0, 0, 15, 0);
        assertFields(0x100000, 0, 0, 0, 1);
        assertFields(0x1fffff, 255, 255, 15, 1);
        assertFields(0x80000000, 0, 0, 0, 0);
        assertFields(0x80210302, 2, 3, 1, 0);
    }

    private static void assertFields(int value, int preempt, int softirq, int hardirq, int nmi) {
        PreemptCount c = new PreemptCount(value);
        String at = String.format("0x%x", value);
        assertAll(at,
                () -> assertEquals(preempt, c.preemptDepth(), "preempt_count() & PREEMPT_MASK"),
                () -> assertEquals(softirq, c.softirqField(), "softirq_count() >> SOFTIRQ_SHIFT"),
                () -> assertEquals(hardirq, c.hardirqField(), "hardirq_count() >> HARDIRQ_SHIFT"),
                () -> assertEquals(nmi, c.nmiField(), "NMI bit"),
                () -> assertEquals(value & 0xf0000, c.hardirqCount(), "hardirq_count()"),
                () -> assertEquals(value & 0xff00, c.softirqCount(), "softirq_count()"),
                () -> assertEquals(value & 0x1fff00, c.irqCount(), "irq_count()"));
    }

    @Test
    void predicatesAgreeWithTheMacrosForEveryCount() {
        QuickTheory.qt().withFixedSeed(SEED).withExamples(2000).forAll(integers().all()).checkAssert(v -> {
            PreemptCount c = new PreemptCount(v);
            String at = String.format("0x%x", v);
            assertEquals((v & 0xf0000) != 0, c.inIrq(), at);
            assertEquals((v & 0xff00) != 0, c.inSoftirq(), at);
            assertEquals((v & 0xff00 & 0x100) != 0, c.inServingSoftirq(), at);
            assertEquals((v & (0xf0000 | 0xff00 | 0x100000)) != 0, c.inInterrupt(), at);
            assertEquals((v & 0x100000) != 0, c.inNmi(), at);
            assertEquals((v & (0x100000 | 0xf0000 | 0x100)) == 0, c.inTask(), at);
            assertEquals(v != 0, c.inAtomic(), at);
            assertEquals(v != 1, c.inAtomicPreemptOff(1), at);
            assertEquals(v != 0, c.inAtomicPreemptOff(0), at);
        });
    }

    @Test
    void describeSpellsOutEachFieldAndTheContext() {
        assertEquals("preempt depth 0, softirq 0, hardirq 0, NMI 0: task context", new PreemptCount(0).describe());
        assertEquals("preempt depth 1, softirq 0, hardirq 0, NMI 0: task context, atomic", new PreemptCount(1).describe());
        assertEquals("preempt depth 2, softirq 0, hardirq 0, NMI 0: task context, atomic",
                new PreemptCount(2).describe(), "FORK_PREEMPT_COUNT");
        assertEquals("preempt depth 0, softirq 1 (serving, bh disabled 0), hardirq 0, NMI 0: softirq context, atomic",
                new PreemptCount(0x100).describe());
        assertEquals("preempt depth 1, softirq 2 (not serving, bh disabled 1), hardirq 0, NMI 0: task context, atomic",
                new PreemptCount(0x201).describe(), "spin_lock_bh()");
        assertEquals("preempt depth 0, softirq 3 (serving, bh disabled 1), hardirq 0, NMI 0: softirq context, atomic",
                new PreemptCount(0x300).describe());
        assertEquals("preempt depth 0, softirq 1 (serving, bh disabled 0), hardirq 1, NMI 0: hardirq context, atomic",
                new PreemptCount(0x10100).describe());
        assertEquals("preempt depth 0, softirq 0, hardirq 15, NMI 0: hardirq context, atomic",
                new PreemptCount(0xf0000).describe());
        assertEquals("preempt depth 0, softirq 0, hardirq 1, NMI 1: NMI context, atomic",
                new PreemptCount(0x110000).describe(), "nmi_enter()");
        assertEquals("preempt depth 255, softirq 255 (serving, bh disabled 127), hardirq 15, NMI 1: NMI context, atomic",
                new PreemptCount(0x1fffff).describe());
    }

    @Test
    void bitsThat419DoesNotDefineAreNamed() {
        // include/linux/preempt.h of 4.19: bits 21-30 are no field; bit 21 was PREEMPT_ACTIVE before 4.4
        PreemptCount old = new PreemptCount(0x200003);
        assertEquals(0x200000, old.undefinedBits());
        assertEquals(3, old.preemptDepth(), "the 4.19 fields still decode");
        assertEquals("preempt depth 3, softirq 0, hardirq 0, NMI 0: task context, atomic; bits 0x200000 are not 4.19"
                + " fields (0x200000 was PREEMPT_ACTIVE before 4.4)", old.describe());
        assertEquals("preempt depth 0, softirq 0, hardirq 0, NMI 0: task context, atomic; bits 0x40000000 are not 4.19"
                + " fields", new PreemptCount(0x40000000).describe());
        assertEquals(0, new PreemptCount(0x801fffff).undefinedBits(), "every 4.19 field and PREEMPT_NEED_RESCHED");
        assertEquals("preempt depth 1, softirq 0, hardirq 0, NMI 0: task context, atomic; PREEMPT_NEED_RESCHED (bit 31)"
                + " set, which only x86 folds in", new PreemptCount(0x80000001).describe());
    }

    @Test
    void toStringShowsTheRawHexThenTheDescription() {
        assertEquals("0x10001 (preempt depth 1, softirq 0, hardirq 1, NMI 0: hardirq context, atomic)",
                new PreemptCount(0x10001).toString());
    }
}
