/**
 * Typed views of kernel structures at an address: {@link io.github.kproc.view.TaskStruct},
 * {@link io.github.kproc.view.ThreadInfo}, {@link io.github.kproc.view.CpuContextSave}, and the
 * value type {@link io.github.kproc.view.PreemptCount}.
 *
 * <p>A view holds no copy of the structure: every accessor reads or writes the bytes at the view's
 * address through an {@link io.github.kproc.mem.AddressSpace}, with offsets the
 * {@link io.github.kproc.arch.Platform} resolved once. Views are flyweights: {@code at(address)}
 * re-points one without allocating. The same views read the model's memory and raw memory images.
 */
@NullMarked
package io.github.kproc.view;

import org.jspecify.annotations.NullMarked;
