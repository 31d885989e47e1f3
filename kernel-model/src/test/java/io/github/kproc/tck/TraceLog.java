package io.github.kproc.tck;

import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.TraceSink;
import io.github.kproc.kernel.Tracer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A trace sink that keeps every line, parsed, together with what the kernel looked like when the line
 * was written: the CPU's {@code current} as its registers say and its {@code preempt_count}.
 */
final class TraceLog implements TraceSink {
    /** A line and the state of its CPU at emission. */
    record Entry(FtraceLine line, long current, int preemptCount) {
    }

    private final Kernel kernel;
    private final List<Entry> entries = new ArrayList<>();
    private final List<Consumer<Entry>> watchers = new ArrayList<>();

    private TraceLog(Kernel kernel) {
        this.kernel = kernel;
    }

    /** Traces every event of {@code kernel} from now on into a new log. */
    static TraceLog attach(Kernel kernel) {
        TraceLog log = new TraceLog(kernel);
        kernel.tracer(Tracer.events(log));
        return log;
    }

    @Override
    public void line(String text) {
        FtraceLine line = FtraceLine.parse(text);
        Entry entry = new Entry(line, kernel.cpu(line.cpu()).current().address(),
                kernel.cpu(line.cpu()).preemptCount().value());
        entries.add(entry);
        for (Consumer<Entry> watcher : watchers) {
            watcher.accept(entry);
        }
    }

    /** Runs {@code watcher} at every line, while the kernel is still inside the code that wrote it. */
    void watch(Consumer<Entry> watcher) {
        watchers.add(watcher);
    }

    List<Entry> entries() {
        return entries;
    }

    /** Every line, oldest first. */
    List<FtraceLine> lines() {
        return entries.stream().map(Entry::line).toList();
    }

    /** The lines of one event, oldest first. */
    List<FtraceLine> events(String event) {
        return lines().stream().filter(l -> l.event().equals(event)).toList();
    }

    /** The only line of {@code event}, failing if there is none or more than one. */
    FtraceLine only(String event) {
        List<FtraceLine> found = events(event);
        if (found.size() != 1) {
            throw new AssertionError("expected one " + event + " line, got " + found.size() + ":\n" + this);
        }
        return found.getFirst();
    }

    void clear() {
        entries.clear();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        for (Entry e : entries) {
            s.append(e.line.text()).append('\n');
        }
        return s.toString();
    }
}
