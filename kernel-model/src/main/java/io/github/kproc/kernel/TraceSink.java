package io.github.kproc.kernel;

/** Where trace lines go: one call per line, without the newline. */
@FunctionalInterface
public interface TraceSink {
    void line(String line);
}
