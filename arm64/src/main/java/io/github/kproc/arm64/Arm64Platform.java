package io.github.kproc.arm64;

import io.github.kproc.arch.Architecture;
import io.github.kproc.arch.Platform;
import io.github.kproc.layout.Kconfig;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.MemoryMap;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Linux 4.19 on arm64: thread_info is the first member of task_struct (THREAD_INFO_IN_TASK),
 * {@code current} is {@code sp_el0}; callee-saved registers in {@code task_struct.thread.cpu_context};
 * THREAD_SIZE from THREAD_SHIFT (arch/arm64/include/asm/memory.h); with VMAP_STACK, stacks are
 * vmalloc'd at THREAD_ALIGN = 2 * THREAD_SIZE.
 */
public final class Arm64Platform extends Platform {
    private static final String[] TIF = new String[64];

    static {
        TIF[0] = "TIF_SIGPENDING";
        TIF[1] = "TIF_NEED_RESCHED";
        TIF[2] = "TIF_NOTIFY_RESUME";
        TIF[3] = "TIF_FOREIGN_FPSTATE";
        TIF[4] = "TIF_UPROBE";
        TIF[5] = "TIF_FSCHECK";
        TIF[7] = "TIF_NOHZ";
        TIF[8] = "TIF_SYSCALL_TRACE";
        TIF[9] = "TIF_SYSCALL_AUDIT";
        TIF[10] = "TIF_SYSCALL_TRACEPOINT";
        TIF[11] = "TIF_SECCOMP";
        TIF[18] = "TIF_MEMDIE";
        TIF[19] = "TIF_FREEZE";
        TIF[20] = "TIF_RESTORE_SIGMASK";
        TIF[21] = "TIF_SINGLESTEP";
        TIF[22] = "TIF_32BIT";
        TIF[23] = "TIF_SVE";
        TIF[24] = "TIF_SVE_VL_INHERIT";
        TIF[25] = "TIF_SSBD";
    }

    /** {@code MODULES_VSIZE}: 128 MiB of module space between VA_START and VMALLOC_START. */
    private static final long MODULES_VSIZE = 128L << 20;

    private final int pageShift;
    private final int vaBits;
    private final boolean vmapStack;
    private final long threadSize;
    private final long threadAlign;
    private final long ptRegsSize;
    private final long cpuContextOffset;
    /** {@code sizeof(struct cpu_context)}. */
    private final long cpuContextSize;
    /** {@code cpu_context.x20}, {@code .fp}, {@code .sp}, {@code .pc} (x19..x28 are stored in order from 0). */
    private final long ctxX20;
    private final long ctxFp;
    private final long ctxSp;
    private final long ctxPc;
    private final long tpValue;
    private final long sveState;
    private final long regsSp;
    private final long regsPstate;
    private static final List<String> REGISTERS;

    static {
        String[] names = new String[36];
        for (int i = 0; i < 31; i++) {
            names[i] = "x" + i;
        }
        names[31] = "sp";
        names[32] = "pc";
        names[33] = "sp_el0";
        names[34] = "tpidr_el0";
        names[35] = "tpidrro_el0";
        REGISTERS = List.of(names);
    }

    /** Register indices. */
    static final int FP = 29;
    static final int LR = 30;
    static final int SP = 31;
    static final int PC = 32;
    static final int SP_EL0 = 33;
    static final int TPIDR_EL0 = 34;
    static final int TPIDRRO_EL0 = 35;
    /** {@code TIF_SVE}. */
    private static final int TIF_SVE = 23;
    /** {@code PSR_MODE_EL1h}. */
    static final long PSR_MODE_EL1H = 0x5;
    /** {@code CLONE_SETTLS}. */
    private static final long CLONE_SETTLS = 0x00080000L;

    Arm64Platform(Architecture architecture, Profile profile) {
        super(architecture, profile);
        Kconfig config = profile.config();
        this.pageShift = (int) config.number("CONFIG_ARM64_PAGE_SHIFT", 12);
        this.vaBits = (int) config.number("CONFIG_ARM64_VA_BITS", 48);
        boolean kasan = config.enabled("CONFIG_KASAN");
        this.vmapStack = config.enabled("CONFIG_VMAP_STACK");
        int minThreadShift = 14 + (kasan ? 1 : 0);
        int threadShift = vmapStack && minThreadShift < pageShift ? pageShift : minThreadShift;
        this.threadSize = 1L << threadShift;
        this.threadAlign = vmapStack ? 2 * threadSize : threadSize;
        this.ptRegsSize = profile.sizeOf("pt_regs");
        this.cpuContextOffset = offsets().required("task_struct", "thread.cpu_context");
        this.cpuContextSize = profile.sizeOf("cpu_context");
        this.ctxX20 = profile.offsetOf("cpu_context", "x20");
        this.ctxFp = profile.offsetOf("cpu_context", "fp");
        this.ctxSp = profile.offsetOf("cpu_context", "sp");
        this.ctxPc = profile.offsetOf("cpu_context", "pc");
        this.tpValue = offsets().required("task_struct", "thread.uw.tp_value");
        this.sveState = offsets().required("task_struct", "thread.sve_state");
        this.regsSp = offsets().required("pt_regs", "sp");
        this.regsPstate = offsets().required("pt_regs", "pstate");
        if (!threadInfoInTask()) {
            throw new IllegalArgumentException("arm64 4.19 selects THREAD_INFO_IN_TASK");
        }
    }

    @Override
    public int pageSize() {
        return 1 << pageShift;
    }

    /** {@code THREAD_SIZE = 1 << THREAD_SHIFT}: 16 KiB, 32 KiB with KASAN, 64 KiB with 64K pages and VMAP_STACK. */
    @Override
    public long threadSize() {
        return threadSize;
    }

    /** {@code THREAD_ALIGN}: 2 * THREAD_SIZE with VMAP_STACK, else THREAD_SIZE. */
    @Override
    public long threadAlign() {
        return threadAlign;
    }

    @Override
    public boolean vmapStack() {
        return vmapStack;
    }

    @Override
    public long ptRegsSize() {
        return ptRegsSize;
    }

    /** {@code KERNEL_DS} = UL(-1). */
    @Override
    public long kernelDs() {
        return -1L;
    }

    /** {@code USER_DS} = TASK_SIZE_64 - 1 = 2^VA_BITS - 1. */
    @Override
    public long userDs() {
        return (1L << vaBits) - 1;
    }

    /** {@code _text} = KIMAGE_VADDR (MODULES_END) + TEXT_OFFSET (0x80000). */
    @Override
    public long textBase() {
        return -(1L << vaBits) + MODULES_VSIZE + 0x80000;
    }

    /** {@code PGD_SIZE} with 4 KiB pages and 4 levels: one page (order 0). */
    @Override
    public int pgdOrder() {
        return 0;
    }

    /** {@code PAGE_OFFSET} = the top half of the kernel VA range: 0xffff800000000000 with 48-bit VA. */
    public long pageOffset() {
        return -(1L << (vaBits - 1));
    }

    /**
     * {@code virt_to_page} with SPARSEMEM_VMEMMAP (arch/arm64/include/asm/memory.h): the page's index
     * in the linear map times {@code sizeof(struct page)} (64, {@code STRUCT_PAGE_MAX_SHIFT}) or'ed
     * into {@code VMEMMAP_START} = PAGE_OFFSET - 2^(VA_BITS - PAGE_SHIFT - 1 + 6).
     */
    @Override
    public long virtToPage(long kaddr) {
        long vmemmapStart = pageOffset() - (1L << (vaBits - pageShift - 1 + 6));
        return ((kaddr & ~pageOffset()) >>> pageShift) * 64 | vmemmapStart;
    }

    /** {@code VMALLOC_START} = MODULES_END = VA_START + KASAN shadow (none) + 128 MiB. */
    public long vmallocStart() {
        return -(1L << vaBits) + MODULES_VSIZE;
    }

    /**
     * RAM in the linear map at {@link #pageOffset()}; with VMAP_STACK also a vmalloc area at
     * {@link #vmallocStart()} with a THREAD_ALIGN slot for as many stacks as RAM could hold.
     */
    @Override
    public MemoryMap memoryMap(long ramBytes) {
        if (ramBytes <= 0 || ramBytes > (1L << (vaBits - 1))) {
            throw new IllegalArgumentException("memory: RAM must be 1 .. 2^" + (vaBits - 1)
                    + " bytes (half the linear map of CONFIG_ARM64_VA_BITS=" + vaBits + "): " + ramBytes);
        }
        long vmallocSize = vmapStack ? (ramBytes / threadSize) * threadAlign : 0;
        return new MemoryMap(8, pageSize(), pageOffset(), ramBytes, vmapStack ? vmallocStart() : 0, vmallocSize,
                vmapStack ? threadAlign : 0);
    }

    @Override
    public @Nullable String tifName(int bit) {
        return bit >= 0 && bit < 64 ? TIF[bit] : null;
    }

    @Override
    public String cpuContextStruct() {
        return "cpu_context";
    }

    @Override
    public List<String> cpuContextRegisters() {
        return List.of("x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "fp", "sp", "pc");
    }

    /** {@code &p->thread.cpu_context}. */
    @Override
    public long cpuContext(AddressSpace memory, long task) {
        return task + cpuContextOffset;
    }

    /** {@code (struct pt_regs *)(THREAD_SIZE + task_stack_page(p)) - 1}: no gap above pt_regs. */
    @Override
    public long taskPtRegs(AddressSpace memory, long task) {
        return taskStackPage(memory, task) + threadSize - ptRegsSize;
    }

    @Override
    public List<String> cpuRegisters() {
        return REGISTERS;
    }

    /** {@code get_current()}: {@code mrs sp_el0}. */
    @Override
    public long currentTask(AddressSpace memory, long[] registers) {
        return registers[SP_EL0];
    }

    @Override
    public void enterTask(long[] registers, long task, long sp) {
        registers[SP] = sp;
        registers[SP_EL0] = task;
    }

    /**
     * {@code __switch_to} then {@code cpu_switch_to} (arch/arm64/kernel/process.c, entry.S):
     * {@code tls_thread_switch} saves tpidr_el0 into prev's {@code thread.uw.tp_value} and loads next's
     * (tpidrro_el0 = 0 for a native task); then x19-x28, fp, sp and lr (into the pc slot) are stored to
     * prev's {@code thread.cpu_context} and loaded from next's, {@code ret} to the loaded lr, sp_el0 =
     * next, x0 returns prev.
     */
    @Override
    public void switchTo(AddressSpace memory, long[] registers, long prev, long next) {
        memory.writeLong(prev + tpValue, registers[TPIDR_EL0]);
        registers[TPIDRRO_EL0] = 0;
        registers[TPIDR_EL0] = memory.readLong(next + tpValue);
        long save = prev + cpuContextOffset;
        for (int r = 19; r <= 28; r++) {
            memory.writeLong(save + 8L * (r - 19), registers[r]);
        }
        memory.writeLong(save + ctxFp, registers[FP]);
        memory.writeLong(save + ctxSp, registers[SP]);
        memory.writeLong(save + ctxPc, registers[LR]);
        long load = next + cpuContextOffset;
        for (int r = 19; r <= 28; r++) {
            registers[r] = memory.readLong(load + 8L * (r - 19));
        }
        registers[FP] = memory.readLong(load + ctxFp);
        registers[SP] = memory.readLong(load + ctxSp);
        registers[LR] = memory.readLong(load + ctxPc);
        registers[PC] = registers[LR];
        registers[SP_EL0] = next;
        registers[0] = prev;
    }

    /**
     * {@code copy_thread()} (arch/arm64/kernel/process.c): zero cpu_context, clear TIF_SVE and
     * sve_state; a user task copies the parent's pt_regs with x0 = 0, inherits tpidr_el0 (sp =
     * stack_start if given; CLONE_SETTLS takes the TLS from x3); a kernel thread gets zeroed pt_regs in
     * EL1h with x19 = fn and x20 = arg; pc = ret_from_fork, sp = the child's pt_regs.
     */
    @Override
    public void copyThread(AddressSpace memory, long cloneFlags, long stackStart, long stackArg, long parent,
            long child, boolean kernelThread, long retFromFork) {
        long childRegs = taskPtRegs(memory, child);
        long context = child + cpuContextOffset;
        memory.fill(context, cpuContextSize, (byte) 0);
        long flags = child + offsets().tiFlags;
        memory.writeLong(flags, memory.readLong(flags) & ~(1L << TIF_SVE));
        memory.writeLong(child + sveState, 0);
        if (!kernelThread) {
            memory.copy(taskPtRegs(memory, parent), childRegs, ptRegsSize);
            memory.writeLong(childRegs, 0);
            memory.writeLong(child + tpValue, memory.readLong(parent + tpValue));
            if (stackStart != 0) {
                memory.writeLong(childRegs + regsSp, stackStart);
            }
            if ((cloneFlags & CLONE_SETTLS) != 0) {
                memory.writeLong(child + tpValue, memory.readLong(childRegs + 8L * 3));
            }
        } else {
            memory.fill(childRegs, ptRegsSize, (byte) 0);
            memory.writeLong(childRegs + regsPstate, PSR_MODE_EL1H);
            memory.writeLong(context, stackStart);
            memory.writeLong(context + ctxX20, stackArg);
        }
        memory.writeLong(context + ctxPc, retFromFork);
        memory.writeLong(context + ctxSp, childRegs);
    }

    /** Syscall argument {@code index} in x{@code index} of the task's pt_regs (clone passes TLS in x3). */
    @Override
    public void setSyscallArgument(AddressSpace memory, long task, int index, long value) {
        memory.writeLong(taskPtRegs(memory, task) + 8L * index, value);
    }
}
