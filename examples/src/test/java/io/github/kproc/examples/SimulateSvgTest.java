package io.github.kproc.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** {@code kproc simulate --svg FILE}: the run drawn as a per-CPU timeline, checked against its own trace. */
class SimulateSvgTest {
    private static final String[] RUN = {"simulate", "--profile", "linux-4.19-arm32-vexpress", "--cpus", "4",
        "--forks", "20", "--seed", "1"};

    @TempDir
    Path dir;

    record Result(int status, String out, String err) {
    }

    private static Result kproc(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Kproc.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String[] with(String[] args, String... more) {
        String[] all = Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }

    private static Document parse(byte[] svg) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(svg));
    }

    /** The elements whose class attribute holds every one of {@code classes}, in document order. */
    private static List<Element> byClass(Document doc, String... classes) {
        List<Element> out = new ArrayList<>();
        NodeList all = doc.getElementsByTagName("*");
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            List<String> has = Arrays.asList(e.getAttribute("class").split(" "));
            if (has.containsAll(Arrays.asList(classes))) {
                out.add(e);
            }
        }
        return out;
    }

    private static String title(Element e) {
        NodeList titles = e.getElementsByTagName("title");
        assertTrue(titles.getLength() > 0, "no <title> in " + e.getTagName());
        return titles.item(0).getTextContent();
    }

    private static List<FtraceEvent> events(String trace) {
        List<FtraceEvent> out = new ArrayList<>();
        for (String line : trace.split("\n")) {
            FtraceEvent e = FtraceEvent.parse(line);
            if (e != null) {
                out.add(e);
            }
        }
        return out;
    }

    private static long count(List<FtraceEvent> events, String event) {
        return events.stream().filter(e -> e.event().equals(event)).count();
    }

    private byte[] draw(Path file, String... args) throws Exception {
        Result r = kproc(with(args, "--svg", file.toString()));
        assertEquals(0, r.status(), r.err());
        return Files.readAllBytes(file);
    }

    @Test
    void wellFormedWithALanePerCpuAndABarPerSwitchInterval() throws Exception {
        Result plain = kproc(RUN);
        assertEquals(0, plain.status(), plain.err());
        Result r = kproc(with(RUN, "--svg", dir.resolve("run.svg").toString()));
        assertEquals(0, r.status(), r.err());
        assertEquals(plain.out(), r.out(), "--svg leaves the trace on stdout as it was");
        assertEquals(plain.err(), r.err());
        Document doc = parse(Files.readAllBytes(dir.resolve("run.svg")));
        assertEquals("svg", doc.getDocumentElement().getLocalName());
        assertEquals("http://www.w3.org/2000/svg", doc.getDocumentElement().getNamespaceURI());
        assertEquals(0, doc.getElementsByTagName("script").getLength());
        assertEquals(0, doc.getElementsByTagName("style").getLength());
        assertFalse(new String(Files.readAllBytes(dir.resolve("run.svg")), StandardCharsets.UTF_8).contains("href"),
                "nothing from elsewhere");

        List<Element> lanes = byClass(doc, "lane");
        assertEquals(4, lanes.size());
        List<FtraceEvent> events = events(r.out());
        assertTrue(count(events, "sched_switch") > 20, "a run with switches on it");
        for (int cpu = 0; cpu < 4; cpu++) {
            assertEquals(String.valueOf(cpu), lanes.get(cpu).getAttribute("data-cpu"));
            // the pids the CPU ran, in order: its first line's task, then each switch's next_pid
            List<String> expected = new ArrayList<>();
            String last = null;
            for (FtraceEvent e : events) {
                if (e.cpu() != cpu) {
                    continue;
                }
                if (expected.isEmpty()) {
                    expected.add(String.valueOf(e.pid()));
                    last = e.comm() + "-" + e.pid();
                }
                if (e.event().equals("sched_switch")) {
                    expected.add(e.field("next_pid"));
                    last = e.field("next_comm") + "-" + e.field("next_pid");
                }
            }
            List<String> bars = new ArrayList<>();
            double right = Double.NEGATIVE_INFINITY;
            for (Element bar : byClass(doc, "bar")) {
                if (bar.getAttribute("data-cpu").equals(String.valueOf(cpu))) {
                    bars.add(bar.getAttribute("data-pid"));
                    double x = Double.parseDouble(bar.getAttribute("x"));
                    assertTrue(x >= right - 0.11, "bars of CPU " + cpu + " in time order, not overlapping");
                    assertTrue(Double.parseDouble(bar.getAttribute("width")) >= TimelineSvg.SPACE - 0.11,
                            "every bar visible");
                    right = x + Double.parseDouble(bar.getAttribute("width"));
                    title(bar);
                }
            }
            if (expected.isEmpty()) {
                assertEquals(1, bars.size(), "a CPU without lines ran one task all along");
                continue;
            }
            assertEquals(expected, bars, "a bar per sched_switch interval on CPU " + cpu);
            List<Element> current = byClass(doc, "current");
            assertEquals(4, current.size());
            assertEquals(String.valueOf(cpu), current.get(cpu).getAttribute("data-cpu"));
            assertTrue(title(current.get(cpu)).endsWith(": " + last), title(current.get(cpu)));
        }
    }

    @Test
    void marksForForksWakeupsMigrationsAndIpis() throws Exception {
        Path file = dir.resolve("marks.svg");
        Result r = kproc(with(RUN, "--svg", file.toString()));
        assertEquals(0, r.status(), r.err());
        Document doc = parse(Files.readAllBytes(file));
        List<FtraceEvent> events = events(r.out());
        String[][] kinds = {
            {"fork", "sched_process_fork"}, {"wakeup-new", "sched_wakeup_new"}, {"wakeup", "sched_wakeup"},
            {"migrate", "sched_migrate_task"}, {"ipi", "ipi_raise"}};
        for (String[] k : kinds) {
            long expected = count(events, k[1]);
            // the workload moves no task between CPUs (Simulation never calls Kernel.migrate); the
            // synthetic timeline below has a migration
            assertTrue(expected > 0 || k[0].equals("migrate"), "seed 1 has a " + k[1]);
            assertEquals(expected, byClass(doc, "mark", k[0]).size(), k[1] + " marks");
        }
        // each IPI mark is on the target's lane, from the CPU that raised it
        List<Element> ipis = byClass(doc, "mark", "ipi");
        int i = 0;
        for (FtraceEvent e : events) {
            if (e.event().equals("ipi_raise")) {
                String mask = e.field("target_mask");
                assertNotNull(mask);
                int target = Long.numberOfTrailingZeros(Long.parseLong(mask.split(" ")[0].replace(",", ""), 16));
                Element mark = ipis.get(i++);
                assertEquals(String.valueOf(target), mark.getAttribute("data-cpu"));
                assertTrue(title(mark).endsWith("CPU " + e.cpu() + " \u2192 CPU " + target), title(mark));
            }
        }
        // the first fork mark names its parent and child as the trace does
        FtraceEvent fork = events.stream().filter(e -> e.event().equals("sched_process_fork")).findFirst().orElseThrow();
        String text = title(byClass(doc, "mark", "fork").get(0));
        assertTrue(text.contains(fork.field("comm") + "-" + fork.field("pid") + " \u2192 " + fork.field("child_comm")
                + "-" + fork.field("child_pid")), text);
        assertTrue(text.contains("clone_flags="), text);
        // a legend for the marks and one for the tasks
        assertEquals(1, byClass(doc, "legend").size());
        assertTrue(byClass(doc, "tasks").get(0).getTextContent().contains("swapper/0"));
    }

    @Test
    void sameSeedSameBytes() throws Exception {
        byte[] a = draw(dir.resolve("a.svg"), RUN);
        byte[] b = draw(dir.resolve("b.svg"), RUN);
        assertArrayEquals(a, b);
        String[] other = RUN.clone();
        other[other.length - 1] = "2";
        byte[] c = draw(dir.resolve("c.svg"), other);
        assertFalse(Arrays.equals(a, c), "another seed, another picture");
    }

    @Test
    void anUnwritablePathIsAUsageError() throws Exception {
        for (String path : new String[] {dir.resolve("no/such/dir/x.svg").toString(), dir.toString(), "bad\0name"}) {
            Result r = kproc(with(RUN, "--svg", path));
            assertEquals(2, r.status(), r.err());
            assertEquals("", r.out(), "nothing on stdout before the path is checked");
            assertTrue(r.err().startsWith("kproc: simulate: cannot write --svg ") && r.err().endsWith("\n")
                    && r.err().indexOf('\n') == r.err().length() - 1, r.err());
        }
        Result missing = kproc(with(RUN, "--svg"));
        assertEquals(2, missing.status());
        assertEquals("kproc: simulate: option --svg needs a value\n", missing.err());
    }

    @Test
    void timelineOfAFewLines() throws Exception {
        Timeline t = new Timeline(2);
        for (String line : new String[] {
            "# tracer: nop",
            "          <idle>-0     [000] d..2   100.000001: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 "
                    + "prev_state=R ==> next_comm=my task next_pid=7 next_prio=120",
            "         my task-7     [000] ....   100.000005: task_newtask: pid=8 comm=my task clone_flags=1200011 "
                    + "oom_score_adj=0",
            "         my task-7     [000] ....   100.000005: sched_process_fork: comm=my task pid=7 child_comm=my task "
                    + "child_pid=8",
            "         my task-7     [000] d..2   100.000005: sched_wakeup_new: comm=my task pid=8 prio=120 target_cpu=001",
            "         my task-7     [000] d..3   100.000005: ipi_raise: target_mask=00000002 (Rescheduling interrupts)",
            "       swapper/1-0     [001] d.h.   100.000009: ipi_entry: (Rescheduling interrupts)",
            "       swapper/1-0     [001] d..2   100.000009: sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=120 "
                    + "prev_state=R ==> next_comm=my task next_pid=8 next_prio=120",
            "         my task-8     [001] d..2   100.000020: sched_migrate_task: comm=my task pid=7 prio=120 orig_cpu=0 "
                    + "dest_cpu=1"}) {
            t.accept(line);
        }
        t.finish(cpu -> new Timeline.Task("unused", -1));
        assertEquals(8, t.lines());
        assertEquals(100_000_001, t.first());
        assertEquals(100_000_020, t.last());
        assertEquals(List.of(
                new Timeline.Bar(0, new Timeline.Task("<idle>", 0), Timeline.START, 0),
                new Timeline.Bar(0, new Timeline.Task("my task", 7), 0, Timeline.END),
                new Timeline.Bar(1, new Timeline.Task("swapper/1", 0), Timeline.START, 4),
                new Timeline.Bar(1, new Timeline.Task("my task", 8), 4, Timeline.END)), t.bars());
        assertEquals(List.of(
                new Timeline.Mark(Timeline.Kind.FORK, 1, 0, -1,
                        "fork on CPU 0: my task-7 \u2192 my task-8 (clone_flags=1200011)"),
                new Timeline.Mark(Timeline.Kind.WAKEUP_NEW, 2, 1, 0,
                        "sched_wakeup_new: my task-8 onto CPU 1 (from CPU 0)"),
                new Timeline.Mark(Timeline.Kind.IPI, 3, 1, 0, "ipi_raise: reschedule IPI CPU 0 \u2192 CPU 1"),
                new Timeline.Mark(Timeline.Kind.MIGRATE, 5, 1, 0, "sched_migrate_task: my task-7 CPU 0 \u2192 CPU 1")),
                t.marks());
        assertEquals(new Timeline.Task("my task", 8), t.currentAtEnd(1));
        String svg = TimelineSvg.render(t, "a <few> & lines");
        assertTrue(svg.contains("<title>a &lt;few&gt; &amp; lines</title>"), svg);
        assertTrue(svg.contains(">my task-7<"), "a wide bar is labelled: " + svg);
        Document doc = parse(svg.getBytes(StandardCharsets.UTF_8));
        assertEquals(2, byClass(doc, "lane").size());
        assertEquals(4, byClass(doc, "bar").size());
        for (String kind : new String[] {"fork", "wakeup-new", "ipi", "migrate"}) {
            assertEquals(1, byClass(doc, "mark", kind).size(), kind);
        }
        assertEquals(0, byClass(doc, "mark", "wakeup").size(), "no sched_wakeup in these lines");
    }

    @Test
    void aCpuWithoutLinesKeepsTheTaskTheKernelNames() {
        Timeline t = new Timeline(2);
        t.accept("          <idle>-0     [000] d..2     0.000100: sched_switch: prev_comm=swapper/0 prev_pid=0 "
                + "prev_prio=120 prev_state=R ==> next_comm=init next_pid=1 next_prio=120");
        t.finish(cpu -> new Timeline.Task("swapper/" + cpu, 0));
        assertEquals(new Timeline.Task("swapper/1", 0), t.currentAtEnd(1));
        assertEquals(new Timeline.Bar(1, new Timeline.Task("swapper/1", 0), Timeline.START, Timeline.END),
                t.bars().get(2));
        assertEquals("#d9d9d9", TimelineSvg.colour(0));
        assertEquals(TimelineSvg.colour(7), TimelineSvg.colour(7));
        assertFalse(TimelineSvg.colour(7).equals(TimelineSvg.colour(8)));
    }
}
