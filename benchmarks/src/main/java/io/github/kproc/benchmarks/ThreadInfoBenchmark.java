package io.github.kproc.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

/**
 * Reading and writing {@code thread_info} members of one task, two ways: through the public views
 * ({@code view*}: {@link io.github.kproc.view.ThreadInfo}, {@link io.github.kproc.view.TaskStruct})
 * and the way the model's hot code does it ({@code address*}: an {@code AddressSpace} access at
 * the struct's address plus an offset resolved once). Both should cost a bounds check and a load
 * or store, and allocate nothing.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ThreadInfoBenchmark {

    // ---- the public views ----

    @Benchmark
    public long viewReadFlags(MachineState m) {
        return m.threadInfoView.flags();
    }

    @Benchmark
    public void viewWriteFlags(MachineState m) {
        m.threadInfoView.flags(m.next());
    }

    /** {@code test_ti_thread_flag(ti, TIF_NEED_RESCHED)}. */
    @Benchmark
    public boolean viewTestNeedResched(MachineState m) {
        return m.threadInfoView.testFlag(1);
    }

    @Benchmark
    public int viewReadPreemptCount(MachineState m) {
        return m.threadInfoView.preemptCountValue();
    }

    @Benchmark
    public void viewWritePreemptCount(MachineState m) {
        m.threadInfoView.preemptCount(m.next());
    }

    /** {@code in_atomic()} through the decoded {@code PreemptCount} record (allocates unless escape analysis removes it). */
    @Benchmark
    public boolean viewDecodePreemptCount(MachineState m) {
        return m.threadInfoView.preemptCount().inAtomic();
    }

    @Benchmark
    public long viewReadAddrLimit(MachineState m) {
        return m.threadInfoView.addrLimit();
    }

    @Benchmark
    public void viewWriteAddrLimit(MachineState m) {
        m.threadInfoView.addrLimit(m.next());
    }

    /** {@code ThreadInfo.cpu()}: {@code ti->cpu} on ARM32, {@code task_struct.cpu} behind it on arm64. */
    @Benchmark
    public int viewReadCpu(MachineState m) {
        return m.threadInfoView.cpu();
    }

    /** {@code task_cpu(p)} through {@code TaskStruct}: on ARM32 it follows {@code p->stack} first. */
    @Benchmark
    public int viewTaskCpu(MachineState m) {
        return m.taskView.cpu();
    }

    /** {@code task_thread_info(p)->flags} through {@code TaskStruct.threadInfo()}, which makes a new view. */
    @Benchmark
    public long viewTaskThreadInfoFlags(MachineState m) {
        return m.taskView.threadInfo().flags();
    }

    // ---- the internal address path ----

    @Benchmark
    public long addressReadFlags(MachineState m) {
        return m.space.readPointer(m.threadInfo + m.tiFlags);
    }

    @Benchmark
    public void addressWriteFlags(MachineState m) {
        m.space.writePointer(m.threadInfo + m.tiFlags, m.next());
    }

    @Benchmark
    public int addressReadPreemptCount(MachineState m) {
        return m.space.readInt(m.threadInfo + m.tiPreemptCount);
    }

    @Benchmark
    public void addressWritePreemptCount(MachineState m) {
        m.space.writeInt(m.threadInfo + m.tiPreemptCount, m.next());
    }

    /** {@code preempt_disable(); preempt_enable();} without the reschedule check: two read-modify-writes. */
    @Benchmark
    public int addressPreemptDisableEnable(MachineState m) {
        long at = m.threadInfo + m.tiPreemptCount;
        m.space.writeInt(at, m.space.readInt(at) + 1);
        int inside = m.space.readInt(at);
        m.space.writeInt(at, m.space.readInt(at) - 1);
        return inside;
    }

    @Benchmark
    public long addressReadAddrLimit(MachineState m) {
        return m.space.readPointer(m.threadInfo + m.tiAddrLimit);
    }

    @Benchmark
    public void addressWriteAddrLimit(MachineState m) {
        m.space.writePointer(m.threadInfo + m.tiAddrLimit, m.next());
    }

    @Benchmark
    public int addressReadCpu(MachineState m) {
        return m.space.readInt(m.cpuStruct + m.cpuOffset);
    }

    /** {@code __set_task_cpu}'s store of the cpu. */
    @Benchmark
    public void addressWriteCpu(MachineState m) {
        m.space.writeInt(m.cpuStruct + m.cpuOffset, m.next() & 7);
    }
}
