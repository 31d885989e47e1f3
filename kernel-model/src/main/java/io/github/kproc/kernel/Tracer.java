package io.github.kproc.kernel;

import org.jspecify.annotations.Nullable;

/**
 * ftrace output in the exact v4.19 text format of the {@code trace} file with default options: the
 * context prefix {@code "%16s-%-5d [%03d] "}, the four irq-info characters, {@code " %5lu.%06lu: "},
 * then {@code "event: "} and the event's TP_printk text, or a function-tracer line
 * {@code "func <-parent"}. Lines are written as the events happen, as {@code trace_pipe} gives them.
 *
 * <p>The prefix names the task that was current on the CPU by its pid and by the comm ftrace's saved
 * cmdlines hold for that pid ({@code __trace_find_cmdline}): {@code <idle>-0} for the idle tasks
 * (whose {@code comm} inside event fields stays {@code swapper/N}), and {@code <...>} for a pid whose
 * entry was recycled (the cache holds 128) or above {@code PID_MAX_DEFAULT}. The cache is filled at
 * every {@code sched_switch} (prev and next) and {@code sched_wakeup}/{@code sched_wakeup_new} (the
 * waker), so a comm changed by exec shows in prefixes from the task's next switch.
 *
 * <p>The events, each as its {@code TP_printk} in v4.19 prints it:
 * <ul>
 * <li>{@code include/trace/events/task.h}: {@code task_newtask} (copy_process);</li>
 * <li>{@code include/trace/events/sched.h}: {@code sched_process_fork} (_do_fork),
 *     {@code sched_wakeup_new} (wake_up_new_task), {@code sched_waking} and {@code sched_wakeup}
 *     (try_to_wake_up), {@code sched_switch} (__schedule), {@code sched_migrate_task}
 *     (set_task_cpu of a migration), {@code sched_process_exit} (do_exit) and {@code sched_process_free}
 *     (delayed_put_task_struct);</li>
 * <li>{@code include/trace/events/irq.h}: {@code softirq_raise}, {@code softirq_entry} and
 *     {@code softirq_exit};</li>
 * <li>{@code include/trace/events/ipi.h}: {@code ipi_raise} (smp_send_reschedule), {@code ipi_entry}
 *     and {@code ipi_exit} (handle_IPI of IPI_RESCHEDULE).</li>
 * </ul>
 *
 * <p>{@code sched_switch}'s {@code prev_state} follows v4.19.13 and later, not 4.19.0 .. 4.19.12: those
 * releases record {@code 1 << task_state_index(prev)} in {@code __trace_sched_switch_state} and so print
 * every letter shifted by one bit ({@code D} for a task sleeping in TASK_INTERRUPTIBLE, {@code S} for a
 * running one), a bug 4.19.13 fixed ({@code state ? 1 << (state - 1) : 0}). The model prints the
 * corrected letters, as the real board of the seed scenarios shows them ({@code prev_state=D} for a
 * kthread sleeping uninterruptibly); everything else follows 4.19.1. A preempted task is {@code R+}.
 *
 * <p>A kernel without a tracer pays one null check per event.
 *
 * <p><b>A sink that throws.</b> An exception (or error, an {@link AssertionError} of a test among
 * them) thrown by the {@link TraceSink} does not interrupt the kernel operation that emitted the line:
 * the tracer keeps the first one, the operation runs to its end (its effects stand: a fork whose sink
 * threw has created the child, an exit has made the zombie), and the public call that made the
 * operation ({@link Kernel} or {@link Cpu}) then throws that exception as it was thrown. Lines after
 * the first failure are still offered to the sink. If the operation itself fails (a
 * {@link io.github.kproc.KernelException}, say), it is rolled back as always and its exception is
 * thrown with the sink's attached as {@linkplain Throwable#getSuppressed() suppressed}. A sink that
 * throws during {@link Kernel.Builder#boot()} makes the boot fail after releasing the machine's memory.
 * Either way every CPU's irq mask and preempt count and the model's memory are consistent when the
 * exception arrives.
 */
public final class Tracer {
    private final TraceSink sink;
    private final boolean functions;
    private final StringBuilder line = new StringBuilder(160);
    /** The first exception the sink threw since the last {@link #takeFailure()}, kept for the caller. */
    private @Nullable Throwable failure;

    private Tracer(TraceSink sink, boolean functions) {
        this.sink = sink;
        this.functions = functions;
    }

    /** A tracer with every event enabled, writing to {@code sink}. */
    public static Tracer events(TraceSink sink) {
        return new Tracer(sink, false);
    }

    /** Events plus function-trace lines for the fork pipeline's steps ({@code copy_process <-_do_fork}). */
    public static Tracer eventsAndFunctions(TraceSink sink) {
        return new Tracer(sink, true);
    }

    /** True if function-trace lines are written. */
    public boolean functions() {
        return functions;
    }

    /** The header the {@code trace} file starts with ({@code print_func_help_header_irq}), lines joined by newlines. */
    public String header() {
        return "# tracer: " + (functions ? "function" : "nop") + "\n"
                + "#\n"
                + "#                              _-----=> irqs-off\n"
                + "#                             / _----=> need-resched\n"
                + "#                            | / _---=> hardirq/softirq\n"
                + "#                            || / _--=> preempt-depth\n"
                + "#                            ||| /     delay\n"
                + "#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION\n"
                + "#              | |       |   ||||       |         |";
    }

    /** Starts a line: the context prefix. Returns the builder to append the event to; finish with {@link #emit()}. */
    StringBuilder begin(String comm, int pid, int cpu, int irqFlags, int preemptCount, long nanos) {
        StringBuilder s = line;
        s.setLength(0);
        for (int i = comm.length(); i < 16; i++) {
            s.append(' ');
        }
        s.append(comm).append('-');
        int start = s.length();
        s.append(pid);
        while (s.length() - start < 5) {
            s.append(' ');
        }
        s.append(" [");
        if (cpu < 100) {
            s.append('0');
        }
        if (cpu < 10) {
            s.append('0');
        }
        s.append(cpu).append("] ");
        latencyFormat(s, irqFlags, preemptCount);
        long micros = nanos / 1000;
        long seconds = micros / 1_000_000;
        long fraction = micros % 1_000_000;
        s.append(' ');
        String sec = Long.toString(seconds);
        for (int i = sec.length(); i < 5; i++) {
            s.append(' ');
        }
        s.append(sec).append('.');
        String frac = Long.toString(fraction);
        for (int i = frac.length(); i < 6; i++) {
            s.append('0');
        }
        s.append(frac).append(": ");
        return s;
    }

    /**
     * Gives the line to the sink. What the sink throws is kept, not propagated: an exception in the
     * middle of a kernel operation would leave it half done (irqs masked, a preempt count raised, a
     * task counted but not linked). The public entry point rethrows it once the operation is complete.
     */
    void emit() {
        try {
            sink.line(line.toString());
        } catch (RuntimeException | Error e) {
            if (failure == null) {
                failure = e;
            }
        }
    }

    /** The sink's first exception since the last call, cleared; null if it threw none. */
    @Nullable Throwable takeFailure() {
        Throwable f = failure;
        failure = null;
        return f;
    }

    /** {@code TRACE_FLAG_IRQS_OFF}. */
    static final int IRQS_OFF = 0x01;
    /** {@code TRACE_FLAG_NEED_RESCHED}. */
    static final int NEED_RESCHED = 0x04;
    /** {@code TRACE_FLAG_HARDIRQ}. */
    static final int HARDIRQ = 0x08;
    /** {@code TRACE_FLAG_SOFTIRQ}. */
    static final int SOFTIRQ = 0x10;
    /** {@code TRACE_FLAG_PREEMPT_RESCHED}. */
    static final int PREEMPT_RESCHED = 0x20;
    /** {@code TRACE_FLAG_NMI}. */
    static final int NMI = 0x40;

    /** {@code trace_print_lat_fmt}: irqs-off, need-resched, hardirq/softirq, preempt-depth. */
    static void latencyFormat(StringBuilder s, int flags, int preemptCount) {
        s.append((flags & IRQS_OFF) != 0 ? 'd' : '.');
        boolean nr = (flags & NEED_RESCHED) != 0;
        boolean pr = (flags & PREEMPT_RESCHED) != 0;
        s.append(nr && pr ? 'N' : nr ? 'n' : pr ? 'p' : '.');
        boolean nmi = (flags & NMI) != 0;
        boolean hard = (flags & HARDIRQ) != 0;
        boolean soft = (flags & SOFTIRQ) != 0;
        s.append(nmi && hard ? 'Z' : nmi ? 'z' : hard && soft ? 'H' : hard ? 'h' : soft ? 's' : '.');
        int depth = preemptCount & 0xff;
        if (depth == 0) {
            s.append('.');
        } else {
            s.append(Integer.toHexString(depth));
        }
    }

    /** The irq-info flags {@code tracing_generic_entry_update} records for a preempt count. */
    static int flags(boolean irqsOff, boolean needResched, int preemptCount) {
        int f = 0;
        if (irqsOff) {
            f |= IRQS_OFF;
        }
        if ((preemptCount & 0x100000) != 0) {
            f |= NMI;
        }
        if ((preemptCount & 0xf0000) != 0) {
            f |= HARDIRQ;
        }
        if ((preemptCount & 0x100) != 0) {
            f |= SOFTIRQ;
        }
        if (needResched) {
            f |= NEED_RESCHED;
        }
        return f;
    }
}
