/**
 * kproc: the Linux 4.19 process machinery, byte-exact, in off-heap memory.
 *
 * <p>Errors a kernel function would return as {@code -errno} surface as {@link io.github.kproc.Errno}
 * values, carried by {@link io.github.kproc.KernelException}. A failed operation leaves the model
 * exactly as it was.
 */
@NullMarked
package io.github.kproc;

import org.jspecify.annotations.NullMarked;
