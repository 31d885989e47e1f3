package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.testkit.KernelSnapshot;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad input at the public entry points: a null names its parameter, a value out of range is an
 * {@link IllegalArgumentException} that changes nothing, corrupted memory is reported rather than
 * walked forever, and the largest machine a build allows boots with memory in proportion to its use.
 */
public abstract class BadInputContract extends KernelContract {

    @Test
    @DisplayName("a null argument is a NullPointerException naming the parameter, and changes nothing")
    void nullsNameTheirParameter() {
        assertEquals("platform", assertThrows(NullPointerException.class, () -> Kernel.builder(null)).getMessage());
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        KernelSnapshot before = KernelSnapshot.take(k);
        List<Object[]> calls = List.<Object[]>of(
                new Object[] {"comm", (Executable) () -> k.cpu(0).exec(null)},
                new Object[] {"args", (Executable) () -> k.cpu(0).clone(null)},
                new Object[] {"task", (Executable) () -> k.cpu(0).wakeUp(null)},
                new Object[] {"task", (Executable) () -> k.cpu(0).run(null)},
                new Object[] {"child", (Executable) () -> k.cpu(0).wait4(null)},
                new Object[] {"task", (Executable) () -> k.cpu(0).as(null)},
                new Object[] {"pid", (Executable) () -> k.task((Pid) null)},
                new Object[] {"pid", (Executable) () -> k.kill(null, 9)},
                new Object[] {"policy", (Executable) () -> k.setScheduler(Pid.INIT, null, 0)},
                new Object[] {"name", (Executable) () -> k.sysctl(null, 1)});
        for (Object[] call : calls) {
            assertEquals(call[0], assertThrows(NullPointerException.class, (Executable) call[1]).getMessage());
        }
        before.assertUnchanged(k);
    }

    @Test
    @DisplayName("advanceClock: the clock never passes 2^63 - 1 ns or goes back")
    void theClockDoesNotOverflow() {
        Kernel k = boot(1);
        long now = k.clock();
        k.advanceClock(Long.MAX_VALUE - now);
        assertEquals(Long.MAX_VALUE, k.clock());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.advanceClock(1));
        assertTrue(e.getMessage().startsWith("nanos: "), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> k.advanceClock(Long.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> k.advanceClock(-1));
        assertEquals(Long.MAX_VALUE, k.clock());
    }

    @Test
    @DisplayName("a cycle written into init_task.tasks: tasks() reports the corrupted list instead of walking it forever")
    void aSelfLoopInTheTaskListIsReported() {
        // for_each_process_thread over init_task.tasks, bounded by the task_structs that exist
        Kernel k = boot(2);
        long init = k.task(Pid.INIT).orElseThrow().address();
        long tasks = platform().offsets().required("task_struct", "tasks");
        k.addressSpace().writePointer(init + tasks, init + tasks); // init's next points at itself
        IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(IllegalStateException.class, k::tasks));
        assertTrue(e.getMessage().startsWith("corrupted list: init_task.tasks does not return to its head"),
                e.getMessage());
    }

    @Test
    @DisplayName("the largest RAM the build allows boots lazily: the heap pays for the memory used, not the RAM size")
    void theLargestMachineBoots() {
        // arm64: the linear map holds up to 2^(VA_BITS - 1) bytes; ARM32: lowmem, 4 GiB - PAGE_OFFSET
        // less the 256 MiB of vmalloc space above it
        long ram = platform().pointerSize() == 8 ? 1L << 40
                : (1L << 32) - platform().profile().config().number("CONFIG_PAGE_OFFSET", 0xc000_0000L) - (256L << 20);
        Kernel k = boot(b -> b.cpus(platform().nrCpus()).memory(ram));
        k.cpu(0).run(Pid.INIT);
        for (int i = 0; i < 100; i++) {
            k.cpu(0).fork();
        }
        assertEquals(102, k.nrThreads());
        assertEquals(ram / platform().pageSize(), k.memory().pages().totalPages());
        assertTrue(k.memory().pages().freePages() > k.memory().pages().totalPages() - 20_000, "a few MiB in use");
        assertTrue(k.maxThreads() > 100);
    }
}
