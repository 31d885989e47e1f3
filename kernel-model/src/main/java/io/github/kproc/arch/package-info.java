/**
 * Architectures: the {@link io.github.kproc.arch.Architecture} service that backends provide, and
 * the {@link io.github.kproc.arch.Platform} it binds to one profile: every fact the model needs about
 * that build (pointer size, THREAD_SIZE, where thread_info and the stack end magic live, TIF bit
 * names, the saved-register context) resolved once, plus the architecture's hooks.
 *
 * <p>Backends are found with {@link java.util.ServiceLoader}; this module imports none of them.
 */
@NullMarked
package io.github.kproc.arch;

import org.jspecify.annotations.NullMarked;
