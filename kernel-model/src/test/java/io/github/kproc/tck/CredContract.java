package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.Errno;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.mem.MemoryUsage;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.Workload;
import io.github.kproc.view.TaskFlags;
import java.util.EnumSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Credentials other than root's (kernel/sys.c {@code __sys_setresuid}, {@code __sys_setuid},
 * {@code set_user}; kernel/user.c {@code alloc_uid}, {@code find_user}, {@code free_uid};
 * kernel/cred.c {@code prepare_creds}, {@code commit_creds}; security/commoncap.c
 * {@code cap_emulate_setxuid}, {@code cap_capset}) and what fork makes of them: RLIMIT_NPROC binding
 * users, CLONE_NEW* needing CAP_SYS_ADMIN, the user's process count moving on fork and exit. Read
 * back from memory: the cred, its {@code user_struct}, and {@code uidhash_table}.
 */
public abstract class CredContract extends KernelContract {
    private static final long CAP_SETUID = 1L << 7;
    private static final long CAP_SYS_ADMIN = 1L << 21;
    /** {@code CAP_FULL_SET}: CAP_LAST_CAP is 37 in v4.19. */
    private static final long CAP_FULL_SET = (1L << 38) - 1;

    /** Boots 2 CPUs, forks a root process from init and runs it on CPU 1; returns its pid. */
    private int rootChild(Kernel k) {
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        k.cpu(1).run(Pid.of(pid));
        return pid;
    }

    private long cred(Kernel k, long task) {
        return structs(k).taskPtr(task, "cred");
    }

    private long user(Kernel k, long task) {
        return structs(k).ptr(structs(k).taskPtr(task, "real_cred"), "cred", "user");
    }

    private long caps(Kernel k, long task, String set) {
        Structs s = structs(k);
        long at = cred(k, task) + s.offset("cred", set);
        return Integer.toUnsignedLong(s.memory().readInt(at)) | ((long) s.memory().readInt(at + 4) << 32);
    }

    private int processes(Kernel k, long user) {
        return structs(k).i32(user, "user_struct", "processes");
    }

    @Test
    @DisplayName("__sys_setresuid + set_user + alloc_uid: a new real uid moves the task to a new hashed user_struct, and cap_emulate_setxuid drops its capabilities")
    void setresuidMovesTheTaskToTheUidsUser() {
        Kernel k = boot(2);
        long task = address(k, rootChild(k));
        long root = k.symbol("root_user");
        int rootProcesses = processes(k, root);
        k.cpu(1).setresuid(1000, 1000, 1000);
        Structs s = structs(k);
        long cred = cred(k, task);
        assertEquals(cred, s.taskPtr(task, "real_cred"), "commit_creds: cred and real_cred are the new cred");
        for (String id : new String[] {"uid", "euid", "suid", "fsuid"}) {
            assertEquals(1000, s.i32(cred, "cred", id), id);
        }
        long user = user(k, task);
        assertNotEquals(root, user);
        assertEquals(1000, s.i32(user, "user_struct", "uid"));
        assertEquals(1, s.i32(user, "user_struct", "__count"), "the cred's reference");
        assertEquals(1, processes(k, user));
        assertEquals(rootProcesses - 1, processes(k, root), "commit_creds: atomic_dec(&old->user->processes)");
        assertEquals(0, caps(k, task, "cap_effective"), "cap_emulate_setxuid: no uid 0 left");
        assertEquals(0, caps(k, task, "cap_permitted"));
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("find_user / free_uid: tasks of one uid share its user_struct, which is freed with the last cred")
    void oneUserStructPerUidFreedWithItsLastCred() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        MemoryUsage before = usage(k);
        int a = k.cpu(0).fork().nr();
        k.cpu(1).run(Pid.of(a));
        k.cpu(1).setuid(1000);
        int b = k.cpu(1).fork().nr();
        long user = user(k, address(k, a));
        assertEquals(user, user(k, address(k, b)), "copy_creds: the child's cred names the same user");
        assertEquals(2, processes(k, user));
        assertEquals(2, structs(k).i32(user, "user_struct", "__count"), "one reference per cred");
        k.cpu(1).run(Pid.of(b));
        k.cpu(1).setresuid(-1, -1, -1);
        assertEquals(2, structs(k).i32(user, "user_struct", "__count"), "an unchanged set keeps one cred per task");
        KernelInvariants.of(k).assertHolds();
        k.cpu(1).exit(0);
        assertEquals(2, processes(k, user), "a zombie counts until release_task");
        k.cpu(1).run(Pid.of(a));
        assertTrue(k.cpu(1).wait4(Pid.of(b)));
        assertEquals(1, processes(k, user), "release_task: atomic_dec(&p->real_cred->user->processes)");
        k.cpu(1).exit(0);
        assertTrue(k.cpu(0).wait4(Pid.of(a)));
        KernelInvariants.of(k).assertHolds();
        Workload.passGracePeriods(k, 16);
        // CPU 1's idle task borrowed a's mm (lazy TLB) until a task with an mm of its own runs there
        k.cpu(0).runIdle();
        k.cpu(1).run(Pid.INIT);
        assertSameUsage(before, usage(k));
    }

    @Test
    @DisplayName("__sys_setresuid / __sys_setuid: without CAP_SETUID an id outside the current three is -EPERM and changes nothing")
    void setuidWithoutCapSetuidIsEperm() {
        Kernel k = boot(2);
        long task = address(k, rootChild(k));
        k.cpu(1).setresuid(1000, 1001, 1002);
        KernelState before = KernelState.of(k, task);
        assertErrno(Errno.EPERM, () -> k.cpu(1).setresuid(0, -1, -1));
        assertErrno(Errno.EPERM, () -> k.cpu(1).setresuid(-1, 7, -1));
        assertErrno(Errno.EPERM, () -> k.cpu(1).setuid(0));
        before.assertUnchanged(k, KernelState.of(k, task));
        k.cpu(1).setresuid(1002, 1000, 1001);
        assertEquals(1002, structs(k).i32(structs(k).ptr(cred(k, task), "cred", "user"), "user_struct", "uid"));
        k.cpu(1).setuid(1001);
        assertEquals(1001, structs(k).i32(cred(k, task), "cred", "euid"), "setuid without CAP_SETUID: euid only");
        assertEquals(1002, structs(k).i32(cred(k, task), "cred", "uid"));
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("cap_emulate_setxuid: an euid leaving 0 clears effective, one returning to 0 restores it from permitted")
    void effectiveCapabilitiesFollowTheEuid() {
        Kernel k = boot(2);
        long task = address(k, rootChild(k));
        k.cpu(1).setresuid(-1, 1000, -1);
        assertEquals(0, caps(k, task, "cap_effective"));
        assertEquals(CAP_FULL_SET, caps(k, task, "cap_permitted"), "the real uid is still 0");
        k.cpu(1).setresuid(-1, 0, -1);
        assertEquals(CAP_FULL_SET, caps(k, task, "cap_effective"));
    }

    @Test
    @DisplayName("cap_capset: capabilities may be dropped, never regained (-EPERM)")
    void capsetDropsButNeverRaises() {
        Kernel k = boot(2);
        long task = address(k, rootChild(k));
        long without = CAP_FULL_SET & ~CAP_SYS_ADMIN;
        k.cpu(1).capset(without, without, 0);
        assertEquals(without, caps(k, task, "cap_effective"));
        KernelState before = KernelState.of(k, task);
        assertErrno(Errno.EPERM, () -> k.cpu(1).capset(CAP_FULL_SET, CAP_FULL_SET, 0));
        assertErrno(Errno.EPERM, () -> k.cpu(1).capset(CAP_SYS_ADMIN, without, 0));
        before.assertUnchanged(k, KernelState.of(k, task));
        k.cpu(1).capset(without & ~CAP_SETUID, without, 0);
        assertErrno(Errno.EPERM, () -> k.cpu(1).setresuid(1000, 1000, 1000));
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("copy_namespaces: CLONE_NEW* without CAP_SYS_ADMIN is -EPERM and changes nothing; with CLONE_NEWUSER the caller owns the new user namespace")
    void newNamespaceWithoutCapSysAdminIsEperm() {
        Kernel k = boot(2);
        long task = address(k, rootChild(k));
        long without = CAP_FULL_SET & ~CAP_SYS_ADMIN;
        k.cpu(1).capset(without, without, 0);
        KernelState before = KernelState.of(k, task);
        assertErrno(Errno.EPERM, () -> k.cpu(1).clone(new CloneArgs(EnumSet.of(CloneFlag.NEWNS), SIGCHLD, 0, 0, 0, 0, 0)));
        before.assertUnchanged(k, KernelState.of(k, task));
        CloneArgs owned = new CloneArgs(EnumSet.of(CloneFlag.NEWUSER, CloneFlag.NEWNS), SIGCHLD, 0, 0, 0, 0, 0);
        if (built("CONFIG_USER_NS")) {
            assertTrue(k.cpu(1).clone(owned).nr() > 0);
        } else {
            assertErrno(Errno.EINVAL, () -> k.cpu(1).clone(owned));
            before.assertUnchanged(k, KernelState.of(k, task));
        }
        k.cpu(1).setresuid(1000, 1000, 1000);
        assertErrno(Errno.EPERM, () -> k.cpu(1).clone(new CloneArgs(EnumSet.of(CloneFlag.NEWNS), SIGCHLD, 0, 0, 0, 0, 0)));
    }

    @Test
    @DisplayName("copy_creds / release_task: the user's processes count moves on fork and exit")
    void processesCountMovesOnForkAndExit() {
        Kernel k = boot(2);
        int parent = rootChild(k);
        k.cpu(1).setresuid(1000, 1000, 1000);
        long user = user(k, address(k, parent));
        int child = k.cpu(1).fork().nr();
        int thread = k.cpu(1).clone(CloneArgs.thread()).nr();
        assertEquals(3, processes(k, user), "copy_creds: atomic_inc(&user->processes), threads too");
        KernelInvariants.of(k).assertHolds();
        k.cpu(0).run(Pid.of(thread));
        k.cpu(0).exit(0);
        assertEquals(2, processes(k, user), "a thread releases itself at exit");
        k.cpu(0).run(Pid.of(child));
        k.cpu(0).exit(0);
        assertEquals(2, processes(k, user));
        assertTrue(k.cpu(1).wait4(Pid.of(child)));
        assertEquals(1, processes(k, user));
        KernelInvariants.of(k).assertHolds();
    }

    @Test
    @DisplayName("set_user + do_execveat_common: a uid taken at its RLIMIT_NPROC sets PF_NPROC_EXCEEDED and the next exec is -EAGAIN")
    void execOverRlimitNprocIsEagain() {
        Kernel k = boot(2);
        int holder = rootChild(k);
        k.cpu(1).setresuid(1000, 1000, 1000);
        k.cpu(0).run(Pid.INIT);
        int other = k.cpu(0).fork().nr();
        k.cpu(1).run(Pid.of(other));
        k.setrlimit(Pid.of(other), RLIMIT_NPROC, 1, -1);
        k.cpu(1).setresuid(1000, 1000, 1000);
        long task = address(k, other);
        assertTrue((k.task(task).flags() & TaskFlags.PF_NPROC_EXCEEDED) != 0, "set_user: the user had 1 process already");
        assertErrno(Errno.EAGAIN, () -> k.cpu(1).exec("sh"));
        assertErrno(Errno.EAGAIN, () -> k.cpu(1).fork()); // copy_process: 2 processes at RLIMIT_NPROC 1
        assertTrue(address(k, holder) != 0);
        KernelInvariants.of(k).assertHolds();
    }
}
