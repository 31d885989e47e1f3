package io.github.kproc.mem;

/**
 * Where a simulated machine's memory sits in the kernel's virtual address space.
 *
 * @param pointerSize bytes in a guest pointer (4 or 8)
 * @param pageSize bytes in a page
 * @param linearBase {@code PAGE_OFFSET}: the kernel address of the first byte of RAM
 * @param linearSize bytes of RAM, a multiple of the page size
 * @param vmallocBase {@code VMALLOC_START}, or 0 when the model maps no vmalloc area
 * @param vmallocSize bytes of vmalloc area the model backs (0 for none)
 * @param vmallocSlot bytes per vmalloc slot (the alignment of each area), 0 for none
 */
public record MemoryMap(int pointerSize, int pageSize, long linearBase, long linearSize, long vmallocBase,
        long vmallocSize, long vmallocSlot) {
    public MemoryMap {
        if (pointerSize != 4 && pointerSize != 8) {
            throw new IllegalArgumentException("pointer size " + pointerSize);
        }
        if (pageSize <= 0 || Integer.bitCount(pageSize) != 1) {
            throw new IllegalArgumentException("page size " + pageSize);
        }
        if (linearSize <= 0 || linearSize % pageSize != 0) {
            throw new IllegalArgumentException("memory: RAM must be a positive whole number of " + pageSize
                    + "-byte pages: " + linearSize);
        }
        if (linearBase % pageSize != 0) {
            throw new IllegalArgumentException(String.format("RAM at 0x%x (PAGE_OFFSET) is not page aligned", linearBase));
        }
        if (pointerSize == 4 && Long.compareUnsigned(linearBase + linearSize, 1L << 32) > 0) {
            throw new IllegalArgumentException(String.format(
                    "%d bytes of RAM at 0x%x do not fit in a 32-bit address space", linearSize, linearBase));
        }
        if (vmallocSize < 0 || (vmallocSize > 0 && vmallocSlot <= 0)) {
            throw new IllegalArgumentException("vmalloc area needs a slot size");
        }
    }
}
