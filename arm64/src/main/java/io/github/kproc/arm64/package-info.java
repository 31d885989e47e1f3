/** The arm64 backend: facts and hooks of Linux 4.19 on arm64. */
@NullMarked
package io.github.kproc.arm64;

import org.jspecify.annotations.NullMarked;
