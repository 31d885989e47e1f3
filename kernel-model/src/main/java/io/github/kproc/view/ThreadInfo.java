package io.github.kproc.view;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct thread_info} at an address: at the base of the kernel stack on ARM32, the first
 * member of task_struct on arm64. A flyweight: {@link #at(long)} re-points it.
 */
public final class ThreadInfo {
    private final Platform platform;
    private final AddressSpace memory;
    private final Offsets o;
    private long address;

    public ThreadInfo(Platform platform, AddressSpace memory, long address) {
        this.platform = platform;
        this.memory = memory;
        this.o = platform.offsets();
        this.address = address;
    }

    /** Re-points this view; returns it. */
    public ThreadInfo at(long newAddress) {
        this.address = newAddress;
        return this;
    }

    /** The kernel address of the struct. */
    public long address() {
        return address;
    }

    /** {@code flags}: the TIF bits. */
    public long flags() {
        return memory.readPointer(address + o.tiFlags);
    }

    public void flags(long value) {
        memory.writePointer(address + o.tiFlags, value);
    }

    /** {@code test_ti_thread_flag(ti, bit)}. */
    public boolean testFlag(int bit) {
        return (flags() & (1L << bit)) != 0;
    }

    /** {@code set_ti_thread_flag} / {@code clear_ti_thread_flag}. */
    public void flag(int bit, boolean set) {
        long f = flags();
        flags(set ? f | (1L << bit) : f & ~(1L << bit));
    }

    /** The names of the set TIF bits, lowest first; an unnamed bit shows as {@code "bit N"}. */
    public List<String> flagNames() {
        return flagNames(platform, flags());
    }

    /** The names of the TIF bits set in {@code flags} on this platform. */
    public static List<String> flagNames(Platform platform, long flags) {
        List<String> names = new ArrayList<>();
        for (int bit = 0; bit < 8 * platform.pointerSize(); bit++) {
            if ((flags & (1L << bit)) != 0) {
                String name = platform.tifName(bit);
                names.add(name == null ? "bit " + bit : name);
            }
        }
        return names;
    }

    /** {@code preempt_count}, raw. */
    public int preemptCountValue() {
        return memory.readInt(address + o.tiPreemptCount);
    }

    /** {@code preempt_count}, decoded. */
    public PreemptCount preemptCount() {
        return new PreemptCount(preemptCountValue());
    }

    public void preemptCount(int value) {
        memory.writeInt(address + o.tiPreemptCount, value);
    }

    /** {@code addr_limit} (mm_segment_t). */
    public long addrLimit() {
        return memory.readPointer(address + o.tiAddrLimit);
    }

    public void addrLimit(long value) {
        memory.writePointer(address + o.tiAddrLimit, value);
    }

    /** The owning task: {@code ->task} on ARM32; the same address on arm64 (thread_info is inside it). */
    public long task() {
        return platform.threadInfoInTask() ? address - o.taskThreadInfo : memory.readPointer(address + o.tiTask);
    }

    /** The CPU the task runs on ({@code ->cpu} on ARM32; {@code task_struct.cpu} on arm64). */
    public int cpu() {
        return platform.threadInfoInTask() ? memory.readInt(task() + o.taskCpu) : memory.readInt(address + o.tiCpu);
    }

    /** The saved register context of this thread. */
    public CpuContextSave cpuContext() {
        return new CpuContextSave(platform, memory, platform.cpuContext(memory, task()));
    }

    @Override
    public String toString() {
        return String.format("thread_info@0x%x flags=%s preempt_count=%s", address, flagNames(), preemptCount());
    }
}
