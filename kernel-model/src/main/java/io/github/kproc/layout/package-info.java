@NullMarked
package io.github.kproc.layout;

import org.jspecify.annotations.NullMarked;
