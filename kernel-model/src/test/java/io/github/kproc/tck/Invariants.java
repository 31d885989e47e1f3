package io.github.kproc.tck;

import io.github.kproc.arch.Platform;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.mem.AddressSpace;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What must hold between any two system calls of a running kernel, checked from the arena bytes by
 * the profile's offsets (and, for struct rq, from the scheduler): the task lists close and agree,
 * pids are unique and hashed, every task's thread_info and stack magic are intact, every shared
 * structure's count is the number of tasks holding it, runqueues and {@code current} agree.
 */
final class Invariants {
    private static final int PF_EXITING = 0x4;
    private static final long TASK_RUNNING = 0;
    private static final int EXIT_ZOMBIE = 0x20;

    private final Kernel k;
    private final Platform p;
    private final AddressSpace m;
    private final Structs s;
    private final long tasksOff;
    private final long childrenOff;
    private final long siblingOff;
    private final long threadGroupOff;
    private final ListHeads listHeads;

    Invariants(Kernel k) {
        this.k = k;
        this.p = k.platform();
        this.m = k.addressSpace();
        this.s = new Structs(k);
        this.tasksOff = s.offset("task_struct", "tasks");
        this.childrenOff = s.offset("task_struct", "children");
        this.siblingOff = s.offset("task_struct", "sibling");
        this.threadGroupOff = s.offset("task_struct", "thread_group");
        this.listHeads = new ListHeads(p, m);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private String name(long t) {
        return k.task(t).toString();
    }

    /**
     * Checks everything. {@code held} are task_structs kept by a reference after release_task (a vfork
     * parent's, until it runs again).
     */
    void check(Collection<Long> held) {
        long initTask = k.initTask();
        // the global task list: leaders, each followed by its threads
        List<Long> listed = new ArrayList<>();
        listed.add(initTask);
        for (long node : s.entries(initTask + tasksOff)) {
            long leader = node - tasksOff;
            check(k.task(leader).groupLeader() == leader, name(leader) + " on the task list is not a group leader");
            listed.add(leader);
            for (long tg : s.entries(leader + threadGroupOff)) {
                long t = tg - threadGroupOff;
                check(k.task(t).groupLeader() == leader, name(t) + ": group_leader");
                check(k.task(t).tgid() == k.task(leader).pid(), name(t) + ": tgid");
                check(s.taskPtr(t, "signal") == s.taskPtr(leader, "signal"), name(t) + ": signal");
                listed.add(t);
            }
        }
        check(listed.equals(KernelContract.taskAddresses(k)), "Kernel.tasks() disagrees with the list in memory");
        Set<Long> live = new LinkedHashSet<>(listed);
        for (int cpu = 1; cpu < k.cpus(); cpu++) {
            live.add(k.cpu(cpu).idleTask().address());
        }
        check(live.size() == listed.size() + k.cpus() - 1, "a task is listed twice");
        Set<Long> all = new LinkedHashSet<>(live);
        all.addAll(held);
        // released tasks whose delayed_put_task_struct has not run still hold their references
        all.addAll(io.github.kproc.testkit.KernelInvariants.rcuPendingTasks(k));

        Set<Integer> pids = new HashSet<>();
        for (long t : live) {
            checkTask(t, t == initTask || isIdle(t), pids);
        }
        checkFamilies(listed, live);
        checkCounts(live, all);
        checkScheduler(live, all);
    }

    private boolean isIdle(long t) {
        for (int cpu = 0; cpu < k.cpus(); cpu++) {
            if (k.cpu(cpu).idleTask().address() == t) {
                return true;
            }
        }
        return false;
    }

    private void checkTask(long t, boolean idle, Set<Integer> pids) {
        int exitState = k.task(t).exitState();
        check(exitState == 0 || exitState == EXIT_ZOMBIE, name(t) + ": exit_state " + exitState + " on a list");
        long stack = k.task(t).stack();
        if (exitState == 0 || !p.threadInfoInTask()) {
            check(stack != 0 && stack % p.threadAlign() == 0, name(t) + ": stack 0x" + Long.toHexString(stack));
            check(p.stackEndMagicIntact(m, t), name(t) + ": stack end magic");
            if (!p.threadInfoInTask()) {
                check(s.ptr(stack, "thread_info", "task") == t, name(t) + ": thread_info->task");
            }
        } else {
            check(stack == 0, name(t) + ": a dead task's stack is released (put_task_stack)");
        }
        long state = k.task(t).rawState();
        if (exitState == 0) {
            check((state == TASK_RUNNING) == (k.task(t).onRq() == 1), name(t) + ": state " + state + " on_rq "
                    + k.task(t).onRq());
        } else {
            check(k.task(t).onRq() == 0, name(t) + ": a zombie on a runqueue");
        }
        if (t != k.initTask()) {
            java.util.Set<String> exempt = idle ? ListHeads.IDLE_EXEMPT
                    : k.task(t).groupLeader() == t ? java.util.Set.of() : ListHeads.THREAD_EXEMPT;
            List<String> broken = listHeads.broken(t, exempt);
            check(broken.isEmpty(), name(t) + ": list heads that are not rings: " + broken);
        }
        if (idle) {
            check(k.task(t).pid() == 0, name(t) + ": idle pid");
            return;
        }
        int pid = k.task(t).pid();
        check(pid >= 1 && pid < k.pidMax(), name(t) + ": pid out of range");
        check(pids.add(pid), "pid " + pid + " twice");
        long leader = k.task(t).groupLeader();
        check(k.task(t).tgid() == k.task(leader).pid(), name(t) + ": tgid is not the leader's pid");
        long pidStruct = s.taskPtr(t, "thread_pid");
        check(pidStruct != 0, name(t) + ": no thread_pid");
        check(s.i32(pidStruct + s.offset("pid", "numbers"), "upid", "nr") == pid, name(t) + ": pid_nr(thread_pid)");
        check(s.i32(pidStruct, "pid", "count") >= 1, name(t) + ": pid count");
        check(m.readPointer(pidStruct + s.offset("pid", "tasks")) == t + s.offset("task_struct", "pid_links"),
                name(t) + ": not hashed on its pid (attach_pid)");
        check(k.pidNr(t, k.initPidNamespace()) == pid, name(t) + ": pid_nr_ns(init_pid_ns)");
    }

    private void checkFamilies(List<Long> listed, Set<Long> live) {
        Map<Long, Integer> seen = new HashMap<>();
        for (long parent : live) {
            for (long node : s.entries(parent + childrenOff)) {
                long child = node - siblingOff;
                check(live.contains(child), "a child of " + name(parent) + " is not a live task");
                check(k.task(child).groupLeader() == child, name(child) + ": a thread on a children list");
                check(k.task(child).realParent() == parent, name(child) + ": real_parent is not " + name(parent));
                seen.merge(child, 1, Integer::sum);
            }
        }
        for (long t : listed) {
            if (t == k.initTask()) {
                continue;
            }
            long leader = k.task(t).groupLeader();
            if (leader == t) {
                check(seen.getOrDefault(t, 0) == 1, name(t) + " is on " + seen.getOrDefault(t, 0) + " children lists");
            } else {
                check(k.task(t).realParent() == k.task(leader).realParent(), name(t) + ": a thread's real_parent");
            }
            check(live.contains(k.task(t).realParent()), name(t) + ": real_parent is gone");
        }
    }

    private Map<Long, Integer> count(Collection<Long> tasks, String member) {
        Map<Long, Integer> out = new HashMap<>();
        for (long t : tasks) {
            long v = s.taskPtr(t, member);
            if (v != 0) {
                out.merge(v, 1, Integer::sum);
            }
        }
        return out;
    }

    private void checkCounts(Set<Long> live, Set<Long> all) {
        count(all, "files").forEach((f, n) -> check(s.i32(f, "files_struct", "count") == n, "files_struct.count"));
        count(all, "fs").forEach((f, n) -> check(s.i32(f, "fs_struct", "users") == n, "fs_struct.users"));
        count(all, "sighand").forEach((f, n) -> check(s.i32(f, "sighand_struct", "count") == n,
                "sighand_struct.count 0x" + Long.toHexString(f) + " " + s.i32(f, "sighand_struct", "count") + " != " + n));
        count(all, "nsproxy").forEach((f, n) -> check(s.i32(f, "nsproxy", "count") == n, "nsproxy.count"));
        long initSignal = s.taskPtr(k.initTask(), "signal");
        Map<Long, Integer> liveThreads = new HashMap<>();
        for (long t : live) {
            if ((k.task(t).flags() & PF_EXITING) == 0) {
                liveThreads.merge(s.taskPtr(t, "signal"), 1, Integer::sum);
            }
        }
        count(live, "signal").forEach((sig, n) -> check(s.i32(sig, "signal_struct", "nr_threads") == n,
                "signal_struct.nr_threads"));
        count(all, "signal").forEach((sig, n) -> {
            if (sig != initSignal) {
                check(s.i32(sig, "signal_struct", "sigcnt") == n, "signal_struct.sigcnt");
                check(s.i32(sig, "signal_struct", "live") == liveThreads.getOrDefault(sig, 0), "signal_struct.live");
            }
        });
        long initMm = k.symbol("init_mm");
        Map<Long, Integer> users = count(all, "mm");
        Map<Long, Integer> borrowed = new HashMap<>();
        for (long t : all) {
            long active = s.taskPtr(t, "active_mm");
            if (active != 0 && active != s.taskPtr(t, "mm")) {
                borrowed.merge(active, 1, Integer::sum);
            }
        }
        Set<Long> mms = new HashSet<>(users.keySet());
        mms.addAll(borrowed.keySet());
        check(s.i32(initMm, "mm_struct", "mm_count") == 1 + borrowed.getOrDefault(initMm, 0),
                "init_mm.mm_count: its static reference and one per lazy borrower");
        for (long mm : mms) {
            if (mm == initMm) {
                continue;
            }
            int u = users.getOrDefault(mm, 0);
            check(s.i32(mm, "mm_struct", "mm_users") == u, "mm_users of 0x" + Long.toHexString(mm));
            check(s.i32(mm, "mm_struct", "mm_count") == (u > 0 ? 1 : 0) + borrowed.getOrDefault(mm, 0),
                    "mm_count of 0x" + Long.toHexString(mm));
        }
        long initCred = s.taskPtr(k.initTask(), "cred");
        Map<Long, Integer> creds = count(all, "cred");
        count(all, "real_cred").forEach((c, n) -> creds.merge(c, n, Integer::sum));
        creds.forEach((c, n) -> check(c == initCred || s.i32(c, "cred", "usage") == n, "cred.usage"));
        Map<Long, Integer> processes = new HashMap<>();
        for (long t : live) {
            processes.merge(s.ptr(s.taskPtr(t, "real_cred"), "cred", "user"), 1, Integer::sum);
        }
        processes.forEach((u, n) -> check(s.i32(u, "user_struct", "processes") == n, "user_struct.processes"));
    }

    private void checkScheduler(Set<Long> live, Set<Long> all) {
        Set<Long> currents = new HashSet<>();
        Set<Long> queued = new HashSet<>();
        int spIndex = p.cpuRegisters().indexOf("sp");
        for (int cpu = 0; cpu < k.cpus(); cpu++) {
            long cur = k.cpu(cpu).current().address();
            check(cur == new Debugger(k).rqCurr(cpu), "CPU " + cpu + ": current is not rq->curr");
            check(all.contains(cur), "CPU " + cpu + " runs a task that is gone");
            check(k.task(cur).cpu() == cpu && k.cpu(cpu).smpProcessorId() == cpu, "CPU " + cpu + ": task_cpu(current)");
            check(k.task(cur).rawState() == TASK_RUNNING, "CPU " + cpu + ": current is not TASK_RUNNING");
            check(s.task(cur, "on_cpu") == 1, "CPU " + cpu + ": current's on_cpu");
            long sp = k.cpu(cpu).registers()[spIndex];
            long stack = k.task(cur).stack();
            check(sp > stack && sp <= stack + p.threadSize(), "CPU " + cpu + ": sp outside current's stack");
            currents.add(cur);
            List<Long> queue = new Debugger(k).runQueue(cpu);
            for (long t : queue) {
                check(live.contains(t) && !isIdle(t), "CPU " + cpu + " queues a task that is gone or idle");
                check(k.task(t).onRq() == 1 && k.task(t).rawState() == TASK_RUNNING,
                        name(t) + ": queued but not runnable");
                check(k.task(t).cpu() == cpu, name(t) + ": queued on CPU " + cpu + " but task_cpu " + k.task(t).cpu());
                check(queued.add(t), name(t) + " is queued twice");
            }
            int running = cur == k.cpu(cpu).idleTask().address() ? 0 : 1;
            check(k.cpu(cpu).nrRunning() == queue.size() + running,
                    "CPU " + cpu + ": nr_running " + k.cpu(cpu).nrRunning()
                    + " with " + queue.size() + " queued");
        }
        check(currents.size() == k.cpus(), "a task is current on two CPUs");
        for (long t : live) {
            if (currents.contains(t)) {
                continue;
            }
            check(s.task(t, "on_cpu") == 0, name(t) + ": on_cpu while not running");
            if (!isIdle(t) && k.task(t).onRq() == 1) {
                check(queued.contains(t), name(t) + ": on_rq but on no runqueue");
            }
        }
    }
}
