package io.github.kproc.view;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.layout.Profile;
import io.github.kproc.layout.ProfileFormatException;
import io.github.kproc.mem.AddressSpace;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** How each kind of member shows, on small layouts written for the purpose, and the view's limits. */
class Trace32RulesTest {
    private static final long BASE = 0x1000;

    private static Profile profile(String pahole) {
        try {
            return Profile.parse("rules", pahole, "CONFIG_ARM=y\n");
        } catch (ProfileFormatException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    private static final Profile SAMPLE = profile("""
            struct sample {
            \tint                        level:3;              /*     0: 0  4 */
            \tunsigned int               mode:5;               /*     0: 3  4 */
            \tenum {
            \t\tSAMPLE_IDLE = 0,
            \t\tSAMPLE_BUSY = 2,
            \t} state;                                         /*     4     4 */
            \tunion {
            \t\ts64                delta;                /*     8     8 */
            \t\tvoid *             cookie;               /*     8     4 */
            \t};                                               /*     8     8 */
            \tvoid                       (*done)(struct sample *); /*    16     4 */
            \tchar                       name[8];              /*    20     8 */
            \tstruct point               points[2];            /*    28    16 */
            \twaitq_t                    queue;                /*    44    12 */
            \t__int128                   wide;                 /*    64    16 */
            \tuuid_t                     id;                   /*    80    16 */
            \tstruct {
            \t\tshort int          a;                    /*    96     2 */
            \t\tshort int          b;                    /*    98     2 */
            \t} pair[2];                                       /*    96     8 */
            \tlong unsigned int          tail[];               /*   104     0 */

            \t/* size: 112, cachelines: 2, members: 12 */
            };
            struct point {
            \tint                        x;                    /*     0     4 */
            \tint                        y;                    /*     4     4 */

            \t/* size: 8, cachelines: 1, members: 2 */
            };
            struct waitq {
            \tspinlock_t                 lock;                 /*     0     4 */
            \tstruct point *             head;                 /*     4     4 */
            \tunsigned int               depth;                /*     8     4 */

            \t/* size: 12, cachelines: 1, members: 3 */
            };
            """);

    @Test
    void eachKindOfMemberHasItsShape() {
        ByteBuffer b = ByteBuffer.allocate(112).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0b10001_101);                        // mode 17 above level -3 (three bits 101)
        b.putInt(4, 2);
        b.putLong(8, -2);
        b.putInt(16, 0x80101234);
        b.put(20, new byte[] {'a', '"', 'b', '\n'});
        b.putInt(28, 1).putInt(32, 2).putInt(36, -1).putInt(40, 4);
        b.putInt(48, 0x80C00010).putInt(52, 7);
        b.putLong(64, -1).putLong(72, -1);
        for (int i = 0; i < 16; i++) {
            b.put(80 + i, (byte) i);
        }
        b.putShort(96, (short) 1).putShort(98, (short) -2).putShort(100, (short) 3).putShort(102, (short) 4);
        AddressSpace memory = AddressSpace.ofImage(MemorySegment.ofArray(b.array()), BASE, 4);

        assertEquals("""
                  (struct sample *) (struct sample*)0x1000 = 0x1000 -> (
                    (int:3) level = -3 = 0x5,
                    (unsigned int:5) mode = 17 = 0x11,
                    (enum) state = 2 = 0x2 (SAMPLE_BUSY),
                    (union) <anonymous> = (
                      (s64) delta = -2 = 0xFFFFFFFFFFFFFFFE,
                      (void *) cookie = 0xFFFFFFFE),
                    (void (*)(struct sample *)) done = 0x80101234,
                    (char [8]) name = "a\\"b\\n" ([0] = 97 = 0x61, [1] = 34 = 0x22, [2] = 98 = 0x62, [3] = 10 = 0xA, \
                [4] = 0 = 0x0, [5] = 0 = 0x0, [6] = 0 = 0x0, [7] = 0 = 0x0),
                    (struct point [2]) points = (
                      [0] = (
                        (int) x = 1 = 0x1,
                        (int) y = 2 = 0x2),
                      [1] = (
                        (int) x = -1 = 0xFFFFFFFF,
                        (int) y = 4 = 0x4)),
                    (waitq_t) queue = (
                      (spinlock_t) lock = 0 = 0x0,
                      (struct point *) head = 0x80C00010,
                      (unsigned int) depth = 7 = 0x7),
                    (__int128) wide = -1 = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF,
                    (uuid_t) id = (16 bytes: 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F),
                    (struct [2]) pair = (
                      [0] = (
                        (short int) a = 1 = 0x1,
                        (short int) b = -2 = 0xFFFE),
                      [1] = (
                        (short int) a = 3 = 0x3,
                        (short int) b = 4 = 0x4)),
                    (long unsigned int []) tail = ())
                """, Trace32.view(SAMPLE, memory, "struct sample", BASE));
    }

    @Test
    void signednessFollowsTheCTypeAndTheKernelsTypedefs() {
        for (String signed : new String[] {"int", "long int", "short int", "long long int", "signed char",
                "volatile long int", "const int", "s8", "__s32", "s64", "pid_t", "atomic_t", "loff_t", "ktime_t"}) {
            assertTrue(Trace32.isSigned(signed), signed);
        }
        for (String unsigned : new String[] {"long unsigned int", "unsigned int", "short unsigned int",
                "long long unsigned int", "unsigned char", "char", "u32", "__u64", "size_t", "mm_segment_t",
                "enum pid_type", "_Bool", "__int128 unsigned"}) {
            assertFalse(Trace32.isSigned(unsigned), unsigned);
        }
    }

    @Test
    void longArraysShowTheirFirstElementsAndCountTheRest() {
        Profile profile = profile("""
                struct log {
                \t__u8                       bytes[1000];          /*     0  1000 */

                \t/* size: 1000, cachelines: 16, members: 1 */
                };
                """);
        AddressSpace memory = AddressSpace.ofImage(MemorySegment.ofArray(new byte[1000]), BASE, 4);

        String view = Trace32.view(profile, memory, "log", BASE);

        assertTrue(view.endsWith(", [254] = 0 = 0x0, [255] = 0 = 0x0, ... 744 more))\n"), view);
    }

    @Test
    void aLongStringIsCutWhereItsElementsAre() {
        Profile profile = profile("""
                struct text {
                \tchar                       line[300];            /*     0   300 */

                \t/* size: 300, cachelines: 5, members: 1 */
                };
                """);
        byte[] xs = new byte[300];
        Arrays.fill(xs, (byte) 'x');
        AddressSpace memory = AddressSpace.ofImage(MemorySegment.ofArray(xs), BASE, 4);

        String view = Trace32.view(profile, memory, "text", BASE);

        assertTrue(view.contains("(char [300]) line = \"" + "x".repeat(Trace32.MAX_ARRAY_ELEMENTS)
                + "\"... ([0] = 120 = 0x78, "), view);
        assertTrue(view.endsWith(", [255] = 120 = 0x78, ... 44 more))\n"), view);
    }

    @Test
    void nestingIsCutAtTheDepthLimit() {
        StringBuilder chain = new StringBuilder();
        for (int i = 0; i < 40; i++) {
            chain.append("struct n").append(i).append(" {\n\tstruct n").append(i + 1)
                    .append(" next; /* 0 4 */\n\n\t/* size: 4, cachelines: 1, members: 1 */\n};\n");
        }
        chain.append("struct n40 {\n\tint v; /* 0 4 */\n\n\t/* size: 4, cachelines: 1, members: 1 */\n};\n");
        Profile profile = profile(chain.toString());
        AddressSpace memory = AddressSpace.ofImage(MemorySegment.ofArray(new byte[4]), BASE, 4);

        String view = Trace32.view(profile, memory, "n0", BASE);

        assertEquals(Trace32.MAX_DEPTH + 1, view.lines().count());
        assertTrue(view.endsWith("(struct n32) next = (... deeper than 32 levels)" + ")".repeat(Trace32.MAX_DEPTH)
                + "\n"), view);
    }

    @Test
    void aStructThatClaimsToContainItselfIsRejectedBeforeAnyViewOfIt() {
        // no compiler lays out such a type; the view's depth limit (above) still bounds deep real nesting
        ProfileFormatException e = org.junit.jupiter.api.Assertions.assertThrows(ProfileFormatException.class,
                () -> Profile.parse("rules", """
                        struct loop {
                        \tstruct loop                self;                 /*     0     4 */

                        \t/* size: 4, cachelines: 1, members: 1 */
                        };
                        """, "CONFIG_ARM=y\n"));
        assertEquals("struct loop contains itself by value: struct loop -> struct loop", e.reason());
    }

    @Test
    void aViewLargerThanTheLimitIsCutAndSaysSo() {
        Profile profile = profile("""
                struct grid {
                \tstruct row                 rows[256];            /*     0 4194304 */

                \t/* size: 4194304, cachelines: 65536, members: 1 */
                };
                struct row {
                \tstruct cell                cells[256];           /*     0 16384 */

                \t/* size: 16384, cachelines: 256, members: 1 */
                };
                struct cell {
                \t__u8                       b[64];                /*     0    64 */

                \t/* size: 64, cachelines: 1, members: 1 */
                };
                """);
        try (Arena arena = Arena.ofConfined()) {
            AddressSpace memory = AddressSpace.ofImage(arena.allocate(4 << 20), BASE, 4);

            String view = Trace32.view(profile, memory, "grid", BASE);

            assertTrue(view.endsWith("\n  ... view cut at " + Trace32.MAX_CHARS + " characters\n"));
            assertTrue(view.length() < Trace32.MAX_CHARS + 65536, () -> "length " + view.length());
        }
    }
}
