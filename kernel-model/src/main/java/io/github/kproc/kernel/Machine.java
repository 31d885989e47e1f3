package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.KernelMemory;
import io.github.kproc.mem.SlabCache;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;

/**
 * What one simulated machine shares between the kernel's subsystems: the platform and its resolved
 * layouts, the memory with its slab caches and the kernel image's static objects, each CPU's
 * registers and interrupt mask, the clock, fault injection, the tracer and the BUG log.
 *
 * <p>Subsystems ({@link Fork}, {@link Exit}, {@link Core}, {@link Pids}, ...) take a machine plus
 * the subsystems they call, as the kernel's files call each other; none of them sees {@link Kernel}.
 *
 * <p>Java holds here only what the kernel does not keep in its memory: CPU registers and the irq
 * mask (CPU state), the clock, the random source, the tracer and the simulator's counters of what
 * it injected.
 */
final class Machine {
    /** {@code TIF_SIGPENDING}: bit 0 of {@code thread_info.flags} on ARM and arm64. */
    static final int TIF_SIGPENDING = 0;
    /** {@code TIF_NEED_RESCHED}: bit 1 on ARM and arm64. */
    static final int TIF_NEED_RESCHED = 1;
    /** {@code MAX_ERRNO}. */
    static final long MAX_ERRNO = 4095;

    final Platform platform;
    final Offsets o;
    final Fields f;
    final KernelMemory mem;
    final AddressSpace m;
    final Lists lists;
    final KernelSymbols symbols;
    final Faults faults = new Faults();
    final UserMemory userMemory = new UserMemory();
    final SplittableRandom random;
    final int cpus;
    final long hz;
    /** CPUs brought up ({@code cpu_online_mask}). */
    final boolean[] online;
    /** Each CPU's registers, named by {@link Platform#cpuRegisters()}. */
    final long[][] registers;
    /** Each CPU's interrupt mask (CPSR.I / DAIF.I): true while irqs are off. */
    final boolean[] irqsOff;
    /** A reschedule IPI raised for the CPU and not yet taken. */
    final boolean[] ipiPending;
    /** Reschedule IPIs sent to each CPU. */
    final long[] ipis;
    final int tifSyscallTrace;
    /** TIF_SINGLESTEP where the architecture single-steps in hardware (arm64), else -1 (ARM32). */
    final int tifSinglestep;
    final int tifForeignFpstate;
    final TraceEvents trace;
    /** ftrace's saved cmdlines, the comms of line prefixes. */
    final SavedCmdlines cmdlines;
    /** The per-CPU areas ({@code __per_cpu_offset}); {@code runqueues} is their first variable. */
    final PerCpu perCpu;
    /** {@code &runqueues}, set when the scheduler lays out its runqueues. */
    long runqueues;
    /** The per-CPU {@code hrtimer_bases} (0 where the build's dump lacks its structs). */
    long hrtimerBases;
    /** {@code &vmap_area_root} and {@code &vmap_area_list} (mm/vmalloc.c), set by {@link Vmalloc}; 0 without VMAP_STACK. */
    long vmapAreaRoot;
    long vmapAreaList;
    @Nullable Tracer tracer;
    long clock;
    /** The cluster of each CPU ({@code cpu_topology[cpu]}'s package): consecutive CPUs, cluster 0 first. */
    int[] cluster;
    /** {@code &def_root_domain}, set by {@link Topology}. */
    long defRootDomain;
    /** The per-CPU {@code &sd_llc}, {@code &sd_llc_size}, {@code &sd_llc_id}, {@code &sd_llc_shared}, set by {@link Topology}. */
    long sdLlc;
    long sdLlcSize;
    long sdLlcId;
    long sdLlcShared;
    /** Refuse preempt_count overflows and unbalanced exits ({@link PreemptCountException}) instead of wrapping. */
    boolean strictPreemptCount;
    private final List<String> bugs = new ArrayList<>();

    final SlabCache taskCache;
    final SlabCache filesCache;
    final SlabCache fsCache;
    final SlabCache sighandCache;
    final SlabCache signalCache;
    final SlabCache mmCache;
    final SlabCache credCache;
    final SlabCache nsproxyCache;
    final SlabCache pidNsCache;
    /** {@code uid_cachep} ("uid_cache", SLAB_HWCACHE_ALIGN): the user_structs {@code alloc_uid} makes. */
    final SlabCache uidCache;
    /**
     * {@code delayacct_cache} (CONFIG_TASK_DELAY_ACCT, {@code delayacct_init}): a task_delay_info per
     * task while {@code delayacct_on} (1 unless booted with nodelayacct); null without the option.
     */
    final @org.jspecify.annotations.Nullable SlabCache delayacctCache;
    /** {@code task_struct.delays}, or -1 without CONFIG_TASK_DELAY_ACCT. */
    final long taskDelays;
    /** {@code ipc/sem.c}: the undo lists CLONE_SYSVSEM shares ({@code copy_semundo}, {@code exit_sem}). */
    final Sem sem;
    /** {@code radix_tree_node_cachep}: the nodes of every radix tree, each pid namespace's IDR among them. */
    final SlabCache radixTreeNodeCache;
    /** {@code lib/idr.c} over {@code lib/radix-tree.c}, allocating nodes through fault injection. */
    final Idr idr;
    /** {@code uts_ns_cache}, {@code user_ns_cachep}, {@code net_cachep} ("net_namespace"). */
    final SlabCache utsNsCache;
    final SlabCache userNsCache;
    final SlabCache netCache;
    /**
     * The kmalloc caches the model allocates from ({@code kmalloc-N} by {@code kmalloc_index}, at least
     * {@code KMALLOC_MIN_SIZE} = {@code ARCH_DMA_MINALIGN}): ipc and mount namespaces, cgroup namespaces,
     * ucounts and ida_bitmaps. The registry is the allocator's, not kernel memory state.
     */
    private final java.util.Map<Long, SlabCache> kmallocCaches = new java.util.HashMap<>();
    private final int kmallocMinSize;
    /** {@code proc_inum_ida}'s IDA ({@code fs/proc/generic.c}), its bitmaps from kmalloc-128. */
    final Ida ida;
    /** {@code PGD_SIZE} as a page order: 16 KiB on ARM32 (LPAE off), one page on arm64. */
    final int pgdOrder;

    final long initTask;
    final long initStructPid;
    final long initPidNs;
    final long initNsproxy;
    /** {@code init_uts_ns}, {@code init_user_ns}, {@code init_ipc_ns}, {@code init_cgroup_ns}, {@code init_net}. */
    final long initUtsNs;
    final long initUserNs;
    final long initIpcNs;
    final long initCgroupNs;
    final long initNet;
    /** The init mount namespace {@code init_mount_tree} allocates at boot. */
    long initMntNs;
    /** {@code ucounts_hashtable}: 1 << UCOUNTS_HASHTABLE_BITS hlist_heads ({@code kernel/ucount.c}). */
    final long ucountsHashtable;
    /** {@code proc_inum_ida}: a {@code struct ida}. */
    final long procInumIda;
    /** {@code mnt_ns_seq}: an atomic64_t, 1 at boot. */
    final long mntNsSeqVar;
    /** {@code net_namespace_list}: a list_head of every {@code struct net}. */
    final long netNamespaceList;
    final long initCred;
    final long rootUser;
    final long initMm;
    final long initFiles;
    final long initFs;
    final long initSighand;
    final long initSignals;
    /** {@code uidhash_table}: {@link Cred#UIDHASH_SZ} hlist_heads in the image's data ({@code kernel/user.c}). */
    final long uidhashTable;
    /** {@code &pid_max_min}: an int, kernel.pid_max's lower bound. */
    final long pidMaxMinVar;

    /** {@code &nr_threads}: an int in the image's data. */
    final long nrThreadsVar;
    /** {@code &total_forks}: an unsigned long. */
    final long totalForksVar;
    /** {@code &max_threads}: an int (kernel.threads-max). */
    final long maxThreadsVar;
    /** {@code &pid_max}: an int (kernel.pid_max). */
    final long pidMaxVar;
    /** RAM in bytes ({@code totalram_pages * PAGE_SIZE}). */
    final long ramBytes;

    private long staticNext;
    private final long staticEnd;

    /** Creates the machine's memory and static objects; the caller closes {@link #mem} if boot fails. */
    Machine(Platform platform, int cpus, long memoryBytes, @Nullable Tracer tracer, long seed, KernelMemory mem) {
        requireSchedStructs(platform.profile());
        this.platform = platform;
        this.o = platform.offsets();
        this.f = new Fields(o);
        this.cpus = cpus;
        this.mem = mem;
        this.m = mem.space();
        this.random = new SplittableRandom(seed);
        this.tracer = tracer;
        this.hz = platform.profile().config().number("CONFIG_HZ", 100);
        this.lists = new Lists(m, f, platform.profile().config().number("CONFIG_ILLEGAL_POINTER_VALUE", 0));
        this.symbols = new KernelSymbols(platform.textBase());
        this.online = new boolean[cpus];
        this.cluster = new int[cpus];
        this.registers = new long[cpus][platform.cpuRegisters().size()];
        this.irqsOff = new boolean[cpus];
        this.ipiPending = new boolean[cpus];
        this.ipis = new long[cpus];
        this.tifSyscallTrace = platform.tifBit("TIF_SYSCALL_TRACE");
        this.tifSinglestep = platform.tifBit("TIF_SINGLESTEP");
        this.tifForeignFpstate = platform.tifBit("TIF_FOREIGN_FPSTATE");
        int l1 = 64;
        // radix_tree_init, before fork_init and proc_caches_init in start_kernel
        radixTreeNodeCache = mem.createCache("radix_tree_node", platform.profile().sizeOf("radix_tree_node"),
                align("radix_tree_node"));
        idr = new Idr(m, platform.profile(), radixTreeNodeCache, faults::allocation);
        taskCache = mem.createCache("task_struct", o.taskSize, Math.max(l1, align("task_struct")));
        filesCache = mem.createCache("files_cache", f.files.size, align("files_struct"));
        fsCache = mem.createCache("fs_cache", f.fs.size, align("fs_struct"));
        sighandCache = mem.createCache("sighand_cache", f.sighand.size, align("sighand_struct"));
        signalCache = mem.createCache("signal_cache", f.signal.size, align("signal_struct"));
        mmCache = mem.createCache("mm_struct", f.mm.size, align("mm_struct"));
        credCache = mem.createCache("cred_jar", f.cred.size, align("cred"));
        nsproxyCache = mem.createCache("nsproxy", f.nsproxy.size, align("nsproxy"));
        pidNsCache = mem.createCache("pid_namespace", f.pidNs.size, align("pid_namespace"));
        // uts_ns_cache (SLAB_PANIC), user_ns_cachep (KMEM_CACHE), net_cachep (SMP_CACHE_BYTES aligned)
        utsNsCache = mem.createCache("uts_namespace", f.utsNs.size, align("uts_namespace"));
        userNsCache = mem.createCache("user_namespace", f.userNs.size, align("user_namespace"));
        netCache = mem.createCache("net_namespace", f.net.size, Math.max(l1, align("net")));
        // KMALLOC_MIN_SIZE: ARCH_DMA_MINALIGN, L1_CACHE_BYTES on ARM, 128 on arm64
        kmallocMinSize = platform.pointerSize() == 8 ? 128
                : 1 << platform.profile().config().number("CONFIG_ARM_L1_CACHE_SHIFT", 6);
        for (long size : new long[] {f.ipcNs.size, f.mntNs.size, f.cgroupNs.size, f.ucounts.size, Ida.IDA_BITMAP_BITS / 8}) {
            kmallocCaches.computeIfAbsent(kmallocSize(size),
                    n -> mem.createCache("kmalloc-" + n, n, kmallocMinSize));
        }
        ida = new Ida(m, idr.tree, kmalloc(Ida.IDA_BITMAP_BITS / 8), faults::allocation, platform.pointerSize());
        pgdOrder = platform.pgdOrder();
        // uid_cache_init (a subsys_initcall, after fork_init)
        long userSize = platform.profile().sizeOf("user_struct");
        int hwcache = l1;
        while (userSize <= hwcache / 2) {
            hwcache /= 2;
        }
        uidCache = mem.createCache("uid_cache", userSize, Math.max(hwcache, align("user_struct")));
        // delayacct_init (start_kernel, after fork_init)
        boolean delayacct = platform.profile().config().enabled("CONFIG_TASK_DELAY_ACCT")
                && platform.profile().has("task_struct", "delays") && platform.profile().find("task_delay_info").isPresent();
        taskDelays = delayacct ? platform.profile().offsetOf("task_struct", "delays") : -1;
        delayacctCache = delayacct ? mem.createCache("task_delay_info", platform.profile().sizeOf("task_delay_info"),
                align("task_delay_info")) : null;
        sem = new Sem(this);

        // the kernel image's data: init_task, init_thread_union and the other static objects
        staticNext = mem.pages().allocPages(6);
        if (staticNext == 0) {
            throw tooLittleRam(memoryBytes, "the kernel image's data");
        }
        staticEnd = staticNext + ((long) platform.pageSize() << 6);
        this.ramBytes = memoryBytes;
        int ptr = platform.pointerSize();
        nrThreadsVar = staticAlloc(4, 4);
        totalForksVar = staticAlloc(ptr, ptr);
        maxThreadsVar = staticAlloc(4, 4);
        pidMaxVar = staticAlloc(4, 4);
        setMaxThreads(Integer.MAX_VALUE);
        // pid_idr_init: PIDS_PER_CPU_DEFAULT * cpus, at least the default, at most PID_MAX_LIMIT
        setPidMax((int) Math.min(platform.pidMaxLimit(), Math.max(32768, 1024L * cpus)));

        rootUser = staticAlloc(f.user.size, 8);
        initCred = staticAlloc(f.cred.size, 8);
        initPidNs = staticAlloc(f.pidNs.size, 8);
        initStructPid = staticAlloc(f.pid.baseSize, 8);
        initNsproxy = staticAlloc(f.nsproxy.size, 8);
        initUtsNs = staticAlloc(f.utsNs.size, 8);
        initUserNs = staticAlloc(f.userNs.size, 8);
        initIpcNs = staticAlloc(f.ipcNs.size, 8);
        initCgroupNs = staticAlloc(f.cgroupNs.size, 8);
        initNet = staticAlloc(f.net.size, 64);
        ucountsHashtable = staticAlloc((long) UserNs.UCOUNTS_HASHTABLE_SIZE * ptr, ptr);
        procInumIda = staticAlloc(platform.profile().sizeOf("ida"), ptr);
        mntNsSeqVar = staticAlloc(8, 8);
        netNamespaceList = staticAlloc(2L * ptr, ptr);
        initMm = staticAlloc(f.mm.size, 64);
        initTask = staticAlloc(o.taskSize, 64);
        initFiles = staticAlloc(f.files.size, 64);
        initFs = staticAlloc(f.fs.size, 8);
        initSighand = staticAlloc(f.sighand.size, 8);
        initSignals = staticAlloc(f.signal.size, 8);
        uidhashTable = staticAlloc((long) Cred.UIDHASH_SZ * ptr, ptr);
        // pid_idr_init: pid_max_min = max(RESERVED_PIDS + 1, PIDS_PER_CPU_MIN * num_possible_cpus())
        pidMaxMinVar = staticAlloc(4, 4);
        m.writeInt(pidMaxMinVar, Math.max(Pids.RESERVED_PIDS + 1, 8 * cpus));
        this.perCpu = new PerCpu(this, 2L * platform.pageSize());
        this.cmdlines = new SavedCmdlines(m, o.commLength);
        this.trace = new TraceEvents(this);
    }

    /**
     * The structs of {@code kernel/sched/sched.h} and {@code include/linux/wait.h} the scheduler and the
     * vfork wait lay out in the arena; a profile made from fork.o's dump alone lacks them.
     */
    private static void requireSchedStructs(io.github.kproc.layout.Profile p) {
        java.util.List<String> missing = java.util.stream.Stream.of("rq", "cfs_rq", "rt_rq", "rt_prio_array",
                "wait_queue_entry").filter(s -> p.find(s).isEmpty()).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("profile " + p.name() + " has no struct " + String.join(", struct ", missing)
                    + " (pahole of kernel/sched/core.o, sched.pahole): the runqueues and wait queues cannot be laid out");
        }
    }

    /** The {@link Pid} handle of each number this kernel has returned, grown as pids grow (never past pid_max). */
    private Pid[] pidHandles = new Pid[1024];

    /**
     * The one {@link Pid} for {@code nr}: fork, run and wait4 in a loop then allocate nothing, whatever
     * {@code kernel.pid_max} is. Simulator state: handles for the caller, not kernel memory.
     */
    Pid pid(int nr) {
        if (nr >= pidHandles.length) {
            int size = pidHandles.length;
            while (size <= nr) {
                size *= 2;
            }
            pidHandles = java.util.Arrays.copyOf(pidHandles, size);
        }
        Pid p = pidHandles[nr];
        if (p == null) {
            p = Pid.of(nr);
            pidHandles[nr] = p;
        }
        return p;
    }

    /** {@code MIN_THREADS}. */
    static final int MIN_THREADS = 20;
    /** {@code MAX_THREADS} = FUTEX_TID_MASK. */
    static final int MAX_THREADS = 0x3fffffff;

    /**
     * {@code set_max_threads(suggested)}: RAM / (8 * THREAD_SIZE), at most the suggestion, clamped to
     * [MIN_THREADS, MAX_THREADS].
     */
    void setMaxThreads(long suggested) {
        long threads = Math.min(ramBytes / (8 * platform.threadSize()), suggested);
        m.writeInt(maxThreadsVar, (int) Math.max(MIN_THREADS, Math.min(threads, MAX_THREADS)));
    }

    /** {@code max_threads}. */
    int maxThreads() {
        return m.readInt(maxThreadsVar);
    }

    /** {@code pid_max}. */
    int pidMax() {
        return m.readInt(pidMaxVar);
    }

    /** {@code pid_max_min}. */
    int pidMaxMin() {
        return m.readInt(pidMaxMinVar);
    }

    void setPidMax(int value) {
        m.writeInt(pidMaxVar, value);
    }

    /** {@code nr_threads}. */
    int nrThreads() {
        return m.readInt(nrThreadsVar);
    }

    /** {@code nr_threads++} / {@code nr_threads--}. */
    void addNrThreads(int delta) {
        m.writeInt(nrThreadsVar, m.readInt(nrThreadsVar) + delta);
    }

    /** {@code total_forks}. */
    long totalForks() {
        return m.readPointer(totalForksVar);
    }

    /** {@code total_forks++}. */
    void incTotalForks() {
        m.writePointer(totalForksVar, m.readPointer(totalForksVar) + 1);
    }

    private int align(String struct) {
        return Math.max(platform.pointerSize(), platform.profile().struct(struct).alignment());
    }

    /** {@code kmalloc_index}'s size class for {@code size}: a power of two from KMALLOC_MIN_SIZE, or 96 and 192 where kept. */
    private long kmallocSize(long size) {
        if (kmallocMinSize <= 32 && size > 64 && size <= 96) {
            return 96;
        }
        if (kmallocMinSize <= 64 && size > 128 && size <= 192) {
            return 192;
        }
        long n = kmallocMinSize;
        while (n < size) {
            n <<= 1;
        }
        return n;
    }

    /** The kmalloc cache an object of {@code size} bytes comes from (one of those made at boot). */
    SlabCache kmalloc(long size) {
        SlabCache cache = kmallocCaches.get(kmallocSize(size));
        if (cache == null) {
            throw new IllegalStateException("no kmalloc cache for " + size + " bytes");
        }
        return cache;
    }

    /** Allocates from the kernel image's static data (zeroed, never freed). */
    long staticAlloc(long size, long alignment) {
        long at = (staticNext + alignment - 1) & -alignment;
        if (at + size > staticEnd) {
            throw new IllegalStateException("static kernel data exhausted");
        }
        staticNext = at + size;
        m.fill(at, size, (byte) 0);
        return at;
    }

    /** The data symbols {@link #symbol} knows. */
    static final List<String> DATA_SYMBOLS = List.of("init_task", "init_pid_ns", "init_struct_pid", "init_mm",
            "__per_cpu_offset", "runqueues", "nr_threads", "total_forks", "max_threads", "pid_max", "pid_max_min",
            "uidhash_table", "root_user", "def_root_domain", "sd_llc",
            "sd_llc_size", "sd_llc_id", "sd_llc_shared", "init_nsproxy", "init_cred", "init_uts_ns", "init_user_ns",
            "init_ipc_ns", "init_cgroup_ns", "init_net", "ucounts_hashtable", "proc_inum_ida", "mnt_ns_seq",
            "net_namespace_list", "hrtimer_bases");

    /** The RCU flavour {@code call_rcu} uses, or null for a profile without kernel/rcu/tree.o's layout. */
    @Nullable Rcu rcu;

    /**
     * {@link #DATA_SYMBOLS}, the RCU flavour's {@code <flavour>_state} and per-CPU {@code <flavour>_data},
     * and with CONFIG_VMAP_STACK {@code vmap_area_root} and {@code vmap_area_list}.
     */
    List<String> dataSymbols() {
        if (rcu == null && vmapAreaRoot == 0) {
            return DATA_SYMBOLS;
        }
        List<String> all = new ArrayList<>(DATA_SYMBOLS);
        if (rcu != null) {
            all.add(rcu.name + "_state");
            all.add(rcu.name + "_data");
        }
        if (vmapAreaRoot != 0) {
            all.add("vmap_area_root");
            all.add("vmap_area_list");
        }
        return all;
    }

    /** A data symbol's address, or a function of the model's text ({@link KernelSymbols}). */
    long symbol(String name) {
        Rcu flavour = rcu;
        if (flavour != null && name.startsWith(flavour.name + "_")) {
            if (name.equals(flavour.name + "_state")) {
                return flavour.state;
            }
            if (name.equals(flavour.name + "_data")) {
                return flavour.data;
            }
        }
        return switch (name) {
            case "init_task" -> initTask;
            case "init_pid_ns" -> initPidNs;
            case "init_struct_pid" -> initStructPid;
            case "init_mm" -> initMm;
            case "__per_cpu_offset" -> perCpu.perCpuOffset;
            case "runqueues" -> runqueues;
            case "nr_threads" -> nrThreadsVar;
            case "total_forks" -> totalForksVar;
            case "max_threads" -> maxThreadsVar;
            case "pid_max" -> pidMaxVar;
            case "uidhash_table" -> uidhashTable;
            case "pid_max_min" -> pidMaxMinVar;
            case "root_user" -> rootUser;
            case "def_root_domain" -> defRootDomain;
            case "sd_llc" -> sdLlc;
            case "sd_llc_size" -> sdLlcSize;
            case "sd_llc_id" -> sdLlcId;
            case "sd_llc_shared" -> sdLlcShared;
            case "init_nsproxy" -> initNsproxy;
            case "init_cred" -> initCred;
            case "init_uts_ns" -> initUtsNs;
            case "init_user_ns" -> initUserNs;
            case "init_ipc_ns" -> initIpcNs;
            case "init_cgroup_ns" -> initCgroupNs;
            case "init_net" -> initNet;
            case "ucounts_hashtable" -> ucountsHashtable;
            case "proc_inum_ida" -> procInumIda;
            case "mnt_ns_seq" -> mntNsSeqVar;
            case "net_namespace_list" -> netNamespaceList;
            case "hrtimer_bases" -> hrtimerBases;
            case "vmap_area_root" -> vmapAreaRoot != 0 ? vmapAreaRoot : symbols.address(name);
            case "vmap_area_list" -> vmapAreaList != 0 ? vmapAreaList : symbols.address(name);
            default -> symbols.address(name);
        };
    }

    // ---- the public entry points' bracket (Kernel, Cpu) ----

    /** True once {@link Kernel#close()} released the memory. */
    boolean closed;

    /** Every public call starts here: one field check, then {@code IllegalStateException("kernel is closed")}. */
    void checkOpen() {
        if (closed) {
            throw closedException();
        }
    }

    static IllegalStateException closedException() {
        return new IllegalStateException("kernel is closed");
    }

    /**
     * A public operation completed: the trace sink's first exception during it, if any, is thrown now
     * that the model is consistent ({@link Tracer}).
     */
    void traceDone() {
        Tracer t = tracer;
        if (t != null) {
            Throwable f = t.takeFailure();
            if (f != null) {
                throw Machine.<RuntimeException>rethrow(f);
            }
        }
    }

    /**
     * A public operation failed (and rolled back): the sink's exception during it, if any, is attached
     * to the operation's as suppressed. Returns {@code e} to throw.
     */
    RuntimeException traceFailed(RuntimeException e) {
        Tracer t = tracer;
        if (t != null) {
            Throwable f = t.takeFailure();
            if (f != null && f != e) {
                e.addSuppressed(f);
            }
        }
        return e;
    }

    /** Throws a kept RuntimeException or Error unchanged (the sink's exceptions are only those). */
    @SuppressWarnings("unchecked")
    private static <T extends Throwable> RuntimeException rethrow(Throwable f) throws T {
        throw (T) f;
    }

    /** The boot's error when RAM runs out before the kernel is up: names the option and what did not fit. */
    static IllegalArgumentException tooLittleRam(long memoryBytes, String what) {
        return new IllegalArgumentException("memory: " + memoryBytes + " bytes of RAM are too few to boot: no room for "
                + what);
    }

    void checkCpu(int cpu) {
        if (cpu < 0 || cpu >= cpus) {
            throw new IllegalArgumentException("no CPU " + cpu + " (" + cpus + " CPUs)");
        }
    }

    /** {@code current} of a CPU, derived from its registers as the architecture does. */
    long current(int cpu) {
        return platform.currentTask(m, registers[cpu]);
    }

    /** {@code task->comm}. */
    String comm(long task) {
        return m.readCString(task + o.taskComm, o.commLength);
    }

    /** Records a kernel BUG/WARN message (the kernel prints it and carries on). */
    void bug(String message) {
        bugs.add(message);
    }

    List<String> bugs() {
        return java.util.Collections.unmodifiableList(bugs);
    }

    /** {@code IS_ERR_VALUE(x)}: an errno encoded in an address-sized return (kernel addresses may be negative). */
    static boolean isErr(long x) {
        return Long.compareUnsigned(x, -MAX_ERRNO) >= 0;
    }

    // ---- allocation with fault injection (mm/slub.c, mm/page_alloc.c) ----

    /** {@code kmem_cache_alloc}: 0 when the allocation fails (injected). */
    long kmemCacheAlloc(SlabCache cache) {
        return faults.allocation() ? 0 : cache.alloc();
    }

    /** The {@code kmalloc-N} cache an object of {@code size} comes from (KMALLOC_MIN_SIZE: the DMA alignment). */
    SlabCache kmallocCache(long size) {
        int min = platform.pointerSize() == 8 ? 128 : 64;
        long n = min;
        while (n < size) {
            n = n == 128 && min <= 64 && size <= 192 ? 192 : n * 2;
        }
        String name = "kmalloc-" + n;
        for (SlabCache c : mem.caches()) {
            if (c.name().equals(name)) {
                return c;
            }
        }
        return mem.createCache(name, n, (int) Math.min(n, min));
    }

    /** {@code kmem_cache_zalloc}. */
    long kmemCacheZalloc(SlabCache cache) {
        return faults.allocation() ? 0 : cache.zalloc();
    }

    /** {@code alloc_pages}. */
    long allocPages(int order) {
        return faults.allocation() ? 0 : mem.pages().allocPages(order);
    }

    // ---- include/linux/thread_info.h ----

    void setTsiFlag(long task, int bit) {
        long ti = platform.taskThreadInfo(m, task);
        m.writePointer(ti + o.tiFlags, m.readPointer(ti + o.tiFlags) | (1L << bit));
    }

    /** {@code clear_tsk_thread_flag}; a bit of -1 (the architecture has no such flag) does nothing. */
    void clearTsiFlag(long task, int bit) {
        if (bit < 0) {
            return;
        }
        long ti = platform.taskThreadInfo(m, task);
        m.writePointer(ti + o.tiFlags, m.readPointer(ti + o.tiFlags) & ~(1L << bit));
    }

    boolean testTsiFlag(long task, int bit) {
        long ti = platform.taskThreadInfo(m, task);
        return (m.readPointer(ti + o.tiFlags) & (1L << bit)) != 0;
    }

    /** Sets a task's {@code thread_info.preempt_count}. */
    void setPreemptCount(long task, int value) {
        m.writeInt(platform.taskThreadInfo(m, task) + o.tiPreemptCount, value);
    }

    /** {@code put_user} into the task's address space (ignored for a task without one, like a fault). */
    void putUser(long task, long address, int value) {
        long mm = m.readPointer(task + o.taskMm);
        if (mm != 0 && address != 0) {
            userMemory.putUser(mm, address, value);
        }
    }

    /** Where {@code _do_fork}'s on-stack {@code struct completion vfork} sits: below the caller's pt_regs. */
    long onStackCompletion(long task) {
        return (platform.taskPtRegs(m, task) - 0x40) & -8L;
    }

    /** Where {@code copy_process}'s on-stack {@code delayed.node} sits: below the caller's pt_regs. */
    long onStackDelayedNode(long task) {
        return (platform.taskPtRegs(m, task) - 0x60) & -8L;
    }
}
