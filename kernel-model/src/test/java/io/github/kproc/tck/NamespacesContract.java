package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
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
}
