package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.KernelMemory;
import io.github.kproc.view.KernelReader;
import io.github.kproc.view.TaskStruct;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A booted Linux 4.19 kernel on a simulated machine: every task, stack and shared structure lives in
 * the machine's arena at kernel addresses, laid out by the platform's profile.
 *
 * <p>{@link #boot} brings up {@code init_task} (swapper/0), creates {@code init} (pid 1) and
 * {@code kthreadd} (pid 2) with {@code kernel_thread} as {@code rest_init()} does, forks an idle task
 * per secondary CPU from init as {@code smp_init()} does, and gives init a user address space as its
 * exec of /sbin/init would. Afterwards every CPU runs its idle task and init and kthreadd are
 * runnable on CPU 0.
 *
 * <p>What a task does (fork, exit, wait4, exec, sleep, ...) runs as the current task of a CPU:
 * {@link #cpu(int)} gives that CPU, and {@link Cpu#as(Pid)} one that checks it runs the task meant.
 * What the kernel does to a task named by its pid (kill, migrate, sched_setscheduler, set_user_nice,
 * setrlimit) is here, addressed by {@link Pid}. Errors are {@link KernelException}s with the errno the
 * kernel returns; a failed operation leaves the model exactly as it was. A null argument is a
 * {@link NullPointerException} naming the parameter, a value out of range an
 * {@link IllegalArgumentException}. An exception of the trace sink is thrown once the operation that
 * traced is complete ({@link Tracer}); after {@link #close()} every call throws
 * {@code IllegalStateException("kernel is closed")}. Not thread-safe.
 *
 * <p>Costs follow the kernel's: a pid is found through the IDR, a CFS task through the red-black
 * tree; {@code wait4} walks the caller's children as {@code do_wait} does.
 */
public final class Kernel implements KernelReader, AutoCloseable {
    private final Machine mc;
    private final Pids pids;
    private final Core core;
    private final Signals signals;
    private final Exit exit;
    private final Sysctl sysctl;
    private final Cpu[] cpuHandles;

    private Kernel(Builder b) {
        Platform platform = b.platform;
        if (b.cpus < 1 || b.cpus > platform.nrCpus()) {
            throw new IllegalArgumentException("cpus must be 1.." + platform.nrCpus() + " (CONFIG_NR_CPUS): " + b.cpus);
        }
        int[] cluster = clusterOfEachCpu(b.clusters, b.cpus);
        KernelMemory mem = KernelMemory.create(platform.memoryMap(b.memoryBytes));
        boolean booted = false;
        try {
            this.mc = new Machine(platform, b.cpus, b.memoryBytes, b.tracer, b.seed, mem);
            mc.strictPreemptCount = b.strictPreemptCount;
            mc.cluster = cluster;
            Preempt preempt = new Preempt(mc);
            UserNs userNs = new UserNs(mc);
            Cred cred = new Cred(mc, userNs);
            cred.uidCacheInit();
            Mm mm = new Mm(mc);
            Files files = new Files(mc);
            this.pids = new Pids(mc, userNs);
            Nsproxy nsproxy = new Nsproxy(mc, pids, cred, userNs);
            this.signals = new Signals(mc);
            TaskAlloc taskAlloc = new TaskAlloc(mc, cred);
            Vfork vfork = new Vfork(mc, taskAlloc, pids);
            this.core = new Core(mc, preempt, mm, taskAlloc, pids, vfork);
            Softirq softirq = new Softirq(mc, preempt, core);
            core.softirq = softirq;
            // rcu_init (after sched_init in start_kernel), for the flavour call_rcu uses in this build
            Rcu rcu = mc.f.rcu != null ? new Rcu(mc, core, preempt, softirq) : null;
            mc.rcu = rcu;
            core.rcu = rcu;
            softirq.rcu = rcu;
            Fork fork = new Fork(mc, core, pids, cred, files, signals, mm, nsproxy, taskAlloc, vfork);
            this.exit = new Exit(mc, core, pids, files, nsproxy, mm, signals, cred, taskAlloc, vfork);
            if (rcu != null) {
                rcu.exit = exit;
            }
            Exec exec = new Exec(mc, core, mm, files, signals, vfork, exit, pids);
            this.sysctl = new Sysctl(mc, cred);
            Sys sys = new Sys(mc, fork, pids);
            nsproxy.initNamespaces();
            new Boot(mc, core, fork, exec, pids, mm, files, signals, taskAlloc).start();
            b.sysctls.forEach(sysctl::write);
            this.cpuHandles = new Cpu[b.cpus];
            for (int c = 0; c < b.cpus; c++) {
                cpuHandles[c] = new Cpu(mc, core, preempt, softirq, fork, exit, exec, pids, vfork, cred, sys, c, 0);
            }
            // a trace sink's exception during boot fails the boot, after it completed consistently
            mc.traceDone();
            booted = true;
        } finally {
            if (!booted) {
                mem.close();
            }
        }
    }

    /** Each CPU's cluster from {@link Builder#clusters(int...)}, checked against the CPU count. */
    private static int[] clusterOfEachCpu(int @Nullable [] clusters, int cpus) {
        int[] cluster = new int[cpus];
        if (clusters == null) {
            return cluster;
        }
        if (clusters.length == 0) {
            throw new IllegalArgumentException("clusters: at least one cluster");
        }
        int cpu = 0;
        for (int c = 0; c < clusters.length; c++) {
            if (clusters[c] < 1) {
                throw new IllegalArgumentException("clusters: cluster " + c + " has " + clusters[c] + " CPUs (at least 1)");
            }
            if (cpu + clusters[c] > cpus) {
                break;
            }
            java.util.Arrays.fill(cluster, cpu, cpu + clusters[c], c);
            cpu += clusters[c];
        }
        long sum = 0;
        for (int n : clusters) {
            sum += n;
        }
        if (sum != cpus) {
            throw new IllegalArgumentException("clusters: " + java.util.Arrays.toString(clusters) + " add up to " + sum
                    + " CPUs, not the " + cpus + " CPUs booted");
        }
        return cluster;
    }

    /** Builds and boots a kernel. */
    public static Builder builder(Platform platform) {
        java.util.Objects.requireNonNull(platform, "platform");
        return new Builder(platform);
    }

    /** Boots a kernel with {@code cpus} CPUs and 256 MiB of memory, without tracing. */
    public static Kernel boot(Platform platform, int cpus) {
        java.util.Objects.requireNonNull(platform, "platform");
        return builder(platform).cpus(cpus).boot();
    }

    /** Options of a boot. */
    public static final class Builder {
        private final Platform platform;
        private int cpus = 1;
        private long memoryBytes = 256L << 20;
        private @Nullable Tracer tracer;
        private long seed = 0x4c696e7578L;
        private final java.util.Map<String, Long> sysctls = new java.util.LinkedHashMap<>();
        private boolean strictPreemptCount;
        private int @Nullable [] clusters;

        private Builder(Platform platform) {
            this.platform = platform;
        }

        /** Online CPUs, 1 .. CONFIG_NR_CPUS. */
        public Builder cpus(int value) {
            this.cpus = value;
            return this;
        }

        /** Bytes of RAM (a whole number of pages). */
        public Builder memory(long bytes) {
            this.memoryBytes = bytes;
            return this;
        }

        /** Trace events (and function lines) to this tracer, from boot on. */
        public Builder tracer(@Nullable Tracer value) {
            this.tracer = value;
            return this;
        }

        /** The seed of the kernel's random numbers (stack canaries). */
        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        /** A sysctl written right after boot, as {@link Kernel#sysctl(String, long)} does it. */
        public Builder sysctl(String name, long value) {
            java.util.Objects.requireNonNull(name, "name");
            sysctls.put(name, value);
            return this;
        }

        /**
         * Strict preempt_count checking, off by default. Off, the count behaves as the bundled builds'
         * (no CONFIG_DEBUG_PREEMPT): a field that overflows carries into the next, an exit without its
         * entry borrows, {@code local_bh_enable} in hardirq context only records its
         * {@code WARNING: ...} line in {@link Kernel#bugs()}, and the kernel goes on. On, each of these is
         * refused with a {@link PreemptCountException} and the count is left as it was.
         */
        public Builder strictPreemptCount(boolean value) {
            this.strictPreemptCount = value;
            return this;
        }

        /**
         * The CPUs' clusters, as a device tree's {@code cpu-map} describes them: the number of CPUs in
         * each cluster, CPUs numbered cluster by cluster (e.g. {@code clusters(2, 2)} puts CPUs 0-1 in
         * one cluster and 2-3 in another). By default all CPUs are one cluster. The sizes must be at
         * least 1 and add up to {@link #cpus(int)}, or {@link #boot()} throws
         * {@link IllegalArgumentException}.
         *
         * <p>The scheduling domains follow the build's {@code .config}, as {@code build_sched_domains}
         * does: with CONFIG_SCHED_MC (the bundled arm64 build) each cluster is an MC domain sharing its
         * last-level cache (wakeups look for an idle CPU only inside it) under a DIE domain whose groups
         * are the clusters; a one-CPU cluster's MC level is degenerate and dropped. Without it (the
         * bundled ARM32 vexpress build) there is only DIE with one group per CPU, so the clusters change
         * nothing the scheduler reads.
         */
        public Builder clusters(int... cpusPerCluster) {
            java.util.Objects.requireNonNull(cpusPerCluster, "cpusPerCluster");
            this.clusters = cpusPerCluster.clone();
            return this;
        }

        /** Boots the kernel; a bad sysctl is the {@link KernelException} its handler returns. */
        public Kernel boot() {
            return new Kernel(this);
        }
    }

    /** The build this kernel runs. */
    @Override
    public Platform platform() {
        mc.checkOpen();
        return mc.platform;
    }

    /** The machine's memory. */
    public KernelMemory memory() {
        mc.checkOpen();
        return mc.mem;
    }

    /** Kernel addresses of the machine. */
    @Override
    public AddressSpace addressSpace() {
        mc.checkOpen();
        return mc.m;
    }

    /** Fault injection for the fork path. */
    public Faults faults() {
        mc.checkOpen();
        return mc.faults;
    }

    /** Number of CPUs. */
    @Override
    public int cpus() {
        mc.checkOpen();
        return mc.cpus;
    }

    /** Sets (or with null removes) the tracer. */
    public void tracer(@Nullable Tracer value) {
        mc.checkOpen();
        mc.tracer = value;
    }

    /**
     * The simulated clock ({@code sched_clock}, the rq clocks and the trace timestamps) in nanoseconds
     * since boot. A freshly built kernel reads 150,000,000: the clock {@code rest_init} forked init and
     * kthreadd at on the seed's real 4.19.1 board ({@code sched_clock} is 0 only until
     * {@code sched_clock_init}, early in {@code start_kernel}); the trace's first lines carry it.
     */
    public long clock() {
        mc.checkOpen();
        return mc.clock;
    }

    /** Advances the simulated clock. */
    public void advanceClock(long nanos) {
        mc.checkOpen();
        if (nanos < 0) {
            throw new IllegalArgumentException("nanos: time runs forward: " + nanos);
        }
        if (nanos > Long.MAX_VALUE - mc.clock) {
            throw new IllegalArgumentException("nanos: the clock would pass 2^63 - 1 ns: " + mc.clock + " + " + nanos);
        }
        mc.clock += nanos;
    }

    /** {@code nr_threads}: tasks with a pid (idle tasks do not count). */
    public int nrThreads() {
        mc.checkOpen();
        return mc.nrThreads();
    }

    /** {@code total_forks}: successful copy_process calls since boot, idle forks included. */
    public long totalForks() {
        mc.checkOpen();
        return mc.totalForks();
    }

    /** {@code max_threads} (kernel.threads-max): at most RAM / (8 * THREAD_SIZE), within [MIN_THREADS, FUTEX_TID_MASK]. */
    public int maxThreads() {
        mc.checkOpen();
        return mc.maxThreads();
    }

    /** {@code pid_max}. */
    public int pidMax() {
        mc.checkOpen();
        return mc.pidMax();
    }

    /** Writes {@code kernel.pid_max} or {@code kernel.threads-max}; EINVAL out of range changes nothing (see {@code Sysctl}). */
    public void sysctl(String name, long value) {
        java.util.Objects.requireNonNull(name, "name");
        mc.checkOpen();
        sysctl.write(name, value);
    }

    /** Reads {@code kernel.pid_max} or {@code kernel.threads-max}. */
    public long sysctl(String name) {
        java.util.Objects.requireNonNull(name, "name");
        mc.checkOpen();
        return sysctl.read(name);
    }

    /** {@code setrlimit} of the task {@code pid} on itself (-1: RLIM_INFINITY); ESRCH, EINVAL, EPERM change nothing. */
    public void setrlimit(Pid pid, int resource, long soft, long hard) {
        mc.checkOpen();
        long t = taskOrEsrch(pid);
        sysctl.setrlimit(t, t, resource, soft, hard);
    }

    /** {@code getrlimit}: {soft, hard} of the task {@code pid}. */
    public long[] getrlimit(Pid pid, int resource) {
        mc.checkOpen();
        return sysctl.getrlimit(taskOrEsrch(pid), resource);
    }

    private long taskOrEsrch(Pid pid) {
        java.util.Objects.requireNonNull(pid, "pid");
        long t = pids.findTaskByVpid(pid.nr());
        if (t == 0) {
            throw new KernelException(Errno.ESRCH, "no task with " + pid);
        }
        return t;
    }

    /** {@code &init_task}. */
    public long initTask() {
        mc.checkOpen();
        return mc.initTask;
    }

    /** {@code &init_pid_ns}. */
    public long initPidNamespace() {
        mc.checkOpen();
        return mc.initPidNs;
    }

    /**
     * Every task on the global task list: {@code init_task} (swapper/0, pid 0) first, then each thread
     * group leader followed by its threads. The idle tasks of the other CPUs are not on it. {@link
     * #nrThreads()} counts the tasks with a pid, so it is one less than this list's size.
     */
    public List<TaskStruct> tasks() {
        mc.checkOpen();
        return signals.forEachProcessThread().stream().map(this::task).toList();
    }

    @Override
    public long[] registers(int cpu) {
        mc.checkOpen();
        return cpu(cpu).registers();
    }

    /** CPU {@code n}, 0 .. {@link #cpus()} - 1. */
    public Cpu cpu(int n) {
        mc.checkOpen();
        mc.checkCpu(n);
        return cpuHandles[n];
    }

    /**
     * The address of a kernel symbol as System.map has it: {@code init_task}, {@code runqueues} (in the
     * per-CPU section), {@code __per_cpu_offset}, {@code init_pid_ns}, {@code init_struct_pid},
     * {@code init_mm}, {@code nr_threads}, {@code total_forks}, {@code max_threads}, {@code pid_max}, the
     * namespaces' {@code init_nsproxy}, {@code init_uts_ns}, {@code init_user_ns}, {@code init_ipc_ns},
     * {@code init_cgroup_ns}, {@code init_net}, {@code ucounts_hashtable}, {@code proc_inum_ida},
     * {@code mnt_ns_seq}, {@code net_namespace_list}, with CONFIG_VMAP_STACK {@code vmap_area_root} and
     * {@code vmap_area_list} (the stacks' vmalloc areas), the others {@link #symbols()} lists, or a function
     * (or {@code *ns_operations} table) of the model's text.
     */
    @Override
    public long symbol(String name) {
        mc.checkOpen();
        return mc.symbol(name);
    }

    /**
     * Every symbol {@link #symbol(String)} knows, by name: the data symbols and the functions of the
     * model's text (what a System.map of this image would list, and what a vmcore of it carries in
     * its VMCOREINFO).
     */
    public java.util.Map<String, Long> symbols() {
        mc.checkOpen();
        java.util.Map<String, Long> all = new java.util.TreeMap<>();
        for (String name : mc.dataSymbols()) {
            all.put(name, mc.symbol(name));
        }
        for (String name : KernelSymbols.names()) {
            all.put(name, mc.symbol(name));
        }
        return java.util.Collections.unmodifiableMap(all);
    }

    /** {@code find_task_by_pid_ns(pid, &init_pid_ns)}: the task with this global pid, if any. */
    public java.util.Optional<TaskStruct> task(Pid pid) {
        java.util.Objects.requireNonNull(pid, "pid");
        mc.checkOpen();
        long t = pids.findTaskByVpid(pid.nr());
        return t == 0 ? java.util.Optional.empty() : java.util.Optional.of(task(t));
    }

    /**
     * A view of the task_struct at a kernel address.
     *
     * @throws IllegalArgumentException if no task_struct fits there (0, or outside the machine's memory)
     */
    public TaskStruct task(long address) {
        mc.checkOpen();
        if (!mc.m.contains(address, mc.o.taskSize)) {
            throw new IllegalArgumentException(String.format("no task_struct at 0x%x", address));
        }
        return new TaskStruct(mc.platform, mc.m, address);
    }

    /** The pid of a task as seen from the pid namespace {@code ns} ({@code task_pid_nr_ns}), 0 if not visible. */
    public int pidNr(long task, long ns) {
        mc.checkOpen();
        return pids.taskPidNrNs(task, ns);
    }

    /** {@code task_active_pid_ns(task)}. */
    public long taskActivePidNs(long task) {
        mc.checkOpen();
        return pids.taskActivePidNs(task);
    }

    /** The 32-bit word at a user address of a task's address space, as written by put_user, or null. */
    public @Nullable Integer userWord(long task, long address) {
        mc.checkOpen();
        long mm = mc.m.readPointer(task + mc.o.taskMm);
        return mc.userMemory.getUser(mm, address);
    }

    /**
     * {@code kill(pid, sig)} from user space in the initial pid namespace: the signal is dropped if
     * {@code sig_ignored} says so (init and a namespace's init ignore default-action signals, except that
     * SIGKILL and SIGSTOP reach a namespace's init from this ancestor namespace; kthreadd ignores every
     * signal; SIGCHLD and its like are ignored by default); otherwise it is marked pending (the part of {@code send_signal}
     * fork looks at: {@code signal_pending} gives -ERESTARTNOINTR). SIGKILL kills the whole thread group
     * as {@code complete_signal} does: SIGNAL_GROUP_EXIT, SIGKILL pending in every thread, sleeping
     * threads woken (the sender's wakeups are traced on CPU 0); each thread dies with
     * {@code do_group_exit} when it next runs, before its CPU's next operation. Other signals only
     * stay pending: their default actions are not modelled.
     *
     * @return true if the signal is pending now, false if it was dropped
     */
    public boolean kill(Pid pid, int sig) {
        mc.checkOpen();
        long t = taskOrEsrch(pid);
        if (sig < 1 || sig > 64) {
            throw new KernelException(Errno.EINVAL, "bad signal " + sig);
        }
        // from user space in init_pid_ns: from an ancestor of any other namespace (from_ancestor_ns)
        if (signals.sigIgnored(t, sig, pids.taskActivePidNs(t) != mc.initPidNs)) {
            return false;
        }
        if (sig == Signals.SIGKILL) {
            exit.sendSigkill(0, t);
        } else {
            signals.sigaddset(t, sig);
            mc.setTsiFlag(t, Machine.TIF_SIGPENDING);
        }
        return true;
    }

    /** Clears all pending signals of a task ({@code flush_signals}). */
    public void flushSignals(Pid pid) {
        mc.checkOpen();
        long t = taskOrEsrch(pid);
        signals.flushSignals(t);
    }

    // ------------------------------------------------------------------ CPUs, contexts, scheduling

    /** {@code TICK_NSEC}: nanoseconds between timer ticks (1e9 / CONFIG_HZ). */
    public long tickNanos() {
        mc.checkOpen();
        return 1_000_000_000L / mc.hz;
    }

    /** {@link Cpu#step} of every CPU: pending reschedule IPIs are taken. */
    public void stepAll() {
        mc.checkOpen();
        try {
            for (Cpu c : cpuHandles) {
                c.stepRaw();
            }
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /** Advances the clock by one tick and ticks every CPU, CPU 0 first; pending IPIs are taken. */
    public void tickAll() {
        advanceClock(tickNanos());
        try {
            for (Cpu c : cpuHandles) {
                c.tickRaw();
            }
            for (Cpu c : cpuHandles) {
                c.stepRaw();
            }
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /**
     * Moves a queued or sleeping task to {@code cpu} ({@code move_queued_task} -> {@code set_task_cpu},
     * {@code sched_migrate_task}).
     *
     * @throws KernelException EBUSY if it is running, EINVAL if {@code cpu} is not allowed for it
     */
    public void migrate(Pid pid, int cpu) {
        mc.checkOpen();
        mc.checkCpu(cpu);
        long t = taskOrEsrch(pid);
        int running = core.runningOn(t);
        if (running >= 0) {
            throw new KernelException(Errno.EBUSY, pid + " is running on CPU " + running);
        }
        if (!core.allowed(t, cpu) || !mc.online[cpu] || mc.m.readInt(t + mc.o.taskExitState) != 0) {
            throw new KernelException(Errno.EINVAL, pid + " cannot run on CPU " + cpu);
        }
        try {
            core.migrateTask(t, cpu);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /**
     * {@code sched_setscheduler(p, policy, {priority})}: FIFO and RR take a priority 1..99, the others
     * 0 (EINVAL otherwise). The call is taken as made on CPU 0: a reschedule it causes is
     * {@code resched_curr} of the task's CPU, TIF_NEED_RESCHED there and, if that is not CPU 0, a
     * reschedule IPI, which that CPU takes at its next step, tick or operation.
     */
    public void setScheduler(Pid pid, Policy policy, int priority) {
        java.util.Objects.requireNonNull(policy, "policy");
        mc.checkOpen();
        try {
            core.schedSetscheduler(taskOrEsrch(pid), policy.value(), priority, 0);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /**
     * {@code set_user_nice(p, nice)}: static_prio = 120 + nice, -20 .. 19; EINVAL otherwise. Taken as
     * made on CPU 0, like {@link #setScheduler}: the task's CPU is rescheduled (with an IPI if it is
     * another CPU) when its prio improved, or worsened while it runs.
     */
    public void setNice(Pid pid, int nice) {
        mc.checkOpen();
        try {
            core.setUserNice(taskOrEsrch(pid), nice, 0);
        } catch (RuntimeException e) {
            throw mc.traceFailed(e);
        }
        mc.traceDone();
    }

    /**
     * Releases the machine's memory (the arena and its mapping). Closing again does nothing; every
     * other call on this kernel, its {@link Cpu}s, its {@link KernelMemory} and the views read from it
     * afterwards throws {@code IllegalStateException("kernel is closed")}.
     */
    @Override
    public void close() {
        mc.closed = true;
        mc.mem.close();
    }


    /**
     * The lines the kernel has printed for its BUGs and warnings, oldest first, each as its first line
     * reads in the kernel log ({@code BUG: scheduling while atomic: ...},
     * {@code WARNING: CPU: 0 PID: 1 at kernel/softirq.c:168 __local_bh_enable_ip},
     * {@code kernel BUG at ...!}), without the register dump and backtrace that follow.
     */
    public List<String> bugs() {
        mc.checkOpen();
        return mc.bugs();
    }

}
