package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.layout.Profile;

/**
 * Offsets and sizes of every struct member the fork, exit and scheduling code touches, resolved once
 * per kernel from the profile (the model's asm-offsets). Members a build lacks are -1.
 */
final class Fields {
    final long listNext;
    final long listPrev;
    final long hlistFirst;
    final long hnodeNext;
    final long hnodePprev;

    // task_struct beyond the common Offsets
    final long taskPtrace;
    final long taskSchedClass;
    final long taskSeOnRq;
    final long taskSeExecStart;
    final long taskSeSumExec;
    final long taskSePrevSumExec;
    final long taskSeNrMigrations;
    final long taskSeVruntime;
    final long taskSeLoadWeight;
    final long taskSeLoadInvWeight;
    final long taskSeGroupNode;
    final long taskRtRunList;
    final long taskRtTimeSlice;
    final long taskRtOnRq;
    final long taskRtOnList;
    final long taskNrCpusAllowed;
    final long taskCpusAllowed;
    final long taskCpusAllowedSize;
    final long taskResetOnForkWord;
    final int taskResetOnForkBit;
    final long taskPdeathSignal;
    final long taskPtraceEntry;
    final long taskPtraced;
    final long taskThreadPid;
    final long taskPidLinks;
    final long hnodeSize;
    final long taskThreadGroup;
    final long taskThreadNode;
    final long taskVforkDone;
    final long taskSetChildTid;
    final long taskClearChildTid;
    final long taskNvcsw;
    final long taskNivcsw;
    final long taskStartTime;
    final long taskRealStartTime;
    final long taskMinFlt;
    final long taskMajFlt;
    final long taskRealCred;
    final long taskCred;
    final long taskFs;
    final long taskFiles;
    final long taskNsproxy;
    final long taskSignal;
    final long taskSighand;
    final long taskSelfExecId;
    final long taskParentExecId;
    final long taskStackRefcount;
    final long taskStackVmArea;
    final long taskUtime;
    final long taskStime;
    final long taskGtime;
    // what copy_process re-initialises after the struct copy (-1 where the build lacks it)
    final long taskRcuReadLockNesting;
    final long taskRcuReadUnlockSpecial;
    final long taskRcuNodeEntry;
    final long taskRcuBlockedNode;
    final long taskRcuTasksHoldout;
    final long taskRcuTasksIdleCpu;
    final long taskRcuTasksHoldoutList;
    final long taskCputimeExpires;
    final long taskCputimeExpiresSize;
    final long taskCpuTimers;
    final long taskCgList;
    final long taskPushablePrio;
    final long taskPushablePrioList;
    final long taskPushableNodeList;
    final long taskPerfEventCtxp;
    final long taskPerfEventCtxpSize;
    final long taskPerfEventMutex;
    final long taskPerfEventMutexSize;
    final long taskPerfEventMutexWaitList;
    final long taskPerfEventList;
    final long taskShmClist;
    final long taskRobustList;
    final long taskCompatRobustList;
    final long taskPiStateList;
    final long taskPiStateCache;

    // files_struct / fdtable
    final long filesSize;
    final long filesCount;
    final long filesFdt;
    final long filesFdtab;
    final long filesResizeWaitHead;
    final long filesNextFd;
    final long filesCloseOnExecInit;
    final long filesOpenFdsInit;
    final long filesFullFdsBitsInit;
    final long filesFdArray;
    final long filesFdArrayLength;
    final long fdtMaxFds;
    final long fdtFd;
    final long fdtCloseOnExec;
    final long fdtOpenFds;
    final long fdtFullFdsBits;

    // fs_struct
    final long fsSize;
    final long fsUsers;
    final long fsInExec;
    final long fsSeq;

    // sighand_struct
    final long sighandSize;
    final long sighandCount;
    final long sighandAction;
    final long sigactionSize;
    final long sigactionHandler;
    final long sigactionFlags;
    final long sighandSignalfdHead;

    // signal_struct
    final long signalSize;
    final long signalSigcnt;
    final long signalLive;
    final long signalNrThreads;
    final long signalThreadHead;
    final long signalWaitChldexitHead;
    final long signalCurrTarget;
    final long signalSharedPendingList;
    final long signalMultiprocess;
    final long signalFlags;
    final long signalSubreaperWord;
    /** Bit of {@code signal_struct.is_child_subreaper} in its word. */
    final int signalIsSubreaperBit;
    /** Bit of {@code signal_struct.has_child_subreaper} in its word. */
    final int signalHasSubreaperBit;
    /** {@code sizeof(signal_struct.rlim)}: RLIM_NLIMITS rlimits. */
    final long signalRlimSize;
    /** Elements of {@code signal_struct.cpu_timers} and {@code task_struct.cpu_timers} (CPUCLOCK_MAX). */
    final int cpuTimersCount;
    /** {@code sizeof(sighand_struct.action)}: _NSIG k_sigactions. */
    final long sighandActionSize;
    final long signalPids;
    final long signalRlim;
    final long signalPosixTimers;
    final long signalCpuTimers;
    final long signalOomScoreAdj;
    final long signalLeader;
    final long rlimitSize;

    // mm_struct
    final long mmSize;
    final long mmUsers;
    final long mmCount;
    final long mmPgd;
    final long mmMmap;
    final long mmMapCount;
    final long mmOwner;
    final long mmMmlist;

    // cred / user_struct
    final long credSize;
    final long credUsage;
    final long credUid;
    final long credEuid;
    final long credUser;
    final long userSize;
    final long userCount;
    final long userProcesses;
    final long userUid;

    // pid / upid / pid_namespace / nsproxy
    final long pidBaseSize;
    final long pidCount;
    final long pidLevel;
    final long pidTasks;
    final long pidNumbers;
    final long upidSize;
    final long upidNr;
    final long upidNs;
    final long pidNsSize;
    final long pidNsKref;
    /** {@code pid_namespace.idr}: the namespace's {@code struct idr}. */
    final long pidNsIdr;
    final long pidNsPidAllocated;
    final long pidNsChildReaper;
    final long pidNsLevel;
    final long pidNsParent;
    final long nsproxySize;
    final long nsproxyCount;
    final long nsproxyPidNsForChildren;

    // completion
    final long completionSize;
    final long completionDone;
    final long completionWaitHead;

    Fields(Offsets o) {
        Profile p = o.profile();
        listNext = o.required("list_head", "next");
        listPrev = o.required("list_head", "prev");
        hlistFirst = o.required("hlist_head", "first");
        hnodeNext = o.required("hlist_node", "next");
        hnodePprev = o.required("hlist_node", "pprev");

        taskPtrace = o.required("task_struct", "ptrace");
        taskSchedClass = o.required("task_struct", "sched_class");
        taskSeOnRq = o.required("task_struct", "se.on_rq");
        taskSeExecStart = o.required("task_struct", "se.exec_start");
        taskSeSumExec = o.required("task_struct", "se.sum_exec_runtime");
        taskSePrevSumExec = o.required("task_struct", "se.prev_sum_exec_runtime");
        taskSeNrMigrations = o.required("task_struct", "se.nr_migrations");
        taskSeVruntime = o.required("task_struct", "se.vruntime");
        taskSeLoadWeight = o.required("task_struct", "se.load.weight");
        taskSeLoadInvWeight = o.required("task_struct", "se.load.inv_weight");
        taskSeGroupNode = o.required("task_struct", "se.group_node");
        taskRtRunList = o.required("task_struct", "rt.run_list");
        taskRtTimeSlice = o.required("task_struct", "rt.time_slice");
        taskRtOnRq = o.required("task_struct", "rt.on_rq");
        taskRtOnList = o.required("task_struct", "rt.on_list");
        taskNrCpusAllowed = o.required("task_struct", "nr_cpus_allowed");
        taskCpusAllowed = o.required("task_struct", "cpus_allowed");
        taskCpusAllowedSize = p.field("task_struct", "cpus_allowed").size();
        var reset = p.field("task_struct", "sched_reset_on_fork");
        taskResetOnForkWord = reset.offset();
        taskResetOnForkBit = reset.bitOffset();
        taskPdeathSignal = o.required("task_struct", "pdeath_signal");
        taskPtraceEntry = o.required("task_struct", "ptrace_entry");
        taskPtraced = o.required("task_struct", "ptraced");
        taskThreadPid = o.required("task_struct", "thread_pid");
        taskPidLinks = o.required("task_struct", "pid_links");
        hnodeSize = p.sizeOf("hlist_node");
        taskThreadGroup = o.required("task_struct", "thread_group");
        taskThreadNode = o.required("task_struct", "thread_node");
        taskVforkDone = o.required("task_struct", "vfork_done");
        taskSetChildTid = o.required("task_struct", "set_child_tid");
        taskClearChildTid = o.required("task_struct", "clear_child_tid");
        taskNvcsw = o.required("task_struct", "nvcsw");
        taskNivcsw = o.required("task_struct", "nivcsw");
        taskStartTime = o.required("task_struct", "start_time");
        taskRealStartTime = o.required("task_struct", "real_start_time");
        taskMinFlt = o.required("task_struct", "min_flt");
        taskMajFlt = o.required("task_struct", "maj_flt");
        taskRealCred = o.required("task_struct", "real_cred");
        taskCred = o.required("task_struct", "cred");
        taskFs = o.required("task_struct", "fs");
        taskFiles = o.required("task_struct", "files");
        taskNsproxy = o.required("task_struct", "nsproxy");
        taskSignal = o.required("task_struct", "signal");
        taskSighand = o.required("task_struct", "sighand");
        taskSelfExecId = o.required("task_struct", "self_exec_id");
        taskParentExecId = o.required("task_struct", "parent_exec_id");
        taskStackRefcount = o.optional("task_struct", "stack_refcount");
        taskStackVmArea = o.optional("task_struct", "stack_vm_area");
        taskUtime = o.required("task_struct", "utime");
        taskStime = o.required("task_struct", "stime");
        taskGtime = o.required("task_struct", "gtime");
        taskRcuReadLockNesting = o.optional("task_struct", "rcu_read_lock_nesting");
        taskRcuReadUnlockSpecial = o.optional("task_struct", "rcu_read_unlock_special");
        taskRcuNodeEntry = o.optional("task_struct", "rcu_node_entry");
        taskRcuBlockedNode = o.optional("task_struct", "rcu_blocked_node");
        taskRcuTasksHoldout = o.optional("task_struct", "rcu_tasks_holdout");
        taskRcuTasksIdleCpu = o.optional("task_struct", "rcu_tasks_idle_cpu");
        taskRcuTasksHoldoutList = o.optional("task_struct", "rcu_tasks_holdout_list");
        taskCputimeExpires = o.optional("task_struct", "cputime_expires");
        taskCputimeExpiresSize = taskCputimeExpires < 0 ? 0 : p.field("task_struct", "cputime_expires").size();
        taskCpuTimers = o.optional("task_struct", "cpu_timers");
        taskCgList = o.optional("task_struct", "cg_list");
        taskPushablePrio = o.optional("task_struct", "pushable_tasks.prio");
        taskPushablePrioList = o.optional("task_struct", "pushable_tasks.prio_list");
        taskPushableNodeList = o.optional("task_struct", "pushable_tasks.node_list");
        taskPerfEventCtxp = o.optional("task_struct", "perf_event_ctxp");
        taskPerfEventCtxpSize = taskPerfEventCtxp < 0 ? 0 : p.field("task_struct", "perf_event_ctxp").size();
        taskPerfEventMutex = o.optional("task_struct", "perf_event_mutex");
        taskPerfEventMutexSize = taskPerfEventMutex < 0 ? 0 : p.field("task_struct", "perf_event_mutex").size();
        taskPerfEventMutexWaitList = o.optional("task_struct", "perf_event_mutex.wait_list");
        taskPerfEventList = o.optional("task_struct", "perf_event_list");
        taskShmClist = o.optional("task_struct", "sysvshm.shm_clist");
        taskRobustList = o.optional("task_struct", "robust_list");
        taskCompatRobustList = o.optional("task_struct", "compat_robust_list");
        taskPiStateList = o.optional("task_struct", "pi_state_list");
        taskPiStateCache = o.optional("task_struct", "pi_state_cache");

        filesSize = p.sizeOf("files_struct");
        filesCount = o.required("files_struct", "count");
        filesFdt = o.required("files_struct", "fdt");
        filesFdtab = o.required("files_struct", "fdtab");
        filesResizeWaitHead = o.required("files_struct", "resize_wait.head");
        filesNextFd = o.required("files_struct", "next_fd");
        filesCloseOnExecInit = o.required("files_struct", "close_on_exec_init");
        filesOpenFdsInit = o.required("files_struct", "open_fds_init");
        filesFullFdsBitsInit = o.required("files_struct", "full_fds_bits_init");
        filesFdArray = o.required("files_struct", "fd_array");
        filesFdArrayLength = p.struct("files_struct").member("fd_array").elementCount();
        fdtMaxFds = o.required("fdtable", "max_fds");
        fdtFd = o.required("fdtable", "fd");
        fdtCloseOnExec = o.required("fdtable", "close_on_exec");
        fdtOpenFds = o.required("fdtable", "open_fds");
        fdtFullFdsBits = o.required("fdtable", "full_fds_bits");

        fsSize = p.sizeOf("fs_struct");
        fsUsers = o.required("fs_struct", "users");
        fsInExec = o.required("fs_struct", "in_exec");
        fsSeq = o.required("fs_struct", "seq");

        sighandSize = p.sizeOf("sighand_struct");
        sighandCount = o.required("sighand_struct", "count");
        sighandAction = o.required("sighand_struct", "action");
        sigactionSize = p.sizeOf("k_sigaction");
        sigactionHandler = o.required("k_sigaction", "sa.sa_handler");
        sigactionFlags = o.required("k_sigaction", "sa.sa_flags");
        sighandSignalfdHead = o.required("sighand_struct", "signalfd_wqh.head");

        signalSize = p.sizeOf("signal_struct");
        signalSigcnt = o.required("signal_struct", "sigcnt");
        signalLive = o.required("signal_struct", "live");
        signalNrThreads = o.required("signal_struct", "nr_threads");
        signalThreadHead = o.required("signal_struct", "thread_head");
        signalWaitChldexitHead = o.required("signal_struct", "wait_chldexit.head");
        signalCurrTarget = o.required("signal_struct", "curr_target");
        signalSharedPendingList = o.required("signal_struct", "shared_pending.list");
        signalMultiprocess = o.required("signal_struct", "multiprocess");
        signalFlags = o.required("signal_struct", "flags");
        var isSubreaper = p.field("signal_struct", "is_child_subreaper");
        var hasSubreaper = p.field("signal_struct", "has_child_subreaper");
        if (isSubreaper.offset() != hasSubreaper.offset()) {
            throw new IllegalArgumentException("is_child_subreaper and has_child_subreaper are not in one word");
        }
        signalSubreaperWord = isSubreaper.offset();
        signalIsSubreaperBit = isSubreaper.bitOffset();
        signalHasSubreaperBit = hasSubreaper.bitOffset();
        signalRlimSize = p.field("signal_struct", "rlim").size();
        cpuTimersCount = (int) p.struct("signal_struct").member("cpu_timers").elementCount();
        sighandActionSize = p.field("sighand_struct", "action").size();
        signalPids = o.required("signal_struct", "pids");
        signalRlim = o.required("signal_struct", "rlim");
        signalPosixTimers = o.required("signal_struct", "posix_timers");
        signalCpuTimers = o.required("signal_struct", "cpu_timers");
        signalOomScoreAdj = o.required("signal_struct", "oom_score_adj");
        signalLeader = o.required("signal_struct", "leader");
        rlimitSize = p.sizeOf("rlimit");

        mmSize = p.sizeOf("mm_struct");
        mmUsers = o.required("mm_struct", "mm_users");
        mmCount = o.required("mm_struct", "mm_count");
        mmPgd = o.required("mm_struct", "pgd");
        mmMmap = o.required("mm_struct", "mmap");
        mmMapCount = o.required("mm_struct", "map_count");
        mmOwner = o.optional("mm_struct", "owner");
        mmMmlist = o.required("mm_struct", "mmlist");

        credSize = p.sizeOf("cred");
        credUsage = o.required("cred", "usage");
        credUid = o.required("cred", "uid");
        credEuid = o.required("cred", "euid");
        credUser = o.required("cred", "user");
        userSize = p.sizeOf("user_struct");
        userCount = o.required("user_struct", "__count");
        userProcesses = o.required("user_struct", "processes");
        userUid = o.required("user_struct", "uid");

        pidBaseSize = p.sizeOf("pid");
        pidCount = o.required("pid", "count");
        pidLevel = o.required("pid", "level");
        pidTasks = o.required("pid", "tasks");
        pidNumbers = o.required("pid", "numbers");
        upidSize = p.sizeOf("upid");
        upidNr = o.required("upid", "nr");
        upidNs = o.required("upid", "ns");
        pidNsSize = p.sizeOf("pid_namespace");
        pidNsKref = o.required("pid_namespace", "kref");
        pidNsIdr = o.required("pid_namespace", "idr");
        pidNsPidAllocated = o.required("pid_namespace", "pid_allocated");
        pidNsChildReaper = o.required("pid_namespace", "child_reaper");
        pidNsLevel = o.required("pid_namespace", "level");
        pidNsParent = o.required("pid_namespace", "parent");
        nsproxySize = p.sizeOf("nsproxy");
        nsproxyCount = o.required("nsproxy", "count");
        nsproxyPidNsForChildren = o.required("nsproxy", "pid_ns_for_children");

        completionSize = p.sizeOf("completion");
        completionDone = o.required("completion", "done");
        completionWaitHead = o.required("completion", "wait.head");
    }
}
