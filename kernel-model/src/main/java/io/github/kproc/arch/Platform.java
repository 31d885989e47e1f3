package io.github.kproc.arch;

import io.github.kproc.layout.Kconfig;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.MemoryMap;
import java.util.List;

/**
 * A profile bound to its architecture: the facts of one kernel build, resolved once. Immutable and
 * shareable between machines.
 *
 * <p>Kconfig-dependent semantics are read here from the profile's config, never assumed:
 * {@code CONFIG_THREAD_INFO_IN_TASK}, {@code CONFIG_SMP}, {@code CONFIG_PREEMPT_COUNT},
 * {@code CONFIG_VMAP_STACK}, {@code CONFIG_NR_CPUS}.
 */
public abstract class Platform {
    /** {@code STACK_END_MAGIC} ({@code include/uapi/linux/magic.h}). */
    public static final long STACK_END_MAGIC = 0x57AC6E9DL;

    private final Architecture architecture;
    private final Profile profile;
    private final Offsets offsets;
    private final int pointerSize;
    private final boolean threadInfoInTask;
    private final boolean smp;
    private final boolean preemptCount;
    private final boolean preempt;
    private final int nrCpus;

    protected Platform(Architecture architecture, Profile profile) {
        if (!architecture.supports(profile)) {
            throw new IllegalArgumentException("profile " + profile.name() + " is not a build of " + architecture.name());
        }
        this.architecture = architecture;
        this.profile = profile;
        this.offsets = new Offsets(profile);
        this.pointerSize = (int) profile.field("task_struct", "stack").size();
        Kconfig config = profile.config();
        this.threadInfoInTask = config.enabled("CONFIG_THREAD_INFO_IN_TASK");
        this.smp = config.enabled("CONFIG_SMP");
        this.preemptCount = config.enabled("CONFIG_PREEMPT_COUNT");
        this.preempt = config.enabled("CONFIG_PREEMPT");
        this.nrCpus = smp ? (int) config.number("CONFIG_NR_CPUS", 1) : 1;
        if (threadInfoInTask != (offsets.taskThreadInfo == 0)) {
            throw new IllegalArgumentException(profile.name()
                    + ": CONFIG_THREAD_INFO_IN_TASK disagrees with where the layout puts thread_info");
        }
    }

    /** The backend. */
    public final Architecture architecture() {
        return architecture;
    }

    /** The build's layouts and config. */
    public final Profile profile() {
        return profile;
    }

    /** Member offsets resolved from the profile. */
    public final Offsets offsets() {
        return offsets;
    }

    /** Bytes in a guest pointer ({@code sizeof(void *)}): 4 on ARM32, 8 on arm64. */
    public final int pointerSize() {
        return pointerSize;
    }

    /** {@code CONFIG_THREAD_INFO_IN_TASK}: thread_info is the first member of task_struct. */
    public final boolean threadInfoInTask() {
        return threadInfoInTask;
    }

    /** {@code CONFIG_SMP}. */
    public final boolean smp() {
        return smp;
    }

    /** {@code CONFIG_PREEMPT_COUNT}: preempt_disable() counts. */
    public final boolean preemptCountEnabled() {
        return preemptCount;
    }

    /** {@code CONFIG_PREEMPT}: a preemptible kernel. */
    public final boolean preemptible() {
        return preempt;
    }

    /** {@code CONFIG_NR_CPUS} (1 without SMP). */
    public final int nrCpus() {
        return nrCpus;
    }

    /** {@code PREEMPT_DISABLE_OFFSET}: 1 with CONFIG_PREEMPT_COUNT, else 0. */
    public final int preemptDisableOffset() {
        return preemptCount ? 1 : 0;
    }

    /** {@code FORK_PREEMPT_COUNT} = 2 * PREEMPT_DISABLE_OFFSET + PREEMPT_ENABLED (asm-generic: 0). */
    public final int forkPreemptCount() {
        return 2 * preemptDisableOffset();
    }

    /** Bytes in a page. */
    public abstract int pageSize();

    /** {@code THREAD_SIZE}: bytes of a kernel stack. */
    public abstract long threadSize();

    /** {@code THREAD_ALIGN}: the alignment of a kernel stack (2 * THREAD_SIZE with VMAP_STACK on arm64). */
    public abstract long threadAlign();

    /** {@code CONFIG_VMAP_STACK}: stacks come from the vmalloc area. */
    public abstract boolean vmapStack();

    /** {@code sizeof(struct pt_regs)}. */
    public abstract long ptRegsSize();

    /**
     * {@code virt_to_page(kaddr)}: the {@code struct page *} of a linear-map address, as a kernel
     * address. Only a backend whose build has {@link #vmapStack()} needs it (the pages array of a
     * vmalloc'ed stack's {@code vm_struct}); the default refuses.
     *
     * @throws UnsupportedOperationException where the backend does not model the memory map
     */
    public long virtToPage(long kaddr) {
        throw new UnsupportedOperationException("virt_to_page is not modelled on this platform");
    }

    /** {@code KERNEL_DS}, the addr_limit of kernel threads. */
    public abstract long kernelDs();

    /** {@code USER_DS}, the addr_limit of user tasks. */
    public abstract long userDs();

    /** {@code _text}: where the kernel image starts ({@code PAGE_OFFSET + TEXT_OFFSET} on ARM32, {@code KIMAGE_VADDR + TEXT_OFFSET} on arm64). */
    public abstract long textBase();

    /** {@code PGD_SIZE} as a page order: what {@code pgd_alloc} takes for a new address space. */
    public abstract int pgdOrder();

    /**
     * {@code PID_MAX_LIMIT} (include/linux/threads.h): 4 * 1024 * 1024 where {@code long} is wider than
     * 32 bits, else {@code PID_MAX_DEFAULT} 32768 ({@code CONFIG_BASE_SMALL} builds are not modelled).
     */
    public final int pidMaxLimit() {
        return pointerSize() > 4 ? 4 * 1024 * 1024 : 32768;
    }

    /** Where RAM (and the vmalloc area) sit for a machine with {@code ramBytes} of memory. */
    public abstract MemoryMap memoryMap(long ramBytes);

    /** The name of TIF bit {@code bit} on this architecture, or null if 4.19 defines none. */
    public abstract @org.jspecify.annotations.Nullable String tifName(int bit);

    /** The bit number of a TIF flag by name ({@code "TIF_NEED_RESCHED"}), or -1. */
    public final int tifBit(String name) {
        for (int bit = 0; bit < 64; bit++) {
            if (name.equals(tifName(bit))) {
                return bit;
            }
        }
        return -1;
    }

    /** The struct the switch saves callee-saved registers in: {@code cpu_context_save} or {@code cpu_context}. */
    public abstract String cpuContextStruct();

    /** The saved registers' member names in {@link #cpuContextStruct()}, in order. */
    public abstract List<String> cpuContextRegisters();

    /** The address of a task's saved register context (in thread_info on ARM32, task_struct.thread on arm64). */
    public abstract long cpuContext(AddressSpace memory, long task);

    /** {@code task_thread_info(p)}: the task itself with THREAD_INFO_IN_TASK, else {@code p->stack}. */
    public final long taskThreadInfo(AddressSpace memory, long task) {
        return threadInfoInTask ? task : memory.readPointer(task + offsets.taskStack);
    }

    /** {@code task_stack_page(p)}: {@code p->stack}. */
    public final long taskStackPage(AddressSpace memory, long task) {
        return memory.readPointer(task + offsets.taskStack);
    }

    /**
     * {@code end_of_stack(p)}: the word that holds STACK_END_MAGIC. With THREAD_INFO_IN_TASK it is the
     * lowest word of the stack; otherwise the word just above thread_info at the stack base.
     */
    public final long endOfStack(AddressSpace memory, long task) {
        long stack = taskStackPage(memory, task);
        return threadInfoInTask ? stack : stack + offsets.threadInfoSize;
    }

    /** True if the task's stack end magic is intact ({@code !task_stack_end_corrupted(p)}). */
    public final boolean stackEndMagicIntact(AddressSpace memory, long task) {
        return memory.readPointer(endOfStack(memory, task)) == STACK_END_MAGIC;
    }

    /** {@code task_pt_regs(p)}: where the user registers of a task are saved on its stack. */
    public abstract long taskPtRegs(AddressSpace memory, long task);

    /** {@code task_cpu(p)}: {@code p->cpu} with THREAD_INFO_IN_TASK, else {@code task_thread_info(p)->cpu}; 0 without SMP. */
    public final int taskCpu(AddressSpace memory, long task) {
        if (!smp) {
            return 0;
        }
        return threadInfoInTask ? memory.readInt(task + offsets.taskCpu)
                : memory.readInt(taskThreadInfo(memory, task) + offsets.tiCpu);
    }

    /** The names of the CPU registers the model keeps, in index order (ARM32 r0-r15, cpsr; arm64 x0-x30, sp, pc, sp_el0). */
    public abstract List<String> cpuRegisters();

    /**
     * {@code current} as the architecture finds it from a CPU's registers: ARM32
     * {@code current_thread_info()->task} with {@code current_thread_info() = sp & ~(THREAD_SIZE - 1)};
     * arm64 {@code sp_el0}.
     */
    public abstract long currentTask(AddressSpace memory, long[] registers);

    /**
     * Puts a CPU in the state it has while {@code task} runs in the kernel on its own stack, with
     * {@code sp} the kernel stack pointer (ARM32 sp; arm64 sp and sp_el0 = task).
     */
    public abstract void enterTask(long[] registers, long task, long sp);

    /**
     * The architecture's register switch, {@code __switch_to} (ARM32) or {@code cpu_switch_to}
     * (arm64): saves the callee-saved registers, sp and lr (as pc) of the running CPU into
     * {@code prev}'s saved context and loads {@code next}'s, including the TLS registers the switch
     * moves; afterwards {@link #currentTask} of the registers is {@code next}.
     */
    public abstract void switchTo(AddressSpace memory, long[] registers, long prev, long next);

    /**
     * {@code copy_thread()}: sets up a new task's saved context and pt_regs so that its first switch-in
     * runs {@code retFromFork}. A user task gets a copy of the parent's pt_regs with the return value
     * 0 (and {@code stackStart} as its user sp if non-zero; the TLS register from the syscall's TLS
     * argument with CLONE_SETTLS); a kernel thread gets zeroed pt_regs and {@code fn}/{@code arg} in
     * the registers {@code ret_from_fork} calls through.
     */
    public abstract void copyThread(AddressSpace memory, long cloneFlags, long stackStart, long stackArg, long parent,
            long child, boolean kernelThread, long retFromFork);

    /**
     * Stores argument {@code index} (0-based) of a system call where the architecture's entry code
     * leaves it in the caller's pt_regs (both ARM ABIs pass clone's TLS argument in the fourth
     * register, which {@link #copyThread} reads with CLONE_SETTLS).
     */
    public abstract void setSyscallArgument(AddressSpace memory, long task, int index, long value);

    @Override
    public String toString() {
        return profile.name() + " (" + architecture.name() + ")";
    }
}
