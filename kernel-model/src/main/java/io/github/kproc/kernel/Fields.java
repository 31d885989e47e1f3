package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.layout.Profile;

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

        PidNamespace(Offsets o, Profile p) {
            size = p.sizeOf("pid_namespace");
            kref = o.required("pid_namespace", "kref");
            idr = o.required("pid_namespace", "idr");
            pidAllocated = o.required("pid_namespace", "pid_allocated");
            childReaper = o.required("pid_namespace", "child_reaper");
            level = o.required("pid_namespace", "level");
            parent = o.required("pid_namespace", "parent");
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

        NsproxyStruct(Offsets o, Profile p) {
            size = p.sizeOf("nsproxy");
            count = o.required("nsproxy", "count");
            pidNsForChildren = o.required("nsproxy", "pid_ns_for_children");
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
}
