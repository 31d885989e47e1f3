package io.github.kproc.tck;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One line of the {@code trace} file taken apart as {@code trace_print_context()} and
 * {@code trace_print_lat_fmt()} (kernel/trace/trace_output.c) put it together:
 * {@code "%16s-%-5d [%03d] "}, four irq-info characters, {@code " %5lu.%06lu: "}, the event name and
 * its TP_printk text.
 *
 * @param text the whole line
 * @param comm the task's comm (right-aligned in 16 columns)
 * @param pid the task's pid (left-aligned in 5 columns)
 * @param cpu the CPU
 * @param irqInfo the four irq-info characters: irqs-off, need-resched, hardirq/softirq, preempt-depth
 * @param micros the timestamp in microseconds
 * @param event the event name
 * @param body the event's text after {@code "event: "}
 */
public record FtraceLine(String text, String comm, int pid, int cpu, String irqInfo, long micros, String event,
        String body) {
    private static final Pattern LINE = Pattern.compile(
            "(.{16})-(\\d+) +\\[(\\d{3})] (.{4}) ( *\\d+)\\.(\\d{6}): ([a-z_]+): (.*)");

    /** Parses a line, failing the test if it is not in the kernel's format. */
    public static FtraceLine parse(String text) {
        Matcher m = LINE.matcher(text);
        if (!m.matches()) {
            throw new AssertionError("not an ftrace line in the 4.19 format: '" + text + "'");
        }
        String seconds = m.group(5);
        if (seconds.length() < 5) {
            throw new AssertionError("seconds narrower than %5lu in '" + text + "'");
        }
        return new FtraceLine(text, m.group(1).stripLeading(), Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), m.group(4),
                Long.parseLong(seconds.strip()) * 1_000_000 + Long.parseLong(m.group(6)), m.group(7), m.group(8));
    }

    /** The value of {@code key=} in the body (up to the next space). */
    public String field(String key) {
        int at = body.indexOf(key + "=");
        if (at < 0 || (at > 0 && body.charAt(at - 1) != ' ')) {
            throw new AssertionError("no " + key + "= in " + text);
        }
        int start = at + key.length() + 1;
        int end = body.indexOf(' ', start);
        return body.substring(start, end < 0 ? body.length() : end);
    }

    /** {@code field(key)} as an int. */
    public int intField(String key) {
        return Integer.parseInt(field(key));
    }

    @Override
    public String toString() {
        return text;
    }
}
