package io.github.kproc.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kproc ps|runq|bt|task|struct|sym} on a vmcore, and {@code kproc simulate --then CMDS
 * --vmcore FILE}: the commands print the same on the live model and on the vmcore it wrote.
 */
class CrashCommandTest {
    @TempDir
    Path dir;

    record Result(int status, String out, String err) {
    }

    private static Result kproc(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Kproc.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String error(Result r) {
        assertEquals(2, r.status(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("kproc: ") && r.err().indexOf('\n') == r.err().length() - 1, r.err());
        return r.err();
    }

    @ParameterizedTest
    @ValueSource(strings = {"linux-4.19-arm32-vexpress", "linux-4.19-arm64-defconfig"})
    void psRunqAndBtOnTheWrittenVmcoreEqualTheLiveModel(String profile) {
        Path vmcore = dir.resolve("vmcore");
        for (String command : new String[] {"ps", "runq", "bt -v", "task 1", "sym init_task"}) {
            Result live = kproc("simulate", "--profile", profile, "--cpus", "4", "--forks", "120", "--seed", "7",
                    "--memory", "64", "--then", command, "--vmcore", vmcore.toString());
            assertEquals(0, live.status(), live.err());
            String[] words = command.split(" ");
            String[] args = new String[words.length + 4];
            System.arraycopy(words, 0, args, 0, words.length);
            System.arraycopy(new String[] {"--vmcore", vmcore.toString(), "--profile", profile}, 0, args, words.length, 4);
            Result read = kproc(args);
            assertEquals(0, read.status(), read.err());
            assertEquals(live.out(), read.out(), command);
            assertTrue(read.err().contains("PHYS_OFFSET 0x40000000 from the VMCOREINFO"), read.err());
        }
    }

    @Test
    void simulateThenPrintsOnlyTheCommandsOutput() {
        Result r = kproc("simulate", "--profile", "linux-4.19-arm32-vexpress", "--cpus", "2", "--forks", "10",
                "--memory", "32", "--then", "ps; runq");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("      PID    PPID  CPU   TASK    ST  %MEM      VSZ      RSS  COMM\n"), r.out());
        assertTrue(r.out().contains("CPU 1 RUNQUEUE: "), r.out());
        assertTrue(!r.out().contains("sched_switch"), "no ftrace log with --then");
    }

    @Test
    void aGzippedDumpIsOneLineSayingSo() throws IOException {
        Path gz = dir.resolve("vmcore.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(new byte[4096]);
        }
        String e = error(kproc("ps", "--vmcore", gz.toString(), "--profile", "linux-4.19-arm32-vexpress"));
        assertTrue(e.contains("ENOEXEC") && e.contains("gzip-compressed"), e);
    }

    @Test
    void badInputIsOneLine() throws IOException {
        Path notElf = dir.resolve("not-elf");
        Files.write(notElf, new byte[100]);
        assertTrue(error(kproc("ps", "--vmcore", notElf.toString(), "--profile", "linux-4.19-arm32-vexpress"))
                .contains("not an ELF file"));
        assertTrue(error(kproc("ps", "--profile", "linux-4.19-arm32-vexpress")).contains("missing option --vmcore"));
        assertTrue(error(kproc("ps", "--vmcore", dir.toString(), "--profile", "linux-4.19-arm32-vexpress"))
                .contains("is a directory"));
        assertTrue(error(kproc("ps", "--vmcore", dir.resolve("none").toString(), "--profile",
                "linux-4.19-arm32-vexpress")).contains("none"));
        assertTrue(error(kproc("simulate", "--profile", "linux-4.19-arm32-vexpress", "--then", "frobnicate"))
                .contains("unknown command 'frobnicate'"));
        assertTrue(error(kproc("task", "--vmcore", notElf.toString(), "--profile", "linux-4.19-arm32-vexpress"))
                .contains("missing PID"));
    }

    @Test
    void anArm32DumpIsNotReadAsArm64() {
        Path vmcore = dir.resolve("vmcore");
        assertEquals(0, kproc("simulate", "--profile", "linux-4.19-arm32-vexpress", "--cpus", "1", "--forks", "1",
                "--memory", "32", "--then", "ps", "--vmcore", vmcore.toString()).status());
        String e = error(kproc("ps", "--vmcore", vmcore.toString(), "--profile", "linux-4.19-arm64-defconfig"));
        assertTrue(e.contains("e_machine"), e);
    }
}
