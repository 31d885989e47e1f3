package io.github.kproc.examples;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.jspecify.annotations.Nullable;

/**
 * What ran on which CPU when, and what happened on the way, taken from the ftrace lines of a run: fed
 * one line at a time ({@link #accept}, a {@link io.github.kproc.kernel.TraceSink}), then
 * {@link #finish finished}. {@link TimelineSvg} draws it.
 *
 * <p>The things drawn sit at <em>points</em>: each {@code sched_switch} and each marked event gets its
 * own point, in trace order, with its timestamp (several points may share a microsecond).
 * {@code sched_switch} ends one bar of its CPU and starts the next; a CPU's first bar starts at the
 * trace's first line and runs the task its first line names (the context prefix is the current task);
 * each CPU's last bar runs to the trace's end. Forks ({@code sched_process_fork}, with the clone flags of
 * the {@code task_newtask} before it), wakeups ({@code sched_wakeup}, {@code sched_wakeup_new}) on the
 * target CPU, migrations ({@code sched_migrate_task}) onto the destination CPU and reschedule IPIs
 * ({@code ipi_raise}) to each CPU of the target mask are marks.
 */
final class Timeline {
    /** A task as the trace names it. */
    record Task(String comm, int pid) {
        String label() {
            return comm + "-" + pid;
        }
    }

    /**
     * A stretch of time in which {@code task} was current on {@code cpu}: from point {@code start}
     * ({@link #START} is the trace's first line) to point {@code end} ({@link #END} is its last).
     */
    record Bar(int cpu, Task task, int start, int end) {
    }

    /** The kinds of mark, in the order the legend lists them. */
    enum Kind {
        FORK, WAKEUP_NEW, WAKEUP, MIGRATE, IPI
    }

    /**
     * An event drawn at a point on the lane of {@code cpu}; {@code from} is the other CPU of a migration
     * or IPI (else -1); {@code text} says what happened, for the tooltip.
     */
    record Mark(Kind kind, int point, int cpu, int from, String text) {
    }

    /** {@link Bar#start} of a CPU's first bar. */
    static final int START = -1;
    /** {@link Bar#end} of a CPU's last bar. */
    static final int END = Integer.MAX_VALUE;

    private final int cpus;
    private long[] times = new long[256];
    private int points;
    private long first = -1;
    private long last;
    private int lines;
    private final @Nullable Task[] current;
    private final int[] since;
    private final List<Bar> bars = new ArrayList<>();
    private final List<Mark> marks = new ArrayList<>();
    private final Map<Integer, String> cloneFlags = new HashMap<>();
    private final Task[] atEnd;
    private boolean finished;

    Timeline(int cpus) {
        this.cpus = cpus;
        this.current = new Task[cpus];
        this.since = new int[cpus];
        this.atEnd = new Task[cpus];
    }

    /** Takes one line of the trace; lines that are not events, or name a CPU past the last, are skipped. */
    void accept(String line) {
        if (finished) {
            throw new IllegalStateException("timeline already finished");
        }
        FtraceEvent e = FtraceEvent.parse(line);
        if (e == null || e.cpu() >= cpus) {
            return;
        }
        lines++;
        if (first < 0) {
            first = e.micros();
        }
        last = Math.max(last, e.micros());
        int cpu = e.cpu();
        if (current[cpu] == null) {
            current[cpu] = new Task(e.comm(), e.pid());
            since[cpu] = START;
        }
        switch (e.event()) {
            case "sched_switch" -> {
                Task next = new Task(orEmpty(e.field("next_comm")), e.intField("next_pid", -1));
                int p = point(e.micros());
                bars.add(new Bar(cpu, task(cpu), since[cpu], p));
                current[cpu] = next;
                since[cpu] = p;
            }
            case "task_newtask" -> {
                String flags = e.field("clone_flags");
                if (flags != null) {
                    cloneFlags.put(e.intField("pid", -1), flags);
                }
            }
            case "sched_process_fork" -> {
                int child = e.intField("child_pid", -1);
                String flags = cloneFlags.remove(child);
                marks.add(new Mark(Kind.FORK, point(e.micros()), cpu, -1, "fork on CPU " + cpu + ": "
                        + e.field("comm") + "-" + e.field("pid") + " \u2192 " + e.field("child_comm") + "-" + child
                        + (flags == null ? "" : " (clone_flags=" + flags + ")")));
            }
            case "sched_wakeup", "sched_wakeup_new" -> {
                int target = e.intField("target_cpu", cpu);
                boolean isNew = e.event().equals("sched_wakeup_new");
                marks.add(new Mark(isNew ? Kind.WAKEUP_NEW : Kind.WAKEUP, point(e.micros()), lane(target), cpu,
                        e.event() + ": " + e.field("comm") + "-" + e.field("pid") + " onto CPU " + target
                                + " (from CPU " + cpu + ")"));
            }
            case "sched_migrate_task" -> {
                int from = e.intField("orig_cpu", cpu);
                int to = e.intField("dest_cpu", cpu);
                marks.add(new Mark(Kind.MIGRATE, point(e.micros()), lane(to), lane(from), "sched_migrate_task: "
                        + e.field("comm") + "-" + e.field("pid") + " CPU " + from + " \u2192 CPU " + to));
            }
            case "ipi_raise" -> {
                String mask = e.field("target_mask");
                int p = -1;
                for (int target : targets(mask == null ? "" : mask)) {
                    if (p < 0) {
                        p = point(e.micros());
                    }
                    marks.add(new Mark(Kind.IPI, p, target, cpu,
                            "ipi_raise: reschedule IPI CPU " + cpu + " \u2192 CPU " + target));
                }
            }
            default -> {
            }
        }
    }

    /**
     * Closes every CPU's last bar at the trace's end. A CPU that wrote no line kept one task all along;
     * {@code currentAtEnd} names it.
     */
    void finish(IntFunction<Task> currentAtEnd) {
        if (finished) {
            return;
        }
        finished = true;
        for (int cpu = 0; cpu < cpus; cpu++) {
            if (current[cpu] == null) {
                current[cpu] = currentAtEnd.apply(cpu);
                since[cpu] = START;
            }
            bars.add(new Bar(cpu, task(cpu), since[cpu], END));
            atEnd[cpu] = task(cpu);
        }
        bars.sort((a, b) -> a.cpu() != b.cpu() ? Integer.compare(a.cpu(), b.cpu()) : Integer.compare(a.start(), b.start()));
    }

    int cpus() {
        return cpus;
    }

    /** The number of event lines taken. */
    int lines() {
        return lines;
    }

    /** The timestamp of the first event line, in microseconds (0 if there was none). */
    long first() {
        return Math.max(first, 0);
    }

    /** The timestamp of the last event line, in microseconds. */
    long last() {
        return Math.max(last, first());
    }

    int points() {
        return points;
    }

    /** The timestamp of a point, in microseconds. */
    long time(int point) {
        return times[point];
    }

    /** The bars, by CPU then time. */
    List<Bar> bars() {
        checkFinished();
        return bars;
    }

    /** The marks in trace order. */
    List<Mark> marks() {
        return marks;
    }

    /** The current task of a CPU at the end of the trace. */
    Task currentAtEnd(int cpu) {
        checkFinished();
        return atEnd[cpu];
    }

    private void checkFinished() {
        if (!finished) {
            throw new IllegalStateException("timeline not finished");
        }
    }

    private Task task(int cpu) {
        Task t = current[cpu];
        if (t == null) {
            throw new IllegalStateException("no task on CPU " + cpu);
        }
        return t;
    }

    private int point(long micros) {
        if (points == times.length) {
            times = Arrays.copyOf(times, points * 2);
        }
        times[points] = micros;
        return points++;
    }

    private int lane(int cpu) {
        return Math.clamp(cpu, 0, cpus - 1);
    }

    /** The CPUs of a {@code %*pb} cpumask ({@code 0,00000002}: hex in 32-bit groups, highest first) below {@link #cpus}. */
    private List<Integer> targets(String mask) {
        String hex = mask.strip();
        int space = hex.indexOf(' ');
        if (space >= 0) {
            hex = hex.substring(0, space);
        }
        String[] groups = hex.split(",");
        List<Integer> out = new ArrayList<>();
        for (int g = 0; g < groups.length; g++) {
            long bits;
            try {
                bits = Long.parseLong(groups[g], 16);
            } catch (NumberFormatException e) {
                continue;
            }
            int base = (groups.length - 1 - g) * 32;
            for (int b = 0; b < 32; b++) {
                if ((bits & (1L << b)) != 0 && base + b < cpus) {
                    out.add(base + b);
                }
            }
        }
        out.sort(null);
        return out;
    }

    private static String orEmpty(@Nullable String s) {
        return s == null ? "" : s;
    }
}
