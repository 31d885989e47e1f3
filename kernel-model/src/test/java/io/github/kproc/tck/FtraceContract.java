package io.github.kproc.tck;

import static io.github.kproc.kernel.CloneFlag.FILES;
import static io.github.kproc.kernel.CloneFlag.FS;
import static io.github.kproc.kernel.CloneFlag.SIGHAND;
import static io.github.kproc.kernel.CloneFlag.THREAD;
import static io.github.kproc.kernel.CloneFlag.VM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.SoftirqVector;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The text of the {@code trace} file: the context prefix of {@code trace_print_context()}, the four
 * irq-info characters of {@code trace_print_lat_fmt()} from the flags {@code tracing_generic_entry_update()}
 * records (kernel/trace/trace.c, trace_output.c), and the TP_printk formats of {@code sched_switch}
 * (with {@code __trace_sched_switch_state()}), {@code sched_waking}/{@code sched_wakeup},
 * {@code softirq_raise}/{@code softirq_entry} and {@code ipi_raise}/{@code ipi_entry}/{@code ipi_exit}.
 */
public abstract class FtraceContract extends KernelContract {
    private static final int TIMER_SOFTIRQ = 1;

    /** The preempt-depth column for a preempt_count: {@code "%x"} of {@code pc & 0xff}, {@code '.'} for 0. */
    private static String depth(int count) {
        int depth = count & 0xff;
        return depth == 0 ? "." : Integer.toHexString(depth);
    }

    @Test
    @DisplayName("trace_print_context: \"%16s-%-5d [%03d] \", irq-info, \" %5lu.%06lu: \", then \"event: \" and TP_printk")
    void contextPrefixIsTheKernelsFormat() {
        Kernel k = boot(2);
        k.cpu(1).run(Pid.KTHREADD);
        TraceLog log = TraceLog.attach(k);
        // the clock at boot's end is rest_init's (not 0): advance to absolute times
        k.advanceClock(1_234_567_891L - k.clock());
        k.cpu(1).raiseSoftirq(SoftirqVector.TIMER);
        k.advanceClock(12_345L * 1_000_000_000L - 1_234_567_891L + 1_000L);
        k.cpu(1).raiseSoftirq(SoftirqVector.RCU);

        assertEquals(List.of(
                String.format("%16s-%-5d [%03d] %s %5d.%06d: softirq_raise: vec=%d [action=%s]", "kthreadd", 2, 1,
                        "d...", 1, 234567, 1, "TIMER"),
                "        kthreadd-2     [001] d... 12345.000001: softirq_raise: vec=9 [action=RCU]"),
                log.lines().stream().map(FtraceLine::text).toList());
    }

    // ---- the four irq-info characters ----

    /** A context on CPU 0, and the irq-info a {@code softirq_raise} line written there shows. */
    private record Flags(String context, Consumer<Kernel> enter, String irqInfo) {
    }

    /**
     * {@code raise_softirq()} takes {@code local_irq_save()} around the tracepoint: 'd' always. The
     * third column shows NMI+hardirq 'Z', hardirq 'h', serving softirq 's' (bh disabled alone is not
     * 's': TRACE_FLAG_SOFTIRQ tests SOFTIRQ_OFFSET); the fourth the preempt depth in hex, which only
     * counts with CONFIG_PREEMPT_COUNT (the tracepoint's own preempt_disable is taken back, pc--, with
     * CONFIG_PREEMPT).
     */
    private List<Flags> flagCases() {
        int p = facts().preemptDisableOffset();
        return List.of(
                new Flags("task", k -> { }, "d..."),
                new Flags("preemption disabled 10 times", k -> {
                    for (int i = 0; i < 10; i++) {
                        k.cpu(0).preemptDisable();
                    }
                }, "d.." + depth(10 * p)),
                new Flags("bh disabled", k -> k.cpu(0).localBhDisable(), "d..."),
                new Flags("hardirq", k -> k.cpu(0).irqEnter(), "d.h."),
                new Flags("nested hardirq with preemption disabled", k -> {
                    k.cpu(0).preemptDisable();
                    k.cpu(0).irqEnter();
                    k.cpu(0).irqEnter();
                }, "d.h" + depth(p)),
                new Flags("NMI", k -> k.cpu(0).nmiEnter(), "d.Z."),
                new Flags("need resched", k -> {
                    // sched_setscheduler() of a queued task to SCHED_FIFO: check_preempt_curr -> resched_curr here
                    int pid = k.cpu(0).fork().nr();
                    if (k.task(task(k, pid)).cpu() != 0) {
                        k.migrate(Pid.of(pid), 0);
                    }
                    k.setScheduler(Pid.of(pid), SCHED_FIFO, 10);
                }, "dn.."));
    }

    @TestFactory
    @DisplayName("trace_print_lat_fmt: irqs-off, need-resched, hardirq/softirq and preempt-depth of a line in every context")
    Stream<DynamicTest> irqInfoOfALineInEveryContext() {
        return flagCases().stream().map(c -> DynamicTest.dynamicTest(c.context(), () -> {
            try (Kernel k = bootUnmanaged(2)) {
                k.cpu(0).run(Pid.INIT);
                c.enter().accept(k);
                TraceLog log = TraceLog.attach(k);
                k.cpu(0).raiseSoftirq(SoftirqVector.TIMER);
                assertEquals(c.irqInfo(), log.only("softirq_raise").irqInfo(), c.context());
            }
        }));
    }

    @Test
    @DisplayName("__do_softirq runs handlers with irqs on and SOFTIRQ_OFFSET: softirq_entry/exit show 's', from local_bh_enable depth 1")
    void softirqEntryAndExitShowServingSoftirq() {
        Kernel k = boot(1);
        k.cpu(0).run(Pid.INIT);
        TraceLog log = TraceLog.attach(k);
        k.cpu(0).irqEnter();
        k.cpu(0).raiseSoftirq(SoftirqVector.TIMER);
        k.cpu(0).irqExit();
        assertEquals("vec=1 [action=TIMER]", log.only("softirq_entry").body());
        assertEquals("..s.", log.only("softirq_entry").irqInfo(), "run by irq_exit(): preempt depth of the task");
        assertEquals("..s.", log.only("softirq_exit").irqInfo());
        assertEquals("d.h.", log.only("softirq_raise").irqInfo());

        log.clear();
        k.cpu(0).localBhDisable();
        k.cpu(0).raiseSoftirq(SoftirqVector.RCU);
        k.cpu(0).localBhEnable();
        assertEquals("vec=9 [action=RCU]", log.only("softirq_entry").body());
        assertEquals("..s1", log.only("softirq_entry").irqInfo(),
                "run by __local_bh_enable_ip(), which keeps 1 in preempt_count while serving");
    }

    @Test
    @DisplayName("a hardirq taken while a softirq is served: 'H'; its softirq waits for __do_softirq's restart")
    void hardirqWhileServingASoftirqShowsH() {
        Kernel k = boot(1);
        k.cpu(0).run(Pid.INIT);
        TraceLog log = TraceLog.attach(k);
        boolean[] interrupted = {false};
        log.watch(e -> {
            if (e.line().event().equals("softirq_entry") && !interrupted[0]) {
                // __do_softirq runs the handlers with irqs on: an interrupt can come in here
                interrupted[0] = true;
                k.cpu(0).irqEnter();
                k.cpu(0).raiseSoftirq(SoftirqVector.RCU);
                k.cpu(0).irqExit();
            }
        });
        k.cpu(0).irqEnter();
        k.cpu(0).raiseSoftirq(SoftirqVector.TIMER);
        k.cpu(0).irqExit();

        assertEquals(List.of("softirq_raise d.h. vec=1 [action=TIMER]", "softirq_entry ..s. vec=1 [action=TIMER]",
                "softirq_raise d.H. vec=9 [action=RCU]", "softirq_exit ..s. vec=1 [action=TIMER]",
                "softirq_entry ..s. vec=9 [action=RCU]", "softirq_exit ..s. vec=9 [action=RCU]"),
                log.lines().stream().map(l -> l.event() + " " + l.irqInfo() + " " + l.body()).toList());
        assertEquals(0, k.cpu(0).preemptCount().value());
    }

    // ---- sched_switch ----

    /** {@code sched_switch}'s TP_printk. */
    private static String switchBody(Kernel k, long prev, String state, long next) {
        return String.format("prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s ==> next_comm=%s next_pid=%d"
                + " next_prio=%d", k.task(prev).comm(), k.task(prev).pid(), k.task(prev).prio(), state,
                k.task(next).comm(), k.task(next).pid(), k.task(next).prio());
    }

    /**
     * The irq-info of {@code sched_switch}: irqs off, need-resched already cleared
     * ({@code clear_tsk_need_resched(prev)} comes first), and with CONFIG_PREEMPT_COUNT depth 2 (schedule()'s
     * preempt_disable and the rq lock).
     */
    private String switchIrqInfo() {
        return "d.." + depth(facts().forkPreemptCount());
    }

    @Test
    @DisplayName("sched_switch is written by prev on its CPU, exactly as 4.19 prints it")
    void schedSwitchLineIsExactlyThe419Format() {
        Kernel k = boot(1);
        TraceLog log = TraceLog.attach(k);
        k.advanceClock(5_000_042_000L - k.clock());
        long idle = k.cpu(0).idleTask().address();
        k.cpu(0).run(Pid.INIT);
        assertEquals(List.of(String.format(
                "%16s-%-5d [%03d] %s %5d.%06d: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R"
                        + " ==> next_comm=init next_pid=1 next_prio=120", "<idle>", 0, 0, switchIrqInfo(), 5, 42)),
                log.lines().stream().map(FtraceLine::text).toList());
        assertEquals(switchBody(k, idle, "R", task(k, 1)), log.only("sched_switch").body());
    }

    /** A way of leaving the CPU, and the prev_state it prints. */
    private record Leaving(String how, String state) {
    }

    @TestFactory
    @DisplayName("__trace_sched_switch_state: R yield, R+ preempted, S sleeping, D uninterruptible, Z zombie, X dead")
    Stream<DynamicTest> prevStateLetters() {
        return Stream.of(new Leaving("schedule() while TASK_RUNNING", "R"), new Leaving("preempted", "R+"),
                new Leaving("sleep (TASK_INTERRUPTIBLE)", "S"),
                new Leaving("vfork parent waiting (TASK_KILLABLE)", "D"),
                new Leaving("exit, parent not ignoring SIGCHLD (EXIT_ZOMBIE)", "Z"),
                new Leaving("exit of a thread, autoreaped (EXIT_DEAD)", "X"),
                new Leaving("SCHED_FIFO task preempted: prev_prio is p->prio", "R+"))
                .map(l -> DynamicTest.dynamicTest(l.how() + " -> " + l.state(), () -> {
                    try (Kernel k = bootUnmanaged(1)) {
                        k.cpu(0).run(Pid.INIT);
                        // a thread (CLONE_THREAD) is autoreaped by exit_notify(); a process waits for wait()
                        int pid = l.state().equals("X")
                                ? k.cpu(0).clone(new CloneArgs(EnumSet.of(VM, FS, FILES, SIGHAND, THREAD), 0, 0, 0, 0,
                                        0, 0)).nr()
                                : k.cpu(0).fork().nr();
                        long p = task(k, pid);
                        k.cpu(0).run(Pid.of(pid));
                        if (l.how().startsWith("SCHED_FIFO")) {
                            k.setScheduler(Pid.of(pid), SCHED_FIFO, 10);
                            assertEquals(89, k.task(p).prio(), "prio = MAX_RT_PRIO - 1 - rt_priority");
                        }
                        // read before the switch: a task that dies autoreaped is freed by finish_task_switch
                        String prev = String.format("prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s",
                                k.task(p).comm(), pid, k.task(p).prio(), l.state());
                        TraceLog log = TraceLog.attach(k);
                        switch (l.how()) {
                            case "schedule() while TASK_RUNNING" -> k.cpu(0).schedule();
                            case "sleep (TASK_INTERRUPTIBLE)" -> k.cpu(0).sleep();
                            case "vfork parent waiting (TASK_KILLABLE)" -> k.cpu(0).vfork().nr();
                            default -> {
                                if (l.how().startsWith("exit")) {
                                    k.cpu(0).exit(0);
                                } else {
                                    k.cpu(0).run(Pid.INIT);
                                }
                            }
                        }
                        FtraceLine line = log.only("sched_switch");
                        long next = k.cpu(0).current().address();
                        assertEquals(String.format("%s ==> next_comm=%s next_pid=%d next_prio=%d", prev,
                                k.task(next).comm(), k.task(next).pid(), k.task(next).prio()), line.body());
                        assertEquals(pid, line.pid(), "written by prev, still current");
                        assertEquals(switchIrqInfo(), line.irqInfo());
                    }
                }));
    }

    // ---- wakeups and IPIs ----

    @Test
    @DisplayName("try_to_wake_up: sched_waking then sched_wakeup (comm pid prio target_cpu=%03d), written by the waker")
    void wakeupLines() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        int cpu = k.task(task(k, pid)).cpu();
        k.cpu(cpu).run(Pid.of(pid));
        k.cpu(cpu).sleep();
        k.cpu(1 - cpu).run(Pid.KTHREADD);
        TraceLog log = TraceLog.attach(k);

        k.cpu(1 - cpu).wakeUp(Pid.of(pid));

        List<FtraceLine> lines = log.lines().stream().filter(l -> l.event().startsWith("sched_wak")).toList();
        String body = String.format("comm=init pid=%d prio=120 target_cpu=%03d", pid, cpu);
        assertEquals(List.of("sched_waking", "sched_wakeup"), lines.stream().map(FtraceLine::event).toList());
        for (FtraceLine line : lines) {
            assertEquals(body, line.body());
            assertEquals(1 - cpu, line.cpu());
            assertEquals("kthreadd", line.comm());
            assertEquals('d', line.irqInfo().charAt(0), "under p->pi_lock, irqs off");
        }
        assertEquals("d.." + depth(facts().preemptDisableOffset()), lines.getFirst().irqInfo(),
                "sched_waking under raw_spin_lock_irqsave(&p->pi_lock)");
    }

    /** {@code %*pb} of a one-CPU mask of nr_cpumask_bits (NR_CPUS) bits: hex in 32-bit groups, comma separated. */
    private String cpumask(int cpu) {
        int bits = facts().maxCpus();
        StringBuilder s = new StringBuilder();
        for (int chunk = (bits - 1) / 32; chunk >= 0; chunk--) {
            int width = chunk == (bits - 1) / 32 ? ((bits - 1) % 32) / 4 + 1 : 8;
            long value = cpu / 32 == chunk ? 1L << (cpu % 32) : 0;
            s.append(String.format("%0" + width + "x", value));
            if (chunk > 0) {
                s.append(',');
            }
        }
        return s.toString();
    }

    @Test
    @DisplayName("smp_send_reschedule: ipi_raise on the sender; handle_IPI(IPI_RESCHEDULE): ipi_entry/ipi_exit on the target, not in hardirq")
    void rescheduleIpiLines() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        if (k.task(task(k, pid)).cpu() != 0) {
            k.migrate(Pid.of(pid), 0);
        }
        k.cpu(0).run(Pid.of(pid));
        k.cpu(0).sleep();
        k.cpu(0).run(Pid.INIT);
        k.setScheduler(Pid.of(pid), SCHED_FIFO, 10);
        k.cpu(1).run(Pid.KTHREADD);
        TraceLog log = TraceLog.attach(k);

        k.cpu(1).wakeUp(Pid.of(pid));

        FtraceLine raise = log.only("ipi_raise");
        assertEquals("target_mask=" + cpumask(0) + " (Rescheduling interrupts)", raise.body());
        assertEquals(1, raise.cpu());
        assertEquals('d', raise.irqInfo().charAt(0));
        assertEquals(List.of(), log.events("ipi_entry"), "not delivered before the target CPU runs");

        k.cpu(0).step();

        FtraceLine entry = log.only("ipi_entry");
        FtraceLine exit = log.only("ipi_exit");
        assertEquals("(Rescheduling interrupts)", entry.body());
        assertEquals("(Rescheduling interrupts)", exit.body());
        assertEquals(0, entry.cpu());
        assertEquals("init", entry.comm(), "the interrupted task");
        // scheduler_ipi() takes no irq_enter() when it has no wake_list to run: no 'h'
        assertEquals("dn..", entry.irqInfo());
        assertEquals("dn..", exit.irqInfo());
        assertTrue(log.lines().indexOf(exit) < log.lines().indexOf(log.only("sched_switch")),
                "the switch happens on the way out of the interrupt");
    }

    @Test
    @DisplayName("every line's comm-pid [cpu] is that CPU's current task when the line is written")
    void everyLineIsWrittenByItsCpusCurrent() {
        Kernel k = boot(3);
        TraceLog log = TraceLog.attach(k);
        k.cpu(0).run(Pid.INIT);
        k.cpu(1).run(Pid.KTHREADD);
        int child = k.cpu(0).fork().nr();
        for (int i = 0; i < 3; i++) {
            k.cpu(0).fork();
        }
        k.cpu(0).run(Pid.of(child));
        k.cpu(0).exit(0);
        for (int i = 0; i < 12; i++) {
            k.tickAll();
        }
        assertTrue(log.entries().size() > 10, log.toString());
        for (TraceLog.Entry e : log.entries()) {
            int pid = k.task(e.current()).pid();
            // __trace_find_cmdline: <idle> for pid 0, else the comm saved when the task was switched to
            assertEquals(pid == 0 ? "<idle>" : k.task(e.current()).comm(), e.line().comm(), e.line().text());
            assertEquals(k.task(e.current()).pid(), e.line().pid(), e.line().text());
        }
        Set<String> events = log.lines().stream().map(FtraceLine::event).collect(Collectors.toSet());
        assertTrue(events.containsAll(Set.of("sched_switch", "task_newtask", "sched_process_fork", "sched_wakeup_new",
                "sched_process_exit")), events.toString());
    }

    // ---- the context prefix's comm: __trace_find_cmdline and the saved cmdlines ----

    @Test
    @DisplayName("__trace_find_cmdline(0): the idle task's lines are prefixed <idle>-0 while its comm in event fields stays swapper/N")
    void theIdleTaskIsIdleInThePrefix() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        int cpu = k.task(task(k, pid)).cpu();
        TraceLog log = TraceLog.attach(k);

        k.cpu(cpu).run(Pid.of(pid));

        FtraceLine sw = log.only("sched_switch");
        assertEquals("<idle>", sw.comm());
        assertEquals(0, sw.pid());
        assertTrue(sw.text().startsWith(String.format("%16s-%-5d [%03d] ", "<idle>", 0, cpu)), sw.text());
        assertEquals("swapper/" + cpu, sw.field("prev_comm"));
    }

    @Test
    @DisplayName("trace_save_cmdline: a prefix shows the comm saved at the task's last switch; exec's new comm shows from the next one")
    void aPrefixShowsTheCommSavedAtTheLastSwitch() {
        Kernel k = boot(1);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        k.cpu(0).run(Pid.of(pid));
        k.cpu(0).exec("worker");
        TraceLog log = TraceLog.attach(k);

        k.cpu(0).fork();

        FtraceLine newtask = log.events("task_newtask").getFirst();
        assertEquals("init", newtask.comm(), "saved when it was switched to, before the exec");
        assertEquals("worker", newtask.field("comm"), "the event's field is read from the task now");

        k.cpu(0).run(Pid.INIT);
        k.cpu(0).run(Pid.of(pid));
        log.clear();
        k.cpu(0).fork();
        assertEquals("worker", log.events("task_newtask").getFirst().comm(), "saved again by the switch to it");
    }

    @Test
    @DisplayName("trace_save_cmdline: 128 slots (SAVED_CMDLINES_DEFAULT) reused round-robin; a task whose slot went to newer pids is <...> in the prefix")
    void aRecycledSlotPrintsDots() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int running = k.cpu(0).fork().nr();
        if (k.task(task(k, running)).cpu() != 1) {
            k.migrate(Pid.of(running), 1);
        }
        k.cpu(1).run(Pid.of(running));
        for (int i = 0; i < SAVED_CMDLINES; i++) {
            int child = k.cpu(0).fork().nr();
            k.cpu(0).run(Pid.of(child));
            k.cpu(0).exit(0);
            k.cpu(0).run(Pid.INIT);
            assertEquals(child, reap(k, 0, child));
        }
        TraceLog log = TraceLog.attach(k);

        k.cpu(1).as(Pid.of(running)).fork();

        FtraceLine newtask = log.events("task_newtask").getFirst();
        assertEquals(running, newtask.pid());
        assertEquals("<...>", newtask.comm(), SAVED_CMDLINES + " newer pids took every slot");
        assertEquals("init", log.events("task_newtask").getFirst().field("comm"));
    }

    /** {@code SAVED_CMDLINES_DEFAULT} (kernel/trace/trace.c). */
    private static final int SAVED_CMDLINES = 128;

    @Test
    @DisplayName("Cpu.run of a task queued on another CPU: set_task_cpu's sched_migrate_task, then the forced __schedule(true), R+")
    void runOfAQueuedTaskElsewhereIsTraced() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        int from = k.task(task(k, pid)).cpu();
        int to = 1 - from;
        if (to != 0) {
            k.cpu(to).run(Pid.KTHREADD);
        }
        TraceLog log = TraceLog.attach(k);

        k.cpu(to).run(Pid.of(pid));

        FtraceLine migrate = log.only("sched_migrate_task");
        assertEquals(String.format("comm=init pid=%d prio=120 orig_cpu=%d dest_cpu=%d", pid, from, to), migrate.body());
        FtraceLine sw = log.only("sched_switch");
        assertTrue(sw.body().contains(" prev_state=R+ ==> "), sw.text());
        assertTrue(log.lines().indexOf(migrate) < log.lines().indexOf(sw));
    }
}
