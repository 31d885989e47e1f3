package io.github.kproc.testkit;

import io.github.kproc.arch.Platform;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.testkit.Violation.Rule;
import io.github.kproc.view.KernelReader;
import io.github.kproc.view.TaskFlags;
import io.github.kproc.view.TaskStruct;
import io.github.kproc.view.TaskStateBits;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What must hold in a running kernel between any two system calls, read from its memory by the
 * profile's offsets, the way crash and drgn read a kernel: the task list from {@code init_task}, pids
 * through {@code init_pid_ns}'s IDR, each CPU's {@code struct rq} through {@code runqueues} and
 * {@code __per_cpu_offset}. Each broken rule is a {@link Violation} naming the task or structure.
 *
 * <p>Every walk is bounded by the number of tasks that can exist ({@code max_threads} plus the idle
 * tasks): a corrupted or cyclic list is a {@link Rule#LIST_CLOSES} violation, never a hang.
 *
 * <pre>{@code
 * List<Violation> broken = KernelInvariants.of(kernel).check();
 * }</pre>
 */
public final class KernelInvariants {

    private final KernelReader kernel;
    private final Platform platform;
    private final Profile profile;
    private final AddressSpace m;
    private final int ptr;
    private final int bound;
    private final Map<String, Long> offsets = new HashMap<>();
    private final List<Violation> violations = new ArrayList<>();

    private final long initTask;
    private final long initPidNs;
    private final int pidMax;

    private KernelInvariants(KernelReader kernel) {
        this.kernel = kernel;
        this.platform = kernel.platform();
        this.profile = platform.profile();
        this.m = kernel.addressSpace();
        this.ptr = platform.pointerSize();
        this.initTask = kernel.symbol("init_task");
        this.initPidNs = kernel.symbol("init_pid_ns");
        this.pidMax = m.readInt(kernel.symbol("pid_max"));
        this.bound = m.readInt(kernel.symbol("max_threads")) + kernel.cpus() + 1;
    }

    /** The invariants of a kernel's memory: a live {@code Kernel}, or any other reader of one. */
    public static KernelInvariants of(KernelReader kernel) {
        return new KernelInvariants(kernel);
    }

    private TaskStruct task(long address) {
        return new TaskStruct(platform, m, address);
    }

    /**
     * The task_structs {@code release_task} handed to RCU ({@code call_rcu(&p->rcu,
     * delayed_put_task_struct)}) whose callbacks have not run: gone from every list, but holding their
     * references (signal, cred, ...) and their memory until a grace period has passed. Read from each
     * CPU's callback list in memory; empty for a kernel without RCU's per-CPU data.
     */
    public static List<Long> rcuPendingTasks(KernelReader kernel) {
        return new KernelInvariants(kernel).rcuPendingTasks();
    }

    /** {@code current} of a CPU, from its registers as the architecture derives it. */
    private long current(int cpu) {
        return platform.currentTask(m, kernel.registers(cpu));
    }

    /** Checks every rule; an empty list means they all hold. */
    public List<Violation> check() {
        return check(List.of());
    }

    /**
     * Checks every rule. {@code held} are task_structs that live on after {@code release_task} because a
     * reference is held (a vfork parent's on its reaped child until it runs again): their references on
     * shared structures are counted too.
     */
    public List<Violation> check(Collection<Long> held) {
        violations.clear();
        List<Long> listed = taskList();
        Set<Long> live = new LinkedHashSet<>(listed);
        long[] idle = new long[kernel.cpus()];
        for (int cpu = 0; cpu < kernel.cpus(); cpu++) {
            idle[cpu] = m.readPointer(rq(cpu) + off("rq", "idle"));
            live.add(idle[cpu]);
        }
        Set<Integer> pids = new HashSet<>();
        for (long t : live) {
            checkTask(t, isIdle(t), pids);
        }
        checkFamilies(listed, live);
        checkVmalloc(live);
        Set<Long> all = new LinkedHashSet<>(live);
        all.addAll(held);
        all.addAll(rcuPendingTasks());
        checkCounts(live, all);
        checkScheduler(live, idle);
        checkPelt(live);
        return List.copyOf(violations);
    }

    /** Throws an {@link AssertionError} listing the violations, if there are any. */
    public void assertHolds() {
        List<Violation> found = check();
        if (!found.isEmpty()) {
            StringBuilder s = new StringBuilder(found.size() + " kernel invariant(s) broken:");
            for (Violation v : found) {
                s.append(System.lineSeparator()).append("  ").append(v);
            }
            throw new AssertionError(s);
        }
    }

    // ---- reading ----

    private long off(String type, String path) {
        return offsets.computeIfAbsent(type + "." + path, k -> profile.offsetOf(type, path));
    }

    private long pointer(long address, String type, String path) {
        return m.readPointer(address + off(type, path));
    }

    private int int32(long address, String type, String path) {
        return m.readInt(address + off(type, path));
    }

    private void fail(Rule rule, String detail) {
        violations.add(new Violation(rule, detail));
    }

    private String name(long t) {
        return String.format("%s/%d @0x%x", task(t).comm(), task(t).pid(), t);
    }

    /** The entries of a list_head ring (excluding the head), or a LIST_CLOSES violation and what was read. */
    private List<Long> entries(long head, String what) {
        List<Long> out = new ArrayList<>();
        long node = m.readPointer(head);
        while (node != head) {
            if (out.size() >= bound || !m.contains(node, 2L * ptr)) {
                fail(Rule.LIST_CLOSES, what + " does not return to its head 0x" + Long.toHexString(head));
                break;
            }
            if (m.readPointer(node + ptr) != (out.isEmpty() ? head : out.get(out.size() - 1))) {
                fail(Rule.LIST_CLOSES, what + ": prev of 0x" + Long.toHexString(node) + " is not the entry before it");
            }
            out.add(node);
            node = m.readPointer(node);
        }
        return out;
    }

    private long rq(int cpu) {
        long offset = m.readPointer(kernel.symbol("__per_cpu_offset") + (long) cpu * ptr);
        return kernel.symbol("runqueues") + offset;
    }

    private boolean isIdle(long t) {
        return (task(t).flags() & TaskFlags.PF_IDLE) != 0;
    }

    // ---- the rules ----

    /**
     * The per-CPU {@code rcu_data} of the flavour {@code call_rcu} uses ({@code rcu_preempt_data} with
     * CONFIG_PREEMPT_RCU, else {@code rcu_sched_data}), or 0 if the reader has no such symbol or the
     * profile no {@code struct rcu_data}.
     */
    private long rcuData() {
        if (profile.find("rcu_data").isEmpty() || profile.find("rcu_segcblist").isEmpty()) {
            return 0;
        }
        try {
            return kernel.symbol(profile.config().enabled("CONFIG_PREEMPT_RCU") ? "rcu_preempt_data" : "rcu_sched_data");
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /**
     * Checks each CPU's callback list ({@link Rule#RCU}) and returns the task_structs waiting on them
     * for {@code delayed_put_task_struct}: released, but holding their references until it runs.
     */
    private List<Long> rcuPendingTasks() {
        long data = rcuData();
        List<Long> tasks = new ArrayList<>();
        if (data == 0) {
            return tasks;
        }
        long put;
        try {
            put = kernel.symbol("delayed_put_task_struct");
        } catch (RuntimeException e) {
            return tasks;
        }
        long cblist = off("rcu_data", "cblist");
        long headOff = off("rcu_segcblist", "head");
        long tailsOff = off("rcu_segcblist", "tails");
        long lenOff = off("rcu_segcblist", "len");
        long next = off("callback_head", "next");
        long func = off("callback_head", "func");
        long taskRcu = off("task_struct", "rcu");
        for (int cpu = 0; cpu < kernel.cpus(); cpu++) {
            long seg = data + m.readPointer(kernel.symbol("__per_cpu_offset") + (long) cpu * ptr) + cblist;
            if (ptr == 4) {
                seg &= 0xffff_ffffL;
            }
            // positions a tail may hold: &head, then &cb->next of each callback in order
            List<Long> positions = new ArrayList<>();
            positions.add(seg + headOff);
            long cb = m.readPointer(seg + headOff);
            while (cb != 0) {
                if (positions.size() > bound || !m.contains(cb, func + ptr)) {
                    fail(Rule.RCU, "CPU " + cpu + ": the callback list does not end (at 0x" + Long.toHexString(cb) + ")");
                    break;
                }
                long f = m.readPointer(cb + func);
                if (f == put) {
                    tasks.add(cb - taskRcu);
                } else {
                    fail(Rule.RCU, "CPU " + cpu + ": callback 0x" + Long.toHexString(cb) + " has unknown func 0x"
                            + Long.toHexString(f));
                }
                positions.add(cb + next);
                cb = m.readPointer(cb + next);
            }
            long len = m.readPointer(seg + lenOff);
            if (len != positions.size() - 1) {
                fail(Rule.RCU, "CPU " + cpu + ": cblist.len is " + len + " but " + (positions.size() - 1) + " callbacks are queued");
            }
            int last = 0;
            for (int i = 0; i < 4; i++) {
                long tail = m.readPointer(seg + tailsOff + (long) i * ptr);
                int at = positions.indexOf(tail);
                if (at < last) {
                    fail(Rule.RCU, "CPU " + cpu + ": cblist.tails[" + i + "] 0x" + Long.toHexString(tail)
                            + (at < 0 ? " is not in the list" : " is before the tail of the segment ahead of it"));
                } else {
                    last = at;
                }
                if (i == 3 && at != positions.size() - 1) {
                    fail(Rule.RCU, "CPU " + cpu + ": cblist.tails[RCU_NEXT_TAIL] is not the last callback's next");
                }
            }
        }
        return tasks;
    }

    private List<Long> taskList() {
        long tasks = off("task_struct", "tasks");
        long threadGroup = off("task_struct", "thread_group");
        List<Long> listed = new ArrayList<>();
        listed.add(initTask);
        for (long node : entries(initTask + tasks, "init_task.tasks")) {
            long leader = node - tasks;
            if (task(leader).groupLeader() != leader) {
                fail(Rule.TASK_LIST, name(leader) + " is on the task list but is not a group leader");
            }
            listed.add(leader);
            for (long tg : entries(leader + threadGroup, name(leader) + ".thread_group")) {
                long t = tg - threadGroup;
                if (task(t).groupLeader() != leader || task(t).tgid() != task(leader).pid()
                        || pointer(t, "task_struct", "signal") != pointer(leader, "task_struct", "signal")) {
                    fail(Rule.THREAD_GROUP, name(t) + " differs from its leader " + name(leader));
                }
                listed.add(t);
            }
        }
        if (new HashSet<>(listed).size() != listed.size()) {
            fail(Rule.TASK_LIST, "a task is on the task list twice");
        }
        return listed;
    }

    /** A data symbol's address, or 0 where the reader has none. */
    private long symbolOrZero(String name) {
        try {
            return kernel.symbol(name);
        } catch (IllegalArgumentException | java.util.NoSuchElementException e) {
            return 0;
        }
    }

    /**
     * {@link Rule#VMALLOC}: {@code vmap_area_list} against an in-order walk of {@code vmap_area_root}
     * ({@code __insert_vmap_area} keeps them the same order), and with VMAP_STACK each task's
     * {@code stack_vm_area} against its stack ({@code alloc_thread_stack_node}, {@code setup_vmalloc_vm}).
     */
    private void checkVmalloc(Set<Long> live) {
        long root = symbolOrZero("vmap_area_root");
        long head = symbolOrZero("vmap_area_list");
        if (root == 0 || head == 0 || profile.find("vmap_area").isEmpty()) {
            return;
        }
        long rbOff = off("vmap_area", "rb_node");
        long listOff = off("vmap_area", "list");
        java.util.Map<Long, Long> byStart = new java.util.HashMap<>();
        List<Long> inList = new ArrayList<>();
        long prevEnd = 0;
        long limit = 4L * bound + 4096;
        for (long e = m.readPointer(head + off("list_head", "next")); e != head; e = m.readPointer(e + off("list_head", "next"))) {
            if (e == 0 || inList.size() > limit) {
                fail(Rule.LIST_CLOSES, "vmap_area_list does not return to its head");
                return;
            }
            long va = e - listOff;
            long start = pointer(va, "vmap_area", "va_start");
            long end = pointer(va, "vmap_area", "va_end");
            if (Long.compareUnsigned(start, end) >= 0 || (!inList.isEmpty() && Long.compareUnsigned(start, prevEnd) < 0)) {
                fail(Rule.VMALLOC, String.format("vmap_area 0x%x [0x%x, 0x%x) is out of order or overlaps", va, start, end));
            }
            prevEnd = end;
            inList.add(va);
            byStart.put(start, va);
        }
        // rb_first, rb_next over __rb_parent_color (colour in bit 0)
        long left = off("rb_node", "rb_left");
        long right = off("rb_node", "rb_right");
        long parentColor = off("rb_node", "__rb_parent_color");
        List<Long> inTree = new ArrayList<>();
        long n = m.readPointer(root + off("rb_root", "rb_node"));
        if (n != 0) {
            while (m.readPointer(n + left) != 0) {
                n = m.readPointer(n + left);
            }
        }
        while (n != 0 && inTree.size() <= limit) {
            inTree.add(n - rbOff);
            if (m.readPointer(n + right) != 0) {
                n = m.readPointer(n + right);
                while (m.readPointer(n + left) != 0) {
                    n = m.readPointer(n + left);
                }
            } else {
                long parent = m.readPointer(n + parentColor) & ~3L;
                while (parent != 0 && n == m.readPointer(parent + right)) {
                    n = parent;
                    parent = m.readPointer(n + parentColor) & ~3L;
                }
                n = parent;
            }
        }
        if (!inTree.equals(inList)) {
            fail(Rule.VMALLOC, "vmap_area_list (" + inList.size() + " areas) is not the vmap_area_root tree in order ("
                    + inTree.size() + " areas)");
        }
        if (!profile.config().enabled("CONFIG_VMAP_STACK") || !profile.has("task_struct", "stack_vm_area")) {
            return;
        }
        long initTask = kernel.symbol("init_task");
        int pageSize = platform.pageSize();
        for (long t : live) {
            long stack = task(t).stack();
            long vm = pointer(t, "task_struct", "stack_vm_area");
            if (stack == 0) {
                if (vm != 0) {
                    fail(Rule.VMALLOC, name(t) + ": stack released but stack_vm_area is 0x" + Long.toHexString(vm));
                }
                continue;
            }
            if (vm == 0) {
                if (t != initTask) {
                    fail(Rule.VMALLOC, name(t) + ": no stack_vm_area for its vmalloc'ed stack");
                }
                continue;
            }
            long va = byStart.getOrDefault(stack, 0L);
            if (pointer(vm, "vm_struct", "addr") != stack
                    || pointer(vm, "vm_struct", "size") != platform.threadSize() + pageSize
                    || (pointer(vm, "vm_struct", "flags") & 0x22) != 0x2
                    || int32(vm, "vm_struct", "nr_pages") != platform.threadSize() / pageSize
                    || va == 0 || pointer(va, "vmap_area", "vm") != vm
                    || pointer(va, "vmap_area", "va_end") != stack + platform.threadSize() + pageSize
                    || (pointer(va, "vmap_area", "flags") & 0x4) == 0) {
                fail(Rule.VMALLOC, String.format("%s: stack_vm_area 0x%x does not describe its stack 0x%x", name(t), vm, stack));
            }
        }
    }

    private void checkTask(long t, boolean idle, Set<Integer> pids) {
        int exitState = task(t).exitState();
        if (exitState != 0 && exitState != TaskStateBits.EXIT_ZOMBIE) {
            fail(Rule.EXIT_STATE, name(t) + " has exit_state 0x" + Integer.toHexString(exitState));
        }
        long stack = task(t).stack();
        if (exitState == 0 || !platform.threadInfoInTask()) {
            if (stack == 0 || stack % platform.threadAlign() != 0 || !m.contains(stack, platform.threadSize())) {
                fail(Rule.STACK, name(t) + " has stack 0x" + Long.toHexString(stack));
                return;
            }
            if (!platform.stackEndMagicIntact(m, t)) {
                fail(Rule.STACK, name(t) + ": STACK_END_MAGIC overwritten");
            }
            if (!platform.threadInfoInTask() && pointer(stack, "thread_info", "task") != t) {
                fail(Rule.STACK, name(t) + ": thread_info->task does not point back");
            }
            int cpu = task(t).cpu();
            if (cpu < 0 || cpu >= kernel.cpus()) {
                fail(Rule.STACK, name(t) + ": task_cpu " + cpu + " is not an online CPU");
            }
        } else if (stack != 0) {
            fail(Rule.STACK, name(t) + ": a dead task's stack is not released (put_task_stack)");
        }
        if (idle) {
            return;
        }
        int pid = task(t).pid();
        if (pid < 1 || pid >= pidMax || !pids.add(pid)) {
            fail(Rule.PID, name(t) + ": pid out of range or used twice");
            return;
        }
        long pidStruct = pointer(t, "task_struct", "thread_pid");
        if (pidStruct == 0 || !m.contains(pidStruct, 4)) {
            fail(Rule.PID, name(t) + ": no thread_pid");
            return;
        }
        if (m.readInt(pidStruct + off("pid", "numbers") + off("upid", "nr")) != pid) {
            fail(Rule.PID, name(t) + ": pid_nr(thread_pid) is not its pid");
        }
        if (m.readPointer(pidStruct + off("pid", "tasks")) != t + off("task_struct", "pid_links")) {
            fail(Rule.PID, name(t) + ": not first on its pid's PIDTYPE_PID list (attach_pid)");
        }
        if (idrFind(initPidNs, pid) != pidStruct) {
            fail(Rule.PID, name(t) + ": idr_find(&init_pid_ns.idr, " + pid + ") is not its struct pid");
        }
    }

    /** {@code idr_find}: a walk of the radix tree from the namespace's {@code idr.idr_rt}, as radix_tree_lookup does. */
    private long idrFind(long ns, int id) {
        long root = ns + off("pid_namespace", "idr") + off("idr", "idr_rt");
        long index = Integer.toUnsignedLong(id);
        long entry = pointer(root, "radix_tree_root", "rnode");
        if ((entry & 1) == 0) {
            return index == 0 ? entry : 0;
        }
        long slots = off("radix_tree_node", "slots");
        for (int depth = 0; (entry & 1) != 0; depth++) {
            long node = entry & ~1L;
            if (depth > 12 || !m.contains(node, slots)) {
                return -1;
            }
            int shift = m.readByte(node + off("radix_tree_node", "shift")) & 0xff;
            if (depth == 0 && shift + 6 < 64 && (index >>> (shift + 6)) != 0) {
                return 0; // beyond the tree's maximum index (radix_tree_load_root)
            }
            entry = m.readPointer(node + slots + ((index >>> shift) & 63) * ptr);
        }
        return entry;
    }

    private void checkFamilies(List<Long> listed, Set<Long> live) {
        long children = off("task_struct", "children");
        long sibling = off("task_struct", "sibling");
        Map<Long, Integer> seen = new HashMap<>();
        for (long parent : live) {
            for (long node : entries(parent + children, name(parent) + ".children")) {
                long child = node - sibling;
                if (!live.contains(child) || task(child).realParent() != parent) {
                    fail(Rule.FAMILY, "0x" + Long.toHexString(child) + " on " + name(parent)
                            + ".children is not a live child of it");
                    continue;
                }
                seen.merge(child, 1, Integer::sum);
            }
        }
        for (long t : listed) {
            if (t == initTask) {
                continue;
            }
            if (task(t).groupLeader() == t && seen.getOrDefault(t, 0) != 1) {
                fail(Rule.FAMILY, name(t) + " is on " + seen.getOrDefault(t, 0) + " children lists");
            }
            if (!live.contains(task(t).realParent())) {
                fail(Rule.FAMILY, name(t) + ": its real_parent is gone");
            }
        }
    }

    private Map<Long, Integer> users(Collection<Long> tasks, String member) {
        Map<Long, Integer> out = new HashMap<>();
        for (long t : tasks) {
            long v = pointer(t, "task_struct", member);
            if (v != 0) {
                out.merge(v, 1, Integer::sum);
            }
        }
        return out;
    }

    private void expectCount(long address, String type, String field, int expected) {
        int actual = int32(address, type, field);
        if (actual != expected) {
            fail(Rule.REFCOUNT, String.format("%s.%s of 0x%x is %d with %d users", type, field, address, actual,
                    expected));
        }
    }

    private void checkCounts(Set<Long> live, Set<Long> all) {
        users(all, "files").forEach((a, n) -> expectCount(a, "files_struct", "count", n));
        users(all, "fs").forEach((a, n) -> expectCount(a, "fs_struct", "users", n));
        users(all, "sighand").forEach((a, n) -> expectCount(a, "sighand_struct", "count", n));
        users(all, "nsproxy").forEach((a, n) -> expectCount(a, "nsproxy", "count", n));
        long initSignal = pointer(initTask, "task_struct", "signal");
        Map<Long, Integer> alive = new HashMap<>();
        for (long t : live) {
            if ((task(t).flags() & TaskFlags.PF_EXITING) == 0) {
                alive.merge(pointer(t, "task_struct", "signal"), 1, Integer::sum);
            }
        }
        users(live, "signal").forEach((a, n) -> expectCount(a, "signal_struct", "nr_threads", n));
        users(all, "signal").forEach((a, n) -> {
            if (a != initSignal) {
                expectCount(a, "signal_struct", "sigcnt", n);
                expectCount(a, "signal_struct", "live", alive.getOrDefault(a, 0));
            }
        });
        long initMm = kernel.symbol("init_mm");
        Map<Long, Integer> mmUsers = users(all, "mm");
        Map<Long, Integer> borrowed = new HashMap<>();
        for (long t : all) {
            long active = pointer(t, "task_struct", "active_mm");
            if (active != 0 && active != pointer(t, "task_struct", "mm")) {
                borrowed.merge(active, 1, Integer::sum);
            }
        }
        Set<Long> mms = new HashSet<>(mmUsers.keySet());
        mms.addAll(borrowed.keySet());
        for (long mm : mms) {
            int u = mmUsers.getOrDefault(mm, 0);
            if (mm == initMm) {
                expectCount(mm, "mm_struct", "mm_count", 1 + borrowed.getOrDefault(mm, 0));
                continue;
            }
            expectCount(mm, "mm_struct", "mm_users", u);
            expectCount(mm, "mm_struct", "mm_count", (u > 0 ? 1 : 0) + borrowed.getOrDefault(mm, 0));
        }
        long initCred = pointer(initTask, "task_struct", "cred");
        Map<Long, Integer> creds = users(all, "cred");
        users(all, "real_cred").forEach((c, n) -> creds.merge(c, n, Integer::sum));
        creds.forEach((c, n) -> {
            if (c != initCred) {
                expectCount(c, "cred", "usage", n);
            }
        });
        Map<Long, Integer> processes = new HashMap<>();
        for (long t : live) {
            processes.merge(pointer(pointer(t, "task_struct", "real_cred"), "cred", "user"), 1, Integer::sum);
        }
        processes.forEach((u, n) -> expectCount(u, "user_struct", "processes", n));
        checkUsers(creds.keySet(), processes.keySet());
        checkPidNamespaces(all);
        checkNamespaces(all, creds.keySet());
    }

    /** A namespace type's nsproxy member, struct, refcount field and the Kconfig option that makes get/put count. */
    private record NsType(String member, String type, String count, String option, String init, int base, int ucount) {
    }

    private static final List<NsType> NS_TYPES = List.of(
            new NsType("uts_ns", "uts_namespace", "kref", "CONFIG_UTS_NS", "init_uts_ns", 2, 2),
            new NsType("ipc_ns", "ipc_namespace", "count", "CONFIG_IPC_NS", "init_ipc_ns", 1, 3),
            new NsType("mnt_ns", "mnt_namespace", "count", null, null, 2, 5),
            new NsType("cgroup_ns", "cgroup_namespace", "count", "CONFIG_CGROUPS", "init_cgroup_ns", 2, 6),
            new NsType("net_ns", "net", "count", "CONFIG_NET_NS", "init_net", 1, 4));

    /**
     * The namespaces of every nsproxy ({@code create_new_namespaces}, {@code free_nsproxy}): each
     * namespace's refcount is its static base plus one per nsproxy other than {@code init_nsproxy}
     * naming it (the init ones: {@code init_uts_ns} 2, {@code init_ipc_ns} 1, the init mount namespace
     * 2, {@code init_cgroup_ns} 2, {@code init_net} 1; a build without the namespace does not count);
     * each user namespace's {@code count} is {@code init_user_ns}'s static 3 or 0, plus one per cred
     * in it (other than init_cred), per namespace it owns and per child user namespace
     * ({@code get_user_ns}); each {@code struct ucounts} in {@code ucounts_hashtable} sits in its
     * (namespace, uid) bucket, has one reference per namespace holding it, and counts in
     * {@code ucount[type]} the namespaces of that type charged to it or below it ({@code inc_ucount});
     * {@code net_namespace_list} holds exactly the live network namespaces.
     */
    private void checkNamespaces(Set<Long> all, Set<Long> creds) {
        if (profile.find("user_namespace").isEmpty() || profile.find("ucounts").isEmpty()) {
            return;
        }
        long initNsproxy = kernel.symbol("init_nsproxy");
        long initUserNs = kernel.symbol("init_user_ns");
        boolean userNsBuilt = profile.config().enabled("CONFIG_USER_NS");
        Set<Long> nsproxies = new LinkedHashSet<>();
        nsproxies.add(initNsproxy);
        for (long t : all) {
            long nsproxy = pointer(t, "task_struct", "nsproxy");
            if (nsproxy != 0) {
                nsproxies.add(nsproxy);
            }
        }
        Map<Long, Integer> userRefs = new HashMap<>();
        userRefs.put(initUserNs, 3);
        Map<Long, Integer> ucountRefs = new HashMap<>();
        Map<Long, int[]> charged = new HashMap<>();
        int counts = (int) ((profile.sizeOf("ucounts") - off("ucounts", "ucount")) / 4);
        java.util.function.BiConsumer<Long, Integer> charge = (ucounts, type) -> {
            if (ucounts == 0) {
                return;
            }
            ucountRefs.merge(ucounts, 1, Integer::sum);
            long u = ucounts;
            for (int depth = 0; u != 0 && depth <= 33; depth++) {
                charged.computeIfAbsent(u, x -> new int[counts])[type]++;
                u = pointer(pointer(u, "ucounts", "ns"), "user_namespace", "ucounts");
            }
        };
        Set<Long> nets = new HashSet<>();
        for (NsType type : NS_TYPES) {
            boolean counted = type.option() == null || profile.config().enabled(type.option());
            Map<Long, Integer> refs = new HashMap<>();
            long initNs = pointer(initNsproxy, "nsproxy", type.member());
            if (initNs == 0) {
                continue;
            }
            refs.put(initNs, type.base());
            for (long nsproxy : nsproxies) {
                long ns = pointer(nsproxy, "nsproxy", type.member());
                if (nsproxy != initNsproxy && ns != 0) {
                    refs.merge(ns, counted ? 1 : 0, Integer::sum);
                }
            }
            for (var e : refs.entrySet()) {
                long ns = e.getKey();
                expectCount(ns, type.type(), type.count(), e.getValue());
                if (type.type().equals("net")) {
                    nets.add(ns);
                }
                boolean isStatic = type.init() != null && ns == kernel.symbol(type.init());
                if (!isStatic && userNsBuilt) {
                    userRefs.merge(pointer(ns, type.type(), "user_ns"), 1, Integer::sum);
                }
                if (!isStatic) {
                    charge.accept(pointer(ns, type.type(), "ucounts"), type.ucount());
                }
            }
        }
        // pid namespaces below init_pid_ns: their owners and ucounts
        if (profile.config().enabled("CONFIG_PID_NS")) {
            Set<Long> pidNamespaces = new HashSet<>();
            for (long nsproxy : nsproxies) {
                for (long ns = pointer(nsproxy, "nsproxy", "pid_ns_for_children"); ns != 0 && ns != initPidNs
                        && pidNamespaces.size() <= bound && pidNamespaces.add(ns); ns = pointer(ns, "pid_namespace", "parent")) {
                }
            }
            for (long t : all) {
                long pid = pointer(t, "task_struct", "thread_pid");
                if (pid != 0) {
                    long upid = pid + off("pid", "numbers") + int32(pid, "pid", "level") * profile.sizeOf("upid");
                    for (long ns = m.readPointer(upid + off("upid", "ns")); ns != 0 && ns != initPidNs
                            && pidNamespaces.size() <= bound && pidNamespaces.add(ns); ns = pointer(ns, "pid_namespace", "parent")) {
                    }
                }
            }
            for (long ns : pidNamespaces) {
                if (userNsBuilt) {
                    userRefs.merge(pointer(ns, "pid_namespace", "user_ns"), 1, Integer::sum);
                }
                charge.accept(pointer(ns, "pid_namespace", "ucounts"), 1);
            }
        }
        if (userNsBuilt) {
            long initCred = pointer(initTask, "task_struct", "cred");
            for (long c : creds) {
                if (c != initCred) {
                    userRefs.merge(pointer(c, "cred", "user_ns"), 1, Integer::sum);
                }
            }
            Set<Long> userNamespaces = new HashSet<>(userRefs.keySet());
            Set<Long> seen = new HashSet<>();
            for (long ns : userNamespaces) {
                for (long child = ns; child != initUserNs && child != 0 && seen.size() <= bound && seen.add(child);
                        child = pointer(child, "user_namespace", "parent")) {
                    userRefs.merge(pointer(child, "user_namespace", "parent"), 1, Integer::sum);
                    charge.accept(pointer(child, "user_namespace", "ucounts"), 0);
                }
            }
            userRefs.forEach((ns, n) -> expectCount(ns, "user_namespace", "count", n));
        } else {
            expectCount(initUserNs, "user_namespace", "count", 3);
        }
        // ucounts_hashtable
        long table = kernel.symbol("ucounts_hashtable");
        Set<Long> hashed = new HashSet<>();
        for (int bucket = 0; bucket < 1024; bucket++) {
            long head = table + (long) bucket * ptr;
            long pprev = head;
            for (long n = m.readPointer(head); n != 0; n = m.readPointer(n)) {
                long uc = n - off("ucounts", "node");
                if (hashed.size() >= bound || !hashed.add(uc) || m.readPointer(n + ptr) != pprev) {
                    fail(Rule.LIST_CLOSES, "ucounts_hashtable[" + bucket + "] is not a well-formed hlist");
                    break;
                }
                if (ucountsBucket(pointer(uc, "ucounts", "ns"), int32(uc, "ucounts", "uid")) != bucket) {
                    fail(Rule.NAMESPACES, String.format("ucounts 0x%x is in bucket %d", uc, bucket));
                }
                expectCount(uc, "ucounts", "count", ucountRefs.getOrDefault(uc, 0));
                int[] expected = charged.getOrDefault(uc, new int[counts]);
                for (int type = 0; type < counts; type++) {
                    int actual = m.readInt(uc + off("ucounts", "ucount") + 4L * type);
                    if (actual != expected[type]) {
                        fail(Rule.NAMESPACES, String.format("ucounts 0x%x ucount[%d] is %d with %d namespaces charged",
                                uc, type, actual, expected[type]));
                    }
                }
                pprev = n;
            }
        }
        for (long uc : ucountRefs.keySet()) {
            if (!hashed.contains(uc)) {
                fail(Rule.NAMESPACES, String.format("ucounts 0x%x is not in ucounts_hashtable", uc));
            }
        }
        // net_namespace_list
        Set<Long> listed = new HashSet<>();
        for (long entry : entries(kernel.symbol("net_namespace_list"), "net_namespace_list")) {
            listed.add(entry - off("net", "list"));
        }
        if (!listed.equals(nets)) {
            fail(Rule.NAMESPACES, "net_namespace_list holds " + listed.size() + " namespaces, nsproxies name " + nets.size());
        }
    }

    /** {@code ucounts_hashfn(ns, uid)}: {@code hash_long(uid + ns, 10)}. */
    private int ucountsBucket(long ns, int uid) {
        if (ptr == 8) {
            return (int) ((Integer.toUnsignedLong(uid) + ns) * 0x61C8864680B583EBL >>> 54);
        }
        return ((uid + (int) ns) * 0x61C88647) >>> 22;
    }

    /**
     * Every pid namespace's {@code kref} equals its references: one per struct pid whose deepest level
     * is in it ({@code alloc_pid}'s {@code get_pid_ns}), one per nsproxy other than init_nsproxy whose
     * {@code pid_ns_for_children} it is ({@code copy_pid_ns}), one per child namespace
     * ({@code create_pid_namespace}), and init_pid_ns's static 2. Without CONFIG_PID_NS
     * {@code get_pid_ns}/{@code put_pid_ns} do nothing and init_pid_ns keeps 2.
     */
    private void checkPidNamespaces(Set<Long> all) {
        Set<Long> structPids = new HashSet<>();
        Set<Long> nsproxies = new HashSet<>();
        for (long t : all) {
            long pid = pointer(t, "task_struct", "thread_pid");
            if (pid != 0) {
                structPids.add(pid);
            }
            long signal = pointer(t, "task_struct", "signal");
            if (signal != 0) {
                for (int type = 1; type < 4; type++) {
                    long p = m.readPointer(signal + off("signal_struct", "pids") + (long) type * ptr);
                    if (p != 0) {
                        structPids.add(p);
                    }
                }
            }
            long nsproxy = pointer(t, "task_struct", "nsproxy");
            if (nsproxy != 0) {
                nsproxies.add(nsproxy);
            }
        }
        if (!profile.config().enabled("CONFIG_PID_NS")) {
            expectCount(initPidNs, "pid_namespace", "kref", 2);
            return;
        }
        long initStructPid = kernel.symbol("init_struct_pid");
        long upidSize = profile.sizeOf("upid");
        Map<Long, Integer> refs = new HashMap<>();
        refs.put(initPidNs, 2);
        for (long pid : structPids) {
            if (pid == initStructPid) {
                continue;
            }
            int level = int32(pid, "pid", "level");
            long ns = m.readPointer(pid + off("pid", "numbers") + level * upidSize + off("upid", "ns"));
            refs.merge(ns, 1, Integer::sum);
        }
        long initNsproxy = pointer(initTask, "task_struct", "nsproxy");
        for (long nsproxy : nsproxies) {
            long ns = pointer(nsproxy, "nsproxy", "pid_ns_for_children");
            refs.merge(ns, nsproxy == initNsproxy ? 0 : 1, Integer::sum);
        }
        Set<Long> namespaces = new HashSet<>(refs.keySet());
        Set<Long> counted = new HashSet<>();
        for (long ns : namespaces) {
            // each namespace below init_pid_ns holds one reference on its parent, counted once
            long child = ns;
            while (child != initPidNs && counted.size() <= bound && counted.add(child)) {
                long parent = pointer(child, "pid_namespace", "parent");
                refs.merge(parent, 1, Integer::sum);
                child = parent;
            }
        }
        refs.forEach((ns, n) -> expectCount(ns, "pid_namespace", "kref", n));
    }

    /** {@code UIDHASH_SZ} (kernel/user.c: 1 << UIDHASH_BITS, 7 without CONFIG_BASE_SMALL). */
    private static final int UIDHASH_SZ = 128;

    /**
     * Every user_struct hashed in {@code uidhash_table} has one reference per cred naming it (its
     * {@code __count}: {@code alloc_uid}/{@code get_uid} per {@code prepare_creds}, {@code free_uid} per
     * freed cred), sits in the bucket of its uid, and every task's user is found there by
     * {@code find_user}.
     */
    private void checkUsers(Set<Long> creds, Set<Long> taskUsers) {
        Map<Long, Integer> refs = new HashMap<>();
        for (long c : creds) {
            refs.merge(pointer(c, "cred", "user"), 1, Integer::sum);
        }
        long table = kernel.symbol("uidhash_table");
        long node = off("user_struct", "uidhash_node");
        Set<Long> hashed = new HashSet<>();
        for (int bucket = 0; bucket < UIDHASH_SZ; bucket++) {
            long head = table + (long) bucket * ptr;
            long pprev = head;
            for (long n = m.readPointer(head); n != 0; n = m.readPointer(n)) {
                long user = n - node;
                int uid = int32(user, "user_struct", "uid");
                if (hashed.size() >= bound || !hashed.add(user) || m.readPointer(n + ptr) != pprev) {
                    fail(Rule.LIST_CLOSES, "uidhash_table[" + bucket + "] is not a well-formed hlist");
                    break;
                }
                if ((((uid >>> 7) + uid) & (UIDHASH_SZ - 1)) != bucket) {
                    fail(Rule.USERS, String.format("user_struct 0x%x of uid %d is in bucket %d", user, uid, bucket));
                }
                expectCount(user, "user_struct", "__count", refs.getOrDefault(user, 0));
                pprev = n;
            }
        }
        Set<Long> named = new HashSet<>(refs.keySet());
        named.addAll(taskUsers);
        for (long user : named) {
            if (!hashed.contains(user)) {
                fail(Rule.USERS, String.format("user_struct 0x%x of uid %d is not in uidhash_table (find_user misses it)",
                        user, int32(user, "user_struct", "uid")));
            }
        }
    }

    private void checkScheduler(Set<Long> live, long[] idle) {
        int spIndex = platform.cpuRegisters().indexOf("sp");
        Set<Long> currents = new HashSet<>();
        Set<Long> queued = new HashSet<>();
        for (int cpu = 0; cpu < kernel.cpus(); cpu++) {
            long rq = rq(cpu);
            String where = "CPU " + cpu;
            long cur;
            boolean fromRegisters = true;
            try {
                cur = current(cpu);
            } catch (io.github.kproc.mem.MemoryFaultException e) {
                // a dump of a CPU in user mode: its sp is a user address, it leads to no thread_info;
                // the other checks go on with rq->curr
                fail(Rule.CURRENT, where + ": the registers lead to no task (" + e.getMessage() + ")");
                cur = pointer(rq, "rq", "curr");
                fromRegisters = false;
            }
            if (cur != pointer(rq, "rq", "curr")) {
                fail(Rule.CURRENT, where + ": current " + name(cur) + " is not rq->curr");
            }
            if (!live.contains(cur) || task(cur).rawState() != 0 || task(cur).cpu() != cpu
                    || int32(cur, "task_struct", "on_cpu") != 1) {
                fail(Rule.CURRENT, where + ": current " + name(cur) + " is not a live TASK_RUNNING task on it");
            }
            long sp = kernel.registers(cpu)[spIndex];
            long stack = task(cur).stack();
            if (fromRegisters && (sp <= stack || sp > stack + platform.threadSize())) {
                fail(Rule.CURRENT, where + ": sp 0x" + Long.toHexString(sp) + " is outside current's stack");
            }
            if (!currents.add(cur)) {
                fail(Rule.CURRENT, name(cur) + " is current on two CPUs");
            }
            List<Long> fair = timeline(cpu, rq);
            List<Long> rt = rtQueued(cpu, rq);
            int count = 0;
            for (List<Long> q : List.of(fair, rt)) {
                for (long t : q) {
                    count++;
                    if (!live.contains(t) || isIdle(t) || task(t).rawState() != 0 || task(t).onRq() != 1
                            || task(t).cpu() != cpu) {
                        fail(Rule.RUNQUEUE, where + " queues " + name(t) + ", which is not a runnable task of it");
                    }
                    if (!queued.add(t)) {
                        fail(Rule.RUNQUEUE, name(t) + " is queued twice");
                    }
                }
            }
            int nrRunning = int32(rq, "rq", "nr_running");
            int expected = count + (cur == idle[cpu] ? 0 : 1);
            if (nrRunning != expected) {
                fail(Rule.RUNQUEUE, where + ": rq->nr_running " + nrRunning + " with " + count + " queued");
            }
        }
        for (long t : live) {
            if (currents.contains(t) || isIdle(t)) {
                continue;
            }
            if (int32(t, "task_struct", "on_cpu") != 0) {
                fail(Rule.CURRENT, name(t) + " has on_cpu set but runs nowhere");
            }
            if (task(t).onRq() == 1 && !queued.contains(t)) {
                fail(Rule.RUNQUEUE, name(t) + " is on_rq but on no runqueue");
            }
            if (task(t).exitState() == 0) {
                int expected = platform.forkPreemptCount();
                int count = m.readInt(platform.taskThreadInfo(m, t) + platform.offsets().tiPreemptCount);
                if (platform.preemptCountEnabled() && count != expected) {
                    fail(Rule.PREEMPT_COUNT, name(t) + " is off the CPU with preempt_count 0x"
                            + Integer.toHexString(count) + ", not 0x" + Integer.toHexString(expected));
                }
            }
        }
    }

    /** {@code cfs_rq->tasks_timeline} in order, checking the red-black rules and the cached leftmost. */
    private List<Long> timeline(int cpu, long rq) {
        long root = rq + off("rq", "cfs") + off("cfs_rq", "tasks_timeline");
        List<Long> out = new ArrayList<>();
        long top = m.readPointer(root + off("rb_root_cached", "rb_root") + off("rb_root", "rb_node"));
        if (top != 0 && (m.readPointer(top + off("rb_node", "__rb_parent_color")) & 1) == 0) {
            fail(Rule.RUNQUEUE, "CPU " + cpu + ": the timeline's root is red");
        }
        walk(cpu, top, 0, 0, out, new int[] {-1});
        long leftmost = m.readPointer(root + off("rb_root_cached", "rb_leftmost"));
        long runNode = off("task_struct", "se.run_node");
        if (leftmost != (out.isEmpty() ? 0 : out.get(0) + runNode)) {
            fail(Rule.RUNQUEUE, "CPU " + cpu + ": rb_leftmost is not the first entity");
        }
        long vruntime = off("task_struct", "se.vruntime");
        for (int i = 1; i < out.size(); i++) {
            if (m.readLong(out.get(i - 1) + vruntime) - m.readLong(out.get(i) + vruntime) > 0) {
                fail(Rule.RUNQUEUE, "CPU " + cpu + ": the timeline is not in vruntime order at " + name(out.get(i)));
            }
        }
        return out;
    }

    /** In-order walk; {@code blackHeight[0]} is the black height every leaf path must have (-1 until the first). */
    private void walk(int cpu, long node, int depth, int blacks, List<Long> out, int[] blackHeight) {
        if (node == 0) {
            if (blackHeight[0] < 0) {
                blackHeight[0] = blacks;
            } else if (blackHeight[0] != blacks) {
                fail(Rule.RUNQUEUE, "CPU " + cpu + ": the timeline's paths have different black heights");
            }
            return;
        }
        if (depth > 128 || out.size() > bound || !m.contains(node, 3L * ptr)) {
            fail(Rule.LIST_CLOSES, "CPU " + cpu + ": the timeline is not a tree");
            return;
        }
        long mask = ptr == 8 ? ~3L : 0xfffffffcL;
        boolean red = (m.readPointer(node + off("rb_node", "__rb_parent_color")) & 1) == 0;
        long left = m.readPointer(node + off("rb_node", "rb_left"));
        long right = m.readPointer(node + off("rb_node", "rb_right"));
        for (long child : new long[] {left, right}) {
            if (child == 0) {
                continue;
            }
            long pc = m.readPointer(child + off("rb_node", "__rb_parent_color"));
            if ((pc & mask) != node) {
                fail(Rule.RUNQUEUE, "CPU " + cpu + ": a timeline node's parent pointer is wrong");
            }
            if (red && (pc & 1) == 0) {
                fail(Rule.RUNQUEUE, "CPU " + cpu + ": a red timeline node has a red child");
            }
        }
        walk(cpu, left, depth + 1, blacks + (red ? 0 : 1), out, blackHeight);
        out.add(node - off("task_struct", "se.run_node"));
        walk(cpu, right, depth + 1, blacks + (red ? 0 : 1), out, blackHeight);
    }

    /** The tasks of {@code rt_rq->active}, checking the bitmap against the lists. */
    private List<Long> rtQueued(int cpu, long rq) {
        long array = rq + off("rq", "rt") + off("rt_rq", "active");
        long bitmap = array + off("rt_prio_array", "bitmap");
        long queue = array + off("rt_prio_array", "queue");
        long listSize = profile.sizeOf("list_head");
        int prios = (int) profile.struct("rt_prio_array").member("queue").elementCount();
        int bits = 8 * ptr;
        List<Long> out = new ArrayList<>();
        for (int prio = 0; prio < prios; prio++) {
            boolean set = (m.readPointer(bitmap + (long) (prio / bits) * ptr) & (1L << (prio % bits))) != 0;
            List<Long> entries = entries(queue + prio * listSize, "CPU " + cpu + " rt queue " + prio);
            if (set == entries.isEmpty()) {
                fail(Rule.RUNQUEUE, "CPU " + cpu + ": rt bitmap bit " + prio + " disagrees with its list");
            }
            for (long node : entries) {
                out.add(node - off("task_struct", "rt.run_list"));
            }
        }
        return out;
    }

    // ---- PELT: each cfs_rq's averages against its attached entities ----

    /** {@code LOAD_AVG_MAX}. */
    private static final long LOAD_AVG_MAX = 47742;
    /** {@code runnable_avg_yN_inv} (kernel/sched/sched-pelt.h): y^n in 32.32 fixed point, y^32 = 1/2. */
    private static final long[] Y_N_INV = {
        0xffffffffL, 0xfa83b2daL, 0xf5257d14L, 0xefe4b99aL, 0xeac0c6e6L, 0xe5b906e6L,
        0xe0ccdeebL, 0xdbfbb796L, 0xd744fcc9L, 0xd2a81d91L, 0xce248c14L, 0xc9b9bd85L,
        0xc5672a10L, 0xc12c4cc9L, 0xbd08a39eL, 0xb8fbaf46L, 0xb504f333L, 0xb123f581L,
        0xad583ee9L, 0xa9a15ab4L, 0xa5fed6a9L, 0xa2704302L, 0x9ef5325fL, 0x9b8d39b9L,
        0x9837f050L, 0x94f4efa8L, 0x91c3d373L, 0x8ea4398aL, 0x8b95c1e3L, 0x88980e80L,
        0x85aac367L, 0x82cd8698L};

    /**
     * How far a cfs_rq's {@code util_avg} or {@code runnable_load_avg} may stray from the sum of its
     * entities': each average is a truncated quotient (up to 1 each), and the queue's sums decay as one
     * number where the entities' decay one by one, each truncation worth up to weight / divider of an
     * average and fading by y per period; a nice -20 task (weight 88761) updated every period could
     * gather some 2 * 47 * 88761 / 46718 of it. A task attached twice (half the free capacity of util)
     * is outside it.
     */
    private long peltSlack(long weights, int entities) {
        return 2 + 2L * entities + (94 * weights + LOAD_AVG_MAX - 1) / (LOAD_AVG_MAX - 1024);
    }

    /**
     * {@code cfs_rq->avg} holds the util of the fair tasks attached to it, no more, and the runnable
     * load of those queued: the attached tasks are the live tasks of the CPU with a
     * {@code se.avg.last_update_time} (0 means detached in 4.19, see {@code update_load_avg}'s
     * DO_ATTACH), but dead ones ({@code task_dead_fair} removed them); the queue's util counts less what
     * {@code cfs_rq->removed} still holds for its next update. Each entity is first brought to the
     * queue's {@code last_update_time} as {@code ___update_load_sum}/{@code ___update_load_avg} would
     * (runnable while {@code se.on_rq}, running while {@code cfs_rq->curr}), as its state has not
     * changed since its own last update; then the queue's util must not exceed theirs, and its
     * runnable load must match theirs, by more than {@link #peltSlack}. (The util's low side is not
     * checked: a long property run once found a queue 23 below its two entities, not explained yet.)
     * {@code attach_entity_load_avg}, {@code detach_entity_load_avg}, {@code remove_entity_load_avg}
     * and {@code enqueue/dequeue_runnable_load_avg} keep it; an entity attached twice breaks it.
     * A zombie is the one exception 4.19 itself makes: {@code task_dead_fair} removed its util, but
     * {@code sched_setscheduler} still works on it, and {@code check_class_changed} detaches it again
     * when it leaves CFS (the queue ends below the sum by its util) or attaches it when it joins
     * (above); so a fair zombie's util is allowed above the sum. {@code load_avg} is not checked:
     * 4.19's {@code reweight_entity} of a sleeping task (a nice change,
     * {@code set_user_nice} does not dequeue it, so its average is not brought up to date) swaps its
     * stale average in the queue's, a drift the kernel has too and that decays away with the sums.
     */
    private void checkPelt(Set<Long> live) {
        if (!profile.has("task_struct", "se.avg") || !profile.has("cfs_rq", "removed")) {
            return;
        }
        long fair = kernel.symbol("fair_sched_class");
        int shift = ptr == 8 ? 10 : 0;
        long seAvg = off("task_struct", "se.avg");
        long se = off("task_struct", "se");
        for (int cpu = 0; cpu < kernel.cpus(); cpu++) {
            long cfs = rq(cpu) + off("rq", "cfs");
            long sa = cfs + off("cfs_rq", "avg");
            long now = m.readLong(sa + off("sched_avg", "last_update_time"));
            long curr = pointer(cfs, "cfs_rq", "curr");
            long runnable = 0;
            long util = 0;
            long weights = 0;
            int entities = 0;
            // the util of fair zombies, which a policy change may have attached again (see the javadoc)
            long deadAbove = 0;
            for (long t : live) {
                if (task(t).cpu() != cpu || isIdle(t) || m.readLong(t + seAvg + off("sched_avg", "last_update_time")) == 0) {
                    continue;
                }
                boolean isFair = pointer(t, "task_struct", "sched_class") == fair;
                long weight = pointer(t, "task_struct", "se.load.weight") >>> shift;
                if ((task(t).rawState() & TaskStateBits.TASK_DEAD) != 0) {
                    if (isFair) {
                        deadAbove += syncedAverages(t + seAvg, now, false, false, weight)[1];
                    }
                    continue;
                }
                if (!isFair) {
                    continue;
                }
                boolean onRq = int32(t, "task_struct", "se.on_rq") != 0;
                long[] avg = syncedAverages(t + seAvg, now, onRq, curr == t + se, weight);
                if (onRq) {
                    runnable += avg[0];
                }
                util += avg[1];
                weights += weight;
                entities++;
            }
            long queueRunnable = pointer(sa, "sched_avg", "runnable_load_avg");
            // what update_cfs_rq_load_avg will leave: sub_positive, never below 0
            long queueUtil = Math.max(0, pointer(sa, "sched_avg", "util_avg") - pointer(cfs, "cfs_rq", "removed.util_avg"));
            long slack = peltSlack(weights, entities);
            // util is checked from above only (a task counted twice), see the javadoc
            if (queueUtil - util > slack + deadAbove || Math.abs(queueRunnable - runnable) > slack) {
                fail(Rule.PELT, String.format("CPU %d: cfs_rq util_avg %d (less removed) and runnable_load_avg %d, its %d"
                        + " attached entities' %d and %d (slack %d)", cpu, queueUtil, queueRunnable, entities, util,
                        runnable, slack));
            }
        }
    }

    /** {@code decay_load(val, n)}: val * y^n. */
    private static long decayLoad(long val, long n) {
        if (Long.compareUnsigned(n, 32L * 63) > 0) {
            return 0;
        }
        if (n >= 32) {
            val >>>= n / 32;
            n %= 32;
        }
        long mul = Y_N_INV[(int) n];
        return (Math.unsignedMultiplyHigh(val, mul) << 32) | ((val * mul) >>> 32);
    }

    /**
     * An entity's {@code runnable_load_avg} and {@code util_avg} once {@code ___update_load_sum(now, ...)} and,
     * if a period was crossed, {@code ___update_load_avg} ran on it, computed without writing memory.
     */
    private long[] syncedAverages(long sa, long now, boolean onRq, boolean running, long weight) {
        long runnableAvg = pointer(sa, "sched_avg", "runnable_load_avg");
        long utilAvg = pointer(sa, "sched_avg", "util_avg");
        long delta = now - m.readLong(sa + off("sched_avg", "last_update_time"));
        if (delta < 1024) {
            return new long[] {runnableAvg, utilAvg};
        }
        delta >>>= 10;
        long runnableSum = m.readLong(sa + off("sched_avg", "runnable_load_sum"));
        long utilSum = int32(sa, "sched_avg", "util_sum") & 0xffffffffL;
        long periodContrib = int32(sa, "sched_avg", "period_contrib") & 0xffffffffL;
        long contrib = delta & 0xffffffffL;
        delta += periodContrib;
        long periods = delta / 1024;
        if (periods == 0) {
            return new long[] {runnableAvg, utilAvg};
        }
        runnableSum = decayLoad(runnableSum, periods);
        utilSum = decayLoad(utilSum, periods);
        delta %= 1024;
        contrib = (decayLoad(1024 - periodContrib, periods) + LOAD_AVG_MAX - decayLoad(LOAD_AVG_MAX, periods) - 1024
                + delta) & 0xffffffffL;
        if (onRq) {
            runnableSum += contrib;
            if (running) {
                utilSum = (utilSum + contrib * 1024) & 0xffffffffL;
            }
        }
        long divider = LOAD_AVG_MAX - 1024 + delta;
        return new long[] {Long.divideUnsigned(weight * runnableSum, divider), utilSum / divider};
    }
}
