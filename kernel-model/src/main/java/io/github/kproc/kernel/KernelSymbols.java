package io.github.kproc.kernel;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The kernel text symbols the model refers to (return addresses, kernel thread functions), at
 * addresses of the model's own image: functions {@value #STRIDE} bytes apart from {@code _text}
 * + 1 MiB. Real addresses depend on the build's System.map; these only need to be stable, inside
 * the kernel text and symbolizable.
 */
final class KernelSymbols {
    static final int STRIDE = 0x400;
    private static final List<String> NAMES = List.of("ret_from_fork", "schedule_tail", "__schedule", "schedule",
            "kernel_init", "kthreadd", "kthread", "worker_thread", "do_idle", "cpu_startup_entry", "_do_fork",
            "copy_process", "do_exit", "do_group_exit", "sys_clone", "sys_fork", "sys_vfork", "ret_fast_syscall",
            "rest_init", "start_kernel", "smpboot_thread_fn", "call_usermodehelper_exec_async", "kernel_thread",
            "sys_exit", "fair_sched_class", "rt_sched_class", "idle_sched_class", "default_wake_function",
            "child_wait_callback", "it_real_fn", "utsns_operations", "userns_operations", "ipcns_operations",
            "mntns_operations", "cgroupns_operations", "netns_operations", "pidns_operations",
            "delayed_put_task_struct", "call_rcu_sched", "call_rcu", "rcu_process_callbacks", "dl_task_timer",
            "inactive_task_timer", "ktime_get", "ktime_get_real", "ktime_get_boottime", "ktime_get_clocktai");

    private final long base;

    /** @param text the address of {@code _text} */
    KernelSymbols(long text) {
        this.base = text + 0x100000;
    }

    /** Every function name, in address order. */
    static List<String> names() {
        return NAMES;
    }

    long address(String name) {
        int i = NAMES.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("no symbol " + name);
        }
        return base + (long) i * STRIDE;
    }

    /** {@code name+0xoff} for an address inside a known function, or null. */
    @Nullable String symbolize(long address) {
        long off = address - base;
        if (off < 0 || off >= (long) NAMES.size() * STRIDE) {
            return null;
        }
        int i = (int) (off / STRIDE);
        long within = off % STRIDE;
        return within == 0 ? NAMES.get(i) : NAMES.get(i) + "+0x" + Long.toHexString(within);
    }

    /** The name of the function starting exactly at {@code address}, or null. */
    @Nullable String function(long address) {
        long off = address - base;
        if (off < 0 || off % STRIDE != 0 || off / STRIDE >= NAMES.size()) {
            return null;
        }
        return NAMES.get((int) (off / STRIDE));
    }
}
