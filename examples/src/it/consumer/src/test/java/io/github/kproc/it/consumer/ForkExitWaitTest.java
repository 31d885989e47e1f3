package io.github.kproc.it.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.Cpu;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.view.TaskStruct;
import java.util.ArrayList;
import java.util.List;
import io.github.kproc.kernel.Tracer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Drives a kernel as the README's Quickstart does: init forks a child, the child runs and exits, init reaps it. */
class ForkExitWaitTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
    void initForksAndReapsAChild(String profile) {
        List<String> trace = new ArrayList<>();
        try (Kernel kernel = Kernel.builder(Platforms.bundled(profile)).cpus(2).tracer(Tracer.events(trace::add)).boot()) {
            kernel.cpu(0).run(Pid.INIT);
            int threads = kernel.nrThreads();

            Cpu init = kernel.cpu(0).as(Pid.INIT);
            Pid child = init.fork();
            TaskStruct task = kernel.task(child).orElseThrow();
            assertEquals(kernel.task(Pid.INIT).orElseThrow().address(), task.realParent());
            assertEquals(threads + 1, kernel.nrThreads());
            assertThrows(IllegalStateException.class, () -> kernel.cpu(0).as(child).exit(0),
                    "as(child) refuses to act while init is current on CPU 0");

            Cpu where = kernel.cpu(task.cpu());
            where.run(child);
            where.as(child).exit(0);
            assertTrue(kernel.task(child).orElseThrow().isZombie(), "a zombie until init reaps it");

            assertTrue(init.wait4(child));
            assertTrue(kernel.task(child).isEmpty());
            assertEquals(threads, kernel.nrThreads());
            assertEquals(List.of(), kernel.bugs());
            // release_task hands the task_struct to RCU: it is freed (sched_process_free) in RCU_SOFTIRQ once
            // every CPU has passed a quiescent state, which the ticks give (start, report, run)
            for (int i = 0; i < 3; i++) {
                kernel.tickAll();
            }
            assertTrue(trace.stream().anyMatch(line -> line.contains("sched_process_fork: comm=init pid=1 child_comm=init child_pid=" + child.nr())),
                    () -> String.join("\n", trace));
            assertTrue(trace.stream().anyMatch(line -> line.contains("sched_process_free: comm=init pid=" + child.nr())),
                    () -> String.join("\n", trace));
        }
    }
}
