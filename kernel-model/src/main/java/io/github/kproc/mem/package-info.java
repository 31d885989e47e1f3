/**
 * Kernel memory: one off-heap arena per simulated machine, addressed by kernel virtual addresses.
 *
 * <p>{@link io.github.kproc.mem.AddressSpace} reads and writes guest scalars and pointers
 * (little-endian, pointer width of the profile) at kernel addresses, over the model's arena or over
 * a raw memory image. {@link io.github.kproc.mem.KernelMemory} adds the allocators the model runs on:
 * a buddy {@link io.github.kproc.mem.PageAllocator}, {@link io.github.kproc.mem.SlabCache}s per
 * struct type, and a {@link io.github.kproc.mem.VmallocArea} for {@code VMAP_STACK} stacks.
 * Allocators return 0 (NULL) when memory is exhausted, as the kernel does, so callers can turn it
 * into {@code -ENOMEM} and unwind.
 */
@NullMarked
package io.github.kproc.mem;

import org.jspecify.annotations.NullMarked;
