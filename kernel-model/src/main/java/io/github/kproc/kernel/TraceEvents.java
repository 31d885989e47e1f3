package io.github.kproc.kernel;

import io.github.kproc.arch.Offsets;
import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;

/**
 * The trace events of {@code include/trace/events/sched.h}, {@code task.h}, {@code irq.h} and
 * {@code ipi.h} the model emits, each formatted as its {@code TP_printk} prints it, behind the
 * context prefix of the current task of the CPU that emits it: its pid and the comm
 * {@code __trace_find_cmdline} finds for that pid in the saved cmdlines ({@code <idle>} for pid 0),
 * which the switch and wakeup probes fill. Without a tracer each event costs one null check.
 */
final class TraceEvents {
    private final Machine mc;
    private final AddressSpace m;
    private final Platform platform;
    private final Offsets o;
    private final Fields f;

    TraceEvents(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        this.platform = mc.platform;
        this.o = mc.o;
        this.f = mc.f;
    }

    private StringBuilder begin(int cpu) {
        long current = mc.current(cpu);
        long ti = platform.taskThreadInfo(m, current);
        int pc = m.readInt(ti + o.tiPreemptCount);
        boolean needResched = (m.readPointer(ti + o.tiFlags) & (1L << Machine.TIF_NEED_RESCHED)) != 0;
        int flags = Tracer.flags(mc.irqsOff[cpu], needResched, pc);
        int pid = m.readInt(current + o.taskPid);
        return mc.tracer.begin(mc.cmdlines.find(pid), pid, cpu, flags, pc, mc.clock);
    }

    /** {@code tracing_record_cmdline(tsk)}: the task's comm into the saved cmdlines. */
    void recordCmdline(long task) {
        mc.cmdlines.save(m.readInt(task + o.taskPid), task + o.taskComm);
    }

    void function(int cpu, String function, String parent) {
        Tracer t = mc.tracer;
        if (t == null || !t.functions()) {
            return;
        }
        begin(cpu).append(function).append(" <-").append(parent);
        t.emit();
    }

    void processFork(int cpu, long parent, long child) {
        Tracer t = mc.tracer;
        if (t == null) {
            return;
        }
        begin(cpu).append("sched_process_fork: comm=").append(mc.comm(parent)).append(" pid=")
                .append(m.readInt(parent + o.taskPid)).append(" child_comm=").append(mc.comm(child))
                .append(" child_pid=").append(m.readInt(child + o.taskPid));
        t.emit();
    }

    void newTask(int cpu, long p, long flags) {
        Tracer t = mc.tracer;
        if (t == null) {
            return;
        }
        begin(cpu).append("task_newtask: pid=").append(m.readInt(p + o.taskPid)).append(" comm=")
                .append(mc.comm(p)).append(" clone_flags=").append(Long.toHexString(flags)).append(" oom_score_adj=")
                .append(m.readShort(m.readPointer(p + f.task.signal) + f.signal.oomScoreAdj));
        t.emit();
    }

    void wakeupNew(int cpu, long p, int targetCpu) {
        recordCmdline(mc.current(cpu));
        Tracer t = mc.tracer;
        if (t == null) {
            return;
        }
        StringBuilder s = begin(cpu).append("sched_wakeup_new: comm=").append(mc.comm(p)).append(" pid=")
                .append(m.readInt(p + o.taskPid)).append(" prio=").append(m.readInt(p + o.taskPrio))
                .append(" target_cpu=");
        if (targetCpu < 100) {
            s.append('0');
        }
        if (targetCpu < 10) {
            s.append('0');
        }
        s.append(targetCpu);
        t.emit();
    }

    void switchTo(int cpu, boolean preempt, long prev, long next) {
        // probe_sched_switch -> tracing_record_taskinfo_sched_switch, registered before the event
        recordCmdline(prev);
        recordCmdline(next);
        Tracer t = mc.tracer;
        if (t == null) {
            return;
        }
        StringBuilder s = begin(cpu).append("sched_switch: prev_comm=").append(mc.comm(prev)).append(" prev_pid=")
                .append(m.readInt(prev + o.taskPid)).append(" prev_prio=").append(m.readInt(prev + o.taskPrio))
                .append(" prev_state=");
        if (preempt) {
            s.append("R+");
        } else {
            int state = (int) ((m.readPointer(prev + o.taskState) | m.readInt(prev + o.taskExitState)) & 0x7f);
            if (m.readPointer(prev + o.taskState) == 0x402) {
                state = 0x80;
            }
            int index = 32 - Integer.numberOfLeadingZeros(state);
            s.append(index == 0 ? "R" : String.valueOf("SDTtXZPI".charAt(index - 1)));
        }
        s.append(" ==> next_comm=").append(mc.comm(next)).append(" next_pid=").append(m.readInt(next + o.taskPid))
                .append(" next_prio=").append(m.readInt(next + o.taskPrio));
        t.emit();
    }

    void processExit(int cpu, long p, String event) {
        Tracer t = mc.tracer;
        if (t == null) {
            return;
        }
        begin(cpu).append(event).append(": comm=").append(mc.comm(p)).append(" pid=")
                .append(m.readInt(p + o.taskPid)).append(" prio=").append(m.readInt(p + o.taskPrio));
        t.emit();
    }

    void wakeup(int cpu, String event, long p, int targetCpu) {
        if (event.equals("sched_wakeup")) {
            // probe_sched_wakeup: the waker
            recordCmdline(mc.current(cpu));
        }
        Tracer t = mc.tracer;
        if (t == null) {
            return;
        }
        StringBuilder s = begin(cpu).append(event).append(": comm=").append(mc.comm(p)).append(" pid=")
                .append(m.readInt(p + o.taskPid)).append(" prio=").append(m.readInt(p + o.taskPrio))
                .append(" target_cpu=");
        appendCpu(s, targetCpu);
        t.emit();
    }

    void migrate(int cpu, long p, int from, int to) {
        Tracer t = mc.tracer;
        if (t == null) {
            return;
        }
        begin(cpu).append("sched_migrate_task: comm=").append(mc.comm(p)).append(" pid=")
                .append(m.readInt(p + o.taskPid)).append(" prio=").append(m.readInt(p + o.taskPrio))
                .append(" orig_cpu=").append(from).append(" dest_cpu=").append(to);
        t.emit();
    }

    void softirq(int cpu, String event, int vector) {
        Tracer t = mc.tracer;
        if (t == null) {
            return;
        }
        begin(cpu).append(event).append(": vec=").append(vector).append(" [action=")
                .append(Softirq.SOFTIRQ_NAMES[vector]).append(']');
        t.emit();
    }

    /** {@code ipi_raise: target_mask=%s (%s)} (target >= 0) or {@code ipi_entry/ipi_exit: (%s)}. */
    void ipi(int cpu, String event, int target) {
        Tracer t = mc.tracer;
        if (t == null) {
            return;
        }
        StringBuilder s = begin(cpu).append(event).append(": ");
        if (target >= 0) {
            s.append("target_mask=").append(cpumaskString(target)).append(' ');
        }
        s.append("(Rescheduling interrupts)");
        t.emit();
    }

    /** A one-CPU mask as {@code %*pb} prints it: hex in 32-bit groups, comma separated, nr_cpu_ids wide. */
    private String cpumaskString(int cpu) {
        int bits = mc.platform.nrCpus();
        StringBuilder s = new StringBuilder();
        for (int chunk = (bits - 1) / 32; chunk >= 0; chunk--) {
            int width = chunk == (bits - 1) / 32 ? ((bits - 1) % 32) / 4 + 1 : 8;
            long value = cpu / 32 == chunk ? 1L << (cpu % 32) : 0;
            String hex = Long.toHexString(value);
            for (int i = hex.length(); i < width; i++) {
                s.append('0');
            }
            s.append(hex);
            if (chunk > 0) {
                s.append(',');
            }
        }
        return s.toString();
    }

    private static void appendCpu(StringBuilder s, int cpu) {
        if (cpu < 100) {
            s.append('0');
        }
        if (cpu < 10) {
            s.append('0');
        }
        s.append(cpu);
    }
}
