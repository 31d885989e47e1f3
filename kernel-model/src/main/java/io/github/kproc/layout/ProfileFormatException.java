package io.github.kproc.layout;

import java.io.Serial;

/** A pahole dump or a {@code .config} that could not be read: names the source, the line and the reason. */
public final class ProfileFormatException extends Exception {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;
    private final String reason;

    public ProfileFormatException(String source, int line, String reason) {
        super(source + ":" + line + ": " + reason);
        this.source = source;
        this.line = line;
        this.reason = reason;
    }

    /** The file (or resource) name that was being read. */
    public String source() {
        return source;
    }

    /** The 1-based line number of the fault. */
    public int line() {
        return line;
    }

    /** What was wrong with that line. */
    public String reason() {
        return reason;
    }
}
