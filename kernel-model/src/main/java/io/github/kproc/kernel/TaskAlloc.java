package io.github.kproc.kernel;

import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.VmallocArea;

/**
 * The lifetime of a task_struct and its stack ({@code kernel/fork.c}): {@code alloc_thread_stack_node}
 * (pages, or vmalloc with VMAP_STACK), {@code put_task_stack}, {@code free_task}, the usage count and
 * {@code __put_task_struct}.
 */
final class TaskAlloc {
    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;
    private final Cred cred;
    private final int stackOrder;
    /** {@code mm/vmalloc.c}'s stack areas with CONFIG_VMAP_STACK, else null. */
    final @org.jspecify.annotations.Nullable Vmalloc vmalloc;

    TaskAlloc(Machine mc, Cred cred) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
        this.cred = cred;
        this.stackOrder = Long.numberOfTrailingZeros(mc.platform.threadSize())
                - Integer.numberOfTrailingZeros(mc.platform.pageSize());
        VmallocArea area = mc.mem.vmalloc();
        this.vmalloc = mc.platform.vmapStack() && area != null && f.task.stackVmArea >= 0
                && mc.platform.profile().find("vmap_area").isPresent() && mc.platform.profile().find("vm_struct").isPresent()
                ? new Vmalloc(mc, area) : null;
    }

    /**
     * {@code alloc_thread_stack_node(tsk)}: a zeroed THREAD_SIZE stack (THREADINFO_GFP has __GFP_ZERO),
     * or 0. With VMAP_STACK it is {@code __vmalloc_node_range}'s and {@code tsk->stack_vm_area} is set
     * to its {@code vm_struct} ({@code find_vm_area}); {@code tsk} 0 is init_thread_union's stack, whose
     * task has no stack_vm_area.
     */
    long allocThreadStack(long tsk) {
        long stack;
        if (mc.platform.vmapStack()) {
            VmallocArea area = mc.mem.vmalloc();
            if (mc.faults.allocation() || area == null) {
                return 0;
            }
            Vmalloc v = vmalloc;
            if (v != null) {
                long vm = v.vmallocNodeRange(mc.platform.threadSize());
                stack = vm == 0 ? 0 : m.readPointer(vm + v.vmAddr);
                if (vm != 0 && tsk != 0) {
                    m.writePointer(tsk + f.task.stackVmArea, vm);
                }
            } else {
                stack = area.vmalloc(mc.platform.threadSize());
            }
        } else {
            stack = mc.allocPages(stackOrder);
        }
        if (stack != 0) {
            m.fill(stack, mc.platform.threadSize(), (byte) 0);
        }
        return stack;
    }

    /** {@code free_thread_stack}: {@code vfree_atomic} of a vmalloc'ed stack, else its pages. */
    private void freeThreadStack(long stack) {
        if (mc.platform.vmapStack()) {
            Vmalloc v = vmalloc;
            if (v != null) {
                v.vfree(stack);
            } else {
                mc.mem.vmalloc().vfree(stack);
            }
        } else {
            mc.mem.pages().freePages(stack, stackOrder);
        }
    }

    /**
     * {@code put_task_stack(p)}: with THREAD_INFO_IN_TASK the stack has its own refcount and goes back
     * when it drops to zero; without it the stack lives as long as the task_struct.
     */
    void putTaskStack(long p) {
        if (f.task.stackRefcount < 0) {
            return;
        }
        int ref = m.readInt(p + f.task.stackRefcount) - 1;
        m.writeInt(p + f.task.stackRefcount, ref);
        if (ref == 0) {
            // release_task_stack: free_thread_stack, then stack and stack_vm_area NULL
            freeThreadStack(m.readPointer(p + mc.o.taskStack));
            m.writePointer(p + mc.o.taskStack, 0);
            if (vmalloc != null) {
                m.writePointer(p + f.task.stackVmArea, 0);
            }
        }
    }

    /** {@code free_task(p)}: the stack (without THREAD_INFO_IN_TASK) and the task_struct. */
    void freeTask(long p) {
        if (f.task.stackRefcount < 0) {
            freeThreadStack(m.readPointer(p + mc.o.taskStack));
        }
        mc.taskCache.free(p);
    }

    /**
     * {@code delayacct_tsk_init(tsk)} (copy_process): a zeroed task_delay_info, its lock unlocked. Its
     * failure is no error (the task runs without delay accounting), so it is not a fault-injection point.
     */
    void delayacctTskInit(long tsk) {
        if (mc.delayacctCache != null) {
            m.writePointer(tsk + mc.taskDelays, mc.delayacctCache.zalloc());
        }
    }

    /** {@code delayacct_tsk_free(tsk)}: the task_delay_info back to its cache. */
    void delayacctTskFree(long tsk) {
        if (mc.delayacctCache != null) {
            long delays = m.readPointer(tsk + mc.taskDelays);
            if (delays != 0) {
                mc.delayacctCache.free(delays);
            }
            m.writePointer(tsk + mc.taskDelays, 0);
        }
    }

    /** {@code get_task_struct}. */
    void getTaskStruct(long p) {
        m.writeInt(p + mc.o.taskUsage, m.readInt(p + mc.o.taskUsage) + 1);
    }

    /** {@code put_task_struct}: {@code __put_task_struct} when the last reference goes. */
    void putTaskStruct(long p) {
        int usage = m.readInt(p + mc.o.taskUsage) - 1;
        m.writeInt(p + mc.o.taskUsage, usage);
        if (usage == 0) {
            putTaskStructFinal(p);
        }
    }

    /**
     * {@code __put_task_struct(tsk)}: the creds, the signal_struct reference ({@code put_signal_struct}),
     * then {@code free_task}.
     */
    private void putTaskStructFinal(long tsk) {
        cred.exitCreds(tsk);
        delayacctTskFree(tsk);
        long sig = m.readPointer(tsk + f.task.signal);
        int sigcnt = m.readInt(sig + f.signal.sigcnt) - 1;
        m.writeInt(sig + f.signal.sigcnt, sigcnt);
        if (sigcnt == 0) {
            mc.signalCache.free(sig);
        }
        freeTask(tsk);
    }
}
