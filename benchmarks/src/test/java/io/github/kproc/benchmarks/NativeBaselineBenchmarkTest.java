package io.github.kproc.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Memory;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each native baseline operation runs once on this host and returns what the kernel should return. */
class NativeBaselineBenchmarkTest {

    @BeforeAll
    static void onLinux() {
        assumeTrue(HostLibc.supported(), "the native baselines need 64-bit Linux");
    }

    @Test
    void spawnOfBinTrueIsReapedWithStatusZero() {
        NativeBaselineBenchmark.Spawn s = new NativeBaselineBenchmark.Spawn();
        s.setup();
        try {
            try (Memory flags = new Memory(2)) {
                assertEquals(0, HostLibc.posix_spawnattr_getflags(s.useVfork, flags));
                assertEquals(HostLibc.POSIX_SPAWN_USEVFORK, flags.getShort(0));
                assertEquals(0, HostLibc.posix_spawnattr_getflags(s.plain, flags));
                assertEquals(0, flags.getShort(0));
            }
            NativeBaselineBenchmark b = new NativeBaselineBenchmark();
            for (int i = 0; i < 3; i++) {
                assertEquals(0, b.spawnTrueWaitpid(s), "wait status of /bin/true");
                int first = s.pid.getInt(0);
                assertEquals(0, b.spawnTrueUseVforkWaitpid(s), "wait status of /bin/true with POSIX_SPAWN_USEVFORK");
                assertNotEquals(first, s.pid.getInt(0), "a new process each time");
            }
            // already reaped: no child of that pid is left
            assertEquals(-1, HostLibc.waitpid(s.pid.getInt(0), s.status, 1 /* WNOHANG */));
        } finally {
            s.close();
        }
    }

    @Test
    void threadRunsTheNativeNoOpAndIsJoined() {
        NativeBaselineBenchmark.Threads s = new NativeBaselineBenchmark.Threads();
        s.setup();
        try {
            NativeBaselineBenchmark b = new NativeBaselineBenchmark();
            for (int i = 0; i < 3; i++) {
                long exitValue = b.pthreadCreateJoin(s);
                // pthread_self as the start routine returns the new thread's own pthread_t
                assertEquals(s.thread.getLong(0), exitValue);
                assertNotEquals(0L, exitValue);
            }
        } finally {
            s.close();
        }
    }

    @Test
    void pingPongCompletesOnOneCpuAndTearsDown() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            NativeBaselineBenchmark.PingPong s = new NativeBaselineBenchmark.PingPong();
            s.setup();
            try (Memory mine = new Memory(HostLibc.CPU_SET_SIZE)) {
                s.pin();
                try {
                    mine.clear();
                    assertEquals(0, HostLibc.sched_getaffinity(0, HostLibc.CPU_SET_SIZE, mine));
                    assertEquals(1, Long.bitCount(mine.getLong(0)) + bitsAbove64(mine), "pinned to one CPU");
                    assertEquals(1 << (s.cpu % 8), mine.getByte(s.cpu / 8) & 0xff);
                    NativeBaselineBenchmark b = new NativeBaselineBenchmark();
                    assertEquals(NativeBaselineBenchmark.ROUND_TRIPS, b.pipePingPong(s));
                    assertEquals(NativeBaselineBenchmark.ROUND_TRIPS, b.pipePingPong(s));
                } finally {
                    s.unpin();
                }
                mine.clear();
                assertEquals(0, HostLibc.sched_getaffinity(0, HostLibc.CPU_SET_SIZE, mine));
                for (int i = 0; i < HostLibc.CPU_SET_SIZE; i++) {
                    assertEquals(s.savedMask.getByte(i), mine.getByte(i), "affinity restored");
                }
            } finally {
                s.close();
            }
            assertFalse(s.partner.isAlive(), "partner joined");
            assertEquals(2L * NativeBaselineBenchmark.ROUND_TRIPS, s.echoed, "the partner echoed every byte");
            assertEquals(-1, s.toPartnerRead);
            assertEquals(-1, s.toPartnerWrite);
            assertEquals(-1, s.fromPartnerRead);
            assertEquals(-1, s.fromPartnerWrite);
        });
    }

    private static int bitsAbove64(Memory mask) {
        int n = 0;
        for (long i = 8; i < HostLibc.CPU_SET_SIZE; i += 8) {
            n += Long.bitCount(mask.getLong(i));
        }
        return n;
    }
}
