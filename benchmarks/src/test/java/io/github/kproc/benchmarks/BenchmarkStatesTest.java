package io.github.kproc.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.mem.MemoryUsage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The benchmarks measure what they claim: the view and the address path reach the same bytes of a
 * correctly wired task on both platforms, and the allocation benchmarks leave no leak behind.
 */
class BenchmarkStatesTest {

    private static MachineState boot(String profile) {
        MachineState m = new MachineState();
        m.profile = profile;
        m.boot();
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
    void viewAndAddressPathsReadAndWriteTheSameThreadInfo(String profile) {
        MachineState m = boot(profile);
        try {
            ThreadInfoBenchmark b = new ThreadInfoBenchmark();
            assertEquals(2L, b.viewReadFlags(m), "_TIF_NEED_RESCHED");
            assertTrue(b.viewTestNeedResched(m));
            assertEquals(b.viewReadFlags(m), b.addressReadFlags(m));
            assertEquals(b.viewReadFlags(m), b.viewTaskThreadInfoFlags(m));
            assertEquals(m.platform.forkPreemptCount(), b.addressReadPreemptCount(m));
            assertEquals(b.viewReadPreemptCount(m), b.addressReadPreemptCount(m));
            assertEquals(1, b.viewReadCpu(m));
            assertEquals(1, b.viewTaskCpu(m));
            assertEquals(1, b.addressReadCpu(m));
            assertEquals(m.platform.kernelDs(), b.viewReadAddrLimit(m));
            assertEquals(b.viewReadAddrLimit(m), b.addressReadAddrLimit(m));
            assertTrue(m.taskView.stackEndMagicIntact());

            b.addressWriteFlags(m);
            assertEquals(b.addressReadFlags(m), b.viewReadFlags(m));
            b.viewWritePreemptCount(m);
            assertEquals(b.viewReadPreemptCount(m), b.addressReadPreemptCount(m));
            int before = b.addressReadPreemptCount(m);
            assertEquals(before + 1, b.addressPreemptDisableEnable(m));
            assertEquals(before, b.addressReadPreemptCount(m));
            b.addressWriteAddrLimit(m);
            assertEquals(b.addressReadAddrLimit(m), b.viewReadAddrLimit(m));
            b.addressWriteCpu(m);
            assertEquals(b.addressReadCpu(m), b.viewReadCpu(m));
            assertEquals(b.viewReadCpu(m), b.viewTaskCpu(m));
            assertTrue(m.taskView.stackEndMagicIntact(), "no write strayed onto the stack end");
        } finally {
            m.shutdown();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
    void allocationBenchmarksLeakNothing(String profile) {
        MachineState m = boot(profile);
        try {
            AllocBenchmark.Allocs a = new AllocBenchmark.Allocs();
            a.populate(m);
            m.memory.shrinkCaches();
            MemoryUsage baseline = m.memory.usage();
            AllocBenchmark b = new AllocBenchmark();
            for (int i = 0; i < 3; i++) {
                assertNotEquals(0, b.slabAllocFreeTaskStruct(m, a));
                assertNotEquals(0, b.slabZallocFreeTaskStruct(m, a));
                assertNotEquals(0, b.slabAllocFreeTaskStructBatch(m, a));
                long stack = b.pageAllocFreeThreadStack(m);
                assertEquals(0, stack % m.platform.threadSize(), "THREAD_SIZE aligned");
                long platformStack = b.platformStackAllocFree(m);
                assertEquals(0, platformStack % m.platform.threadAlign(), "THREAD_ALIGN aligned");
            }
            m.memory.shrinkCaches();
            assertEquals(baseline, m.memory.usage());
        } finally {
            m.shutdown();
        }
    }

    @Test
    void theAnnotationProcessorListedEveryBenchmark() throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/META-INF/BenchmarkList")) {
            assertTrue(in != null, "no META-INF/BenchmarkList: the JMH annotation processor did not run");
            String list = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            long count = list.lines().filter(l -> !l.isBlank()).count();
            long declared = 0;
            for (Class<?> c : new Class<?>[] {ThreadInfoBenchmark.class, AllocBenchmark.class, ForkBenchmark.class,
                ContextSwitchBenchmark.class, ForkScalingBenchmark.class, NativeBaselineBenchmark.class, CrashBenchmark.class,
                SchedulerTickBenchmark.class}) {
                for (java.lang.reflect.Method method : c.getDeclaredMethods()) {
                    if (method.isAnnotationPresent(org.openjdk.jmh.annotations.Benchmark.class)) {
                        declared++;
                    }
                }
            }
            assertEquals(declared, count, list);
        }
    }

    /** CrashBenchmark's states: ps over the 128 MiB vmcore and over the live model find every task (Crash.ps, init_task.tasks). */
    @ParameterizedTest
    @ValueSource(strings = {"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
    void crashBenchmarkStatesFindEveryTask(String profile) throws IOException {
        CrashBenchmark.Dump d = new CrashBenchmark.Dump();
        d.profile = profile;
        d.write();
        try {
            assertTrue(d.tasks > 200);
            assertEquals(d.tasks, new CrashBenchmark().psOnVmcore(d).size());
            try (var core = io.github.kproc.image.ElfCore.open(d.file)) {
                assertEquals(128L << 20, core.loads().get(0).fileSize(), "a 128 MiB RAM segment");
            }
        } finally {
            d.close();
        }
        CrashBenchmark.Model m = new CrashBenchmark.Model();
        m.profile = profile;
        m.liveTasks = 1000;
        m.boot();
        try {
            assertEquals(m.kernel.tasks().size() + m.kernel.cpus() - 1, new CrashBenchmark().psOnModel(m).size());
            assertTrue(m.kernel.tasks().size() > 1000);
        } finally {
            m.close();
        }
    }
}
