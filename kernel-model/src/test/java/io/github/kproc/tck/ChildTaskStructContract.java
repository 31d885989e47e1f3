package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Tracer;
import io.github.kproc.layout.Field;
import io.github.kproc.layout.Member;
import io.github.kproc.layout.Profile;
import io.github.kproc.layout.StructLayout;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskFlags;
import io.github.kproc.view.TaskStateBits;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The whole {@code task_struct} a fork leaves, byte range by byte range, as {@code copy_process}
 * returns it (read at its {@code task_newtask} event, before {@code wake_up_new_task}): the test
 * starts from the parent's bytes ({@code arch_dup_task_struct}'s {@code *dst = *src}), applies what
 * each named kernel function of {@code dup_task_struct}, {@code copy_process}, {@code sched_fork} /
 * {@code __sched_fork} and the {@code copy_*} steps writes, and requires every byte of the child,
 * padding included, to be that. A member the model leaves neither as the parent's nor as a named
 * function sets it fails the test, with its path.
 *
 * <p>Values that are new allocations (the stack, the creds, the signal_struct, the pid, ...) are
 * taken from the child after a check of what the kernel guarantees of them (new, non-NULL, linked
 * where the function links them). The architecture's {@code thread} (copy_thread's registers) is
 * {@link CopyThreadContract}'s.
 */
public abstract class ChildTaskStructContract extends KernelContract {

    /** The child and the parent as copy_process left them, at the child's task_newtask event. */
    private record Snapshot(long child, long parent, byte[] childBytes, byte[] parentBytes, int cpu, long clock) {
    }

    /**
     * Members of the parent that copy_process overwrites in the child and the model reads nowhere else:
     * a parent with garbage there shows that the child's value is written, not inherited.
     */
    private static final String[] POISONED = {"splice_pipe", "task_frag.page", "wake_q.next", "throttle_queue",
        "active_memcg", "ioac", "acct_rss_mem1", "acct_vm_mem1", "acct_timexpd", "io_context", "audit_context", "plug",
        "task_works", "jobctl", "ptracer_cred", "last_switch_count", "last_switch_time", "vmacache.vmas", "rss_stat",
        "sched_info", "prev_cputime", "pi_waiters", "pi_top_task", "pi_blocked_on", "numa_faults", "numa_group",
        "last_task_numa_placement", "last_sum_exec_runtime", "node_stamp", "numa_scan_period", "dl.dl_runtime",
        "dl.dl_deadline", "dl.dl_period", "dl.dl_bw", "dl.dl_density", "dl.flags", "rt.timeout", "preempt_notifiers",
        "robust_list", "compat_robust_list", "pi_state_cache", "utask", "cputime_expires", "nr_dirtied",
        "dirty_paused_when", "pdeath_signal", "utime", "stime", "gtime", "min_flt", "maj_flt", "rseq_event_mask",
        "rseq_sig", "rseq_len", "rcu_tasks_holdout"};

    private byte[][] poison(Kernel k, long parent) {
        Profile p = platform().profile();
        AddressSpace m = k.addressSpace();
        byte[][] saved = new byte[POISONED.length][];
        for (int i = 0; i < POISONED.length; i++) {
            if (p.has("task_struct", POISONED[i])) {
                Field f = p.field("task_struct", POISONED[i]);
                saved[i] = m.readBytes(parent + f.offset(), (int) f.size());
                byte[] junk = new byte[(int) f.size()];
                java.util.Arrays.fill(junk, (byte) 0x5a);
                m.writeBytes(parent + f.offset(), junk);
            }
        }
        return saved;
    }

    private void unpoison(Kernel k, long parent, byte[][] saved) {
        Profile p = platform().profile();
        for (int i = 0; i < POISONED.length; i++) {
            if (saved[i] != null) {
                k.addressSpace().writeBytes(parent + p.offsetOf("task_struct", POISONED[i]), saved[i]);
            }
        }
    }

    /** Runs {@code fork} on {@code cpu} with a tracer that copies both task_structs at task_newtask. */
    private Snapshot snapshot(Kernel[] holder, int cpu, int parentPid, java.util.function.Function<Kernel, Pid> fork) {
        return snapshot(holder, cpu, parentPid, false, fork);
    }

    /** As above; with {@code poisoned} the parent carries garbage in {@link #POISONED} during the fork. */
    private Snapshot snapshot(Kernel[] holder, int cpu, int parentPid, boolean poisoned,
            java.util.function.Function<Kernel, Pid> fork) {
        long size = platform().profile().sizeOf("task_struct");
        Snapshot[] out = new Snapshot[1];
        Kernel k = boot(b -> b.cpus(2).memory(64L << 20).tracer(Tracer.events(line -> {
            int at = line.indexOf("task_newtask: pid=");
            if (at < 0 || holder[0] == null) {
                return;
            }
            Kernel kk = holder[0];
            int pid = Integer.parseInt(line.substring(at + 18, line.indexOf(' ', at + 18)));
            long child = kk.task(Pid.of(pid)).orElseThrow().address();
            long parent = kk.cpu(cpu).current().address();
            AddressSpace m = kk.addressSpace();
            out[0] = new Snapshot(child, parent, m.readBytes(child, (int) size), m.readBytes(parent, (int) size), cpu,
                    kk.clock());
        })));
        holder[0] = k;
        long parent = runAs(k, cpu, parentPid);
        byte[][] saved = poisoned ? poison(k, parent) : null;
        fork.apply(k);
        if (saved != null) {
            unpoison(k, parent, saved);
        }
        assertNotNull(out[0], "task_newtask was traced");
        return out[0];
    }

    /** The expected child: the parent's bytes, then each kernel function's writes. */
    private final class Expected {
        final Kernel k;
        final Profile p;
        final Snapshot s;
        final byte[] exp;
        final int ptr;
        final List<String> problems = new ArrayList<>();

        Expected(Kernel k, Snapshot s) {
            this.k = k;
            this.p = platform().profile();
            this.s = s;
            this.exp = s.parentBytes().clone();
            this.ptr = platform().pointerSize();
        }

        boolean has(String path) {
            return p.has("task_struct", path);
        }

        Field field(String path) {
            return p.field("task_struct", path);
        }

        long actual(long offset, long size) {
            long v = 0;
            for (int i = (int) size - 1; i >= 0; i--) {
                v = (v << 8) | (s.childBytes()[(int) offset + i] & 0xff);
            }
            return v;
        }

        long actual(String path) {
            Field f = field(path);
            return actual(f.offset(), f.size());
        }

        long parent(String path) {
            Field f = field(path);
            long v = 0;
            for (int i = (int) f.size() - 1; i >= 0; i--) {
                v = (v << 8) | (s.parentBytes()[(int) f.offset() + i] & 0xff);
            }
            return v;
        }

        void put(long offset, long size, long value) {
            for (int i = 0; i < size; i++) {
                exp[(int) offset + i] = (byte) (value >>> (8 * i));
            }
        }

        /** {@code path = value} by the named function; a member the build lacks is skipped. */
        void set(String path, long value) {
            if (has(path)) {
                Field f = field(path);
                if (f.bitSize() > 0) {
                    long word = actualWord(f);
                    long mask = ((1L << f.bitSize()) - 1) << f.bitOffset();
                    long cur = 0;
                    for (int i = 3; i >= 0; i--) {
                        cur = (cur << 8) | (exp[(int) f.offset() + i] & 0xff);
                    }
                    put(f.offset(), 4, (cur & ~mask) | ((value << f.bitOffset()) & mask));
                } else {
                    put(f.offset(), f.size(), value);
                }
            }
        }

        private long actualWord(Field f) {
            return actual(f.offset(), 4);
        }

        /** {@code memset(&path, 0, sizeof)}. */
        void zero(String path) {
            if (has(path)) {
                Field f = field(path);
                put(f.offset(), f.size(), 0);
            }
        }

        /** {@code INIT_LIST_HEAD(&path)}: next and prev point at the head. */
        void list(String path) {
            if (has(path)) {
                long at = s.child() + field(path).offset();
                set(path + ".next", at);
                set(path + ".prev", at);
            }
        }

        /** {@code RB_CLEAR_NODE(&path)}: the node's parent is itself; its children are left as copied. */
        void rbClear(String path) {
            if (has(path)) {
                set(path + ".__rb_parent_color", s.child() + field(path).offset());
            }
        }

        /** The pointer to the child's own member {@code target}. */
        void self(String path, String target) {
            if (has(path)) {
                set(path, s.child() + field(target).offset());
            }
        }

        /** A value the function computes at run time (a new allocation, a link): taken after {@code check}. */
        void taken(String path, String function, LongPredicate check) {
            if (!has(path)) {
                return;
            }
            Field f = field(path);
            long v = actual(f.offset(), f.size());
            if (!check.test(v)) {
                problems.add(path + " = 0x" + Long.toHexString(v) + " is not what " + function + " gives");
            }
            System.arraycopy(s.childBytes(), (int) f.offset(), exp, (int) f.offset(), (int) f.size());
        }

        /** {@code hrtimer_init(timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL)} on the forking CPU, then {@code timer->function = fn}. */
        void hrtimer(String path, String fn) {
            if (!has(path)) {
                return;
            }
            Field t = field(path);
            put(t.offset(), t.size(), 0);
            rbClear(path + ".node.node");
            set(path + ".function", k.symbol(fn));
            long bases = k.symbol("hrtimer_bases") + k.addressSpace().readPointer(k.symbol("__per_cpu_offset")
                    + (long) s.cpu() * ptr);
            set(path + ".base", bases + p.offsetOf("hrtimer_cpu_base", "clock_base"));
        }

        /** Every byte that differs, by the deepest member it is in. */
        List<String> mismatches() {
            List<String> out = new ArrayList<>(problems);
            StructLayout task = p.struct("task_struct");
            int i = 0;
            while (i < exp.length) {
                if (exp[i] == s.childBytes()[i]) {
                    i++;
                    continue;
                }
                String where = locate(task.members(), 0, i, "");
                int end = i;
                while (end < exp.length && locate(task.members(), 0, end, "").equals(where)) {
                    end++;
                }
                out.add(String.format("%s (bytes %d..%d): expected %s, child %s, parent %s", where, i, end - 1,
                        hex(exp, i, end), hex(s.childBytes(), i, end), hex(s.parentBytes(), i, end)));
                i = end;
            }
            return out;
        }

        private String hex(byte[] b, int from, int to) {
            return HexFormat.of().formatHex(b, from, Math.min(to, from + 32));
        }

        private String locate(List<Member> members, long base, long at, String prefix) {
            for (Member mb : members) {
                long off = base + mb.offset();
                if (at < off || at >= off + Math.max(mb.size(), 1)) {
                    continue;
                }
                String name = prefix + (mb.name() == null ? "" : mb.name());
                if (!mb.members().isEmpty()) {
                    return locate(mb.members(), base, at, name.isEmpty() ? "" : name + ".");
                }
                String type = mb.embeddedTypeName();
                if (type != null && p.find(type).isPresent()) {
                    return locate(p.struct(type).members(), off, at, name + ".");
                }
                return name;
            }
            return prefix + "<padding>";
        }
    }

    private Expected dupAndCopyProcess(Kernel k, Snapshot s, long flags) {
        Expected e = new Expected(k, s);
        long c = s.child();
        boolean thread = (flags & CloneFlag.THREAD.value()) != 0;
        boolean vm = (flags & CloneFlag.VM.value()) != 0;
        int cpu = s.cpu();
        // dup_task_struct: its own stack (alloc_thread_stack_node), usage 2, a new canary
        e.taken("stack", "alloc_thread_stack_node",
                v -> v != e.parent("stack") && v % platform().threadAlign() == 0);
        e.set("stack_refcount", 1);
        if (built("CONFIG_VMAP_STACK")) {
            // alloc_thread_stack_node: tsk->stack_vm_area = find_vm_area(stack), kept by dup_task_struct
            // across arch_dup_task_struct: the vm_struct setup_vmalloc_vm filled for this very stack
            // (VM_ALLOC once clear_vm_uninitialized_flag ran, THREAD_SIZE plus the guard page)
            Profile lp = platform().profile();
            long stack = e.actual("stack");
            e.taken("stack_vm_area", "alloc_thread_stack_node (find_vm_area)", v -> v != 0
                    && v != e.parent("stack_vm_area")
                    && k(e).addressSpace().readPointer(v + lp.offsetOf("vm_struct", "addr")) == stack
                    && k(e).addressSpace().readPointer(v + lp.offsetOf("vm_struct", "size"))
                            == platform().threadSize() + platform().pageSize()
                    && k(e).addressSpace().readPointer(v + lp.offsetOf("vm_struct", "flags")) == 0x2
                    && k(e).addressSpace().readInt(v + lp.offsetOf("vm_struct", "nr_pages"))
                            == platform().threadSize() / platform().pageSize());
        }
        e.set("usage.counter", 2);
        e.taken("stack_canary", "get_random_canary", v -> ptrSize() == 4 || (v & 0xff) == 0);
        e.set("splice_pipe", 0);
        e.set("task_frag.page", 0);
        e.set("wake_q.next", 0);
        if (built("CONFIG_BLK_CGROUP")) {
            e.set("throttle_queue", 0);
            e.set("use_memdelay", 0);
        }
        if (built("CONFIG_MEMCG")) {
            e.set("active_memcg", 0);
        }
        // thread_info in task_struct (arm64): clear_tsk_need_resched, user_disable_single_step,
        // clear_tsk_thread_flag(TIF_SYSCALL_TRACE), audit_alloc's TIF_SYSCALL_AUDIT; sched_fork's preempt count
        if (platform().threadInfoInTask()) {
            long flagsWord = e.parent("thread_info.flags");
            for (String tif : new String[] {"TIF_NEED_RESCHED", "TIF_SINGLESTEP", "TIF_SYSCALL_TRACE",
                "TIF_SYSCALL_AUDIT"}) {
                int bit = platform().tifBit(tif);
                if (bit >= 0 && (!tif.equals("TIF_SYSCALL_AUDIT") || built("CONFIG_AUDITSYSCALL"))) {
                    flagsWord &= ~(1L << bit);
                }
            }
            e.set("thread_info.flags", flagsWord);
            e.set("thread_info.preempt_count", platform().forkPreemptCount());
        }
        // copy_process
        e.set("set_child_tid", 0);
        e.set("clear_child_tid", 0);
        // rt_mutex_init_task
        e.set("pi_lock", 0);
        e.zero("pi_waiters");
        e.set("pi_top_task", 0);
        e.set("pi_blocked_on", 0);
        // copy_creds: a thread shares the parent's cred, a process gets prepare_creds' copy
        for (String cred : new String[] {"cred", "real_cred"}) {
            e.taken(cred, "copy_creds", v -> thread ? v == e.parent(cred) : v != e.parent(cred) && v != 0);
        }
        e.set("flags", (e.parent("flags") & ~(TaskFlags.PF_SUPERPRIV | TaskFlags.PF_WQ_WORKER | TaskFlags.PF_IDLE))
                | TaskFlags.PF_FORKNOEXEC);
        e.list("children");
        // rcu_copy_process
        if (built("CONFIG_PREEMPT_RCU")) {
            e.set("rcu_read_lock_nesting", 0);
            e.set("rcu_read_unlock_special.s", 0);
            e.list("rcu_node_entry");
            e.set("rcu_blocked_node", 0);
        }
        if (built("CONFIG_TASKS_RCU")) {
            e.set("rcu_tasks_holdout", 0);
            e.list("rcu_tasks_holdout_list");
            e.set("rcu_tasks_idle_cpu", -1);
        }
        e.set("vfork_done", 0);
        e.set("alloc_lock", 0);
        // init_sigpending
        e.zero("pending.signal");
        e.list("pending.list");
        e.set("utime", 0);
        e.set("stime", 0);
        e.set("gtime", 0);
        e.zero("prev_cputime");
        e.set("default_timer_slack_ns", e.parent("timer_slack_ns"));
        e.zero("ioac");
        if (built("CONFIG_TASK_XACCT")) {
            e.set("acct_rss_mem1", 0);
            e.set("acct_vm_mem1", 0);
            e.set("acct_timexpd", 0);
        }
        // posix_cpu_timers_init
        e.zero("cputime_expires");
        for (int i = 0; i < 3; i++) {
            e.list("cpu_timers[" + i + "]");
        }
        e.set("start_time", s.clock());
        e.set("real_start_time", s.clock());
        e.set("io_context", 0);
        if (built("CONFIG_AUDITSYSCALL")) {
            e.set("audit_context", 0);
        }
        e.list("cg_list");
        if (built("CONFIG_CPUSETS")) {
            e.set("cpuset_mem_spread_rotor", -1);
            e.set("cpuset_slab_spread_rotor", -1);
            e.set("mems_allowed_seq.sequence", 0);
        }
        e.set("pagefault_disabled", 0);
        if (built("CONFIG_TASK_DELAY_ACCT")) {
            // delayacct_tsk_init: delayacct_on (1 by default) gives every task a zeroed task_delay_info
            e.taken("delays", "delayacct_tsk_init", v -> v != 0 && v != e.parent("delays"));
        }
        schedFork(e, flags, cpu);
        // perf_event_init_task
        e.zero("perf_event_ctxp");
        e.zero("perf_event_mutex");
        e.list("perf_event_mutex.wait_list");
        e.list("perf_event_list");
        // shm_init_task
        e.list("sysvshm.shm_clist");
        // copy_files, copy_fs, copy_sighand, copy_signal: shared with the CLONE_* flag, else new
        shared(e, "files", flags, CloneFlag.FILES);
        shared(e, "fs", flags, CloneFlag.FS);
        shared(e, "sighand", flags, CloneFlag.SIGHAND);
        shared(e, "signal", flags, CloneFlag.THREAD);
        // copy_mm
        e.set("min_flt", 0);
        e.set("maj_flt", 0);
        e.set("nvcsw", 0);
        e.set("nivcsw", 0);
        if (built("CONFIG_DETECT_HUNG_TASK")) {
            e.set("last_switch_count", 0);
            e.set("last_switch_time", 0);
        }
        e.set("mm", 0);
        e.set("active_mm", 0);
        if (e.parent("mm") != 0) {
            e.zero("vmacache.vmas");
            e.taken("mm", "copy_mm", v -> vm ? v == e.parent("mm") : v != 0 && v != e.parent("mm"));
            e.set("active_mm", e.actual("mm"));
        }
        var config = platform().profile().config();
        if (config.number("CONFIG_NR_CPUS", 1) >= config.number("CONFIG_SPLIT_PTLOCK_CPUS", 4)
                && built("CONFIG_MMU")) {
            // SPLIT_RSS_COUNTING: memset(&p->rss_stat, 0, sizeof(p->rss_stat))
            e.zero("rss_stat");
        }
        // copy_namespaces: no CLONE_NEW*, the parent's nsproxy
        // copy_thread_tls: the architecture's registers (CopyThreadContract)
        e.taken("thread", "copy_thread_tls", v -> true);
        // alloc_pid
        e.taken("thread_pid", "alloc_pid", v -> v != 0 && v != e.parent("thread_pid"));
        e.set("plug", 0);
        e.set("robust_list", 0);
        e.set("compat_robust_list", 0);
        e.list("pi_state_list");
        e.set("pi_state_cache", 0);
        if (vm && (flags & CloneFlag.VFORK.value()) == 0) {
            // sas_ss_reset
            e.set("sas_ss_sp", 0);
            e.set("sas_ss_size", 0);
            e.set("sas_ss_flags", 2);
        }
        int pid = (int) e.actual("pid");
        e.taken("pid", "pid_nr(pid)", v -> v > 0 && v != e.parent("pid"));
        if (thread) {
            e.set("exit_signal", -1);
            e.set("group_leader", e.parent("group_leader"));
            e.set("tgid", e.parent("tgid"));
        } else {
            e.set("exit_signal", flags & 0xff);
            e.set("group_leader", c);
            e.set("tgid", pid);
        }
        e.set("nr_dirtied", 0);
        e.set("nr_dirtied_pause", 128 >> (Integer.numberOfTrailingZeros(platform().pageSize()) - 10));
        e.set("dirty_paused_when", 0);
        e.set("pdeath_signal", 0);
        e.set("task_works", 0);
        // under the tasklist lock
        e.set("real_parent", thread ? e.parent("real_parent") : s.parent());
        e.set("parent_exec_id", thread ? e.parent("parent_exec_id") : e.parent("self_exec_id"));
        // rseq_fork: a thread starts without rseq
        if (thread && built("CONFIG_RSEQ")) {
            e.set("rseq", 0);
            e.set("rseq_len", 0);
            e.set("rseq_sig", 0);
            e.set("rseq_event_mask", 0);
        }
        // ptrace_init_task
        e.list("ptrace_entry");
        e.list("ptraced");
        e.set("jobctl", 0);
        e.set("ptrace", 0);
        e.set("parent", e.actual("real_parent"));
        e.set("ptracer_cred", 0);
        // init_task_pid / attach_pid, list_add_tail_rcu(&p->tasks), the thread group lists
        long taskSize = platform().profile().sizeOf("task_struct");
        // init_task_pid_links, then attach_pid: PIDTYPE_PID always, TGID/PGID/SID for a group leader
        for (int i = 0; i < 4; i++) {
            String link = "pid_links[" + i + "]";
            if (i == 0 || !thread) {
                e.taken(link + ".next", "attach_pid", v -> true);
                e.taken(link + ".pprev", "attach_pid", v -> v != 0);
            } else {
                e.set(link + ".next", 0);
                e.set(link + ".pprev", 0);
            }
        }
        if (thread) {
            e.taken("thread_group.next", "list_add_tail_rcu(&p->thread_group, &p->group_leader->thread_group)",
                    v -> v == e.parent("group_leader") + e.field("thread_group").offset());
            e.taken("thread_group.prev", "list_add_tail_rcu(&p->thread_group, &p->group_leader->thread_group)",
                    v -> v != 0);
            e.list("sibling");
        } else {
            long siblingAt = c + e.field("sibling").offset();
            e.taken("sibling.next", "list_add_tail(&p->sibling, &p->real_parent->children)",
                    v -> v == e.actual("real_parent") + e.field("children").offset());
            e.taken("sibling.prev", "list_add_tail(&p->sibling, &p->real_parent->children)", v -> v != siblingAt);
            e.list("thread_group");
            long init = k.symbol("init_task");
            e.taken("tasks.next", "list_add_tail_rcu(&p->tasks, &init_task.tasks)",
                    v -> v == init + e.field("tasks").offset());
            e.taken("tasks.prev", "list_add_tail_rcu(&p->tasks, &init_task.tasks)", v -> v != 0);
        }
        long signal = e.actual("signal");
        e.taken("thread_node.next", "list_add_tail_rcu(&p->thread_node, &p->signal->thread_head)",
                v -> v == signal + platform().profile().offsetOf("signal_struct", "thread_head"));
        e.taken("thread_node.prev", "list_add_tail_rcu(&p->thread_node, &p->signal->thread_head)", v -> v != 0);
        if (built("CONFIG_UPROBES")) {
            e.set("utask", 0); // uprobe_copy_process
        }
        assertTrue(taskSize > 0);
        return e;
    }

    private int ptrSize() {
        return platform().pointerSize();
    }

    /** copy_files/copy_fs/copy_sighand/copy_signal: the parent's object with the flag, else a new one. */
    private static void shared(Expected e, String member, long flags, CloneFlag flag) {
        boolean share = (flags & flag.value()) != 0;
        e.taken(member, "copy_" + member, v -> share ? v == e.parent(member) : v != 0 && v != e.parent(member));
    }

    /** {@code sched_fork} and {@code __sched_fork} with {@code init_numa_balancing}, on {@code cpu}. */
    private void schedFork(Expected e, long flags, int cpu) {
        // __sched_fork
        e.set("on_rq", 0);
        e.set("se.on_rq", 0);
        e.set("se.exec_start", 0);
        e.set("se.sum_exec_runtime", 0);
        e.set("se.prev_sum_exec_runtime", 0);
        e.set("se.nr_migrations", 0);
        e.list("se.group_node");
        e.rbClear("dl.rb_node");
        e.hrtimer("dl.dl_timer", "dl_task_timer");
        e.hrtimer("dl.inactive_timer", "inactive_task_timer");
        // __dl_clear_params
        for (String m : new String[] {"dl_runtime", "dl_deadline", "dl_period", "flags", "dl_bw", "dl_density",
            "dl_throttled", "dl_yielded", "dl_non_contending", "dl_overrun"}) {
            e.set("dl." + m, 0);
        }
        e.list("rt.run_list");
        e.set("rt.timeout", 0);
        e.set("rt.time_slice", (100L * hz() + 999) / 1000);
        e.set("rt.on_rq", 0);
        e.set("rt.on_list", 0);
        if (built("CONFIG_PREEMPT_NOTIFIERS")) {
            e.set("preempt_notifiers.first", 0);
        }
        if (built("CONFIG_NUMA_BALANCING")) {
            // init_numa_balancing: p->mm is still the parent's here
            e.set("node_stamp", 0);
            e.set("numa_scan_period", 1000);
            e.self("numa_work.next", "numa_work");
            e.set("numa_faults", 0);
            e.set("numa_group", 0);
            e.set("last_task_numa_placement", 0);
            e.set("last_sum_exec_runtime", 0);
            e.taken("numa_scan_seq", "init_numa_balancing (mm->numa_scan_seq)", v -> v == 0);
            if ((flags & CloneFlag.VM.value()) == 0) {
                e.set("numa_preferred_nid", -1);
            } else if (e.parent("mm") != 0) {
                e.taken("node_stamp", "init_numa_balancing (a new thread's stagger)", v -> v > 2 * tickNsec());
            }
        }
        // sched_fork
        e.set("state", TaskStateBits.TASK_NEW);
        e.set("prio", e.parent("normal_prio"));
        e.set("sched_class", k(e).symbol("fair_sched_class"));
        // init_entity_runnable_average
        long weight = e.parent("se.load.weight");
        e.set("se.runnable_weight", weight);
        e.zero("se.avg");
        long down = platform().pointerSize() == 8 ? weight >> 10 : weight;
        e.set("se.avg.load_avg", down);
        e.set("se.avg.runnable_load_avg", down);
        // __set_task_cpu: cpu, wake_cpu and (FAIR_GROUP_SCHED) set_task_rq
        e.set("cpu", cpu);
        e.set("wake_cpu", cpu);
        if (e.has("se.cfs_rq")) {
            long rq = k(e).symbol("runqueues") + k(e).addressSpace().readPointer(k(e).symbol("__per_cpu_offset")
                    + (long) cpu * ptrSize());
            e.set("se.cfs_rq", rq + platform().profile().offsetOf("rq", "cfs"));
        }
        // task_fork_fair: the child's vruntime relative to its queue's min_vruntime
        e.taken("se.vruntime", "task_fork_fair", v -> true);
        if (built("CONFIG_SCHED_INFO") && (built("CONFIG_SCHEDSTATS") || built("CONFIG_TASK_DELAY_ACCT"))) {
            e.zero("sched_info");
        }
        e.set("on_cpu", 0);
        // plist_node_init(&p->pushable_tasks, MAX_PRIO), RB_CLEAR_NODE(&p->pushable_dl_tasks)
        e.set("pushable_tasks.prio", 140);
        e.list("pushable_tasks.prio_list");
        e.list("pushable_tasks.node_list");
        e.rbClear("pushable_dl_tasks");
    }

    private static Kernel k(Expected e) {
        return e.k;
    }

    private long hz() {
        return platform().profile().config().number("CONFIG_HZ", 100);
    }

    private long tickNsec() {
        return (1_000_000_000L + hz() / 2) / hz();
    }

    private void assertByteExact(Kernel k, Snapshot s, long flags) {
        Expected e = dupAndCopyProcess(k, s, flags);
        assertEquals(List.of(), e.mismatches(), "members of the child neither the parent's nor set by copy_process");
    }

    @Test
    @DisplayName("copy_process: fork(): every byte of the child's task_struct is the parent's or what a named kernel function writes")
    void forkedChildIsByteExact() {
        Kernel[] k = new Kernel[1];
        Snapshot s = snapshot(k, 0, 1, kk -> kk.cpu(0).fork());
        assertByteExact(k[0], s, 17);
    }

    @Test
    @DisplayName("copy_process: a pthread (CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS) is byte-exact too")
    void threadIsByteExact() {
        Kernel[] k = new Kernel[1];
        Set<CloneFlag> set = EnumSet.of(CloneFlag.VM, CloneFlag.FS, CloneFlag.FILES, CloneFlag.SIGHAND,
                CloneFlag.THREAD, CloneFlag.SYSVSEM);
        Snapshot s = snapshot(k, 0, 1, kk -> kk.cpu(0).clone(new CloneArgs(set, 0, 0, 0, 0, 0, 0)));
        long flags = 0;
        for (CloneFlag f : set) {
            flags |= f.value();
        }
        Expected e = dupAndCopyProcess(k[0], s, flags);
        // copy_semundo: CLONE_SYSVSEM shares the parent's sem_undo_list (get_undo_list allocates it)
        e.taken("sysvsem.undo_list", "copy_semundo", v -> v != 0);
        assertEquals(List.of(), e.mismatches());
    }

    @Test
    @DisplayName("copy_process: a parent with garbage in every member the fork resets still leaves a byte-exact child and thread")
    void poisonedParentLeavesAByteExactChild() {
        Kernel[] k = new Kernel[1];
        Snapshot s = snapshot(k, 0, 1, true, kk -> kk.cpu(0).fork());
        assertByteExact(k[0], s, 17);
        Set<CloneFlag> set = EnumSet.of(CloneFlag.VM, CloneFlag.SIGHAND, CloneFlag.THREAD);
        Kernel[] k2 = new Kernel[1];
        Snapshot t = snapshot(k2, 0, 1, true, kk -> kk.cpu(0).clone(new CloneArgs(set, 0, 0, 0, 0, 0, 0)));
        assertByteExact(k2[0], t, CloneFlag.VM.value() | CloneFlag.SIGHAND.value() | CloneFlag.THREAD.value());
    }

    @Test
    @DisplayName("copy_process: a kernel thread of kthreadd (no mm) is byte-exact too")
    void kernelThreadIsByteExact() {
        Kernel[] k = new Kernel[1];
        Snapshot s = snapshot(k, 1, 2, kk -> kk.cpu(1).kernelThread("worker_thread", 0, EnumSet.noneOf(CloneFlag.class)));
        Expected e = dupAndCopyProcess(k[0], s, 17 | CloneFlag.VM.value() | CloneFlag.UNTRACED.value());
        assertEquals(List.of(), e.mismatches());
    }

    private long mask(Kernel k, long task) {
        return k.addressSpace().readPointer(task + platform().profile().offsetOf("task_struct", "rseq_event_mask"));
    }

    @Test
    @DisplayName("rseq (CONFIG_RSEQ): rseq_fork clears a new thread's events, rseq_preempt in prepare_task_switch marks a switched-out task, rseq_migrate in set_task_cpu a moved one, rseq_execve clears them")
    void rseqEventsFollowSwitchesMigrationsAndExec() {
        requireBuilt("CONFIG_RSEQ");
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        // init carries events from boot (rseq_preempt when switched out, rseq_migrate when moved after its exec)
        assertTrue(mask(k, init) != 0, "init has events before the fork, so rseq_fork's copy shows");
        // a new process keeps the parent's events (rseq_fork copies); exec clears them (rseq_execve)
        int proc = k.cpu(0).fork().nr();
        assertEquals(mask(k, init), mask(k, address(k, proc)));
        int at = cpuRunning(k, proc, k.task(address(k, proc)).cpu());
        k.cpu(at).exec("sh");
        assertEquals(0, mask(k, address(k, proc)), "rseq_execve: no events after exec");
        // a new thread starts with none (rseq_fork)
        runAs(k, 0, 1);
        int tid = k.cpu(0).clone(new CloneArgs(EnumSet.of(CloneFlag.VM, CloneFlag.SIGHAND, CloneFlag.THREAD), 0, 0, 0,
                0, 0, 0)).nr();
        long t = address(k, tid);
        assertEquals(0, mask(k, t), "rseq_fork: a new thread has no events");
        int cpu = cpuRunning(k, tid, k.task(t).cpu());
        assertEquals(0, mask(k, t), "running, never switched out yet");
        // switched out: prepare_task_switch -> rseq_preempt(prev)
        int other = k.cpu(cpu).fork().nr();
        migrateAndRun(k, other, cpu);
        assertEquals(other, currentPid(k, cpu));
        assertEquals(1L << 0, mask(k, t), "RSEQ_EVENT_PREEMPT_BIT only");
        // set_task_cpu to another CPU: rseq_migrate
        k.migrate(Pid.of(tid), 1 - cpu);
        assertEquals((1L << 0) | (1L << 2), mask(k, t), "and RSEQ_EVENT_MIGRATE_BIT");
    }

    private int undoCount(Kernel k, long list) {
        return k.addressSpace().readInt(list + platform().profile().offsetOf("sem_undo_list", "refcnt"));
    }

    @Test
    @DisplayName("copy_semundo / exit_sem: CLONE_SYSVSEM shares one sem_undo_list (get_undo_list allocates it, refcnt per user), the last exit_sem frees it")
    void cloneSysvsemSharesOneUndoListUntilTheLastExit() {
        Kernel k = boot(2);
        Structs st = structs(k);
        long init = runAs(k, 0, 1);
        assertEquals(0, st.taskPtr(init, "sysvsem.undo_list"), "no undo list before the first CLONE_SYSVSEM");
        var before = usage(k);
        int pid = k.cpu(0).fork().nr();
        migrateAndRun(k, pid, 1);
        long parent = address(k, pid);
        Set<CloneFlag> flags = EnumSet.of(CloneFlag.VM, CloneFlag.FS, CloneFlag.FILES, CloneFlag.SIGHAND,
                CloneFlag.THREAD, CloneFlag.SYSVSEM);
        int t1 = k.cpu(1).clone(new CloneArgs(flags, 0, 0, 0, 0, 0, 0)).nr();
        int t2 = k.cpu(1).clone(new CloneArgs(flags, 0, 0, 0, 0, 0, 0)).nr();
        long list = st.taskPtr(parent, "sysvsem.undo_list");
        assertTrue(list != 0, "get_undo_list gave the caller one");
        assertEquals(list, st.taskPtr(address(k, t1), "sysvsem.undo_list"));
        assertEquals(list, st.taskPtr(address(k, t2), "sysvsem.undo_list"));
        assertEquals(3, undoCount(k, list), "the caller and two threads");
        long listProc = list + platform().profile().offsetOf("sem_undo_list", "list_proc");
        assertEquals(listProc, k.addressSpace().readPointer(listProc), "INIT_LIST_HEAD(&undo_list->list_proc)");
        // a process forked without CLONE_SYSVSEM has none
        int solo = k.cpu(1).fork().nr();
        assertEquals(0, st.taskPtr(address(k, solo), "sysvsem.undo_list"));
        // exit_sem: a thread lets go
        migrateAndRun(k, t1, 1);
        k.cpu(1).exit(0);
        k.stepAll();
        assertEquals(2, undoCount(k, list));
        // the whole group exits: the last exit_sem frees the list
        migrateAndRun(k, solo, 1);
        k.cpu(1).exit(0);
        migrateAndRun(k, pid, 1);
        k.cpu(1).exit(0);
        migrateAndRun(k, t2, 1);
        k.cpu(1).exit(0);
        k.stepAll();
        runAs(k, 0, 1);
        assertEquals(pid, reap(k, 0, pid));
        assertEquals(solo, reap(k, 0, solo), "reparented to init (forget_original_parent)");
        k.stepAll();
        assertEquals(0, address(k, t2));
        // the list went back to its kmalloc cache (the exited mm may still be CPU 1's lazy active_mm)
        String cache = platform().pointerSize() == 8 ? "kmalloc-128" : "kmalloc-64";
        assertEquals(before.objectsInUse().get(cache), usage(k).objectsInUse().get(cache), "kfree(ulp)");
    }

    @Test
    @DisplayName("hrtimer_bases: per CPU, cpu and every clock_base's cpu_base, index, clockid and get_time as hrtimers_prepare_cpu and the static initialiser leave them; a task's dl timers point at its forking CPU's CLOCK_MONOTONIC base")
    void hrtimerBasesArePerCpu() {
        Kernel k = boot(2);
        Profile p = platform().profile();
        AddressSpace m = k.addressSpace();
        long var = k.symbol("hrtimer_bases");
        long cbSize = p.sizeOf("hrtimer_clock_base");
        String[] getTime = {"ktime_get", "ktime_get_real", "ktime_get_boottime", "ktime_get_clocktai"};
        int[] clockids = {1, 0, 7, 11};
        for (int c = 0; c < 2; c++) {
            long base = var + m.readPointer(k.symbol("__per_cpu_offset") + (long) c * platform().pointerSize());
            if (platform().pointerSize() == 4) {
                base &= 0xffffffffL;
            }
            assertEquals(c, m.readInt(base + p.offsetOf("hrtimer_cpu_base", "cpu")));
            for (int i = 0; i < 8; i++) {
                long cb = base + p.offsetOf("hrtimer_cpu_base", "clock_base") + i * cbSize;
                assertEquals(base, m.readPointer(cb + p.offsetOf("hrtimer_clock_base", "cpu_base")));
                assertEquals(i, m.readInt(cb + p.offsetOf("hrtimer_clock_base", "index")));
                assertEquals(clockids[i % 4], m.readInt(cb + p.offsetOf("hrtimer_clock_base", "clockid")));
                assertEquals(k.symbol(getTime[i % 4]), m.readPointer(cb + p.offsetOf("hrtimer_clock_base", "get_time")));
            }
        }
        runAs(k, 1, 2);
        long worker = address(k, k.cpu(1).kernelThread("worker_thread", 0, EnumSet.noneOf(CloneFlag.class)).nr());
        long cpu1 = var + m.readPointer(k.symbol("__per_cpu_offset") + platform().pointerSize());
        if (platform().pointerSize() == 4) {
            cpu1 &= 0xffffffffL;
        }
        assertEquals(cpu1 + p.offsetOf("hrtimer_cpu_base", "clock_base"),
                m.readPointer(worker + p.offsetOf("task_struct", "dl.dl_timer.base")), "raw_cpu_ptr(&hrtimer_bases) of CPU 1");
        assertEquals(k.symbol("dl_task_timer"), m.readPointer(worker + p.offsetOf("task_struct", "dl.dl_timer.function")));
        assertEquals(k.symbol("inactive_task_timer"),
                m.readPointer(worker + p.offsetOf("task_struct", "dl.inactive_timer.function")));
    }
}
