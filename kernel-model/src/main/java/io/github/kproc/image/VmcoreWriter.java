package io.github.kproc.image;

import io.github.kproc.arch.Platform;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.layout.Kconfig;
import io.github.kproc.mem.KernelMemory;
import io.github.kproc.mem.MemoryMap;
import io.github.kproc.mem.VmallocArea;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a model's memory as an ELF core, as kdump's {@code /proc/vmcore} is laid out: one
 * {@code PT_NOTE} with an {@code NT_PRSTATUS} per CPU (the model's registers in {@code pr_reg}, the pid
 * of {@code rq->curr} in {@code pr_pid}), a {@code KPROC} note per CPU with all the model's registers
 * ({@link ElfCore#KPROC_NOTE}) and a {@code VMCOREINFO} note, then a {@code PT_LOAD} for
 * RAM by physical address ({@code p_vaddr} its linear-map address).
 *
 * <p>With VMAP stacks (arm64) the stacks' bytes are written where their pages are, at the physical
 * addresses of the pages that back them, and a second {@code PT_LOAD} right after RAM holds page
 * tables ({@code swapper_pg_dir}, in the VMCOREINFO) that map each live vmalloc area to its pages, so
 * a reader finds the stacks by walking them as the MMU would.
 *
 * <p>The VMCOREINFO has what a reader needs without a System.map: {@code SYMBOL(name)=hex} for every
 * symbol of the model ({@link Kernel#symbols()}), {@code NUMBER(PHYS_OFFSET)}, {@code PAGESIZE},
 * {@code NUMBER(VA_BITS)} on arm64. All-zero pages are left as holes, so the file is sparse.
 */
public final class VmcoreWriter {
    /**
     * The {@code PHYS_OFFSET} the model's RAM is written at: 0x40000000, where QEMU's {@code virt}
     * board (ARM and arm64) puts RAM.
     */
    public static final long DEFAULT_PHYS_OFFSET = 0x40000000L;
    private static final int NT_PRSTATUS = 1;
    private static final long CHUNK = 1L << 20;

    private VmcoreWriter() {
    }

    /** {@link #write(Kernel, Path, long)} at {@link #DEFAULT_PHYS_OFFSET}. */
    public static void write(Kernel kernel, Path file) throws IOException {
        write(kernel, file, DEFAULT_PHYS_OFFSET);
    }

    /**
     * Writes {@code kernel}'s memory to {@code file} (replacing it) with RAM at physical
     * {@code physOffset}.
     *
     * @throws IllegalArgumentException if {@code physOffset} is not page-aligned or RAM would not fit
     *     in the physical address space
     */
    public static void write(Kernel kernel, Path file, long physOffset) throws IOException {
        Platform p = kernel.platform();
        KernelMemory memory = kernel.memory();
        MemoryMap map = memory.map();
        boolean is64 = p.pointerSize() == 8;
        if (physOffset < 0 || physOffset % map.pageSize() != 0
                || (!is64 && physOffset + map.linearSize() > (1L << 32))) {
            throw new IllegalArgumentException(String.format("PHYS_OFFSET 0x%x: not page-aligned or RAM does not fit", physOffset));
        }
        PageTables tables = null;
        VmallocArea vmalloc = memory.vmalloc();
        long tablesPhys = physOffset + map.linearSize();
        if (vmalloc != null) {
            tables = new PageTables(p, tablesPhys);
            for (int s = 0; s < vmalloc.slots(); s++) {
                long bytes = vmalloc.mappedBytes(s);
                for (long off = 0; off < bytes; off += map.pageSize()) {
                    tables.map(vmalloc.slotAddress(s) + off, vmalloc.backingPages(s) - map.linearBase() + physOffset + off);
                }
            }
        }
        Map<String, Long> symbols = kernel.symbols();
        StringBuilder info = new StringBuilder();
        info.append("OSRELEASE=4.19\n");
        info.append("PAGESIZE=").append(map.pageSize()).append('\n');
        for (var e : symbols.entrySet()) {
            info.append("SYMBOL(").append(e.getKey()).append(")=").append(Long.toHexString(e.getValue())).append('\n');
        }
        long pgdVirt = tablesPhys - physOffset + map.linearBase();
        if (tables != null) {
            info.append("SYMBOL(swapper_pg_dir)=").append(Long.toHexString(pgdVirt)).append('\n');
        }
        info.append(String.format("NUMBER(PHYS_OFFSET)=0x%x%n", physOffset));
        if (is64) {
            Kconfig c = p.profile().config();
            info.append("NUMBER(VA_BITS)=").append(c.number("CONFIG_ARM64_VA_BITS", 48)).append('\n');
        }
        info.append("NUMBER(NR_CPUS)=").append(kernel.cpus()).append('\n');

        ByteBuffer notes = notes(kernel, info.toString().getBytes(StandardCharsets.ISO_8859_1), is64);
        int ehsize = is64 ? 64 : 52;
        int phentsize = is64 ? 56 : 32;
        int phnum = tables == null ? 2 : 3;
        long notesOffset = ehsize + (long) phnum * phentsize;
        long ramOffset = align(notesOffset + notes.remaining(), map.pageSize());
        long tablesOffset = ramOffset + map.linearSize();
        long tableBytes = tables == null ? 0 : tables.bytes();

        ByteBuffer head = ByteBuffer.allocate((int) notesOffset).order(ByteOrder.LITTLE_ENDIAN);
        head.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) (is64 ? 2 : 1), 1, 1, 0});
        head.position(16);
        head.putShort((short) 4); // ET_CORE
        head.putShort((short) (is64 ? ElfCore.EM_AARCH64 : ElfCore.EM_ARM));
        head.putInt(1);
        if (is64) {
            head.putLong(0).putLong(ehsize).putLong(0);
        } else {
            head.putInt(0).putInt(ehsize).putInt(0);
        }
        head.putInt(0); // e_flags
        head.putShort((short) ehsize).putShort((short) phentsize).putShort((short) phnum);
        head.putShort((short) 0).putShort((short) 0).putShort((short) 0);
        programHeader(head, is64, 4, notesOffset, 0, 0, notes.remaining());
        programHeader(head, is64, 1, ramOffset, map.linearBase(), physOffset, map.linearSize());
        if (tables != null) {
            programHeader(head, is64, 1, tablesOffset, pgdVirt, tablesPhys, tableBytes);
        }
        head.flip();

        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(out, head, 0);
            writeFully(out, notes, notesOffset);
            MemorySegment ram = memory.space().segment().asSlice(memory.space().offset(map.linearBase(), map.linearSize()),
                    map.linearSize());
            writeSparse(out, ram, ramOffset, map.pageSize());
            if (vmalloc != null) {
                MemorySegment all = memory.space().segment();
                for (int s = 0; s < vmalloc.slots(); s++) {
                    long bytes = vmalloc.mappedBytes(s);
                    if (bytes == 0) {
                        continue;
                    }
                    long at = memory.space().offset(vmalloc.slotAddress(s), bytes);
                    writeFully(out, all.asSlice(at, bytes).asByteBuffer(),
                            ramOffset + vmalloc.backingPages(s) - map.linearBase());
                }
            }
            if (tables != null) {
                writeFully(out, tables.buffer(), tablesOffset);
            }
            long end = tablesOffset + tableBytes;
            if (out.size() < end) {
                // a last byte, so a trailing hole still has the file's full length
                writeFully(out, ByteBuffer.allocate(1), end - 1);
            }
        }
    }

    private static void programHeader(ByteBuffer b, boolean is64, int type, long offset, long vaddr, long paddr, long size) {
        b.putInt(type);
        if (is64) {
            b.putInt(type == 1 ? 7 : 0).putLong(offset).putLong(vaddr).putLong(paddr).putLong(size).putLong(size)
                    .putLong(type == 1 ? 0 : 4);
        } else {
            b.putInt((int) offset).putInt((int) vaddr).putInt((int) paddr).putInt((int) size).putInt((int) size)
                    .putInt(type == 1 ? 7 : 0).putInt(type == 1 ? 0 : 4);
        }
    }

    /** {@code NT_PRSTATUS} per CPU ({@code struct elf_prstatus} of the architecture), then VMCOREINFO. */
    private static ByteBuffer notes(Kernel kernel, byte[] info, boolean is64) {
        Platform p = kernel.platform();
        int descSize = is64 ? 392 : 148;
        int regOffset = is64 ? 112 : 72;
        int pidOffset = is64 ? 32 : 24;
        int regs = is64 ? 34 : 18;
        Crash crash = new Crash(kernel, null);
        List<byte[]> all = new ArrayList<>();
        for (int c = 0; c < kernel.cpus(); c++) {
            ByteBuffer d = ByteBuffer.allocate(descSize).order(ByteOrder.LITTLE_ENDIAN);
            long curr = kernel.addressSpace().readPointer(crash.runqueue(c) + p.offsets().required("rq", "curr"));
            d.putInt(pidOffset, kernel.addressSpace().readInt(curr + p.offsets().taskPid));
            long[] r = kernel.registers(c);
            int known = Math.min(r.length, is64 ? 33 : 17); // x0-x30, sp, pc / r0-r15, cpsr: the model's own order
            for (int i = 0; i < regs; i++) {
                long v = i < known ? r[i] : 0;
                if (is64) {
                    d.putLong(regOffset + 8 * i, i == 33 ? 0x5 : v); // pstate: EL1h
                } else {
                    d.putInt(regOffset + 4 * i, (int) v);
                }
            }
            all.add(note("CORE", NT_PRSTATUS, d.array()));
        }
        for (int c = 0; c < kernel.cpus(); c++) {
            long[] r = kernel.registers(c);
            ByteBuffer d = ByteBuffer.allocate(8 * r.length).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : r) {
                d.putLong(v);
            }
            all.add(note(ElfCore.KPROC_NOTE, NT_PRSTATUS, d.array()));
        }
        all.add(note("VMCOREINFO", 0, info));
        int size = all.stream().mapToInt(b -> b.length).sum();
        ByteBuffer out = ByteBuffer.allocate(size);
        all.forEach(out::put);
        return out.flip();
    }

    private static byte[] note(String name, int type, byte[] desc) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(12 + (int) align(n.length, 4) + (int) align(desc.length, 4))
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(n.length).putInt(desc.length).putInt(type);
        b.put(n);
        b.position(12 + (int) align(n.length, 4));
        b.put(desc);
        return b.array();
    }

    private static long align(long n, long a) {
        return (n + a - 1) / a * a;
    }

    private static void writeFully(FileChannel out, ByteBuffer b, long at) throws IOException {
        long pos = at;
        while (b.hasRemaining()) {
            pos += out.write(b, pos);
        }
    }

    /** Writes the non-zero pages of {@code ram}; zero pages stay holes. */
    private static void writeSparse(FileChannel out, MemorySegment ram, long at, int page) throws IOException {
        MemorySegment zero = MemorySegment.ofArray(new byte[page]);
        long size = ram.byteSize();
        long runStart = -1;
        for (long off = 0; off < size; off += page) {
            boolean empty = MemorySegment.mismatch(ram, off, off + page, zero, 0, page) == -1;
            if (empty) {
                if (runStart >= 0) {
                    writeFully(out, ram.asSlice(runStart, off - runStart).asByteBuffer(), at + runStart);
                    runStart = -1;
                }
                continue;
            }
            if (runStart < 0) {
                runStart = off;
            }
            if (off + page - runStart >= CHUNK) {
                writeFully(out, ram.asSlice(runStart, off + page - runStart).asByteBuffer(), at + runStart);
                runStart = -1;
            }
        }
        if (runStart >= 0) {
            writeFully(out, ram.asSlice(runStart, size - runStart).asByteBuffer(), at + runStart);
        }
    }

    /**
     * arm64 translation tables for TTBR1 (kernel addresses) as {@code swapper_pg_dir} holds them:
     * 8-byte descriptors, table entries {@code addr | 3} above the last level, page entries
     * {@code addr | AF | 3} at the last; 4K or 64K granule, {@code CONFIG_ARM64_VA_BITS} bits.
     */
    static final class PageTables {
        private static final long AF = 1L << 10;
        private final int granuleShift;
        private final int vaBits;
        private final int levels;
        private final long base;
        private final List<long[]> tables = new ArrayList<>();

        PageTables(Platform p, long base) {
            Kconfig c = p.profile().config();
            this.granuleShift = (int) c.number("CONFIG_ARM64_PAGE_SHIFT", 12);
            this.vaBits = (int) c.number("CONFIG_ARM64_VA_BITS", 48);
            int bits = granuleShift - 3;
            this.levels = (vaBits - granuleShift + bits - 1) / bits;
            this.base = base;
            tables.add(new long[1 << bits]);
        }

        void map(long va, long pa) {
            int bits = granuleShift - 3;
            long[] table = tables.get(0);
            for (int level = 0; level < levels; level++) {
                int shift = granuleShift + (levels - 1 - level) * bits;
                int indexBits = Math.min(bits, vaBits - shift);
                int index = (int) ((va >>> shift) & ((1L << indexBits) - 1));
                if (level == levels - 1) {
                    table[index] = pa | AF | 3;
                    return;
                }
                if (table[index] == 0) {
                    tables.add(new long[1 << bits]);
                    table[index] = (base + ((long) (tables.size() - 1) << granuleShift)) | 3;
                }
                long next = (table[index] & ((1L << 48) - 1) & ~((1L << granuleShift) - 1)) - base;
                table = tables.get((int) (next >>> granuleShift));
            }
        }

        long bytes() {
            return (long) tables.size() << granuleShift;
        }

        ByteBuffer buffer() {
            ByteBuffer b = ByteBuffer.allocate((int) bytes()).order(ByteOrder.LITTLE_ENDIAN);
            for (long[] t : tables) {
                for (long e : t) {
                    b.putLong(e);
                }
            }
            return b.flip();
        }
    }
}
