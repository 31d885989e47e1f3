package io.github.kproc.tck;

import io.github.kproc.arch.Platform;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.layout.Field;
import io.github.kproc.mem.AddressSpace;

/**
 * Reads and writes struct members of a running model by name, as a debugger does with a build's
 * type information: {@code i32(files, "files_struct", "count")}. Independent of the model's own
 * resolved offsets.
 */
public final class Structs {
    private final Platform platform;
    private final AddressSpace m;

    Structs(Kernel k) {
        this.platform = k.platform();
        this.m = k.addressSpace();
    }

    /** The offset of {@code type.path}. */
    public long offset(String type, String path) {
        return platform.profile().field(type, path).offset();
    }

    /** {@code sizeof(struct type)}. */
    public long size(String type) {
        return platform.profile().sizeOf(type);
    }

    /** A member read with its own size, sign-extended. */
    public long get(long address, String type, String path) {
        Field f = platform.profile().field(type, path);
        return m.readSigned(address + f.offset(), (int) f.size());
    }

    /** A 32-bit member ({@code int}, {@code atomic_t}). */
    public int i32(long address, String type, String path) {
        return m.readInt(address + offset(type, path));
    }

    /** A pointer member. */
    public long ptr(long address, String type, String path) {
        return m.readPointer(address + offset(type, path));
    }

    /** Writes a member with its own size. */
    public void set(long address, String type, String path, long value) {
        Field f = platform.profile().field(type, path);
        m.writeScalar(address + f.offset(), (int) f.size(), value);
    }

    /** A task_struct member. */
    public long task(long task, String path) {
        return get(task, "task_struct", path);
    }

    /** A pointer member of a task_struct. */
    public long taskPtr(long task, String path) {
        return ptr(task, "task_struct", path);
    }

    /**
     * The entries of the list_head ring at {@code head}, in order, checking that every entry's next
     * points back at it; a ring that does not close within a million entries is an error.
     */
    public java.util.List<Long> entries(long head) {
        long next = offset("list_head", "next");
        long prev = offset("list_head", "prev");
        java.util.List<Long> out = new java.util.ArrayList<>();
        long n = head;
        do {
            long nx = m.readPointer(n + next);
            if (m.readPointer(nx + prev) != n) {
                throw new AssertionError(String.format("list at 0x%x: next->prev of 0x%x is not it", head, n));
            }
            n = nx;
            if (n != head) {
                out.add(n);
            }
            if (out.size() > 1_000_000) {
                throw new AssertionError(String.format("list at 0x%x does not close", head));
            }
        } while (n != head);
        return out;
    }

    /** The bytes of {@code struct type} at an address. */
    public byte[] bytes(long address, String type) {
        return m.readBytes(address, (int) size(type));
    }

    /** The memory. */
    public AddressSpace memory() {
        return m;
    }
}
