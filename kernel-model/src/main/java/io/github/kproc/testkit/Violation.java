package io.github.kproc.testkit;

/**
 * A broken invariant: which rule, and where.
 *
 * @param rule the rule, as the kernel states it
 * @param detail the task or structure that breaks it, and how
 */
public record Violation(Rule rule, String detail) {
    @Override
    public String toString() {
        return rule.name() + ": " + detail + " (" + rule.statement() + ")";
    }

    /** The rules {@link KernelInvariants} checks, each with the kernel code that keeps it. */
    public enum Rule {
        /** Every list the checks walk closes within the number of objects that can exist. */
        LIST_CLOSES("a list_head ring returns to its head (list_add/list_del keep next/prev consistent)"),
        /** The task list holds group leaders only, each with its thread group after it. */
        TASK_LIST("init_task.tasks links every thread group leader; thread_group links its threads (copy_process)"),
        /** A task on the lists is alive or a zombie. */
        EXIT_STATE("a listed task's exit_state is 0 or EXIT_ZOMBIE (release_task unhashes EXIT_DEAD tasks)"),
        /** crash's bt -v checks: stack, thread_info back pointer, STACK_END_MAGIC. */
        STACK("the stack is THREAD_ALIGN-aligned with STACK_END_MAGIC intact and thread_info->task pointing back"
                + " (dup_task_struct, set_task_stack_end_magic)"),
        /** Pids: unique, hashed on their struct pid, found through the IDR. */
        PID("pid_nr(thread_pid) is the task's pid, the task is first on pid->tasks[PIDTYPE_PID], and idr_find in"
                + " init_pid_ns finds that struct pid (alloc_pid, attach_pid)"),
        /** Thread groups. */
        THREAD_GROUP("a thread's group_leader, tgid and signal are its leader's (copy_process with CLONE_THREAD)"),
        /** Parents and children. */
        FAMILY("each group leader is on exactly one children list, its real_parent's (copy_process, forget_original_parent)"),
        /** Reference counts of the shared structures. */
        REFCOUNT("files, fs, sighand, nsproxy, signal, mm, cred, user_struct, pid_namespace and the other namespaces'"
                + " counts equal their users (copy_files, copy_fs, copy_sighand, copy_signal, copy_mm, copy_creds, alloc_pid,"
                + " copy_namespaces, get_user_ns, exit paths)"),
        /** Users. */
        USERS("each cred's user_struct is hashed in uidhash_table in its uid's bucket (alloc_uid, find_user)"),
        /** Namespaces. */
        NAMESPACES("each ucounts is hashed in its (user namespace, uid) bucket and counts the namespaces charged to it"
                + " (inc_ucount, dec_ucount); net_namespace_list holds the live network namespaces (setup_net, cleanup_net)"),
        /** Each CPU's current task. */
        CURRENT("current (from the registers) is rq->curr, TASK_RUNNING, on_cpu, task_cpu() is the CPU, sp in its stack"),
        /** Runqueues. */
        RUNQUEUE("every runnable task not running is queued exactly once, on its CPU: in cfs_rq->tasks_timeline (a"
                + " red-black tree ordered by vruntime with rb_leftmost cached) or rt_rq->active (bitmap set exactly"
                + " for non-empty lists); rq->nr_running counts the queued and the running (enqueue_task)"),
        /** RCU callback lists. */
        RCU("each CPU's rcu_data.cblist is well formed: len counts the callbacks from head, tails[DONE..NEXT] point"
                + " into the list in segment order with the NEXT tail at its end, and every callback's func is a"
                + " function the kernel queues (rcu_segcblist_enqueue, rcu_segcblist_advance, rcu_do_batch)"),
        /** Per-entity load tracking. */
        PELT("each cfs_rq's avg.util_avg, less what cfs_rq->removed holds, is no more than the sum of the util of"
                + " the fair tasks attached to it, and its runnable_load_avg that of those queued, each brought to the queue's"
                + " last_update_time, within PELT's rounding (attach_entity_load_avg once per attach,"
                + " detach_entity_load_avg, remove_entity_load_avg, enqueue/dequeue_runnable_load_avg)"),
        /** The vmalloc area's bookkeeping and VMAP_STACK stacks. */
        VMALLOC("vmap_area_list is address-sorted without overlaps and lists exactly the vmap_area_root tree in order;"
                + " with VMAP_STACK each task's stack_vm_area is the VM_ALLOC vm_struct of its stack (THREAD_SIZE and"
                + " the guard page, THREAD_SIZE / PAGE_SIZE pages) and its vmap_area points back at it"
                + " (__insert_vmap_area, setup_vmalloc_vm, alloc_thread_stack_node, release_task_stack)"),
        /** Preemption counts. */
        PREEMPT_COUNT("with CONFIG_PREEMPT_COUNT a task off the CPU has FORK_PREEMPT_COUNT: schedule()'s preempt_disable"
                + " and the rq lock a switched-out task holds, or what sched_fork gives a new one");

        private final String statement;

        Rule(String statement) {
            this.statement = statement;
        }

        /** The rule in the kernel's terms. */
        public String statement() {
            return statement;
        }
    }
}
