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

    Arm32Platform(Architecture architecture, Profile profile) {
        super(architecture, profile);
        this.pageOffset = profile.config().number("CONFIG_PAGE_OFFSET", 0xC0000000L);
        this.threadSize = PAGE_SIZE << 1;
        this.ptRegsSize = profile.sizeOf("pt_regs");
        this.tiCpuContext = offsets().required("thread_info", "cpu_context");
        if (threadInfoInTask()) {
            throw new IllegalArgumentException("ARM32 4.19 has no THREAD_INFO_IN_TASK");
        }
    }

    @Override
    public int pageSize() {
        return PAGE_SIZE;
    }

    /** {@code THREAD_SIZE} = PAGE_SIZE << THREAD_SIZE_ORDER (1 in 4.19) = 8 KiB. */
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
}
