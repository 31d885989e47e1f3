package io.github.kproc.arm32;

import io.github.kproc.arch.Architecture;
import io.github.kproc.arch.Platform;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.MemoryMap;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Linux 4.19 on 32-bit ARM: thread_info at the base of an 8 KiB stack ({@code THREAD_SIZE_ORDER}
 * 1), found from any stack pointer by masking; callee-saved registers in
 * {@code thread_info.cpu_context}; lowmem mapped linearly from {@code CONFIG_PAGE_OFFSET}.
 */
public final class Arm32Platform extends Platform {
    private static final int PAGE_SIZE = 4096;
    /** {@code VMALLOC_END} (arch/arm/include/asm/pgtable.h). */
    private static final long VMALLOC_END = 0xff800000L;
    /** {@code VMALLOC_OFFSET} and the default 240 MiB vmalloc reserve (arch/arm/mm/mmu.c vmalloc_min). */
    private static final long VMALLOC_MIN = VMALLOC_END - (240L << 20) - (8L << 20);
    private static final String[] TIF = new String[64];

    static {
        TIF[0] = "TIF_SIGPENDING";
        TIF[1] = "TIF_NEED_RESCHED";
        TIF[2] = "TIF_NOTIFY_RESUME";
        TIF[3] = "TIF_UPROBE";
        TIF[4] = "TIF_SYSCALL_TRACE";
        TIF[5] = "TIF_SYSCALL_AUDIT";
        TIF[6] = "TIF_SYSCALL_TRACEPOINT";
        TIF[7] = "TIF_SECCOMP";
        TIF[12] = "TIF_NOHZ";
        TIF[17] = "TIF_USING_IWMMXT";
        TIF[18] = "TIF_MEMDIE";
        TIF[20] = "TIF_RESTORE_SIGMASK";
    }

    private final long pageOffset;
    private final long threadSize;
    private final long ptRegsSize;
    private final long tiCpuContext;
    private final long tiTpValue;
    private final long cpuContextSize;
    /** {@code cpu_context_save.sp}. */
    private final long ctxSp;
    /** {@code cpu_context_save.pc}. */
    private final long ctxPc;
    /** {@code cpu_context_save.r5} (r4 is at 0: the registers r4..fp are stored in order). */
    private final long ctxR5;
    /** {@code thread_info.vfpstate.hard.cpu}, or -1 without CONFIG_VFP or without CONFIG_SMP. */
    private final long tiVfpCpu;
    private static final List<String> REGISTERS = List.of("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9",
            "sl", "fp", "ip", "sp", "lr", "pc", "cpsr", "tpidruro", "tpidrurw");
    /** Register indices. */
    static final int SP = 13;
    static final int LR = 14;
    static final int PC = 15;
    static final int CPSR = 16;
    static final int TPIDRURO = 17;
    static final int TPIDRURW = 18;
    /** {@code SVC_MODE} (arch/arm/include/uapi/asm/ptrace.h). */
    static final int SVC_MODE = 0x13;
    /** Index of {@code ARM_cpsr} in {@code pt_regs.uregs}. */
    private static final int UREGS_CPSR = 16;
    /** {@code CLONE_SETTLS}. */
    private static final long CLONE_SETTLS = 0x00080000L;

    Arm32Platform(Architecture architecture, Profile profile) {
        super(architecture, profile);
        this.pageOffset = profile.config().number("CONFIG_PAGE_OFFSET", 0xC0000000L);
        this.threadSize = PAGE_SIZE << 1;
        this.ptRegsSize = profile.sizeOf("pt_regs");
        this.tiCpuContext = offsets().required("thread_info", "cpu_context");
        this.tiTpValue = offsets().required("thread_info", "tp_value");
        this.cpuContextSize = profile.sizeOf("cpu_context_save");
        this.ctxSp = profile.offsetOf("cpu_context_save", "sp");
        this.ctxPc = profile.offsetOf("cpu_context_save", "pc");
        this.ctxR5 = profile.offsetOf("cpu_context_save", "r5");
        this.tiVfpCpu = profile.config().enabled("CONFIG_VFP")
                ? offsets().optional("thread_info", "vfpstate.hard.cpu") : -1;
        if (threadInfoInTask()) {
            throw new IllegalArgumentException("ARM32 4.19 has no THREAD_INFO_IN_TASK");
        }
    }

    @Override
    public int pageSize() {
        return PAGE_SIZE;
    }

    /** {@code THREAD_SIZE = PAGE_SIZE << THREAD_SIZE_ORDER} (1 in 4.19) = 8 KiB. */
    @Override
    public long threadSize() {
        return threadSize;
    }

    @Override
    public long threadAlign() {
        return threadSize;
    }

    @Override
    public boolean vmapStack() {
        return false;
    }

    @Override
    public long ptRegsSize() {
        return ptRegsSize;
    }

    /** {@code KERNEL_DS} = 0 (arch/arm/include/asm/uaccess.h). */
    @Override
    public long kernelDs() {
        return 0;
    }

    /** {@code _text} = PAGE_OFFSET + TEXT_OFFSET (0x8000). */
    @Override
    public long textBase() {
        return pageOffset + 0x8000;
    }

    /** {@code PGD_SIZE} without LPAE: 4096 entries of 4 bytes, 16 KiB (order 2). */
    @Override
    public int pgdOrder() {
        return 2;
    }

    /** {@code USER_DS} = TASK_SIZE = PAGE_OFFSET - 16 MiB. */
    @Override
    public long userDs() {
        return pageOffset - (16L << 20);
    }

    /**
     * Lowmem from {@code PAGE_OFFSET}; at most up to {@code vmalloc_min} (VMALLOC_END - 240 MiB - 8 MiB),
     * 1784 MiB with the 2G/2G split.
     */
    @Override
    public MemoryMap memoryMap(long ramBytes) {
        if (ramBytes > VMALLOC_MIN - pageOffset) {
            throw new IllegalArgumentException(String.format("%d MiB exceed ARM32 lowmem (%d MiB with PAGE_OFFSET 0x%x)",
                    ramBytes >> 20, (VMALLOC_MIN - pageOffset) >> 20, pageOffset));
        }
        return new MemoryMap(4, PAGE_SIZE, pageOffset, ramBytes, 0, 0, 0);
    }

    @Override
    public @Nullable String tifName(int bit) {
        return bit >= 0 && bit < 64 ? TIF[bit] : null;
    }

    @Override
    public String cpuContextStruct() {
        return "cpu_context_save";
    }

    @Override
    public List<String> cpuContextRegisters() {
        return List.of("r4", "r5", "r6", "r7", "r8", "r9", "sl", "fp", "sp", "pc");
    }

    /** {@code &task_thread_info(p)->cpu_context}. */
    @Override
    public long cpuContext(AddressSpace memory, long task) {
        return taskThreadInfo(memory, task) + tiCpuContext;
    }

    /** {@code (struct pt_regs *)(THREAD_START_SP + task_stack_page(p)) - 1}: 8 bytes below the top, then pt_regs. */
    @Override
    public long taskPtRegs(AddressSpace memory, long task) {
        return taskStackPage(memory, task) + threadSize - 8 - ptRegsSize;
    }

    /** {@code current_thread_info()}: {@code sp & ~(THREAD_SIZE - 1)}. */
    public long currentThreadInfo(long sp) {
        return sp & ~(threadSize - 1);
    }

    /** {@code THREAD_START_SP}: where a new stack's sp starts, THREAD_SIZE - 8. */
    public long threadStartSp() {
        return threadSize - 8;
    }

    @Override
    public List<String> cpuRegisters() {
        return REGISTERS;
    }

    /** {@code current_thread_info()->task}, with {@code current_thread_info() = sp & ~(THREAD_SIZE - 1)}. */
    @Override
    public long currentTask(AddressSpace memory, long[] registers) {
        return memory.readPointer(currentThreadInfo(registers[SP]) + offsets().tiTask);
    }

    @Override
    public void enterTask(long[] registers, long task, long sp) {
        registers[SP] = sp;
    }

    /**
     * {@code __switch_to(prev, prev_ti, next_ti)} (entry-armv.S): {@code stmia} r4-sl, fp, sp, lr into
     * prev's cpu_context (lr lands in the pc slot); {@code switch_tls_v6k}: TPIDRURO from next's
     * tp_value[0], TPIDRURW saved into prev's tp_value[1] and loaded from next's; {@code ldmia} r4-sl,
     * fp, sp, pc from next's cpu_context; r0 returns prev.
     */
    @Override
    public void switchTo(AddressSpace memory, long[] registers, long prev, long next) {
        long prevTi = taskThreadInfo(memory, prev);
        long nextTi = taskThreadInfo(memory, next);
        long save = prevTi + tiCpuContext;
        for (int r = 4; r <= 11; r++) {
            memory.writeInt(save + 4L * (r - 4), (int) registers[r]);
        }
        memory.writeInt(save + ctxSp, (int) registers[SP]);
        memory.writeInt(save + ctxPc, (int) registers[LR]);
        long tpUser = registers[TPIDRURW];
        registers[TPIDRURO] = memory.readPointer(nextTi + tiTpValue);
        registers[TPIDRURW] = memory.readPointer(nextTi + tiTpValue + 4);
        memory.writeInt(prevTi + tiTpValue + 4, (int) tpUser);
        long load = nextTi + tiCpuContext;
        for (int r = 4; r <= 11; r++) {
            registers[r] = memory.readPointer(load + 4L * (r - 4));
        }
        registers[SP] = memory.readPointer(load + ctxSp);
        registers[PC] = memory.readPointer(load + ctxPc);
        registers[0] = prev;
    }

    /**
     * {@code copy_thread()} (arch/arm/kernel/process.c): zero cpu_context; a user task copies the
     * parent's pt_regs with r0 = 0 (sp = stack_start if given); a kernel thread gets zeroed pt_regs in
     * SVC mode with r4 = arg and r5 = fn; pc = ret_from_fork, sp = the child's pt_regs; CLONE_SETTLS
     * sets tp_value[0] from the r3 the syscall passed; tp_value[1] takes the parent's TPIDRURW;
     * {@code thread_notify(THREAD_NOTIFY_COPY)} reaches {@code vfp_thread_copy}, which leaves the
     * copied VFP state in no CPU's registers ({@code hard.cpu = NR_CPUS}).
     */
    @Override
    public void copyThread(AddressSpace memory, long cloneFlags, long stackStart, long stackArg, long parent,
            long child, boolean kernelThread, long retFromFork) {
        long thread = taskThreadInfo(memory, child);
        long childRegs = taskPtRegs(memory, child);
        long context = thread + tiCpuContext;
        memory.fill(context, cpuContextSize, (byte) 0);
        if (!kernelThread) {
            memory.copy(taskPtRegs(memory, parent), childRegs, ptRegsSize);
            memory.writeInt(childRegs, 0);
            if (stackStart != 0) {
                memory.writeInt(childRegs + 4L * SP, (int) stackStart);
            }
        } else {
            memory.fill(childRegs, ptRegsSize, (byte) 0);
            memory.writeInt(context, (int) stackArg);
            memory.writeInt(context + ctxR5, (int) stackStart);
            memory.writeInt(childRegs + 4L * UREGS_CPSR, SVC_MODE);
        }
        memory.writeInt(context + ctxPc, (int) retFromFork);
        memory.writeInt(context + ctxSp, (int) childRegs);
        if ((cloneFlags & CLONE_SETTLS) != 0) {
            memory.writeInt(thread + tiTpValue, memory.readInt(childRegs + 4L * 3));
        }
        memory.writeInt(thread + tiTpValue + 4, memory.readInt(taskThreadInfo(memory, parent) + tiTpValue + 4));
        if (tiVfpCpu >= 0) {
            memory.writeInt(thread + tiVfpCpu, nrCpus());
        }
    }

    /** The syscall arguments in r0, r1, ... of the task's pt_regs (CLONE_BACKWARDS: clone passes TLS in r3). */
    @Override
    public void setSyscallArgument(AddressSpace memory, long task, int index, long value) {
        memory.writeInt(taskPtRegs(memory, task) + 4L * index, (int) value);
    }
}
