package io.github.kproc.image;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * An ELF core file ({@code ET_CORE}, 32- or 64-bit little-endian) as QEMU's {@code dump-guest-memory}
 * and kdump's {@code /proc/vmcore} write it: {@code PT_LOAD} segments of memory by physical address,
 * and {@code PT_NOTE}s holding one {@code NT_PRSTATUS} per CPU (its registers when the dump was taken)
 * and, from a kernel's own crash path, a {@code VMCOREINFO} note.
 *
 * <p>The file is mapped, never read whole. Every offset and size in it is checked against the file's
 * length before use; {@code e_ehsize} is not trusted (QEMU 7.2 writes 8). A segment the file ends
 * inside is kept with the bytes the file has ({@link Segment#available()}); reading past them faults.
 */
public final class ElfCore implements AutoCloseable {
    /** {@code EM_ARM}. */
    public static final int EM_ARM = 40;
    /** {@code EM_AARCH64}. */
    public static final int EM_AARCH64 = 183;
    private static final int PT_LOAD = 1;
    private static final int PT_NOTE = 4;
    private static final int NT_PRSTATUS = 1;
    private static final int PN_XNUM = 0xffff;
    /**
     * The owner of the notes a model's vmcore adds after the {@code NT_PRSTATUS}es (as QEMU adds its
     * own {@code QEMU} notes): each CPU's registers in {@code Platform.cpuRegisters()} order, 8 bytes
     * each, with those {@code pr_reg} has no room for ({@code sp_el0}, the TLS registers).
     */
    public static final String KPROC_NOTE = "KPROC";
    /** The kernel's VMCOREINFO_BYTES is one page; a larger note is refused. */
    private static final int MAX_VMCOREINFO = 64 * 1024;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * A {@code PT_LOAD}: {@code memorySize} bytes of memory at {@code physical}, of which the file
     * holds {@code fileSize} at {@code fileOffset} ({@link #available()} of them really, if the file
     * is truncated). {@code virtual} is what the writer put in {@code p_vaddr} (a kernel virtual
     * address from kdump, 0 or the physical address from QEMU).
     */
    public record Segment(long physical, long virtual, long fileOffset, long fileSize, long memorySize,
            long available) {
        /** True if the file ends before the segment does. */
        public boolean truncated() {
            return available < fileSize;
        }
    }

    private final @Nullable Arena arena;
    private final MemorySegment file;
    private final int elfClass;
    private final int machine;
    private final List<Segment> loads;
    private final List<long[]> prstatus;
    private final List<long[]> kprocRegisters = new ArrayList<>();
    private final @Nullable String vmcoreinfo;

    private ElfCore(@Nullable Arena arena, MemorySegment file) {
        this.arena = arena;
        this.file = file;
        long length = file.byteSize();
        if (length < 16) {
            throw new ImageFormatException("not an ELF core: " + length + " bytes");
        }
        checkCompressed(file);
        if (file.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 0) != 0x7f454c46) {
            throw new ImageFormatException("not an ELF file: no \\x7fELF at offset 0");
        }
        int cls = file.get(ValueLayout.JAVA_BYTE, 4);
        if (cls != 1 && cls != 2) {
            throw new ImageFormatException("ELF class " + cls + " (EI_CLASS at offset 4) is neither ELFCLASS32 nor ELFCLASS64");
        }
        this.elfClass = cls == 1 ? 32 : 64;
        int data = file.get(ValueLayout.JAVA_BYTE, 5);
        if (data != 1) {
            throw new ImageFormatException("ELF data encoding " + data + " (EI_DATA at offset 5): only little-endian (1) is read");
        }
        boolean is64 = elfClass == 64;
        int ehdr = is64 ? 64 : 52;
        if (length < ehdr) {
            throw new ImageFormatException("truncated ELF header: " + length + " bytes, ELF" + elfClass + " needs " + ehdr);
        }
        int type = u16(16);
        if (type != 4) {
            throw new ImageFormatException("ELF type " + type + " (e_type at offset 16) is not ET_CORE (4)");
        }
        this.machine = u16(18);
        long phoff = is64 ? file.get(U64, 32) : u32(28);
        long shoff = is64 ? file.get(U64, 40) : u32(32);
        int phentsize = u16(is64 ? 54 : 42);
        long phnum = u16(is64 ? 56 : 44);
        int shentsize = u16(is64 ? 58 : 46);
        int phdr = is64 ? 56 : 32;
        if (phnum == PN_XNUM) {
            // the real count is in the sh_info of section header 0
            int shdr = is64 ? 64 : 40;
            if (shentsize < shdr || !inside(shoff, shdr)) {
                throw new ImageFormatException(String.format(
                        "e_phnum is PN_XNUM but section header 0 at 0x%x (%d bytes) is not in the file", shoff, shentsize));
            }
            phnum = u32(shoff + (is64 ? 44 : 28));
        }
        if (phnum == 0) {
            throw new ImageFormatException("an ELF core without program headers");
        }
        if (phentsize < phdr) {
            throw new ImageFormatException("e_phentsize " + phentsize + " is smaller than an ELF" + elfClass
                    + " program header (" + phdr + ")");
        }
        if (phnum > (length / phentsize) || !inside(phoff, phnum * phentsize)) {
            throw new ImageFormatException(String.format("%d program headers of %d bytes at 0x%x run past the end of the file (%d bytes)",
                    phnum, phentsize, phoff, length));
        }
        List<Segment> segs = new ArrayList<>();
        List<long[]> regs = new ArrayList<>();
        String info = null;
        for (long i = 0; i < phnum; i++) {
            long h = phoff + i * phentsize;
            int ptype = (int) u32(h);
            long offset = is64 ? file.get(U64, h + 8) : u32(h + 4);
            long vaddr = is64 ? file.get(U64, h + 16) : u32(h + 8);
            long paddr = is64 ? file.get(U64, h + 24) : u32(h + 12);
            long filesz = is64 ? file.get(U64, h + 32) : u32(h + 16);
            long memsz = is64 ? file.get(U64, h + 40) : u32(h + 20);
            if (ptype == PT_LOAD) {
                if (filesz < 0 || memsz < 0 || filesz > memsz) {
                    throw new ImageFormatException(String.format(
                            "program header %d: PT_LOAD with p_filesz 0x%x and p_memsz 0x%x", i, filesz, memsz));
                }
                // a segment the file ends before (or inside) is kept with the bytes there are
                long available = offset < 0 || offset >= length ? 0 : Math.min(filesz, length - offset);
                segs.add(new Segment(paddr, vaddr, offset, filesz, memsz, available));
            } else if (ptype == PT_NOTE) {
                if (filesz < 0 || !inside(offset, filesz)) {
                    throw new ImageFormatException(String.format(
                            "program header %d: PT_NOTE of %d bytes at 0x%x runs past the end of the file (%d bytes)",
                            i, filesz, offset, length));
                }
                info = readNotes(offset, filesz, regs, info);
            }
        }
        this.loads = Collections.unmodifiableList(segs);
        this.prstatus = Collections.unmodifiableList(regs);
        this.vmcoreinfo = info;
    }

    /**
     * Maps and reads the headers of an ELF core file.
     *
     * @throws ImageFormatException if it is not a little-endian ELF core (or is compressed)
     * @throws IOException if it cannot be read
     */
    public static ElfCore open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = channel.size();
            MemorySegment file = size == 0 ? MemorySegment.NULL.reinterpret(0)
                    : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return new ElfCore(arena, file);
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Reads the headers of an ELF core already in memory (the segment stays the caller's). */
    public static ElfCore of(MemorySegment file) {
        return new ElfCore(null, file);
    }

    private static void checkCompressed(MemorySegment file) {
        int b0 = Byte.toUnsignedInt(file.get(ValueLayout.JAVA_BYTE, 0));
        int b1 = Byte.toUnsignedInt(file.get(ValueLayout.JAVA_BYTE, 1));
        int b2 = Byte.toUnsignedInt(file.get(ValueLayout.JAVA_BYTE, 2));
        int b3 = Byte.toUnsignedInt(file.get(ValueLayout.JAVA_BYTE, 3));
        String what = null;
        if (b0 == 0x1f && b1 == 0x8b) {
            what = "gzip-compressed (decompress it first: gzip -dc)";
        } else if (b0 == 0x28 && b1 == 0xb5 && b2 == 0x2f && b3 == 0xfd) {
            what = "zstd-compressed (decompress it first: zstd -d)";
        } else if (b0 == 0xfd && b1 == '7' && b2 == 'z' && b3 == 'X') {
            what = "xz-compressed (decompress it first: xz -d)";
        } else if (b0 == 'B' && b1 == 'Z' && b2 == 'h') {
            what = "bzip2-compressed (decompress it first: bzip2 -d)";
        } else {
            byte[] sig = new byte[8];
            MemorySegment.copy(file, ValueLayout.JAVA_BYTE, 0, sig, 0, Math.min(8, (int) file.byteSize()));
            String s = new String(sig, StandardCharsets.ISO_8859_1);
            if (s.equals("KDUMP   ") || s.equals("DISKDUMP")) {
                what = "a makedumpfile compressed (kdump/diskdump) dump, not ELF (convert it with makedumpfile -E)";
            }
        }
        if (what != null) {
            throw new ImageFormatException("the file is " + what);
        }
    }

    /** The notes of one PT_NOTE; returns the VMCOREINFO text seen so far. */
    private @Nullable String readNotes(long start, long size, List<long[]> regs, @Nullable String info) {
        long at = start;
        long end = start + size;
        while (end - at >= 12) {
            long namesz = u32(at);
            long descsz = u32(at + 4);
            int ntype = (int) u32(at + 8);
            long name = at + 12;
            long desc = name + align4(namesz);
            long next = desc + align4(descsz);
            if (namesz > end - name || align4(namesz) > end - name || descsz > end - desc || align4(descsz) > end - desc) {
                throw new ImageFormatException(String.format(
                        "note at 0x%x: n_namesz %d and n_descsz %d run past its PT_NOTE (which ends at 0x%x)",
                        at, namesz, descsz, end));
            }
            String owner = cString(name, (int) Math.min(namesz, 64));
            if (ntype == NT_PRSTATUS && owner.equals("CORE")) {
                regs.add(prRegs(desc, descsz, at));
            } else if (owner.equals(KPROC_NOTE) && ntype == NT_PRSTATUS) {
                if (descsz % 8 != 0 || descsz > 8 * 1024) {
                    throw new ImageFormatException(String.format("KPROC note at 0x%x of %d bytes", at, descsz));
                }
                long[] r = new long[(int) (descsz / 8)];
                for (int i = 0; i < r.length; i++) {
                    r[i] = file.get(U64, desc + 8L * i);
                }
                kprocRegisters.add(r);
            } else if (owner.equals("VMCOREINFO")) {
                if (descsz > MAX_VMCOREINFO) {
                    throw new ImageFormatException(String.format("VMCOREINFO note at 0x%x of %d bytes (at most %d)",
                            at, descsz, MAX_VMCOREINFO));
                }
                info = cString(desc, (int) descsz);
            }
            if (next <= at) {
                break;
            }
            at = next;
        }
        return info;
    }

    /** {@code elf_prstatus.pr_reg}: ARM32 18 words at 72, aarch64 34 at 112 (and the same shape for other classes). */
    private long[] prRegs(long desc, long descsz, long note) {
        boolean is64 = elfClass == 64;
        int offset = is64 ? 112 : 72;
        int count = machine == EM_AARCH64 ? 34 : machine == EM_ARM ? 18 : (int) Math.max(0, (descsz - offset) / (is64 ? 8 : 4));
        int word = is64 ? 8 : 4;
        if (descsz < offset + (long) count * word) {
            throw new ImageFormatException(String.format(
                    "NT_PRSTATUS at 0x%x has %d bytes, too few for pr_reg (%d registers at %d)", note, descsz, count, offset));
        }
        long[] r = new long[count];
        for (int i = 0; i < count; i++) {
            r[i] = is64 ? file.get(U64, desc + offset + 8L * i) : u32(desc + offset + 4L * i);
        }
        return r;
    }

    private static long align4(long n) {
        return (n + 3) & ~3L;
    }

    private boolean inside(long offset, long size) {
        return offset >= 0 && size >= 0 && offset <= file.byteSize() && size <= file.byteSize() - offset;
    }

    private int u16(long at) {
        return Short.toUnsignedInt(file.get(U16, at));
    }

    private long u32(long at) {
        return Integer.toUnsignedLong(file.get(U32, at));
    }

    private String cString(long at, int max) {
        int n = 0;
        while (n < max && file.get(ValueLayout.JAVA_BYTE, at + n) != 0) {
            n++;
        }
        byte[] b = new byte[n];
        MemorySegment.copy(file, ValueLayout.JAVA_BYTE, at, b, 0, n);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    /** 32 or 64. */
    public int elfClass() {
        return elfClass;
    }

    /** {@code e_machine}: {@link #EM_ARM}, {@link #EM_AARCH64}, ... */
    public int machine() {
        return machine;
    }

    /** The {@code PT_LOAD} segments in file order. */
    public List<Segment> loads() {
        return loads;
    }

    /**
     * Each {@code NT_PRSTATUS}'s {@code pr_reg}, in note order (one per CPU): ARM32 r0-r15, cpsr,
     * orig_r0; aarch64 x0-x30, sp, pc, pstate.
     */
    public List<long[]> prstatus() {
        return prstatus;
    }

    /** The registers of each CPU from {@link #KPROC_NOTE} notes (a vmcore the model wrote), in note order. */
    public List<long[]> kprocRegisters() {
        return Collections.unmodifiableList(kprocRegisters);
    }

    /** The {@code VMCOREINFO} note's text ({@code KEY=VALUE} lines), if the dump has one. */
    public Optional<String> vmcoreinfo() {
        return Optional.ofNullable(vmcoreinfo);
    }

    /** The mapped file. */
    public MemorySegment file() {
        return file;
    }

    /** Unmaps the file (if this reader mapped it); every address space over it becomes invalid. */
    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            arena.close();
        }
    }
}
