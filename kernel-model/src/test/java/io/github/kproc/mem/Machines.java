package io.github.kproc.mem;

/**
 * Memory maps of the two bundled builds, written out here because kernel-model cannot depend on its
 * backends: they are what {@code Arm32Platform.memoryMap} and {@code Arm64Platform.memoryMap} return.
 */
final class Machines {
    /** {@code CONFIG_PAGE_OFFSET=0x80000000} of the vexpress build (2G/2G split). */
    static final long ARM32_PAGE_OFFSET = 0x8000_0000L;
    /** {@code PAGE_OFFSET} with 48-bit VA. */
    static final long ARM64_PAGE_OFFSET = 0xffff_8000_0000_0000L;
    /** {@code VMALLOC_START} = VA_START + 128 MiB of modules with 48-bit VA. */
    static final long ARM64_VMALLOC_START = 0xffff_0000_0800_0000L;
    static final int PAGE_SIZE = 4096;
    /** ARM32 {@code THREAD_SIZE}: 8 KiB, order 1. */
    static final long ARM32_THREAD_SIZE = 8192;
    /** arm64 {@code THREAD_SIZE}: 16 KiB, order 2. */
    static final long ARM64_THREAD_SIZE = 16384;
    /** arm64 {@code THREAD_ALIGN} with VMAP_STACK: 2 * THREAD_SIZE. */
    static final long ARM64_THREAD_ALIGN = 2 * ARM64_THREAD_SIZE;
    /** {@code sizeof(struct task_struct)} of the bundled builds (pahole), aligned to L1_CACHE_BYTES 64. */
    static final long ARM32_TASK_STRUCT_SIZE = 1472;
    static final long ARM64_TASK_STRUCT_SIZE = 3392;
    static final int TASK_STRUCT_ALIGN = 64;

    private Machines() {
    }

    /** ARM32 vexpress: lowmem only, 4-byte pointers, no vmalloc area. */
    static MemoryMap arm32(long ramBytes) {
        return new MemoryMap(4, PAGE_SIZE, ARM32_PAGE_OFFSET, ramBytes, 0, 0, 0);
    }

    /** arm64 defconfig: linear map plus a VMAP_STACK area with one THREAD_ALIGN slot per possible stack. */
    static MemoryMap arm64(long ramBytes) {
        return new MemoryMap(8, PAGE_SIZE, ARM64_PAGE_OFFSET, ramBytes, ARM64_VMALLOC_START,
                ramBytes / ARM64_THREAD_SIZE * ARM64_THREAD_ALIGN, ARM64_THREAD_ALIGN);
    }
}
