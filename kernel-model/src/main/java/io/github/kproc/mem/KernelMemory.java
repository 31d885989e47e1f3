package io.github.kproc.mem;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The memory of one simulated machine: one off-heap arena holding RAM (and the backed part of the
 * vmalloc area), addressed by kernel virtual addresses, with its page allocator, slab caches and
 * vmalloc area. Pages are mapped lazily by the host, so a large machine costs nothing until used.
 *
 * <p>Not thread-safe: one machine is driven by one thread at a time, as the model's CPUs are
 * simulated in turn. Close it to release the arena.
 */
public final class KernelMemory implements AutoCloseable {
    private final Arena arena;
    private final MemoryMap map;
    private final AddressSpace space;
    private final PageAllocator pages;
    private final @Nullable VmallocArea vmalloc;
    private final List<SlabCache> caches = new ArrayList<>();

    private KernelMemory(Arena arena, MemorySegment segment, MemoryMap map) {
        this.arena = arena;
        this.map = map;
        this.space = new AddressSpace(segment, map.pointerSize(), map.linearBase(), map.linearSize(),
                map.vmallocBase(), map.vmallocSize());
        this.pages = new PageAllocator(space, map.linearBase(), map.linearSize(), map.pageSize());
        this.vmalloc = map.vmallocSize() == 0 ? null
                : new VmallocArea(space, pages, map.vmallocBase(), map.vmallocSize(), map.vmallocSlot());
    }

    /** Maps a machine's memory; every byte reads as zero until written. */
    public static KernelMemory create(MemoryMap map) {
        long bytes = map.linearSize() + map.vmallocSize();
        Arena arena = Arena.ofShared();
        try {
            return new KernelMemory(arena, lazyZeroPages(arena, bytes), map);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * A mapping of a sparse, already unlinked temporary file: the host allocates a page on first
     * touch, so untouched memory costs neither RAM nor disk. Private (copy-on-write) first, so written
     * pages are anonymous memory that is never written back; Linux charges a private writable mapping
     * in full against overcommit, so a machine larger than the host could commit falls back to a
     * shared mapping, whose touched pages are page cache the host may write back to the unlinked file.
     */
    private static MemorySegment lazyZeroPages(Arena arena, long bytes) {
        try {
            Path file = Files.createTempFile("kproc-", ".ram");
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(bytes);
                try {
                    return raf.getChannel().map(FileChannel.MapMode.PRIVATE, 0, bytes, arena);
                } catch (IOException refused) {
                    return raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
                }
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + bytes + " bytes of machine memory", e);
        }
    }

    /** The machine's address layout. */
    public MemoryMap map() {
        return map;
    }

    /** Reads and writes at kernel addresses. */
    public AddressSpace space() {
        checkOpen();
        return space;
    }

    /** The buddy allocator over RAM. */
    public PageAllocator pages() {
        checkOpen();
        return pages;
    }

    /** The vmalloc area, or null when the machine maps none. */
    public @Nullable VmallocArea vmalloc() {
        checkOpen();
        return vmalloc;
    }

    /** {@code kmem_cache_create(name, size, align)}. */
    public SlabCache createCache(String name, long size, int align) {
        checkOpen();
        if (caches.size() >= Short.MAX_VALUE - 1) {
            throw new IllegalStateException("too many caches");
        }
        for (SlabCache c : caches) {
            if (c.name().equals(name)) {
                throw new IllegalArgumentException("a cache named " + name + " exists");
            }
        }
        SlabCache cache = new SlabCache(name, pages, space, (short) (caches.size() + 1), size, align);
        caches.add(cache);
        return cache;
    }

    /** Every cache, in creation order. */
    public List<SlabCache> caches() {
        checkOpen();
        return Collections.unmodifiableList(caches);
    }

    /** Gives every cache's kept empty slab back to the page allocator ({@code kmem_cache_shrink} on all). */
    public void shrinkCaches() {
        checkOpen();
        for (SlabCache c : caches) {
            c.shrink();
        }
    }

    /**
     * The current accounting. Two snapshots (after {@link #shrinkCaches()}) that differ mean memory
     * moved; for a kernel's leak check use {@code io.github.kproc.testkit.KernelSnapshot#leaksSince}, which
     * does not count an {@code mm_struct} kept only as a lazy-TLB kernel thread's {@code active_mm}.
     */
    public MemoryUsage usage() {
        checkOpen();
        Map<String, Long> inUse = new LinkedHashMap<>();
        for (SlabCache c : caches) {
            inUse.put(c.name(), c.objectsInUse());
        }
        return new MemoryUsage(pages.freePages(), vmalloc == null ? 0 : vmalloc.freeSlots(), inUse);
    }

    /**
     * What {@code address} is to the allocators: a live or free slab object (of which cache), pages
     * allocated outside the slabs, free pages, or something else. Reads only the allocators' own
     * records, never the memory.
     */
    public MemoryState classify(long address) {
        checkOpen();
        int pfn = pages.pfnOrMinus(address);
        if (pfn < 0) {
            return new MemoryState(MemoryState.Kind.OTHER, null, address, 0);
        }
        int head = pages.blockHead(pfn);
        if (head < 0) {
            return new MemoryState(MemoryState.Kind.OTHER, null, address, 0);
        }
        long start = pages.addressOf(head);
        long blockBytes = (long) pages.pageSize() << pages.headOrder(head);
        if (!pages.headAllocated(head)) {
            return new MemoryState(MemoryState.Kind.FREE_PAGES, null, start, blockBytes);
        }
        short id = pages.slabCache(head);
        if (id == 0) {
            return new MemoryState(MemoryState.Kind.ALLOCATED_PAGES, null, start, blockBytes);
        }
        SlabCache cache = caches.get(id - 1);
        long index = (address - start) / cache.size();
        long object = start + index * cache.size();
        boolean free = index >= cache.objectsPerSlab() || (pages.slabFree(head) & (1L << index)) != 0;
        return new MemoryState(free ? MemoryState.Kind.FREE_OBJECT : MemoryState.Kind.LIVE_OBJECT, cache.name(), object,
                cache.size());
    }

    /**
     * Releases the arena; every address becomes invalid, and every later call here or on the
     * {@link AddressSpace} throws {@code IllegalStateException("kernel is closed")}. Closing again does
     * nothing.
     */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            space.close("kernel is closed");
            arena.close();
        }
    }

    /** Every accessor of a closed memory throws {@code IllegalStateException("kernel is closed")}. */
    private void checkOpen() {
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("kernel is closed");
        }
    }
}
