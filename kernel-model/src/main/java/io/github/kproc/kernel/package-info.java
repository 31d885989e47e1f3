/**
 * The running kernel: boot, the fork pipeline ({@code _do_fork} -> {@code copy_process} ->
 * {@code wake_up_new_task}), exit and reap, per-CPU runqueues and context switch, pids and pid
 * namespaces, and ftrace-format tracing.
 *
 * <p>{@link io.github.kproc.kernel.Kernel} is the entry point. Every structure lives in the machine's
 * arena at a kernel address; the classes here hold only what the kernel keeps outside the structs the
 * profile describes (runqueues, the pid bitmaps behind each namespace's IDR) and resolved offsets.
 * Internals are named after the kernel functions they model.
 */
@NullMarked
package io.github.kproc.kernel;

import org.jspecify.annotations.NullMarked;
