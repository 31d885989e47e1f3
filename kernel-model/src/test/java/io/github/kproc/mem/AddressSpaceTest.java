package io.github.kproc.mem;

import static io.github.kproc.mem.Machines.ARM32_PAGE_OFFSET;
import static io.github.kproc.mem.Machines.ARM64_PAGE_OFFSET;
import static io.github.kproc.mem.Machines.ARM64_THREAD_ALIGN;
import static io.github.kproc.mem.Machines.ARM64_THREAD_SIZE;
import static io.github.kproc.mem.Machines.ARM64_VMALLOC_START;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.kproc.Errno;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.quicktheories.core.Gen;

/**
 * Guest memory as the kernel's C sees it: little-endian scalars, {@code sizeof(void *)} of 4 on
 * ARM32 and 8 on arm64, and an access to an address nothing maps is a fault ({@code -EFAULT}),
 * never a host crash.
 */
class AddressSpaceTest {
    private static final long RAM = 1L << 20;

    /** One access of {@code length} bytes at an address, through one of the public methods. */
    interface Access {
        void run(AddressSpace space, long address, int length);
    }

    /** An accessor; {@code fixedLength} is the bytes it touches, or 0 when it takes the length. */
    record Accessor(String name, int fixedLength, Access access) {
        int length(int generated) {
            return fixedLength == 0 ? generated : fixedLength;
        }
    }

    /** Every public accessor; {@code scratch} is a backed address for the other side of a copy. */
    static List<Accessor> accessors(int pointerSize, long scratch) {
        List<Accessor> list = new ArrayList<>();
        list.add(new Accessor("readByte", 1, (s, a, n) -> s.readByte(a)));
        list.add(new Accessor("readShort", 2, (s, a, n) -> s.readShort(a)));
        list.add(new Accessor("readInt", 4, (s, a, n) -> s.readInt(a)));
        list.add(new Accessor("readLong", 8, (s, a, n) -> s.readLong(a)));
        list.add(new Accessor("readPointer", pointerSize, (s, a, n) -> s.readPointer(a)));
        list.add(new Accessor("readUnsigned(2)", 2, (s, a, n) -> s.readUnsigned(a, 2)));
        list.add(new Accessor("readSigned(4)", 4, (s, a, n) -> s.readSigned(a, 4)));
        list.add(new Accessor("writeByte", 1, (s, a, n) -> s.writeByte(a, (byte) 1)));
        list.add(new Accessor("writeShort", 2, (s, a, n) -> s.writeShort(a, (short) 1)));
        list.add(new Accessor("writeInt", 4, (s, a, n) -> s.writeInt(a, 1)));
        list.add(new Accessor("writeLong", 8, (s, a, n) -> s.writeLong(a, 1)));
        list.add(new Accessor("writePointer", pointerSize, (s, a, n) -> s.writePointer(a, 1)));
        list.add(new Accessor("writeScalar(8)", 8, (s, a, n) -> s.writeScalar(a, 8, 1)));
        list.add(new Accessor("readBytes", 0, (s, a, n) -> s.readBytes(a, n)));
        list.add(new Accessor("writeBytes", 0, (s, a, n) -> s.writeBytes(a, new byte[n])));
        list.add(new Accessor("fill", 0, (s, a, n) -> s.fill(a, n, (byte) 0)));
        list.add(new Accessor("readCString", 0, (s, a, n) -> s.readCString(a, n)));
        list.add(new Accessor("writeCString", 0, (s, a, n) -> s.writeCString(a, n, "kworker/0:1")));
        list.add(new Accessor("copy from", 0, (s, a, n) -> s.copy(a, scratch, n)));
        list.add(new Accessor("copy to", 0, (s, a, n) -> s.copy(scratch, a, n)));
        return list;
    }

    /** What a machine maps, worked out without AddressSpace: RAM and the live stacks' first THREAD_SIZE bytes. */
    record Backing(List<long[]> ranges) {
        boolean covers(long address, int length) {
            BigInteger start = unsigned(address);
            BigInteger end = start.add(BigInteger.valueOf(length));
            for (long[] r : ranges) {
                if (start.compareTo(unsigned(r[0])) >= 0 && end.compareTo(unsigned(r[0]).add(BigInteger.valueOf(r[1]))) <= 0) {
                    return true;
                }
            }
            return false;
        }

        private static BigInteger unsigned(long value) {
            return new BigInteger(Long.toUnsignedString(value));
        }
    }

    /** Addresses within 24 bytes of an edge a bug would get wrong. */
    private static Gen<Long> addressesNear(List<Long> edges) {
        return integers().between(0, edges.size() - 1).zip(integers().between(-24, 24), (i, d) -> edges.get(i) + d);
    }

    private static Gen<Integer> lengths() {
        return integers().between(1, 40);
    }

    private static void checkEveryAccessor(AddressSpace space, Backing backing, List<Accessor> accessors, long address,
            int generated) {
        assertEquals(backing.covers(address, generated), space.contains(address, generated),
                () -> String.format("contains(0x%x, %d)", address, generated));
        for (Accessor a : accessors) {
            int length = a.length(generated);
            if (backing.covers(address, length)) {
                assertDoesNotThrow(() -> a.access().run(space, address, length),
                        () -> String.format("%s at 0x%x, %d bytes", a.name(), address, length));
            } else {
                MemoryFaultException e = assertThrows(MemoryFaultException.class, () -> a.access().run(space, address, length),
                        () -> String.format("%s at 0x%x, %d bytes did not fault", a.name(), address, length));
                assertEquals(Errno.EFAULT, e.errno());
                assertEquals(address, e.address());
            }
        }
    }

    @Test
    void everyAccessOutsideRamFaultsWithEfaultOnArm32() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(RAM))) {
            Backing backing = new Backing(List.<long[]>of(new long[] {ARM32_PAGE_OFFSET, RAM}));
            List<Long> edges = List.of(ARM32_PAGE_OFFSET, ARM32_PAGE_OFFSET + RAM, 0L, 0xffff_ffffL, 1L << 32, -1L,
                    Long.MIN_VALUE, Long.MAX_VALUE, ARM32_PAGE_OFFSET - (1L << 32));
            List<Accessor> accessors = accessors(4, ARM32_PAGE_OFFSET);
            Theories.qt(400).forAll(addressesNear(edges), lengths()).checkAssert(
                    (address, length) -> checkEveryAccessor(m.space(), backing, accessors, address, length));
        }
    }

    @Test
    void everyAccessOutsideRamAndLiveStacksFaultsWithEfaultOnArm64() {
        try (KernelMemory m = KernelMemory.create(Machines.arm64(RAM))) {
            VmallocArea area = Objects.requireNonNull(m.vmalloc());
            long s0 = area.vmalloc(ARM64_THREAD_SIZE);
            long s1 = area.vmalloc(ARM64_THREAD_SIZE);
            long s2 = area.vmalloc(ARM64_THREAD_SIZE);
            area.vfree(s1);
            Backing backing = new Backing(List.of(new long[] {ARM64_PAGE_OFFSET, RAM}, new long[] {s0, ARM64_THREAD_SIZE},
                    new long[] {s2, ARM64_THREAD_SIZE}));
            long vmallocEnd = ARM64_VMALLOC_START + RAM / ARM64_THREAD_SIZE * ARM64_THREAD_ALIGN;
            List<Long> edges = List.of(ARM64_PAGE_OFFSET, ARM64_PAGE_OFFSET + RAM, ARM64_VMALLOC_START, vmallocEnd,
                    s0 + ARM64_THREAD_SIZE, s1, s1 + ARM64_THREAD_SIZE, s2, s2 + ARM64_THREAD_SIZE, 0L, -1L, Long.MIN_VALUE,
                    Long.MAX_VALUE, (ARM64_PAGE_OFFSET + ARM64_VMALLOC_START) >>> 1);
            List<Accessor> accessors = accessors(8, ARM64_PAGE_OFFSET);
            Theories.qt(600).forAll(addressesNear(edges), lengths()).checkAssert(
                    (address, length) -> checkEveryAccessor(m.space(), backing, accessors, address, length));
        }
    }

    @Test
    void accessesBelowAboveStraddlingAndBetweenRegionsFault() {
        try (KernelMemory m = KernelMemory.create(Machines.arm64(RAM))) {
            AddressSpace space = m.space();
            long stack = Objects.requireNonNull(m.vmalloc()).vmalloc(ARM64_THREAD_SIZE);
            long[][] faults = {
                {ARM64_PAGE_OFFSET - 1, 1}, // below RAM
                {ARM64_PAGE_OFFSET + RAM, 1}, // just past RAM
                {ARM64_PAGE_OFFSET + RAM - 4, 8}, // straddling the end of RAM
                {ARM64_VMALLOC_START - 8, 16}, // straddling the start of the vmalloc area
                {(ARM64_VMALLOC_START + ARM64_PAGE_OFFSET) / 2, 4}, // between the regions
                {stack + ARM64_THREAD_SIZE - 2, 4}, // off the top of a stack into its guard
                {-8, 16}, // wrapping past the top of the address space
                {0, 8}, // NULL
            };
            for (long[] f : faults) {
                MemoryFaultException e = assertThrows(MemoryFaultException.class, () -> space.readLong(f[0]),
                        () -> Long.toHexString(f[0]));
                assertEquals(Errno.EFAULT, e.errno());
                assertEquals(f[0], e.address());
                assertThrows(MemoryFaultException.class, () -> space.readBytes(f[0], (int) f[1]));
                assertFalse(space.contains(f[0], f[1]));
            }
        }
    }

    @Test
    void negativeAndHugeLengthsFaultBeforeAnythingIsAllocatedOrTouched() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(RAM))) {
            AddressSpace space = m.space();
            long a = ARM32_PAGE_OFFSET;
            assertThrows(MemoryFaultException.class, () -> space.readBytes(a, -1));
            assertThrows(MemoryFaultException.class, () -> space.fill(a, -1, (byte) 0));
            assertThrows(MemoryFaultException.class, () -> space.copy(a, a + 64, -1));
            assertThrows(MemoryFaultException.class, () -> space.readCString(a, -1));
            // a length read from an untrusted image must not become a 2 GiB Java array first
            assertThrows(MemoryFaultException.class, () -> space.readBytes(a, Integer.MAX_VALUE));
            assertThrows(MemoryFaultException.class, () -> space.readCString(a, Integer.MAX_VALUE));
            assertEquals(0, space.readLong(a));
        }
    }

    @Test
    void writeCStringNeedsRoomForTheNul() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(RAM))) {
            AddressSpace space = m.space();
            assertThrows(IllegalArgumentException.class, () -> space.writeCString(ARM32_PAGE_OFFSET, 0, "swapper"));
            space.writeCString(ARM32_PAGE_OFFSET, 1, "swapper");
            assertEquals("", space.readCString(ARM32_PAGE_OFFSET, 1));
            space.fill(ARM32_PAGE_OFFSET, 16, (byte) 'x');
            space.writeCString(ARM32_PAGE_OFFSET, 16, "kworker/u16:0-events_unbound");
            assertEquals("kworker/u16:0-e", space.readCString(ARM32_PAGE_OFFSET, 16), "strscpy truncates to 15 bytes + NUL");
            assertEquals(0, space.readByte(ARM32_PAGE_OFFSET + 15));
            space.writeCString(ARM32_PAGE_OFFSET, 16, "init");
            assertArrayEquals(new byte[11], space.readBytes(ARM32_PAGE_OFFSET + 5, 11), "the rest is zero-filled");
        }
    }

    @Test
    void scalarsAreLittleEndian() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(RAM))) {
            AddressSpace space = m.space();
            long a = ARM32_PAGE_OFFSET + 0x100;
            space.writeLong(a, 0x0807060504030201L);
            assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, space.readBytes(a, 8));
            assertEquals(0x04030201, space.readInt(a));
            assertEquals(0x0201, space.readShort(a));
            assertEquals(0x05040302, space.readInt(a + 1), "unaligned accesses are allowed, as ARMv7/v8 allow them");
            space.writeShort(a, (short) 0xbeef);
            assertEquals(0x0807060504030000L | 0xbeef, space.readLong(a));
        }
    }

    @Test
    void scalarsRoundTripZeroOrSignExtendedAsTheirCType() {
        try (KernelMemory m = KernelMemory.create(Machines.arm64(RAM))) {
            AddressSpace space = m.space();
            Gen<Integer> sizes = integers().between(0, 3).map(i -> 1 << i);
            Theories.qt(500).forAll(sizes, longs().all(), integers().between(0, 4088)).checkAssert((size, value, offset) -> {
                long address = ARM64_PAGE_OFFSET + offset;
                space.writeScalar(address, size, value);
                ByteBuffer le = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value);
                assertArrayEquals(java.util.Arrays.copyOf(le.array(), size), space.readBytes(address, size));
                int shift = 64 - 8 * size;
                assertEquals(value << shift >>> shift, space.readUnsigned(address, size));
                assertEquals(value << shift >> shift, space.readSigned(address, size));
            });
            assertThrows(IllegalArgumentException.class, () -> space.readUnsigned(ARM64_PAGE_OFFSET, 3));
            assertThrows(IllegalArgumentException.class, () -> space.writeScalar(ARM64_PAGE_OFFSET, 16, 0));
        }
    }

    @Test
    void arm32PointersAreFourBytesAndReadBackUnsigned() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(RAM))) {
            AddressSpace space = m.space();
            long a = ARM32_PAGE_OFFSET + 0x200;
            space.writeLong(a, -1L);
            space.writePointer(a, 0x8000_0000L);
            assertEquals(4, space.pointerSize());
            assertEquals(0x8000_0000L, space.readPointer(a), "PAGE_OFFSET must not come back as a negative long");
            assertEquals(-1, space.readInt(a + 4), "the word after a 4-byte pointer is untouched");
            assertEquals(Integer.MIN_VALUE, space.readSigned(a, 4));
            space.writePointer(a, 0xffff_ffffL);
            assertEquals(0xffff_ffffL, space.readPointer(a));
        }
    }

    @Test
    void arm64PointersAreEightBytes() {
        try (KernelMemory m = KernelMemory.create(Machines.arm64(RAM))) {
            AddressSpace space = m.space();
            long a = ARM64_PAGE_OFFSET + 0x200;
            space.writePointer(a, ARM64_PAGE_OFFSET + 0x1234);
            assertEquals(8, space.pointerSize());
            assertEquals(ARM64_PAGE_OFFSET + 0x1234, space.readPointer(a));
            assertEquals(0xffff8000L, space.readInt(a + 4) & 0xffff_ffffL);
        }
    }

    @Test
    void copyIsMemmoveAndFillIsMemset() {
        try (KernelMemory m = KernelMemory.create(Machines.arm32(RAM))) {
            AddressSpace space = m.space();
            long a = ARM32_PAGE_OFFSET;
            space.writeBytes(a, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            space.copy(a, a + 2, 6);
            assertArrayEquals(new byte[] {1, 2, 1, 2, 3, 4, 5, 6}, space.readBytes(a, 8), "overlapping copy");
            space.fill(a + 1, 3, (byte) 0x6b);
            assertArrayEquals(new byte[] {1, 0x6b, 0x6b, 0x6b, 3, 4, 5, 6}, space.readBytes(a, 8));
        }
    }

    @Test
    void ofImageReadsAHeapDumpAtItsKernelAddress() {
        byte[] dump = new byte[64];
        ByteBuffer ti = ByteBuffer.wrap(dump).order(ByteOrder.LITTLE_ENDIAN);
        ti.putInt(0, 0x2); // thread_info.flags = _TIF_NEED_RESCHED
        ti.putInt(4, 0x0001_0001); // preempt_count: hardirq 1, preempt depth 1
        ti.putInt(8, 0); // addr_limit = KERNEL_DS
        ti.putInt(12, 0xc0a0_1000); // task
        AddressSpace image = AddressSpace.ofImage(MemorySegment.ofArray(dump), 0xc780_0000L, 4);
        assertEquals(2, image.readPointer(0xc780_0000L));
        assertEquals(0x0001_0001, image.readInt(0xc780_0004L));
        assertEquals(0xc0a0_1000L, image.readPointer(0xc780_000cL));
        for (long bad : new long[] {0xc780_0000L - 1, 0xc780_0040L, 0xc780_003dL, 0}) {
            assertEquals(Errno.EFAULT, assertThrows(MemoryFaultException.class, () -> image.readInt(bad)).errno());
        }
        image.writeInt(0xc780_0004L, 0);
        assertEquals(0, ti.getInt(4), "writes go to the dump");
        assertThrows(IllegalArgumentException.class, () -> AddressSpace.ofImage(MemorySegment.ofArray(dump), 0, 3));
    }

    @Test
    void anImageMayNotWrapPastTheEndOfItsAddressSpace() {
        // unsigned long arithmetic: an image at -4096 of 8192 bytes would make 0x10 alias its end
        MemorySegment page2 = MemorySegment.ofArray(new byte[8192]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AddressSpace.ofImage(page2, -4096L, 8));
        assertEquals("8192 bytes at 0xfffffffffffff000 run past the end of the 64-bit address space", e.getMessage());
        AddressSpace top = AddressSpace.ofImage(MemorySegment.ofArray(new byte[4096]), -4096L, 8);
        assertTrue(top.contains(-8L, 8));
        assertFalse(top.contains(0x10, 8));
        assertFalse(top.contains(-8L, 16), "an access that would wrap");
        assertEquals("8192 bytes at 0xfffff000 run past the end of the 32-bit address space",
                assertThrows(IllegalArgumentException.class, () -> AddressSpace.ofImage(page2, 0xffff_f000L, 4))
                        .getMessage());
        AddressSpace arm32 = AddressSpace.ofImage(MemorySegment.ofArray(new byte[4096]), 0xffff_f000L, 4);
        assertFalse(arm32.contains(0x1_0000_0000L, 4), "no 32-bit address is 0x100000000");
        assertThrows(MemoryFaultException.class, () -> arm32.readInt(0x1_0000_0000L));
    }

    @Test
    void ofImageReadsAMappedFileAndAReadOnlyImageRefusesWrites(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("task.bin");
        ByteBuffer task = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        task.putLong(0, 0x2); // thread_info.flags
        task.putLong(8, -1L); // addr_limit = KERNEL_DS
        task.putInt(16, 2); // preempt_count = FORK_PREEMPT_COUNT
        Files.write(file, task.array());
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, 4096, arena);
            long base = ARM64_PAGE_OFFSET + 0x1234_0000L;
            AddressSpace image = AddressSpace.ofImage(mapped, base, 8);
            assertEquals(2, image.readPointer(base));
            assertEquals(-1L, image.readPointer(base + 8));
            assertEquals(2, image.readInt(base + 16));
            assertThrows(MemoryFaultException.class, () -> image.readLong(base + 4092));
            assertEquals(Errno.EFAULT, assertThrows(MemoryFaultException.class, () -> image.writeInt(base + 16, 0),
                    "a read-only image faults on writes").errno());
            assertThrows(MemoryFaultException.class, () -> image.fill(base, 8, (byte) 0));
            assertThrows(MemoryFaultException.class, () -> image.copy(base, base + 64, 8));
            assertEquals(2, image.readInt(base + 16));
        }
    }

    @Test
    void aNativeImageOfARealDumpSizeIsNotCopied() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment dump = arena.allocate(1 << 16);
            AddressSpace image = AddressSpace.ofImage(dump, ARM32_PAGE_OFFSET, 4);
            image.writeInt(ARM32_PAGE_OFFSET + 100, 42);
            assertEquals(42, dump.get(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 100));
            assertTrue(image.contains(ARM32_PAGE_OFFSET, 1 << 16));
            assertFalse(image.contains(ARM32_PAGE_OFFSET, (1 << 16) + 1));
        }
    }
}
