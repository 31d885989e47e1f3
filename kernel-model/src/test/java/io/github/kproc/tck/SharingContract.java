package io.github.kproc.tck;

import static io.github.kproc.kernel.CloneFlag.FILES;
import static io.github.kproc.kernel.CloneFlag.FS;
import static io.github.kproc.kernel.CloneFlag.SIGHAND;
import static io.github.kproc.kernel.CloneFlag.THREAD;
import static io.github.kproc.kernel.CloneFlag.VM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.testkit.Workload;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code copy_files}, {@code copy_fs}, {@code copy_sighand}, {@code copy_signal} and {@code copy_mm}
 * (kernel/fork.c): with the CLONE_ flag the child points at the parent's structure and its count
 * goes up; without it the child gets a new one with a count of 1 and the parent's is untouched.
 * The child's exit gives the reference back.
 */
public abstract class SharingContract extends KernelContract {
    private Kernel k;
    private Structs s;
    private long parent;

    private void bootAsInit() {
        k = boot(2);
        s = structs(k);
        parent = runAs(k, 0, 1);
    }

    /** clone(flags) from init, the child's task_struct. */
    private long cloneChild(Set<CloneFlag> flags, int exitSignal) {
        return address(k, k.cpu(0).clone(new CloneArgs(flags, exitSignal, 0, 0, 0, 0, 0)).nr());
    }

    /** Runs a child on CPU 1 and lets it exit; init reaps it if it became a zombie. */
    private void exitChild(long child) {
        int pid = pidOf(k, child);
        runAs(k, 1, pid);
        k.cpu(1).exit(0);
        if (address(k, pid) != 0) {
            assertTrue(k.cpu(0).wait4(Pid.of(pid)));
        }
    }

    private void assertShared(CloneFlag flag, Set<CloneFlag> with, String member, String type, String counter) {
        long shared = s.taskPtr(parent, member);
        long before = s.get(shared, type, counter);
        long child = cloneChild(with, SIGCHLD);
        assertEquals(shared, s.taskPtr(child, member), flag.kernelName() + ": the child points at the parent's " + type);
        assertEquals(before + 1, s.get(shared, type, counter), type + "." + counter);
        exitChild(child);
        assertEquals(before, s.get(shared, type, counter), type + "." + counter + " after the child exited");
    }

    private void assertCopied(Set<CloneFlag> without, String member, String type, String counter) {
        long parents = s.taskPtr(parent, member);
        long before = s.get(parents, type, counter);
        long child = cloneChild(without, SIGCHLD);
        long own = s.taskPtr(child, member);
        assertNotEquals(0, own);
        assertNotEquals(parents, own, "a new " + type);
        assertEquals(1, s.get(own, type, counter), "the copy's " + counter);
        assertEquals(before, s.get(parents, type, counter), "the parent's " + counter);
        exitChild(child);
    }

    @Test
    @DisplayName("copy_files: CLONE_FILES shares files_struct and counts it (files_struct.count)")
    void cloneFilesSharesTheFileTable() {
        bootAsInit();
        assertShared(FILES, EnumSet.of(FILES), "files", "files_struct", "count");
    }

    @Test
    @DisplayName("copy_files: without CLONE_FILES dup_fd makes a new files_struct with count 1")
    void forkCopiesTheFileTable() {
        bootAsInit();
        assertCopied(EnumSet.noneOf(CloneFlag.class), "files", "files_struct", "count");
        long child = cloneChild(EnumSet.noneOf(CloneFlag.class), SIGCHLD);
        long files = s.taskPtr(child, "files");
        // the fdtable of the copy is its own embedded fdtab
        assertEquals(files + s.offset("files_struct", "fdtab"), s.ptr(files, "files_struct", "fdt"));
    }

    @Test
    @DisplayName("copy_fs: CLONE_FS shares fs_struct and counts it (fs_struct.users)")
    void cloneFsSharesTheFsStruct() {
        bootAsInit();
        assertShared(FS, EnumSet.of(FS), "fs", "fs_struct", "users");
    }

    @Test
    @DisplayName("copy_fs: without CLONE_FS copy_fs_struct makes a new fs_struct with users 1")
    void forkCopiesTheFsStruct() {
        bootAsInit();
        assertCopied(EnumSet.noneOf(CloneFlag.class), "fs", "fs_struct", "users");
    }

    @Test
    @DisplayName("copy_sighand: CLONE_SIGHAND shares sighand_struct and counts it (sighand_struct.count)")
    void cloneSighandSharesTheHandlers() {
        bootAsInit();
        assertShared(SIGHAND, EnumSet.of(SIGHAND, VM), "sighand", "sighand_struct", "count");
    }

    @Test
    @DisplayName("copy_sighand: without CLONE_SIGHAND the handlers are copied into a sighand_struct with count 1")
    void forkCopiesTheHandlers() {
        bootAsInit();
        assertCopied(EnumSet.noneOf(CloneFlag.class), "sighand", "sighand_struct", "count");
        long kthreadd = runAs(k, 0, 2);
        long worker = address(k, k.cpu(0).kernelThread("kthread", 0, EnumSet.noneOf(CloneFlag.class)).nr());
        long action = s.offset("sighand_struct", "action");
        long size = 64 * s.size("k_sigaction");
        assertEquals(java.util.HexFormat.of().formatHex(s.memory().readBytes(s.taskPtr(kthreadd, "sighand") + action,
                (int) size)), java.util.HexFormat.of().formatHex(s.memory().readBytes(s.taskPtr(worker, "sighand")
                + action, (int) size)), "kthreadd's SIG_IGN handlers, copied");
    }

    @Test
    @DisplayName("copy_mm: CLONE_VM shares the mm and counts a user (mm_users), not a reference (mm_count)")
    void cloneVmSharesTheAddressSpace() {
        bootAsInit();
        long mm = s.taskPtr(parent, "mm");
        long count = s.get(mm, "mm_struct", "mm_count");
        long child = cloneChild(EnumSet.of(VM), SIGCHLD);
        assertEquals(count, s.get(mm, "mm_struct", "mm_count"));
        assertEquals(mm, s.taskPtr(child, "active_mm"));
        exitChild(child);
        assertShared(VM, EnumSet.of(VM), "mm", "mm_struct", "mm_users");
    }

    @Test
    @DisplayName("copy_mm: without CLONE_VM dup_mm makes a new mm with mm_users 1 and mm_count 1")
    void forkDuplicatesTheAddressSpace() {
        bootAsInit();
        assertCopied(EnumSet.noneOf(CloneFlag.class), "mm", "mm_struct", "mm_users");
        long child = cloneChild(EnumSet.noneOf(CloneFlag.class), SIGCHLD);
        long mm = s.taskPtr(child, "mm");
        assertEquals(1, s.get(mm, "mm_struct", "mm_count"));
        assertEquals(mm, s.taskPtr(child, "active_mm"));
        assertNotEquals(s.ptr(s.taskPtr(parent, "mm"), "mm_struct", "pgd"), s.ptr(mm, "mm_struct", "pgd"),
                "mm_init allocates the child's own pgd");
    }

    @Test
    @DisplayName("copy_mm: a kernel thread has no mm (kernel_thread adds CLONE_VM, but current->mm is NULL)")
    void kernelThreadsHaveNoMm() {
        bootAsInit();
        runAs(k, 0, 2);
        long worker = address(k, k.cpu(0).kernelThread("kthread", 0, EnumSet.noneOf(CloneFlag.class)).nr());
        assertEquals(0, s.taskPtr(worker, "mm"));
        assertEquals(0, s.taskPtr(worker, "active_mm"));
    }

    @Test
    @DisplayName("copy_signal + copy_process: CLONE_THREAD joins the group (nr_threads, live, sigcnt; tgid, group_leader, exit_signal -1)")
    void cloneThreadJoinsTheThreadGroup() {
        bootAsInit();
        long signal = s.taskPtr(parent, "signal");
        int nrThreads = s.i32(signal, "signal_struct", "nr_threads");
        int live = s.i32(signal, "signal_struct", "live");
        int sigcnt = s.i32(signal, "signal_struct", "sigcnt");
        long thread = cloneChild(EnumSet.of(VM, FS, FILES, SIGHAND, THREAD), SIGCHLD);
        assertEquals(signal, s.taskPtr(thread, "signal"));
        assertEquals(nrThreads + 1, s.i32(signal, "signal_struct", "nr_threads"));
        assertEquals(live + 1, s.i32(signal, "signal_struct", "live"));
        assertEquals(sigcnt + 1, s.i32(signal, "signal_struct", "sigcnt"));
        assertEquals(k.task(parent).tgid(), k.task(thread).tgid());
        assertNotEquals(k.task(parent).pid(), k.task(thread).pid());
        assertEquals(parent, k.task(thread).groupLeader());
        assertEquals(-1, k.task(thread).exitSignal(), "exit_signal of a thread, whatever CSIGNAL said");
        assertEquals(k.task(parent).realParent(), k.task(thread).realParent(), "a thread's parent is the leader's");
        // linked into the leader's thread_group and the signal's thread_head, not into children
        long head = parent + s.offset("task_struct", "thread_group");
        assertEquals(thread + s.offset("task_struct", "thread_group"), s.memory().readPointer(head + s.offset("list_head", "prev")));
        long threadHead = signal + s.offset("signal_struct", "thread_head");
        assertEquals(thread + s.offset("task_struct", "thread_node"),
                s.memory().readPointer(threadHead + s.offset("list_head", "prev")));
        long swapperChildren = k.task(parent).realParent() + s.offset("task_struct", "children");
        assertFalse(s.entries(swapperChildren).contains(thread + s.offset("task_struct", "sibling")));
        assertTrue(taskAddresses(k).contains(thread));
        // the thread's exit: live at do_exit, nr_threads at release_task, sigcnt when the task_struct goes
        int tid = pidOf(k, thread);
        runAs(k, 1, tid);
        k.cpu(1).exit(0);
        assertEquals(0, address(k, tid), "an exited thread is released at once (EXIT_DEAD)");
        assertEquals(nrThreads, s.i32(signal, "signal_struct", "nr_threads"));
        assertEquals(live, s.i32(signal, "signal_struct", "live"));
        assertEquals(sigcnt + 1, s.i32(signal, "signal_struct", "sigcnt"),
                "release_task: the task_struct, and its sigcnt reference, wait for a grace period (call_rcu)");
        Workload.passGracePeriods(k, 16);
        assertEquals(sigcnt, s.i32(signal, "signal_struct", "sigcnt"), "delayed_put_task_struct -> __put_task_struct");
    }

    @Test
    @DisplayName("copy_signal: without CLONE_THREAD a new group of one (nr_threads 1, live 1, sigcnt 1), tgid = pid")
    void forkStartsANewThreadGroup() {
        bootAsInit();
        long signal = s.taskPtr(parent, "signal");
        long child = cloneChild(EnumSet.of(VM, SIGHAND, FILES, FS), SIGCHLD);
        long own = s.taskPtr(child, "signal");
        assertNotEquals(signal, own);
        assertEquals(1, s.i32(own, "signal_struct", "nr_threads"));
        assertEquals(1, s.i32(own, "signal_struct", "live"));
        assertEquals(1, s.i32(own, "signal_struct", "sigcnt"));
        assertEquals(k.task(child).pid(), k.task(child).tgid());
        assertEquals(child, k.task(child).groupLeader());
        assertEquals(SIGCHLD, k.task(child).exitSignal());
        assertEquals(parent, k.task(child).realParent());
        // the rlimits are the parent's
        long rlim = s.offset("signal_struct", "rlim");
        long size = 16 * s.size("rlimit");
        assertEquals(java.util.HexFormat.of().formatHex(s.memory().readBytes(signal + rlim, (int) size)),
                java.util.HexFormat.of().formatHex(s.memory().readBytes(own + rlim, (int) size)));
    }

    @Test
    @DisplayName("copy_process: CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_VM together share all four")
    void allSharingFlagsTogether() {
        bootAsInit();
        Set<CloneFlag> flags = EnumSet.of(VM, FS, FILES, SIGHAND);
        long child = cloneChild(flags, SIGCHLD);
        for (String member : new String[] {"mm", "fs", "files", "sighand"}) {
            assertEquals(s.taskPtr(parent, member), s.taskPtr(child, member), member);
        }
        assertNotEquals(s.taskPtr(parent, "signal"), s.taskPtr(child, "signal"));
    }

    @Test
    @DisplayName("do_execveat_common: unshare_files gives an exec'ing CLONE_FILES child a file table of its own")
    void execUnsharesTheFileTable() {
        bootAsInit();
        long files = s.taskPtr(parent, "files");
        int count = s.i32(files, "files_struct", "count");
        long child = cloneChild(EnumSet.of(FILES), SIGCHLD);
        k.cpu(1).run(Pid.of(pidOf(k, child)));
        k.cpu(1).exec("sh");
        long own = s.taskPtr(child, "files");
        assertNotEquals(files, own);
        assertEquals(1, s.i32(own, "files_struct", "count"));
        assertEquals(count, s.i32(files, "files_struct", "count"));
    }

    @Test
    @DisplayName("de_thread: exec replaces a CLONE_SIGHAND-shared sighand_struct; the other process keeps its handlers")
    void execUnsharesTheSignalHandlers() {
        bootAsInit();
        long sighand = s.taskPtr(parent, "sighand");
        int count = s.i32(sighand, "sighand_struct", "count");
        // sigaction(SIGUSR1, handler) in init
        long usr1 = sighand + s.offset("sighand_struct", "action") + (SIGUSR1 - 1) * s.size("k_sigaction")
                + s.offset("k_sigaction", "sa.sa_handler");
        s.memory().writePointer(usr1, 0x10400);
        long child = cloneChild(EnumSet.of(VM, SIGHAND), SIGCHLD);
        assertEquals(count + 1, s.i32(sighand, "sighand_struct", "count"));
        k.cpu(1).run(Pid.of(pidOf(k, child)));
        k.cpu(1).exec("sh");
        long own = s.taskPtr(child, "sighand");
        assertNotEquals(sighand, own);
        assertEquals(1, s.i32(own, "sighand_struct", "count"));
        assertEquals(0, s.memory().readPointer(own + (usr1 - sighand)), "flush_signal_handlers: SIG_DFL in the new program");
        assertEquals(0x10400, s.memory().readPointer(usr1), "init's handler is untouched");
        assertEquals(count, s.i32(sighand, "sighand_struct", "count"));
    }
}
