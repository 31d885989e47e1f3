package io.github.kproc.image;

import io.github.kproc.Errno;
import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.MemoryFaultException;
import io.github.kproc.view.KernelReader;
import io.github.kproc.view.TaskFlags;
import io.github.kproc.view.Trace32;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * crash's commands over any {@link KernelReader}: the live model, a {@link KernelImage} of a dump.
 * Everything is found from symbols and the build's layouts, as crash finds it: the task list from
 * {@code init_task.tasks} and each thread group's {@code thread_group} list, the per-CPU runqueues
 * at {@code &runqueues + __per_cpu_offset[cpu]} with their {@code curr}, {@code idle}, RT priority
 * array and CFS red-black tree.
 *
 * <p>Memory is not trusted: every list walk checks that {@code next->prev} points back, stops at
 * {@link #MAX_TASKS} entries and detects cycles, every tree walk is bounded in depth and size; what
 * is wrong is a {@link WalkException} naming the address and the structure, never a hang.
 */
public final class Crash {
    /** The most tasks a walk accepts: {@code PID_MAX_LIMIT} of 64-bit builds plus one idle task per CPU. */
    public static final int MAX_TASKS = 4 * 1024 * 1024 + 4096;
    /** The deepest red-black tree accepted (2 log2(n + 1) for any n a machine can hold). */
    private static final int MAX_RB_DEPTH = 128;
    /** {@code MAX_RT_PRIO}. */
    private static final int MAX_RT_PRIO = 100;

    private final KernelReader k;
    private final Platform p;
    private final AddressSpace m;
    private final Offsets o;
    private final int ptr;
    private final @Nullable SymbolTable symbols;
    private final long threadGroup;
    private final long seRunNode;
    private final long seMyQ;
    private final long rtRunList;
    private final long rqCurr;
    private final long rqIdle;
    private final long rqTimeline;
    private final long rqRtActive;
    private final long prioQueue;
    private final long ctxSp;
    private final long ctxPc;
    private final long mmTotalVm;
    private final long mmRss;
    private final long taskRss;
    private final int pageShift;

    /**
     * Commands over {@code reader}.
     *
     * @param symbols the build's symbols, to name code addresses in {@code bt} (optional)
     */
    public Crash(KernelReader reader, @Nullable SymbolTable symbols) {
        this.k = reader;
        this.p = reader.platform();
        this.m = reader.addressSpace();
        this.o = p.offsets();
        this.ptr = p.pointerSize();
        this.symbols = symbols;
        Profile pr = p.profile();
        this.threadGroup = o.required("task_struct", "thread_group");
        this.seRunNode = o.required("task_struct", "se.run_node");
        this.seMyQ = o.optional("sched_entity", "my_q");
        this.rtRunList = o.required("task_struct", "rt.run_list");
        this.rqCurr = o.required("rq", "curr");
        this.rqIdle = o.required("rq", "idle");
        this.rqTimeline = o.required("rq", "cfs.tasks_timeline");
        this.rqRtActive = o.required("rq", "rt.active");
        this.prioQueue = o.required("rt_prio_array", "queue");
        this.ctxSp = pr.offsetOf(p.cpuContextStruct(), "sp");
        this.ctxPc = pr.offsetOf(p.cpuContextStruct(), "pc");
        this.mmTotalVm = o.optional("mm_struct", "total_vm");
        this.mmRss = o.optional("mm_struct", "rss_stat");
        this.taskRss = o.optional("task_struct", "rss_stat.count");
        this.pageShift = Integer.numberOfTrailingZeros(p.pageSize());
    }

    /** Commands over a dump, naming code with its symbols. */
    public Crash(KernelImage image) {
        this(image, image.symbols());
    }

    /** A line of {@code ps}. */
    public record Task(int pid, int ppid, int cpu, long task, String state, String comm, boolean active,
            boolean kernelThread, long vszKb, long rssKb, double memPercent) {
    }

    /** A task queued on a runqueue, with the priority crash shows ({@code prio}). */
    public record Queued(int prio, int pid, long task, String comm) {
    }

    /** One CPU's {@code struct rq} as crash's {@code runq} shows it. */
    public record RunQueue(int cpu, long rq, Queued current, long rtArray, List<Queued> rt, long cfsRoot,
            List<Queued> cfs) {
    }

    /**
     * crash's {@code bt -v} checks of one task's stack, and its saved registers: the
     * {@code cpu_context} of its last switch, and for a task running on a CPU the registers of that
     * CPU when the dump was taken.
     */
    public record StackCheck(Task task, long stack, long threadInfo, boolean taskPointsBack, boolean cpuValid,
            boolean magicIntact, long savedSp, long savedPc, boolean spInStack, List<String> notes) {
        /**
         * True if every check passed. A task whose stack is gone ({@code stack} NULL: with
         * THREAD_INFO_IN_TASK a dead task's stack is freed by {@code put_task_stack}) has no stack to
         * check, only its {@code task_struct}.
         */
        public boolean passed() {
            return taskPointsBack && cpuValid && (stackFreed() || magicIntact && spInStack);
        }

        /** True if the task has no stack any more ({@code task->stack} is NULL). */
        public boolean stackFreed() {
            return stack == 0;
        }
    }

    // ---------------------------------------------------------------- reading, with the structure named

    private long pointer(long address, String structure) {
        return pointer(address, structure, 0);
    }

    /**
     * A pointer read for a walk; what is being walked is {@code label}, of the task_struct at
     * {@code owner} if that is not 0 (the text is made only for the error).
     */
    private long pointer(long address, String label, long owner) {
        try {
            return m.readPointer(address);
        } catch (MemoryFaultException e) {
            throw new WalkException(Errno.EFAULT, address, describe(label, owner), "no memory there (outside every segment)");
        }
    }

    private int int32(long address, String label, long owner) {
        try {
            return m.readInt(address);
        } catch (MemoryFaultException e) {
            throw new WalkException(Errno.EFAULT, address, describe(label, owner), "no memory there (outside every segment)");
        }
    }

    private int int32(long address, String structure) {
        return int32(address, structure, 0);
    }

    private static String describe(String label, long owner) {
        return owner == 0 ? label : String.format("task_struct 0x%x%s", owner, label);
    }

    private String what(long task) {
        return String.format("task_struct 0x%x", task);
    }

    /** {@code per_cpu_ptr(&runqueues, cpu)}. */
    public long runqueue(int cpu) {
        long base = k.symbol("runqueues");
        if (!p.smp()) {
            return base;
        }
        long offsets = k.symbol("__per_cpu_offset");
        return base + pointer(offsets + (long) cpu * ptr, "__per_cpu_offset[" + cpu + "]");
    }

    // ---------------------------------------------------------------- ps

    /**
     * Every task: {@code init_task}, each task on {@code init_task.tasks} and every thread of its
     * group, and each CPU's idle task ({@code rq->idle}); sorted by pid, then CPU.
     *
     * @throws WalkException if a list is broken (naming where)
     */
    public List<Task> ps() {
        long initTask = k.symbol("init_task");
        int cpus = k.cpus();
        long[] curr = new long[cpus];
        long[] idle = new long[cpus];
        for (int c = 0; c < cpus; c++) {
            long rq = runqueue(c);
            curr[c] = pointer(rq + rqCurr, "rq->curr of CPU " + c);
            idle[c] = pointer(rq + rqIdle, "rq->idle of CPU " + c);
        }
        LongSet seen = new LongSet();
        LongList order = new LongList();
        seen.add(initTask);
        order.add(initTask);
        long head = initTask + o.taskTasks;
        walkList(head, "init_task.tasks", 0, node -> {
            long leader = node - o.taskTasks;
            if (seen.add(leader)) {
                order.add(leader);
            }
            walkList(leader + threadGroup, ".thread_group", leader, t -> {
                long thread = t - threadGroup;
                if (seen.add(thread)) {
                    order.add(thread);
                }
            });
        });
        for (int c = 0; c < cpus; c++) {
            if (idle[c] != 0 && seen.add(idle[c])) {
                order.add(idle[c]);
            }
        }
        long totalram = totalramPages();
        java.util.Map<Long, Long> threadRss = threadRss(order);
        List<Task> tasks = new ArrayList<>(order.size());
        for (int i = 0; i < order.size(); i++) {
            tasks.add(task(order.get(i), curr, totalram, threadRss));
        }
        tasks.sort(Comparator.comparingInt(Task::pid).thenComparingInt(Task::cpu)
                .thenComparing(Task::task, Long::compareUnsigned));
        return tasks;
    }

    /** A growable list of longs (the tasks a walk found, in order). */
    private static final class LongList {
        private long[] values = new long[256];
        private int size;

        void add(long v) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = v;
        }

        long get(int i) {
            return values[i];
        }

        int size() {
            return size;
        }
    }

    private long totalramPages() {
        try {
            return m.readPointer(k.symbol("totalram_pages"));
        } catch (IllegalArgumentException | MemoryFaultException e) {
            return 0;
        }
    }

    private Task task(long t, long[] curr, long totalram, java.util.Map<Long, Long> threadRss) {
        int pid = int32(t + o.taskPid, "", t);
        long parent = pointer(t + o.taskParent, ".parent", t);
        int ppid = int32(parent + o.taskPid, "->parent", t);
        int cpu;
        try {
            cpu = p.taskCpu(m, t);
        } catch (MemoryFaultException e) {
            throw new WalkException(Errno.EFAULT, e.address(), describe("'s thread_info", t), "no memory there");
        }
        long state = pointer(t + o.taskState, "", t);
        int exitState = int32(t + o.taskExitState, "", t);
        int flags = int32(t + o.taskFlags, "", t);
        String comm;
        try {
            comm = m.readCString(t + o.taskComm, o.commLength);
        } catch (MemoryFaultException e) {
            throw new WalkException(Errno.EFAULT, t + o.taskComm, describe(".comm", t), "no memory there");
        }
        boolean active = false;
        for (long c : curr) {
            active |= c == t;
        }
        long mm = pointer(t + o.taskMm, "", t);
        long vsz = 0;
        long rss = 0;
        if (mm != 0 && mmTotalVm >= 0) {
            vsz = pointer(mm + mmTotalVm, "->mm", t) << (pageShift - 10);
            rss = rssPages(mm, threadRss, t) << (pageShift - 10);
        }
        double mem = totalram == 0 ? 0 : 100.0 * (rss >> (pageShift - 10)) / totalram;
        return new Task(pid, ppid, cpu, t, stateCode(state, exitState), comm, active,
                (flags & TaskFlags.PF_KTHREAD) != 0, vsz, rss, mem);
    }

    /**
     * RSS as crash counts it: the mm's {@code MM_FILEPAGES} and {@code MM_ANONPAGES} (not
     * {@code MM_SHMEMPAGES}, which {@code get_mm_rss} would add), plus what each thread of the mm
     * counted in its {@code task->rss_stat} and has not folded in yet (SPLIT_RSS_COUNTING).
     */
    private long rssPages(long mm, java.util.Map<Long, Long> threadRss, long task) {
        if (mmRss < 0) {
            return 0;
        }
        long rss = threadRss.getOrDefault(mm, 0L);
        for (int counter = 0; counter < 2; counter++) {
            rss += ptr == 8 ? pointer(mm + mmRss + 8L * counter, "->mm->rss_stat", task)
                    : int32(mm + mmRss + 4L * counter, "->mm->rss_stat", task);
        }
        return Math.max(0, rss);
    }

    /** Each mm's file and anon pages its threads counted in {@code task->rss_stat} and have not folded in, in one pass. */
    private java.util.Map<Long, Long> threadRss(LongList all) {
        java.util.Map<Long, Long> byMm = new java.util.HashMap<>();
        if (taskRss < 0 || mmRss < 0) {
            return byMm;
        }
        for (int i = 0; i < all.size(); i++) {
            long t = all.get(i);
            long mm = pointer(t + o.taskMm, "", t);
            if (mm != 0) {
                long delta = (long) int32(t + taskRss, ".rss_stat", t) + int32(t + taskRss + 4, ".rss_stat", t);
                byMm.merge(mm, delta, Long::sum);
            }
        }
        return byMm;
    }

    /**
     * crash's state codes: {@code RU} running, {@code IN} interruptible, {@code UN} uninterruptible,
     * {@code ID} TASK_IDLE, {@code ZO} zombie, {@code ST} stopped, {@code TR} traced, {@code DE}
     * dead, {@code WA} waking, {@code PA} parked, {@code NE} new.
     */
    public static String stateCode(long state, int exitState) {
        if ((exitState & 0x20) != 0) {
            return "ZO";
        }
        if ((exitState & 0x10) != 0) {
            return "DE";
        }
        if (state == 0) {
            return "RU";
        }
        if ((state & 0x402) == 0x402) {
            return "ID";
        }
        if ((state & 0x1) != 0) {
            return "IN";
        }
        if ((state & 0x2) != 0) {
            return "UN";
        }
        if ((state & 0x4) != 0) {
            return "ST";
        }
        if ((state & 0x8) != 0) {
            return "TR";
        }
        if ((state & 0x40) != 0) {
            return "PA";
        }
        if ((state & 0x80) != 0) {
            return "DE";
        }
        if ((state & 0x200) != 0) {
            return "WA";
        }
        if ((state & 0x800) != 0) {
            return "NE";
        }
        return "??";
    }

    /** {@code ps} as crash prints it: {@code PID PPID CPU TASK ST %MEM VSZ RSS COMM}, {@code >} for each CPU's current task, kernel threads in brackets. */
    public String formatPs(List<Task> tasks) {
        StringBuilder out = new StringBuilder(64 * (tasks.size() + 1));
        int w = 2 * ptr;
        out.append("      PID    PPID  CPU");
        int left = (w + 3) / 2 - 2;
        out.append(" ".repeat(left)).append("TASK").append(" ".repeat(w + 3 - left - 4));
        out.append("ST  %MEM      VSZ      RSS  COMM\n");
        for (Task t : tasks) {
            out.append(String.format(Locale.ROOT, "%c%8d%8d%4d  %" + w + "x  %s%6.1f%9d%9d  %s%n", t.active() ? '>' : ' ',
                    t.pid(), t.ppid(), t.cpu(), t.task(), t.state(), t.memPercent(), t.vszKb(), t.rssKb(),
                    t.kernelThread() ? "[" + t.comm() + "]" : t.comm()));
        }
        return out.toString();
    }

    // ---------------------------------------------------------------- runq

    /**
     * Each CPU's runqueue: {@code rq->curr}, the RT tasks of {@code rq->rt.active} by priority,
     * and the CFS tasks of {@code rq->cfs.tasks_timeline} in tree order (group entities' queues
     * inline).
     */
    public List<RunQueue> runq() {
        List<RunQueue> out = new ArrayList<>();
        for (int c = 0; c < k.cpus(); c++) {
            long rq = runqueue(c);
            long curr = pointer(rq + rqCurr, "rq->curr of CPU " + c);
            long rtArray = rq + rqRtActive;
            List<Queued> rt = new ArrayList<>();
            for (int prio = 0; prio < MAX_RT_PRIO; prio++) {
                long head = rtArray + prioQueue + 2L * ptr * prio;
                walkList(head, "rt_prio_array.queue[" + prio + "] of CPU " + c, 0,
                        node -> rt.add(queued(node - rtRunList)));
            }
            long root = rq + rqTimeline;
            List<Queued> cfs = new ArrayList<>();
            walkCfs(root, "cfs_rq.tasks_timeline of CPU " + c, cfs, 0);
            out.add(new RunQueue(c, rq, queued(curr), rtArray, List.copyOf(rt), root, List.copyOf(cfs)));
        }
        return out;
    }

    private Queued queued(long t) {
        String s = what(t);
        try {
            return new Queued(int32(t + o.taskPrio, s), int32(t + o.taskPid, s), t, m.readCString(t + o.taskComm, o.commLength));
        } catch (MemoryFaultException e) {
            throw new WalkException(Errno.EFAULT, t, s, "no memory there");
        }
    }

    /** In-order walk of an rb_root of {@code se.run_node}s, bounded in depth and size. */
    private void walkCfs(long root, String structure, List<Queued> out, int nesting) {
        if (nesting > 8) {
            throw new WalkException(Errno.ELOOP, root, structure, "group scheduling entities nested deeper than 8");
        }
        long[] stack = new long[MAX_RB_DEPTH];
        int depth = 0;
        LongSet seen = new LongSet();
        long node = pointer(root, structure);
        while (node != 0 || depth > 0) {
            while (node != 0) {
                if (depth == MAX_RB_DEPTH) {
                    throw new WalkException(Errno.ELOOP, node, structure, "deeper than " + MAX_RB_DEPTH + " levels");
                }
                if (!seen.add(node) || seen.size() > MAX_TASKS) {
                    throw new WalkException(Errno.ELOOP, node, structure, "a node reached twice (a cycle)");
                }
                stack[depth++] = node;
                node = pointer(node + 2L * ptr, structure + " rb_left");
            }
            node = stack[--depth];
            long se = node - (seRunNode - o.required("task_struct", "se"));
            long myQ = seMyQ >= 0 ? pointer(se + seMyQ, structure + " se.my_q") : 0;
            if (myQ != 0) {
                walkCfs(myQ + p.profile().offsetOf("cfs_rq", "tasks_timeline"), "group cfs_rq 0x"
                        + Long.toHexString(myQ), out, nesting + 1);
            } else {
                out.add(queued(node - seRunNode));
            }
            node = pointer(node + ptr, structure + " rb_right");
        }
    }

    /** {@code runq} as crash prints it. */
    public String formatRunq(List<RunQueue> queues) {
        StringBuilder out = new StringBuilder();
        boolean first = true;
        for (RunQueue q : queues) {
            if (!first) {
                out.append('\n');
            }
            first = false;
            out.append(String.format("CPU %d RUNQUEUE: %x%n", q.cpu(), q.rq()));
            out.append(String.format("  CURRENT: PID: %-6d TASK: %x  COMMAND: \"%s\"%n", q.current().pid(),
                    q.current().task(), q.current().comm()));
            out.append(String.format("  RT PRIO_ARRAY: %x%n", q.rtArray()));
            queuedLines(out, q.rt());
            out.append(String.format("  CFS RB_ROOT: %x%n", q.cfsRoot()));
            queuedLines(out, q.cfs());
        }
        return out.toString();
    }

    private static void queuedLines(StringBuilder out, List<Queued> queued) {
        if (queued.isEmpty()) {
            out.append("     [no tasks queued]\n");
        }
        for (Queued t : queued) {
            out.append(String.format("     [%3d] PID: %-6d TASK: %x  COMMAND: \"%s\"%n", t.prio(), t.pid(), t.task(),
                    t.comm()));
        }
    }

    // ---------------------------------------------------------------- bt -v

    /**
     * crash's {@code bt -v} checks for every task of {@link #ps()}: {@code thread_info.task} points
     * back (ARM32; with THREAD_INFO_IN_TASK it is the task itself), {@code task_cpu} is a CPU of the
     * machine, {@code STACK_END_MAGIC} is intact at {@code end_of_stack}, the {@code sp} saved in
     * {@code cpu_context} is inside the stack. A task running on a CPU also gets that CPU's registers
     * from the dump, and what they say about where it was.
     */
    public List<StackCheck> bt() {
        List<StackCheck> out = new ArrayList<>();
        List<Task> tasks = ps();
        for (Task t : tasks) {
            out.add(check(t));
        }
        return out;
    }

    private StackCheck check(Task t) {
        long task = t.task();
        String s = what(task);
        long stack = pointer(task + o.taskStack, s + ".stack");
        long ti = p.threadInfoInTask() ? task : stack;
        if (stack == 0 && p.threadInfoInTask()) {
            return new StackCheck(t, 0, ti, true, t.cpu() >= 0 && t.cpu() < k.cpus(), false, 0, 0, false,
                    List.of("no stack: freed by put_task_stack when the task died"));
        }
        boolean back = p.threadInfoInTask() || pointer(ti + o.tiTask, "thread_info of " + s) == task;
        boolean cpuValid = t.cpu() >= 0 && t.cpu() < k.cpus();
        long endOfStack = p.threadInfoInTask() ? stack : stack + o.threadInfoSize;
        boolean magic;
        try {
            magic = m.readPointer(endOfStack) == Platform.STACK_END_MAGIC;
        } catch (MemoryFaultException e) {
            magic = false;
        }
        long ctx;
        try {
            ctx = p.cpuContext(m, task);
        } catch (MemoryFaultException e) {
            throw new WalkException(Errno.EFAULT, task, s, "cpu_context not readable");
        }
        long sp = pointer(ctx + ctxSp, "cpu_context of " + s);
        long pc = pointer(ctx + ctxPc, "cpu_context of " + s);
        boolean spIn = Long.compareUnsigned(sp - stack, p.threadSize()) < 0;
        List<String> notes = new ArrayList<>();
        notes.add(String.format("cpu_context: sp %x pc %x%s", sp, pc, name(pc)));
        if (t.active()) {
            notes.addAll(active(t, stack));
        }
        return new StackCheck(t, stack, ti, back, cpuValid, magic, sp, pc, spIn, List.copyOf(notes));
    }

    private String name(long pc) {
        if (symbols == null) {
            return "";
        }
        Optional<String> n = symbols.symbolize(pc);
        return n.map(x -> " (" + x + ")").orElse("");
    }

    /** What a running task's CPU registers say: user or kernel mode, and where sp and pc are. */
    private List<String> active(Task t, long stack) {
        List<String> notes = new ArrayList<>();
        int cpu = -1;
        for (int c = 0; c < k.cpus(); c++) {
            if (pointer(runqueue(c) + rqCurr, "rq->curr of CPU " + c) == t.task()) {
                cpu = c;
            }
        }
        if (cpu < 0) {
            return notes;
        }
        long[] regs = k.registers(cpu);
        List<String> names = p.cpuRegisters();
        long sp = regs[names.indexOf("sp")];
        long pc = regs[names.indexOf("pc")];
        boolean zero = true;
        for (long r : regs) {
            zero &= r == 0;
        }
        if (zero) {
            notes.add("active on CPU " + cpu + ": no registers for this CPU in the dump");
            return notes;
        }
        String mode;
        boolean user;
        int cpsr = names.indexOf("cpsr");
        if (cpsr >= 0) {
            int bits = (int) regs[cpsr] & 0x1f;
            user = bits == 0x10;
            mode = switch (bits) {
                case 0x10 -> "USR";
                case 0x11 -> "FIQ";
                case 0x12 -> "IRQ";
                case 0x13 -> "SVC";
                case 0x17 -> "ABT";
                case 0x1b -> "UND";
                case 0x1f -> "SYS";
                default -> String.format("mode 0x%x", bits);
            };
        } else {
            user = Long.compareUnsigned(pc, p.userDs()) <= 0;
            mode = user ? "EL0" : "EL1";
        }
        boolean inStack = Long.compareUnsigned(sp - stack, p.threadSize()) < 0;
        if (user) {
            notes.add(String.format("active on CPU %d in user mode (%s): pc %x sp %x are user addresses; the kernel"
                    + " stack holds only the pt_regs of its last entry at %x, so the starting frame is the user pc",
                    cpu, mode, pc, sp, p.taskPtRegs(m, t.task())));
        } else {
            notes.add(String.format("active on CPU %d in kernel mode (%s): pc %x%s, sp %x %s its stack; the starting"
                    + " frame is this pc and sp", cpu, mode, pc, name(pc), sp, inStack ? "inside" : "OUTSIDE"));
        }
        return notes;
    }

    /** {@code bt -v} as text: crash's task header, each check, the saved and live registers. */
    public String formatBt(List<StackCheck> checks) {
        StringBuilder out = new StringBuilder();
        boolean first = true;
        for (StackCheck c : checks) {
            if (!first) {
                out.append('\n');
            }
            first = false;
            Task t = c.task();
            out.append(String.format("PID: %-8d TASK: %x  CPU: %-4d COMMAND: \"%s\"%n", t.pid(), t.task(), t.cpu(), t.comm()));
            if (c.stackFreed()) {
                out.append(String.format("  no stack: task->stack is NULL (freed by put_task_stack after its last switch), cpu %d %s%n",
                        t.cpu(), c.cpuValid() ? "ok" : "INVALID"));
                continue;
            }
            out.append(String.format("  stack %x-%x: thread_info.task %s, cpu %d %s, STACK_END_MAGIC %s, saved sp %s%n",
                    c.stack(), c.stack() + p.threadSize(), c.taskPointsBack() ? "ok" : "DOES NOT POINT BACK", t.cpu(),
                    c.cpuValid() ? "ok" : "INVALID", c.magicIntact() ? "ok" : "CORRUPTED",
                    c.spInStack() ? "ok" : "OUTSIDE THE STACK"));
            for (String n : c.notes()) {
                out.append("  ").append(n).append('\n');
            }
        }
        return out.toString();
    }

    // ---------------------------------------------------------------- task, struct, sym

    /**
     * crash's {@code task PID}: the task's {@code task_struct} (and, where it is separate, its
     * {@code thread_info}) in TRACE32's view, thread_info's flags and preempt count decoded.
     *
     * @throws IllegalArgumentException if no task has that pid
     */
    public String task(int pid) {
        for (Task t : ps()) {
            if (t.pid() == pid) {
                StringBuilder out = new StringBuilder();
                out.append(String.format("PID: %-8d TASK: %x  CPU: %-4d COMMAND: \"%s\"%n", t.pid(), t.task(), t.cpu(), t.comm()));
                out.append(Trace32.view(p, m, "task_struct", t.task()));
                if (!p.threadInfoInTask()) {
                    out.append(Trace32.view(p, m, "thread_info", p.taskThreadInfo(m, t.task())));
                }
                return out.toString();
            }
        }
        throw new IllegalArgumentException("no task with pid " + pid);
    }

    /** crash's {@code struct TYPE ADDR}: TRACE32's view of any struct of the build at an address. */
    public String struct(String type, long address) {
        return Trace32.view(p, m, type, address);
    }

    /** The task list walk: each node after {@code head} until it comes back, checked. */
    private void walkList(long head, String label, long owner, java.util.function.LongConsumer each) {
        LongSet seen = null;
        long prev = head;
        long node = pointer(head, label, owner);
        int count = 0;
        while (node != head) {
            if (node == 0) {
                throw new WalkException(Errno.EFAULT, prev, describe(label, owner), "a NULL next pointer");
            }
            if (++count > MAX_TASKS) {
                throw new WalkException(Errno.ELOOP, node, describe(label, owner), "more than " + MAX_TASKS + " entries");
            }
            if (count > 1) {
                if (seen == null) {
                    seen = new LongSet();
                }
                if (!seen.add(node)) {
                    throw new WalkException(Errno.ELOOP, node, describe(label, owner),
                            "reached twice without coming back to the head (a cycle)");
                }
            }
            long back = pointer(node + ptr, label, owner);
            if (back != prev) {
                throw new WalkException(Errno.EFAULT, node, describe(label, owner),
                        String.format("next->prev is 0x%x, not the previous entry 0x%x", back, prev));
            }
            each.accept(node);
            prev = node;
            node = pointer(node, label, owner);
        }
    }
}
