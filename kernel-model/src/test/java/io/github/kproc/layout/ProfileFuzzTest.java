package io.github.kproc.layout;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing of the profile readers ({@link PaholeParser}, {@link Kconfig}, {@link Profile}) with seeded
 * mutations of the bundled dumps: truncations, byte flips, duplicated and dropped lines, huge arrays
 * and offsets, types that contain themselves, deep nesting, and config values out of range. Every
 * input must end, within a time bound, in a profile that prints and reparses to itself or in a
 * {@link ProfileFormatException}; never another exception, a hang or an OutOfMemoryError.
 * {@code -DQT_SEED=n} explores another part of the space; {@code -Dkproc.fuzz.runs=n} runs longer.
 */
class ProfileFuzzTest {
    private static final long SEED = Long.getLong("QT_SEED", 0x6b70726f63L);
    private static final int RUNS = Integer.getInteger("kproc.fuzz.runs", 400);
    private static final Duration BOUND = Duration.ofSeconds(5);

    /** The dump cut into its types ("struct x {" .. "};"), to mutate small windows of real text. */
    private static List<String> blocks(String dump) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int end; (end = dump.indexOf("\n};\n", start)) >= 0; start = end + 4) {
            out.add(dump.substring(start, end + 4));
        }
        return out;
    }

    private static String window(List<String> blocks, SplittableRandom r) {
        int from = r.nextInt(blocks.size());
        int n = 1 + r.nextInt(12);
        return String.join("", blocks.subList(from, Math.min(blocks.size(), from + n)));
    }

    private static final String[] HUGE = {"4294967295", "2147483648", "9223372036854775807", "18446744073709551615",
        "99999999999999999999999", "-1", "0x7fffffff", "0"};

    /** One mutation of a pahole text. */
    static String mutatePahole(String text, SplittableRandom r) {
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
        int i = r.nextInt(lines.size());
        String line = lines.get(i);
        switch (r.nextInt(10)) {
            case 0 -> {
                return text.substring(0, r.nextInt(text.length() + 1));
            }
            case 1 -> {
                char[] chars = text.toCharArray();
                int flips = 1 + r.nextInt(4);
                for (int k = 0; k < flips && chars.length > 0; k++) {
                    String alphabet = "{};[]*/0123456789 \t\nxaz:(),-";
                    chars[r.nextInt(chars.length)] = alphabet.charAt(r.nextInt(alphabet.length()));
                }
                return new String(chars);
            }
            case 2 -> lines.add(i, line);
            case 3 -> lines.remove(i);
            case 4 -> lines.add(i, "\tint                        huge[" + HUGE[r.nextInt(HUGE.length)] + "]["
                    + HUGE[r.nextInt(HUGE.length)] + "]; /*     0     4 */");
            case 5 -> lines.set(i, line.replaceAll("\\d+", HUGE[r.nextInt(HUGE.length)]));
            case 6 -> {
                // a member whose type is the struct it is in, by value
                int j = i;
                while (j > 0 && !(lines.get(j).startsWith("struct ") && lines.get(j).endsWith("{"))) {
                    j--;
                }
                String head = lines.get(j);
                if (head.startsWith("struct ") && head.endsWith("{")) {
                    lines.add(j + 1, "\t" + head.substring(0, head.length() - 1).strip() + " loop; /*     0     8 */");
                }
            }
            case 7 -> {
                StringBuilder deep = new StringBuilder();
                int depth = 1 + r.nextInt(400);
                for (int d = 0; d < depth; d++) {
                    deep.append("\tstruct {\n");
                }
                deep.append("\tint x; /* 0 4 */\n");
                for (int d = 0; d < depth; d++) {
                    deep.append("\t};\n");
                }
                lines.add(i, deep.toString());
            }
            case 8 -> {
                int chain = 2 + r.nextInt(600);
                StringBuilder s = new StringBuilder();
                for (int c = 0; c < chain; c++) {
                    s.append("struct c").append(c).append(" {\n\tstruct c").append((c + 1) % (r.nextBoolean() ? chain
                            : chain + 1)).append(" next; /* 0 4 */\n\n\t/* size: 4, cachelines: 1, members: 1 */\n};\n");
                }
                lines.add(i, s.toString());
            }
            default -> {
                for (int k = 0, n = 1 + r.nextInt(5); k < n; k++) {
                    int j = r.nextInt(lines.size());
                    lines.add(r.nextInt(lines.size()), lines.get(j));
                }
            }
        }
        return String.join("\n", lines);
    }

    private static final String[] OPTIONS = {"CONFIG_HZ", "CONFIG_NR_CPUS", "CONFIG_ARM64_VA_BITS",
        "CONFIG_ARM64_PAGE_SHIFT", "CONFIG_PAGE_OFFSET", "CONFIG_SMP", "CONFIG_64BIT", "CONFIG_ILLEGAL_POINTER_VALUE"};
    private static final String[] VALUES = {"0", "1", "-1", "y", "n", "m", "\"x\"", "0x0", "0xffffffffffffffff",
        "0x10000000000000000", "99999999999999999999", "100", "8", "48", "0x80000000", "0xc0001000", "\"unterminated",
        ""};

    /** One mutation of a .config text. */
    static String mutateConfig(String text, SplittableRandom r) {
        List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
        int i = r.nextInt(lines.size());
        switch (r.nextInt(5)) {
            case 0 -> {
                return text.substring(0, r.nextInt(text.length() + 1));
            }
            case 1 -> lines.add(i, lines.get(i));
            case 2 -> {
                char[] chars = text.toCharArray();
                chars[r.nextInt(chars.length)] = "=#\"x0\n ".charAt(r.nextInt(7));
                return new String(chars);
            }
            default -> lines.add(i, OPTIONS[r.nextInt(OPTIONS.length)] + "=" + VALUES[r.nextInt(VALUES.length)]);
        }
        return String.join("\n", lines);
    }

    /** Parses, and when that succeeds prints and reparses: a typed error or a profile that round-trips. */
    private static boolean check(String pahole, String config, String what) {
        return assertTimeoutPreemptively(BOUND, () -> {
            Profile profile;
            try {
                profile = Profile.parse("fuzz", pahole, config);
            } catch (ProfileFormatException expected) {
                return false;
            }
            String printed = Pahole.print(profile);
            Profile again = Profile.parse("fuzz", printed, config);
            assertTrue(again.types().size() == profile.types().size(), what + ": reprint keeps every type");
            return true;
        }, () -> what);
    }

    @Test
    void mutatedPaholeDumpsEndInATypedErrorOrAProfile() {
        SplittableRandom r = new SplittableRandom(SEED);
        List<String> arm32 = blocks(BundledDump.ARM32.paholeText());
        List<String> arm64 = blocks(BundledDump.ARM64.schedText());
        String config = BundledDump.ARM32.configText();
        int parsed = 0;
        for (int run = 0; run < RUNS; run++) {
            String text = window(r.nextBoolean() ? arm32 : arm64, r);
            int mutations = 1 + r.nextInt(3);
            for (int m = 0; m < mutations; m++) {
                text = mutatePahole(text, r);
            }
            String input = text;
            try {
                parsed += check(input, config, "run " + run) ? 1 : 0;
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("run " + run + " (seed " + SEED + ") on:\n" + abbreviate(input), e);
            }
        }
        assertTrue(parsed > RUNS / 20 && parsed < RUNS - RUNS / 20, "both outcomes are explored: " + parsed
                + " of " + RUNS + " parsed");
    }

    @Test
    void mutatedConfigsEndInATypedErrorOrAProfile() {
        SplittableRandom r = new SplittableRandom(SEED + 1);
        String pahole = String.join("", blocks(BundledDump.ARM32.paholeText()).subList(0, 5));
        String config = BundledDump.ARM64.configText();
        int parsed = 0;
        for (int run = 0; run < RUNS; run++) {
            String text = config;
            for (int m = 0, n = 1 + r.nextInt(4); m < n; m++) {
                text = mutateConfig(text, r);
            }
            String input = text;
            try {
                parsed += check(pahole, input, "config run " + run) ? 1 : 0;
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("config run " + run + " (seed " + SEED + ")", e);
            }
        }
        assertTrue(parsed > RUNS / 20 && parsed < RUNS - RUNS / 20, "both outcomes are explored: " + parsed
                + " of " + RUNS + " parsed");
    }

    private static String abbreviate(String s) {
        return s.length() <= 4000 ? s : s.substring(0, 2000) + "\n...\n" + s.substring(s.length() - 2000);
    }
}
