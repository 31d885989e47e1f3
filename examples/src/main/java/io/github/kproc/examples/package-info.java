/** Runnable examples and the {@code kproc} command line. */
package io.github.kproc.examples;
