package io.github.kproc.tck;

import static io.github.kproc.kernel.CloneFlag.FILES;
import static io.github.kproc.kernel.CloneFlag.FS;
import static io.github.kproc.kernel.CloneFlag.NEWNS;
import static io.github.kproc.kernel.CloneFlag.NEWPID;
import static io.github.kproc.kernel.CloneFlag.NEWUSER;
import static io.github.kproc.kernel.CloneFlag.PARENT;
import static io.github.kproc.kernel.CloneFlag.SIGHAND;
import static io.github.kproc.kernel.CloneFlag.THREAD;
import static io.github.kproc.kernel.CloneFlag.VM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.kproc.Errno;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.ForkStep;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Every error {@code copy_process()} (kernel/fork.c) returns before the child exists, and that each
 * leaves the model exactly as it was: memory, nr_threads, total_forks, the task list and every
 * structure the caller shares.
 */
public abstract class CopyProcessErrorsContract extends KernelContract {
    private static final Set<CloneFlag> THREAD_FLAGS = EnumSet.of(VM, FS, FILES, SIGHAND, THREAD);

    /** Boots 2 CPUs and runs init (a user process since its exec) on CPU 0. */
    private Kernel bootAsInit() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        return k;
    }

    /** Asserts clone(flags) from the current task of CPU 0 fails with errno and changes nothing. */
    private void assertCloneFails(Kernel k, Set<CloneFlag> flags, Errno errno) {
        KernelState before = KernelState.of(k, k.cpu(0).current().address());
        assertErrno(errno, () -> k.cpu(0).clone(new CloneArgs(flags, SIGCHLD, 0, 0, 0, 0, 0)));
        before.assertUnchanged(k, KernelState.of(k, k.cpu(0).current().address()));
    }

    @Test
    @DisplayName("copy_process: CLONE_NEWNS|CLONE_FS is -EINVAL (a new mount namespace cannot share root)")
    void newNsWithSharedFsIsInvalid() {
        Kernel k = bootAsInit();
        assertCloneFails(k, EnumSet.of(NEWNS, FS), Errno.EINVAL);
    }

    @Test
    @DisplayName("copy_process: CLONE_NEWUSER|CLONE_FS is -EINVAL")
    void newUserWithSharedFsIsInvalid() {
        Kernel k = bootAsInit();
        assertCloneFails(k, EnumSet.of(NEWUSER, FS), Errno.EINVAL);
    }

    @Test
    @DisplayName("copy_process: CLONE_THREAD without CLONE_SIGHAND is -EINVAL")
    void threadWithoutSighandIsInvalid() {
        Kernel k = bootAsInit();
        assertCloneFails(k, EnumSet.of(THREAD, VM, FS, FILES), Errno.EINVAL);
    }

    @Test
    @DisplayName("copy_process: CLONE_SIGHAND without CLONE_VM is -EINVAL")
    void sighandWithoutVmIsInvalid() {
        Kernel k = bootAsInit();
        assertCloneFails(k, EnumSet.of(SIGHAND, FS, FILES), Errno.EINVAL);
    }

    @Test
    @DisplayName("copy_process: CLONE_PARENT from init (SIGNAL_UNKILLABLE) is -EINVAL")
    void parentFromUnkillableInitIsInvalid() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = bootAsInit();
        long signal = structs(k).taskPtr(k.cpu(0).current().address(), "signal");
        assertTrue((structs(k).i32(signal, "signal_struct", "flags") & 0x40) != 0, "init's SIGNAL_UNKILLABLE");
        assertCloneFails(k, EnumSet.of(PARENT), Errno.EINVAL);
        // a pid namespace's init is unkillable too (is_child_reaper in copy_process)
        int nsInit = k.cpu(0).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        long container = runAs(k, 1, nsInit);
        KernelState before = KernelState.of(k, container);
        assertErrno(Errno.EINVAL, () -> k.cpu(1).clone(new CloneArgs(EnumSet.of(PARENT), SIGCHLD, 0, 0, 0, 0, 0)));
        before.assertUnchanged(k, KernelState.of(k, container));
        // an ordinary process may make a sibling
        int pid = k.cpu(0).fork().nr();
        k.cpu(1).runIdle();
        k.cpu(1).run(Pid.of(pid));
        assertTrue(k.cpu(1).clone(new CloneArgs(EnumSet.of(PARENT), SIGCHLD, 0, 0, 0, 0, 0)).nr() > 0);
    }

    @Test
    @DisplayName("copy_process: CLONE_THREAD with CLONE_NEWPID or CLONE_NEWUSER is -EINVAL")
    void threadWithNewPidOrUserIsInvalid() {
        Kernel k = bootAsInit();
        Set<CloneFlag> newPid = EnumSet.copyOf(THREAD_FLAGS);
        newPid.add(NEWPID);
        assertCloneFails(k, newPid, Errno.EINVAL);
        Set<CloneFlag> newUser = EnumSet.of(VM, FILES, SIGHAND, THREAD, NEWUSER);
        assertCloneFails(k, newUser, Errno.EINVAL);
    }

    @Test
    @DisplayName("copy_process: CLONE_THREAD when pid_ns_for_children is not the active pid namespace is -EINVAL")
    void threadWithOtherPidNsForChildrenIsInvalid() {
        requireBuilt("CONFIG_PID_NS");
        Kernel k = bootAsInit();
        int nsInit = k.cpu(0).clone(new CloneArgs(EnumSet.of(NEWPID), SIGCHLD, 0, 0, 0, 0, 0)).nr();
        long child = runAs(k, 1, nsInit);
        Structs s = structs(k);
        long nsproxy = s.taskPtr(child, "nsproxy");
        long own = s.ptr(nsproxy, "nsproxy", "pid_ns_for_children");
        assertEquals(own, k.taskActivePidNs(child));
        // what unshare(CLONE_NEWPID) leaves: children go to another namespace than the task's own
        s.set(nsproxy, "nsproxy", "pid_ns_for_children", k.initPidNamespace());
        KernelState before = KernelState.of(k, child);
        assertErrno(Errno.EINVAL, () -> k.cpu(1).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)));
        before.assertUnchanged(k, KernelState.of(k, child));
        s.set(nsproxy, "nsproxy", "pid_ns_for_children", own);
        assertTrue(k.cpu(1).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr() > 0);
    }

    /** A kernel with a user process of init's current on CPU 0, and its pid. */
    private Pid bootAsUserProcess(Kernel k) {
        k.cpu(0).run(Pid.INIT);
        Pid child = k.cpu(0).fork();
        k.cpu(0).run(child);
        return child;
    }

    @Test
    @DisplayName("copy_process: a pending signal is -ERESTARTNOINTR before anything is allocated")
    void pendingSignalRestartsTheFork() {
        Kernel k = boot(2);
        Pid user = bootAsUserProcess(k);
        assertTrue(k.kill(user, SIGUSR1), "a user process takes SIGUSR1");
        assertCloneFails(k, EnumSet.noneOf(CloneFlag.class), Errno.ERESTARTNOINTR);
        k.flushSignals(user);
        assertTrue(k.cpu(0).as(user).fork().nr() > 0);
    }

    @Test
    @DisplayName("get_signal: a killed process never starts a fork (it dies on its way back to user mode); nothing is allocated for it")
    void killedProcessNeverReachesCopyProcess() {
        Kernel k = boot(2);
        Pid user = bootAsUserProcess(k);
        int tasks = k.tasks().size();
        assertTrue(k.kill(user, SIGKILL));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> k.cpu(0).as(user).fork(),
                "the CPU runs another task once the killed one is dead");
        assertEquals(EXIT_ZOMBIE, k.task(user).orElseThrow().exitState());
        assertEquals(tasks, k.tasks().size(), "no child: only the zombie is left of it");
    }

    @Test
    @DisplayName("sig_task_ignored: init drops default-action signals and SIGKILL, kthreadd every signal, anyone"
            + " SIGCHLD's default; a dropped signal leaves the next fork alone")
    void signalsTheTargetIgnoresAreDropped() {
        Kernel k = bootAsInit();
        assertFalse(k.kill(Pid.INIT, SIGUSR1), "SIGNAL_UNKILLABLE with SIG_DFL");
        assertFalse(k.kill(Pid.INIT, SIGKILL), "is_global_init && sig_kernel_only");
        assertFalse(k.kill(Pid.KTHREADD, SIGKILL), "kthreadd's ignore_signals: SIG_IGN");
        assertTrue(k.cpu(0).as(Pid.INIT).fork().nr() > 0, "no -ERESTARTNOINTR: nothing is pending");
        Pid user = bootAsUserProcess(k);
        assertFalse(k.kill(user, SIGCHLD), "sig_kernel_ignore: SIGCHLD's default action is to ignore");
        assertTrue(k.kill(user, SIGUSR1));
    }

    @Test
    @DisplayName("copy_process: a fatal signal arriving during the fork is -EINTR under tasklist_lock")
    void fatalSignalDuringForkIsInterrupted() {
        Kernel k = bootAsInit();
        k.faults().failStep(ForkStep.LATE_FATAL_SIGNAL, Errno.EINTR, 1);
        assertCloneFails(k, EnumSet.noneOf(CloneFlag.class), Errno.EINTR);
        assertTrue(k.cpu(0).fork().nr() > 0);
    }

    @Test
    @DisplayName("copy_process: nr_threads >= max_threads is -EAGAIN")
    void maxThreadsIsEagain() {
        // set_max_threads: RAM / (8 * THREAD_SIZE); 4 MiB gives 64 (ARM32) or 32 (arm64) threads
        Kernel k = boot(b -> b.cpus(2).memory(4L << 20));
        assertEquals((4L << 20) / (8 * facts().threadSize()), k.maxThreads());
        k.cpu(0).run(Pid.INIT);
        while (k.nrThreads() < k.maxThreads()) {
            k.cpu(0).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0));
        }
        assertCloneFails(k, THREAD_FLAGS, Errno.EAGAIN);
        assertCloneFails(k, EnumSet.noneOf(CloneFlag.class), Errno.EAGAIN);
    }

    @Test
    @DisplayName("alloc_pid: a full pid space is -EAGAIN (idr_alloc_cyclic's -ENOSPC)")
    void exhaustedPidSpaceIsEagain() {
        // Every pid needs a live task, and max_threads keeps tasks below RAM / (8 * THREAD_SIZE): the
        // 32767 pids of init_pid_ns need 2 GiB on ARM32 (lowmem tops out at 1784 MiB), 4 GiB on arm64.
        long ram = 4352L << 20;
        assumeTrue(ramFits(ram) && facts().maxCpus() >= 32,
                "max_threads stops forks before the pid space is full on this build");
        // 32 CPUs keep pid_max at PID_MAX_DEFAULT (32768) and the runqueues short
        Kernel k = boot(b -> b.cpus(32).memory(ram));
        assertEquals(32768, k.pidMax());
        k.cpu(0).run(Pid.INIT);
        while (k.nrThreads() < k.pidMax() - 1) {
            k.cpu(0).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0));
        }
        assertCloneFails(k, THREAD_FLAGS, Errno.EAGAIN);
        // a released number is found again, from the cursor wrapping to RESERVED_PIDS
        int last = k.pidMax() - 1;
        runAs(k, 1, last);
        k.cpu(1).exit(0);
        assertEquals(last, k.cpu(0).clone(new CloneArgs(THREAD_FLAGS, 0, 0, 0, 0, 0, 0)).nr());
    }

    private boolean ramFits(long ram) {
        try {
            platform().memoryMap(ram);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Test
    @DisplayName("copy_process: RLIMIT_NPROC reached by a non-root user is -EAGAIN")
    void rlimitNprocIsEagainForUsers() {
        Kernel k = bootAsInit();
        long init = k.cpu(0).current().address();
        Structs s = structs(k);
        k.setrlimit(Pid.INIT, RLIMIT_NPROC, 3, -1);
        k.cpu(0).setresuid(1000, 1000, 1000);
        long signal = s.taskPtr(init, "signal");
        long rlim = signal + s.offset("signal_struct", "rlim") + RLIMIT_NPROC * s.size("rlimit");
        assertTrue(k.cpu(0).fork().nr() > 0);
        assertTrue(k.cpu(0).fork().nr() > 0);
        long user = s.ptr(s.taskPtr(init, "real_cred"), "cred", "user");
        assertEquals(3, s.i32(user, "user_struct", "processes"));
        assertCloneFails(k, EnumSet.noneOf(CloneFlag.class), Errno.EAGAIN);
        s.memory().writePointer(rlim, 4);
        assertTrue(k.cpu(0).fork().nr() > 0);
    }

    @Test
    @DisplayName("copy_process: RLIMIT_NPROC does not bind root (the user is INIT_USER)")
    void rlimitNprocDoesNotBindRoot() {
        Kernel k = bootAsInit();
        Structs s = structs(k);
        long signal = s.taskPtr(k.cpu(0).current().address(), "signal");
        s.memory().writePointer(signal + s.offset("signal_struct", "rlim") + RLIMIT_NPROC * s.size("rlimit"), 1);
        assertTrue(k.cpu(0).fork().nr() > 0);
        assertTrue(k.cpu(0).fork().nr() > 0);
    }

    @Test
    @DisplayName("copy_fs: CLONE_FS while the fs_struct is in exec (fs->in_exec) is -EAGAIN")
    void sharedFsInExecIsEagain() {
        Kernel k = bootAsInit();
        Structs s = structs(k);
        long fs = s.taskPtr(k.cpu(0).current().address(), "fs");
        s.set(fs, "fs_struct", "in_exec", 1);
        assertCloneFails(k, EnumSet.of(FS), Errno.EAGAIN);
        // without CLONE_FS the child gets its own copy, in_exec cleared
        int pid = k.cpu(0).fork().nr();
        assertEquals(0, s.i32(s.taskPtr(address(k, pid), "fs"), "fs_struct", "in_exec"));
        s.set(fs, "fs_struct", "in_exec", 0);
        assertTrue(k.cpu(0).clone(new CloneArgs(EnumSet.of(FS), SIGCHLD, 0, 0, 0, 0, 0)).nr() > 0);
    }
}
