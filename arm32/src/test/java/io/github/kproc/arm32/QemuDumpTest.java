package io.github.kproc.arm32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.image.Crash;
import io.github.kproc.image.KernelImage;
import io.github.kproc.image.SymbolTable;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.Violation;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test of reading a real kernel: Linux 4.19.1 built from the bundled ARM32 profile's
 * config, dumped by QEMU ({@code ../shared/dumps/linux-4.19.1-arm32-vexpress-qemu}), read with its
 * System.map, compared with what crash 8.0.2 printed for it ({@code crash/ps.txt},
 * {@code crash/runq.txt}). Nothing here knows the dump's addresses, pids or tree: everything is
 * derived from the symbols and the profile, and compared with crash's files.
 */
class QemuDumpTest {
    private static final String DUMP = "shared/dumps/linux-4.19.1-arm32-vexpress-qemu";
    @TempDir
    static Path temp;
    private static @Nullable Path dir;
    private static @Nullable KernelImage image;

    /** The dump folder: under the project root's parent ({@code ../shared}), found from the working directory up. */
    static @Nullable Path dumpDir() {
        String property = System.getProperty("kproc.shared");
        if (property != null) {
            Path p = Path.of(property).resolve(DUMP.substring("shared/".length()));
            return Files.isDirectory(p) ? p : null;
        }
        for (Path at = Path.of("").toAbsolutePath(); at != null; at = at.getParent()) {
            Path p = at.resolve(DUMP);
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        return null;
    }

    @BeforeAll
    static void open() throws IOException {
        dir = dumpDir();
        assumeTrue(dir != null, "the shared dump folder is absent");
        Path vmcore = temp.resolve("vmcore");
        try (InputStream in = new GZIPInputStream(Files.newInputStream(dir.resolve("vmcore.gz")), 1 << 16);
                OutputStream out = Files.newOutputStream(vmcore)) {
            in.transferTo(out);
        }
        Platform platform = Platforms.bundled("linux-4.19-arm32-vexpress");
        image = KernelImage.open(platform, vmcore, SymbolTable.readSystemMap(dir.resolve("System.map")),
                OptionalLong.empty());
    }

    @AfterAll
    static void close() {
        if (image != null) {
            image.close();
        }
    }

    private static KernelImage image() {
        assumeTrue(image != null, "the shared dump folder is absent");
        return image;
    }

    private static String crash(String file) throws IOException {
        return Files.readString(dir.resolve("crash").resolve(file));
    }

    /** PHYS_OFFSET is found (no VMCOREINFO in a QEMU dump): the RAM segment where init_task checks out, not the flash below it. */
    @Test
    void physOffsetIsTheRamSegmentWhereInitTaskChecksOut() {
        assertEquals(0x60000000L, image().physOffset());
        assertTrue(image().physOffsetSource().contains("init_task checks out"), image().physOffsetSource());
        assertEquals(4, image().cpus());
    }

    /** crash's ps: the same lines (pid, ppid, cpu, task, state, comm, the '>' of each CPU's rq->curr, and %MEM VSZ RSS from get_mm_rss). */
    @Test
    void psIsWhatCrashPrinted() throws IOException {
        Crash crash = new Crash(image());
        List<Crash.Task> tasks = crash.ps();
        Pattern line = Pattern.compile("^(>?)\\s*(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+([0-9a-f]+)\\s+(\\S\\S)\\s+\\S+\\s+\\d+\\s+\\d+\\s+(.*)$");
        List<String> expected = new ArrayList<>();
        List<String> actual = new ArrayList<>();
        String[] lines = crash("ps.txt").split("\n");
        for (int i = 1; i < lines.length; i++) {
            Matcher m = line.matcher(lines[i]);
            assertTrue(m.matches(), lines[i]);
            expected.add(String.join(" ", m.group(1), m.group(2), m.group(3), m.group(4), m.group(5), m.group(6), m.group(7)));
        }
        for (Crash.Task t : tasks) {
            actual.add(String.join(" ", t.active() ? ">" : "", "" + t.pid(), "" + t.ppid(), "" + t.cpu(),
                    Long.toHexString(t.task()), t.state(), t.kernelThread() ? "[" + t.comm() + "]" : t.comm()));
        }
        assertEquals(expected, actual);
        assertEquals(4, tasks.stream().filter(Crash.Task::active).count());
        assertEquals(crash("ps.txt"), crash.formatPs(tasks));
    }

    /** crash's runq: each CPU's rq address, rq->curr, &rq->rt.active, &rq->cfs.tasks_timeline and their queues. */
    @Test
    void runqIsWhatCrashPrinted() throws IOException {
        Crash crash = new Crash(image());
        assertEquals(crash("runq.txt"), crash.formatRunq(crash.runq()));
    }

    /** bt -v's checks pass for every task; the four active tasks get their CPU's NT_PRSTATUS registers explained. */
    @Test
    void btChecksPassForEveryTask() {
        Crash crash = new Crash(image());
        List<Crash.StackCheck> checks = crash.bt();
        assertEquals(crash.ps().size(), checks.size());
        for (Crash.StackCheck c : checks) {
            assertTrue(c.passed(), () -> crash.formatBt(List.of(c)));
        }
        List<Crash.StackCheck> active = checks.stream().filter(c -> c.task().active()).toList();
        assertEquals(4, active.size());
        for (Crash.StackCheck c : active) {
            String text = String.join("\n", c.notes());
            if (c.task().kernelThread()) {
                assertTrue(text.contains("kernel mode (SVC)") && text.contains("inside its stack"), text);
            } else {
                assertTrue(text.contains("user mode (USR)"), text);
            }
        }
    }

    /**
     * The test kit's invariants, written for the model, on the real kernel: every rule holds but two
     * kinds the model does not cover. The two CPUs running {@code spin} are in user mode, so their sp
     * leads to no thread_info ({@code current_thread_info()} is for kernel mode); and four creds have
     * one reference more than the tasks that point to them (a real kernel's open files hold
     * {@code file->f_cred}; the model has no files), so the user_struct those creds and others no task
     * names ({@code init_cred}, files' creds) point to has more references than the creds the tasks reach.
     */
    @Test
    void theTestKitsInvariantsHoldButForUserModeCpusAndFileCreds() {
        List<Violation> violations = KernelInvariants.of(image()).check();
        long userMode = violations.stream().filter(v -> v.rule() == Violation.Rule.CURRENT
                && v.detail().contains("the registers lead to no task")).count();
        assertEquals(2, userMode, violations.toString());
        for (Violation v : violations) {
            assertTrue(v.rule() == Violation.Rule.CURRENT && v.detail().contains("the registers lead to no task")
                    || v.rule() == Violation.Rule.REFCOUNT && (v.detail().startsWith("cred.usage")
                            || v.detail().startsWith("user_struct.__count")), v.toString());
        }
        Crash crash = new Crash(image());
        assertTrue(crash.task(1).contains("comm = \"init\""), "task 1's TRACE32 view");
    }

    /**
     * The RCU callback lists of the real kernel, read at tree.o's layouts: on each CPU the
     * {@code rcu_sched_data.cblist} (call_rcu is call_rcu_sched on this TREE_RCU build without PREEMPT)
     * has {@code len} callbacks from {@code head} ({@code rcu_segcblist_enqueue} counts each), its
     * {@code tails[]} point into that list in segment order with {@code tails[RCU_NEXT_TAIL]} at its end,
     * and every callback's {@code func} is a function of System.map; the state's {@code rda} is the
     * per-CPU variable, each {@code rcu_data.cpu} its CPU and {@code mynode} the single root node.
     */
    @Test
    void rcuCallbackListsAreWellFormed() {
        KernelImage img = image();
        io.github.kproc.layout.Profile p = img.platform().profile();
        io.github.kproc.mem.AddressSpace m = img.addressSpace();
        long data = img.symbol("rcu_sched_data");
        long state = img.symbol("rcu_sched_state");
        assertEquals(data, m.readPointer(state + p.offsetOf("rcu_state", "rda")));
        assertEquals("rcu_sched", m.readCString(m.readPointer(state + p.offsetOf("rcu_state", "name")), 16));
        long root = state + p.offsetOf("rcu_state", "node");
        assertEquals(0b1111, m.readPointer(root + p.offsetOf("rcu_node", "qsmaskinit")), "4 CPUs online");
        long next = p.offsetOf("callback_head", "next");
        long func = p.offsetOf("callback_head", "func");
        long total = 0;
        List<String> funcs = new ArrayList<>();
        for (int cpu = 0; cpu < img.cpus(); cpu++) {
            long rdp = (data + m.readPointer(img.symbol("__per_cpu_offset") + 4L * cpu)) & 0xffff_ffffL;
            assertEquals(cpu, m.readInt(rdp + p.offsetOf("rcu_data", "cpu")));
            assertEquals(root, m.readPointer(rdp + p.offsetOf("rcu_data", "mynode")));
            assertEquals(state, m.readPointer(rdp + p.offsetOf("rcu_data", "rsp")));
            long seg = rdp + p.offsetOf("rcu_data", "cblist");
            List<Long> positions = new ArrayList<>();
            positions.add(seg + p.offsetOf("rcu_segcblist", "head"));
            for (long cb = m.readPointer(seg); cb != 0; cb = m.readPointer(cb + next)) {
                assertTrue(positions.size() < 1_000_000, "the list ends");
                long f = m.readPointer(cb + func);
                String name = img.symbols().symbolize(f).orElseThrow(() -> new AssertionError(Long.toHexString(f)));
                assertFalse(name.contains("+"), "func " + name + " is a function's start");
                funcs.add(name);
                positions.add(cb + next);
            }
            assertEquals(positions.size() - 1, m.readInt(seg + p.offsetOf("rcu_segcblist", "len")), "CPU " + cpu);
            int last = 0;
            for (int i = 0; i < 4; i++) {
                int at = positions.indexOf(m.readPointer(seg + p.offsetOf("rcu_segcblist", "tails") + 4L * i));
                assertTrue(at >= last, "tails[" + i + "] of CPU " + cpu);
                last = at;
            }
            assertEquals(positions.size() - 1, last, "tails[RCU_NEXT_TAIL] of CPU " + cpu);
            total += positions.size() - 1;
        }
        System.out.println("RCU callbacks in the dump: " + total + " " + funcs);
        // rcu_gp_cleanup leaves the root's gp_seq equal to the state's once no grace period runs
        long gpSeq = m.readPointer(state + p.offsetOf("rcu_state", "gp_seq"));
        if ((gpSeq & 3) == 0) {
            assertEquals(gpSeq, m.readPointer(root + p.offsetOf("rcu_node", "gp_seq")));
            assertEquals(0, m.readPointer(root + p.offsetOf("rcu_node", "qsmask")), "no CPU owes a quiescent state");
        }
        // the test kit reads the same lists: its RCU rule holds, unknown funcs aside (the model queues only one)
        for (Violation v : KernelInvariants.of(img).check()) {
            assertTrue(v.rule() != Violation.Rule.RCU || v.detail().contains("unknown func"), v.toString());
        }
    }

    /**
     * The MMU's view agrees with the lowmem rule: walking the real kernel's swapper_pg_dir (ARM short
     * descriptors: the lowmem sections create_mapping wrote) gives, for every task_struct, its stack
     * and each CPU's runqueue, the physical address phys = virt - PAGE_OFFSET + PHYS_OFFSET gives.
     */
    @Test
    void swapperPgDirWalkAgreesWithLowmem() {
        Crash crash = new Crash(image());
        int checked = 0;
        for (Crash.StackCheck c : crash.bt()) {
            for (long virt : new long[] {c.task().task(), c.stack(), c.stack() + 0x1ff8}) {
                assertEquals(image().physical(virt), image().pageTableWalk(virt), Long.toHexString(virt));
                assertTrue(image().pageTableWalk(virt).isPresent());
                checked++;
            }
        }
        for (int cpu = 0; cpu < image().cpus(); cpu++) {
            long rq = crash.runqueue(cpu);
            assertEquals(image().physical(rq), image().pageTableWalk(rq));
        }
        assertEquals(3 * crash.ps().size(), checked);
        assertTrue(image().pageTableWalk(0x1000).isEmpty(), "user addresses are not in the kernel's tables");
    }
}
