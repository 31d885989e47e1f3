package io.github.kproc.mem;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.jspecify.annotations.Nullable;

/**
 * Kernel virtual addresses over off-heap memory: up to two regions (a linear map and a vmalloc
 * area), each a slice of one segment. Scalars are little-endian; a pointer is {@link #pointerSize()}
 * bytes. Any access not wholly inside a region throws {@link MemoryFaultException}; in the vmalloc
 * area only the mapped head of each live allocation slot counts as inside.
 */
public final class AddressSpace {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment segment;
    private final int pointerSize;
    // not final: close() empties the regions, so that every access after it takes the fault path
    private long base0;
    private long size0;
    private long base1;
    private long size1;
    /** Set by {@link #close}: what an access after it throws as an IllegalStateException. */
    private @Nullable String closed;
    private final long offset0;
    private final long offset1;
    private final boolean readOnly;
    /** Where addresses outside both regions go (a dump's other segments, a page-table walk), or null. */
    private @Nullable Translation fallback;
    /** Bytes mapped from the start of each slot of region 1, or null when all of region 1 is mapped. */
    private long @Nullable [] slotMapped;
    private int slotShift;

    AddressSpace(MemorySegment segment, int pointerSize, long base0, long size0, long base1, long size1) {
        this(segment, pointerSize, base0, 0, size0, base1, size1, null);
        if (size0 + size1 < 0 || size0 + size1 > segment.byteSize()) {
            throw new IllegalArgumentException("regions larger than the segment");
        }
    }

    private AddressSpace(MemorySegment segment, int pointerSize, long base0, long offset0, long size0, long base1,
            long size1, @Nullable Translation fallback) {
        if (pointerSize != 4 && pointerSize != 8) {
            throw new IllegalArgumentException("pointer size must be 4 or 8: " + pointerSize);
        }
        if (size0 < 0 || size1 < 0) {
            throw new IllegalArgumentException("regions larger than the segment");
        }
        checkRegion(pointerSize, base0, size0);
        checkRegion(pointerSize, base1, size1);
        this.segment = segment;
        this.pointerSize = pointerSize;
        this.base0 = base0;
        this.size0 = size0;
        this.base1 = base1;
        this.size1 = size1;
        this.offset0 = offset0;
        this.offset1 = offset0 + size0;
        this.readOnly = segment.isReadOnly();
        this.fallback = fallback;
    }

    /**
     * Where kernel addresses outside the direct region of an {@link #ofTranslation} address space
     * are: a dump's other segments, or memory found by walking page tables.
     */
    @FunctionalInterface
    public interface Translation {
        /**
         * The offset in the segment of {@code [address, address + length)}, or -1 if not all of it is
         * backed contiguously there.
         */
        long offset(long address, long length);
    }

    /**
     * Kernel addresses over a mapped file or other segment: {@code [base, base + size)} at
     * {@code segmentOffset} of {@code segment} is the fast, direct region (a dump's lowmem), and
     * every other address is asked of {@code fallback}. A read-only segment makes every write fault.
     *
     * @throws IllegalArgumentException if the direct region is not inside the segment or runs past the
     *     end of the address space
     */
    public static AddressSpace ofTranslation(MemorySegment segment, int pointerSize, long base, long segmentOffset,
            long size, Translation fallback) {
        if (segmentOffset < 0 || size < 0 || segmentOffset > segment.byteSize() - size) {
            throw new IllegalArgumentException("direct region outside the segment");
        }
        return new AddressSpace(segment, pointerSize, base, segmentOffset, size, 0, 0, fallback);
    }

    /**
     * A view of a raw little-endian memory image whose first byte is at kernel address {@code base}
     * (for reading real structures out of a dump with the same types).
     *
     * @throws IllegalArgumentException if the pointer size is not 4 or 8, or the image would run past
     *     the end of the address space (2^64, or 2^32 with 4-byte pointers)
     */
    public static AddressSpace ofImage(MemorySegment image, long base, int pointerSize) {
        java.util.Objects.requireNonNull(image, "image");
        return new AddressSpace(image, pointerSize, base, image.byteSize(), 0, 0);
    }

    /**
     * A region must end inside the address space of its pointer size: at 2^64, or at 2^32 with 4-byte
     * pointers. A region that wrapped would make addresses near 0 alias its end.
     */
    private static void checkRegion(int pointerSize, long base, long size) {
        if (size == 0) {
            return;
        }
        long last = base + size - 1;
        if (Long.compareUnsigned(last, base) < 0) {
            throw new IllegalArgumentException(String.format(
                    "%d bytes at 0x%x run past the end of the 64-bit address space", size, base));
        }
        if (pointerSize == 4 && Long.compareUnsigned(last, 0xffff_ffffL) > 0) {
            throw new IllegalArgumentException(String.format(
                    "%d bytes at 0x%x run past the end of the 32-bit address space", size, base));
        }
    }

    /** 4 on ARM32, 8 on arm64. */
    public int pointerSize() {
        return pointerSize;
    }

    /** True if all of {@code [address, address + length)} is backed. */
    public boolean contains(long address, long length) {
        if (translate(address, length) >= 0) {
            return true;
        }
        checkOpen();
        return false;
    }

    /**
     * Makes every later access throw {@code IllegalStateException(message)} (the memory behind it is
     * being released). The check costs nothing on a valid access: the regions become empty, and only
     * the fault path looks at why.
     */
    void close(String message) {
        this.closed = message;
        this.base0 = 0;
        this.size0 = 0;
        this.base1 = 0;
        this.size1 = 0;
        this.fallback = null;
    }

    private void checkOpen() {
        String message = closed;
        if (message != null) {
            throw new IllegalStateException(message);
        }
    }

    private long translate(long address, long length) {
        long off = address - base0;
        if (Long.compareUnsigned(off, size0) < 0 && Long.compareUnsigned(length, size0 - off) <= 0) {
            return offset0 + off;
        }
        off = address - base1;
        if (Long.compareUnsigned(off, size1) < 0 && Long.compareUnsigned(length, size1 - off) <= 0
                && mappedInSlot(off, length)) {
            return offset1 + off;
        }
        Translation other = fallback;
        return other == null ? -1 : other.offset(address, length);
    }

    private boolean mappedInSlot(long off, long length) {
        long[] mapped = slotMapped;
        if (mapped == null) {
            return true;
        }
        long slot = off >>> slotShift;
        return slot < mapped.length && (off & ((1L << slotShift) - 1)) + length <= mapped[(int) slot];
    }

    /**
     * Divides region 1 into slots of {@code 1 << shift} bytes of which only the first
     * {@code mapped[slot]} bytes may be accessed (the vmalloc area's live areas; the rest of a slot
     * is guard space). The array stays shared with the caller, who updates it.
     */
    void mapSlots(int shift, long[] mapped) {
        this.slotShift = shift;
        this.slotMapped = mapped;
    }

    /** The offset in {@link #segment()} of {@code [address, address + length)}; faults if not backed. */
    public long offset(long address, long length) {
        long off = translate(address, length);
        if (off < 0) {
            checkOpen();
            throw new MemoryFaultException(address, length);
        }
        return off;
    }

    /** {@link #offset}, for a write: a read-only image (a dump mapped read-only) faults like unmapped memory. */
    private long writable(long address, long length) {
        if (readOnly) {
            checkOpen();
            throw new MemoryFaultException(address, length);
        }
        return offset(address, length);
    }

    /** The backing segment (regions in order: linear map first). */
    public MemorySegment segment() {
        return segment;
    }

    public byte readByte(long address) {
        return segment.get(ValueLayout.JAVA_BYTE, offset(address, 1));
    }

    public short readShort(long address) {
        return segment.get(SHORT, offset(address, 2));
    }

    public int readInt(long address) {
        return segment.get(INT, offset(address, 4));
    }

    public long readLong(long address) {
        return segment.get(LONG, offset(address, 8));
    }

    /** A guest pointer: 4 bytes zero-extended on ARM32, 8 bytes on arm64. */
    public long readPointer(long address) {
        return pointerSize == 8 ? readLong(address) : Integer.toUnsignedLong(readInt(address));
    }

    /** An unsigned scalar of 1, 2, 4 or 8 bytes, zero-extended. */
    public long readUnsigned(long address, int size) {
        return switch (size) {
            case 1 -> Byte.toUnsignedLong(readByte(address));
            case 2 -> Short.toUnsignedLong(readShort(address));
            case 4 -> Integer.toUnsignedLong(readInt(address));
            case 8 -> readLong(address);
            default -> throw new IllegalArgumentException("scalar size " + size);
        };
    }

    /** A signed scalar of 1, 2, 4 or 8 bytes, sign-extended. */
    public long readSigned(long address, int size) {
        return switch (size) {
            case 1 -> readByte(address);
            case 2 -> readShort(address);
            case 4 -> readInt(address);
            case 8 -> readLong(address);
            default -> throw new IllegalArgumentException("scalar size " + size);
        };
    }

    public void writeByte(long address, byte value) {
        segment.set(ValueLayout.JAVA_BYTE, writable(address, 1), value);
    }

    public void writeShort(long address, short value) {
        segment.set(SHORT, writable(address, 2), value);
    }

    public void writeInt(long address, int value) {
        segment.set(INT, writable(address, 4), value);
    }

    public void writeLong(long address, long value) {
        segment.set(LONG, writable(address, 8), value);
    }

    /** Stores a guest pointer ({@link #pointerSize()} bytes). */
    public void writePointer(long address, long value) {
        if (pointerSize == 8) {
            writeLong(address, value);
        } else {
            writeInt(address, (int) value);
        }
    }

    /** Stores the low {@code size} bytes of {@code value}. */
    public void writeScalar(long address, int size, long value) {
        switch (size) {
            case 1 -> writeByte(address, (byte) value);
            case 2 -> writeShort(address, (short) value);
            case 4 -> writeInt(address, (int) value);
            case 8 -> writeLong(address, value);
            default -> throw new IllegalArgumentException("scalar size " + size);
        }
    }

    /** {@code memcpy(dst, src, length)} in one bulk copy. */
    public void copy(long src, long dst, long length) {
        MemorySegment.copy(segment, offset(src, length), segment, writable(dst, length), length);
    }

    /** {@code memset(address, value, length)}. */
    public void fill(long address, long length, byte value) {
        long off = writable(address, length);
        MemorySegment pattern = Patterns.of(value);
        if (pattern == null) {
            segment.asSlice(off, length).fill(value);
            return;
        }
        long chunk = pattern.byteSize();
        for (long done = 0; done < length; done += chunk) {
            MemorySegment.copy(pattern, 0, segment, off + done, Math.min(chunk, length - done));
        }
    }

    /** Constant source segments for the fills the model does all the time (zeroing, poisoning). */
    private static final class Patterns {
        private static final long SIZE = 64 * 1024;
        private static final MemorySegment ZERO = make((byte) 0);
        private static final MemorySegment POISON_FREE = make((byte) 0x6b);
        private static final MemorySegment PAGE_POISON = make((byte) 0xaa);

        private static MemorySegment make(byte value) {
            MemorySegment s = java.lang.foreign.Arena.global().allocate(SIZE, 64);
            s.fill(value);
            return s;
        }

        static @org.jspecify.annotations.Nullable MemorySegment of(byte value) {
            return switch (value) {
                case 0 -> ZERO;
                case 0x6b -> POISON_FREE;
                case (byte) 0xaa -> PAGE_POISON;
                default -> null;
            };
        }
    }

    /** Reads {@code length} bytes into a new array. */
    public byte[] readBytes(long address, int length) {
        long off = offset(address, length); // before allocating: the length may come from an untrusted image
        byte[] bytes = new byte[length];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, off, bytes, 0, length);
        return bytes;
    }

    /** Writes all of {@code bytes} at {@code address}. */
    public void writeBytes(long address, byte[] bytes) {
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, writable(address, bytes.length), bytes.length);
    }

    /** A NUL-terminated string of at most {@code max} bytes (like {@code comm}). */
    public String readCString(long address, int max) {
        long off = offset(address, max);
        int n = 0;
        while (n < max && segment.get(ValueLayout.JAVA_BYTE, off + n) != 0) {
            n++;
        }
        byte[] bytes = new byte[n];
        MemorySegment.copy(segment, ValueLayout.JAVA_BYTE, off, bytes, 0, n);
        return new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    /**
     * {@code strscpy}: writes at most {@code max - 1} bytes of {@code text} and a NUL, zero-filling the rest.
     *
     * @throws IllegalArgumentException if {@code max} leaves no room for the NUL
     */
    public void writeCString(long address, int max, String text) {
        if (max < 1) {
            throw new IllegalArgumentException("no room for a NUL in " + max + " bytes");
        }
        long off = writable(address, max);
        byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        int n = Math.min(bytes.length, max - 1);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, off, n);
        segment.asSlice(off + n, max - n).fill((byte) 0);
    }
}
