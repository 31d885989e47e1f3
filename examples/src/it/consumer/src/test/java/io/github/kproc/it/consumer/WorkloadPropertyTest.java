package io.github.kproc.it.consumer;

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
import org.junit.jupiter.api.Test;

/**
 * A property test with kproc's test kit and QuickTheories: any seeded workload keeps every invariant,
 * and once its tasks are exited and reaped the kernel holds no more than at boot.
 */
class WorkloadPropertyTest {
    @Test
    void workloadsKeepInvariantsAndLeakNothing() {
        qt().withExamples(30)
                .forAll(longs().all(), integers().between(0, 100))
                .checkAssert((seed, length) -> {
                    String profile = (seed & 1) == 0 ? "linux-4.19-arm32-vexpress" : "linux-4.19-arm64-defconfig";
                    try (Kernel kernel = Kernel.builder(Platforms.bundled(profile)).cpus(2).boot()) {
                        kernel.cpu(0).run(Pid.INIT);
                        KernelSnapshot boot = KernelSnapshot.take(kernel);

                        Workload.generate(seed, length).apply(kernel);
                        assertEquals(List.of(), KernelInvariants.of(kernel).check(), profile);

                        Workload.reapAll(kernel, 100);
                        assertEquals(Map.of(), boot.leaksSince(kernel), profile);
                    }
                });
    }
}
