package io.github.kproc.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import io.github.kproc.Errno;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link ElfCore} on well-formed cores of both classes and on hostile ones: truncated at every byte,
 * bit-flipped headers, notes with absurd sizes, program headers past the end. A malformed core is an
 * {@link ImageFormatException} (ENOEXEC) or a core whose truncation is recorded, never another
 * exception, a hang or an allocation of a size read from the file.
 */
class ElfCoreTest {
    private static final int RAM = 8192;

    /** A core of {@code elfClass} bits: a PT_NOTE with two NT_PRSTATUS and a VMCOREINFO, a PT_LOAD of RAM at 0x60000000. */
    static byte[] core(int elfClass, int ehsize) {
        boolean is64 = elfClass == 64;
        int machine = is64 ? ElfCore.EM_AARCH64 : ElfCore.EM_ARM;
        int desc = is64 ? 392 : 148;
        int regOff = is64 ? 112 : 72;
        int nregs = is64 ? 34 : 18;
        ByteBuffer notes = ByteBuffer.allocate(2 * (12 + 8 + desc) + 12 + 12 + 64).order(ByteOrder.LITTLE_ENDIAN);
        for (int cpu = 0; cpu < 2; cpu++) {
            notes.putInt(5).putInt(desc).putInt(1).put("CORE\0\0\0\0".getBytes(StandardCharsets.ISO_8859_1));
            int start = notes.position();
            for (int r = 0; r < nregs; r++) {
                if (is64) {
                    notes.putLong(start + regOff + 8 * r, 1000L * cpu + r);
                } else {
                    notes.putInt(start + regOff + 4 * r, 1000 * cpu + r);
                }
            }
            notes.position(start + desc);
        }
        byte[] info = "SYMBOL(init_task)=80a07a00\nNUMBER(PHYS_OFFSET)=0x60000000\n".getBytes(StandardCharsets.ISO_8859_1);
        byte[] padded = Arrays.copyOf(info, 64);
        notes.putInt(11).putInt(info.length).putInt(0).put("VMCOREINFO\0\0".getBytes(StandardCharsets.ISO_8859_1));
        notes.put(padded);
        int notesSize = notes.position();
        int eh = is64 ? 64 : 52;
        int ph = is64 ? 56 : 32;
        int notesAt = eh + 2 * ph;
        int ramAt = notesAt + notesSize;
        ByteBuffer b = ByteBuffer.allocate(ramAt + RAM).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) (is64 ? 2 : 1), 1, 1, 0});
        b.position(16);
        b.putShort((short) 4).putShort((short) machine).putInt(1);
        if (is64) {
            b.putLong(0).putLong(eh).putLong(0);
        } else {
            b.putInt(0).putInt(eh).putInt(0);
        }
        b.putInt(0).putShort((short) ehsize).putShort((short) ph).putShort((short) 2).putShort((short) 0)
                .putShort((short) 0).putShort((short) 0);
        phdr(b, is64, 4, notesAt, 0, notesSize);
        phdr(b, is64, 1, ramAt, 0x60000000L, RAM);
        b.put(notes.array(), 0, notesSize);
        for (int i = 0; i < RAM; i++) {
            b.put((byte) i);
        }
        return b.array();
    }

    private static void phdr(ByteBuffer b, boolean is64, int type, long offset, long paddr, long size) {
        b.putInt(type);
        if (is64) {
            b.putInt(0).putLong(offset).putLong(paddr).putLong(paddr).putLong(size).putLong(size).putLong(0);
        } else {
            b.putInt((int) offset).putInt((int) paddr).putInt((int) paddr).putInt((int) size).putInt((int) size)
                    .putInt(0).putInt(0);
        }
    }

    private static ElfCore read(byte[] bytes) {
        return ElfCore.of(MemorySegment.ofArray(bytes));
    }

    @Test
    void readsBothClassesWithoutTrustingEhsize() {
        for (int cls : new int[] {32, 64}) {
            ElfCore core = read(core(cls, 8)); // QEMU 7.2 writes e_ehsize 8
            assertEquals(cls, core.elfClass());
            assertEquals(1, core.loads().size());
            ElfCore.Segment ram = core.loads().get(0);
            assertEquals(0x60000000L, ram.physical());
            assertEquals(RAM, ram.fileSize());
            assertFalse(ram.truncated());
            assertEquals(2, core.prstatus().size());
            long[] cpu1 = core.prstatus().get(1);
            assertEquals(cls == 64 ? 34 : 18, cpu1.length);
            assertEquals(1000 + 15, cpu1[15], "pr_reg[15] of CPU 1");
            assertTrue(core.vmcoreinfo().orElseThrow().contains("SYMBOL(init_task)=80a07a00"));
            assertEquals("0x60000000", KernelImage.parseVmcoreinfo(core.vmcoreinfo().orElseThrow()).get("NUMBER(PHYS_OFFSET)"));
        }
    }

    @Test
    void aFileCutAtAnyByteIsAnErrorOrARecordedTruncation() {
        for (int cls : new int[] {32, 64}) {
            byte[] whole = core(cls, 8);
            for (int length = 0; length < whole.length; length += length < 1024 ? 1 : 509) {
                byte[] cut = Arrays.copyOf(whole, length);
                try {
                    ElfCore core = read(cut);
                    assertTrue(core.loads().get(0).truncated(), "a cut RAM segment is marked truncated at " + length);
                    assertEquals(length - core.loads().get(0).fileOffset(), core.loads().get(0).available());
                } catch (ImageFormatException e) {
                    assertEquals(Errno.ENOEXEC, e.errno());
                }
            }
        }
    }

    @Test
    void flippedHeaderBytesAreAnErrorOrStillACore() {
        qt().withExamples(3000).forAll(integers().between(0, 1), integers().between(0, 700), integers().between(0, 255))
                .checkAssert((cls, at, value) -> {
                    byte[] bytes = core(cls == 0 ? 32 : 64, 8);
                    bytes[at] = (byte) (int) value;
                    try {
                        ElfCore core = read(bytes);
                        for (ElfCore.Segment s : core.loads()) {
                            assertTrue(s.available() == 0 || s.fileOffset() + s.available() <= bytes.length,
                                    "the bytes a segment is said to have are inside the file");
                        }
                    } catch (ImageFormatException e) {
                        assertEquals(Errno.ENOEXEC, e.errno());
                    }
                });
    }

    @Test
    void anAbsurdNoteSizeIsNamed() {
        byte[] bytes = core(32, 52);
        int notesAt = 52 + 2 * 32;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(notesAt + 4, 0xfffffff0);
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> read(bytes));
        assertTrue(e.getMessage().contains("n_descsz") && e.getMessage().contains("0x" + Integer.toHexString(notesAt)),
                e.getMessage());
    }

    @Test
    void programHeadersPastTheEndAreNamed() {
        byte[] bytes = core(64, 64);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putShort(56, (short) 0xfffe);
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> read(bytes));
        assertTrue(e.getMessage().contains("program headers"), e.getMessage());
        byte[] notCore = core(32, 52);
        notCore[16] = 2; // ET_EXEC
        assertTrue(assertThrows(ImageFormatException.class, () -> read(notCore)).getMessage().contains("ET_CORE"));
        byte[] bigEndian = core(32, 52);
        bigEndian[5] = 2;
        assertTrue(assertThrows(ImageFormatException.class, () -> read(bigEndian)).getMessage().contains("little-endian"));
    }

    @Test
    void compressedDumpsAreRecognised() {
        byte[][] magics = {{0x1f, (byte) 0x8b, 8, 0}, {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd}, {(byte) 0xfd, '7', 'z', 'X'},
            {'B', 'Z', 'h', '9'}, "KDUMP   ".getBytes(StandardCharsets.ISO_8859_1)};
        String[] names = {"gzip", "zstd", "xz", "bzip2", "makedumpfile"};
        for (int i = 0; i < magics.length; i++) {
            byte[] file = Arrays.copyOf(magics[i], 64);
            String message = assertThrows(ImageFormatException.class, () -> read(file)).getMessage();
            assertTrue(message.contains(names[i]), message);
        }
    }

    @Test
    void symbolTablesFromSystemMapLinesAndSymtab() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("kproc-sym");
        java.nio.file.Path map = dir.resolve("System.map");
        java.nio.file.Files.writeString(map, "80004000 A swapper_pg_dir\n80008000 T _text\n806e492c T __schedule\n"
                + "806e4c00 T schedule\n80a07a00 D init_task\n");
        SymbolTable t = SymbolTable.readSystemMap(map);
        assertEquals(0x80a07a00L, t.address("init_task"));
        assertEquals("__schedule+0x238", t.symbolize(0x806e4b64L).orElseThrow());
        assertEquals("schedule", t.symbolize(0x806e4c00L).orElseThrow());
        assertTrue(t.find("nothing").isEmpty());
        java.nio.file.Files.writeString(map, "80004000 A swapper_pg_dir\nnot a line\n");
        ImageFormatException e = assertThrows(ImageFormatException.class, () -> SymbolTable.readSystemMap(map));
        assertTrue(e.getMessage().contains("System.map:2"), e.getMessage());
        // an ELF32 with a .symtab and its .strtab: the symbols of a vmlinux without DWARF
        java.nio.file.Path elf = dir.resolve("vmlinux");
        java.nio.file.Files.write(elf, vmlinux());
        SymbolTable v = SymbolTable.readVmlinux(elf);
        assertEquals(0x80a07a00L, v.address("init_task"));
        assertEquals(0x806e492cL, v.address("__schedule"));
        assertEquals(2, v.size());
        byte[] stripped = vmlinux();
        ByteBuffer.wrap(stripped).order(ByteOrder.LITTLE_ENDIAN).putInt(52 + 40 + 4, 0); // .symtab's type
        java.nio.file.Files.write(elf, stripped);
        assertTrue(assertThrows(ImageFormatException.class, () -> SymbolTable.readVmlinux(elf)).getMessage().contains("no .symtab"));
    }

    /** Section headers: NULL, .symtab (link 2), .strtab; three symbols (the NULL one, init_task, __schedule). */
    private static byte[] vmlinux() {
        byte[] strtab = "\0init_task\0__schedule\0".getBytes(StandardCharsets.ISO_8859_1);
        int shoff = 52;
        int symtabAt = shoff + 3 * 40;
        int strtabAt = symtabAt + 3 * 16;
        ByteBuffer b = ByteBuffer.allocate(strtabAt + strtab.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 1, 1, 1, 0});
        b.position(16);
        b.putShort((short) 2).putShort((short) 40).putInt(1).putInt(0).putInt(0).putInt(shoff).putInt(0)
                .putShort((short) 52).putShort((short) 32).putShort((short) 0).putShort((short) 40).putShort((short) 3)
                .putShort((short) 2);
        b.position(shoff + 40);
        b.putInt(0).putInt(2).putInt(0).putInt(0).putInt(symtabAt).putInt(48).putInt(2).putInt(1).putInt(4).putInt(16);
        b.putInt(0).putInt(3).putInt(0).putInt(0).putInt(strtabAt).putInt(strtab.length).putInt(0).putInt(0).putInt(1)
                .putInt(0);
        b.position(symtabAt + 16);
        b.putInt(1).putInt(0x80a07a00).putInt(0x1000).put((byte) 1).put((byte) 0).putShort((short) 1);
        b.putInt(11).putInt(0x806e492c).putInt(0x300).put((byte) 2).put((byte) 0).putShort((short) 1);
        b.put(strtab);
        return b.array();
    }

    @Test
    void longSetFindsWhatItHolds() {
        LongSet s = new LongSet();
        for (long v = 1; v < 10_000; v++) {
            assertTrue(s.add(v * 0x40));
        }
        assertFalse(s.add(0x40));
        assertTrue(s.contains(9_999 * 0x40L));
        assertFalse(s.contains(3));
        assertEquals(9_999, s.size());
    }
}
