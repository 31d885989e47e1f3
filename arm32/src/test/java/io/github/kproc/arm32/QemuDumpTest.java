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
import io.github.kproc.kernel.Kernel;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.tck.VmapAreas;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.Violation;
import io.github.kproc.view.KernelReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
     * What {@code sched_init} and {@code build_sched_domains} leave in memory and the scheduler does
     * not change as it runs, read the same way from a reader: per CPU the {@code rq}'s capacities,
     * {@code online} and root domain ({@code refcount}, {@code span}, {@code online},
     * {@code max_cpu_capacity}, {@code rto_cpu}, {@code dl_bw.bw}), its {@code sd} ({@code sd_init}'s
     * fields, span, level, parent/child) and the groups round it (span, weight, capacities, references),
     * the per-CPU {@code sd_llc*}, and {@code def_root_domain}.
     */
    static Map<String, Long> schedTopologyFacts(KernelReader k) {
        Profile p = k.platform().profile();
        AddressSpace m = k.addressSpace();
        int ptr = k.platform().pointerSize();
        Map<String, Long> facts = new LinkedHashMap<>();
        java.util.function.BiFunction<String, String, Long> off = p::offsetOf;
        long def = k.symbol("def_root_domain");
        facts.put("def_root_domain.refcount", (long) m.readInt(def + off.apply("root_domain", "refcount")));
        facts.put("def_root_domain.span", m.readPointer(def + off.apply("root_domain", "span")));
        facts.put("def_root_domain.online", m.readPointer(def + off.apply("root_domain", "online")));
        facts.put("def_root_domain.rto_cpu", (long) m.readInt(def + off.apply("root_domain", "rto_cpu")));
        facts.put("def_root_domain.dl_bw.bw", m.readLong(def + off.apply("root_domain", "dl_bw.bw")));
        for (int cpu = 0; cpu < k.cpus(); cpu++) {
            long unit = m.readPointer(k.symbol("__per_cpu_offset") + (long) cpu * ptr);
            long rq = (k.symbol("runqueues") + unit) & 0xffffffffL;
            String c = "cpu" + cpu + ".";
            facts.put(c + "rq.cpu_capacity", m.readPointer(rq + off.apply("rq", "cpu_capacity")));
            facts.put(c + "rq.cpu_capacity_orig", m.readPointer(rq + off.apply("rq", "cpu_capacity_orig")));
            facts.put(c + "rq.online", (long) m.readInt(rq + off.apply("rq", "online")));
            long rd = m.readPointer(rq + off.apply("rq", "rd"));
            facts.put(c + "rd.is_def_root_domain", rd == def ? 1L : 0L);
            for (String f : new String[] {"refcount", "rto_cpu"}) {
                facts.put(c + "rd." + f, (long) m.readInt(rd + off.apply("root_domain", f)));
            }
            for (String f : new String[] {"span", "online", "max_cpu_capacity"}) {
                facts.put(c + "rd." + f, m.readPointer(rd + off.apply("root_domain", f)));
            }
            facts.put(c + "rd.dl_bw.bw", m.readLong(rd + off.apply("root_domain", "dl_bw.bw")));
            long sd = m.readPointer(rq + off.apply("rq", "sd"));
            for (String f : new String[] {"min_interval", "max_interval", "parent", "child", "span", "shared"}) {
                facts.put(c + "sd." + f, m.readPointer(sd + off.apply("sched_domain", f)));
            }
            for (String f : new String[] {"busy_factor", "imbalance_pct", "cache_nice_tries", "busy_idx", "idle_idx",
                "newidle_idx", "wake_idx", "forkexec_idx", "smt_gain", "flags", "level", "span_weight"}) {
                facts.put(c + "sd." + f, (long) m.readInt(sd + off.apply("sched_domain", f)));
            }
            long first = m.readPointer(sd + off.apply("sched_domain", "groups"));
            long sg = first;
            int n = 0;
            do {
                String g = c + "sd.group" + n + ".";
                long sgc = m.readPointer(sg + off.apply("sched_group", "sgc"));
                facts.put(g + "cpumask", m.readPointer(sg + off.apply("sched_group", "cpumask")));
                facts.put(g + "group_weight", (long) m.readInt(sg + off.apply("sched_group", "group_weight")));
                facts.put(g + "ref", (long) m.readInt(sg + off.apply("sched_group", "ref")));
                facts.put(g + "sgc.ref", (long) m.readInt(sgc + off.apply("sched_group_capacity", "ref")));
                facts.put(g + "sgc.capacity", m.readPointer(sgc + off.apply("sched_group_capacity", "capacity")));
                facts.put(g + "sgc.min_capacity", m.readPointer(sgc + off.apply("sched_group_capacity", "min_capacity")));
                facts.put(g + "sgc.cpumask", m.readPointer(sgc + off.apply("sched_group_capacity", "cpumask")));
                sg = m.readPointer(sg + off.apply("sched_group", "next"));
                n++;
            } while (sg != first && n < 64);
            facts.put(c + "sd_llc", m.readPointer((k.symbol("sd_llc") + unit) & 0xffffffffL));
            facts.put(c + "sd_llc_size", (long) m.readInt((k.symbol("sd_llc_size") + unit) & 0xffffffffL));
            facts.put(c + "sd_llc_id", (long) m.readInt((k.symbol("sd_llc_id") + unit) & 0xffffffffL));
            facts.put(c + "sd_llc_shared", m.readPointer((k.symbol("sd_llc_shared") + unit) & 0xffffffffL));
        }
        return facts;
    }

    /**
     * The model's scheduling topology is the real kernel's: a 4-CPU vexpress model booted with the
     * profile has, field for field, the domains, groups, capacities, per-CPU {@code sd_llc*} and root
     * domains {@code sched_init}, {@code build_sched_domains} and {@code rq_attach_root} left in the
     * dump (the values that move at run time, such as {@code balance_interval} or {@code overload},
     * are not compared).
     */
    @Test
    void schedDomainsAndRootDomainsAreTheRealKernels() {
        KernelImage real = image();
        try (Kernel model = Kernel.builder(real.platform()).cpus(real.cpus()).memory(64L << 20).boot()) {
            Map<String, Long> expected = schedTopologyFacts(real);
            assertEquals(1L, expected.get("def_root_domain.refcount"));
            assertEquals(4L, expected.get("cpu0.rd.refcount"));
            assertEquals(expected, schedTopologyFacts(model));
        }
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
        // RCU_STATE_INITIALIZER and rcu_init_one: abbr 's', level[0] the root, which covers CPUs 0-3
        assertEquals('s', m.readByte(state + p.offsetOf("rcu_state", "abbr")));
        assertEquals(root, m.readPointer(state + p.offsetOf("rcu_state", "level")));
        assertEquals(0, m.readInt(root + p.offsetOf("rcu_node", "grplo")));
        assertEquals(img.cpus() - 1, m.readInt(root + p.offsetOf("rcu_node", "grphi")));
        long next = p.offsetOf("callback_head", "next");
        long func = p.offsetOf("callback_head", "func");
        for (int cpu = 0; cpu < img.cpus(); cpu++) {
            long rdp = (data + m.readPointer(img.symbol("__per_cpu_offset") + 4L * cpu)) & 0xffff_ffffL;
            assertEquals(cpu, m.readInt(rdp + p.offsetOf("rcu_data", "cpu")));
            assertEquals(root, m.readPointer(rdp + p.offsetOf("rcu_data", "mynode")));
            assertEquals(state, m.readPointer(rdp + p.offsetOf("rcu_data", "rsp")));
            assertEquals(1, m.readByte(rdp + p.offsetOf("rcu_data", "beenonline")));
            long seg = rdp + p.offsetOf("rcu_data", "cblist");
            List<Long> positions = new ArrayList<>();
            positions.add(seg + p.offsetOf("rcu_segcblist", "head"));
            for (long cb = m.readPointer(seg); cb != 0; cb = m.readPointer(cb + next)) {
                assertTrue(positions.size() < 1_000_000, "the list ends");
                long f = m.readPointer(cb + func);
                String name = img.symbols().symbolize(f).orElseThrow(() -> new AssertionError(Long.toHexString(f)));
                assertFalse(name.contains("+"), "func " + name + " is a function's start");
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
        }
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

    /** {@code offsetof(struct type, path)} in the bundled ARM32 profile. */
    private static long off(String type, String path) {
        return image().platform().profile().offsetOf(type, path);
    }

    /**
     * The layouts of {@code ipc/sem.o} and {@code fs/namespace.o} read the real kernel's namespaces:
     * {@code init_ipc_ns} as its initializer and {@code sem_init_ns}/{@code msg_init_ns}/{@code shm_init_ns}
     * leave it (include/uapi/linux/sem.h, msg.h, shm.h limits, {@code PROC_IPC_INIT_INO}), and the mount
     * namespace {@code init_mount_tree} made, reached from {@code init_nsproxy}: owned by
     * {@code init_user_ns}, {@code mntns_operations}, the first sequence number {@code alloc_mnt_ns} hands out and a dynamic inode
     * number.
     */
    @Test
    void ipcAndMountNamespaceLayoutsReadTheRealKernelsNamespaces() {
        AddressSpace m = image().addressSpace();
        long ipc = image().symbol("init_ipc_ns");
        long userNs = image().symbol("init_user_ns");
        assertEquals(0xEFFFFFFFL, Integer.toUnsignedLong(m.readInt(ipc + off("ipc_namespace", "ns.inum"))));
        assertEquals(userNs, m.readPointer(ipc + off("ipc_namespace", "user_ns")));
        long sem = ipc + off("ipc_namespace", "sem_ctls");
        assertEquals(List.of(32000, 32000 * 32000, 500, 32000),
                List.of(m.readInt(sem), m.readInt(sem + 4), m.readInt(sem + 8), m.readInt(sem + 12)));
        assertEquals(8192, m.readInt(ipc + off("ipc_namespace", "msg_ctlmax")));
        assertEquals(16384, m.readInt(ipc + off("ipc_namespace", "msg_ctlmnb")));
        assertEquals(32000, m.readInt(ipc + off("ipc_namespace", "msg_ctlmni")));
        assertEquals(0xffffffffL - (1L << 24), m.readPointer(ipc + off("ipc_namespace", "shm_ctlmax")));
        assertEquals(0xffffffffL - (1L << 24), m.readPointer(ipc + off("ipc_namespace", "shm_ctlall")));
        assertEquals(4096, m.readInt(ipc + off("ipc_namespace", "shm_ctlmni")));

        long mnt = m.readPointer(image().symbol("init_nsproxy") + off("nsproxy", "mnt_ns"));
        assertEquals(userNs, m.readPointer(mnt + off("mnt_namespace", "user_ns")));
        assertEquals(image().symbol("mntns_operations"), m.readPointer(mnt + off("mnt_namespace", "ns.ops")));
        // alloc_mnt_ns: atomic64_add_return(1, &mnt_ns_seq), which starts at 1, so the first namespace is 2
        assertEquals(2, m.readLong(mnt + off("mnt_namespace", "seq")));
        assertTrue(m.readLong(image().symbol("mnt_ns_seq")) >= 2);
        assertTrue(Integer.toUnsignedLong(m.readInt(mnt + off("mnt_namespace", "ns.inum"))) >= 0xF0000000L);
        assertTrue(m.readInt(mnt + off("mnt_namespace", "count")) >= 1);
        assertTrue(m.readInt(mnt + off("mnt_namespace", "mounts")) >= 1);
    }

    /**
     * The layout of {@code mm/vmalloc.o} reads the real kernel's vmalloc areas: {@code vmap_area_list}
     * is sorted, page-aligned and as long as an in-order walk of the {@code vmap_area_root}
     * red-black tree, and each area with {@code VM_VM_AREA} points at a {@code vm_struct} of its
     * address and size ({@link VmapAreas}, which VmapStackContract runs on the model).
     */
    @Test
    void vmallocLayoutReadsTheRealKernelsVmapAreas() {
        List<Long> areas = VmapAreas.walk(image(), false);
        assertTrue(VmapAreas.withVm(image(), areas) > 0, "some vmalloc areas");
    }
}
