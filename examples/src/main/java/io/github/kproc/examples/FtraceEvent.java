package io.github.kproc.examples;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * One event line of the {@code trace} file taken apart as {@code trace_print_context()} and
 * {@code trace_print_lat_fmt()} (kernel/trace/trace_output.c) put it together: the current task's
 * comm right-aligned in 16 columns, {@code -pid}, {@code [cpu]}, four irq-info characters, the
 * timestamp {@code sec.usec}, the event name and its TP_printk text.
 *
 * @param comm the comm of the task that was current on the CPU
 * @param pid its pid
 * @param cpu the CPU that wrote the line
 * @param micros the timestamp in microseconds
 * @param event the event name, such as {@code sched_switch}
 * @param body the event's text after {@code "event: "}
 */
record FtraceEvent(String comm, int pid, int cpu, long micros, String event, String body) {
    private static final Pattern LINE = Pattern.compile(
            "(.{16})-(\\d+) +\\[(\\d{3,})] .{4} +(\\d+)\\.(\\d{6}): ([a-z_0-9]+): (.*)");

    /** Parses a line; null for anything that is not an event line (the header, a function-trace line). */
    static @Nullable FtraceEvent parse(String line) {
        Matcher m = LINE.matcher(line);
        if (!m.matches()) {
            return null;
        }
        return new FtraceEvent(m.group(1).stripLeading(), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                Long.parseLong(m.group(4)) * 1_000_000 + Long.parseLong(m.group(5)), m.group(6), m.group(7));
    }

    /**
     * The value of {@code key=} in the body: from after the {@code =} up to the next {@code " name="}
     * (so a comm with a space in it stays whole), or the end of the body; null if there is no such key.
     */
    @Nullable String field(String key) {
        int at = -1;
        for (int from = 0; ; from = at + 1) {
            at = body.indexOf(key + "=", from);
            if (at < 0) {
                return null;
            }
            if (at == 0 || body.charAt(at - 1) == ' ') {
                break;
            }
        }
        int start = at + key.length() + 1;
        int end = start;
        while (end < body.length()) {
            int space = body.indexOf(' ', end);
            if (space < 0) {
                end = body.length();
                break;
            }
            if (nextIsKey(space + 1)) {
                end = space;
                break;
            }
            end = space + 1;
        }
        return body.substring(start, end);
    }

    /** True if a {@code name=} (lower case, digits, underscores) or {@code ==>} starts at {@code i}. */
    private boolean nextIsKey(int i) {
        if (body.startsWith("==>", i)) {
            return true;
        }
        int j = i;
        while (j < body.length() && (Character.isLowerCase(body.charAt(j)) || Character.isDigit(body.charAt(j))
                || body.charAt(j) == '_')) {
            j++;
        }
        return j > i && j < body.length() && body.charAt(j) == '=';
    }

    /** {@link #field(String)} as an int, or {@code fallback} if the key is missing or not a number. */
    int intField(String key, int fallback) {
        String value = field(key);
        if (value == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.strip());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }
}
