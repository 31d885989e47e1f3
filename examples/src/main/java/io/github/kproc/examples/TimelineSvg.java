package io.github.kproc.examples;

import io.github.kproc.examples.Timeline.Bar;
import io.github.kproc.examples.Timeline.Kind;
import io.github.kproc.examples.Timeline.Mark;
import io.github.kproc.examples.Timeline.Task;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link Timeline} as one self-contained SVG document (no scripts, stylesheets or fonts from
 * elsewhere; generic font families only): a lane per CPU with a bar per stretch a task was current,
 * coloured by pid and labelled where it fits (every bar has a {@code <title>} tooltip); marks for
 * forks, wakeups, migrations and IPIs; the current task of each CPU at the end; a time axis; a legend
 * of the marks and one of the tasks.
 *
 * <p>The x axis is the trace's timestamps, linear, with {@link #SPACE} pixels added at every point so
 * that events of one microsecond stay apart and every bar is at least that wide; so the picture grows
 * with the number of events. The output depends on nothing but the timeline and the title: the same
 * run gives the same bytes.
 *
 * <p>Elements carry {@code class} attributes ({@code lane}, {@code bar}, {@code mark fork},
 * {@code mark wakeup-new}, {@code mark wakeup}, {@code mark migrate}, {@code mark ipi},
 * {@code current}) and {@code data-cpu} so that tools and tests can find them.
 */
final class TimelineSvg {
    /** Pixels added at every point. */
    static final double SPACE = 4;
    private static final double TAIL = 28;
    private static final int LEFT = 70;
    private static final int RIGHT = 190;
    private static final int TOP = 76;
    private static final int LANE = 68;
    private static final int BAR_TOP = 38;
    private static final int BAR_HEIGHT = 22;
    private static final double CHAR = 6.7;
    private static final String FORK = "#2e7d32";
    private static final String WAKE = "#1565c0";
    private static final String MIGRATE = "#e65100";
    private static final String IPI = "#c62828";
    private static final String IDLE = "#d9d9d9";

    private final Timeline t;
    private final double[] xs;
    private final double scale;
    private final double end;
    private final StringBuilder s = new StringBuilder(1 << 16);

    private TimelineSvg(Timeline timeline) {
        this.t = timeline;
        int n = t.points();
        double linear = Math.max(420, 1100 - SPACE * n);
        long span = t.last() - t.first();
        this.scale = span == 0 ? 0 : linear / span;
        this.xs = new double[n];
        double x = 0;
        long at = t.first();
        for (int i = 0; i < n; i++) {
            x += (t.time(i) - at) * scale + SPACE;
            at = t.time(i);
            xs[i] = x;
        }
        this.end = x + (t.last() - at) * scale + TAIL;
    }

    /** The document for a finished timeline, with {@code title} (the command line) as its heading. */
    static String render(Timeline timeline, String title) {
        return new TimelineSvg(timeline).document(title);
    }

    private String document(String title) {
        int cpus = t.cpus();
        Map<Integer, Set<String>> tasks = new TreeMap<>();
        for (Bar b : t.bars()) {
            tasks.computeIfAbsent(b.task().pid(), k -> new LinkedHashSet<>()).add(b.task().comm());
        }
        double width = Math.max(LEFT + end + RIGHT, 980);
        int lanesBottom = TOP + cpus * LANE;
        int axis = lanesBottom + 6;
        int columns = Math.max(1, (int) ((width - LEFT) / 180));

        text(LEFT, 24, "start", "font-size=\"15\" font-weight=\"bold\"", title);
        text(LEFT, 44, "start", "fill=\"#444\"", t.lines() + " events, " + t.bars().size() + " bars, "
                + t.marks().size() + " marks; " + stamp(t.first()) + " .. " + stamp(t.last()) + " s");
        text(LEFT, 60, "start", "fill=\"#666\"", "x: the trace timestamps (linear, plus " + num(SPACE)
                + " px at every switch and mark so that events of one microsecond stay apart); hover for details");
        text(LEFT + end + 10, TOP - 6, "start", "font-weight=\"bold\"", "current at end");
        ticks(axis, lanesBottom);
        for (int cpu = 0; cpu < cpus; cpu++) {
            lane(cpu);
        }
        s.append("<g class=\"marks\">\n");
        for (Mark m : t.marks()) {
            mark(m);
        }
        s.append("</g>\n");
        int legendBottom = legend(axis + 62, width);
        int tasksTop = legendBottom + 40;
        int rows = (tasks.size() + columns - 1) / columns;
        taskLegend(tasks, tasksTop, columns);
        s.append("</svg>\n");
        double height = tasksTop + rows * 18 + 10;

        String body = s.toString();
        s.setLength(0);
        s.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        s.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(num(width)).append("\" height=\"")
                .append(num(height)).append("\" viewBox=\"0 0 ").append(num(width)).append(' ').append(num(height))
                .append("\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"11\">\n");
        s.append("<title>").append(esc(title)).append("</title>\n");
        s.append("<defs><marker id=\"arrow\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" markerWidth=\"7\"")
                .append(" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" fill=\"").append(IPI)
                .append("\"/></marker></defs>\n");
        s.append("<rect x=\"0\" y=\"0\" width=\"").append(num(width)).append("\" height=\"").append(num(height))
                .append("\" fill=\"#ffffff\"/>\n");
        return s.append(body).toString();
    }

    private double x(int point) {
        if (point == Timeline.START) {
            return LEFT;
        }
        if (point == Timeline.END) {
            return LEFT + end;
        }
        return LEFT + xs[point];
    }

    /** Where time {@code micros} is on the axis: at the first point of that microsecond, else between points. */
    private double xAt(long micros) {
        int lo = 0;
        int hi = xs.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (t.time(mid) < micros) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (lo < xs.length && t.time(lo) == micros) {
            return LEFT + xs[lo];
        }
        if (lo == 0) {
            return LEFT + (micros - t.first()) * scale;
        }
        return LEFT + xs[lo - 1] + (micros - t.time(lo - 1)) * scale;
    }

    private static int laneTop(int cpu) {
        return TOP + cpu * LANE;
    }

    private void ticks(int axis, int lanesBottom) {
        long span = t.last() - t.first();
        long step = 1;
        while (span / step > 60) {
            long next = step * 2;
            if (span / next > 60) {
                next = step * 5;
                if (span / next > 60) {
                    next = step * 10;
                }
            }
            step = next;
        }
        s.append("<g class=\"axis\" fill=\"#333\">\n");
        line(LEFT, axis, LEFT + end, axis, "stroke=\"#333\"");
        double lastLabel = Double.NEGATIVE_INFINITY;
        for (long at = (t.first() + step - 1) / step * step; at <= t.last(); at += step) {
            double x = xAt(at);
            if (x - lastLabel < 86) {
                line(x, axis, x, axis + 3, "stroke=\"#333\"");
                continue;
            }
            lastLabel = x;
            line(x, TOP - 2, x, lanesBottom, "stroke=\"#e4e4e4\"");
            line(x, axis, x, axis + 6, "stroke=\"#333\"");
            text(x, axis + 18, "middle", "", stamp(at));
        }
        text(LEFT + end / 2, axis + 36, "middle", "fill=\"#444\"", "simulated time (s)");
        s.append("</g>\n");
    }

    private void lane(int cpu) {
        int top = laneTop(cpu);
        s.append("<g class=\"lane\" data-cpu=\"").append(cpu).append("\">\n");
        s.append("<rect x=\"").append(LEFT).append("\" y=\"").append(top + 2).append("\" width=\"").append(num(end))
                .append("\" height=\"").append(LANE - 4).append("\" fill=\"").append(cpu % 2 == 0 ? "#f7f7f7" : "#fcfcfc")
                .append("\" stroke=\"#e0e0e0\"/>\n");
        text(LEFT - 10, top + BAR_TOP + 15, "end", "font-size=\"13\" font-weight=\"bold\"", "CPU " + cpu);
        for (Bar b : t.bars()) {
            if (b.cpu() == cpu) {
                bar(b);
            }
        }
        Task now = t.currentAtEnd(cpu);
        s.append("<g class=\"current\" data-cpu=\"").append(cpu).append("\">");
        s.append("<title>").append(esc("CPU " + cpu + " at the end of the trace: " + now.label())).append("</title>");
        double x = LEFT + end + 10;
        int y = top + BAR_TOP;
        s.append("<path d=\"M").append(num(x)).append(',').append(y + 3).append(" L").append(num(x + 8)).append(',')
                .append(y + BAR_HEIGHT / 2).append(" L").append(num(x)).append(',').append(y + BAR_HEIGHT - 3)
                .append(" z\" fill=\"").append(colour(now.pid())).append("\" stroke=\"#333\"/>");
        text(x + 13, y + 15, "start", "font-weight=\"bold\"", now.label());
        s.append("</g>\n</g>\n");
    }

    private void bar(Bar b) {
        double x0 = x(b.start());
        double x1 = x(b.end());
        int y = laneTop(b.cpu()) + BAR_TOP;
        Task task = b.task();
        long from = b.start() == Timeline.START ? t.first() : t.time(b.start());
        long to = b.end() == Timeline.END ? t.last() : t.time(b.end());
        s.append("<rect class=\"bar\" data-cpu=\"").append(b.cpu()).append("\" data-pid=\"").append(task.pid())
                .append("\" x=\"").append(num(x0)).append("\" y=\"").append(y).append("\" width=\"")
                .append(num(x1 - x0)).append("\" height=\"").append(BAR_HEIGHT).append("\" fill=\"")
                .append(colour(task.pid())).append("\" stroke=\"#ffffff\" stroke-width=\"0.5\"><title>")
                .append(esc(task.label() + " on CPU " + b.cpu() + ": " + stamp(from) + " .. " + stamp(to) + " ("
                        + (to - from) + " \u00b5s)"
                        + (b.end() == Timeline.END ? ", still current at the end" : ", then sched_switch")))
                .append("</title></rect>\n");
        String label = task.label();
        if (x1 - x0 < label.length() * CHAR + 6) {
            label = String.valueOf(task.pid());
        }
        if (x1 - x0 >= label.length() * CHAR + 6) {
            text((x0 + x1) / 2, y + 15, "middle", task.pid() == 0 ? "fill=\"#555\"" : "fill=\"#111\"", label);
        }
    }

    private void mark(Mark m) {
        double x = x(m.point());
        int top = laneTop(m.cpu());
        String kind = switch (m.kind()) {
            case FORK -> "fork";
            case WAKEUP_NEW -> "wakeup-new";
            case WAKEUP -> "wakeup";
            case MIGRATE -> "migrate";
            case IPI -> "ipi";
        };
        s.append("<g class=\"mark ").append(kind).append("\" data-cpu=\"").append(m.cpu()).append("\"><title>")
                .append(esc(stamp(t.time(m.point())) + " " + m.text())).append("</title>");
        switch (m.kind()) {
            case FORK -> symbol(Kind.FORK, x, top + 10);
            case WAKEUP_NEW, WAKEUP -> symbol(m.kind(), x, top + 20);
            case MIGRATE -> {
                if (m.from() != m.cpu()) {
                    line(x, laneTop(m.from()) + 30, x, top + 30,
                            "stroke=\"" + MIGRATE + "\" stroke-width=\"1.2\" stroke-dasharray=\"3,2\"");
                }
                symbol(Kind.MIGRATE, x, top + 30);
            }
            case IPI -> {
                int fromTop = laneTop(m.from());
                double y0 = fromTop + BAR_TOP + BAR_HEIGHT / 2.0;
                double y1 = m.from() < m.cpu() ? top + BAR_TOP - 1 : top + BAR_TOP + BAR_HEIGHT + 1;
                s.append("<circle cx=\"").append(num(x)).append("\" cy=\"").append(num(y0))
                        .append("\" r=\"2\" fill=\"").append(IPI).append("\"/>");
                line(x, y0, x, y1, "stroke=\"" + IPI + "\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\"");
            }
        }
        s.append("</g>\n");
    }

    /** The mark's symbol centred on (x, y). */
    private void symbol(Kind kind, double x, double y) {
        switch (kind) {
            case FORK -> s.append("<path d=\"M").append(num(x - 4.5)).append(',').append(num(y + 4)).append(" L")
                    .append(num(x + 4.5)).append(',').append(num(y + 4)).append(" L").append(num(x)).append(',')
                    .append(num(y - 4.5)).append(" z\" fill=\"").append(FORK).append("\"/>");
            case WAKEUP_NEW -> s.append("<circle cx=\"").append(num(x)).append("\" cy=\"").append(num(y))
                    .append("\" r=\"3.8\" fill=\"").append(WAKE).append("\"/>");
            case WAKEUP -> s.append("<circle cx=\"").append(num(x)).append("\" cy=\"").append(num(y))
                    .append("\" r=\"3.3\" fill=\"#ffffff\" stroke=\"").append(WAKE).append("\" stroke-width=\"1.5\"/>");
            case MIGRATE -> s.append("<path d=\"M").append(num(x)).append(',').append(num(y - 5)).append(" L")
                    .append(num(x + 4.5)).append(',').append(num(y)).append(" L").append(num(x)).append(',')
                    .append(num(y + 5)).append(" L").append(num(x - 4.5)).append(',').append(num(y))
                    .append(" z\" fill=\"").append(MIGRATE).append("\"/>");
            case IPI -> {
                s.append("<circle cx=\"").append(num(x - 9)).append("\" cy=\"").append(num(y))
                        .append("\" r=\"2\" fill=\"").append(IPI).append("\"/>");
                line(x - 9, y, x + 5, y, "stroke=\"" + IPI + "\" stroke-width=\"1.3\" marker-end=\"url(#arrow)\"");
            }
        }
    }

    /** The legend of the marks from baseline {@code y}, wrapped to {@code width}; returns its last baseline. */
    private int legend(int y, double width) {
        s.append("<g class=\"legend\">\n");
        double x = LEFT;
        String[][] entries = {
            {"FORK", "fork (sched_process_fork), on the parent's CPU"},
            {"WAKEUP_NEW", "sched_wakeup_new"},
            {"WAKEUP", "sched_wakeup"},
            {"MIGRATE", "sched_migrate_task (dashed from the old CPU)"},
            {"IPI", "ipi_raise: reschedule IPI, arrow from sender to target"},
        };
        for (String[] e : entries) {
            double w = 22 + e[1].length() * CHAR + 24;
            if (x + w > width - 10 && x > LEFT) {
                x = LEFT;
                y += 20;
            }
            double at = e[0].equals("IPI") ? x + 10 : x + 6;
            symbol(Kind.valueOf(e[0]), at, y - 4);
            text(at + 12, y, "start", "", e[1]);
            x = at + 12 + e[1].length() * CHAR + 24;
        }
        s.append("</g>\n");
        return y;
    }

    private void taskLegend(Map<Integer, Set<String>> tasks, int top, int columns) {
        s.append("<g class=\"tasks\">\n");
        text(LEFT, top - 14, "start", "font-weight=\"bold\"", "tasks (pid comm; colour by pid, pid 0 = idle)");
        int i = 0;
        for (Map.Entry<Integer, Set<String>> e : tasks.entrySet()) {
            double x = LEFT + (i % columns) * 180;
            int y = top + (i / columns) * 18;
            s.append("<rect x=\"").append(num(x)).append("\" y=\"").append(y - 10).append("\" width=\"12\" height=\"12\" fill=\"")
                    .append(colour(e.getKey())).append("\" stroke=\"#888\" stroke-width=\"0.5\"/>");
            String label = e.getKey() + " " + String.join("/", e.getValue());
            if (label.length() > 24) {
                label = label.substring(0, 23) + "\u2026";
            }
            text(x + 17, y, "start", "", label);
            s.append('\n');
            i++;
        }
        s.append("</g>\n");
    }

    private void line(double x0, double y0, double x1, double y1, String attributes) {
        s.append("<line x1=\"").append(num(x0)).append("\" y1=\"").append(num(y0)).append("\" x2=\"").append(num(x1))
                .append("\" y2=\"").append(num(y1)).append("\" ").append(attributes).append("/>");
    }

    private void text(double x, double y, String anchor, String attributes, String text) {
        s.append("<text x=\"").append(num(x)).append("\" y=\"").append(num(y)).append('"');
        if (!anchor.equals("start")) {
            s.append(" text-anchor=\"").append(anchor).append('"');
        }
        if (!attributes.isEmpty()) {
            s.append(' ').append(attributes);
        }
        s.append('>').append(esc(text)).append("</text>");
    }

    /**
     * The colour of a pid: grey for the idle tasks (pid 0), else a hue stepped by the golden angle, at one
     * of two lightnesses, so that neighbouring pids differ.
     */
    static String colour(int pid) {
        if (pid == 0) {
            return IDLE;
        }
        double hue = (pid * 137.508) % 360;
        double light = (pid / 3) % 2 == 0 ? 0.70 : 0.80;
        return hsl(hue, 0.62, light);
    }

    private static String hsl(double h, double sat, double l) {
        double c = (1 - Math.abs(2 * l - 1)) * sat;
        double hp = h / 60;
        double x = c * (1 - Math.abs(hp % 2 - 1));
        double r = 0;
        double g = 0;
        double b = 0;
        switch ((int) hp) {
            case 0 -> { r = c; g = x; }
            case 1 -> { r = x; g = c; }
            case 2 -> { g = c; b = x; }
            case 3 -> { g = x; b = c; }
            case 4 -> { r = x; b = c; }
            default -> { r = c; b = x; }
        }
        double m = l - c / 2;
        return String.format(Locale.ROOT, "#%02x%02x%02x", Math.round((r + m) * 255), Math.round((g + m) * 255),
                Math.round((b + m) * 255));
    }

    /** A timestamp as ftrace prints it: seconds, a dot, six digits of microseconds. */
    static String stamp(long micros) {
        return String.format(Locale.ROOT, "%d.%06d", micros / 1_000_000, micros % 1_000_000);
    }

    /** A coordinate with at most one decimal. */
    private static String num(double v) {
        long tenths = Math.round(v * 10);
        return tenths % 10 == 0 ? Long.toString(tenths / 10)
                : (tenths < 0 ? "-" : "") + Math.abs(tenths) / 10 + "." + Math.abs(tenths) % 10;
    }

    /** Text escaped for XML content and attribute values. */
    static String esc(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                default -> {
                    if (c < 0x20 && c != '\t' && c != '\n') {
                        out.append("\\x").append(String.format(Locale.ROOT, "%02x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
