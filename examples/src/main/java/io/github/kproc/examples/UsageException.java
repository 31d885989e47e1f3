package io.github.kproc.examples;

import java.io.IOException;
import java.io.Serial;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/** A command line the {@code kproc} tool cannot carry out; the message is the one line it prints. */
final class UsageException extends Exception {
    @Serial
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }

    /** A file that could not be read: {@code "cannot read FILE: no such file"}. */
    static UsageException cannotRead(IOException e) {
        if (e instanceof FileSystemException f && f.getFile() != null) {
            String reason = e instanceof NoSuchFileException ? "no such file"
                    : e instanceof AccessDeniedException ? "permission denied"
                    : f.getReason() != null ? f.getReason() : e.getClass().getSimpleName();
            return new UsageException("cannot read " + f.getFile() + ": " + reason);
        }
        return new UsageException("cannot read: " + e.getMessage());
    }
}
