package io.github.kproc.it.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.arch.Platforms;
import java.util.List;
import org.junit.jupiter.api.Test;

class StackBaseTest {
    @Test
    void runsOnTheModulePath() {
        assertEquals("io.github.kproc.it.consumer", StackBase.class.getModule().getName());
        assertEquals("io.github.kproc", Platforms.class.getModule().getName());
    }

    @Test
    void bothBackendsAreFoundAndReadAThreadInfo() {
        assertEquals(List.of("linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"),
                Platforms.bundledProfiles().stream().sorted().toList());
        for (String profile : List.of("linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig")) {
            String view = StackBase.threadInfoView(profile);
            assertTrue(view.startsWith("  (struct thread_info *) (struct thread_info*)0x"), view);
            assertTrue(view.contains("\n    (long unsigned int) flags = 2 = 0x2,\n"), view);
            assertTrue(view.endsWith("""
                      flags = 0x2: TIF_NEED_RESCHED
                      preempt_count = 0x1: preempt depth 1, softirq 0, hardirq 0, NMI 0: task context, atomic
                    """), view);
        }
    }
}
