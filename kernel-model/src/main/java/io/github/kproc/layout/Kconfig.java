package io.github.kproc.layout;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
            } else if (NOT_SET.matcher(line).matches() || line.startsWith("#")) {
                continue;
            } else {
                throw new ProfileFormatException(source, i + 1, "expected CONFIG_NAME=value or a comment: " + line);
            }
        }
        return new Kconfig(values);
    }

    /** Makes a config from name/value pairs as they would appear after {@code =} (tests, custom profiles). */
    public static Kconfig of(Map<String, String> values) {
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
