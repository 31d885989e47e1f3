package io.github.kproc.it.consumer;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.layout.StructLayout;
import io.github.kproc.mem.KernelMemory;
import io.github.kproc.mem.SlabCache;
import io.github.kproc.view.ThreadInfo;
import io.github.kproc.view.Trace32;

/** What a user does first: a machine of a bundled build, a task with its kernel stack, and its thread_info. */
public final class StackBase {
    private StackBase() {
    }

    /**
     * Allocates a task_struct and a kernel stack in a 16 MiB machine of {@code profile}, finds the
     * task's thread_info ({@code task_thread_info()}), marks it as needing a reschedule with
     * preemption disabled once, and returns the debugger's view of it.
     */
    public static String threadInfoView(String profile) {
        Platform platform = Platforms.bundled(profile);
        try (KernelMemory memory = KernelMemory.create(platform.memoryMap(16 << 20))) {
            StructLayout taskStruct = platform.profile().struct("task_struct");
            SlabCache tasks = memory.createCache("task_struct", taskStruct.size(), taskStruct.alignment());
            long task = tasks.zalloc();
            int stackOrder = Long.numberOfTrailingZeros(platform.threadSize() / platform.pageSize());
            long stack = memory.pages().allocPages(stackOrder);
            memory.space().writePointer(task + platform.offsets().taskStack, stack);

            long threadInfo = platform.taskThreadInfo(memory.space(), task);
            ThreadInfo ti = new ThreadInfo(platform, memory.space(), threadInfo);
            ti.flag(platform.tifBit("TIF_NEED_RESCHED"), true);
            ti.preemptCount(1);
            return Trace32.view(platform, memory.space(), "struct thread_info", threadInfo);
        }
    }
}
