/** The arm32 backend: facts and hooks of Linux 4.19 on ARM32. */
@NullMarked
package io.github.kproc.arm32;

import org.jspecify.annotations.NullMarked;
