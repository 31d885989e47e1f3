package io.github.kproc.image;

import java.io.BufferedReader;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A kernel's symbols by name and by address: from a {@code System.map} ({@code nm -n} lines
 * {@code ADDRESS TYPE NAME}), from a {@code vmlinux}'s ELF {@code .symtab} (no DWARF needed), or
 * from {@code NAME=ADDRESS} pairs (a model's symbols, a VMCOREINFO's {@code SYMBOL(name)} lines).
 * Immutable.
 */
public final class SymbolTable {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int SHT_SYMTAB = 2;

    private final Map<String, Long> byName;
    /** Text-like symbols sorted by address, for {@link #symbolize}. */
    private final long[] addresses;
    private final String[] names;

    private SymbolTable(Map<String, Long> byName, long[] addresses, String[] names) {
        this.byName = byName;
        this.addresses = addresses;
        this.names = names;
    }

    /** The symbols of {@code name -> address}. */
    public static SymbolTable of(Map<String, Long> symbols) {
        Map<String, Long> copy = new HashMap<>(symbols);
        return sorted(copy);
    }

    private static SymbolTable sorted(Map<String, Long> byName) {
        Map.Entry<String, Long>[] entries = byName.entrySet().toArray(Map.Entry[]::new);
        Arrays.sort(entries, (a, b) -> {
            int c = Long.compareUnsigned(a.getValue(), b.getValue());
            return c != 0 ? c : a.getKey().compareTo(b.getKey());
        });
        long[] addrs = new long[entries.length];
        String[] ns = new String[entries.length];
        for (int i = 0; i < entries.length; i++) {
            addrs[i] = entries[i].getValue();
            ns[i] = entries[i].getKey();
        }
        return new SymbolTable(Map.copyOf(byName), addrs, ns);
    }

    /**
     * Reads a {@code System.map}. Absolute ({@code A}/{@code a}) symbols are kept too
     * ({@code swapper_pg_dir} is one on ARM32); of a name defined twice the first is kept.
     *
     * @throws ImageFormatException naming the line if one is not {@code HEX TYPE NAME}
     */
    public static SymbolTable readSystemMap(Path path) throws IOException {
        Map<String, Long> map = new HashMap<>();
        try (BufferedReader in = Files.newBufferedReader(path, StandardCharsets.ISO_8859_1)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                String[] parts = line.trim().split("\\s+");
                if (parts.length < 3 || parts[1].length() != 1 || parts[0].length() > 16) {
                    throw new ImageFormatException(path + ":" + number + ": not a System.map line (ADDRESS TYPE NAME): "
                            + abbreviate(line));
                }
                long address;
                try {
                    address = Long.parseUnsignedLong(parts[0], 16);
                } catch (NumberFormatException e) {
                    throw new ImageFormatException(path + ":" + number + ": bad address: " + abbreviate(line));
                }
                map.putIfAbsent(parts[2], address);
            }
        }
        return sorted(map);
    }

    /**
     * Reads the {@code .symtab} of a {@code vmlinux} (ELF32 or ELF64 little-endian), mapping the file
     * rather than reading it whole; every section offset and size is checked against the file.
     *
     * @throws ImageFormatException if it is not such an ELF file or has no symbol table
     */
    public static SymbolTable readVmlinux(Path path) throws IOException {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 52) {
                throw new ImageFormatException(path + ": not an ELF file (" + size + " bytes)");
            }
            MemorySegment f = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return readSymtab(f, path.toString());
        }
    }

    private static SymbolTable readSymtab(MemorySegment f, String what) {
        long size = f.byteSize();
        if (f.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 0) != 0x7f454c46) {
            throw new ImageFormatException(what + ": not an ELF file");
        }
        boolean is64 = f.get(ValueLayout.JAVA_BYTE, 4) == 2;
        if (f.get(ValueLayout.JAVA_BYTE, 5) != 1) {
            throw new ImageFormatException(what + ": only little-endian ELF is read");
        }
        if (is64 && size < 64) {
            throw new ImageFormatException(what + ": truncated ELF64 header");
        }
        long shoff = is64 ? f.get(U64, 40) : Integer.toUnsignedLong(f.get(U32, 32));
        int shentsize = Short.toUnsignedInt(f.get(U16, is64 ? 58 : 46));
        long shnum = Short.toUnsignedInt(f.get(U16, is64 ? 60 : 48));
        int shdr = is64 ? 64 : 40;
        if (shentsize < shdr || shoff < 0 || shnum > (size / shdr) || shoff > size - shnum * shentsize) {
            throw new ImageFormatException(String.format("%s: %d section headers of %d bytes at 0x%x are not in the file",
                    what, shnum, shentsize, shoff));
        }
        for (long i = 0; i < shnum; i++) {
            long h = shoff + i * shentsize;
            if (f.get(U32, h + 4) != SHT_SYMTAB) {
                continue;
            }
            long off = is64 ? f.get(U64, h + 24) : Integer.toUnsignedLong(f.get(U32, h + 16));
            long len = is64 ? f.get(U64, h + 32) : Integer.toUnsignedLong(f.get(U32, h + 20));
            long link = Integer.toUnsignedLong(f.get(U32, h + (is64 ? 40 : 24)));
            long entsize = is64 ? f.get(U64, h + 56) : Integer.toUnsignedLong(f.get(U32, h + 36));
            if (link >= shnum || entsize < (is64 ? 24 : 16) || off < 0 || len < 0 || off > size || len > size - off) {
                throw new ImageFormatException(String.format("%s: .symtab at 0x%x (%d bytes) is not in the file", what, off, len));
            }
            long sh = shoff + link * shentsize;
            long stroff = is64 ? f.get(U64, sh + 24) : Integer.toUnsignedLong(f.get(U32, sh + 16));
            long strlen = is64 ? f.get(U64, sh + 32) : Integer.toUnsignedLong(f.get(U32, sh + 20));
            if (stroff < 0 || strlen < 0 || stroff > size || strlen > size - stroff) {
                throw new ImageFormatException(String.format("%s: .strtab at 0x%x (%d bytes) is not in the file", what, stroff, strlen));
            }
            Map<String, Long> map = new HashMap<>();
            for (long e = off; e + entsize <= off + len; e += entsize) {
                long nameOff = Integer.toUnsignedLong(f.get(U32, e));
                long value = is64 ? f.get(U64, e + 8) : Integer.toUnsignedLong(f.get(U32, e + 4));
                int info = Byte.toUnsignedInt(f.get(ValueLayout.JAVA_BYTE, e + (is64 ? 4 : 12)));
                int type = info & 0xf;
                if (nameOff == 0 || nameOff >= strlen || type == 4 /* STT_FILE */ || type == 3 /* STT_SECTION */) {
                    continue;
                }
                String name = cString(f, stroff + nameOff, stroff + strlen);
                if (!name.isEmpty() && !name.startsWith("$")) {
                    map.putIfAbsent(name, value);
                }
            }
            return sorted(map);
        }
        throw new ImageFormatException(what + ": no .symtab (a stripped vmlinux): use its System.map");
    }

    private static String cString(MemorySegment f, long at, long end) {
        long n = 0;
        while (at + n < end && n < 4096 && f.get(ValueLayout.JAVA_BYTE, at + n) != 0) {
            n++;
        }
        byte[] b = new byte[(int) n];
        MemorySegment.copy(f, ValueLayout.JAVA_BYTE, at, b, 0, (int) n);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static String abbreviate(String line) {
        return line.length() > 80 ? line.substring(0, 80) + "..." : line;
    }

    /** The address of {@code name}, if known. */
    public OptionalLong find(String name) {
        Long a = byName.get(name);
        return a == null ? OptionalLong.empty() : OptionalLong.of(a);
    }

    /**
     * The address of {@code name}.
     *
     * @throws IllegalArgumentException if there is no such symbol
     */
    public long address(String name) {
        Long a = byName.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no symbol " + name);
        }
        return a;
    }

    /** How many symbols. */
    public int size() {
        return byName.size();
    }

    /**
     * {@code name+0xoff} of the closest symbol at or below {@code address} (at most 1 MiB below), as
     * crash's {@code sym} shows an address.
     */
    public Optional<String> symbolize(long address) {
        int lo = 0;
        int hi = addresses.length - 1;
        int found = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(addresses[mid], address) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0 || address - addresses[found] > (1 << 20) || addresses[found] == 0) {
            return Optional.empty();
        }
        long off = address - addresses[found];
        return Optional.of(off == 0 ? names[found] : names[found] + "+0x" + Long.toHexString(off));
    }
}
