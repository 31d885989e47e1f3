package io.github.kproc.it.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** Runs {@link ForkExitWaitBenchmark} for a moment through JMH's Runner API. */
class ForkExitWaitBenchmarkTest {
    @Test
    void theAnnotationProcessorListedTheBenchmark() throws IOException {
        try (InputStream list = ForkExitWaitBenchmarkTest.class.getResourceAsStream("/META-INF/BenchmarkList")) {
            assertNotNull(list, "jmh-generator-annprocess did not run: no META-INF/BenchmarkList");
            String text = new String(list.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(text.contains(ForkExitWaitBenchmark.class.getName()) && text.contains(" forkExitWait4 "), text);
        }
    }

    @Test
    void runsAndReportsAScore() throws RunnerException {
        Options options = new OptionsBuilder()
                .include(ForkExitWaitBenchmark.class.getName() + ".forkExitWait4")
                // forks(0): a forked JMH VM is started with -cp from java.class.path only, but this
                // module's classes (main and the patched-in test classes with the generated harness)
                // are on surefire's --module-path/--patch-module, so the fork could not load them
                .forks(0)
                .warmupIterations(1)
                .warmupTime(TimeValue.milliseconds(100))
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100))
                .shouldFailOnError(true)
                .build();
        Collection<RunResult> results = new Runner(options).run();
        assertEquals(1, results.size());
        RunResult result = results.iterator().next();
        double nanos = result.getPrimaryResult().getScore();
        assertTrue(nanos > 0 && Double.isFinite(nanos), "ns/op " + nanos);
        assertEquals("ns/op", result.getPrimaryResult().getScoreUnit());
    }
}
