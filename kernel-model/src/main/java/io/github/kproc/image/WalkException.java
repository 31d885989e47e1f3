package io.github.kproc.image;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import java.io.Serial;

/**
 * A kernel list, tree or pointer in the memory being read is broken: a cycle, a pointer outside
 * every segment, a {@code prev} that does not point back, more entries than the walk's limit. It
 * names the address and the structure being walked ({@code ELOOP} for a cycle or a runaway walk,
 * {@code EFAULT} for a pointer to nowhere).
 */
public final class WalkException extends KernelException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final long address;
    private final String structure;

    public WalkException(Errno errno, long address, String structure, String problem) {
        super(errno, String.format("%s at 0x%x: %s", structure, address, problem));
        this.address = address;
        this.structure = structure;
    }

    /** The address where the walk found the problem. */
    public long address() {
        return address;
    }

    /** What was being walked ({@code "init_task.tasks"}, {@code "thread_group of pid 12"}, ...). */
    public String structure() {
        return structure;
    }
}
