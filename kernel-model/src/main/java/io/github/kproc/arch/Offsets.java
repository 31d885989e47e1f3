package io.github.kproc.arch;

import io.github.kproc.layout.Field;
import io.github.kproc.layout.Profile;
import java.util.NoSuchElementException;

/**
 * Byte offsets of the members the model touches, resolved once from a profile (so hot code never
 * looks a name up). A member the build does not have is -1: {@code task_struct.cpu} exists only with
 * {@code THREAD_INFO_IN_TASK}, {@code thread_info.task} only without it.
 */
public final class Offsets {
    private final Profile profile;

    /** {@code sizeof(struct task_struct)}. */
    public final long taskSize;
    /** {@code sizeof(struct thread_info)}. */
    public final long threadInfoSize;
    /** {@code offsetof(struct task_struct, thread_info)}, -1 unless THREAD_INFO_IN_TASK. */
    public final long taskThreadInfo;
    /** task_struct.state ({@code volatile long}). */
    public final long taskState;
    /** task_struct.stack. */
    public final long taskStack;
    /** task_struct.usage ({@code atomic_t}). */
    public final long taskUsage;
    /** task_struct.flags (PF_*). */
    public final long taskFlags;
    /** task_struct.on_cpu. */
    public final long taskOnCpu;
    /** task_struct.cpu, -1 unless THREAD_INFO_IN_TASK. */
    public final long taskCpu;
    /** task_struct.wake_cpu. */
    public final long taskWakeCpu;
    /** task_struct.recent_used_cpu. */
    public final long taskRecentUsedCpu;
    /** task_struct.on_rq. */
    public final long taskOnRq;
    /** task_struct.prio. */
    public final long taskPrio;
    /** task_struct.static_prio. */
    public final long taskStaticPrio;
    /** task_struct.normal_prio. */
    public final long taskNormalPrio;
    /** task_struct.rt_priority. */
    public final long taskRtPriority;
    /** task_struct.policy. */
    public final long taskPolicy;
    /** task_struct.comm (TASK_COMM_LEN bytes). */
    public final long taskComm;
    /** task_struct.pid. */
    public final long taskPid;
    /** task_struct.tgid. */
    public final long taskTgid;
    /** task_struct.real_parent. */
    public final long taskRealParent;
    /** task_struct.parent. */
    public final long taskParent;
    /** task_struct.children (list_head). */
    public final long taskChildren;
    /** task_struct.sibling (list_head). */
    public final long taskSibling;
    /** task_struct.group_leader. */
    public final long taskGroupLeader;
    /** task_struct.tasks (list_head of the global task list). */
    public final long taskTasks;
    /** task_struct.mm. */
    public final long taskMm;
    /** task_struct.active_mm. */
    public final long taskActiveMm;
    /** task_struct.exit_state. */
    public final long taskExitState;
    /** task_struct.exit_code. */
    public final long taskExitCode;
    /** task_struct.exit_signal. */
    public final long taskExitSignal;
    /** task_struct.stack_canary, -1 without STACKPROTECTOR. */
    public final long taskStackCanary;
    /** task_struct.thread (struct thread_struct). */
    public final long taskThread;
    /** Size of task_struct.comm. */
    public final int commLength;
    /** thread_info.flags. */
    public final long tiFlags;
    /** thread_info.preempt_count. */
    public final long tiPreemptCount;
    /** thread_info.addr_limit. */
    public final long tiAddrLimit;
    /** thread_info.task, -1 with THREAD_INFO_IN_TASK. */
    public final long tiTask;
    /** thread_info.cpu, -1 with THREAD_INFO_IN_TASK. */
    public final long tiCpu;

    Offsets(Profile profile) {
        this.profile = profile;
        taskSize = profile.sizeOf("task_struct");
        threadInfoSize = profile.sizeOf("thread_info");
        taskThreadInfo = optional("task_struct", "thread_info");
        taskState = required("task_struct", "state");
        taskStack = required("task_struct", "stack");
        taskUsage = required("task_struct", "usage");
        taskFlags = required("task_struct", "flags");
        taskOnCpu = optional("task_struct", "on_cpu");
        taskCpu = optional("task_struct", "cpu");
        taskWakeCpu = optional("task_struct", "wake_cpu");
        taskRecentUsedCpu = optional("task_struct", "recent_used_cpu");
        taskOnRq = required("task_struct", "on_rq");
        taskPrio = required("task_struct", "prio");
        taskStaticPrio = required("task_struct", "static_prio");
        taskNormalPrio = required("task_struct", "normal_prio");
        taskRtPriority = required("task_struct", "rt_priority");
        taskPolicy = required("task_struct", "policy");
        taskComm = required("task_struct", "comm");
        commLength = (int) profile.field("task_struct", "comm").size();
        taskPid = required("task_struct", "pid");
        taskTgid = required("task_struct", "tgid");
        taskRealParent = required("task_struct", "real_parent");
        taskParent = required("task_struct", "parent");
        taskChildren = required("task_struct", "children");
        taskSibling = required("task_struct", "sibling");
        taskGroupLeader = required("task_struct", "group_leader");
        taskTasks = required("task_struct", "tasks");
        taskMm = required("task_struct", "mm");
        taskActiveMm = required("task_struct", "active_mm");
        taskExitState = required("task_struct", "exit_state");
        taskExitCode = required("task_struct", "exit_code");
        taskExitSignal = required("task_struct", "exit_signal");
        taskStackCanary = optional("task_struct", "stack_canary");
        taskThread = required("task_struct", "thread");
        tiFlags = required("thread_info", "flags");
        tiPreemptCount = required("thread_info", "preempt_count");
        tiAddrLimit = required("thread_info", "addr_limit");
        tiTask = optional("thread_info", "task");
        tiCpu = optional("thread_info", "cpu");
    }

    /** The profile the offsets were resolved from. */
    public Profile profile() {
        return profile;
    }

    /**
     * Resolves any other member, for backends and extensions.
     *
     * @throws IllegalArgumentException naming the profile if the build lacks it
     */
    public long required(String type, String path) {
        try {
            return profile.field(type, path).offset();
        } catch (NoSuchElementException e) {
            throw new IllegalArgumentException("profile " + profile.name() + " lacks " + type + "." + path, e);
        }
    }

    /** The offset of a member, or -1 if the build lacks it. */
    public long optional(String type, String path) {
        try {
            Field f = profile.field(type, path);
            return f.offset();
        } catch (NoSuchElementException e) {
            return -1;
        }
    }
}
