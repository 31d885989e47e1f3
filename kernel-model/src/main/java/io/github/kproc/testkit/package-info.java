/**
 * A test kit for users of kproc: what must hold in a running kernel, read from its memory as a
 * debugger reads it ({@link io.github.kproc.testkit.KernelInvariants}), snapshots that tell whether a
 * failed operation left the model exactly as before ({@link io.github.kproc.testkit.KernelSnapshot}),
 * and seeded workloads of system calls to drive property tests with any framework
 * ({@link io.github.kproc.testkit.Workload}). It depends on the JDK and jspecify only.
 */
@NullMarked
package io.github.kproc.testkit;

import org.jspecify.annotations.NullMarked;
