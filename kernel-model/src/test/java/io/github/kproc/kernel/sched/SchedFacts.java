package io.github.kproc.kernel.sched;

import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import java.util.List;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * What the scheduler, the context switch and the tracer look like on one build, written down from the
 * v4.19 sources and the build's .config rather than computed by the model, so that the contract checks
 * the model against the kernel and not against itself.
 *
 * @param profile the bundled profile
 * @param hz {@code CONFIG_HZ}: ticks per second, and {@code RR_TIMESLICE} = 100 ms in jiffies = HZ / 10
 * @param preempt {@code CONFIG_PREEMPT}: {@code el1_irq}/{@code __irq_svc} preempt a kernel thread with
 *     {@code preempt_schedule_irq}, {@code preempt_enable()} is a preemption point
 * @param preemptCount {@code CONFIG_PREEMPT_COUNT}: {@code preempt_disable()} counts;
 *     {@code PREEMPT_DISABLE_OFFSET} is 1, else 0
 * @param threadSize {@code THREAD_SIZE}
 * @param loadShift {@code scale_load()}: weights are kept {@code << SCHED_FIXEDPOINT_SHIFT} (10) on 64-bit
 * @param nrCpus {@code CONFIG_NR_CPUS}: the bits of a cpumask as {@code ipi_raise} prints it
 * @param switched the callee-saved registers the switch stores and loads, as (cpu_context member, CPU register)
 * @param sp the stack pointer register
 * @param current the register {@code current} is read from, or null if it is
 *     {@code current_thread_info()->task} with {@code current_thread_info() = sp & ~(THREAD_SIZE - 1)}
 * @param tls the thread pointer words the switch moves between the task and the TLS registers
 * @param clearedOnSwitch registers the switch zeroes for a native task
 * @param cpu where {@code __set_task_cpu} stores the CPU, from the task
 */
public record SchedFacts(String profile, int hz, boolean preempt, boolean preemptCount, long threadSize, int loadShift,
        int nrCpus, List<Switched> switched, String sp, @Nullable String current, List<Tls> tls,
        List<String> clearedOnSwitch, TaskWord cpu) {

    /** The address of a per-task word, given the platform, the memory and the task. */
    @FunctionalInterface
    public interface TaskWord {
        long address(Platform platform, AddressSpace memory, long task);
    }

    /** A callee-saved register and the {@code cpu_context} member it is saved in. */
    public record Switched(String member, String register) {
    }

    /**
     * A TLS register the switch loads from the next task's word; if {@code saved}, its value is first
     * stored into the previous task's word.
     */
    public record Tls(String name, TaskWord word, String register, boolean saved) {
    }

    /** {@code PREEMPT_DISABLE_OFFSET}. */
    public int preemptDisableOffset() {
        return preemptCount ? 1 : 0;
    }

    /** {@code FORK_PREEMPT_COUNT} = 2 * PREEMPT_DISABLE_OFFSET + PREEMPT_ENABLED (0 on asm-generic). */
    public int forkPreemptCount() {
        return 2 * preemptDisableOffset();
    }

    /** {@code TICK_NSEC}. */
    public long tickNanos() {
        return 1_000_000_000L / hz;
    }

    /** {@code sched_rr_timeslice} = {@code RR_TIMESLICE} = (100 * HZ / 1000). */
    public int rrTimeslice() {
        return 100 * hz / 1000;
    }

    /** The mask of a register the switch stores in a {@code long}: 32 bits on ARM32. */
    public long wordMask() {
        return loadShift == 0 ? 0xffffffffL : -1L;
    }

    /**
     * ARM32 vexpress (PREEMPT_NONE, HZ 100, NR_CPUS 8): {@code __switch_to} (entry-armv.S) stores
     * r4-sl, fp, sp and lr into {@code thread_info.cpu_context} and loads r4-sl, fp, sp, pc;
     * {@code switch_tls_v6k} loads TPIDRURO from tp_value[0] (thread_info+92, TI_TP_VALUE) and saves
     * TPIDRURW into the previous thread's tp_value[1] before loading the next one's; thread_info->cpu is
     * at thread_info+16 (TI_CPU); current is {@code sp & ~0x1fff}.
     */
    public static final SchedFacts ARM32_VEXPRESS = new SchedFacts("linux-4.19-arm32-vexpress", 100, false, false,
            0x2000, 0, 8,
            List.of(new Switched("r4", "r4"), new Switched("r5", "r5"), new Switched("r6", "r6"),
                    new Switched("r7", "r7"), new Switched("r8", "r8"), new Switched("r9", "r9"),
                    new Switched("sl", "sl"), new Switched("fp", "fp")),
            "sp", null,
            List.of(new Tls("tp_value[0]", (p, m, t) -> m.readPointer(t + 4) + 92, "tpidruro", false),
                    new Tls("tp_value[1]", (p, m, t) -> m.readPointer(t + 4) + 96, "tpidrurw", true)),
            List.of(), (p, m, t) -> m.readPointer(t + 4) + 16);

    /**
     * arm64 defconfig (PREEMPT, HZ 250, NR_CPUS 64): {@code cpu_switch_to} (entry.S) stores x19-x28,
     * x29 (fp), sp and lr into {@code thread.cpu_context} (task+2400) and loads them, then
     * {@code msr sp_el0, x1}: current is sp_el0; {@code tls_thread_switch} saves tpidr_el0 into
     * {@code thread.uw.tp_value} (task+2512), loads the next one's and zeroes tpidrro_el0 for a native
     * task; task_struct.cpu is at task+68.
     */
    public static final SchedFacts ARM64_DEFCONFIG = new SchedFacts("linux-4.19-arm64-defconfig", 250, true, true,
            0x4000, 10, 64,
            List.of(new Switched("x19", "x19"), new Switched("x20", "x20"), new Switched("x21", "x21"),
                    new Switched("x22", "x22"), new Switched("x23", "x23"), new Switched("x24", "x24"),
                    new Switched("x25", "x25"), new Switched("x26", "x26"), new Switched("x27", "x27"),
                    new Switched("x28", "x28"), new Switched("fp", "x29")),
            "sp", "sp_el0",
            List.of(new Tls("thread.uw.tp_value", (p, m, t) -> t + 2512, "tpidr_el0", true)),
            List.of("tpidrro_el0"), (p, m, t) -> t + 68);

    /** The facts of a bundled profile. */
    public static SchedFacts of(String profile) {
        for (SchedFacts facts : List.of(ARM32_VEXPRESS, ARM64_DEFCONFIG)) {
            if (facts.profile.equals(profile)) {
                return facts;
            }
        }
        throw new NoSuchElementException("no scheduler facts written down for " + profile);
    }
}
