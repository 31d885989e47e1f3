package io.github.kproc.image;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import java.io.Serial;

/**
 * A dump or symbol file that is not what it claims to be: not an ELF core, an unsupported class or
 * byte order, a header, segment or note that runs past the end of the file, a compressed dump
 * ({@code ENOEXEC}, what the kernel says of a binary it cannot load).
 */
public final class ImageFormatException extends KernelException {
    @Serial
    private static final long serialVersionUID = 1L;

    public ImageFormatException(String message) {
        super(Errno.ENOEXEC, message);
    }
}
