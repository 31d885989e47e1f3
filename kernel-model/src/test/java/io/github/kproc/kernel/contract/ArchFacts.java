package io.github.kproc.kernel.contract;

import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;

/**
 * What a backend's build looks like, written down from the kernel sources and the reference notes
 * (not computed by the model), so the contract checks the model against the kernel rather than
 * against itself.
 *
 * @param profile the bundled profile the backend is tested with
 * @param threadSize {@code THREAD_SIZE}
 * @param threadAlign {@code THREAD_ALIGN}: the alignment of every kernel stack
 * @param endOfStackOffset where {@code end_of_stack(p)} is, from {@code p->stack}
 * @param longSize {@code sizeof(unsigned long)}: the size of the stack end magic word
 * @param forkPreemptCount {@code FORK_PREEMPT_COUNT} of the build
 * @param kthreadFn the saved register {@code ret_from_fork} calls a kernel thread's function through
 * @param kthreadArg the saved register holding the kernel thread's argument
 * @param tls where {@code CLONE_SETTLS} stores the thread pointer, from the task
 * @param cpu where {@code __set_task_cpu} stores the CPU, from the task
 * @param maxCpus {@code CONFIG_NR_CPUS}
 * @param ptRegsOffset {@code task_pt_regs(p)} from {@code p->stack}
 * @param ptRegsSize {@code sizeof(struct pt_regs)}
 * @param kthreadModeOffset where in a kernel thread's zeroed pt_regs copy_thread writes the mode
 * @param kthreadMode the mode it writes (SVC_MODE, PSR_MODE_EL1h)
 */
public record ArchFacts(String profile, long threadSize, long threadAlign, long endOfStackOffset, int longSize,
        int forkPreemptCount, String kthreadFn, String kthreadArg, TaskWord tls, TaskWord cpu, int maxCpus,
        long ptRegsOffset, int ptRegsSize, int kthreadModeOffset, long kthreadMode) {

    /** The address of a per-task word, given the platform, the memory and the task. */
    @FunctionalInterface
    public interface TaskWord {
        long address(Platform platform, AddressSpace memory, long task);
    }

    /**
     * ARM32 vexpress: 8 KiB stacks (THREAD_SIZE_ORDER 1), thread_info (528 bytes) at the stack base and
     * the magic just above it, PREEMPT_NONE; copy_thread puts arg in r4 and fn in r5; tp_value[0] is
     * thread_info+92 (TI_TP_VALUE), cpu is thread_info+16 (TI_CPU); pt_regs (72 bytes) sit 8 bytes below
     * the stack top (THREAD_START_SP), a kernel thread's with ARM_cpsr (uregs[16]) = SVC_MODE.
     */
    public static final ArchFacts ARM32_VEXPRESS = new ArchFacts("linux-4.19-arm32-vexpress", 0x2000, 0x2000, 528,
            4, 0, "r5", "r4", (p, m, t) -> m.readPointer(t + 4) + 92, (p, m, t) -> m.readPointer(t + 4) + 16, 8,
            0x2000 - 8 - 72, 72, 64, 0x13);

    /**
     * arm64 defconfig: 16 KiB stacks vmalloc'd at THREAD_ALIGN 32 KiB (VMAP_STACK), the magic at the lowest
     * stack word, PREEMPT so FORK_PREEMPT_COUNT 2; copy_thread puts fn in x19 and arg in x20;
     * thread.uw.tp_value is task+2400+112, task_struct.cpu is task+68; pt_regs (320 bytes) end at the stack
     * top, a kernel thread's with pstate (at 264) = PSR_MODE_EL1h.
     */
    public static final ArchFacts ARM64_DEFCONFIG = new ArchFacts("linux-4.19-arm64-defconfig", 0x4000, 0x8000, 0, 8,
            2, "x19", "x20", (p, m, t) -> t + 2512, (p, m, t) -> t + 68, 64, 0x4000 - 320, 320, 264, 0x5);
}
