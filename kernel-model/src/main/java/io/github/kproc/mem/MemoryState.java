package io.github.kproc.mem;

import org.jspecify.annotations.Nullable;

/**
 * What an address of the linear map is to the allocators ({@link KernelMemory#classify}), as
 * {@code struct page} and the slab's free maps record it.
 *
 * @param kind what the address belongs to
 * @param cache the slab cache's name for {@link Kind#LIVE_OBJECT} and {@link Kind#FREE_OBJECT}, else null
 * @param start the first byte of the object or page block the address is in
 * @param size the bytes of that object (the cache's slot size) or block
 */
public record MemoryState(Kind kind, @Nullable String cache, long start, long size) {
    /** The kinds of memory an address can be in. */
    public enum Kind {
        /** An allocated slab object: live kernel data. */
        LIVE_OBJECT,
        /** A free slot of a slab (poisoned 0x6b): a stale pointer into it reads freed memory. */
        FREE_OBJECT,
        /** Pages allocated outside the slabs (stacks, page tables, per-CPU areas, the image's data). */
        ALLOCATED_PAGES,
        /** Pages in the buddy allocator's free lists (poisoned 0xaa once used). */
        FREE_PAGES,
        /** Not RAM of the linear map (the vmalloc area, or no memory at all). */
        OTHER
    }
}
