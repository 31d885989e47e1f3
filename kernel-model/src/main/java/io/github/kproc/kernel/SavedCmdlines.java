package io.github.kproc.kernel;

import io.github.kproc.mem.AddressSpace;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * {@code savedcmd} of {@code kernel/trace/trace.c}: the comms ftrace prints in the context prefix of a
 * line are not read from the task but from this cache of {@code SAVED_CMDLINES_DEFAULT} (128) slots,
 * filled by {@code trace_save_cmdline} at every {@code sched_switch} (prev and next) and
 * {@code sched_wakeup}/{@code sched_wakeup_new} (the waker) and read by {@code __trace_find_cmdline}:
 * {@code <idle>} for pid 0, {@code <...>} for a pid above {@code PID_MAX_DEFAULT} or one whose slot was
 * taken by a newer pid. A comm is the one the task had when it was saved (an exec shows in prefixes
 * only from its next switch).
 *
 * <p>The model records from boot on, whether a tracer is attached or not (as a kernel with sched
 * events enabled on its command line does), and at every switch and wakeup (the kernel only after an
 * event was committed on that CPU, which with tracing on is nearly always). The buffer is kmalloc'd
 * in the kernel but its type is not in the profiles' pahole dumps; the model keeps it on the heap,
 * copied comm by comm without allocating.
 */
final class SavedCmdlines {
    /** {@code SAVED_CMDLINES_DEFAULT}. */
    static final int SLOTS = 128;
    /** {@code PID_MAX_DEFAULT}. */
    static final int PID_MAX_DEFAULT = 0x8000;
    private static final int NO_CMDLINE_MAP = -1;

    private final AddressSpace m;
    private final int commLength;
    /** {@code map_pid_to_cmdline}. */
    private final int[] pidToSlot = new int[PID_MAX_DEFAULT + 1];
    /** {@code map_cmdline_to_pid}. */
    private final int[] slotToPid = new int[SLOTS];
    /** {@code saved_cmdlines}: TASK_COMM_LEN bytes a slot. */
    private final byte[] comms;
    /** {@code cmdline_idx}. */
    private int index;

    SavedCmdlines(AddressSpace m, int commLength) {
        this.m = m;
        this.commLength = commLength;
        this.comms = new byte[SLOTS * commLength];
        Arrays.fill(pidToSlot, NO_CMDLINE_MAP);
        Arrays.fill(slotToPid, NO_CMDLINE_MAP);
    }

    /**
     * {@code trace_save_cmdline(tsk)}: the idle task needs no slot; a pid above PID_MAX_DEFAULT gets
     * none; a new pid takes the next slot round-robin, unmapping the pid that had it.
     */
    void save(int pid, long commAddress) {
        if (pid == 0 || pid > PID_MAX_DEFAULT) {
            return;
        }
        int slot = pidToSlot[pid];
        if (slot == NO_CMDLINE_MAP) {
            slot = (index + 1) % SLOTS;
            int old = slotToPid[slot];
            if (old != NO_CMDLINE_MAP) {
                pidToSlot[old] = NO_CMDLINE_MAP;
            }
            slotToPid[slot] = pid;
            pidToSlot[pid] = slot;
            index = slot;
        }
        MemorySegment.copy(m.segment(), ValueLayout.JAVA_BYTE, m.offset(commAddress, commLength), comms,
                slot * commLength, commLength);
    }

    /** {@code __trace_find_cmdline(pid, comm)}. */
    String find(int pid) {
        if (pid == 0) {
            return "<idle>";
        }
        if (pid < 0) {
            return "<XXX>";
        }
        if (pid > PID_MAX_DEFAULT) {
            return "<...>";
        }
        int slot = pidToSlot[pid];
        if (slot == NO_CMDLINE_MAP) {
            return "<...>";
        }
        int start = slot * commLength;
        int end = start;
        while (end < start + commLength - 1 && comms[end] != 0) {
            end++;
        }
        return new String(comms, start, end - start, java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
