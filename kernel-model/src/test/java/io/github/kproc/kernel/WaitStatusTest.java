package io.github.kproc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The status words {@code wait_task_zombie} reports, decoded as the C library's {@code W*} macros do. */
class WaitStatusTest {
    @Test
    @DisplayName("exit(255) -> do_exit(0xff00): WIFEXITED, WEXITSTATUS 255")
    void exited() {
        WaitStatus w = new WaitStatus(Pid.of(5), 0xff00);
        assertTrue(w.exited());
        assertFalse(w.signaled());
        assertEquals(255, w.exitStatus());
    }

    @Test
    @DisplayName("a SIGKILL death leaves 9; with a core dump the 0x80 bit: WIFSIGNALED, WTERMSIG, WCOREDUMP")
    void signaled() {
        WaitStatus killed = new WaitStatus(Pid.of(5), 9);
        assertTrue(killed.signaled());
        assertFalse(killed.exited());
        assertEquals(9, killed.termSig());
        assertFalse(killed.coreDumped());
        WaitStatus dumped = new WaitStatus(Pid.of(5), 0x80 | 11);
        assertTrue(dumped.signaled());
        assertEquals(11, dumped.termSig());
        assertTrue(dumped.coreDumped());
    }

    @Test
    @DisplayName("a stop report (SIGSTOP << 8 | 0x7f) is neither an exit nor a death by signal")
    void stoppedIsNeither() {
        WaitStatus stopped = new WaitStatus(Pid.of(5), 19 << 8 | 0x7f);
        assertFalse(stopped.exited());
        assertFalse(stopped.signaled());
    }
}
