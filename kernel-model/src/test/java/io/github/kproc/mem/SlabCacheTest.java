package io.github.kproc.mem;

import static io.github.kproc.mem.Machines.ARM32_TASK_STRUCT_SIZE;
import static io.github.kproc.mem.Machines.ARM64_TASK_STRUCT_SIZE;
import static io.github.kproc.mem.Machines.PAGE_SIZE;
import static io.github.kproc.mem.Machines.TASK_STRUCT_ALIGN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * {@code kmem_cache_alloc}, {@code kmem_cache_zalloc}, {@code kmem_cache_free} and
 * {@code kmem_cache_shrink} of a SLUB-like allocator ({@code mm/slub.c}), checked over random
 * sequences on caches of random geometry sharing one machine.
 */
class SlabCacheTest {
    /** A cache to create: {@code kmem_cache_create(name, size, align)}. */
    record Spec(long size, int align) {
    }

    /** Caches, a machine of {@code pages} pages, and operations to replay. */
    record Scenario(List<Spec> caches, int pages, List<Integer> ops) {
    }

    /**
     * One to three caches of 1..8192-byte objects aligned to 1..4096 bytes (task_struct's 1472/3392
     * and 64 are in range), RAM of 16..600 pages so that slab growth sometimes meets ENOMEM, and up to
     * 300 operations. An operation is one int: low bits 0 and 1 allocate, 2 frees a live object, 3
     * zallocs; the rest picks the cache or the victim.
     */
    private static Gen<Scenario> scenarios() {
        Gen<Spec> spec = integers().between(1, 8192).zip(integers().between(0, 12), (size, shift) -> new Spec(size, 1 << shift));
        Gen<Spec> taskStruct = integers().between(0, 1).map(
                arm64 -> new Spec(arm64 == 1 ? ARM64_TASK_STRUCT_SIZE : ARM32_TASK_STRUCT_SIZE, TASK_STRUCT_ALIGN));
        Gen<List<Spec>> specs = lists().of(spec.mix(taskStruct)).ofSizeBetween(1, 3);
        return specs.zip(integers().between(16, 600), lists().of(integers().between(0, 1 << 20)).ofSizeBetween(0, 300),
                Scenario::new);
    }

    /** One replayed operation. */
    record Step(int kind, SlabCache cache, long address) {
        static final int ALLOC = 0;
        static final int ZALLOC = 1;
        static final int FREE = 2;

        boolean enomem() {
            return kind != FREE && address == 0;
        }
    }

    /** Replays operations on a fresh machine; every live object carries a marker in its first byte. */
    static final class Replay implements AutoCloseable {
        final KernelMemory memory;
        final AddressSpace space;
        final PageAllocator pages;
        final List<SlabCache> caches = new ArrayList<>();
        final TreeMap<Long, SlabCache> live = new TreeMap<>();
        final MemoryUsage baseline;
        final int[] bootShape;

        Replay(Scenario s) {
            memory = KernelMemory.create(Machines.arm64((long) s.pages() * PAGE_SIZE));
            space = memory.space();
            pages = memory.pages();
            for (Spec spec : s.caches()) {
                caches.add(memory.createCache("cache" + caches.size(), spec.size(), spec.align()));
            }
            baseline = memory.usage();
            bootShape = PageAllocatorTest.shape(pages);
        }

        Step step(int op) {
            int kind = op & 3;
            if (kind == 2 && !live.isEmpty()) {
                // copied out: TreeMap.remove may move the successor's key into the removed entry
                Map.Entry<Long, SlabCache> victim = PageAllocatorTest.nth(live, (op >>> 2) % live.size());
                long address = victim.getKey();
                SlabCache cache = victim.getValue();
                assertEquals(marker(address), space.readByte(address), "a live object was overwritten");
                cache.free(address);
                live.remove(address);
                return new Step(Step.FREE, cache, address);
            }
            SlabCache cache = caches.get((op >>> 2) % caches.size());
            boolean zero = kind == 3;
            long address = zero ? cache.zalloc() : cache.alloc();
            if (address != 0) {
                if (zero) {
                    assertTrue(PageAllocatorTest.allBytesAre(space, address, cache.objectSize(), (byte) 0),
                            () -> String.format("zalloc'd 0x%x is not zero", address));
                }
                live.put(address, cache);
                space.writeByte(address, marker(address));
            }
            return new Step(zero ? Step.ZALLOC : Step.ALLOC, cache, address);
        }

        /** The slab (head page) an object of {@code cache} lives in. */
        static long slabOf(SlabCache cache, long address) {
            return address & -((long) PAGE_SIZE << cache.order());
        }

        void freeAll() {
            live.forEach((address, cache) -> cache.free(address));
            live.clear();
        }

        @Override
        public void close() {
            memory.close();
        }
    }

    static byte marker(long address) {
        return (byte) (address >>> 6 | 1);
    }

    /** Everything a rejected free must leave as it was. */
    record State(long freePages, List<Long> inUse, List<Long> slabs) {
        static State of(Replay r) {
            return new State(r.pages.freePages(), r.caches.stream().map(SlabCache::objectsInUse).toList(),
                    r.caches.stream().map(SlabCache::slabs).toList());
        }
    }

    @Test
    void objectsAreAlignedToTheCacheAlignmentAndLieInsideASlab() {
        Theories.qt(100).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s)) {
                for (int op : s.ops()) {
                    Step step = r.step(op);
                    if (step.kind() != Step.FREE && !step.enomem()) {
                        SlabCache c = step.cache();
                        assertEquals(0, step.address() % c.align(), () -> String.format("%s at 0x%x", c, step.address()));
                        long slab = Replay.slabOf(c, step.address());
                        assertTrue(r.pages.isAllocated(slab, c.order()), "object outside a slab of its cache's order");
                        assertTrue(step.address() + c.objectSize() <= slab + ((long) PAGE_SIZE << c.order()));
                        assertTrue(c.owns(step.address()));
                    }
                }
            }
        });
    }

    @Test
    void noTwoLiveObjectsOverlapAcrossCaches() {
        Theories.qt(100).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s)) {
                for (int op : s.ops()) {
                    r.step(op);
                    long end = Long.MIN_VALUE;
                    for (Map.Entry<Long, SlabCache> e : r.live.entrySet()) {
                        assertTrue(Long.compareUnsigned(e.getKey(), end) >= 0,
                                () -> String.format("0x%x overlaps the object before it", e.getKey()));
                        end = e.getKey() + e.getValue().size();
                    }
                }
            }
        });
    }

    @Test
    void objectsInUseAndSlabPagesAccountForEveryObject() {
        Theories.qt(100).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s)) {
                for (int op : s.ops()) {
                    r.step(op);
                    long slabPages = 0;
                    for (SlabCache c : r.caches) {
                        long live = r.live.values().stream().filter(x -> x == c).count();
                        assertEquals(live, c.objectsInUse(), c.name());
                        assertEquals(live, r.memory.usage().objectsInUse().get(c.name()));
                        assertTrue(c.slabs() * c.objectsPerSlab() >= live);
                        slabPages += c.slabs() << c.order();
                    }
                    assertEquals(r.pages.totalPages() - slabPages, r.pages.freePages());
                }
            }
        });
    }

    @Test
    void allocationReusesAFreeSlotBeforeTakingPagesAndEnomemChangesNothing() {
        Theories.qt(100).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s)) {
                for (int op : s.ops()) {
                    SlabCache c = r.caches.get((op >>> 2) % r.caches.size());
                    boolean hasFreeSlot = c.objectsInUse() < c.slabs() * c.objectsPerSlab();
                    State before = State.of(r);
                    Step step = r.step(op);
                    if (step.kind() == Step.FREE) {
                        continue;
                    }
                    if (hasFreeSlot) {
                        assertNotEquals(0, step.address(), "ENOMEM with a free slot in a slab");
                        assertEquals(before.freePages(), r.pages.freePages(), "took pages with a free slot in a slab");
                    }
                    if (step.enomem()) {
                        assertEquals(before, State.of(r));
                    }
                }
            }
        });
    }

    @Test
    void freedObjectReadsPoisonFreeWhileItsSlabIsHeldAndPagePoisonOnceReturned() {
        Theories.qt(100).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s)) {
                for (int op : s.ops()) {
                    Step step = r.step(op);
                    if (step.kind() == Step.FREE) {
                        SlabCache c = step.cache();
                        boolean held = r.pages.isAllocated(Replay.slabOf(c, step.address()), c.order());
                        byte poison = held ? SlabCache.POISON_FREE : PageAllocator.PAGE_POISON;
                        assertTrue(PageAllocatorTest.allBytesAre(r.space, step.address(), c.objectSize(), poison),
                                () -> String.format("stale read of 0x%x (slab held: %b)", step.address(), held));
                        assertFalse(c.owns(step.address()));
                    }
                }
            }
        });
    }

    @Test
    void doubleFreeForeignFreeAndInteriorFreeAreRejectedWithoutStateChange() {
        Theories.qt(100).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s)) {
                long block = r.pages.allocPages(0);
                for (int op : s.ops()) {
                    Step step = r.step(op);
                    List<Long> bad = new ArrayList<>();
                    List<SlabCache> to = new ArrayList<>();
                    if (step.kind() == Step.FREE) {
                        bad.add(step.address());
                        to.add(step.cache());
                    }
                    if (!r.live.isEmpty()) {
                        Map.Entry<Long, SlabCache> e = PageAllocatorTest.nth(r.live, (op >>> 3) % r.live.size());
                        for (SlabCache other : r.caches) {
                            if (other != e.getValue()) {
                                bad.add(e.getKey());
                                to.add(other);
                            }
                        }
                        if (e.getValue().size() > 1) {
                            bad.add(e.getKey() + 1);
                            to.add(e.getValue());
                        }
                    }
                    for (SlabCache c : r.caches) {
                        if (block != 0) {
                            bad.add(block);
                            to.add(c);
                        }
                        bad.add(Machines.ARM64_PAGE_OFFSET - PAGE_SIZE);
                        to.add(c);
                    }
                    for (int i = 0; i < bad.size(); i++) {
                        long address = bad.get(i);
                        SlabCache c = to.get(i);
                        State before = State.of(r);
                        byte[] content = r.space.contains(address, 1) ? r.space.readBytes(address, 1) : null;
                        assertThrows(IllegalStateException.class, () -> c.free(address),
                                () -> String.format("%s accepted free of 0x%x", c.name(), address));
                        assertEquals(before, State.of(r));
                        if (content != null) {
                            assertArrayEquals(content, r.space.readBytes(address, 1), "a rejected free wrote memory");
                        }
                    }
                }
            }
        });
    }

    @Test
    void freeingEverythingThenShrinkingRestoresTheBaselineUsage() {
        Theories.qt(100).forAll(scenarios()).checkAssert(s -> {
            try (Replay r = new Replay(s)) {
                for (int op : s.ops()) {
                    r.step(op);
                }
                r.freeAll();
                assertTrue(r.caches.stream().allMatch(c -> c.slabs() <= 1), "more than one empty slab kept");
                r.memory.shrinkCaches();
                assertEquals(r.baseline, r.memory.usage());
                assertEquals(r.pages.totalPages(), r.pages.freePages());
                assertArrayEquals(r.bootShape, PageAllocatorTest.shape(r.pages));
                assertTrue(r.caches.stream().allMatch(c -> c.slabs() == 0));
            }
        });
    }

    @Test
    void taskStructObjectsAre64ByteAlignedOnBothBuilds() {
        for (long size : new long[] {ARM32_TASK_STRUCT_SIZE, ARM64_TASK_STRUCT_SIZE}) {
            try (KernelMemory m = KernelMemory.create(Machines.arm64(4L << 20))) {
                SlabCache cache = m.createCache("task_struct", size, TASK_STRUCT_ALIGN);
                assertEquals(size, cache.size(), "sizeof(task_struct) is already a multiple of 64");
                assertTrue((long) cache.objectsPerSlab() * cache.size() <= (long) PAGE_SIZE << cache.order());
                for (int i = 0; i < 3 * cache.objectsPerSlab(); i++) {
                    long task = cache.alloc();
                    assertEquals(0, task % TASK_STRUCT_ALIGN, Long.toHexString(task));
                }
                assertEquals(3, cache.slabs());
            }
        }
    }

    @Test
    void staleReadOfAFreedTaskStructShowsPoisonFree() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(4L << 20))) {
            SlabCache cache = m.createCache("task_struct", ARM32_TASK_STRUCT_SIZE, TASK_STRUCT_ALIGN);
            long kept = cache.alloc();
            long task = cache.alloc();
            long comm = task + 972; // offsetof(struct task_struct, comm) on the vexpress build
            m.space().writeCString(comm, 16, "kthreadd");
            cache.free(task);
            assertEquals("kkkkkkkkkkkkkkkk", m.space().readCString(comm, 16), "POISON_FREE is 'k'");
            assertEquals(0x6b6b6b6b6b6b6b6bL, m.space().readLong(task));
            assertTrue(cache.owns(kept));
        }
    }

    @Test
    void freedObjectIsHandedOutAgainWithItsPoisonAndZallocClearsIt() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(4L << 20))) {
            SlabCache cache = m.createCache("files_cache", 352, 64);
            long first = cache.alloc();
            cache.alloc();
            cache.free(first);
            assertEquals(first, cache.alloc(), "the only free slot is reused");
            assertTrue(PageAllocatorTest.allBytesAre(m.space(), first, 352, SlabCache.POISON_FREE),
                    "kmem_cache_alloc does not initialise");
            cache.free(first);
            assertEquals(first, cache.zalloc());
            assertTrue(PageAllocatorTest.allBytesAre(m.space(), first, 352, (byte) 0));
        }
    }

    @Test
    void oneEmptySlabIsKeptUntilShrinkAndASecondIsReturnedAtOnce() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(4L << 20))) {
            PageAllocator pages = m.pages();
            SlabCache cache = m.createCache("task_struct", ARM32_TASK_STRUCT_SIZE, TASK_STRUCT_ALIGN);
            long slabPages = 1L << cache.order();
            long[] objects = new long[2 * cache.objectsPerSlab()];
            for (int i = 0; i < objects.length; i++) {
                objects[i] = cache.alloc();
            }
            assertEquals(pages.totalPages() - 2 * slabPages, pages.freePages());
            for (long o : objects) {
                cache.free(o);
            }
            assertEquals(1, cache.slabs(), "the second slab to empty went back to the page allocator");
            assertEquals(pages.totalPages() - slabPages, pages.freePages());
            cache.shrink();
            assertEquals(0, cache.slabs());
            assertEquals(pages.totalPages(), pages.freePages());
            cache.shrink();
            assertEquals(pages.totalPages(), pages.freePages(), "shrinking an empty cache is a no-op");
        }
    }

    @Test
    void exhaustionReturnsNullAndLeavesTheCacheAsItWas() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(4L << 20))) {
            SlabCache cache = m.createCache("task_struct", ARM32_TASK_STRUCT_SIZE, TASK_STRUCT_ALIGN);
            long n = 0;
            while (cache.alloc() != 0) {
                n++;
            }
            assertEquals(n, cache.objectsInUse());
            assertEquals(n / cache.objectsPerSlab(), cache.slabs());
            assertTrue(m.pages().freePages() < 1L << cache.order(), "only a remainder too small for a slab is left");
            long free = m.pages().freePages();
            assertEquals(0, cache.zalloc());
            assertEquals(n, cache.objectsInUse());
            assertEquals(free, m.pages().freePages());
        }
    }

    @Test
    void slabPagesCannotBeFreedThroughThePageAllocator() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(4L << 20))) {
            SlabCache cache = m.createCache("task_struct", ARM32_TASK_STRUCT_SIZE, TASK_STRUCT_ALIGN);
            long task = cache.alloc();
            long slab = Replay.slabOf(cache, task);
            assertThrows(IllegalStateException.class, () -> m.pages().freePages(slab, cache.order()));
            assertTrue(cache.owns(task));
            assertEquals(1, cache.objectsInUse());
        }
    }

    @Test
    void cacheCreationRejectsBadGeometryAndDuplicateNames() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(4L << 20))) {
            m.createCache("task_struct", ARM32_TASK_STRUCT_SIZE, TASK_STRUCT_ALIGN);
            assertThrows(IllegalArgumentException.class, () -> m.createCache("task_struct", 64, 8));
            assertThrows(IllegalArgumentException.class, () -> m.createCache("zero", 0, 8));
            assertThrows(IllegalArgumentException.class, () -> m.createCache("align3", 64, 3));
            assertThrows(IllegalArgumentException.class, () -> m.createCache("huge", 8L * PAGE_SIZE + 1, 8));
            assertEquals(1, m.caches().size());
        }
    }
}
