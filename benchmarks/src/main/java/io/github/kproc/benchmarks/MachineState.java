package io.github.kproc.benchmarks;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.KernelMemory;
import io.github.kproc.mem.SlabCache;
import io.github.kproc.mem.VmallocArea;
import io.github.kproc.view.TaskStruct;
import io.github.kproc.view.ThreadInfo;
import java.util.Objects;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One simulated machine per trial, booted far enough for one task: a {@code task_struct} from its
 * slab cache and a THREAD_SIZE stack the platform's way (pages on ARM32, vmalloc on arm64 with
 * VMAP_STACK), wired as {@code dup_task_struct} and {@code setup_thread_stack} leave them.
 */
@State(Scope.Thread)
public class MachineState {
    /** RAM of the benchmarked machine. */
    static final long RAM = 64L << 20;

    @Param({"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
    public String profile;

    Platform platform;
    KernelMemory memory;
    AddressSpace space;
    SlabCache taskCache;
    /** {@code ilog2(THREAD_SIZE / PAGE_SIZE)}. */
    int stackOrder;
    long task;
    long stack;
    /** {@code task_thread_info(task)}: the stack base on ARM32, the task itself on arm64. */
    long threadInfo;

    // resolved once, as hot code keeps them in final fields
    long tiFlags;
    long tiPreemptCount;
    long tiAddrLimit;
    /** The struct {@code task_cpu()} reads: thread_info on ARM32, task_struct on arm64. */
    long cpuStruct;
    /** {@code thread_info.cpu} on ARM32, {@code task_struct.cpu} on arm64. */
    long cpuOffset;

    ThreadInfo threadInfoView;
    TaskStruct taskView;

    private int next;

    @Setup(Level.Trial)
    public void boot() {
        platform = Platforms.bundled(profile);
        Offsets o = platform.offsets();
        memory = KernelMemory.create(platform.memoryMap(RAM));
        space = memory.space();
        taskCache = memory.createCache("task_struct", o.taskSize, platform.profile().struct("task_struct").alignment());
        stackOrder = Long.numberOfTrailingZeros(platform.threadSize() / platform.pageSize());

        task = taskCache.zalloc();
        stack = allocStack();
        space.writePointer(task + o.taskStack, stack);
        threadInfo = platform.taskThreadInfo(space, task);
        if (!platform.threadInfoInTask()) {
            space.writePointer(threadInfo + o.tiTask, task);
        }
        space.writePointer(platform.endOfStack(space, task), Platform.STACK_END_MAGIC);

        tiFlags = o.tiFlags;
        tiPreemptCount = o.tiPreemptCount;
        tiAddrLimit = o.tiAddrLimit;
        cpuStruct = platform.threadInfoInTask() ? task : threadInfo;
        cpuOffset = platform.threadInfoInTask() ? o.taskCpu : o.tiCpu;

        space.writePointer(threadInfo + tiFlags, 1L << platform.tifBit("TIF_NEED_RESCHED"));
        space.writeInt(threadInfo + tiPreemptCount, platform.forkPreemptCount());
        space.writePointer(threadInfo + tiAddrLimit, platform.kernelDs());
        space.writeInt(cpuStruct + cpuOffset, 1);

        threadInfoView = new ThreadInfo(platform, space, threadInfo);
        taskView = new TaskStruct(platform, space, task);
    }

    /** A THREAD_SIZE stack as {@code alloc_thread_stack_node} gets one on this platform, or 0. */
    long allocStack() {
        if (platform.vmapStack()) {
            return Objects.requireNonNull(memory.vmalloc()).vmalloc(platform.threadSize());
        }
        return memory.pages().allocPages(stackOrder);
    }

    /** {@code free_thread_stack}. */
    void freeStack(long address) {
        VmallocArea vmalloc = memory.vmalloc();
        if (platform.vmapStack() && vmalloc != null) {
            vmalloc.vfree(address);
        } else {
            memory.pages().freePages(address, stackOrder);
        }
    }

    /** A different value on every call, so no write stores what is already there. */
    int next() {
        return ++next;
    }

    @TearDown(Level.Trial)
    public void shutdown() {
        memory.close();
    }

    /**
     * Forks {@code count} children of a spawner forked off init (CPU 1 runs the spawner), every other
     * one run once and put to sleep, as a task waiting for an event is; returns the spawner.
     */
    static Pid populate(Kernel kernel, int count) {
        kernel.cpu(0).run(Pid.INIT);
        Pid spawner = kernel.cpu(0).fork();
        kernel.cpu(1).run(spawner);
        for (int i = 0; i < count; i++) {
            Pid pid = kernel.cpu(1).fork();
            if (i % 2 == 0) {
                int cpu = kernel.task(pid).orElseThrow().cpu();
                kernel.cpu(cpu).run(pid);
                kernel.cpu(cpu).sleep();
                kernel.cpu(1).run(spawner);
            }
        }
        return spawner;
    }
}
