package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.PreemptCountException;
import io.github.kproc.kernel.SoftirqVector;
import io.github.kproc.view.PreemptCount;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.ObjIntConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@code preempt_count} (include/linux/preempt.h, asm-generic/preempt.h) in every context the model
 * can enter: preempt_disable (counting only with CONFIG_PREEMPT_COUNT), local_bh_disable
 * (kernel/softirq.c {@code __local_bh_disable_ip}), serving a softirq ({@code __do_softirq}), hardirq
 * ({@code irq_enter}/{@code irq_exit}), nested hardirq, NMI ({@code nmi_enter}/{@code nmi_exit}); the
 * predicates ({@code in_irq}, {@code in_softirq}, {@code in_serving_softirq}, {@code in_interrupt},
 * {@code in_nmi}, {@code in_task}, {@code in_atomic}); balance, overflow and underflow; and
 * {@code schedule_debug()}'s "scheduling while atomic" (kernel/sched/core.c).
 */
public abstract class PreemptContract extends KernelContract {
    private static final int HARDIRQ_OFFSET = 0x10000;
    private static final int SOFTIRQ_OFFSET = 0x100;
    private static final int SOFTIRQ_DISABLE_OFFSET = 0x200;
    private static final int NMI_OFFSET = 0x100000;
    private static final int TIMER_SOFTIRQ = 1;

    /** The predicates of preempt.h, written down per context. */
    private record Predicates(boolean inIrq, boolean inSoftirq, boolean inServingSoftirq, boolean inInterrupt,
            boolean inNmi, boolean inTask) {
    }

    /**
     * A context: how to enter and leave it on CPU {@code cpu}, what it adds to preempt_count, and the
     * predicates there. Serving a softirq cannot be held from outside; it is observed from the trace.
     */
    private record Context(String name, List<ObjIntConsumer<Kernel>> enter, List<ObjIntConsumer<Kernel>> exit,
            int offset, Predicates expected) {
    }

    private List<Context> contexts() {
        int preempt = facts().preemptDisableOffset();
        ObjIntConsumer<Kernel> preemptDisable = (kernel, cpu) -> kernel.cpu(cpu).preemptDisable();
        ObjIntConsumer<Kernel> preemptEnable = (kernel, cpu) -> kernel.cpu(cpu).preemptEnable();
        ObjIntConsumer<Kernel> bhDisable = (kernel, cpu) -> kernel.cpu(cpu).localBhDisable();
        ObjIntConsumer<Kernel> bhEnable = (kernel, cpu) -> kernel.cpu(cpu).localBhEnable();
        ObjIntConsumer<Kernel> irqEnter = (kernel, cpu) -> kernel.cpu(cpu).irqEnter();
        ObjIntConsumer<Kernel> irqExit = (kernel, cpu) -> kernel.cpu(cpu).irqExit();
        ObjIntConsumer<Kernel> nmiEnter = (kernel, cpu) -> kernel.cpu(cpu).nmiEnter();
        ObjIntConsumer<Kernel> nmiExit = (kernel, cpu) -> kernel.cpu(cpu).nmiExit();
        return List.of(
                new Context("task", List.of(), List.of(), 0,
                        new Predicates(false, false, false, false, false, true)),
                new Context("preempt disabled", List.of(preemptDisable), List.of(preemptEnable), preempt,
                        new Predicates(false, false, false, false, false, true)),
                new Context("preempt disabled 3 times", List.of(preemptDisable, preemptDisable, preemptDisable),
                        List.of(preemptEnable, preemptEnable, preemptEnable), 3 * preempt,
                        new Predicates(false, false, false, false, false, true)),
                new Context("bh disabled", List.of(bhDisable), List.of(bhEnable), SOFTIRQ_DISABLE_OFFSET,
                        new Predicates(false, true, false, true, false, true)),
                new Context("bh disabled twice", List.of(bhDisable, bhDisable), List.of(bhEnable, bhEnable),
                        2 * SOFTIRQ_DISABLE_OFFSET, new Predicates(false, true, false, true, false, true)),
                new Context("hardirq", List.of(irqEnter), List.of(irqExit), HARDIRQ_OFFSET,
                        new Predicates(true, false, false, true, false, false)),
                new Context("nested hardirq", List.of(irqEnter, irqEnter), List.of(irqExit, irqExit),
                        2 * HARDIRQ_OFFSET, new Predicates(true, false, false, true, false, false)),
                new Context("hardirq with bh disabled", List.of(bhDisable, irqEnter), List.of(irqExit, bhEnable),
                        SOFTIRQ_DISABLE_OFFSET + HARDIRQ_OFFSET, new Predicates(true, true, false, true, false, false)),
                new Context("hardirq with preemption disabled", List.of(preemptDisable, irqEnter),
                        List.of(irqExit, preemptEnable), preempt + HARDIRQ_OFFSET,
                        new Predicates(true, false, false, true, false, false)),
                new Context("NMI", List.of(nmiEnter), List.of(nmiExit), NMI_OFFSET + HARDIRQ_OFFSET,
                        new Predicates(true, false, false, true, true, false)),
                new Context("NMI in hardirq", List.of(irqEnter, nmiEnter), List.of(nmiExit, irqExit),
                        NMI_OFFSET + 2 * HARDIRQ_OFFSET, new Predicates(true, false, false, true, true, false)));
    }

    /** The tasks each context is entered from: a user task, a kernel thread and the idle task. */
    private enum Runner {
        INIT, KTHREADD, IDLE;

        void run(Kernel k) {
            switch (this) {
                case INIT -> k.cpu(0).run(Pid.INIT);
                case KTHREADD -> k.cpu(0).run(Pid.KTHREADD);
                case IDLE -> k.cpu(0).runIdle();
            }
        }
    }

    /** The preempt_count a running task has outside any context: 0, the idle task PREEMPT_DISABLE_OFFSET. */
    private int base(Runner runner) {
        return runner == Runner.IDLE ? facts().preemptDisableOffset() : 0;
    }

    @TestFactory
    @DisplayName("preempt.h: preempt_count and every predicate in every context, from a user task, a kernel thread and idle")
    Stream<DynamicTest> everyPredicateInEveryContext() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Runner runner : Runner.values()) {
            for (Context context : contexts()) {
                tests.add(DynamicTest.dynamicTest(context.name() + " from " + runner, () -> {
                    try (Kernel k = bootUnmanaged(1)) {
                        runner.run(k);
                        int base = base(runner);
                        assertEquals(base, k.cpu(0).preemptCount().value(), "preempt_count outside any context");
                        for (ObjIntConsumer<Kernel> op : context.enter()) {
                            op.accept(k, 0);
                        }
                        assertContext(k, base + context.offset(), context.expected(), context.name());
                        for (ObjIntConsumer<Kernel> op : context.exit()) {
                            op.accept(k, 0);
                        }
                        assertEquals(base, k.cpu(0).preemptCount().value(),
                                "preempt_count back at its base after " + context.name());
                    }
                }));
            }
            tests.add(DynamicTest.dynamicTest("serving a softirq run by irq_exit from " + runner, () ->
                    servingSoftirq(runner, false)));
            tests.add(DynamicTest.dynamicTest("serving a softirq run by local_bh_enable from " + runner, () ->
                    servingSoftirq(runner, true)));
        }
        return tests.stream();
    }

    /**
     * A softirq raised in hardirq runs from {@code irq_exit()} -> {@code invoke_softirq()} with the
     * hardirq count gone: +SOFTIRQ_OFFSET. One raised with bh disabled runs from
     * {@code __local_bh_enable_ip()}, which first drops the count by SOFTIRQ_DISABLE_OFFSET - 1 ("keep
     * preemption disabled until we are done with softirq processing"): +SOFTIRQ_OFFSET + 1, on every build.
     */
    private void servingSoftirq(Runner runner, boolean fromBhEnable) {
        try (Kernel k = bootUnmanaged(1)) {
            runner.run(k);
            TraceLog log = TraceLog.attach(k);
            int base = base(runner);
            List<Integer> seen = new ArrayList<>();
            log.watch(e -> {
                if (e.line().event().equals("softirq_entry")) {
                    seen.add(e.preemptCount());
                }
            });
            if (fromBhEnable) {
                k.cpu(0).localBhDisable();
                k.cpu(0).raiseSoftirq(SoftirqVector.TIMER);
                k.cpu(0).localBhEnable();
            } else {
                k.cpu(0).irqEnter();
                k.cpu(0).raiseSoftirq(SoftirqVector.TIMER);
                k.cpu(0).irqExit();
            }
            int expected = base + SOFTIRQ_OFFSET + (fromBhEnable ? 1 : 0);
            assertEquals(List.of(expected), seen, "preempt_count while serving the softirq");
            assertContext(new PreemptCount(expected), new Predicates(false, true, true, true, false, false),
                    "serving softirq");
            assertEquals(base, k.cpu(0).preemptCount().value(), "preempt_count back at its base");
        }
    }

    private void assertContext(Kernel k, int expected, Predicates p, String context) {
        assertEquals(expected, k.cpu(0).preemptCount().value(), String.format("preempt_count in %s: 0x%x", context,
                expected));
        assertEquals(expected, k.cpu(0).current().threadInfo().preemptCountValue(),
                "preempt_count is current_thread_info()->preempt_count");
        assertContext(k.cpu(0).current().threadInfo().preemptCount(), p, context);
    }

    private static void assertContext(PreemptCount pc, Predicates p, String context) {
        String where = " in " + context + " (" + pc + ")";
        assertEquals(p.inIrq(), pc.inIrq(), "in_irq()" + where);
        assertEquals(p.inSoftirq(), pc.inSoftirq(), "in_softirq()" + where);
        assertEquals(p.inServingSoftirq(), pc.inServingSoftirq(), "in_serving_softirq()" + where);
        assertEquals(p.inInterrupt(), pc.inInterrupt(), "in_interrupt()" + where);
        assertEquals(p.inNmi(), pc.inNmi(), "in_nmi()" + where);
        assertEquals(p.inTask(), pc.inTask(), "in_task()" + where);
        assertEquals(pc.value() != 0, pc.inAtomic(), "in_atomic() is preempt_count() != 0" + where);
        assertEquals(p.inIrq() ? 1 : 0, Integer.signum(pc.hardirqCount()), "hardirq_count()" + where);
    }

    // ---- balance ----

    /** One step of a nesting sequence: open a section, raise a softirq, or close the innermost section. */
    private enum Step {
        PREEMPT(0), BH(SOFTIRQ_DISABLE_OFFSET), IRQ(HARDIRQ_OFFSET), NMI(NMI_OFFSET + HARDIRQ_OFFSET), RAISE(0),
        CLOSE(0);

        final int offset;

        Step(int offset) {
            this.offset = offset;
        }
    }

    @Test
    @DisplayName("preempt_count: any balanced nesting of preempt/bh/irq/nmi sections returns to its base, softirqs run on the way out")
    void balancedSequencesReturnPreemptCountToItsBase() {
        qt().withFixedSeed(SEED).withExamples(150)
                .forAll(lists().of(integers().between(0, Step.values().length * 10 - 1)).ofSizeBetween(0, 60),
                        integers().between(0, 2))
                .checkAssert(this::runBalanced);
    }

    private void runBalanced(List<Integer> draws, int runnerIndex) {
        Runner runner = Runner.values()[runnerIndex];
        try {
            runBalanced(draws, runner);
        } catch (AssertionError e) {
            List<String> steps = draws.stream().map(d -> {
                Step step = Step.values()[d % Step.values().length];
                return step == Step.RAISE ? "RAISE(" + d / Step.values().length + ")" : step.name();
            }).toList();
            throw new AssertionError("from " + runner + ", steps " + steps + ": " + e.getMessage(), e);
        }
    }

    private void runBalanced(List<Integer> draws, Runner runner) {
        try (Kernel k = bootUnmanaged(1)) {
            runner.run(k);
            Nesting nesting = new Nesting(k, base(runner), facts().preemptDisableOffset());
            TraceLog.attach(k).watch(e -> {
                if (e.line().event().equals("softirq_entry")) {
                    nesting.serving.add(e.preemptCount());
                }
            });
            for (int draw : draws) {
                nesting.apply(Step.values()[draw % Step.values().length], draw / Step.values().length);
            }
            while (!nesting.open.isEmpty()) {
                nesting.apply(Step.CLOSE, 0);
            }
            assertEquals(nesting.base, k.cpu(0).preemptCount().value(), "preempt_count back at its base");
            assertEquals(nesting.expectedServing, nesting.serving,
                    "softirqs served on the way out, and preempt_count while serving");
            assertEquals(List.of(), k.bugs());
        }
    }

    /** Applies steps, skipping those the kernel forbids where they are, and tracks what must follow. */
    private static final class Nesting {
        final Kernel k;
        final int base;
        final int preempt;
        final Deque<Step> open = new ArrayDeque<>();
        final List<Integer> serving = new ArrayList<>();
        final List<Integer> expectedServing = new ArrayList<>();
        int pending;

        Nesting(Kernel k, int base, int preempt) {
            this.k = k;
            this.base = base;
            this.preempt = preempt;
        }

        void apply(Step step, int vector) {
            int count = count(open, preempt);
            boolean inNmi = open.contains(Step.NMI);
            boolean inIrq = open.contains(Step.IRQ) || inNmi;
            switch (step) {
                case PREEMPT -> {
                    if ((count & 0xff) < 0xff) {
                        k.cpu(0).preemptDisable();
                        open.push(step);
                    }
                }
                case BH -> {
                    if (!inIrq && (count & 0xff00) < 0xfe00) {
                        k.cpu(0).localBhDisable();
                        open.push(step);
                    }
                }
                case IRQ, NMI -> {
                    if (!inNmi && (count & 0xf0000) < 0xf0000) {
                        if (step == Step.IRQ) {
                            k.cpu(0).irqEnter();
                        } else {
                            k.cpu(0).nmiEnter();
                        }
                        open.push(step);
                    }
                }
                case RAISE -> {
                    if (!inNmi) {
                        k.cpu(0).raiseSoftirq(SoftirqVector.values()[vector]);
                        pending |= 1 << vector;
                    }
                }
                case CLOSE -> close();
            }
            assertEquals(base + count(open, preempt), k.cpu(0).preemptCount().value(),
                    "preempt_count after " + step + " with " + open + " open");
        }

        private void close() {
            if (open.isEmpty()) {
                return;
            }
            Step closed = open.pop();
            int left = count(open, preempt);
            switch (closed) {
                case PREEMPT -> k.cpu(0).preemptEnable();
                case BH -> k.cpu(0).localBhEnable();
                case IRQ -> k.cpu(0).irqExit();
                case NMI -> k.cpu(0).nmiExit();
                default -> throw new AssertionError(closed);
            }
            boolean leavesInterrupt = (left & (0xff00 | 0xf0000 | NMI_OFFSET)) == 0;
            if ((closed == Step.BH || closed == Step.IRQ) && leavesInterrupt && pending != 0) {
                int whileServing = base + left + SOFTIRQ_OFFSET + (closed == Step.BH ? 1 : 0);
                for (int v = 0; v < 10; v++) {
                    if ((pending & (1 << v)) != 0) {
                        expectedServing.add(whileServing);
                    }
                }
                pending = 0;
            }
        }
    }

    private static int count(Deque<Step> open, int preempt) {
        int count = 0;
        for (Step s : open) {
            count += s == Step.PREEMPT ? preempt : s.offset;
        }
        return count;
    }

    // ---- overflow and underflow ----

    /** A one-CPU kernel with init current, in the strict preempt_count mode or as the build has it. */
    private Kernel bootInit(boolean strict) {
        Kernel k = boot(b -> b.cpus(1).memory(64L << 20).strictPreemptCount(strict));
        k.cpu(0).run(Pid.INIT);
        return k;
    }

    @Test
    @DisplayName("preempt_count_add without CONFIG_DEBUG_PREEMPT: the 256th preempt_disable() carries into SOFTIRQ_MASK (in_softirq()), silently; without CONFIG_PREEMPT_COUNT it is barrier()")
    void preemptDisableWrapsAt256AsTheBuildDoes() {
        Kernel k = bootInit(false);
        for (int i = 0; i < 256; i++) {
            k.cpu(0).preemptDisable();
        }
        assertEquals(facts().preemptCount() ? SOFTIRQ_OFFSET : 0, k.cpu(0).preemptCount().value());
        assertEquals(List.of(), k.bugs(), "preempt_count_add checks nothing without DEBUG_PREEMPT");
        for (int i = 0; i < 256; i++) {
            k.cpu(0).preemptEnable();
        }
        assertEquals(0, k.cpu(0).preemptCount().value(), "the borrow undoes the carry");
    }

    @Test
    @DisplayName("preempt_count_add, strict mode: 255 preempt_disable() nest, the 256th is refused and changes nothing")
    void preemptDisableOverflowIsRefusedInStrictMode() {
        Kernel k = bootInit(true);
        for (int i = 0; i < 255; i++) {
            k.cpu(0).preemptDisable();
        }
        int full = facts().preemptCount() ? 255 : 0;
        assertEquals(full, k.cpu(0).preemptCount().value());
        if (facts().preemptCount()) {
            assertThrows(PreemptCountException.class, () -> k.cpu(0).preemptDisable());
        } else {
            k.cpu(0).preemptDisable();
        }
        assertEquals(full, k.cpu(0).preemptCount().value(), "the count is left as it was");
        for (int i = 0; i < 255; i++) {
            k.cpu(0).preemptEnable();
        }
        assertEquals(0, k.cpu(0).preemptCount().value());
    }

    @Test
    @DisplayName("irq_enter(): 15 nest in HARDIRQ_MASK (4 bits); the 16th carries into NMI_MASK as the build has it, and is refused in strict mode")
    void irqEnterOverflowsAt16() {
        Kernel k = bootInit(false);
        for (int i = 0; i < 16; i++) {
            k.cpu(0).irqEnter();
        }
        assertEquals(NMI_OFFSET, k.cpu(0).preemptCount().value(), "16 * HARDIRQ_OFFSET == NMI_OFFSET: in_nmi()");

        Kernel strict = bootInit(true);
        for (int i = 0; i < 15; i++) {
            strict.cpu(0).irqEnter();
        }
        assertEquals(0xf0000, strict.cpu(0).preemptCount().value());
        assertThrows(PreemptCountException.class, () -> strict.cpu(0).irqEnter());
        assertEquals(0xf0000, strict.cpu(0).preemptCount().value(), "the count is left as it was");
        assertThrows(PreemptCountException.class, () -> strict.cpu(0).nmiEnter(), "nmi_enter() also adds HARDIRQ_OFFSET");
        assertEquals(0xf0000, strict.cpu(0).preemptCount().value());
        for (int i = 0; i < 15; i++) {
            strict.cpu(0).irqExit();
        }
        assertEquals(0, strict.cpu(0).preemptCount().value());
    }

    @Test
    @DisplayName("local_bh_disable(): 127 nest in SOFTIRQ_MASK (2 per disable); the 128th carries into HARDIRQ_MASK as the build has it, and is refused in strict mode")
    void localBhDisableOverflowsAt128() {
        Kernel k = bootInit(false);
        for (int i = 0; i < 128; i++) {
            k.cpu(0).localBhDisable();
        }
        assertEquals(HARDIRQ_OFFSET, k.cpu(0).preemptCount().value(), "128 * SOFTIRQ_DISABLE_OFFSET: in_irq()");

        Kernel strict = bootInit(true);
        for (int i = 0; i < 127; i++) {
            strict.cpu(0).localBhDisable();
        }
        assertEquals(0xfe00, strict.cpu(0).preemptCount().value());
        assertThrows(PreemptCountException.class, () -> strict.cpu(0).localBhDisable());
        assertEquals(0xfe00, strict.cpu(0).preemptCount().value(), "the count is left as it was");
        for (int i = 0; i < 127; i++) {
            strict.cpu(0).localBhEnable();
        }
        assertEquals(0, strict.cpu(0).preemptCount().value());
    }

    @Test
    @DisplayName("nmi_enter(): BUG_ON(in_nmi()) — NMIs do not nest: 'kernel BUG at include/linux/hardirq.h:68!', refused, the count left as it was")
    void nmiEnterDoesNotNest() {
        Kernel k = bootInit(false);
        k.cpu(0).nmiEnter();
        assertEquals(NMI_OFFSET + HARDIRQ_OFFSET, k.cpu(0).preemptCount().value());
        assertThrows(PreemptCountException.class, () -> k.cpu(0).nmiEnter());
        assertEquals(NMI_OFFSET + HARDIRQ_OFFSET, k.cpu(0).preemptCount().value());
        assertEquals(List.of("kernel BUG at include/linux/hardirq.h:68!"), k.bugs());
        k.cpu(0).nmiExit();
        assertEquals(0, k.cpu(0).preemptCount().value());
        assertThrows(PreemptCountException.class, () -> k.cpu(0).nmiExit(), "BUG_ON(!in_nmi())");
        assertEquals("kernel BUG at include/linux/hardirq.h:78!", k.bugs().getLast());
    }

    @Test
    @DisplayName("__local_bh_enable_ip in hardirq context: WARN_ON_ONCE(in_irq()) prints one WARNING line, and the enable goes on")
    void localBhEnableInHardirqOnlyWarnsOnce() {
        Kernel k = bootInit(false);
        k.cpu(0).localBhDisable();
        k.cpu(0).localBhDisable();
        k.cpu(0).irqEnter();

        k.cpu(0).localBhEnable();

        assertEquals(SOFTIRQ_DISABLE_OFFSET + HARDIRQ_OFFSET, k.cpu(0).preemptCount().value(),
                "preempt_count_sub(cnt - 1), then preempt_count_dec(): one bh disable less");
        assertEquals(List.of("WARNING: CPU: 0 PID: 1 at kernel/softirq.c:168 __local_bh_enable_ip"), k.bugs());
        k.cpu(0).localBhEnable();
        assertEquals(HARDIRQ_OFFSET, k.cpu(0).preemptCount().value());
        assertEquals(1, k.bugs().size(), "WARN_ON_ONCE warns once");
        k.cpu(0).irqExit();
        assertEquals(0, k.cpu(0).preemptCount().value());
    }

    @Test
    @DisplayName("preempt_count_sub without CONFIG_DEBUG_PREEMPT: an exit without its entry borrows from the higher fields, silently")
    void unbalancedExitsWrapAsTheBuildDoes() {
        Kernel k = bootInit(false);
        k.cpu(0).localBhEnable();
        assertEquals(-SOFTIRQ_DISABLE_OFFSET, k.cpu(0).preemptCount().value(), "0 - (0x200 - 1) - 1");
        k.cpu(0).localBhDisable();
        assertEquals(0, k.cpu(0).preemptCount().value());
        if (facts().preemptCount()) {
            k.cpu(0).preemptEnable();
            assertEquals(-1, k.cpu(0).preemptCount().value(), "preempt_count_dec_and_test: -1, no preemption");
            k.cpu(0).preemptDisable();
        }
        assertEquals(0, k.cpu(0).preemptCount().value());
        assertEquals(List.of(), k.bugs());
    }

    @Test
    @DisplayName("strict mode: an exit without its entry (irq_exit, nmi_exit, local_bh_enable, preempt_enable) is refused and changes nothing")
    void unbalancedExitsAreRefusedInStrictMode() {
        Kernel k = bootInit(true);
        assertThrows(PreemptCountException.class, () -> k.cpu(0).irqExit());
        assertThrows(PreemptCountException.class, () -> k.cpu(0).nmiExit());
        assertThrows(PreemptCountException.class, () -> k.cpu(0).localBhEnable());
        if (facts().preemptCount()) {
            assertThrows(PreemptCountException.class, () -> k.cpu(0).preemptEnable());
        } else {
            k.cpu(0).preemptEnable();
        }
        assertEquals(0, k.cpu(0).preemptCount().value());

        k.cpu(0).localBhDisable();
        assertThrows(PreemptCountException.class, () -> k.cpu(0).irqExit(), "bh disabled is not hardirq");
        assertThrows(PreemptCountException.class, () -> k.cpu(0).nmiExit());
        assertEquals(SOFTIRQ_DISABLE_OFFSET, k.cpu(0).preemptCount().value());
        k.cpu(0).irqEnter();
        assertThrows(PreemptCountException.class, () -> k.cpu(0).localBhEnable(),
                "__local_bh_enable_ip: WARN_ON_ONCE(in_irq())");
        assertThrows(PreemptCountException.class, () -> k.cpu(0).nmiExit(), "hardirq is not NMI");
        assertEquals(SOFTIRQ_DISABLE_OFFSET + HARDIRQ_OFFSET, k.cpu(0).preemptCount().value());
        k.cpu(0).irqExit();
        k.cpu(0).localBhEnable();
        assertEquals(0, k.cpu(0).preemptCount().value(), "balanced operations still work after refused ones");
        assertEquals(List.of("kernel BUG at include/linux/hardirq.h:78!", "kernel BUG at include/linux/hardirq.h:78!",
                "kernel BUG at include/linux/hardirq.h:78!"), k.bugs(), "the BUG_ON(!in_nmi()) of each nmi_exit");
    }

    // ---- scheduling while atomic ----

    /** {@code __schedule_bug()}: {@code "BUG: scheduling while atomic: %s/%d/0x%08x\n"}, prev->comm, prev->pid, preempt_count(). */
    private static String schedulingWhileAtomic(String comm, int pid, int count) {
        return String.format("BUG: scheduling while atomic: %s/%d/0x%08x", comm, pid, count);
    }

    @TestFactory
    @DisplayName("schedule_debug(): schedule() with more than its own preempt_disable is 'scheduling while atomic', then the count is reset")
    Stream<DynamicTest> schedulingWhileAtomicIsABug() {
        int preempt = facts().preemptDisableOffset();
        record Atomic(String name, ObjIntConsumer<Kernel> enter, int count) {
        }
        return Stream.of(
                new Atomic("preemption disabled", (kernel, cpu) -> kernel.cpu(cpu).preemptDisable(), preempt),
                new Atomic("bh disabled", (kernel, cpu) -> kernel.cpu(cpu).localBhDisable(), SOFTIRQ_DISABLE_OFFSET),
                new Atomic("hardirq", (kernel, cpu) -> kernel.cpu(cpu).irqEnter(), HARDIRQ_OFFSET))
                .map(a -> DynamicTest.dynamicTest(a.name(), () -> {
                    try (Kernel k = bootUnmanaged(1)) {
                        k.cpu(0).run(Pid.INIT);
                        a.enter().accept(k, 0);
                        k.cpu(0).schedule();
                        // schedule() adds its own preempt_disable before __schedule() looks
                        int seen = a.count() + preempt;
                        List<String> expected = seen == preempt ? List.of()
                                : List.of(schedulingWhileAtomic("init", 1, seen));
                        assertEquals(expected, k.bugs());
                        k.cpu(0).run(Pid.INIT);
                        assertEquals(0, k.cpu(0).preemptCount().value(),
                                "preempt_count_set(PREEMPT_DISABLED) in __schedule, then schedule()'s preempt_enable");
                    }
                }));
    }

    @Test
    @DisplayName("schedule_debug(): schedule() from a task, and schedule_idle() from idle, at their base count is no bug")
    void schedulingAtTheBaseCountIsNoBug() {
        Kernel k = boot(1);
        k.cpu(0).run(Pid.INIT);
        k.cpu(0).schedule();
        k.cpu(0).runIdle();
        k.cpu(0).schedule();
        k.cpu(0).run(Pid.KTHREADD);
        k.cpu(0).schedule();
        assertEquals(List.of(), k.bugs());
    }
}
