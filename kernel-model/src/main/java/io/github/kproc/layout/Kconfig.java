package io.github.kproc.layout;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The options of a kernel {@code .config}: bool and tristate ({@code y}, {@code m}, or not set),
 * int, hex and string values.
 */
public final class Kconfig {
    private static final Pattern SET = Pattern.compile("(CONFIG_[A-Za-z0-9_]+)=(.*)");
    private static final Pattern NOT_SET = Pattern.compile("# (CONFIG_[A-Za-z0-9_]+) is not set");
    private static final Pattern VALUE = Pattern.compile("y|m|n|-?[0-9]+|0[xX][0-9a-fA-F]+|\"(?:[^\"\\\\]|\\\\.)*\"");

    private final Map<String, String> values;

    private Kconfig(Map<String, String> values) {
        this.values = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Parses {@code .config} text; {@code source} names it in errors. */
    public static Kconfig parse(String source, String text) throws ProfileFormatException {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, Integer> lineOf = new java.util.HashMap<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            Matcher set = SET.matcher(line);
            if (set.matches()) {
                String value = set.group(2);
                if (!VALUE.matcher(value).matches()) {
                    throw new ProfileFormatException(source, i + 1, "not a Kconfig value: " + value);
                }
                values.put(set.group(1), value);
                lineOf.put(set.group(1), i + 1);
            } else if (NOT_SET.matcher(line).matches() || line.startsWith("#")) {
                continue;
            } else {
                throw new ProfileFormatException(source, i + 1, "expected CONFIG_NAME=value or a comment: " + line);
            }
        }
        for (String name : values.keySet()) {
            String problem = check(name, values);
            if (problem != null) {
                throw new ProfileFormatException(source, lineOf.get(name), problem);
            }
        }
        return new Kconfig(values);
    }

    /**
     * The numeric options the model's memory map, scheduler and per-CPU areas are computed from, with
     * the values it accepts: {min, max, multiple of}. A value outside would reach the model as a
     * division by zero, a misaligned allocator or an empty CPU mask.
     */
    private static final Map<String, long[]> RANGES = Map.of(
            "CONFIG_HZ", new long[] {1, 100_000, 1},
            "CONFIG_NR_CPUS", new long[] {1, 8192, 1},
            "CONFIG_ARM64_VA_BITS", new long[] {36, 52, 1},
            "CONFIG_ARM64_PAGE_SHIFT", new long[] {12, 16, 2},
            // the 32-bit split: RAM starts there, on a boundary of the page allocator's largest block
            "CONFIG_PAGE_OFFSET", new long[] {0x40_0000L, 0xffc0_0000L, 0x40_0000L});

    /** What is wrong with option {@code name}'s value, or null. */
    private static @Nullable String check(String name, Map<String, String> values) {
        long[] range = RANGES.get(name);
        if (range == null || (name.equals("CONFIG_PAGE_OFFSET") && "y".equals(values.get("CONFIG_64BIT")))) {
            return null;
        }
        String v = values.get(name);
        long value;
        try {
            value = v.startsWith("0x") || v.startsWith("0X") ? Long.parseUnsignedLong(v.substring(2), 16)
                    : Long.parseLong(v);
        } catch (NumberFormatException e) {
            value = Long.MIN_VALUE;
        }
        boolean hex = name.equals("CONFIG_PAGE_OFFSET");
        if (value < range[0] || value > range[1] || value % range[2] != 0) {
            return String.format(hex ? "%s=%s is out of range: the model needs 0x%x..0x%x%s"
                    : "%s=%s is out of range: the model needs %d..%d%s", name, v, range[0], range[1],
                    range[2] == 1 ? "" : String.format(hex ? ", a multiple of 0x%x" : ", a multiple of %d", range[2]));
        }
        return null;
    }

    /**
     * Makes a config from name/value pairs as they would appear after {@code =} (tests, custom profiles).
     *
     * @throws IllegalArgumentException if a numeric option the model depends on is out of its range
     */
    public static Kconfig of(Map<String, String> values) {
        for (String name : values.keySet()) {
            String problem = check(name, values);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
            }
        }
        return new Kconfig(values);
    }

    /** The raw text after {@code =}, if the option is set. */
    public Optional<String> raw(String name) {
        return Optional.ofNullable(values.get(name));
    }

    /** True if a bool or tristate option is {@code y} or {@code m}. */
    public boolean enabled(String name) {
        String v = values.get(name);
        return "y".equals(v) || "m".equals(v);
    }

    /** True if the option is {@code y} (built in). */
    public boolean builtIn(String name) {
        return "y".equals(values.get(name));
    }

    /** An int or hex option's value, or {@code fallback} if it is not set. */
    public long number(String name, long fallback) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            if (v.startsWith("0x") || v.startsWith("0X")) {
                return Long.parseUnsignedLong(v.substring(2), 16);
            }
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " is not a 64-bit number: " + v, e);
        }
    }

    /** A string option's value without quotes, if set. */
    public Optional<String> string(String name) {
        String v = values.get(name);
        if (v == null || !v.startsWith("\"")) {
            return Optional.empty();
        }
        return Optional.of(v.substring(1, v.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\"));
    }

    /** Every option that is set, by name, in file order. */
    public Map<String, String> asMap() {
        return values;
    }
}
