package io.github.kproc.kernel;

import io.github.kproc.mem.AddressSpace;

/**
 * {@code mm/percpu.c} as {@code setup_per_cpu_areas} leaves it: a per-CPU section in the kernel
 * image ({@code __per_cpu_start}) that defines each per-CPU variable's address, one unit per CPU in
 * RAM holding that CPU's copy, and {@code __per_cpu_offset[cpu]} = unit - {@code __per_cpu_start}, so
 * that {@code per_cpu_ptr(&var, cpu)} = {@code &var + __per_cpu_offset[cpu]}, as readers such as crash
 * and drgn compute it.
 */
final class PerCpu {
    private final Machine mc;
    private final AddressSpace m;
    /** {@code __per_cpu_start}: the section in the image, reserved when the first variable is defined. */
    private final long sectionStart;
    private final long sectionSize;
    /** {@code __per_cpu_offset}: NR_CPUS unsigned longs in the image's data. */
    final long perCpuOffset;
    private long next;

    PerCpu(Machine mc, long sectionSize) {
        this.mc = mc;
        this.m = mc.m;
        this.sectionSize = sectionSize;
        int ptr = mc.platform.pointerSize();
        this.perCpuOffset = mc.staticAlloc((long) mc.platform.nrCpus() * ptr, ptr);
        this.sectionStart = mc.staticAlloc(sectionSize, mc.platform.pageSize());
        this.next = sectionStart;
        int order = 0;
        while (((long) mc.platform.pageSize() << order) < sectionSize) {
            order++;
        }
        for (int cpu = 0; cpu < mc.cpus; cpu++) {
            long unit = mc.mem.pages().allocPages(order);
            if (unit == 0) {
                throw Machine.tooLittleRam(mc.ramBytes, "the per-CPU area of CPU " + cpu);
            }
            m.fill(unit, (long) mc.platform.pageSize() << order, (byte) 0);
            m.writePointer(perCpuOffset + (long) cpu * ptr, unit - sectionStart);
        }
    }

    /** {@code DEFINE_PER_CPU}: the address of a new variable of {@code size} bytes in the section. */
    long define(long size, long align) {
        long at = (next + align - 1) & -align;
        if (at + size > sectionStart + sectionSize) {
            throw new IllegalStateException("per-CPU section exhausted");
        }
        next = at + size;
        return at;
    }

    /** {@code per_cpu_ptr(var, cpu)}. */
    long ptr(long var, int cpu) {
        long at = var + m.readPointer(perCpuOffset + (long) cpu * mc.platform.pointerSize());
        // unsigned long arithmetic: a unit below the section has an offset that wraps on 32-bit
        return mc.platform.pointerSize() == 4 ? at & 0xffff_ffffL : at;
    }
}
