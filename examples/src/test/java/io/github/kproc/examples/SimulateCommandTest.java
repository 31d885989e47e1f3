package io.github.kproc.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code kproc simulate}: a seeded workload whose ftrace log is reproducible byte for byte. */
class SimulateCommandTest {
    /** The context prefix of trace_print_context: comm, pid, [cpu], four irq-info characters, timestamp. */
    private static final Pattern LINE = Pattern.compile(
            "[ -~]{16}-\\d+ +\\[\\d{3}] [.dX][.nNp][.hHsSzZ][.0-9a-f] +\\d+\\.\\d{6}: [a-z_]+: .*");

    private static String[] run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Kproc.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {String.valueOf(status), out.toString(StandardCharsets.UTF_8),
            err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void sameSeedSameBytes() {
        String[] a = run("simulate", "--profile", "linux-4.19-arm32-vexpress", "--cpus", "4", "--forks", "40", "--seed", "9");
        String[] b = run("simulate", "--profile", "linux-4.19-arm32-vexpress", "--cpus", "4", "--forks", "40", "--seed", "9");
        assertEquals("0", a[0], a[2]);
        assertEquals(a[1], b[1]);
        String[] c = run("simulate", "--profile", "linux-4.19-arm32-vexpress", "--cpus", "4", "--forks", "40", "--seed", "10");
        assertNotEquals(a[1], c[1]);
    }

    @Test
    void logIsTheFtraceFormatWithForksSwitchesTicksAndIpis() {
        String[] r = run("simulate", "--profile", "linux-4.19-arm64-defconfig", "--cpus", "4", "--forks", "60", "--seed", "2");
        assertEquals("0", r[0], r[2]);
        String[] lines = r[1].split("\n");
        assertTrue(lines[0].startsWith("# tracer: nop"));
        assertEquals("#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION", lines[7]);
        for (int i = 9; i < lines.length; i++) {
            assertTrue(LINE.matcher(lines[i]).matches(), "not an ftrace line: " + lines[i]);
        }
        for (String event : new String[] {"task_newtask", "sched_process_fork", "sched_wakeup_new", "sched_switch",
            "sched_process_exit", "sched_process_free", "ipi_raise", "ipi_entry"}) {
            assertTrue(r[1].contains(": " + event + ": "), "no " + event + " line");
        }
        assertTrue(r[2].contains("forks: 60 tried"), r[2]);
        assertTrue(r[2].contains("live tasks: "), r[2]);
        assertTrue(r[2].contains("failures by errno:"), r[2]);
    }

    @Test
    void clustersChangeArm64sPlacementButNotArm32s() {
        // build_sched_domains: arm64 (CONFIG_SCHED_MC) gets MC per cluster under DIE; ARM32 vexpress has
        // DIE alone, so its log is the one-cluster log byte for byte
        String[] one = run("simulate", "--profile", "linux-4.19-arm64-defconfig", "--cpus", "4", "--forks", "60", "--seed", "3");
        String[] same = run("simulate", "--profile", "linux-4.19-arm64-defconfig", "--cpus", "4", "--clusters", "4",
                "--forks", "60", "--seed", "3");
        String[] two = run("simulate", "--profile", "linux-4.19-arm64-defconfig", "--cpus", "4", "--clusters", "2,2",
                "--forks", "60", "--seed", "3");
        assertEquals("0", two[0], two[2]);
        assertEquals(one[1], same[1]);
        assertNotEquals(one[1], two[1]);
        String[] a32 = run("simulate", "--profile", "linux-4.19-arm32-vexpress", "--cpus", "4", "--forks", "60", "--seed", "3");
        String[] a32two = run("simulate", "--profile", "linux-4.19-arm32-vexpress", "--cpus", "4", "--clusters", "2,2",
                "--forks", "60", "--seed", "3");
        assertEquals(a32[1], a32two[1]);
    }

    @Test
    void showTaskPrintsTheThreadInfoOfInitAndOnArm64ItsCpuContext() {
        String[] r = run("simulate", "--profile", "linux-4.19-arm64-defconfig", "--cpus", "2", "--forks", "5",
                "--seed", "4", "--show-task", "1");
        assertEquals("0", r[0], r[2]);
        assertTrue(r[1].contains("(struct thread_info *) (struct thread_info*)0x"), r[1]);
        assertTrue(r[1].contains("(struct cpu_context *) (struct cpu_context*)0x"), r[1]);
        String[] a32 = run("simulate", "--profile", "linux-4.19-arm32-vexpress", "--cpus", "2", "--forks", "5",
                "--seed", "4", "--show-task", "2");
        assertEquals("0", a32[0], a32[2]);
        assertTrue(a32[1].contains("(struct cpu_context_save) cpu_context = ("), a32[1]);
    }

    @Test
    void badArgumentsAreOneLineAndStatusTwo() {
        for (String[] args : new String[][] {
            {"simulate", "--profile", "linux-4.19-arm32-vexpress", "--cpus", "9"},
            {"simulate", "--profile", "linux-4.19-arm64-defconfig", "--cpus", "4", "--clusters", "2,1"},
            {"simulate", "--profile", "linux-4.19-arm64-defconfig", "--cpus", "4", "--clusters", "0,4"},
            {"simulate", "--profile", "linux-4.19-arm64-defconfig", "--cpus", "4", "--clusters", "2,x"},
            {"simulate", "--profile", "nope"},
            {"simulate", "--profile", "linux-4.19-arm32-vexpress", "--forks", "x"},
            {"simulate", "--profile", "linux-4.19-arm32-vexpress", "--forks", "3", "--show-task", "99999"},
            {"simulate", "--cpus", "2"}}) {
            String[] r = run(args);
            assertEquals("2", r[0], String.join(" ", args));
            assertTrue(r[2].startsWith("kproc: ") && r[2].strip().lines().count() == 1, r[2]);
        }
    }
}
