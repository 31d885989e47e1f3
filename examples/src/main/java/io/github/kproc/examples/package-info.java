/**
 * Runnable examples and the {@code kproc} command line ({@link io.github.kproc.examples.Kproc}).
 */
@NullMarked
package io.github.kproc.examples;

import org.jspecify.annotations.NullMarked;
