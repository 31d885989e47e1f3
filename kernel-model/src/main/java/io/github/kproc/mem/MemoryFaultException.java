package io.github.kproc.mem;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import java.io.Serial;

/** An access to kernel addresses that no region of the address space backs ({@code EFAULT}). */
public final class MemoryFaultException extends KernelException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final long address;
    private final long length;

    public MemoryFaultException(long address, long length) {
        super(Errno.EFAULT, String.format("no memory at 0x%x (%d bytes)", address, length));
        this.address = address;
        this.length = length;
    }

    /** The first address of the faulting access. */
    public long address() {
        return address;
    }

    /** The length of the faulting access in bytes. */
    public long length() {
        return length;
    }
}
