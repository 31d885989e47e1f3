package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.mem.MemoryUsage;
import io.github.kproc.testkit.Workload;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Namespaces as the build's {@code .config} has them (kernel/nsproxy.c {@code copy_namespaces} ->
 * {@code create_new_namespaces}, kernel/cred.c {@code copy_creds} -> {@code create_user_ns}): a
 * {@code CLONE_NEW*} flag whose namespace the build lacks meets the {@code !CONFIG_*} stub of its
 * {@code copy_*} function and the clone is -EINVAL, leaving the model as it was; a build that has it
 * accepts it. The answer depends on the profile, not on the architecture.
 */
public abstract class NamespacesContract extends KernelContract {
    /** A namespace flag, the Kconfig option that builds it, and the function whose stub refuses it. */
    enum Namespace {
        UTS(CloneFlag.NEWUTS, "CONFIG_UTS_NS", "copy_utsname"),
        IPC(CloneFlag.NEWIPC, "CONFIG_IPC_NS", "copy_ipcs"),
        PID(CloneFlag.NEWPID, "CONFIG_PID_NS", "copy_pid_ns"),
        NET(CloneFlag.NEWNET, "CONFIG_NET_NS", "copy_net_ns"),
        USER(CloneFlag.NEWUSER, "CONFIG_USER_NS", "create_user_ns"),
        /** fs/namespace.c is always built. */
        MNT(CloneFlag.NEWNS, null, "copy_mnt_ns"),
        /** {@code copy_cgroup_ns}'s stub without CONFIG_CGROUPS shares the old namespace: never -EINVAL. */
        CGROUP(CloneFlag.NEWCGROUP, null, "copy_cgroup_ns");

        final CloneFlag flag;
        final String option;
        final String function;

        Namespace(CloneFlag flag, String option, String function) {
            this.flag = flag;
            this.option = option;
            this.function = function;
        }
    }

    private boolean builds(Namespace ns) {
        return ns.option == null || built(ns.option);
    }

    private Kernel bootAsInit() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        return k;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Namespace.class)
    @DisplayName("copy_utsname / copy_ipcs / copy_pid_ns / copy_net_ns / create_user_ns: -EINVAL exactly when the build lacks the namespace")
    void newNamespaceFollowsTheConfig(Namespace ns) {
        Kernel k = bootAsInit();
        long init = k.cpu(0).current().address();
        KernelState before = KernelState.of(k, init);
        CloneArgs args = new CloneArgs(EnumSet.of(ns.flag), SIGCHLD, 0, 0, 0, 0, 0);
        if (builds(ns)) {
            int pid = k.cpu(0).clone(args).nr();
            assertTrue(address(k, pid) != 0, ns.function + " built: the child exists");
        } else {
            assertErrno(Errno.EINVAL, () -> k.cpu(0).clone(args));
            before.assertUnchanged(k, KernelState.of(k, init));
        }
    }

    @Test
    @DisplayName("create_new_namespaces: every combination of the CLONE_NEW* flags is -EINVAL iff one names a namespace the build lacks")
    void everyCombinationOfNamespaceFlags() {
        Kernel k = bootAsInit();
        List<Namespace> all = List.of(Namespace.values());
        int refused = 0;
        for (int bits = 1; bits < 1 << all.size(); bits++) {
            Set<CloneFlag> flags = EnumSet.noneOf(CloneFlag.class);
            boolean lacking = false;
            for (int i = 0; i < all.size(); i++) {
                if ((bits & (1 << i)) != 0) {
                    flags.add(all.get(i).flag);
                    lacking |= !builds(all.get(i));
                }
            }
            CloneArgs args = new CloneArgs(flags, SIGCHLD, 0, 0, 0, 0, 0);
            if (lacking) {
                long init = k.cpu(0).current().address();
                KernelState before = KernelState.of(k, init);
                assertErrno(Errno.EINVAL, () -> k.cpu(0).clone(args));
                before.assertUnchanged(k, KernelState.of(k, init));
                refused++;
            } else {
                int pid = k.cpu(0).clone(args).nr();
                assertTrue(address(k, pid) != 0, flags + ": the child exists");
            }
        }
        long builtCount = all.stream().filter(this::builds).count();
        assertEquals((1 << all.size()) - (1 << builtCount), refused, "combinations with a namespace the build lacks");
    }

    @Test
    @DisplayName("get_pid_ns / put_pid_ns: without CONFIG_PID_NS the empty inlines leave init_pid_ns's kref at its static 2")
    void pidNamespaceIsNotCountedWithoutPidNs() {
        Kernel k = bootAsInit();
        Structs s = structs(k);
        long kref = k.initPidNamespace();
        int atBoot = s.i32(kref, "pid_namespace", "kref");
        int pid = k.cpu(0).fork().nr();
        int afterFork = s.i32(kref, "pid_namespace", "kref");
        if (built("CONFIG_PID_NS")) {
            assertEquals(atBoot + 1, afterFork, "alloc_pid: get_pid_ns for the child's pid");
        } else {
            assertEquals(2, atBoot, "init_pid_ns.kref = KREF_INIT(2)");
            assertEquals(2, afterFork, "get_pid_ns does nothing");
        }
        assertTrue(address(k, pid) != 0);
    }

    @Test
    @DisplayName("sig_task_ignored: a namespace's init (SIGNAL_UNKILLABLE) drops default-action signals, but SIGKILL from the ancestor namespace is forced; a later fork by it sees no pending signal, and the forced SIGKILL kills it")
    void namespaceInitIsUnkillableFromInside() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = bootAsInit();
        int nsInit = k.cpu(0).clone(new CloneArgs(EnumSet.of(CloneFlag.NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        assertEquals(false, k.kill(Pid.of(nsInit), SIGUSR1), "SIGNAL_UNKILLABLE with SIG_DFL: dropped");
        assertEquals(false, k.kill(Pid.of(nsInit), 15), "SIGTERM: dropped");
        k.cpu(1).run(Pid.of(nsInit));
        assertTrue(k.cpu(1).fork().nr() > 0, "copy_process: no signal pending, no -ERESTARTNOINTR");
        assertTrue(k.kill(Pid.of(nsInit), SIGKILL), "from_ancestor_ns forces SIGKILL");
        k.cpu(1).step();
        assertTrue((k.task(Pid.of(nsInit)).orElseThrow().flags() & 0x4) != 0,
                "get_signal -> do_group_exit: PF_EXITING (KillContract follows the namespace to its end)");
    }

    // ---- the namespace objects (item 2 of issue 8) ----

    /** {@code PROC_DYNAMIC_FIRST}. */
    private static final long PROC_DYNAMIC_FIRST = 0xF0000000L;

    private int cloneAsInit(Kernel k, CloneFlag... flags) {
        int cpu = cpuRunning(k, 1, 0);
        return k.cpu(cpu).clone(new CloneArgs(EnumSet.of(flags[0], flags), SIGCHLD, 0, 0, 0, 0, 0)).nr();
    }

    /** Runs {@code pid} to its exit and has init reap it. */
    private void exitAndReap(Kernel k, int pid) {
        int cpu = cpuRunning(k, pid, 1);
        k.cpu(cpu).exit(0);
        int initCpu = cpuRunning(k, 1, 0);
        assertEquals(pid, reap(k, initCpu, pid), "wait4 reaps " + pid);
        // release_task's call_rcu: the task, its cred (and the cred's user_ns reference) go after a grace period
        Workload.passGracePeriods(k, 16);
    }

    private long nsproxy(Kernel k, int pid) {
        return structs(k).taskPtr(task(k, pid), "nsproxy");
    }

    private long credUserNs(Kernel k, int pid) {
        Structs s = structs(k);
        return s.ptr(s.taskPtr(task(k, pid), "cred"), "cred", "user_ns");
    }

    private long inum(Structs s, long ns, String type) {
        return Integer.toUnsignedLong(s.i32(ns + s.offset(type, "ns"), "ns_common", "inum"));
    }

    private long ops(Structs s, long ns, String type) {
        return s.ptr(ns + s.offset(type, "ns"), "ns_common", "ops");
    }

    /** The ucounts of (user namespace, uid) in ucounts_hashtable, found by walking every bucket; 0 if none. */
    private long ucounts(Kernel k, long userNs, int uid) {
        Structs s = structs(k);
        int ptr = s.memory().pointerSize();
        long table = k.symbol("ucounts_hashtable");
        for (int b = 0; b < 1024; b++) {
            for (long node = s.memory().readPointer(table + (long) b * ptr); node != 0; node = s.memory().readPointer(node)) {
                long uc = node - s.offset("ucounts", "node");
                if (s.ptr(uc, "ucounts", "ns") == userNs && s.i32(uc, "ucounts", "uid") == uid) {
                    return uc;
                }
            }
        }
        return 0;
    }

    private int ucount(Structs s, long ucounts, int type) {
        return s.memory().readInt(ucounts + s.offset("ucounts", "ucount") + 4L * type);
    }

    @Test
    @DisplayName("init_nsproxy, init_uts_ns, init_user_ns, init_ipc_ns, init_cgroup_ns, init_net, init_mount_tree: the static namespaces with their proc_ns.h inode numbers; the mount and net namespaces take the first two dynamic ones")
    void initialNamespaces() {
        Kernel k = bootAsInit();
        Structs s = structs(k);
        long nsp = k.symbol("init_nsproxy");
        assertEquals(nsp, nsproxy(k, 1), "init shares init_nsproxy");
        assertEquals(k.symbol("init_uts_ns"), s.ptr(nsp, "nsproxy", "uts_ns"));
        assertEquals(k.symbol("init_ipc_ns"), s.ptr(nsp, "nsproxy", "ipc_ns"));
        assertEquals(k.symbol("init_net"), s.ptr(nsp, "nsproxy", "net_ns"));
        assertEquals(k.symbol("init_cgroup_ns"), s.ptr(nsp, "nsproxy", "cgroup_ns"));
        assertEquals(0xEFFFFFFEL, inum(s, k.symbol("init_uts_ns"), "uts_namespace"), "PROC_UTS_INIT_INO");
        assertEquals(0xEFFFFFFFL, inum(s, k.symbol("init_ipc_ns"), "ipc_namespace"), "PROC_IPC_INIT_INO");
        assertEquals(0xEFFFFFFDL, inum(s, k.symbol("init_user_ns"), "user_namespace"), "PROC_USER_INIT_INO");
        assertEquals(0xEFFFFFFCL, inum(s, k.initPidNamespace(), "pid_namespace"), "PROC_PID_INIT_INO");
        assertEquals(0xEFFFFFFBL, inum(s, k.symbol("init_cgroup_ns"), "cgroup_namespace"), "PROC_CGROUP_INIT_INO");
        long mnt = s.ptr(nsp, "nsproxy", "mnt_ns");
        assertEquals(PROC_DYNAMIC_FIRST, inum(s, mnt, "mnt_namespace"), "init_mount_tree: the first proc_alloc_inum");
        assertEquals(PROC_DYNAMIC_FIRST + 1, inum(s, k.symbol("init_net"), "net"), "net_ns_init: the next one");
        assertEquals(2, s.get(mnt, "mnt_namespace", "seq"), "atomic64_add_return(1, &mnt_ns_seq) from 1");
        assertEquals(k.symbol("mntns_operations"), ops(s, mnt, "mnt_namespace"));
        assertEquals(built("CONFIG_UTS_NS") ? k.symbol("utsns_operations") : 0, ops(s, k.symbol("init_uts_ns"), "uts_namespace"),
                "init_uts_ns.ns.ops only with CONFIG_UTS_NS");
        assertEquals(built("CONFIG_USER_NS") ? k.symbol("userns_operations") : 0,
                ops(s, k.symbol("init_user_ns"), "user_namespace"));
        assertEquals(k.symbol("init_user_ns"), credUserNs(k, 1), "init_cred.user_ns");
        assertEquals("Linux", cString(s, k.symbol("init_uts_ns") + s.offset("uts_namespace", "name")), "utsname sysname");
        long maxThreads = k.maxThreads();
        long ucountMax = k.symbol("init_user_ns") + s.offset("user_namespace", "ucount_max");
        assertEquals(maxThreads / 2, s.memory().readInt(ucountMax), "fork_init: init_user_ns.ucount_max[i] = max_threads / 2");
        List<Long> nets = s.entries(k.symbol("net_namespace_list"));
        assertEquals(List.of(k.symbol("init_net") + s.offset("net", "list")), nets, "net_namespace_list holds init_net");
        assertEquals(1, ucount(s, ucounts(k, k.symbol("init_user_ns"), 0), 5), "UCOUNT_MNT_NAMESPACES of uid 0: init_mount_tree's");
    }

    private static String cString(Structs s, long at) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 65; i++) {
            byte c = s.memory().readByte(at + i);
            if (c == 0) {
                break;
            }
            b.append((char) c);
        }
        return b.toString();
    }

    @Test
    @DisplayName("clone_uts_ns: CLONE_NEWUTS gives the child a uts_namespace with kref 1, a copy of the utsname, the owner's reference, a dynamic inode number and utsns_operations; free_uts_ns at the last put gives all back")
    void cloneUtsNs() {
        requireBuilt("CONFIG_UTS_NS");
        Kernel k = bootAsInit();
        Structs s = structs(k);
        long initUts = k.symbol("init_uts_ns");
        long userNs = k.symbol("init_user_ns");
        int krefBefore = s.i32(initUts, "uts_namespace", "kref");
        int userBefore = s.i32(userNs, "user_namespace", "count");
        MemoryUsage before = usage(k);
        int child = cloneAsInit(k, CloneFlag.NEWUTS);
        long uts = s.ptr(nsproxy(k, child), "nsproxy", "uts_ns");
        assertTrue(uts != initUts, "a new uts_namespace");
        assertEquals(1, s.i32(uts, "uts_namespace", "kref"), "kref_init");
        assertEquals(krefBefore, s.i32(initUts, "uts_namespace", "kref"), "copy_utsname: get_uts_ns then put_uts_ns of the old");
        long nameSize = s.size("new_utsname");
        assertArrayEquals(bytes(s, initUts + s.offset("uts_namespace", "name"), nameSize),
                bytes(s, uts + s.offset("uts_namespace", "name"), nameSize), "memcpy of the utsname");
        assertEquals(userNs, s.ptr(uts, "uts_namespace", "user_ns"), "get_user_ns(user_ns)");
        assertEquals(userBefore + 2, s.i32(userNs, "user_namespace", "count"), "the namespace's and the child cred's references");
        assertEquals(k.symbol("utsns_operations"), ops(s, uts, "uts_namespace"));
        assertTrue(inum(s, uts, "uts_namespace") >= PROC_DYNAMIC_FIRST + 2, "ns_alloc_inum");
        long uc = s.ptr(uts, "uts_namespace", "ucounts");
        assertEquals(uc, ucounts(k, userNs, 0), "inc_uts_namespaces(user_ns) as current_euid()");
        assertEquals(1, ucount(s, uc, 2), "UCOUNT_UTS_NAMESPACES");
        exitAndReap(k, child);
        assertEquals(userBefore, s.i32(userNs, "user_namespace", "count"), "put_user_ns by free_uts_ns and put_cred");
        assertEquals(0, ucount(s, ucounts(k, userNs, 0), 2), "dec_uts_namespaces");
        assertNoNamespaceLeak(before, usage(k));
    }

    /**
     * The objects in use per cache agree, but for {@code mm_struct}: a CPU whose task exited keeps its
     * mm as the idle task's lazy {@code active_mm} until it next switches to a task with an mm.
     */
    private static void assertNoNamespaceLeak(MemoryUsage expected, MemoryUsage actual) {
        java.util.Map<String, Long> a = new java.util.HashMap<>(expected.objectsInUse());
        java.util.Map<String, Long> b = new java.util.HashMap<>(actual.objectsInUse());
        a.remove("mm_struct");
        b.remove("mm_struct");
        a.values().removeIf(v -> v == 0);
        b.values().removeIf(v -> v == 0);
        assertEquals(a, b, "objects in use per cache");
    }

    private static byte[] bytes(Structs s, long at, long n) {
        byte[] b = new byte[(int) n];
        for (int i = 0; i < n; i++) {
            b[i] = s.memory().readByte(at + i);
        }
        return b;
    }

    @Test
    @DisplayName("create_user_ns / set_cred_user_ns: CLONE_NEWUSER puts the child's cred in a user_namespace one level down, owned by its euid and egid, holding the parent reference prepare_creds took, empty maps, the parent's flags, every capability in it")
    void createUserNs() {
        requireBuilt("CONFIG_USER_NS");
        Kernel k = bootAsInit();
        Structs s = structs(k);
        long init = k.symbol("init_user_ns");
        int countBefore = s.i32(init, "user_namespace", "count");
        MemoryUsage before = usage(k);
        int child = cloneAsInit(k, CloneFlag.NEWUSER);
        long ns = credUserNs(k, child);
        assertTrue(ns != init);
        assertEquals(1, s.i32(ns, "user_namespace", "count"), "the child's cred");
        assertEquals(init, s.ptr(ns, "user_namespace", "parent"));
        assertEquals(1, s.i32(ns, "user_namespace", "level"));
        assertEquals(0, s.i32(ns, "user_namespace", "owner"));
        assertEquals(0, s.i32(ns, "user_namespace", "group"));
        assertEquals(1, s.get(ns, "user_namespace", "flags"), "USERNS_SETGROUPS_ALLOWED from the parent");
        assertEquals(0, s.i32(ns, "user_namespace", "uid_map.nr_extents"), "no uid_map written");
        assertEquals(Integer.MAX_VALUE, s.memory().readInt(ns + s.offset("user_namespace", "ucount_max")));
        assertEquals(k.symbol("userns_operations"), ops(s, ns, "user_namespace"));
        assertEquals(countBefore + 1, s.i32(init, "user_namespace", "count"), "prepare_creds' reference, left with the new namespace as its parent's");
        long cred = s.taskPtr(task(k, child), "cred");
        assertEquals(-1, s.i32(cred, "cred", "cap_effective"), "CAP_FULL_SET");
        assertEquals(0, s.i32(cred, "cred", "cap_inheritable"), "CAP_EMPTY_SET");
        long uc = s.ptr(ns, "user_namespace", "ucounts");
        assertEquals(1, ucount(s, uc, 0), "inc_user_namespaces(parent, owner)");
        exitAndReap(k, child);
        assertEquals(countBefore, s.i32(init, "user_namespace", "count"), "free_user_ns drops the parent");
        assertEquals(0, ucount(s, ucounts(k, init, 0), 0), "dec_user_namespaces");
        assertNoNamespaceLeak(before, usage(k));
    }

    @Test
    @DisplayName("create_user_ns: a creator whose euid has no mapping in its user namespace (no uid_map written) is -EPERM (kuid_has_mapping), the model as before")
    void nestedUserNamespaceNeedsAMapping() {
        requireBuilt("CONFIG_USER_NS");
        Kernel k = bootAsInit();
        int child = cloneAsInit(k, CloneFlag.NEWUSER);
        int cpu = cpuRunning(k, child, 1);
        long t = task(k, child);
        KernelState before = KernelState.of(k, t);
        assertErrno(Errno.EPERM, () -> k.cpu(cpu).clone(new CloneArgs(EnumSet.of(CloneFlag.NEWUSER), SIGCHLD, 0, 0, 0, 0, 0)));
        before.assertUnchanged(k, KernelState.of(k, t));
    }

    @Test
    @DisplayName("copy_namespaces / cap_capable: CLONE_NEWUSER | CLONE_NEWUTS | CLONE_NEWNS makes the new namespaces owned by the new user namespace, whose creator is capable in it; the child's children may make namespaces it owns, but not below init_user_ns's")
    void namespacesOwnedByTheNewUserNamespace() {
        requireBuilt("CONFIG_USER_NS");
        requireBuilt("CONFIG_UTS_NS");
        Kernel k = bootAsInit();
        Structs s = structs(k);
        MemoryUsage before = usage(k);
        int child = cloneAsInit(k, CloneFlag.NEWUSER, CloneFlag.NEWUTS, CloneFlag.NEWNS);
        long ns = credUserNs(k, child);
        long nsp = nsproxy(k, child);
        assertEquals(ns, s.ptr(s.ptr(nsp, "nsproxy", "uts_ns"), "uts_namespace", "user_ns"));
        assertEquals(ns, s.ptr(s.ptr(nsp, "nsproxy", "mnt_ns"), "mnt_namespace", "user_ns"));
        assertEquals(3, s.i32(ns, "user_namespace", "count"), "the cred, the uts and the mount namespace");
        // ucounts of the new namespace for uid 0, and its parent's through ns->ucounts
        long uc = ucounts(k, ns, 0);
        assertEquals(1, ucount(s, uc, 2), "UCOUNT_UTS_NAMESPACES in the new namespace");
        assertEquals(1, ucount(s, ucounts(k, k.symbol("init_user_ns"), 0), 2), "and in its parent, up the chain");
        // the child, root with every capability in its own namespace, makes another UTS namespace
        int cpu = cpuRunning(k, child, 1);
        int grandchild = k.cpu(cpu).clone(new CloneArgs(EnumSet.of(CloneFlag.NEWUTS), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        assertEquals(ns, s.ptr(s.ptr(nsproxy(k, grandchild), "nsproxy", "uts_ns"), "uts_namespace", "user_ns"));
        exitAndReapBy(k, grandchild, child);
        exitAndReap(k, child);
        assertNoNamespaceLeak(before, usage(k));
    }

    private void exitAndReapBy(Kernel k, int pid, int parent) {
        int cpu = cpuRunning(k, pid, 1);
        k.cpu(cpu).exit(0);
        int parentCpu = cpuRunning(k, parent, 0);
        assertEquals(pid, reap(k, parentCpu, pid));
    }

    @Test
    @DisplayName("create_ipc_ns: CLONE_NEWIPC gives count 1, the owner's reference and the sysctl defaults sem_init_ns, msg_init_ns, shm_init_ns and mq_init_ns set in the struct; free_ipc_ns gives all back")
    void createIpcNs() {
        requireBuilt("CONFIG_IPC_NS");
        Kernel k = bootAsInit();
        Structs s = structs(k);
        MemoryUsage before = usage(k);
        int child = cloneAsInit(k, CloneFlag.NEWIPC);
        long ipc = s.ptr(nsproxy(k, child), "nsproxy", "ipc_ns");
        assertTrue(ipc != k.symbol("init_ipc_ns"));
        assertEquals(1, s.i32(ipc, "ipc_namespace", "count"));
        long semCtls = ipc + s.offset("ipc_namespace", "sem_ctls");
        int[] sem = {32000, 1024000000, 500, 32000};
        for (int i = 0; i < 4; i++) {
            assertEquals(sem[i], s.memory().readInt(semCtls + 4L * i), "SEMMSL, SEMMNS, SEMOPM, SEMMNI");
        }
        assertEquals(8192, s.i32(ipc, "ipc_namespace", "msg_ctlmax"), "MSGMAX");
        assertEquals(16384, s.i32(ipc, "ipc_namespace", "msg_ctlmnb"), "MSGMNB");
        assertEquals(32000, s.i32(ipc, "ipc_namespace", "msg_ctlmni"), "MSGMNI");
        assertEquals(4096, s.i32(ipc, "ipc_namespace", "shm_ctlmni"), "SHMMNI");
        long ulong = s.memory().pointerSize() == 8 ? -1L : 0xffff_ffffL;
        assertEquals(ulong - (1L << 24), s.get(ipc, "ipc_namespace", "shm_ctlmax") & ulong, "SHMMAX");
        assertEquals(-1, s.i32(ipc + s.offset("ipc_namespace", "ids"), "ipc_ids", "max_idx"), "ipc_init_ids");
        if (built("CONFIG_POSIX_MQUEUE")) {
            assertEquals(256, s.i32(ipc, "ipc_namespace", "mq_queues_max"), "DFLT_QUEUESMAX");
            assertEquals(8192, s.i32(ipc, "ipc_namespace", "mq_msgsize_max"), "DFLT_MSGSIZEMAX");
        }
        assertEquals(k.symbol("ipcns_operations"), ops(s, ipc, "ipc_namespace"));
        assertEquals(k.symbol("init_user_ns"), s.ptr(ipc, "ipc_namespace", "user_ns"));
        exitAndReap(k, child);
        assertNoNamespaceLeak(before, usage(k));
    }

    @Test
    @DisplayName("alloc_mnt_ns: CLONE_NEWNS gives count 1, the next mnt_ns_seq, an empty list and poll queue, no root (copy_tree is not modelled); put_mnt_ns frees it")
    void allocMntNs() {
        Kernel k = bootAsInit();
        Structs s = structs(k);
        MemoryUsage before = usage(k);
        long seq = s.memory().readLong(k.symbol("mnt_ns_seq"));
        int child = cloneAsInit(k, CloneFlag.NEWNS);
        long mnt = s.ptr(nsproxy(k, child), "nsproxy", "mnt_ns");
        assertTrue(mnt != s.ptr(k.symbol("init_nsproxy"), "nsproxy", "mnt_ns"));
        assertEquals(1, s.i32(mnt, "mnt_namespace", "count"));
        assertEquals(seq + 1, s.get(mnt, "mnt_namespace", "seq"), "atomic64_add_return(1, &mnt_ns_seq)");
        assertEquals(seq + 1, s.memory().readLong(k.symbol("mnt_ns_seq")));
        assertEquals(List.of(), s.entries(mnt + s.offset("mnt_namespace", "list")), "INIT_LIST_HEAD(&new_ns->list)");
        assertEquals(List.of(), s.entries(mnt + s.offset("mnt_namespace", "poll.head")), "init_waitqueue_head");
        assertEquals(k.symbol("mntns_operations"), ops(s, mnt, "mnt_namespace"));
        assertEquals(2, ucount(s, s.ptr(mnt, "mnt_namespace", "ucounts"), 5), "UCOUNT_MNT_NAMESPACES of uid 0: init_mount_tree's and this one");
        exitAndReap(k, child);
        assertNoNamespaceLeak(before, usage(k));
    }

    @Test
    @DisplayName("copy_cgroup_ns / alloc_cgroup_ns: CLONE_NEWCGROUP gives count 1, a dynamic inode number and cgroupns_operations; free_cgroup_ns frees it")
    void copyCgroupNs() {
        requireBuilt("CONFIG_CGROUPS");
        Kernel k = bootAsInit();
        Structs s = structs(k);
        MemoryUsage before = usage(k);
        int initCount = s.i32(k.symbol("init_cgroup_ns"), "cgroup_namespace", "count");
        int child = cloneAsInit(k, CloneFlag.NEWCGROUP);
        long cg = s.ptr(nsproxy(k, child), "nsproxy", "cgroup_ns");
        assertTrue(cg != k.symbol("init_cgroup_ns"));
        assertEquals(1, s.i32(cg, "cgroup_namespace", "count"));
        assertEquals(initCount, s.i32(k.symbol("init_cgroup_ns"), "cgroup_namespace", "count"), "the old one not taken");
        assertEquals(k.symbol("cgroupns_operations"), ops(s, cg, "cgroup_namespace"));
        assertTrue(inum(s, cg, "cgroup_namespace") >= PROC_DYNAMIC_FIRST);
        exitAndReap(k, child);
        assertNoNamespaceLeak(before, usage(k));
    }

    @Test
    @DisplayName("copy_net_ns / setup_net: CLONE_NEWNET gives a struct net with count and passive 1, dev_base_seq 1, on net_namespace_list; cleanup_net takes it off and frees it")
    void copyNetNs() {
        requireBuilt("CONFIG_NET_NS");
        Kernel k = bootAsInit();
        Structs s = structs(k);
        MemoryUsage before = usage(k);
        int child = cloneAsInit(k, CloneFlag.NEWNET);
        long net = s.ptr(nsproxy(k, child), "nsproxy", "net_ns");
        assertTrue(net != k.symbol("init_net"));
        assertEquals(1, s.i32(net, "net", "count"));
        assertEquals(1, s.i32(net, "net", "passive"));
        assertEquals(1, s.i32(net, "net", "dev_base_seq"));
        assertEquals(k.symbol("netns_operations"), ops(s, net, "net"));
        long list = k.symbol("net_namespace_list");
        assertEquals(List.of(k.symbol("init_net") + s.offset("net", "list"), net + s.offset("net", "list")), s.entries(list),
                "list_add_tail_rcu(&net->list, &net_namespace_list)");
        exitAndReap(k, child);
        assertEquals(List.of(k.symbol("init_net") + s.offset("net", "list")), s.entries(list));
        assertNoNamespaceLeak(before, usage(k));
    }

    @Test
    @DisplayName("proc_alloc_inum / proc_free_inum (ida_get_new_above, ida_remove): inode numbers are PROC_DYNAMIC_FIRST + the lowest free id of proc_inum_ida, past the ids an exceptional entry holds (into an ida_bitmap), reused once freed")
    void procAllocInum() {
        Kernel k = bootAsInit();
        Structs s = structs(k);
        long ida = k.symbol("proc_inum_ida");
        long idaSize = s.size("ida");
        byte[] idaAtBoot = bytes(s, ida, idaSize);
        int n = 8 * s.memory().pointerSize() + 10;
        int[] children = new int[n];
        for (int i = 0; i < n; i++) {
            children[i] = cloneAsInit(k, CloneFlag.NEWNS);
            long mnt = s.ptr(nsproxy(k, children[i]), "nsproxy", "mnt_ns");
            assertEquals(PROC_DYNAMIC_FIRST + 2 + i, inum(s, mnt, "mnt_namespace"), "the lowest free id, child " + i);
        }
        exitAndReap(k, children[3]);
        int again = cloneAsInit(k, CloneFlag.NEWNS);
        assertEquals(PROC_DYNAMIC_FIRST + 2 + 3, inum(s, s.ptr(nsproxy(k, again), "nsproxy", "mnt_ns"), "mnt_namespace"),
                "a freed id is found again");
        exitAndReap(k, again);
        for (int i = 0; i < n; i++) {
            if (i != 3) {
                exitAndReap(k, children[i]);
            }
        }
        // ida_remove never turns a bitmap back into an exceptional entry: the root holds the ida_bitmap
        // with the boot ids 0 and 1 (the init mount and net namespaces) set
        long root = s.ptr(ida, "ida", "ida_rt.rnode");
        assertTrue((root & 3) == 0 && root != 0, "an ida_bitmap, not an exceptional entry");
        assertEquals(3, s.memory().readPointer(root), "ids 0 and 1 left");
        assertTrue(idaAtBoot.length > 0);
        int last = cloneAsInit(k, CloneFlag.NEWNS);
        assertEquals(PROC_DYNAMIC_FIRST + 2, inum(s, s.ptr(nsproxy(k, last), "nsproxy", "mnt_ns"), "mnt_namespace"));
    }

    @Test
    @DisplayName("inc_ucount: a namespace past ucount_max (user.max_uts_namespaces) is -ENOSPC, and the model is as before")
    void incUcountEnforcesTheMaximum() {
        Kernel k = bootAsInit();
        Structs s = structs(k);
        Namespace target = built("CONFIG_UTS_NS") ? Namespace.UTS : Namespace.MNT;
        int type = target == Namespace.UTS ? 2 : 5;
        long max = k.symbol("init_user_ns") + s.offset("user_namespace", "ucount_max") + 4L * type;
        int used = target == Namespace.MNT ? 1 : 0;
        s.memory().writeInt(max, used + 1);
        int child = cloneAsInit(k, target.flag);
        assertTrue(child > 0, "one below the maximum");
        long init = task(k, 1);
        KernelState before = KernelState.of(k, init);
        byte[] table = bytes(s, k.symbol("ucounts_hashtable"), 1024L * s.memory().pointerSize());
        int initCpu = cpuRunning(k, 1, 0);
        assertErrno(Errno.ENOSPC, () -> k.cpu(initCpu).clone(new CloneArgs(EnumSet.of(target.flag), SIGCHLD, 0, 0, 0, 0, 0)));
        before.assertUnchanged(k, KernelState.of(k, init));
        assertArrayEquals(table, bytes(s, k.symbol("ucounts_hashtable"), 1024L * s.memory().pointerSize()));
    }

    @Test
    @DisplayName("create_new_namespaces: whichever allocation of a clone with every CLONE_NEW* the build has fails, the clone is -ENOMEM (-ENOSPC for a ucounts) and every namespace taken is put back (out_net .. out_ns), no leak")
    void createNewNamespacesUnwinds() {
        Kernel k = bootAsInit();
        Structs s = structs(k);
        EnumSet<CloneFlag> flags = EnumSet.noneOf(CloneFlag.class);
        for (Namespace ns : Namespace.values()) {
            if (builds(ns)) {
                flags.add(ns.flag);
            }
        }
        CloneArgs args = new CloneArgs(flags, SIGCHLD, 0, 0, 0, 0, 0);
        int initCpu = cpuRunning(k, 1, 0);
        long init = task(k, 1);
        for (int n = 1; ; n++) {
            KernelState before = KernelState.of(k, init);
            byte[] ida = bytes(s, k.symbol("proc_inum_ida"), s.size("ida"));
            byte[] userNs = bytes(s, k.symbol("init_user_ns"), s.size("user_namespace"));
            k.faults().failNthAllocation(n);
            try {
                int pid = k.cpu(initCpu).clone(args).nr();
                k.faults().clear();
                assertTrue(n > 5, "a clone with namespaces makes more than 5 allocations");
                assertTrue(pid > 0);
                return;
            } catch (io.github.kproc.KernelException e) {
                k.faults().clear();
                // get_ucounts' kzalloc failing makes inc_ucount return NULL, which its callers report as -ENOSPC
                assertTrue(e.errno() == Errno.ENOMEM || e.errno() == Errno.ENOSPC, "allocation " + n + ": " + e.errno());
            }
            before.assertUnchanged(k, KernelState.of(k, init));
            assertArrayEquals(ida, bytes(s, k.symbol("proc_inum_ida"), s.size("ida")), "proc_inum_ida after allocation " + n);
            assertArrayEquals(userNs, bytes(s, k.symbol("init_user_ns"), s.size("user_namespace")), "init_user_ns after allocation " + n);
        }
    }

    @Test
    @DisplayName("KernelInvariants: a namespace's refcount or a ucounts count that disagrees with its users, read from memory, is a REFCOUNT or NAMESPACES violation; the kernel as left by namespaced clones holds")
    void invariantsReadTheNamespaces() {
        Kernel k = bootAsInit();
        Structs s = structs(k);
        EnumSet<CloneFlag> flags = EnumSet.noneOf(CloneFlag.class);
        for (Namespace ns : Namespace.values()) {
            if (builds(ns) && ns != Namespace.PID) {
                flags.add(ns.flag);
            }
        }
        int child = k.cpu(cpuRunning(k, 1, 0)).clone(new CloneArgs(flags, SIGCHLD, 0, 0, 0, 0, 0)).nr();
        assertEquals(List.of(), io.github.kproc.testkit.KernelInvariants.of(k).check());
        long mnt = s.ptr(nsproxy(k, child), "nsproxy", "mnt_ns");
        s.set(mnt, "mnt_namespace", "count", 2);
        assertTrue(io.github.kproc.testkit.KernelInvariants.of(k).check().stream()
                .anyMatch(v -> v.rule() == io.github.kproc.testkit.Violation.Rule.REFCOUNT && v.detail().startsWith("mnt_namespace.count")));
        s.set(mnt, "mnt_namespace", "count", 1);
        long uc = s.ptr(mnt, "mnt_namespace", "ucounts");
        s.memory().writeInt(uc + s.offset("ucounts", "ucount") + 4L * 5, 7);
        assertTrue(io.github.kproc.testkit.KernelInvariants.of(k).check().stream()
                .anyMatch(v -> v.rule() == io.github.kproc.testkit.Violation.Rule.NAMESPACES));
    }

    @Test
    @DisplayName("create_pid_namespace / delayed_free_pidns / put_user_ns: CLONE_NEWUSER | CLONE_NEWPID makes a pid namespace owned by (and charged to) the new user namespace, which outlives the cred that made it until the pid namespace goes")
    void pidNamespaceHoldsItsUserNamespace() {
        requireBuilt("CONFIG_USER_NS");
        requireBuilt("CONFIG_PID_NS");
        Kernel k = bootAsInit();
        Structs s = structs(k);
        MemoryUsage before = usage(k);
        int child = cloneAsInit(k, CloneFlag.NEWUSER, CloneFlag.NEWPID);
        long userNs = credUserNs(k, child);
        long pidNs = s.ptr(nsproxy(k, child), "nsproxy", "pid_ns_for_children");
        assertEquals(userNs, s.ptr(pidNs, "pid_namespace", "user_ns"), "ns->user_ns = get_user_ns(user_ns)");
        assertEquals(2, s.i32(userNs, "user_namespace", "count"), "the cred and the pid namespace");
        assertEquals(k.symbol("pidns_operations"), ops(s, pidNs, "pid_namespace"));
        assertTrue(inum(s, pidNs, "pid_namespace") >= PROC_DYNAMIC_FIRST, "ns_alloc_inum");
        long uc = s.ptr(pidNs, "pid_namespace", "ucounts");
        assertEquals(userNs, s.ptr(uc, "ucounts", "ns"), "inc_pid_namespaces(user_ns)");
        assertEquals(1, ucount(s, uc, 1), "UCOUNT_PID_NAMESPACES");
        assertEquals(1, ucount(s, ucounts(k, k.symbol("init_user_ns"), 0), 1), "charged up the chain too");
        assertEquals(List.of(), io.github.kproc.testkit.KernelInvariants.of(k).check());
        exitAndReap(k, child);
        assertEquals(0, ucount(s, ucounts(k, k.symbol("init_user_ns"), 0), 1), "dec_pid_namespaces");
        assertNoNamespaceLeak(before, usage(k));
    }

    @Test
    @DisplayName("create_user_ns: at the user-namespace ucount maximum (user.max_user_namespaces) CLONE_NEWUSER is -ENOSPC, the model as before")
    void createUserNsAtTheMaximum() {
        requireBuilt("CONFIG_USER_NS");
        Kernel k = bootAsInit();
        Structs s = structs(k);
        s.memory().writeInt(k.symbol("init_user_ns") + s.offset("user_namespace", "ucount_max"), 0);
        long init = task(k, 1);
        KernelState before = KernelState.of(k, init);
        byte[] initUserNs = bytes(s, k.symbol("init_user_ns"), s.size("user_namespace"));
        assertErrno(Errno.ENOSPC, () -> cloneAsInit(k, CloneFlag.NEWUSER));
        before.assertUnchanged(k, KernelState.of(k, init));
        assertArrayEquals(initUserNs, bytes(s, k.symbol("init_user_ns"), s.size("user_namespace")));
    }
}
