package io.github.kproc.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzing of the {@code kproc} command line, run in-process through {@link Kproc#run}: absurd
 * {@code simulate} options, random images, bases, addresses and struct names for {@code view}, and
 * random files for {@code layout}. Every run must end within a time bound with status 0, or status 2
 * with nothing on stdout and exactly one {@code kproc: } line on stderr: never an exception out of {@code run}, a stack
 * trace, a hang or an OutOfMemoryError. Seeded ({@code -DQT_SEED=n}).
 */
class CliFuzzTest {
    private static final long SEED = Long.getLong("QT_SEED", 0x6b70726f63L);
    private static final int RUNS = Integer.getInteger("kproc.fuzz.runs", 120);
    private static final String ARM32 = "linux-4.19-arm32-vexpress";
    private static final String ARM64 = "linux-4.19-arm64-defconfig";

    @TempDir
    Path dir;

    private record Run(int status, String out, String err) {
    }

    private static Run kproc(List<String> args) {
        return assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int status = Kproc.run(args.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }, () -> "kproc " + String.join(" ", args));
    }

    /** Status 0, or 2 with one "kproc: " line; no stack trace either way. Returns true for an error. */
    private static boolean check(List<String> args) {
        Run r = kproc(args);
        String what = "kproc " + String.join(" ", args) + "\nstderr: " + r.err;
        assertFalse(r.err.contains("\tat ") || r.err.contains("Exception in"), what);
        if (r.status == 0) {
            return false; // simulate writes its summary to stderr
        }
        assertEquals(2, r.status, what);
        if (!r.err.startsWith("kproc: simulate: no live task with pid")) {
            // (--show-task names a task at the end of a run whose trace has been written already)
            assertEquals("", r.out, what + ": nothing on stdout before the error");
        }
        assertTrue(r.err.startsWith("kproc: ") && r.err.indexOf('\n') == r.err.length() - 1, what);
        return true;
    }

    private static final String[] NUMBERS = {"-1", "0", "1", "2", "3", "4", "8", "9", "15", "16", "17", "64", "1000001",
        "1048576", "1048577", "2147483648", "9223372036854775807", "18446744073709551615", "18446744073709551616",
        "0x10", "0x", "x", "", " 4", "1e3", "-0", "0xffffffffffffffff"};

    private static String number(SplittableRandom r) {
        return r.nextInt(3) == 0 ? Integer.toString(r.nextInt(-3, 40)) : NUMBERS[r.nextInt(NUMBERS.length)];
    }

    @Test
    void absurdSimulateOptions() {
        SplittableRandom r = new SplittableRandom(SEED);
        int errors = 0;
        for (int run = 0; run < RUNS; run++) {
            List<String> args = new ArrayList<>(List.of("simulate"));
            String[] profiles = {ARM32, ARM64, "linux-9.9-nope", ""};
            if (r.nextInt(10) > 0) {
                args.addAll(List.of("--profile", profiles[r.nextInt(r.nextInt(10) == 0 ? 4 : 2)]));
            }
            if (r.nextBoolean()) {
                args.addAll(List.of("--cpus", number(r)));
            }
            // forks stay small when valid, so that every run is quick
            args.addAll(List.of("--forks", r.nextInt(4) == 0 ? number(r) : Integer.toString(r.nextInt(0, 30))));
            if (r.nextBoolean()) {
                args.addAll(List.of("--memory", number(r)));
            }
            if (r.nextBoolean()) {
                args.addAll(List.of("--seed", r.nextBoolean() ? number(r) : Long.toString(r.nextLong())));
            }
            if (r.nextInt(4) == 0) {
                args.addAll(List.of("--show-task", number(r)));
            }
            if (r.nextInt(8) == 0) {
                args.add(List.of("--nope", "extra", "--cpus", "--svg").get(r.nextInt(4)));
            }
            if (args.stream().filter("--forks"::equals).count() == 1 && isBig(args)) {
                continue;
            }
            errors += check(args) ? 1 : 0;
        }
        assertTrue(errors > 0 && errors < RUNS, "both outcomes: " + errors + " errors");
    }

    /** A valid --forks of more than a few hundred would be a long (correct) run, not a fuzz case. */
    private static boolean isBig(List<String> args) {
        String forks = args.get(args.indexOf("--forks") + 1);
        try {
            long n = Long.parseLong(forks);
            return n > 1000 && n <= 1_000_000;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    @Test
    void randomImagesBasesAndAddressesForView() throws IOException {
        SplittableRandom r = new SplittableRandom(SEED + 1);
        String[] types = {"thread_info", "struct thread_info", "task_struct", "cpu_context_save", "union fp_state",
            "no_such", "", "struct", "pt_regs"};
        long[] bases = {0, 0x80C00000L, 0xffff000008a40000L, -4096L, -1L, 0xfffff000L, 0x100000000L, Long.MAX_VALUE};
        int errors = 0;
        for (int run = 0; run < RUNS; run++) {
            byte[] bytes = new byte[r.nextInt(4) == 0 ? 0 : r.nextInt(1, 12_000)];
            r.nextBytes(bytes);
            String suffix = List.of(".bin", ".bin", ".bin", ".bin", ".gz", ".xz").get(r.nextInt(6));
            Path image = Files.write(dir.resolve("image" + run + suffix), bytes);
            long base = r.nextBoolean() ? bases[r.nextInt(bases.length)] : r.nextLong();
            long address = switch (r.nextInt(4)) {
                case 0 -> base;
                case 1 -> base + r.nextInt(-64, Math.max(1, bytes.length) + 64);
                case 2 -> bases[r.nextInt(bases.length)];
                default -> r.nextLong();
            };
            String profile = r.nextBoolean() ? ARM32 : ARM64;
            List<String> args = new ArrayList<>(List.of("view", "--profile", profile, "--image",
                    r.nextInt(20) == 0 ? dir.toString() : image.toString(), "--base",
                    r.nextBoolean() ? "0x" + Long.toHexString(base) : Long.toUnsignedString(base)));
            args.addAll(List.of(types[r.nextInt(types.length)], r.nextInt(10) == 0 ? number(r)
                    : "0x" + Long.toHexString(address)));
            errors += check(args) ? 1 : 0;
            Files.delete(image);
        }
        assertTrue(errors > 0 && errors < RUNS, "both outcomes: " + errors + " errors");
    }

    @Test
    void randomFilesForLayout() throws IOException {
        SplittableRandom r = new SplittableRandom(SEED + 2);
        for (int run = 0; run < RUNS / 4; run++) {
            byte[] bytes = new byte[r.nextInt(0, 5000)];
            r.nextBytes(bytes);
            Path pahole = Files.write(dir.resolve("p" + run), bytes);
            Path config = Files.writeString(dir.resolve("c" + run), r.nextBoolean() ? "CONFIG_HZ=" + number(r) + "\n"
                    : new String(bytes, StandardCharsets.ISO_8859_1));
            check(List.of("layout", "--pahole", r.nextInt(10) == 0 ? "/dev/null" : pahole.toString(), "--config",
                    config.toString(), "task_struct"));
        }
    }
}
