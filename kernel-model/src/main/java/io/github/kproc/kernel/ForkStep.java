package io.github.kproc.kernel;

/**
 * The steps of {@code copy_process()} that can fail, in 4.19 order, for fault injection. Each is
 * named for the kernel function that fails; the errno is what that function returns.
 */
public enum ForkStep {
    /** {@code dup_task_struct()}: task_struct or stack allocation. */
    DUP_TASK_STRUCT,
    /** {@code copy_creds()}. */
    COPY_CREDS,
    /** {@code sched_fork()}. */
    SCHED_FORK,
    /** {@code copy_files()}. */
    COPY_FILES,
    /** {@code copy_fs()}. */
    COPY_FS,
    /** {@code copy_sighand()}. */
    COPY_SIGHAND,
    /** {@code copy_signal()}. */
    COPY_SIGNAL,
    /** {@code copy_mm()}. */
    COPY_MM,
    /** {@code copy_namespaces()}. */
    COPY_NAMESPACES,
    /** {@code copy_io()}. */
    COPY_IO,
    /** {@code copy_thread_tls()}. */
    COPY_THREAD,
    /** {@code alloc_pid()}. */
    ALLOC_PID,
    /** {@code cgroup_can_fork()}. */
    CGROUP_CAN_FORK,
    /** The late {@code fatal_signal_pending()} check under tasklist_lock ({@code -EINTR}). */
    LATE_FATAL_SIGNAL
}
