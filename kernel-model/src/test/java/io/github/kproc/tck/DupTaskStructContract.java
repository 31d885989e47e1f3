package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Tracer;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.ThreadInfo;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code dup_task_struct()} (kernel/fork.c) and seed scenarios 1, 2 and 5: the child is a byte copy
 * of the parent with its own stack, usage 2, the stack end magic where the architecture puts it,
 * TIF_NEED_RESCHED cleared, the parent's comm, and (without THREAD_INFO_IN_TASK) a thread_info at
 * the stack base pointing back at the task.
 */
public abstract class DupTaskStructContract extends KernelContract {

    @Test
    @DisplayName("dup_task_struct: usage is 2 (the task's own reference and release_task's)")
    void usageIsTwo() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        long child = address(k, k.cpu(0).fork().nr());
        assertEquals(2, k.task(child).usage());
    }

    @Test
    @DisplayName("set_task_stack_end_magic: STACK_END_MAGIC at end_of_stack(p), where the architecture puts it")
    void stackEndMagicWhereTheArchitecturePutsIt() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        AddressSpace m = k.addressSpace();
        long child = address(k, k.cpu(0).fork().nr());
        long stack = k.task(child).stack();
        long magic = facts().longSize() == 8 ? m.readLong(stack + facts().endOfStackOffset())
                : Integer.toUnsignedLong(m.readInt(stack + facts().endOfStackOffset()));
        assertEquals(STACK_END_MAGIC, magic);
        assertEquals(stack + facts().endOfStackOffset(), platform().endOfStack(m, child));
        if (!platform().threadInfoInTask()) {
            assertEquals(facts().endOfStackOffset(), structs(k).size("thread_info"), "just above thread_info");
        }
        assertTrue(k.task(child).stackEndMagicIntact());
    }

    @Test
    @DisplayName("dup_task_struct + setup_thread_stack: task->stack and thread_info point at each other (seed scenario 5)")
    void stackAndThreadInfoPointAtEachOther() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        Structs s = structs(k);
        long parent = k.cpu(0).current().address();
        long child = address(k, k.cpu(0).fork().nr());
        long stack = k.task(child).stack();
        assertNotEquals(k.task(parent).stack(), stack, "the child's own stack");
        ThreadInfo ti = k.task(child).threadInfo();
        if (platform().threadInfoInTask()) {
            assertEquals(0, s.offset("task_struct", "thread_info"), "thread_info is the first member of task_struct");
            assertEquals(child, ti.address());
        } else {
            assertEquals(stack, ti.address(), "thread_info sits at the lowest stack address");
            assertEquals(child, s.ptr(stack, "thread_info", "task"), "thread_info->task");
        }
        assertEquals(child, ti.task());
        // the child's first run: current_thread_info() / sp_el0 find it from the CPU's registers
        int cpu = k.task(child).cpu();
        k.cpu(cpu).run(Pid.of(pidOf(k, child)));
        long[] regs = k.cpu(cpu).registers();
        long sp = regs[platform().cpuRegisters().indexOf("sp")];
        assertTrue(sp >= stack && sp < stack + facts().threadSize(), "sp inside the child's stack");
        if (!platform().threadInfoInTask()) {
            assertEquals(stack, sp & -facts().threadSize(), "current_thread_info() = sp & ~(THREAD_SIZE - 1)");
        } else {
            assertEquals(child, regs[platform().cpuRegisters().indexOf("sp_el0")], "current = sp_el0");
        }
        assertEquals(child, k.cpu(cpu).current().address());
    }

    @Test
    @DisplayName("alloc_thread_stack_node: every stack is THREAD_SIZE and THREAD_ALIGN aligned, none overlaps")
    void stacksAreAlignedAndDisjoint() {
        Kernel k = boot(4);
        k.cpu(0).run(Pid.INIT);
        assertEquals(facts().threadSize(), platform().threadSize());
        assertEquals(facts().threadAlign(), platform().threadAlign());
        Set<Long> slots = new HashSet<>();
        List<Long> tasks = new ArrayList<>(taskAddresses(k));
        for (int i = 0; i < 40; i++) {
            tasks.add(address(k, i % 2 == 0 ? k.cpu(0).fork().nr()
                    : k.cpu(0).clone(new CloneArgs(EnumSet.of(CloneFlag.VM, CloneFlag.SIGHAND, CloneFlag.THREAD), 0, 0,
                            0, 0, 0, 0)).nr()));
        }
        for (int cpu = 1; cpu < 4; cpu++) {
            tasks.add(k.cpu(cpu).idleTask().address());
        }
        for (long t : tasks) {
            long stack = k.task(t).stack();
            assertEquals(0, stack % facts().threadAlign(), () -> k.task(t) + " stack 0x" + Long.toHexString(stack));
            assertTrue(slots.add(stack / facts().threadAlign()), "stacks share a THREAD_ALIGN slot");
        }
    }

    @Test
    @DisplayName("dup_task_struct: clear_tsk_need_resched in the child; the other TIF flags are copied")
    void needReschedIsClearedInTheChild() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        ThreadInfo parent = k.cpu(0).current().threadInfo();
        int notifyResume = platform().tifBit("TIF_NOTIFY_RESUME");
        parent.flag(TIF_NEED_RESCHED, true);
        parent.flag(notifyResume, true);
        ThreadInfo child = k.task(k.cpu(0).fork()).orElseThrow().threadInfo();
        assertFalse(child.testFlag(TIF_NEED_RESCHED));
        assertTrue(child.testFlag(notifyResume));
        assertTrue(parent.testFlag(TIF_NEED_RESCHED));
    }

    @Test
    @DisplayName("copy_process: user_disable_single_step and clear_tsk_thread_flag(p, TIF_SYSCALL_TRACE) in the child")
    void tracingFlagsAreClearedInTheChild() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        ThreadInfo parent = k.cpu(0).current().threadInfo();
        int syscallTrace = platform().tifBit("TIF_SYSCALL_TRACE");
        // arm64 single-steps with TIF_SINGLESTEP; ARM32 has no hardware single step (a no-op)
        int singleStep = platform().tifBit("TIF_SINGLESTEP");
        parent.flag(syscallTrace, true);
        if (singleStep >= 0) {
            parent.flag(singleStep, true);
        }
        ThreadInfo child = k.task(k.cpu(0).fork()).orElseThrow().threadInfo();
        assertFalse(child.testFlag(syscallTrace));
        if (singleStep >= 0) {
            assertFalse(child.testFlag(singleStep));
        }
        assertTrue(parent.testFlag(syscallTrace));
    }

    @Test
    @DisplayName("dup_task_struct: a new stack canary (get_random_canary) for every task")
    void stackCanaryIsNew() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        Structs s = structs(k);
        long parent = k.cpu(0).current().address();
        long child = address(k, k.cpu(0).fork().nr());
        long canary = s.task(child, "stack_canary");
        assertNotEquals(s.task(parent, "stack_canary"), canary);
        if (facts().longSize() == 8) {
            assertEquals(0, canary & 0xff, "CANARY_MASK clears the low byte on 64-bit");
        }
    }

    @Test
    @DisplayName("arch_dup_task_struct: the child is a byte copy of the parent where copy_process changes nothing")
    void childIsAByteCopy() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        Structs s = structs(k);
        long parent = k.cpu(0).current().address();
        long child = address(k, k.cpu(0).fork().nr());
        for (String member : new String[] {"static_prio", "normal_prio", "policy", "comm", "cpus_allowed",
            "nr_cpus_allowed", "personality", "sas_ss_flags"}) {
            long offset = s.offset("task_struct", member);
            int size = (int) platform().profile().field("task_struct", member).size();
            assertEquals(java.util.HexFormat.of().formatHex(s.memory().readBytes(parent + offset, size)),
                    java.util.HexFormat.of().formatHex(s.memory().readBytes(child + offset, size)), member);
        }
    }

    @Test
    @DisplayName("copy_process: every list_head of a new task is a ring (INIT_LIST_HEAD'd or linked), none left as the parent's")
    void everyListHeadOfANewTaskIsARing() {
        Kernel k = boot(2);
        ListHeads heads = new ListHeads(platform(), k.addressSpace());
        List<String> broken = new ArrayList<>();
        for (long t : taskAddresses(k).subList(1, taskAddresses(k).size())) {
            broken.addAll(heads.broken(t, Set.of()));
        }
        broken.addAll(heads.broken(k.cpu(1).idleTask().address(), ListHeads.IDLE_EXEMPT));
        k.cpu(0).run(Pid.INIT);
        long child = address(k, k.cpu(0).fork().nr());
        broken.addAll(heads.broken(child, Set.of()));
        long thread = address(k, k.cpu(0).clone(new CloneArgs(EnumSet.of(CloneFlag.VM, CloneFlag.SIGHAND,
                CloneFlag.THREAD), 0, 0, 0, 0, 0, 0)).nr());
        broken.addAll(heads.broken(thread, ListHeads.THREAD_EXEMPT));
        k.cpu(1).run(Pid.KTHREADD);
        long worker = address(k, k.cpu(1).kernelThread("kthread", 0, EnumSet.noneOf(CloneFlag.class)).nr());
        broken.addAll(heads.broken(worker, Set.of()));
        assertEquals(List.of(), broken);
        // sched_fork: plist_node_init(&p->pushable_tasks, MAX_PRIO); rcu_copy_process (TASKS_RCU): idle CPU -1
        assertEquals(140, structs(k).i32(worker, "task_struct", "pushable_tasks.prio"));
        if (platform().profile().has("task_struct", "rcu_tasks_idle_cpu")) {
            assertEquals(-1, structs(k).i32(worker, "task_struct", "rcu_tasks_idle_cpu"));
        }
    }

    @Test
    @DisplayName("seed scenario 1: kthreadd forks a kernel thread; ftrace shows copy_process <-_do_fork and sched_process_fork")
    void kthreaddForksAKernelThreadAsFtraceShowsIt() {
        List<String> lines = new ArrayList<>();
        Kernel k = boot(b -> b.cpus(4).memory(64L << 20).tracer(Tracer.eventsAndFunctions(lines::add)));
        k.advanceClock(3495_071_290_000L - k.clock());
        k.cpu(3).run(Pid.KTHREADD);
        lines.clear();
        int child = k.cpu(3).kernelThread("worker_thread", 0, EnumSet.noneOf(CloneFlag.class)).nr();
        long task = address(k, child);
        assertEquals("kthreadd", k.task(task).comm(), "the child inherits the parent's comm");
        String prefix = String.format("%16s-%-5d [%03d] ", "kthreadd", 2, 3);
        String time = String.format(" %5d.%06d: ", 3495, 71290);
        assertTrue(lines.contains(prefix + "...." + time + "copy_process <-_do_fork"), () -> String.join("\n", lines));
        String fork = lines.stream().filter(l -> l.contains("sched_process_fork:")).findFirst().orElseThrow();
        assertTrue(fork.startsWith(prefix), fork);
        assertTrue(fork.substring(prefix.length(), prefix.length() + 4).matches("[.dX][.Nnp][.ZzHhs][.0-9a-f]"), fork);
        assertEquals(time + "sched_process_fork: comm=kthreadd pid=2 child_comm=kthreadd child_pid=" + child,
                fork.substring(prefix.length() + 4));
        assertTrue(lines.indexOf(fork) > lines.indexOf(prefix + "...." + time + "copy_process <-_do_fork"));
        // wake_up_new_task: fork balancing puts the child on another, idle CPU
        int target = k.task(task).cpu();
        assertNotEquals(3, target);
        String wakeup = lines.stream().filter(l -> l.contains("sched_wakeup_new:")).findFirst().orElseThrow();
        assertTrue(wakeup.endsWith(String.format("sched_wakeup_new: comm=kthreadd pid=%d prio=120 target_cpu=%03d",
                child, target)), wakeup);
        assertTrue(lines.indexOf(wakeup) > lines.indexOf(fork), "sched_process_fork comes before the wakeup");
        // its first run is there: sched_switch from that CPU's idle task
        k.cpu(target).run(Pid.of(child));
        String sw = lines.getLast();
        assertTrue(sw.startsWith(String.format("%16s-%-5d [%03d] ", "<idle>", 0, target)), sw);
        assertTrue(sw.endsWith("==> next_comm=kthreadd next_pid=" + child + " next_prio=120"), sw);
        assertEquals(k.symbol("ret_from_fork"),
                k.cpu(target).registers()[platform().cpuRegisters().indexOf("pc")] & -0x400L,
                "the child runs ret_from_fork");
    }

    @Test
    @DisplayName("copy_process: nr_dirtied_pause = 128 >> (PAGE_SHIFT - 10), default_timer_slack_ns = the parent's timer_slack_ns (INIT_TASK's 50,000), cpuset spread rotors NUMA_NO_NODE with CONFIG_CPUSETS")
    void copyProcessSetsTheWritebackSlackAndCpusetFields() {
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        long child = address(k, k.cpu(0).fork().nr());
        Structs s = structs(k);
        assertEquals(50_000, s.task(init, "timer_slack_ns"), "inherited from init_task");
        assertEquals(50_000, s.task(child, "timer_slack_ns"));
        assertEquals(50_000, s.task(child, "default_timer_slack_ns"));
        assertEquals(32, s.task(child, "nr_dirtied_pause"), "4 KiB pages: 128 >> 2");
        assertEquals(0, s.task(child, "nr_dirtied"));
        assertEquals(0, s.task(child, "dirty_paused_when"));
        if (built("CONFIG_CPUSETS")) {
            assertEquals(-1, s.task(child, "cpuset_mem_spread_rotor"));
            assertEquals(-1, s.task(child, "cpuset_slab_spread_rotor"));
            assertEquals(0, s.task(child, "mems_allowed_seq"));
        }
    }

    @Test
    @DisplayName("copy_signal: mutex_init(&sig->cred_guard_mutex) leaves an empty wait_list, and real_timer.function is it_real_fn")
    void copySignalInitialisesTheCredGuardMutexAndTheRealTimer() {
        Kernel k = boot(2);
        runAs(k, 0, 1);
        long child = address(k, k.cpu(0).fork().nr());
        Structs s = structs(k);
        long signal = s.taskPtr(child, "signal");
        long waitList = signal + s.offset("signal_struct", "cred_guard_mutex.wait_list");
        assertEquals(waitList, s.memory().readPointer(waitList), "list_head next");
        assertEquals(waitList, s.memory().readPointer(waitList + platform().pointerSize()), "list_head prev");
        assertEquals(k.symbol("it_real_fn"), s.ptr(signal, "signal_struct", "real_timer.function"));
    }
}
