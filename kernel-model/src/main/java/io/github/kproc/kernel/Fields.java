package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.layout.Profile;
import org.jspecify.annotations.Nullable;

/**
 * Offsets and sizes of every struct member the fork, exit and scheduling code touches beyond the
 * common {@link Offsets}, resolved once per kernel from the profile (the model's asm-offsets): one
 * descriptor per struct, each member with the path it was resolved from. Members a build lacks are -1.
 */
final class Fields {
    /** {@code struct list_head, hlist_head and hlist_node}. */
    final ListHead list;
    /** {@code struct task_struct} beyond the common {@link Offsets}. */
    final TaskStruct task;
    /** {@code struct files_struct}. */
    final FilesStruct files;
    /** {@code struct fdtable}. */
    final Fdtable fdt;
    /** {@code struct fs_struct}. */
    final FsStruct fs;
    /** {@code struct sighand_struct}. */
    final SighandStruct sighand;
    /** {@code struct k_sigaction}. */
    final KSigaction sigaction;
    /** {@code struct signal_struct}. */
    final SignalStruct signal;
    /** {@code struct mm_struct}. */
    final MmStruct mm;
    /** {@code struct cred}. */
    final CredStruct cred;
    /** {@code struct user_struct}. */
    final UserStruct user;
    /** {@code struct pid}. */
    final PidStruct pid;
    /** {@code struct upid}. */
    final Upid upid;
    /** {@code struct pid_namespace}. */
    final PidNamespace pidNs;
    /** {@code struct nsproxy}. */
    final NsproxyStruct nsproxy;
    /** {@code struct completion}. */
    final Completion completion;
    /** {@code struct ns_common}, {@code struct user_namespace} and {@code struct ucounts}. */
    final NsCommon nsCommon;
    final UserNamespace userNs;
    final Ucounts ucounts;
    /** {@code struct uts_namespace}, {@code ipc_namespace}, {@code mnt_namespace}, {@code cgroup_namespace}, {@code net}. */
    final UtsNamespace utsNs;
    final IpcNamespace ipcNs;
    final MntNamespace mntNs;
    final CgroupNamespace cgroupNs;
    final Net net;
    /** The structs of {@code kernel/rcu/tree.o}, or null for a profile without its dump (rcu.pahole). */
    final @Nullable RcuStructs rcu;

    Fields(Offsets o) {
        Profile p = o.profile();
        list = new ListHead(o, p);
        task = new TaskStruct(o, p);
        files = new FilesStruct(o, p);
        fdt = new Fdtable(o, p);
        fs = new FsStruct(o, p);
        sighand = new SighandStruct(o, p);
        sigaction = new KSigaction(o, p);
        signal = new SignalStruct(o, p);
        mm = new MmStruct(o, p);
        cred = new CredStruct(o, p);
        user = new UserStruct(o, p);
        pid = new PidStruct(o, p);
        upid = new Upid(o, p);
        pidNs = new PidNamespace(o, p);
        nsproxy = new NsproxyStruct(o, p);
        completion = new Completion(o, p);
        nsCommon = new NsCommon(o);
        userNs = new UserNamespace(o, p);
        ucounts = new Ucounts(o, p);
        utsNs = new UtsNamespace(o, p);
        ipcNs = new IpcNamespace(o, p);
        mntNs = new MntNamespace(o, p);
        cgroupNs = new CgroupNamespace(o, p);
        net = new Net(o, p);
        rcu = RcuStructs.present(p) ? new RcuStructs(o, p) : null;
    }

    /** The resolved members of {@code struct list_head, hlist_head and hlist_node}. */
    static final class ListHead {
        /** {@code list_head.next}. */
        final long next;
        /** {@code list_head.prev}. */
        final long prev;
        /** {@code hlist_head.first}. */
        final long hlistFirst;
        /** {@code hlist_node.next}. */
        final long hnodeNext;
        /** {@code hlist_node.pprev}. */
        final long hnodePprev;
        /** {@code sizeof(struct hlist_node)}. */
        final long hnodeSize;

        ListHead(Offsets o, Profile p) {
            next = o.required("list_head", "next");
            prev = o.required("list_head", "prev");
            hlistFirst = o.required("hlist_head", "first");
            hnodeNext = o.required("hlist_node", "next");
            hnodePprev = o.required("hlist_node", "pprev");
            hnodeSize = p.sizeOf("hlist_node");
        }
    }

    /** The resolved members of {@code struct task_struct}. */
    static final class TaskStruct {
        /** {@code task_struct.ptrace}. */
        final long ptrace;
        /** {@code task_struct.sched_class}. */
        final long schedClass;
        /** {@code task_struct.se.on_rq}. */
        final long seOnRq;
        /** {@code task_struct.se.exec_start}. */
        final long seExecStart;
        /** {@code task_struct.se.sum_exec_runtime}. */
        final long seSumExec;
        /** {@code task_struct.se.prev_sum_exec_runtime}. */
        final long sePrevSumExec;
        /** {@code task_struct.se.nr_migrations}. */
        final long seNrMigrations;
        /** {@code task_struct.se.vruntime}. */
        final long seVruntime;
        /** {@code task_struct.se.load.weight}. */
        final long seLoadWeight;
        /** {@code task_struct.se.load.inv_weight}. */
        final long seLoadInvWeight;
        /** {@code task_struct.se.group_node}. */
        final long seGroupNode;
        /** {@code task_struct.rt.run_list}. */
        final long rtRunList;
        /** {@code task_struct.rt.time_slice}. */
        final long rtTimeSlice;
        /** {@code task_struct.rt.on_rq}. */
        final long rtOnRq;
        /** {@code task_struct.rt.on_list}. */
        final long rtOnList;
        /** {@code task_struct.nr_cpus_allowed}. */
        final long nrCpusAllowed;
        /** {@code task_struct.cpus_allowed}. */
        final long cpusAllowed;
        /** {@code sizeof(task_struct.cpus_allowed)}. */
        final long cpusAllowedSize;
        /** The word holding the {@code task_struct.sched_reset_on_fork} bit. */
        final long resetOnForkWord;
        /** The bit of {@code task_struct.sched_reset_on_fork} in its word. */
        final int resetOnForkBit;
        /** {@code task_struct.pdeath_signal}. */
        final long pdeathSignal;
        /** {@code task_struct.ptrace_entry}. */
        final long ptraceEntry;
        /** {@code task_struct.ptraced}. */
        final long ptraced;
        /** {@code task_struct.thread_pid}. */
        final long threadPid;
        /** {@code task_struct.pid_links}. */
        final long pidLinks;
        /** {@code task_struct.thread_group}. */
        final long threadGroup;
        /** {@code task_struct.thread_node}. */
        final long threadNode;
        /** {@code task_struct.vfork_done}. */
        final long vforkDone;
        /** {@code task_struct.set_child_tid}. */
        final long setChildTid;
        /** {@code task_struct.clear_child_tid}. */
        final long clearChildTid;
        /** {@code task_struct.nvcsw}. */
        final long nvcsw;
        /** {@code task_struct.nivcsw}. */
        final long nivcsw;
        /** {@code task_struct.start_time}. */
        final long startTime;
        /** {@code task_struct.real_start_time}. */
        final long realStartTime;
        /** {@code task_struct.min_flt}. */
        final long minFlt;
        /** {@code task_struct.maj_flt}. */
        final long majFlt;
        /** {@code task_struct.real_cred}. */
        final long realCred;
        /** {@code task_struct.cred}. */
        final long cred;
        /** {@code task_struct.fs}. */
        final long fs;
        /** {@code task_struct.files}. */
        final long files;
        /** {@code task_struct.nsproxy}. */
        final long nsproxy;
        /** {@code task_struct.signal}. */
        final long signal;
        /** {@code task_struct.sighand}. */
        final long sighand;
        /** {@code task_struct.self_exec_id}. */
        final long selfExecId;
        /** {@code task_struct.parent_exec_id}. */
        final long parentExecId;
        /** {@code task_struct.stack_refcount} (-1 where the build lacks it). */
        final long stackRefcount;
        /** {@code task_struct.stack_vm_area} (-1 where the build lacks it). */
        final long stackVmArea;
        /** {@code task_struct.timer_slack_ns} and {@code default_timer_slack_ns} (u64). */
        final long timerSlackNs;
        final long defaultTimerSlackNs;
        /** {@code task_struct.cpuset_mem_spread_rotor}, {@code cpuset_slab_spread_rotor}, {@code mems_allowed_seq} (-1 without CONFIG_CPUSETS). */
        final long cpusetMemSpreadRotor;
        final long cpusetSlabSpreadRotor;
        final long memsAllowedSeq;
        /** {@code task_struct.nr_dirtied}, {@code nr_dirtied_pause} (ints), {@code dirty_paused_when} (unsigned long). */
        final long nrDirtied;
        final long nrDirtiedPause;
        final long dirtyPausedWhen;
        /** {@code task_struct.pagefault_disabled}. */
        final long pagefaultDisabled;
        /** {@code task_struct.utime}. */
        final long utime;
        /** {@code task_struct.stime}. */
        final long stime;
        /** {@code task_struct.gtime}. */
        final long gtime;
        /** {@code task_struct.rcu_read_lock_nesting} (-1 where the build lacks it). */
        final long rcuReadLockNesting;
        /** {@code task_struct.rcu_read_unlock_special} (-1 where the build lacks it). */
        final long rcuReadUnlockSpecial;
        /** {@code task_struct.rcu_node_entry} (-1 where the build lacks it). */
        final long rcuNodeEntry;
        /** {@code task_struct.rcu_blocked_node} (-1 where the build lacks it). */
        final long rcuBlockedNode;
        /** {@code task_struct.rcu_tasks_holdout} (-1 where the build lacks it). */
        final long rcuTasksHoldout;
        /** {@code task_struct.rcu_tasks_idle_cpu} (-1 where the build lacks it). */
        final long rcuTasksIdleCpu;
        /** {@code task_struct.rcu_tasks_holdout_list} (-1 where the build lacks it). */
        final long rcuTasksHoldoutList;
        /** {@code task_struct.cputime_expires} (-1 where the build lacks it). */
        final long cputimeExpires;
        /** {@code sizeof(task_struct.cputime_expires)}, 0 where the build lacks it. */
        final long cputimeExpiresSize;
        /** {@code task_struct.cpu_timers} (-1 where the build lacks it). */
        final long cpuTimers;
        /** {@code task_struct.cg_list} (-1 where the build lacks it). */
        final long cgList;
        /** {@code task_struct.pushable_tasks.prio} (-1 where the build lacks it). */
        final long pushablePrio;
        /** {@code task_struct.pushable_tasks.prio_list} (-1 where the build lacks it). */
        final long pushablePrioList;
        /** {@code task_struct.pushable_tasks.node_list} (-1 where the build lacks it). */
        final long pushableNodeList;
        /** {@code task_struct.perf_event_ctxp} (-1 where the build lacks it). */
        final long perfEventCtxp;
        /** {@code sizeof(task_struct.perf_event_ctxp)}, 0 where the build lacks it. */
        final long perfEventCtxpSize;
        /** {@code task_struct.perf_event_mutex} (-1 where the build lacks it). */
        final long perfEventMutex;
        /** {@code sizeof(task_struct.perf_event_mutex)}, 0 where the build lacks it. */
        final long perfEventMutexSize;
        /** {@code task_struct.perf_event_mutex.wait_list} (-1 where the build lacks it). */
        final long perfEventMutexWaitList;
        /** {@code task_struct.perf_event_list} (-1 where the build lacks it). */
        final long perfEventList;
        /** {@code task_struct.sysvshm.shm_clist} (-1 where the build lacks it). */
        final long shmClist;
        /** {@code task_struct.robust_list} (-1 where the build lacks it). */
        final long robustList;
        /** {@code task_struct.compat_robust_list} (-1 where the build lacks it). */
        final long compatRobustList;
        /** {@code task_struct.pi_state_list} (-1 where the build lacks it). */
        final long piStateList;
        /** {@code task_struct.pi_state_cache} (-1 where the build lacks it). */
        final long piStateCache;

        TaskStruct(Offsets o, Profile p) {
            ptrace = o.required("task_struct", "ptrace");
            schedClass = o.required("task_struct", "sched_class");
            seOnRq = o.required("task_struct", "se.on_rq");
            seExecStart = o.required("task_struct", "se.exec_start");
            seSumExec = o.required("task_struct", "se.sum_exec_runtime");
            sePrevSumExec = o.required("task_struct", "se.prev_sum_exec_runtime");
            seNrMigrations = o.required("task_struct", "se.nr_migrations");
            seVruntime = o.required("task_struct", "se.vruntime");
            seLoadWeight = o.required("task_struct", "se.load.weight");
            seLoadInvWeight = o.required("task_struct", "se.load.inv_weight");
            seGroupNode = o.required("task_struct", "se.group_node");
            rtRunList = o.required("task_struct", "rt.run_list");
            rtTimeSlice = o.required("task_struct", "rt.time_slice");
            rtOnRq = o.required("task_struct", "rt.on_rq");
            rtOnList = o.required("task_struct", "rt.on_list");
            nrCpusAllowed = o.required("task_struct", "nr_cpus_allowed");
            cpusAllowed = o.required("task_struct", "cpus_allowed");
            cpusAllowedSize = p.field("task_struct", "cpus_allowed").size();
            var reset = p.field("task_struct", "sched_reset_on_fork");
            resetOnForkWord = reset.offset();
            resetOnForkBit = reset.bitOffset();
            pdeathSignal = o.required("task_struct", "pdeath_signal");
            ptraceEntry = o.required("task_struct", "ptrace_entry");
            ptraced = o.required("task_struct", "ptraced");
            threadPid = o.required("task_struct", "thread_pid");
            pidLinks = o.required("task_struct", "pid_links");
            threadGroup = o.required("task_struct", "thread_group");
            threadNode = o.required("task_struct", "thread_node");
            vforkDone = o.required("task_struct", "vfork_done");
            setChildTid = o.required("task_struct", "set_child_tid");
            clearChildTid = o.required("task_struct", "clear_child_tid");
            nvcsw = o.required("task_struct", "nvcsw");
            nivcsw = o.required("task_struct", "nivcsw");
            startTime = o.required("task_struct", "start_time");
            realStartTime = o.required("task_struct", "real_start_time");
            minFlt = o.required("task_struct", "min_flt");
            majFlt = o.required("task_struct", "maj_flt");
            realCred = o.required("task_struct", "real_cred");
            cred = o.required("task_struct", "cred");
            fs = o.required("task_struct", "fs");
            files = o.required("task_struct", "files");
            nsproxy = o.required("task_struct", "nsproxy");
            signal = o.required("task_struct", "signal");
            sighand = o.required("task_struct", "sighand");
            selfExecId = o.required("task_struct", "self_exec_id");
            parentExecId = o.required("task_struct", "parent_exec_id");
            stackRefcount = o.optional("task_struct", "stack_refcount");
            stackVmArea = o.optional("task_struct", "stack_vm_area");
            timerSlackNs = o.required("task_struct", "timer_slack_ns");
            defaultTimerSlackNs = o.required("task_struct", "default_timer_slack_ns");
            boolean cpusets = p.config().enabled("CONFIG_CPUSETS");
            cpusetMemSpreadRotor = cpusets ? o.optional("task_struct", "cpuset_mem_spread_rotor") : -1;
            cpusetSlabSpreadRotor = cpusets ? o.optional("task_struct", "cpuset_slab_spread_rotor") : -1;
            memsAllowedSeq = cpusets ? o.optional("task_struct", "mems_allowed_seq") : -1;
            nrDirtied = o.required("task_struct", "nr_dirtied");
            nrDirtiedPause = o.required("task_struct", "nr_dirtied_pause");
            dirtyPausedWhen = o.required("task_struct", "dirty_paused_when");
            pagefaultDisabled = o.required("task_struct", "pagefault_disabled");
            utime = o.required("task_struct", "utime");
            stime = o.required("task_struct", "stime");
            gtime = o.required("task_struct", "gtime");
            rcuReadLockNesting = o.optional("task_struct", "rcu_read_lock_nesting");
            rcuReadUnlockSpecial = o.optional("task_struct", "rcu_read_unlock_special");
            rcuNodeEntry = o.optional("task_struct", "rcu_node_entry");
            rcuBlockedNode = o.optional("task_struct", "rcu_blocked_node");
            rcuTasksHoldout = o.optional("task_struct", "rcu_tasks_holdout");
            rcuTasksIdleCpu = o.optional("task_struct", "rcu_tasks_idle_cpu");
            rcuTasksHoldoutList = o.optional("task_struct", "rcu_tasks_holdout_list");
            cputimeExpires = o.optional("task_struct", "cputime_expires");
            cputimeExpiresSize = cputimeExpires < 0 ? 0 : p.field("task_struct", "cputime_expires").size();
            cpuTimers = o.optional("task_struct", "cpu_timers");
            cgList = o.optional("task_struct", "cg_list");
            pushablePrio = o.optional("task_struct", "pushable_tasks.prio");
            pushablePrioList = o.optional("task_struct", "pushable_tasks.prio_list");
            pushableNodeList = o.optional("task_struct", "pushable_tasks.node_list");
            perfEventCtxp = o.optional("task_struct", "perf_event_ctxp");
            perfEventCtxpSize = perfEventCtxp < 0 ? 0 : p.field("task_struct", "perf_event_ctxp").size();
            perfEventMutex = o.optional("task_struct", "perf_event_mutex");
            perfEventMutexSize = perfEventMutex < 0 ? 0 : p.field("task_struct", "perf_event_mutex").size();
            perfEventMutexWaitList = o.optional("task_struct", "perf_event_mutex.wait_list");
            perfEventList = o.optional("task_struct", "perf_event_list");
            shmClist = o.optional("task_struct", "sysvshm.shm_clist");
            robustList = o.optional("task_struct", "robust_list");
            compatRobustList = o.optional("task_struct", "compat_robust_list");
            piStateList = o.optional("task_struct", "pi_state_list");
            piStateCache = o.optional("task_struct", "pi_state_cache");
        }
    }

    /** The resolved members of {@code struct files_struct}. */
    static final class FilesStruct {
        /** {@code sizeof(struct files_struct)}. */
        final long size;
        /** {@code files_struct.count}. */
        final long count;
        /** {@code files_struct.fdt}. */
        final long fdt;
        /** {@code files_struct.fdtab}. */
        final long fdtab;
        /** {@code files_struct.resize_wait.head}. */
        final long resizeWaitHead;
        /** {@code files_struct.next_fd}. */
        final long nextFd;
        /** {@code files_struct.close_on_exec_init}. */
        final long closeOnExecInit;
        /** {@code files_struct.open_fds_init}. */
        final long openFdsInit;
        /** {@code files_struct.full_fds_bits_init}. */
        final long fullFdsBitsInit;
        /** {@code files_struct.fd_array}. */
        final long fdArray;
        /** Elements of {@code files_struct.fd_array} (NR_OPEN_DEFAULT). */
        final long fdArrayLength;

        FilesStruct(Offsets o, Profile p) {
            size = p.sizeOf("files_struct");
            count = o.required("files_struct", "count");
            fdt = o.required("files_struct", "fdt");
            fdtab = o.required("files_struct", "fdtab");
            resizeWaitHead = o.required("files_struct", "resize_wait.head");
            nextFd = o.required("files_struct", "next_fd");
            closeOnExecInit = o.required("files_struct", "close_on_exec_init");
            openFdsInit = o.required("files_struct", "open_fds_init");
            fullFdsBitsInit = o.required("files_struct", "full_fds_bits_init");
            fdArray = o.required("files_struct", "fd_array");
            fdArrayLength = p.struct("files_struct").member("fd_array").elementCount();
        }
    }

    /** The resolved members of {@code struct fdtable}. */
    static final class Fdtable {
        /** {@code fdtable.max_fds}. */
        final long maxFds;
        /** {@code fdtable.fd}. */
        final long fd;
        /** {@code fdtable.close_on_exec}. */
        final long closeOnExec;
        /** {@code fdtable.open_fds}. */
        final long openFds;
        /** {@code fdtable.full_fds_bits}. */
        final long fullFdsBits;

        Fdtable(Offsets o, Profile p) {
            maxFds = o.required("fdtable", "max_fds");
            fd = o.required("fdtable", "fd");
            closeOnExec = o.required("fdtable", "close_on_exec");
            openFds = o.required("fdtable", "open_fds");
            fullFdsBits = o.required("fdtable", "full_fds_bits");
        }
    }

    /** The resolved members of {@code struct fs_struct}. */
    static final class FsStruct {
        /** {@code sizeof(struct fs_struct)}. */
        final long size;
        /** {@code fs_struct.users}. */
        final long users;
        /** {@code fs_struct.in_exec}. */
        final long inExec;
        /** {@code fs_struct.seq}. */
        final long seq;

        FsStruct(Offsets o, Profile p) {
            size = p.sizeOf("fs_struct");
            users = o.required("fs_struct", "users");
            inExec = o.required("fs_struct", "in_exec");
            seq = o.required("fs_struct", "seq");
        }
    }

    /** The resolved members of {@code struct sighand_struct}. */
    static final class SighandStruct {
        /** {@code sizeof(struct sighand_struct)}. */
        final long size;
        /** {@code sighand_struct.count}. */
        final long count;
        /** {@code sighand_struct.action}. */
        final long action;
        /** {@code sighand_struct.signalfd_wqh.head}. */
        final long signalfdHead;
        /** {@code sizeof(sighand_struct.action)}: _NSIG k_sigactions. */
        final long actionSize;

        SighandStruct(Offsets o, Profile p) {
            size = p.sizeOf("sighand_struct");
            count = o.required("sighand_struct", "count");
            action = o.required("sighand_struct", "action");
            signalfdHead = o.required("sighand_struct", "signalfd_wqh.head");
            actionSize = p.field("sighand_struct", "action").size();
        }
    }

    /** The resolved members of {@code struct k_sigaction}. */
    static final class KSigaction {
        /** {@code sizeof(struct k_sigaction)}. */
        final long size;
        /** {@code k_sigaction.sa.sa_handler}. */
        final long handler;
        /** {@code k_sigaction.sa.sa_flags}. */
        final long flags;

        KSigaction(Offsets o, Profile p) {
            size = p.sizeOf("k_sigaction");
            handler = o.required("k_sigaction", "sa.sa_handler");
            flags = o.required("k_sigaction", "sa.sa_flags");
        }
    }

    /** The resolved members of {@code struct signal_struct}. */
    static final class SignalStruct {
        /** {@code sizeof(struct signal_struct)}. */
        final long size;
        /** {@code signal_struct.sigcnt}. */
        final long sigcnt;
        /** {@code signal_struct.live}. */
        final long live;
        /** {@code signal_struct.nr_threads}. */
        final long nrThreads;
        /** {@code signal_struct.thread_head}. */
        final long threadHead;
        /** {@code signal_struct.wait_chldexit.head}. */
        final long waitChldexitHead;
        /** {@code signal_struct.curr_target}. */
        final long currTarget;
        /** {@code signal_struct.shared_pending.list}. */
        final long sharedPendingList;
        /** {@code signal_struct.multiprocess}. */
        final long multiprocess;
        /** {@code signal_struct.flags}. */
        final long flags;
        /** {@code signal_struct.group_exit_code}. */
        final long groupExitCode;
        /** {@code signal_struct.group_exit_task}: the task de_thread runs for. */
        final long groupExitTask;
        /** {@code signal_struct.notify_count}: threads de_thread still waits for (-1: the leader). */
        final long notifyCount;
        /** The word holding {@code signal_struct.is_child_subreaper} and {@code has_child_subreaper}. */
        final long subreaperWord;
        /** Bit of {@code signal_struct.is_child_subreaper} in its word. */
        final int isSubreaperBit;
        /** Bit of {@code signal_struct.has_child_subreaper} in its word. */
        final int hasSubreaperBit;
        /** {@code sizeof(signal_struct.rlim)}: RLIM_NLIMITS rlimits. */
        final long rlimSize;
        /** Elements of {@code signal_struct.cpu_timers} and {@code task_struct.cpu_timers} (CPUCLOCK_MAX). */
        final int cpuTimersCount;
        /** {@code signal_struct.pids}. */
        final long pids;
        /** {@code signal_struct.rlim}. */
        final long rlim;
        /** {@code signal_struct.posix_timers}. */
        final long posixTimers;
        /** {@code signal_struct.cpu_timers}. */
        final long cpuTimers;
        /** {@code signal_struct.oom_score_adj}. */
        final long oomScoreAdj;
        /** {@code signal_struct.leader}. */
        final long leader;
        /** {@code signal_struct.real_timer.function} (-1 without CONFIG_POSIX_TIMERS). */
        final long realTimerFunction;
        /** {@code signal_struct.real_timer} (-1 where the build lacks it). */
        final long realTimer;
        /** {@code signal_struct.cred_guard_mutex.wait_list}. */
        final long credGuardMutexWaitList;
        /** {@code sizeof(struct rlimit)}. */
        final long rlimitSize;

        SignalStruct(Offsets o, Profile p) {
            size = p.sizeOf("signal_struct");
            sigcnt = o.required("signal_struct", "sigcnt");
            live = o.required("signal_struct", "live");
            nrThreads = o.required("signal_struct", "nr_threads");
            threadHead = o.required("signal_struct", "thread_head");
            waitChldexitHead = o.required("signal_struct", "wait_chldexit.head");
            currTarget = o.required("signal_struct", "curr_target");
            sharedPendingList = o.required("signal_struct", "shared_pending.list");
            multiprocess = o.required("signal_struct", "multiprocess");
            flags = o.required("signal_struct", "flags");
            groupExitCode = o.required("signal_struct", "group_exit_code");
            groupExitTask = o.required("signal_struct", "group_exit_task");
            notifyCount = o.required("signal_struct", "notify_count");
            var isSubreaper = p.field("signal_struct", "is_child_subreaper");
            var hasSubreaper = p.field("signal_struct", "has_child_subreaper");
            if (isSubreaper.offset() != hasSubreaper.offset()) {
                throw new IllegalArgumentException("is_child_subreaper and has_child_subreaper are not in one word");
            }
            subreaperWord = isSubreaper.offset();
            isSubreaperBit = isSubreaper.bitOffset();
            hasSubreaperBit = hasSubreaper.bitOffset();
            rlimSize = p.field("signal_struct", "rlim").size();
            cpuTimersCount = (int) p.struct("signal_struct").member("cpu_timers").elementCount();
            pids = o.required("signal_struct", "pids");
            rlim = o.required("signal_struct", "rlim");
            posixTimers = o.required("signal_struct", "posix_timers");
            cpuTimers = o.required("signal_struct", "cpu_timers");
            oomScoreAdj = o.required("signal_struct", "oom_score_adj");
            leader = o.required("signal_struct", "leader");
            realTimerFunction = o.optional("signal_struct", "real_timer.function");
            realTimer = o.optional("signal_struct", "real_timer");
            credGuardMutexWaitList = o.required("signal_struct", "cred_guard_mutex.wait_list");
            rlimitSize = p.sizeOf("rlimit");
        }
    }

    /** The resolved members of {@code struct mm_struct}. */
    static final class MmStruct {
        /** {@code sizeof(struct mm_struct)}. */
        final long size;
        /** {@code mm_struct.mm_users}. */
        final long users;
        /** {@code mm_struct.mm_count}. */
        final long count;
        /** {@code mm_struct.pgd}. */
        final long pgd;
        /** {@code mm_struct.mmap}. */
        final long mmap;
        /** {@code mm_struct.map_count}. */
        final long mapCount;
        /** {@code mm_struct.owner} (-1 where the build lacks it). */
        final long owner;
        /** {@code mm_struct.mmlist}. */
        final long mmlist;

        MmStruct(Offsets o, Profile p) {
            size = p.sizeOf("mm_struct");
            users = o.required("mm_struct", "mm_users");
            count = o.required("mm_struct", "mm_count");
            pgd = o.required("mm_struct", "pgd");
            mmap = o.required("mm_struct", "mmap");
            mapCount = o.required("mm_struct", "map_count");
            owner = o.optional("mm_struct", "owner");
            mmlist = o.required("mm_struct", "mmlist");
        }
    }

    /** The resolved members of {@code struct cred}. */
    static final class CredStruct {
        /** {@code sizeof(struct cred)}. */
        final long size;
        /** {@code cred.usage}. */
        final long usage;
        /** {@code cred.uid}. */
        final long uid;
        /** {@code cred.euid}. */
        final long euid;
        /** {@code cred.user}. */
        final long user;
        /** {@code cred.user_ns}. */
        final long userNs;
        /** {@code cred.suid}, {@code cred.fsuid}. */
        final long suid;
        final long fsuid;
        /** {@code cred.securebits}. */
        final long securebits;
        /** The capability sets ({@code kernel_cap_t}: two u32 words, low first). */
        final long capInheritable;
        final long capPermitted;
        final long capEffective;
        final long capBset;
        final long capAmbient;

        CredStruct(Offsets o, Profile p) {
            size = p.sizeOf("cred");
            usage = o.required("cred", "usage");
            uid = o.required("cred", "uid");
            euid = o.required("cred", "euid");
            user = o.required("cred", "user");
            userNs = o.required("cred", "user_ns");
            suid = o.required("cred", "suid");
            fsuid = o.required("cred", "fsuid");
            securebits = o.required("cred", "securebits");
            capInheritable = o.required("cred", "cap_inheritable");
            capPermitted = o.required("cred", "cap_permitted");
            capEffective = o.required("cred", "cap_effective");
            capBset = o.required("cred", "cap_bset");
            capAmbient = o.required("cred", "cap_ambient");
        }
    }

    /** The resolved members of {@code struct user_struct}. */
    static final class UserStruct {
        /** {@code sizeof(struct user_struct)}. */
        final long size;
        /** {@code user_struct.__count}. */
        final long count;
        /** {@code user_struct.processes}. */
        final long processes;
        /** {@code user_struct.uid}. */
        final long uid;
        /** {@code user_struct.uidhash_node}: its place in {@code uidhash_table}. */
        final long uidhashNode;
        /** {@code user_struct.ratelimit.interval}, {@code .burst}, {@code .flags}. */
        final long ratelimitInterval;
        final long ratelimitBurst;
        final long ratelimitFlags;

        UserStruct(Offsets o, Profile p) {
            size = p.sizeOf("user_struct");
            count = o.required("user_struct", "__count");
            processes = o.required("user_struct", "processes");
            uid = o.required("user_struct", "uid");
            uidhashNode = o.required("user_struct", "uidhash_node");
            ratelimitInterval = o.required("user_struct", "ratelimit.interval");
            ratelimitBurst = o.required("user_struct", "ratelimit.burst");
            ratelimitFlags = o.required("user_struct", "ratelimit.flags");
        }
    }

    /** The resolved members of {@code struct pid}. */
    static final class PidStruct {
        /** {@code sizeof(struct pid)}. */
        final long baseSize;
        /** {@code pid.count}. */
        final long count;
        /** {@code pid.level}. */
        final long level;
        /** {@code pid.tasks}. */
        final long tasks;
        /** {@code pid.numbers}. */
        final long numbers;

        PidStruct(Offsets o, Profile p) {
            baseSize = p.sizeOf("pid");
            count = o.required("pid", "count");
            level = o.required("pid", "level");
            tasks = o.required("pid", "tasks");
            numbers = o.required("pid", "numbers");
        }
    }

    /** The resolved members of {@code struct upid}. */
    static final class Upid {
        /** {@code sizeof(struct upid)}. */
        final long size;
        /** {@code upid.nr}. */
        final long nr;
        /** {@code upid.ns}. */
        final long ns;

        Upid(Offsets o, Profile p) {
            size = p.sizeOf("upid");
            nr = o.required("upid", "nr");
            ns = o.required("upid", "ns");
        }
    }

    /** The resolved members of {@code struct pid_namespace}. */
    static final class PidNamespace {
        /** {@code sizeof(struct pid_namespace)}. */
        final long size;
        /** {@code pid_namespace.kref}. */
        final long kref;
        /** {@code pid_namespace.idr}: the namespace's {@code struct idr}. */
        final long idr;
        /** {@code pid_namespace.pid_allocated}. */
        final long pidAllocated;
        /** {@code pid_namespace.child_reaper}. */
        final long childReaper;
        /** {@code pid_namespace.level}. */
        final long level;
        /** {@code pid_namespace.parent}. */
        final long parent;
        /** {@code pid_namespace.user_ns}, {@code .ucounts}, {@code .ns}. */
        final long userNs;
        final long ucounts;
        final long ns;

        PidNamespace(Offsets o, Profile p) {
            size = p.sizeOf("pid_namespace");
            kref = o.required("pid_namespace", "kref");
            idr = o.required("pid_namespace", "idr");
            pidAllocated = o.required("pid_namespace", "pid_allocated");
            childReaper = o.required("pid_namespace", "child_reaper");
            level = o.required("pid_namespace", "level");
            parent = o.required("pid_namespace", "parent");
            userNs = o.required("pid_namespace", "user_ns");
            ucounts = o.required("pid_namespace", "ucounts");
            ns = o.required("pid_namespace", "ns");
        }
    }

    /** The resolved members of {@code struct nsproxy}. */
    static final class NsproxyStruct {
        /** {@code sizeof(struct nsproxy)}. */
        final long size;
        /** {@code nsproxy.count}. */
        final long count;
        /** {@code nsproxy.pid_ns_for_children}. */
        final long pidNsForChildren;
        /** {@code nsproxy.uts_ns}, {@code .ipc_ns}, {@code .mnt_ns}, {@code .net_ns}, {@code .cgroup_ns}. */
        final long utsNs;
        final long ipcNs;
        final long mntNs;
        final long netNs;
        final long cgroupNs;

        NsproxyStruct(Offsets o, Profile p) {
            size = p.sizeOf("nsproxy");
            count = o.required("nsproxy", "count");
            pidNsForChildren = o.required("nsproxy", "pid_ns_for_children");
            utsNs = o.required("nsproxy", "uts_ns");
            ipcNs = o.required("nsproxy", "ipc_ns");
            mntNs = o.required("nsproxy", "mnt_ns");
            netNs = o.required("nsproxy", "net_ns");
            cgroupNs = o.required("nsproxy", "cgroup_ns");
        }
    }

    /** The resolved members of {@code struct ns_common}, relative to the struct. */
    static final class NsCommon {
        /** {@code ns_common.ops}, {@code .inum}. */
        final long ops;
        final long inum;

        NsCommon(Offsets o) {
            ops = o.required("ns_common", "ops");
            inum = o.required("ns_common", "inum");
        }
    }

    /** The resolved members of {@code struct user_namespace}. */
    static final class UserNamespace {
        final long size;
        /** {@code user_namespace.uid_map}, {@code .gid_map}, {@code .projid_map}: a {@code uid_gid_map} each. */
        final long uidMap;
        final long gidMap;
        final long projidMap;
        /** {@code uid_gid_map.nr_extents}, {@code .extent} and {@code sizeof(struct uid_gid_extent)}. */
        final long mapNrExtents;
        final long mapExtent;
        /** {@code uid_gid_extent.first}, {@code .lower_first}, {@code .count}. */
        final long extentFirst;
        final long extentLowerFirst;
        final long extentCount;
        final long count;
        final long parent;
        final long level;
        final long owner;
        final long group;
        final long ns;
        final long flags;
        final long ucounts;
        /** {@code user_namespace.ucount_max[UCOUNT_COUNTS]}. */
        final long ucountMax;

        UserNamespace(Offsets o, Profile p) {
            size = p.sizeOf("user_namespace");
            uidMap = o.required("user_namespace", "uid_map");
            gidMap = o.required("user_namespace", "gid_map");
            projidMap = o.required("user_namespace", "projid_map");
            mapNrExtents = o.required("uid_gid_map", "nr_extents");
            mapExtent = o.required("uid_gid_map", "extent");
            extentFirst = o.required("uid_gid_extent", "first");
            extentLowerFirst = o.required("uid_gid_extent", "lower_first");
            extentCount = o.required("uid_gid_extent", "count");
            count = o.required("user_namespace", "count");
            parent = o.required("user_namespace", "parent");
            level = o.required("user_namespace", "level");
            owner = o.required("user_namespace", "owner");
            group = o.required("user_namespace", "group");
            ns = o.required("user_namespace", "ns");
            flags = o.required("user_namespace", "flags");
            ucounts = o.required("user_namespace", "ucounts");
            ucountMax = o.required("user_namespace", "ucount_max");
        }
    }

    /** The resolved members of {@code struct ucounts}. */
    static final class Ucounts {
        final long size;
        final long node;
        final long ns;
        final long uid;
        final long count;
        /** {@code ucounts.ucount[UCOUNT_COUNTS]}. */
        final long ucount;

        Ucounts(Offsets o, Profile p) {
            size = p.sizeOf("ucounts");
            node = o.required("ucounts", "node");
            ns = o.required("ucounts", "ns");
            uid = o.required("ucounts", "uid");
            count = o.required("ucounts", "count");
            ucount = o.required("ucounts", "ucount");
        }
    }

    /** The resolved members of {@code struct uts_namespace}. */
    static final class UtsNamespace {
        final long size;
        final long kref;
        /** {@code uts_namespace.name} and {@code sizeof(struct new_utsname)}, 65 bytes a field. */
        final long name;
        final long nameSize;
        final long userNs;
        final long ucounts;
        final long ns;

        UtsNamespace(Offsets o, Profile p) {
            size = p.sizeOf("uts_namespace");
            kref = o.required("uts_namespace", "kref");
            name = o.required("uts_namespace", "name");
            nameSize = p.sizeOf("new_utsname");
            userNs = o.required("uts_namespace", "user_ns");
            ucounts = o.required("uts_namespace", "ucounts");
            ns = o.required("uts_namespace", "ns");
        }
    }

    /** The resolved members of {@code struct ipc_namespace} and its {@code struct ipc_ids}. */
    static final class IpcNamespace {
        final long size;
        final long count;
        /** {@code ipc_namespace.ids[3]} and {@code sizeof(struct ipc_ids)}. */
        final long ids;
        final long idsSize;
        /** {@code ipc_ids.in_use}, {@code .seq}, {@code .rwsem.count}, {@code .rwsem.wait_list}, {@code .ipcs_idr}, {@code .max_idx}. */
        final long idsInUse;
        final long idsSeq;
        final long idsRwsemWaitList;
        final long idsIdr;
        final long idsMaxIdx;
        final long semCtls;
        final long usedSems;
        final long msgCtlmax;
        final long msgCtlmnb;
        final long msgCtlmni;
        final long msgBytes;
        final long msgHdrs;
        final long shmCtlmax;
        final long shmCtlall;
        final long shmTot;
        final long shmCtlmni;
        final long shmRmidForced;
        final long mqQueuesCount;
        final long mqQueuesMax;
        final long mqMsgMax;
        final long mqMsgsizeMax;
        final long mqMsgDefault;
        final long mqMsgsizeDefault;
        final long userNs;
        final long ucounts;
        final long ns;

        IpcNamespace(Offsets o, Profile p) {
            size = p.sizeOf("ipc_namespace");
            count = o.required("ipc_namespace", "count");
            ids = o.required("ipc_namespace", "ids");
            idsSize = p.sizeOf("ipc_ids");
            idsInUse = o.required("ipc_ids", "in_use");
            idsSeq = o.required("ipc_ids", "seq");
            idsRwsemWaitList = o.required("ipc_ids", "rwsem.wait_list");
            idsIdr = o.required("ipc_ids", "ipcs_idr");
            idsMaxIdx = o.required("ipc_ids", "max_idx");
            semCtls = o.required("ipc_namespace", "sem_ctls");
            usedSems = o.required("ipc_namespace", "used_sems");
            msgCtlmax = o.required("ipc_namespace", "msg_ctlmax");
            msgCtlmnb = o.required("ipc_namespace", "msg_ctlmnb");
            msgCtlmni = o.required("ipc_namespace", "msg_ctlmni");
            msgBytes = o.required("ipc_namespace", "msg_bytes");
            msgHdrs = o.required("ipc_namespace", "msg_hdrs");
            shmCtlmax = o.required("ipc_namespace", "shm_ctlmax");
            shmCtlall = o.required("ipc_namespace", "shm_ctlall");
            shmTot = o.required("ipc_namespace", "shm_tot");
            shmCtlmni = o.required("ipc_namespace", "shm_ctlmni");
            shmRmidForced = o.required("ipc_namespace", "shm_rmid_forced");
            mqQueuesCount = o.required("ipc_namespace", "mq_queues_count");
            mqQueuesMax = o.required("ipc_namespace", "mq_queues_max");
            mqMsgMax = o.required("ipc_namespace", "mq_msg_max");
            mqMsgsizeMax = o.required("ipc_namespace", "mq_msgsize_max");
            mqMsgDefault = o.required("ipc_namespace", "mq_msg_default");
            mqMsgsizeDefault = o.required("ipc_namespace", "mq_msgsize_default");
            userNs = o.required("ipc_namespace", "user_ns");
            ucounts = o.required("ipc_namespace", "ucounts");
            ns = o.required("ipc_namespace", "ns");
        }
    }

    /** The resolved members of {@code struct mnt_namespace}. */
    static final class MntNamespace {
        final long size;
        final long count;
        final long ns;
        final long root;
        final long list;
        final long userNs;
        final long ucounts;
        final long seq;
        /** {@code mnt_namespace.poll.head}: the wait queue's list. */
        final long pollHead;
        final long event;
        final long mounts;
        final long pendingMounts;

        MntNamespace(Offsets o, Profile p) {
            size = p.sizeOf("mnt_namespace");
            count = o.required("mnt_namespace", "count");
            ns = o.required("mnt_namespace", "ns");
            root = o.required("mnt_namespace", "root");
            list = o.required("mnt_namespace", "list");
            userNs = o.required("mnt_namespace", "user_ns");
            ucounts = o.required("mnt_namespace", "ucounts");
            seq = o.required("mnt_namespace", "seq");
            pollHead = o.required("mnt_namespace", "poll.head");
            event = o.required("mnt_namespace", "event");
            mounts = o.required("mnt_namespace", "mounts");
            pendingMounts = o.required("mnt_namespace", "pending_mounts");
        }
    }

    /** The resolved members of {@code struct cgroup_namespace}. */
    static final class CgroupNamespace {
        final long size;
        final long count;
        final long ns;
        final long userNs;
        final long ucounts;
        final long rootCset;

        CgroupNamespace(Offsets o, Profile p) {
            size = p.sizeOf("cgroup_namespace");
            count = o.required("cgroup_namespace", "count");
            ns = o.required("cgroup_namespace", "ns");
            userNs = o.required("cgroup_namespace", "user_ns");
            ucounts = o.required("cgroup_namespace", "ucounts");
            rootCset = o.required("cgroup_namespace", "root_cset");
        }
    }

    /** The resolved members of {@code struct net}. */
    static final class Net {
        final long size;
        final long passive;
        final long count;
        final long list;
        final long userNs;
        final long ucounts;
        final long netnsIds;
        final long ns;
        final long devBaseSeq;

        Net(Offsets o, Profile p) {
            size = p.sizeOf("net");
            passive = o.required("net", "passive");
            count = o.required("net", "count");
            list = o.required("net", "list");
            userNs = o.required("net", "user_ns");
            ucounts = o.required("net", "ucounts");
            netnsIds = o.required("net", "netns_ids");
            ns = o.required("net", "ns");
            devBaseSeq = o.required("net", "dev_base_seq");
        }
    }

    /** The resolved members of {@code struct completion}. */
    static final class Completion {
        /** {@code sizeof(struct completion)}. */
        final long size;
        /** {@code completion.done}. */
        final long done;
        /** {@code completion.wait.head}. */
        final long waitHead;

        Completion(Offsets o, Profile p) {
            size = p.sizeOf("completion");
            done = o.required("completion", "done");
            waitHead = o.required("completion", "wait.head");
        }
    }

    /**
     * The resolved members of {@code struct rcu_state}, {@code rcu_node}, {@code rcu_data},
     * {@code rcu_segcblist} and {@code callback_head} ({@code kernel/rcu/tree.h}), and
     * {@code task_struct.rcu}.
     */
    static final class RcuStructs {
        /** {@code sizeof(struct rcu_state)} and its alignment. */
        final long stateSize;
        final long stateAlign;
        /** {@code rcu_state.node}, {@code level}, {@code rda}, {@code call}, {@code ncpus}. */
        final long stateNode;
        final long stateLevel;
        final long stateRda;
        final long stateCall;
        final long stateNcpus;
        /** {@code rcu_state.gp_seq}, {@code gp_flags} (a short), {@code gp_state} (a short). */
        final long stateGpSeq;
        final long stateGpFlags;
        final long stateGpState;
        /** {@code rcu_state.n_force_qs}, {@code gp_start}, {@code gp_activity}, {@code gp_req_activity}. */
        final long stateNForceQs;
        final long stateGpStart;
        final long stateGpActivity;
        final long stateGpReqActivity;
        /** {@code rcu_state.name} (a string pointer), {@code abbr} (a char), {@code flavors} (a list_head). */
        final long stateName;
        final long stateAbbr;
        final long stateFlavors;
        /** The capacity of {@code rcu_state.node[]} ({@code NUM_RCU_NODES}). */
        final int numRcuNodes;

        /** {@code sizeof(struct rcu_node)}. */
        final long nodeSize;
        final long nodeGpSeq;
        final long nodeGpSeqNeeded;
        final long nodeCompletedqs;
        final long nodeQsmask;
        final long nodeQsmaskinit;
        final long nodeQsmaskinitnext;
        final long nodeGrpmask;
        final long nodeGrplo;
        final long nodeGrphi;
        /** {@code rcu_node.grpnum} and {@code level}: u8. */
        final long nodeGrpnum;
        final long nodeLevel;
        final long nodeParent;
        final long nodeBlkdTasks;

        /** {@code sizeof(struct rcu_data)} and its alignment ({@code DEFINE_PER_CPU_SHARED_ALIGNED}). */
        final long dataSize;
        final long dataAlign;
        final long dataGpSeq;
        final long dataGpSeqNeeded;
        /** {@code rcu_data.cpu_no_qs.b.norm} (u8) and {@code cpu_no_qs.s} (u16, norm and exp together). */
        final long dataCpuNoQsNorm;
        final long dataCpuNoQsS;
        /** {@code rcu_data.core_needs_qs}, {@code beenonline}, {@code gpwrap}: bools. */
        final long dataCoreNeedsQs;
        final long dataBeenonline;
        final long dataGpwrap;
        final long dataMynode;
        final long dataGrpmask;
        /** {@code rcu_data.cblist}: the callbacks, a {@code struct rcu_segcblist}. */
        final long dataCblist;
        final long dataQlenLastFqsCheck;
        final long dataNForceQsSnap;
        final long dataBlimit;
        final long dataCpu;
        final long dataRsp;

        /** {@code rcu_segcblist.head}, {@code tails[4]}, {@code gp_seq[4]}, {@code len}, {@code len_lazy}. */
        final long segHead;
        final long segTails;
        final long segGpSeq;
        final long segLen;
        final long segLenLazy;

        /** {@code callback_head.next} and {@code func}. */
        final long cbNext;
        final long cbFunc;
        /** {@code task_struct.rcu}: the task's callback_head. */
        final long taskRcu;

        /** Whether the profile has tree.o's structs (the bundled profiles do, from rcu.pahole). */
        static boolean present(Profile p) {
            return p.find("rcu_state").isPresent() && p.find("rcu_node").isPresent() && p.find("rcu_data").isPresent()
                    && p.find("rcu_segcblist").isPresent() && p.has("task_struct", "rcu");
        }

        RcuStructs(Offsets o, Profile p) {
            stateSize = p.sizeOf("rcu_state");
            stateAlign = Math.max(64, p.struct("rcu_state").alignment());
            stateNode = o.required("rcu_state", "node");
            stateLevel = o.required("rcu_state", "level");
            stateRda = o.required("rcu_state", "rda");
            stateCall = o.required("rcu_state", "call");
            stateNcpus = o.required("rcu_state", "ncpus");
            stateGpSeq = o.required("rcu_state", "gp_seq");
            stateGpFlags = o.required("rcu_state", "gp_flags");
            stateGpState = o.required("rcu_state", "gp_state");
            stateNForceQs = o.required("rcu_state", "n_force_qs");
            stateGpStart = o.required("rcu_state", "gp_start");
            stateGpActivity = o.required("rcu_state", "gp_activity");
            stateGpReqActivity = o.required("rcu_state", "gp_req_activity");
            stateName = o.required("rcu_state", "name");
            stateAbbr = o.required("rcu_state", "abbr");
            stateFlavors = o.required("rcu_state", "flavors");
            nodeSize = p.sizeOf("rcu_node");
            numRcuNodes = (int) (p.field("rcu_state", "node").size() / nodeSize);
            nodeGpSeq = o.required("rcu_node", "gp_seq");
            nodeGpSeqNeeded = o.required("rcu_node", "gp_seq_needed");
            nodeCompletedqs = o.required("rcu_node", "completedqs");
            nodeQsmask = o.required("rcu_node", "qsmask");
            nodeQsmaskinit = o.required("rcu_node", "qsmaskinit");
            nodeQsmaskinitnext = o.required("rcu_node", "qsmaskinitnext");
            nodeGrpmask = o.required("rcu_node", "grpmask");
            nodeGrplo = o.required("rcu_node", "grplo");
            nodeGrphi = o.required("rcu_node", "grphi");
            nodeGrpnum = o.required("rcu_node", "grpnum");
            nodeLevel = o.required("rcu_node", "level");
            nodeParent = o.required("rcu_node", "parent");
            nodeBlkdTasks = o.required("rcu_node", "blkd_tasks");
            dataSize = p.sizeOf("rcu_data");
            dataAlign = Math.max(64, p.struct("rcu_data").alignment());
            dataGpSeq = o.required("rcu_data", "gp_seq");
            dataGpSeqNeeded = o.required("rcu_data", "gp_seq_needed");
            dataCpuNoQsNorm = o.required("rcu_data", "cpu_no_qs.b.norm");
            dataCpuNoQsS = o.required("rcu_data", "cpu_no_qs.s");
            dataCoreNeedsQs = o.required("rcu_data", "core_needs_qs");
            dataBeenonline = o.required("rcu_data", "beenonline");
            dataGpwrap = o.required("rcu_data", "gpwrap");
            dataMynode = o.required("rcu_data", "mynode");
            dataGrpmask = o.required("rcu_data", "grpmask");
            dataCblist = o.required("rcu_data", "cblist");
            dataQlenLastFqsCheck = o.required("rcu_data", "qlen_last_fqs_check");
            dataNForceQsSnap = o.required("rcu_data", "n_force_qs_snap");
            dataBlimit = o.required("rcu_data", "blimit");
            dataCpu = o.required("rcu_data", "cpu");
            dataRsp = o.required("rcu_data", "rsp");
            segHead = o.required("rcu_segcblist", "head");
            segTails = o.required("rcu_segcblist", "tails");
            segGpSeq = o.required("rcu_segcblist", "gp_seq");
            segLen = o.required("rcu_segcblist", "len");
            segLenLazy = o.required("rcu_segcblist", "len_lazy");
            cbNext = o.required("callback_head", "next");
            cbFunc = o.required("callback_head", "func");
            taskRcu = o.required("task_struct", "rcu");
        }
    }
}
