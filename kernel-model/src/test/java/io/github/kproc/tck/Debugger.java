package io.github.kproc.tck;

import io.github.kproc.arch.Platform;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.layout.Field;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.TaskStruct;
import java.util.ArrayList;
import java.util.List;

/**
 * What the contracts read and write where the public API has no call for it, done the way a debugger
 * attached to the kernel does: through System.map symbols ({@link Kernel#symbol}) and the profile's
 * member offsets, never through the model's internals. Read-only except where named.
 */
public final class Debugger {
    private final Kernel k;
    private final Platform platform;
    private final AddressSpace m;
    private final Structs s;
    private final int ptr;

    Debugger(Kernel k) {
        this.k = k;
        this.platform = k.platform();
        this.m = k.addressSpace();
        this.s = new Structs(k);
        this.ptr = platform.pointerSize();
    }

    // ---- struct rq (kernel/sched/sched.h), per CPU in the runqueues section ----

    /** {@code cpu_rq(cpu)}: {@code &runqueues + __per_cpu_offset[cpu]}. */
    public long rq(int cpu) {
        return k.symbol("runqueues") + m.readPointer(k.symbol("__per_cpu_offset") + (long) cpu * ptr);
    }

    /** {@code rq->curr} of a CPU, as the scheduler sees it. */
    public long rqCurr(int cpu) {
        return s.ptr(rq(cpu), "rq", "curr");
    }

    /** The tasks queued (runnable, not running) on a CPU's runqueue: RT first, then fair in vruntime order. */
    public List<Long> runQueue(int cpu) {
        return k.cpu(cpu).queued().stream().map(TaskStruct::address).toList();
    }

    // ---- the CFS timeline (kernel/sched/fair.c, lib/rbtree.c) ----

    /** The {@code se.run_node}s of a CPU's {@code cfs_rq->tasks_timeline}, in order (leftmost first). */
    private List<Long> timeline(long root) {
        long left = s.offset("rb_node", "rb_left");
        long right = s.offset("rb_node", "rb_right");
        List<Long> out = new ArrayList<>();
        List<Long> stack = new ArrayList<>();
        long node = m.readPointer(root + s.offset("rb_root_cached", "rb_root.rb_node"));
        while (node != 0 || !stack.isEmpty()) {
            while (node != 0) {
                stack.add(node);
                node = m.readPointer(node + left);
                if (stack.size() > 64) {
                    throw new AssertionError("timeline at 0x" + Long.toHexString(root) + " is too deep");
                }
            }
            node = stack.remove(stack.size() - 1);
            out.add(node);
            if (out.size() > 1 << 20) {
                throw new AssertionError("timeline at 0x" + Long.toHexString(root) + " does not end");
            }
            node = m.readPointer(node + right);
        }
        return out;
    }

    /**
     * Sets a task's {@code se.vruntime}. An entity queued in its CPU's CFS timeline is taken out and
     * put back where {@code __enqueue_entity} would put it with the new key (after every entity whose
     * key is not greater, {@code entity_before} being a signed difference), and the red-black tree is
     * written again, balanced and validly colored, with {@code rb_leftmost} updated: the tree's order is
     * what the scheduler reads; its shape is not observable to the contracts that use this.
     */
    public void setVruntime(long task, long value) {
        long vruntime = s.offset("task_struct", "se.vruntime");
        long runNode = s.offset("task_struct", "se.run_node");
        long root = rq(k.task(task).cpu()) + s.offset("rq", "cfs") + s.offset("cfs_rq", "tasks_timeline");
        List<Long> nodes = timeline(root);
        long node = task + runNode;
        if (!nodes.remove((Long) node)) {
            m.writeLong(task + vruntime, value);
            return;
        }
        m.writeLong(task + vruntime, value);
        int at = nodes.size();
        for (int i = 0; i < nodes.size(); i++) {
            if (value - m.readLong(nodes.get(i) - runNode + vruntime) < 0) {
                at = i;
                break;
            }
        }
        nodes.add(at, node);
        int full = 31 - Integer.numberOfLeadingZeros(nodes.size() + 1);
        long top = build(nodes, 0, nodes.size(), 0, 0, full);
        m.writePointer(root + s.offset("rb_root_cached", "rb_root.rb_node"), top);
        m.writePointer(root + s.offset("rb_root_cached", "rb_leftmost"), nodes.get(0));
    }

    /** Links nodes[lo, hi) as a size-balanced subtree under {@code parent}: black above depth {@code full}, red at it. */
    private long build(List<Long> nodes, int lo, int hi, long parent, int depth, int full) {
        if (lo >= hi) {
            return 0;
        }
        int mid = (lo + hi) >>> 1;
        long node = nodes.get(mid);
        long rbBlack = 1;
        m.writePointer(node + s.offset("rb_node", "__rb_parent_color"), parent | (depth < full ? rbBlack : 0));
        m.writePointer(node + s.offset("rb_node", "rb_left"), build(nodes, lo, mid, node, depth + 1, full));
        m.writePointer(node + s.offset("rb_node", "rb_right"), build(nodes, mid + 1, hi, node, depth + 1, full));
        return node;
    }

    // ---- the pid IDR (kernel/pid.c, lib/idr.c, lib/radix-tree.c) ----

    private long idr(long ns) {
        return ns + s.offset("pid_namespace", "idr");
    }

    /** {@code idr_get_cursor(&ns->idr)}: {@code idr_next}, the number the cyclic allocator tries next. */
    public int idrCursor(long ns) {
        return s.i32(idr(ns), "idr", "idr_next");
    }

    /**
     * The numbers in {@code ns->idr} mapped to a pid, ascending ({@code idr_for_each_entry}): every
     * non-NULL, non-internal slot of the radix tree under {@code idr_rt}, plus {@code idr_base}.
     */
    public List<Integer> idrNumbers(long ns) {
        long base = Integer.toUnsignedLong(s.i32(idr(ns), "idr", "idr_base"));
        long entry = m.readPointer(idr(ns) + s.offset("idr", "idr_rt") + s.offset("radix_tree_root", "rnode"));
        List<Integer> out = new ArrayList<>();
        collect(entry, 0, base, out, 0);
        return out;
    }

    private void collect(long entry, long index, long base, List<Integer> out, int depth) {
        if (entry == 0) {
            return;
        }
        if ((entry & 1) == 0) {
            out.add((int) (index + base));
            if (out.size() > 1 << 22) {
                throw new AssertionError("an IDR does not end");
            }
            return;
        }
        long node = entry & ~1L;
        if (node == 0 || depth > 12) {
            return; // RADIX_TREE_RETRY
        }
        Field slots = platform.profile().field("radix_tree_node", "slots");
        int shift = m.readByte(node + s.offset("radix_tree_node", "shift")) & 0xff;
        long n = slots.size() / ptr;
        for (long i = 0; i < n; i++) {
            collect(m.readPointer(node + slots.offset() + i * ptr), index | (i << shift), base, out, depth + 1);
        }
    }

    /** {@code find_pid_ns(nr, ns)}: {@code idr_find(&ns->idr, nr)}, the struct pid or 0, as radix_tree_lookup walks. */
    public long findPidNs(int nr, long ns) {
        long base = Integer.toUnsignedLong(s.i32(idr(ns), "idr", "idr_base"));
        long index = Integer.toUnsignedLong(nr) - base;
        if (index < 0) {
            return 0;
        }
        long entry = m.readPointer(idr(ns) + s.offset("idr", "idr_rt") + s.offset("radix_tree_root", "rnode"));
        if ((entry & 1) == 0) {
            return index == 0 ? entry : 0;
        }
        long slots = s.offset("radix_tree_node", "slots");
        for (int depth = 0; (entry & 1) != 0; depth++) {
            long node = entry & ~1L;
            if (depth > 12 || node == 0) {
                return 0;
            }
            int shift = m.readByte(node + s.offset("radix_tree_node", "shift")) & 0xff;
            if (depth == 0 && shift + 6 < 64 && (index >>> (shift + 6)) != 0) {
                return 0;
            }
            entry = m.readPointer(node + slots + ((index >>> shift) & 63) * ptr);
        }
        return entry;
    }

    /**
     * {@code find_task_by_pid_ns(nr, ns)}: {@code pid_task(find_pid_ns(nr, ns), PIDTYPE_PID)}, the first
     * task on the pid's {@code tasks[PIDTYPE_PID]} hlist, 0 if no task has that number.
     */
    public long findTaskByPidNs(int nr, long ns) {
        long pid = findPidNs(nr, ns);
        if (pid == 0) {
            return 0;
        }
        long first = s.ptr(pid, "pid", "tasks[0].first");
        return first == 0 ? 0 : first - s.offset("task_struct", "pid_links[0]");
    }

    // ---- the vfork wait (kernel/fork.c wait_for_vfork_done, kernel/sched/completion.c) ----

    /**
     * True if the task is blocked in, or has not yet returned from, {@code wait_for_vfork_done}: its
     * kernel stack holds {@code do_wait_for_common}'s {@code wait_queue_entry} ({@code private} = the
     * task, {@code func} = {@code default_wake_function}) still linked on a wait queue head that is on
     * the same stack (the on-stack {@code struct completion vfork}), as {@code bt -f} would find it.
     * Only a live task's stack is read (a reaped one's memory is poison).
     */
    public boolean inVforkWait(long task) {
        if (k.tasks().stream().noneMatch(t -> t.address() == task)) {
            return false;
        }
        long stack = k.task(task).stack();
        if (stack == 0) {
            return false;
        }
        long end = stack + platform.threadSize();
        long priv = s.offset("wait_queue_entry", "private");
        long func = s.offset("wait_queue_entry", "func");
        long entry = s.offset("wait_queue_entry", "entry");
        long size = s.size("wait_queue_entry");
        long next = s.offset("list_head", "next");
        long prev = s.offset("list_head", "prev");
        long wake = k.symbol("default_wake_function");
        for (long w = stack; w + size <= end; w += ptr) {
            if (m.readPointer(w + priv) != task || m.readPointer(w + func) != wake) {
                continue;
            }
            long list = w + entry;
            long head = m.readPointer(list + next);
            long back = m.readPointer(list + prev);
            if (head == list || !onStack(head, stack, end) || !onStack(back, stack, end)) {
                continue;
            }
            if (m.readPointer(head + prev) == list && m.readPointer(back + next) == list) {
                return true;
            }
        }
        return false;
    }

    private boolean onStack(long address, long stack, long end) {
        return Long.compareUnsigned(address, stack) >= 0 && Long.compareUnsigned(address, end - 2L * ptr) <= 0;
    }
}
