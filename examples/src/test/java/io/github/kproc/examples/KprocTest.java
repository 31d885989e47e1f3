package io.github.kproc.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.arch.Platforms;
import io.github.kproc.arm32.Arm32Architecture;
import io.github.kproc.arm64.Arm64Architecture;
import io.github.kproc.layout.Pahole;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code kproc} command line: every command, its help, and every kind of error. */
class KprocTest {
    private static final String ARM32 = Arm32Architecture.VEXPRESS;
    private static final String ARM64 = "linux-4.19-arm64-defconfig";
    private static final long STACK = 0x80C00000L;

    @TempDir
    Path dir;

    /** What one run printed and returned. */
    record Result(int status, String out, String err) {
        /** Asserts the run failed the way every error must: status 2, nothing on stdout, one line on stderr. */
        String error() {
            assertEquals(2, status, () -> "status of a failed run; stderr: " + err);
            assertEquals("", out);
            assertTrue(err.startsWith("kproc: ") && err.endsWith("\n") && err.indexOf('\n') == err.length() - 1,
                    () -> "one line on stderr, was: " + err);
            return err.strip();
        }

        String ok() {
            assertEquals(0, status, () -> "status; stderr: " + err);
            assertEquals("", err);
            return out;
        }
    }

    private static Result kproc(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Kproc.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** An 8 KiB ARM32 stack image at 0x80C00000 with seed scenario 3's thread_info at its base. */
    private Path arm32Stack() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8192).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 1 << 2).putInt(4, 1).putInt(8, 0xBF000000).putInt(12, 0x81A3C000).putInt(16, 1);
        b.putInt(24 + 32, 0x80C01DB0).putInt(24 + 36, 0x80107A00);
        return Files.write(dir.resolve("stack.bin"), b.array());
    }

    private Path copyResource(Class<?> owner, String resource, String file) throws IOException {
        try (InputStream in = owner.getResourceAsStream(resource)) {
            Path path = dir.resolve(file);
            Files.copy(in, path);
            return path;
        }
    }

    private String[] viewArm32(String... tail) throws IOException {
        List<String> args = new ArrayList<>(List.of("view", "--profile", ARM32, "--image",
                arm32Stack().toString(), "--base", "0x80C00000"));
        args.addAll(List.of(tail));
        return args.toArray(String[]::new);
    }

    @Test
    void helpListsEveryCommand() {
        String usage = kproc("--help").ok();

        assertTrue(usage.startsWith("usage: kproc COMMAND [OPTIONS] ARGS\n"), usage);
        for (String command : List.of("profiles", "layout", "view")) {
            assertTrue(usage.contains("\n  " + command + " "), usage);
        }
        assertEquals(usage, kproc("-h").ok());
    }

    @Test
    void everyCommandHasHelp() {
        assertTrue(kproc("profiles", "--help").ok().startsWith("usage: kproc profiles\n"));
        assertTrue(kproc("layout", "--help").ok().startsWith("usage: kproc layout (--profile NAME | "));
        assertTrue(kproc("view", "--help").ok().startsWith("usage: kproc view (--profile NAME | "));
        assertTrue(kproc("view", "--profile", "nonsense", "-h").ok().startsWith("usage: kproc view "));
    }

    @Test
    void profilesListsBothBundledBuildsWithTheirFacts() {
        assertEquals("""
                linux-4.19-arm32-vexpress    arm    pointer=4 THREAD_SIZE=0x2000 SMP=y NR_CPUS=8 PREEMPT=n
                linux-4.19-arm64-defconfig   arm64  pointer=8 THREAD_SIZE=0x4000 SMP=y NR_CPUS=64 PREEMPT=y
                """, kproc("profiles").ok());
    }

    @Test
    void layoutPrintsPaholesFormat() {
        String layout = kproc("layout", "--profile", ARM32, "thread_info").ok();

        assertEquals(Pahole.print(Platforms.bundled(ARM32).profile().struct("thread_info")), layout);
        assertTrue(layout.startsWith("""
                struct thread_info {
                \tlong unsigned int          flags;                /*     0     4 */
                \tint                        preempt_count;        /*     4     4 */
                """), layout);
        assertEquals(layout, kproc("layout", "--profile=" + ARM32, "struct", "thread_info").ok());
        assertEquals(layout, kproc("layout", "struct thread_info", "--profile", ARM32).ok());
    }

    @Test
    void layoutReadsAUsersOwnBuild() throws IOException {
        Path pahole = copyResource(Arm64Architecture.class, ARM64 + "/structs.pahole", "structs.pahole");
        Path config = copyResource(Arm64Architecture.class, ARM64 + "/config", "config");

        assertEquals(kproc("layout", "--profile", ARM64, "task_struct").ok(),
                kproc("layout", "--pahole", pahole.toString(), "--config", config.toString(), "task_struct").ok());
    }

    @Test
    void viewShowsThreadInfoAsTheDebuggerDoesAndDecodesIt() throws IOException {
        String view = kproc(viewArm32("struct thread_info", "0x80C00000")).ok();
        List<String> lines = view.lines().toList();

        assertEquals(List.of(
                "  (struct thread_info *) (struct thread_info*)0x80C00000 = 0x80C00000 -> (",
                "    (long unsigned int) flags = 4 = 0x4,",
                "    (int) preempt_count = 1 = 0x1,",
                "    (mm_segment_t) addr_limit = 3204448256 = 0xBF000000,",
                "    (struct task_struct *) task = 0x81A3C000,",
                "    (__u32) cpu = 1 = 0x1,",
                "    (__u32) cpu_domain = 0 = 0x0,",
                "    (struct cpu_context_save) cpu_context = ("), lines.subList(0, 8));
        assertTrue(lines.contains("      (__u32) sp = 2160074160 = 0x80C01DB0,"), view);
        assertEquals(List.of(
                "  flags = 0x4: TIF_NOTIFY_RESUME",
                "  preempt_count = 0x1: preempt depth 1, softirq 0, hardirq 0, NMI 0: task context, atomic"),
                lines.subList(lines.size() - 2, lines.size()));
        assertEquals(view, kproc(viewArm32("struct", "thread_info", String.valueOf(STACK))).ok());
    }

    @Test
    void viewOfArm64TaskStructDecodesItsEmbeddedThreadInfo() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0, 1 << 1).putInt(16, 0x200);
        Path image = Files.write(dir.resolve("task.bin"), b.array());

        String view = kproc("view", "--profile", ARM64, "--image", image.toString(), "--base",
                "0xffff000008a40000", "task_struct", "0xFFFF000008A40000").ok();

        assertTrue(view.startsWith("  (struct task_struct *) (struct task_struct*)0xFFFF000008A40000 = "
                + "0xFFFF000008A40000 -> (\n    (struct thread_info) thread_info = (\n"), view);
        assertTrue(view.endsWith("""
                  thread_info.flags = 0x2: TIF_NEED_RESCHED
                  thread_info.preempt_count = 0x200: preempt depth 0, softirq 2 (not serving, bh disabled 1), \
                hardirq 0, NMI 0: task context, atomic
                """), view);
    }

    @Test
    void viewOfAUsersBuildThatNoBackendBindsHasNoDecoding() throws IOException {
        Path pahole = Files.writeString(dir.resolve("structs.pahole"), """
                struct thread_info {
                \tlong unsigned int          flags;                /*     0     8 */
                \tmm_segment_t               addr_limit;           /*     8     8 */
                \tint                        preempt_count;        /*    16     4 */

                \t/* size: 24, cachelines: 1, members: 3 */
                };
                """);
        Path config = Files.writeString(dir.resolve("config"), "CONFIG_ARM64=y\nCONFIG_64BIT=y\n");
        ByteBuffer b = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(8, -1L);
        Path image = Files.write(dir.resolve("ti.bin"), b.array());

        String view = kproc("view", "--pahole", pahole.toString(), "--config", config.toString(), "--image",
                image.toString(), "--base", "4096", "thread_info", "0x1000").ok();
        assertTrue(view.startsWith("""
                  (struct thread_info *) (struct thread_info*)0x1000 = 0x1000 -> (
                    (long unsigned int) flags = 0 = 0x0,
                    (mm_segment_t) addr_limit = 18446744073709551615 = 0xFFFFFFFFFFFFFFFF,
                    (int) preempt_count = 0 = 0x0)
                """ + "  (no flags or preempt_count decoding: no struct or union task_struct in profile "), view);
        assertEquals(5, view.lines().count(), "the view and one line saying why it is not decoded: " + view);
    }

    @Test
    void aMissingOrUnknownCommandIsAnError() {
        assertEquals("kproc: no command given; try 'kproc --help'", kproc().error());
        assertEquals("kproc: unknown command 'frobnicate'; try 'kproc --help'", kproc("frobnicate").error());
    }

    @Test
    void anUnknownProfileOrStructIsAnError() throws IOException {
        assertEquals("kproc: unknown profile 'linux-5.4-x86'; bundled: " + ARM32 + ", " + ARM64,
                kproc("layout", "--profile", "linux-5.4-x86", "task_struct").error());
        assertEquals("kproc: no struct or union no_such_struct in profile " + ARM32,
                kproc("layout", "--profile", ARM32, "no_such_struct").error());
        assertEquals("kproc: no struct or union mm_segment_t in profile " + ARM32,
                kproc(viewArm32("mm_segment_t", "0x80C00000")).error());
    }

    @Test
    void anAddressOutsideTheImageIsAnError() throws IOException {
        String image = dir.resolve("stack.bin").toString();

        assertEquals("kproc: address 0x80BFFFFC is outside the image: " + image + " holds 0x80C00000..0x80C01FFF",
                kproc(viewArm32("thread_info", "0x80BFFFFC")).error());
        assertEquals("kproc: address 0x80C02000 is outside the image: " + image + " holds 0x80C00000..0x80C01FFF",
                kproc(viewArm32("thread_info", "0x80C02000")).error());
    }

    @Test
    void aStructPastTheEndOfTheImageIsAnError() throws IOException {
        String image = dir.resolve("stack.bin").toString();

        assertEquals("kproc: truncated image: struct thread_info at 0x80C01F00 needs 528 bytes, but " + image
                + " holds 0x80C00000..0x80C01FFF", kproc(viewArm32("thread_info", "0x80C01F00")).error());
        Path empty = Files.write(dir.resolve("empty.bin"), new byte[0]);
        assertEquals("kproc: address 0x0 is outside the image: " + empty + " is empty",
                kproc("view", "--profile", ARM32, "--image", empty.toString(), "--base", "0", "thread_info", "0")
                        .error());
    }

    @Test
    void aBadNumberIsAnError() throws IOException {
        assertEquals("kproc: bad number for ADDR: '0x80C0000G' (expected decimal or 0x-hex, at most 64 bits)",
                kproc(viewArm32("thread_info", "0x80C0000G")).error());
        assertEquals("kproc: bad number for ADDR: '0x10000000000000000' (expected decimal or 0x-hex, at most 64 bits)",
                kproc(viewArm32("thread_info", "0x10000000000000000")).error());
        assertEquals("kproc: bad number for --base: 'base' (expected decimal or 0x-hex, at most 64 bits)",
                kproc("view", "--profile", ARM32, "--image", arm32Stack().toString(), "--base", "base",
                        "thread_info", "0").error());
    }

    @Test
    void aMissingOrUnknownOptionIsAnError() throws IOException {
        assertEquals("kproc: view: missing option --image",
                kproc("view", "--profile", ARM32, "--base", "0", "thread_info", "0").error());
        assertEquals("kproc: layout: missing option --profile (or --pahole and --config)",
                kproc("layout", "thread_info").error());
        assertEquals("kproc: layout: missing option --config",
                kproc("layout", "--pahole", "structs.pahole", "thread_info").error());
        assertEquals("kproc: layout: give either --profile or --pahole and --config, not both",
                kproc("layout", "--profile", ARM32, "--pahole", "x", "thread_info").error());
        assertEquals("kproc: layout: option --profile needs a value", kproc("layout", "thread_info", "--profile")
                .error());
        assertEquals("kproc: layout: option --profile given twice",
                kproc("layout", "--profile", ARM32, "--profile", ARM64, "thread_info").error());
        assertEquals("kproc: layout: unknown option --image",
                kproc("layout", "--profile", ARM32, "--image", "x", "thread_info").error());
        assertEquals("kproc: view: unknown option -v", kproc(viewArm32("-v", "thread_info", "0")).error());
        assertEquals("kproc: layout: missing STRUCT", kproc("layout", "--profile", ARM32).error());
        assertEquals("kproc: view: missing ADDR", kproc(viewArm32("thread_info")).error());
        assertEquals("kproc: profiles: unexpected argument 'all'", kproc("profiles", "all").error());
    }

    @Test
    void anUnreadableFileIsAnError() throws IOException {
        Path missing = dir.resolve("missing.bin");
        Path config = copyResource(Arm32Architecture.class, ARM32 + "/config", "config");

        assertEquals("kproc: cannot read " + missing + ": no such file", kproc("view", "--profile", ARM32,
                "--image", missing.toString(), "--base", "0", "thread_info", "0").error());
        assertEquals("kproc: cannot read " + missing + ": no such file", kproc("layout", "--pahole",
                missing.toString(), "--config", config.toString(), "thread_info").error());
        String directory = kproc("view", "--profile", ARM32, "--image", dir.toString(), "--base", "0",
                "thread_info", "0").error();
        assertEquals("kproc: cannot read " + dir + ": is a directory", directory);
    }

    @Test
    void aFifoADeviceOrACompressedImage() throws Exception {
        // a FIFO is refused before it is opened (opening one blocks until a writer comes)
        Path fifo = dir.resolve("image.fifo");
        if (new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0) {
            Result r = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(10),
                    () -> kproc("view", "--profile", ARM32, "--image", fifo.toString(), "--base", "0", "thread_info",
                            "0"));
            assertEquals("kproc: cannot read " + fifo + ": not a regular file (a FIFO, device or socket); decompress"
                    + " or copy the image to a file first", r.error());
        }
        assertEquals("kproc: cannot read /dev/zero: not a regular file (a FIFO, device or socket)",
                kproc("layout", "--pahole", "/dev/zero", "--config", "/dev/zero", "task_struct").error());
        // FILE.gz: decompressed (GZIPInputStream) to a temporary file, shown as the raw image is
        Path gz = dir.resolve("stack.bin.gz");
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gz))) {
            out.write(Files.readAllBytes(arm32Stack()));
        }
        assertEquals(kproc(viewArm32("thread_info", "0x80C00000")).ok(), kproc("view", "--profile", ARM32, "--image",
                gz.toString(), "--base", "0x80C00000", "thread_info", "0x80C00000").ok());
        // FILE.xz: XZ for Java
        Path xz = dir.resolve("stack.bin.xz");
        try (var out = new org.tukaani.xz.XZOutputStream(Files.newOutputStream(xz), new org.tukaani.xz.LZMA2Options())) {
            out.write(Files.readAllBytes(arm32Stack()));
        }
        assertEquals(kproc(viewArm32("thread_info", "0x80C00000")).ok(), kproc("view", "--profile", ARM32, "--image",
                xz.toString(), "--base", "0x80C00000", "thread_info", "0x80C00000").ok());
        Path notXz = Files.write(dir.resolve("bad.xz"), new byte[] {1, 2, 3});
        assertTrue(kproc("view", "--profile", ARM32, "--image", notXz.toString(), "--base", "0", "thread_info", "0")
                .error().startsWith("kproc: cannot read " + notXz + ": not a complete xz file"));
        Path notGzip = Files.write(dir.resolve("bad.gz"), new byte[] {1, 2, 3});
        assertTrue(kproc("view", "--profile", ARM32, "--image", notGzip.toString(), "--base", "0", "thread_info", "0")
                .error().startsWith("kproc: cannot read " + notGzip + ": not a complete gzip file"));
    }

    @Test
    void simulateOfMoreRamThanTheBuildMapsFailsBeforePrintingAnything() {
        // error() also asserts that stdout is empty: no ftrace header before the error
        assertEquals("kproc: simulate: 1048576 MiB exceed ARM32 lowmem (1792 MiB with PAGE_OFFSET 0x80000000)",
                kproc("simulate", "--profile", ARM32, "--memory", "1048576").error());
    }

    @Test
    void addressesAreCheckedAgainstTheBuildsWidthAndDoNotWrap() throws IOException {
        Path image = Files.write(dir.resolve("page.bin"), new byte[8192]);
        assertEquals("kproc: " + image + " of 8192 bytes at --base 0xFFFFFFFFFFFFF000 runs past the end of the address"
                + " space", kproc("view", "--profile", ARM64, "--image", image.toString(), "--base",
                "0xfffffffffffff000", "thread_info", "0x10").error());
        assertEquals("kproc: address 0x100000000 or --base 0x0 is past the 32-bit address space of " + ARM32,
                kproc("view", "--profile", ARM32, "--image", image.toString(), "--base", "0", "thread_info",
                        "0x100000000").error());
    }

    @Test
    void aMalformedProfileIsAnError() throws IOException {
        Path pahole = Files.writeString(dir.resolve("structs.pahole"), "struct thread_info {\n\tnonsense\n};\n");
        Path config = copyResource(Arm32Architecture.class, ARM32 + "/config", "config");
        Path goodPahole = copyResource(Arm32Architecture.class, ARM32 + "/structs.pahole", "good.pahole");
        Path badConfig = Files.writeString(dir.resolve("bad.config"), "CONFIG_SMP=y\nthis is no config\n");

        String error = kproc("layout", "--pahole", pahole.toString(), "--config", config.toString(), "thread_info")
                .error();
        assertTrue(error.startsWith("kproc: malformed profile: " + pahole + ":2: "), error);
        assertEquals("kproc: malformed profile: " + badConfig + ":2: expected CONFIG_NAME=value or a comment: "
                + "this is no config", kproc("layout", "--pahole", goodPahole.toString(), "--config",
                badConfig.toString(), "thread_info").error());
    }
}
