package io.github.kproc.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.KernelSnapshot;
import io.github.kproc.testkit.Violation;
import io.github.kproc.testkit.Workload;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The test kit with plain JUnit 5: a {@link MethodSource} gives seeded {@link Workload}s on both
 * bundled profiles, each one a named, reproducible test case. Every operation is applied on its own
 * so that a broken invariant names the operation that broke it; at the end everything is exited and
 * reaped and the kernel must hold no more than it did at boot.
 */
class WorkloadParameterizedTest {
    static Stream<Arguments> workloads() {
        return Stream.of("linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig")
                .flatMap(profile -> LongStream.rangeClosed(1, 4)
                        .mapToObj(seed -> Arguments.of(profile, seed, Workload.generate(seed, 80))));
    }

    @ParameterizedTest(name = "{0}, seed {1}")
    @MethodSource("workloads")
    void everyOperationKeepsTheInvariants(String profile, long seed, Workload workload) {
        try (Kernel kernel = Kernel.builder(Platforms.bundled(profile)).cpus(3).boot()) {
            kernel.cpu(0).run(Pid.INIT);
            KernelSnapshot boot = KernelSnapshot.take(kernel);
            KernelInvariants invariants = KernelInvariants.of(kernel);

            for (Workload.Op op : workload.ops()) {
                Workload.Outcome outcome = Workload.apply(kernel, op);
                List<Violation> broken = invariants.check();
                assertEquals(List.of(), broken, () -> "after " + outcome);
            }

            Workload.reapAll(kernel, 100);
            assertEquals(Map.of(), boot.leaksSince(kernel), "leaked once everything was reaped");
            assertEquals(List.of(), invariants.check());
        }
    }
}
