package io.github.kproc.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Cpu;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Policy;
import io.github.kproc.testkit.KernelSnapshot;
import io.github.kproc.view.TaskState;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each way the earlier int-addressed API could be misused is now a compile error (checked here by
 * reflection over the public API) or a clear typed error that changes nothing.
 */
class ApiMisuseTest {
    private static Kernel boot(String profile) {
        return Kernel.builder(Platforms.bundled(profile)).cpus(2).memory(64L << 20).boot();
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
    void noMethodShadowsObjectWaitAndTasksAreNamedByPid(String profile) {
        for (Method m : Kernel.class.getDeclaredMethods()) {
            if (!Modifier.isPublic(m.getModifiers())) {
                continue;
            }
            assertFalse(m.getName().equals("wait"), "Kernel.wait would overload Object.wait");
            boolean addressesATask = Set.of("kill", "flushSignals", "migrate", "setScheduler", "setNice", "setrlimit",
                    "getrlimit").contains(m.getName());
            if (addressesATask) {
                assertEquals(Pid.class, m.getParameterTypes()[0], m + " names its task by Pid");
            }
        }
        assertTrue(Arrays.stream(Cpu.class.getMethods()).anyMatch(m -> m.getName().equals("wait4")));
        assertThrows(IllegalArgumentException.class, () -> Pid.of(0), "pid 0 names no task");
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
    void actingAsTheWrongTaskIsRefused(String profile) {
        try (Kernel k = boot(profile)) {
            Cpu cpu0 = k.cpu(0);
            cpu0.run(Pid.INIT);
            Pid child = cpu0.as(Pid.INIT).fork();
            Cpu cpu1 = k.cpu(1);
            cpu1.run(child);
            cpu1.as(child).exit(0);
            // the child is gone: a second exit meant for it would have exited whatever ran next
            KernelSnapshot before = KernelSnapshot.take(k);
            assertThrows(IllegalStateException.class, () -> cpu1.as(child).exit(0));
            assertEquals(List.of(), before.differences(KernelSnapshot.take(k)));
            cpu0.as(Pid.INIT).sleep();
            // init sleeps; CPU 0 runs kthreadd or idle now, and a fork meant as init is refused
            assertThrows(IllegalStateException.class, () -> cpu0.as(Pid.INIT).fork());
            assertEquals(TaskState.INTERRUPTIBLE, k.task(Pid.INIT).orElseThrow().state());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
    void forkWhereTheKernelMayNotSleepIsRefused(String profile) {
        try (Kernel k = boot(profile)) {
            Cpu cpu0 = k.cpu(0);
            cpu0.run(Pid.INIT);
            KernelSnapshot before = KernelSnapshot.take(k);
            cpu0.localIrqDisable();
            assertThrows(IllegalStateException.class, cpu0::fork);
            cpu0.localIrqEnable();
            cpu0.irqEnter();
            assertThrows(IllegalStateException.class, cpu0::fork);
            cpu0.irqExit();
            assertEquals(List.of(), before.differences(KernelSnapshot.take(k)));
            assertEquals(2, k.bugs().size());
            assertTrue(k.bugs().get(0).startsWith("BUG: sleeping function called from invalid context"), k.bugs().get(0));
            k.cpu(1).runIdle();
            assertThrows(IllegalStateException.class, () -> k.cpu(1).fork(), "the idle task does not fork");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
    void kernelErrorsAreTypedAndMissingTasksAreEmpty(String profile) {
        try (Kernel k = boot(profile)) {
            Cpu init = k.cpu(0);
            init.run(Pid.INIT);
            KernelException e = assertThrows(KernelException.class,
                    () -> init.as(Pid.INIT).clone(CloneArgs.of(CloneFlag.THREAD)));
            assertEquals(Errno.EINVAL, e.errno(), "copy_process: CLONE_THREAD without CLONE_SIGHAND");
            assertEquals(Errno.EINVAL, assertThrows(KernelException.class,
                    () -> k.setScheduler(Pid.INIT, Policy.FIFO, 0)).errno(), "sched_setscheduler: FIFO takes 1..99");
            assertEquals(Errno.ESRCH, assertThrows(KernelException.class, () -> k.kill(Pid.of(999), 10)).errno());
            assertTrue(k.task(Pid.of(999)).isEmpty());
            assertThrows(IllegalArgumentException.class, () -> k.task(0L), "no task_struct at address 0");
            assertThrows(IllegalArgumentException.class, () -> k.cpu(2), "a 2-CPU kernel has no CPU 2");
            assertTrue(k.task(Pid.KTHREADD).orElseThrow().isKernelThread());
            assertTrue(k.cpu(1).current().isIdle());
        }
    }
}
