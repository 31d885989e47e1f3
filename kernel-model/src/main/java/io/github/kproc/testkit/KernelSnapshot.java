package io.github.kproc.testkit;

import io.github.kproc.arch.Platform;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.MemoryState;
import io.github.kproc.mem.MemoryUsage;
import io.github.kproc.view.TaskStruct;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * The state of a kernel at one moment, to tell whether an operation that failed left it exactly as
 * before: the allocators' accounting (after {@code kmem_cache_shrink}), {@code nr_threads},
 * {@code total_forks}, the task list, each CPU's current task, {@code nr_running} and preempt count, and
 * a checksum of the bytes of every live slab object and every page allocated outside the slabs.
 *
 * <p>What legitimately differs is left out, as the kernel leaves it: free memory (freed objects and
 * pages are poisoned, whatever they held before), each pid namespace's {@code idr.idr_next} (a pid
 * allocated and freed again by a failed fork leaves the cursor advanced, as in the kernel), and the
 * stacks of tasks below their {@code thread_info} (the stack frames of the call that failed). On
 * ARM32 the {@code thread_info} at the base of each stack is compared.
 *
 * <p>{@link #leaksSince} answers the leak question instead: which caches and how many pages hold more
 * than before, with the {@code mm_struct}s that live on only as a lazy-TLB kernel thread's
 * {@code active_mm} (freed at its next switch, {@code finish_task_switch}) not counted as leaked, nor
 * the {@code sem_undo_list}s live tasks hold (a task that made a CLONE_SYSVSEM thread keeps its list
 * until its own {@code exit_sem}, as init does for good).
 */
public final class KernelSnapshot {
    private final MemoryUsage usage;
    private final int nrThreads;
    private final long totalForks;
    private final List<Integer> tasks;
    private final List<String> cpus;
    private final Map<Long, Long> checksums;
    private final int lazyMms;
    /** Slab pages kept only because a lazy-TLB mm_struct is the last live object in them. */
    private final long lazyPages;
    /** The {@code sem_undo_list}s live tasks hold, their cache, and the slab pages only they keep. */
    private final int undoLists;
    private final String undoCache;
    private final long undoPages;

    private KernelSnapshot(MemoryUsage usage, int nrThreads, long totalForks, List<Integer> tasks, List<String> cpus,
            Map<Long, Long> checksums, int lazyMms, long lazyPages, int undoLists, String undoCache, long undoPages) {
        this.usage = usage;
        this.nrThreads = nrThreads;
        this.totalForks = totalForks;
        this.tasks = tasks;
        this.cpus = cpus;
        this.checksums = checksums;
        this.lazyMms = lazyMms;
        this.lazyPages = lazyPages;
        this.undoLists = undoLists;
        this.undoCache = undoCache;
        this.undoPages = undoPages;
    }

    /** Takes a snapshot (shrinking the slab caches first, which changes no live object). */
    public static KernelSnapshot take(Kernel kernel) {
        Objects.requireNonNull(kernel, "kernel");
        kernel.memory().shrinkCaches();
        Platform platform = kernel.platform();
        Profile profile = platform.profile();
        AddressSpace m = kernel.addressSpace();
        List<Integer> pids = new ArrayList<>();
        Set<Long> stacks = new HashSet<>();
        List<TaskStruct> all = new ArrayList<>(kernel.tasks());
        List<String> cpus = new ArrayList<>();
        int lazy = 0;
        long lazyPages = 0;
        for (int c = 0; c < kernel.cpus(); c++) {
            TaskStruct current = kernel.cpu(c).current();
            all.add(kernel.cpu(c).idleTask());
            cpus.add(String.format("CPU %d: current %s, nr_running %d, preempt_count 0x%x, irqs %s", c, current,
                    kernel.cpu(c).nrRunning(), kernel.cpu(c).preemptCount().value(),
                    kernel.cpu(c).irqsDisabled() ? "off" : "on"));
            if (current.mm() == 0 && current.activeMm() != 0 && current.activeMm() != kernel.symbol("init_mm")
                    && m.readInt(current.activeMm() + profile.offsetOf("mm_struct", "mm_users")) == 0) {
                lazy++;
                lazyPages += slabPagesHeldBy(kernel, current.activeMm());
            }
        }
        Set<Long> undo = new HashSet<>();
        for (TaskStruct t : kernel.tasks()) {
            pids.add(t.pid());
            if (profile.has("task_struct", "sysvsem.undo_list")) {
                long list = m.readPointer(t.address() + profile.offsetOf("task_struct", "sysvsem.undo_list"));
                if (list != 0) {
                    undo.add(list);
                }
            }
        }
        String undoCache = "";
        long undoPages = 0;
        for (long list : undo) {
            undoCache = kernel.memory().classify(list).cache();
            undoPages += slabPagesHeldBy(kernel, list);
        }
        for (TaskStruct t : all) {
            if (t.stack() != 0) {
                stacks.add(t.stack());
            }
        }
        // the vmap_areas (VMAP_STACK): their rb_node links are checked aside, since an insert and erase
        // (a failed fork's stack) may leave the tree rebalanced into another shape, as __free_vmap_area does
        Set<Long> vmapAreas = vmapAreas(kernel);
        long vaRb = vmapAreas.isEmpty() ? -1 : profile.offsetOf("vmap_area", "rb_node");
        long vaRbSize = vmapAreas.isEmpty() ? 0 : profile.sizeOf("rb_node");
        long idrNext = profile.offsetOf("pid_namespace", "idr.idr_next");
        long threadInfoBytes = platform.threadInfoInTask() ? 0 : profile.sizeOf("thread_info");
        Map<Long, Long> sums = new LinkedHashMap<>();
        long pageSize = platform.pageSize();
        long start = kernel.memory().map().linearBase();
        long end = start + kernel.memory().map().linearSize();
        CRC32C crc = new CRC32C();
        for (long a = start; a < end; ) {
            MemoryState s = kernel.memory().classify(a);
            switch (s.kind()) {
                case LIVE_OBJECT -> {
                    if (vmapAreas.contains(s.start())) {
                        sums.put(s.start(), checksum(crc, m, s.start(), s.size(), vaRb, vaRbSize));
                    } else {
                        long skip = "pid_namespace".equals(s.cache()) ? idrNext : -1;
                        sums.put(s.start(), checksum(crc, m, s.start(), s.size(), skip));
                    }
                    a = s.start() + s.size();
                }
                case FREE_OBJECT -> a = s.start() + s.size();
                case ALLOCATED_PAGES -> {
                    if (stacks.contains(s.start())) {
                        if (threadInfoBytes > 0) {
                            sums.put(s.start(), checksum(crc, m, s.start(), threadInfoBytes, -1));
                        }
                    } else {
                        for (long p = s.start(); p < s.start() + s.size(); p += pageSize) {
                            long skip = containsInitPidNs(kernel, p, pageSize) ? kernel.symbol("init_pid_ns") + idrNext - p : -1;
                            sums.put(p, checksum(crc, m, p, pageSize, skip));
                        }
                    }
                    a = s.start() + s.size();
                }
                default -> a = Math.max(a + pageSize, s.start() + s.size());
            }
        }
        return new KernelSnapshot(kernel.memory().usage(), kernel.nrThreads(), kernel.totalForks(), List.copyOf(pids),
                List.copyOf(cpus), sums, lazy, lazyPages, undo.size(), undoCache, undoPages);
    }

    /**
     * The pages of the slab holding {@code object} if it is the slab's only live object (the slab
     * would go back to the page allocator with it), else 0. Slabs are naturally aligned blocks.
     */
    private static long slabPagesHeldBy(Kernel kernel, long object) {
        MemoryState state = kernel.memory().classify(object);
        io.github.kproc.mem.SlabCache cache = kernel.memory().caches().stream()
                .filter(c -> c.name().equals(state.cache())).findFirst().orElse(null);
        if (cache == null) {
            return 0;
        }
        long slabBytes = (long) kernel.platform().pageSize() << cache.order();
        long base = object & -slabBytes;
        for (int i = 0; i < cache.objectsPerSlab(); i++) {
            long o = base + i * cache.size();
            if (o != state.start() && kernel.memory().classify(o).kind() == MemoryState.Kind.LIVE_OBJECT) {
                return 0;
            }
        }
        return 1L << cache.order();
    }

    private static boolean containsInitPidNs(Kernel kernel, long page, long pageSize) {
        long ns = kernel.symbol("init_pid_ns");
        return ns >= page && ns < page + pageSize;
    }

    /** The live vmap_areas on {@code vmap_area_list}, none where the kernel has no such symbol. */
    private static Set<Long> vmapAreas(Kernel kernel) {
        Set<Long> out = new HashSet<>();
        if (!kernel.symbols().containsKey("vmap_area_list")) {
            return out;
        }
        AddressSpace m = kernel.addressSpace();
        long head = kernel.symbol("vmap_area_list");
        long list = kernel.platform().profile().offsetOf("vmap_area", "list");
        for (long e = m.readPointer(head); e != head && e != 0; e = m.readPointer(e)) {
            if (!out.add(e - list)) {
                break;
            }
        }
        return out;
    }

    /** CRC32C of {@code length} bytes, with the 4 bytes at offset {@code skip} (if >= 0) read as zero. */
    private static long checksum(CRC32C crc, AddressSpace m, long address, long length, long skip) {
        return checksum(crc, m, address, length, skip, 4);
    }

    /** CRC32C of {@code length} bytes, with the {@code skipSize} bytes at offset {@code skip} (if >= 0) read as zero. */
    private static long checksum(CRC32C crc, AddressSpace m, long address, long length, long skip, long skipSize) {
        crc.reset();
        byte[] bytes = m.readBytes(address, (int) length);
        if (skip >= 0 && skip + skipSize <= length) {
            for (int i = 0; i < skipSize; i++) {
                bytes[(int) skip + i] = 0;
            }
        }
        crc.update(bytes);
        return crc.getValue();
    }

    /** What differs between this snapshot and {@code later}; empty if nothing does. */
    public List<String> differences(KernelSnapshot later) {
        List<String> out = new ArrayList<>();
        if (!usage.equals(later.usage)) {
            out.add("memory accounting: " + usage + " -> " + later.usage);
        }
        if (nrThreads != later.nrThreads) {
            out.add("nr_threads: " + nrThreads + " -> " + later.nrThreads);
        }
        if (totalForks != later.totalForks) {
            out.add("total_forks: " + totalForks + " -> " + later.totalForks);
        }
        if (!tasks.equals(later.tasks)) {
            out.add("the task list (pids): " + tasks + " -> " + later.tasks);
        }
        for (int c = 0; c < cpus.size(); c++) {
            if (!cpus.get(c).equals(later.cpus.get(c))) {
                out.add(cpus.get(c) + " -> " + later.cpus.get(c));
            }
        }
        int listed = 0;
        for (Map.Entry<Long, Long> e : checksums.entrySet()) {
            Long now = later.checksums.get(e.getKey());
            if (!e.getValue().equals(now) && listed++ < 16) {
                out.add(String.format("bytes at 0x%x %s", e.getKey(), now == null ? "are no longer live" : "changed"));
            }
        }
        for (Long address : later.checksums.keySet()) {
            if (!checksums.containsKey(address) && listed++ < 16) {
                out.add(String.format("bytes at 0x%x are newly live", address));
            }
        }
        return out;
    }

    /** Throws an {@link AssertionError} listing what differs between this snapshot and the kernel now. */
    public void assertUnchanged(Kernel kernel) {
        List<String> diff = differences(take(kernel));
        if (!diff.isEmpty()) {
            throw new AssertionError("the kernel changed:" + System.lineSeparator() + "  "
                    + String.join(System.lineSeparator() + "  ", diff));
        }
    }

    /**
     * What the kernel holds now beyond this snapshot: per slab cache the objects in use above it, and
     * the pages in use above it, with each {@code mm_struct} kept only as a lazy-TLB {@code active_mm}
     * not counted. Empty if nothing leaked.
     */
    public Map<String, Long> leaksSince(Kernel kernel) {
        KernelSnapshot now = take(kernel);
        Map<String, Long> out = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : now.usage.objectsInUse().entrySet()) {
            long before = usage.objectsInUse().getOrDefault(e.getKey(), 0L);
            long extra = e.getValue() - before;
            if ("mm_struct".equals(e.getKey())) {
                extra -= now.lazyMms - lazyMms;
            }
            if (e.getKey().equals(now.undoCache)) {
                extra -= now.undoLists - undoLists;
            }
            if (extra > 0) {
                out.put(e.getKey(), extra);
            }
        }
        long pages = usage.freePages() - now.usage.freePages() - (now.lazyPages - lazyPages)
                - (now.undoPages - undoPages);
        if (pages > 0) {
            out.put("pages", pages);
        }
        long slots = usage.freeVmallocSlots() - now.usage.freeVmallocSlots();
        if (slots > 0) {
            out.put("vmalloc slots", slots);
        }
        return out;
    }
}
