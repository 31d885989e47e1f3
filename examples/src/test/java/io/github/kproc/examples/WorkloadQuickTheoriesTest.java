package io.github.kproc.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.KernelSnapshot;
import io.github.kproc.testkit.Workload;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The test kit under QuickTheories: QuickTheories draws a seed and a length, {@link Workload#generate}
 * turns them into system calls and events, and the property is that the kernel keeps every invariant
 * and, once everything is exited and reaped, holds nothing more than at boot. On a failure
 * QuickTheories shrinks the length (and the seed towards 0) and prints the smallest case with its own
 * seed; rerun it with {@code -DQT_SEED=...}. The examples are random on every run ({@code QT_EXAMPLES}
 * raises their number).
 */
class WorkloadQuickTheoriesTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
    void workloadsKeepInvariantsAndLeakNothing(String profile) {
        qt().withExamples(25)
                .forAll(longs().all(), integers().between(0, 100))
                .checkAssert((seed, length) -> {
                    try (Kernel kernel = Kernel.builder(Platforms.bundled(profile)).cpus(2).boot()) {
                        kernel.cpu(0).run(Pid.INIT);
                        KernelSnapshot boot = KernelSnapshot.take(kernel);

                        Workload.generate(seed, length).apply(kernel);
                        assertEquals(List.of(), KernelInvariants.of(kernel).check());

                        Workload.reapAll(kernel, 100);
                        // reapAll let the grace periods pass: every RCU callback (delayed_put_task_struct) ran
                        assertEquals(0, Workload.pendingRcuCallbacks(kernel));
                        assertEquals(Map.of(), boot.leaksSince(kernel));
                    }
                });
    }
}
