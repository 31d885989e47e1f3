package io.github.kproc.mem;

import java.util.Map;

/**
 * A snapshot of a machine's memory accounting, for leak checks: equal snapshots mean every page and
 * every slab object is where it was.
 *
 * @param freePages pages free in the page allocator
 * @param freeVmallocSlots vmalloc slots free
 * @param objectsInUse objects allocated per slab cache, by cache name
 */
public record MemoryUsage(long freePages, long freeVmallocSlots, Map<String, Long> objectsInUse) {
    public MemoryUsage {
        objectsInUse = Map.copyOf(objectsInUse);
    }
}
