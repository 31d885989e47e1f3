package io.github.kproc.view;

import io.github.kproc.arch.Platform;
import io.github.kproc.mem.AddressSpace;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The callee-saved registers a context switch stores: ARM32 {@code struct cpu_context_save}
 * (r4-r9, sl, fp, sp, pc, extra[2]) in thread_info; arm64 {@code struct cpu_context}
 * (x19-x28, fp, sp, pc) in {@code task_struct.thread}.
 */
public final class CpuContextSave {
    private final AddressSpace memory;
    private final List<String> names;
    private final long[] offsets;
    private final int width;
    private long address;

    public CpuContextSave(Platform platform, AddressSpace memory, long address) {
        this.memory = memory;
        this.names = platform.cpuContextRegisters();
        this.offsets = new long[names.size()];
        String struct = platform.cpuContextStruct();
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = platform.profile().offsetOf(struct, names.get(i));
        }
        this.width = (int) platform.profile().field(struct, names.get(0)).size();
        this.address = address;
    }

    /** Re-points this view; returns it. */
    public CpuContextSave at(long newAddress) {
        this.address = newAddress;
        return this;
    }

    public long address() {
        return address;
    }

    /** The register names, in the struct's order. */
    public List<String> registers() {
        return names;
    }

    /** A saved register by name ({@code "pc"}, {@code "sp"}, {@code "r4"}, {@code "x19"}). */
    public long get(String register) {
        return read(index(register));
    }

    public void set(String register, long value) {
        memory.writeScalar(address + offsets[index(register)], width, value);
    }

    /** The saved pc: where the task resumes. */
    public long pc() {
        return get("pc");
    }

    /** The saved sp: the task's kernel stack pointer when it was switched out. */
    public long sp() {
        return get("sp");
    }

    /** Every saved register by name, in order. */
    public Map<String, Long> values() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < offsets.length; i++) {
            out.put(names.get(i), read(i));
        }
        return out;
    }

    private long read(int i) {
        return memory.readUnsigned(address + offsets[i], width);
    }

    private int index(String register) {
        int i = names.indexOf(register);
        if (i < 0) {
            throw new NoSuchElementException("no saved register " + register + " in " + names);
        }
        return i;
    }
}
