/** JMH benchmarks of kproc. */
package io.github.kproc.benchmarks;
