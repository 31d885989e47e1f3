package io.github.kproc.tck;

import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import java.util.List;
import java.util.NoSuchElementException;
import org.jspecify.annotations.Nullable;

/**
 * What a backend's build looks like (its stacks, fork, scheduler, context switch and tracer), written
 * down from the v4.19 sources, the build's .config and the reference notes rather than computed by the
 * model, so that the TCK checks the model against the kernel and not against itself.
 *
 * @param profile the bundled profile the backend is tested with
 * @param threadSize {@code THREAD_SIZE} (arch/.../include/asm/thread_info.h, memory.h)
 * @param threadAlign {@code THREAD_ALIGN} (arch/arm64/include/asm/memory.h; THREAD_SIZE on ARM32): the alignment of every kernel stack
 * @param endOfStackOffset where {@code end_of_stack(p)} is, from {@code p->stack} (include/linux/sched/task_stack.h)
 * @param longSize {@code sizeof(unsigned long)}: the size of the {@code STACK_END_MAGIC} word (kernel/fork.c set_task_stack_end_magic)
 * @param kthreadFn the saved register {@code ret_from_fork} calls a kernel thread's function through (arch/.../kernel/process.c copy_thread)
 * @param kthreadArg the saved register holding the kernel thread's argument (arch/.../kernel/process.c copy_thread)
 * @param settls where {@code CLONE_SETTLS} stores the thread pointer, from the task (arch/.../kernel/process.c copy_thread)
 * @param cpu where {@code __set_task_cpu} stores the CPU, from the task (kernel/sched/sched.h; thread_info.cpu or task_struct.cpu)
 * @param maxCpus {@code CONFIG_NR_CPUS} (the build's .config): also the bits of a cpumask as {@code ipi_raise} prints it
 * @param ptRegsOffset {@code task_pt_regs(p)} from {@code p->stack} (arch/.../include/asm/processor.h)
 * @param ptRegsSize {@code sizeof(struct pt_regs)} (arch/.../include/asm/ptrace.h)
 * @param kthreadModeOffset where in a kernel thread's zeroed pt_regs copy_thread writes the mode (arch/.../kernel/process.c)
 * @param kthreadMode the mode it writes: SVC_MODE, PSR_MODE_EL1h (arch/.../include/uapi/asm/ptrace.h)
 * @param hz {@code CONFIG_HZ} (the build's .config): ticks per second, and {@code RR_TIMESLICE} = 100 ms in jiffies = HZ / 10 (include/linux/sched/rt.h)
 * @param preempt {@code CONFIG_PREEMPT} (the build's .config): {@code el1_irq}/{@code __irq_svc} preempt a kernel thread with
 *     {@code preempt_schedule_irq}, {@code preempt_enable()} is a preemption point (include/linux/preempt.h)
 * @param preemptCount {@code CONFIG_PREEMPT_COUNT} (the build's .config): {@code preempt_disable()} counts;
 *     {@code PREEMPT_DISABLE_OFFSET} is 1, else 0 (include/linux/preempt.h)
 * @param loadShift {@code scale_load()}: weights are kept {@code << SCHED_FIXEDPOINT_SHIFT} (10) on 64-bit (kernel/sched/sched.h)
 * @param switched the callee-saved registers the switch stores and loads, as (cpu_context member, CPU register)
 *     (arch/arm/kernel/entry-armv.S __switch_to, arch/arm64/kernel/entry.S cpu_switch_to)
 * @param sp the stack pointer register (arch/.../include/asm/ptrace.h)
 * @param current the register {@code current} is read from, or null if it is
 *     {@code current_thread_info()->task} with {@code current_thread_info() = sp & ~(THREAD_SIZE - 1)} (arch/.../include/asm/current.h, thread_info.h)
 * @param tls the thread pointer words the switch moves between the task and the TLS registers (arch/.../include/asm/tls.h, kernel/process.c)
 * @param clearedOnSwitch registers the switch zeroes for a native task (arch/arm64/kernel/process.c tls_thread_switch)
 */
public record ArchFacts(String profile, long threadSize, long threadAlign, long endOfStackOffset, int longSize,
        String kthreadFn, String kthreadArg, TaskWord settls, TaskWord cpu, int maxCpus, long ptRegsOffset,
        int ptRegsSize, int kthreadModeOffset, long kthreadMode, int hz, boolean preempt, boolean preemptCount,
        int loadShift, List<Switched> switched, String sp, @Nullable String current, List<Tls> tls,
        List<String> clearedOnSwitch) {

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

    /** {@code PREEMPT_DISABLE_OFFSET} (include/linux/preempt.h). */
    public int preemptDisableOffset() {
        return preemptCount ? 1 : 0;
    }

    /**
     * {@code FORK_PREEMPT_COUNT} (include/linux/sched.h) = 2 * PREEMPT_DISABLE_OFFSET + PREEMPT_ENABLED
     * (PREEMPT_ENABLED is 0 on asm-generic and arm64).
     */
    public int forkPreemptCount() {
        return 2 * preemptDisableOffset();
    }

    /** {@code TICK_NSEC} (include/linux/jiffies.h). */
    public long tickNanos() {
        return 1_000_000_000L / hz;
    }

    /** {@code sched_rr_timeslice} = {@code RR_TIMESLICE} = (100 * HZ / 1000) (include/linux/sched/rt.h). */
    public int rrTimeslice() {
        return 100 * hz / 1000;
    }

    /** The mask of a register the switch stores in a {@code long}: 32 bits on ARM32. */
    public long wordMask() {
        return loadShift == 0 ? 0xffffffffL : -1L;
    }

    /**
     * ARM32 vexpress (PREEMPT_NONE, HZ 100, NR_CPUS 8): 8 KiB stacks (THREAD_SIZE_ORDER 1), thread_info
     * (528 bytes) at the stack base and the magic just above it; copy_thread puts arg in r4 and fn in r5;
     * tp_value[0] is thread_info+92 (TI_TP_VALUE), cpu is thread_info+16 (TI_CPU); pt_regs (72 bytes) sit
     * 8 bytes below the stack top (THREAD_START_SP), a kernel thread's with ARM_cpsr (uregs[16]) = SVC_MODE.
     * {@code __switch_to} (entry-armv.S) stores r4-sl, fp, sp and lr into {@code thread_info.cpu_context}
     * and loads r4-sl, fp, sp, pc; {@code switch_tls_v6k} loads TPIDRURO from tp_value[0] and saves
     * TPIDRURW into the previous thread's tp_value[1] before loading the next one's; current is
     * {@code sp & ~0x1fff}.
     */
    public static final ArchFacts ARM32_VEXPRESS = new ArchFacts("linux-4.19-arm32-vexpress", 0x2000, 0x2000, 528,
            4, "r5", "r4", (p, m, t) -> m.readPointer(t + 4) + 92, (p, m, t) -> m.readPointer(t + 4) + 16, 8,
            0x2000 - 8 - 72, 72, 64, 0x13, 100, false, false, 0,
            List.of(new Switched("r4", "r4"), new Switched("r5", "r5"), new Switched("r6", "r6"),
                    new Switched("r7", "r7"), new Switched("r8", "r8"), new Switched("r9", "r9"),
                    new Switched("sl", "sl"), new Switched("fp", "fp")),
            "sp", null,
            List.of(new Tls("tp_value[0]", (p, m, t) -> m.readPointer(t + 4) + 92, "tpidruro", false),
                    new Tls("tp_value[1]", (p, m, t) -> m.readPointer(t + 4) + 96, "tpidrurw", true)),
            List.of());

    /**
     * arm64 defconfig (PREEMPT, HZ 250, NR_CPUS 64): 16 KiB stacks vmalloc'd at THREAD_ALIGN 32 KiB
     * (VMAP_STACK), the magic at the lowest stack word; copy_thread puts fn in x19 and arg in x20;
     * thread.uw.tp_value is task+2400+112, task_struct.cpu is task+68; pt_regs (320 bytes) end at the stack
     * top, a kernel thread's with pstate (at 264) = PSR_MODE_EL1h. {@code cpu_switch_to} (entry.S) stores
     * x19-x28, x29 (fp), sp and lr into {@code thread.cpu_context} (task+2400) and loads them, then
     * {@code msr sp_el0, x1}: current is sp_el0; {@code tls_thread_switch} saves tpidr_el0 into
     * {@code thread.uw.tp_value} (task+2512), loads the next one's and zeroes tpidrro_el0 for a native task.
     */
    public static final ArchFacts ARM64_DEFCONFIG = new ArchFacts("linux-4.19-arm64-defconfig", 0x4000, 0x8000, 0, 8,
            "x19", "x20", (p, m, t) -> t + 2512, (p, m, t) -> t + 68, 64, 0x4000 - 320, 320, 264, 0x5, 250, true,
            true, 10,
            List.of(new Switched("x19", "x19"), new Switched("x20", "x20"), new Switched("x21", "x21"),
                    new Switched("x22", "x22"), new Switched("x23", "x23"), new Switched("x24", "x24"),
                    new Switched("x25", "x25"), new Switched("x26", "x26"), new Switched("x27", "x27"),
                    new Switched("x28", "x28"), new Switched("fp", "x29")),
            "sp", "sp_el0",
            List.of(new Tls("thread.uw.tp_value", (p, m, t) -> t + 2512, "tpidr_el0", true)),
            List.of("tpidrro_el0"));

    /**
     * The same facts for a profile of the same build under another name (a user's copy of the
     * bundled files, its {@code .config} edited in ways these facts do not depend on).
     */
    public ArchFacts named(String otherProfile) {
        return new ArchFacts(otherProfile, threadSize, threadAlign, endOfStackOffset, longSize, kthreadFn, kthreadArg,
                settls, cpu, maxCpus, ptRegsOffset, ptRegsSize, kthreadModeOffset, kthreadMode, hz, preempt,
                preemptCount, loadShift, switched, sp, current, tls, clearedOnSwitch);
    }

    /** The facts of a bundled profile. */
    public static ArchFacts of(String profile) {
        for (ArchFacts facts : List.of(ARM32_VEXPRESS, ARM64_DEFCONFIG)) {
            if (facts.profile.equals(profile)) {
                return facts;
            }
        }
        throw new NoSuchElementException("no facts written down for " + profile);
    }
}
