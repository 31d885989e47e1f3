package io.github.kproc.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The allocations of a fork and their frees at reap: a {@code task_struct} from its slab cache and a
 * THREAD_SIZE kernel stack from the buddy allocator (8 KiB order 1 on ARM32, 16 KiB order 2 on
 * arm64). Every free poisons what it frees (0x6b for objects, 0xaa for pages), which is most of the
 * cost.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AllocBenchmark {
    /** Objects held across a batch: more than a task_struct slab holds on either platform (11 and 9). */
    static final int BATCH = 64;

    /** The machine plus a few live tasks, so the task_struct cache has a partial slab as a running system does. */
    @State(Scope.Thread)
    public static class Allocs {
        final long[] held = new long[BATCH];

        @Setup(Level.Trial)
        public void populate(MachineState m) {
            for (int i = 0; i < 5; i++) {
                m.taskCache.alloc();
            }
        }
    }

    /** {@code kmem_cache_alloc(task_struct_cachep)} then {@code kmem_cache_free}: a slot of a partial slab. */
    @Benchmark
    public long slabAllocFreeTaskStruct(MachineState m, Allocs a) {
        long task = m.taskCache.alloc();
        m.taskCache.free(task);
        return task;
    }

    /** {@code kmem_cache_zalloc} then free: adds a memset of the object. */
    @Benchmark
    public long slabZallocFreeTaskStruct(MachineState m, Allocs a) {
        long task = m.taskCache.zalloc();
        m.taskCache.free(task);
        return task;
    }

    /** 64 task_structs allocated then freed: new slabs from the page allocator and back. Score is per object. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long slabAllocFreeTaskStructBatch(MachineState m, Allocs a) {
        long[] held = a.held;
        for (int i = 0; i < BATCH; i++) {
            held[i] = m.taskCache.alloc();
        }
        for (int i = BATCH - 1; i >= 0; i--) {
            m.taskCache.free(held[i]);
        }
        return held[0];
    }

    /** {@code alloc_pages(THREAD_SIZE_ORDER)} then {@code __free_pages}: split and merge in the buddy allocator. */
    @Benchmark
    public long pageAllocFreeThreadStack(MachineState m) {
        long stack = m.memory.pages().allocPages(m.stackOrder);
        m.memory.pages().freePages(stack, m.stackOrder);
        return stack;
    }

    /**
     * A stack the platform's way, {@code alloc_thread_stack_node} / {@code free_thread_stack}: pages on
     * ARM32 (as above), a vmalloc slot charged with pages on arm64 (VMAP_STACK, poisons twice).
     */
    @Benchmark
    public long platformStackAllocFree(MachineState m) {
        long stack = m.allocStack();
        m.freeStack(stack);
        return stack;
    }
}
