package io.github.kproc.view;

import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;

/**
 * Kernel memory as a debugger sees it: the build's layouts, the memory by kernel virtual address,
 * the symbols a reader starts from, and each CPU's registers. A live {@code Kernel} is one; a memory
 * image with its symbol table can be another, so code written against this reads both.
 */
public interface KernelReader {
    /** The build: layouts, Kconfig and the architecture's rules. */
    Platform platform();

    /** Memory by kernel virtual address. */
    AddressSpace addressSpace();

    /**
     * The address of a symbol as System.map has it ({@code init_task}, {@code init_pid_ns},
     * {@code runqueues}, {@code __per_cpu_offset}, {@code init_mm}, {@code max_threads}, {@code pid_max}).
     *
     * @throws IllegalArgumentException if the reader has no such symbol
     */
    long symbol(String name);

    /** The number of CPUs. */
    int cpus();

    /** A CPU's registers, named by {@link Platform#cpuRegisters()} (a copy). */
    long[] registers(int cpu);
}
