package io.github.kproc.layout;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.quicktheories.core.Gen;

/**
 * Text that is not a well-formed pahole dump never becomes a layout: parsing throws
 * {@link ProfileFormatException} naming the source, the line at fault and what is wrong with it. A layout
 * the model trusts for byte offsets must not be half-read.
 */
class PaholeParserRejectsTest {
    private static final long SEED = Long.getLong("QT_SEED", 0x6b70726f63L);

    /** One malformed dump: the line the error must name and a phrase its reason must contain. */
    record Malformed(String rule, int line, String reason, String text) {
        @Override
        public String toString() {
            return rule;
        }
    }

    static List<Malformed> malformedDumps() {
        return List.of(
                new Malformed("empty input", 1, "no struct or union", ""),
                new Malformed("only blank lines", 1, "no struct or union", "\n\n\n"),
                new Malformed("text before the first type", 1, "expected 'struct NAME {'", """
                        pahole: fork.o: no debug info
                        struct a {
                        """),
                new Malformed("a type without a tag", 1, "expected 'struct NAME {'", """
                        struct {
                        \tint x;                     /*     0     4 */
                        };
                        """),
                new Malformed("unclosed struct", 1, "not closed", """
                        struct a {
                        \tint                        x;                    /*     0     4 */
                        """),
                new Malformed("a struct starting inside another", 3, "starts before the type opened at line 1", """
                        struct a {
                        \tint                        x;                    /*     0     4 */
                        struct b {
                        """),
                new Malformed("missing size line on a struct", 3, "no '/* size: N", """
                        struct a {
                        \tint                        x;                    /*     0     4 */
                        };
                        """),
                new Malformed("garbage line", 3, "not a member", """
                        struct a {
                        \tint                        x;                    /*     0     4 */
                        \tthis is not pahole output
                        """),
                new Malformed("member without its offset comment", 2, "not a member", """
                        struct a {
                        \tint                        x;
                        """),
                new Malformed("member declaration without a name", 2, "expected 'TYPE NAME'", """
                        struct a {
                        \tint;                                             /*     0     4 */
                        """),
                new Malformed("two declarations on one line", 2, "two declarations", """
                        struct a {
                        \tstruct dentry *            dentry;          owner;  /*     8     8 */
                        """),
                new Malformed("a number inside a type", 2, "not a C type: 'smp_call_func_t    5'", """
                        struct a {
                        \tsmp_call_func_t    5       func;                 /*     8     8 */
                        """),
                new Malformed("punctuation inside a type", 2, "not a C type", """
                        struct a {
                        \tstruct nf_proto_net       : pn;                   /*     0    24 */
                        """),
                new Malformed("a function pointer with a mangled parameter list", 2, "not a parameter list", """
                        struct a {
                        \tint                        (*test)(struct module */); /*    40     8 */
                        """),
                new Malformed("member outside its struct", 3, "outside its container (0..4)", """
                        struct a {
                        \tint                        x;                    /*     0     4 */
                        \tint                        y;                    /*     4     4 */

                        \t/* size: 4, cachelines: 1, members: 2 */
                        };
                        """),
                new Malformed("member outside its nested union", 4, "outside its container (8..12)", """
                        struct a {
                        \tunion {
                        \t\tint                x;                    /*     8     4 */
                        \t\tlong long int      y;                    /*     8     8 */
                        \t};                                               /*     8     4 */

                        \t/* size: 16, cachelines: 1, members: 1 */
                        };
                        """),
                new Malformed("members overlapping in a struct", 3, "starts at byte 2, inside", """
                        struct a {
                        \tint                        x;                    /*     0     4 */
                        \tshort int                  y;                    /*     2     2 */

                        \t/* size: 4, cachelines: 1, members: 2 */
                        };
                        """),
                new Malformed("a bitfield on the bits of the one before", 3, "starts at bit 2, inside", """
                        struct a {
                        \tunsigned int               x:3;                  /*     0: 0  4 */
                        \tunsigned int               y:1;                  /*     0: 2  4 */

                        \t/* size: 4, cachelines: 1, members: 2 */
                        };
                        """),
                new Malformed("members overlapping in a nested struct", 4, "starts at byte 4, inside", """
                        struct a {
                        \tstruct {
                        \t\tlong long int      x;                    /*     0     8 */
                        \t\tint                y;                    /*     4     4 */
                        \t} s;                                            /*     0     8 */

                        \t/* size: 8, cachelines: 1, members: 1 */
                        };
                        """),
                new Malformed("bitfield overflowing its unit", 2, "do not fit in 4 bytes", """
                        struct a {
                        \tunsigned int               flag:3;               /*     0:30  4 */
                        """),
                new Malformed("named bitfield of width 0", 2, "width 0", """
                        struct a {
                        \tunsigned int               flag:0;               /*     0: 0  4 */
                        """),
                new Malformed("bit offset on a member that is not a bitfield", 2, "not a bitfield", """
                        struct a {
                        \tunsigned int               flags;                /*     0: 3  4 */
                        """),
                new Malformed("array size not divisible by its length", 2, "not a whole number of 3", """
                        struct a {
                        \tint                        x[3];                 /*     0    10 */
                        """),
                new Malformed("array with more elements than a long counts", 2, "more than", """
                        struct a {
                        \tchar                       x[65536][65536][65536][65536]; /*     0     4 */
                        """),
                new Malformed("offset overflowing a long", 2, "number out of range", """
                        struct a {
                        \tint                        x;                    /* 99999999999999999999     4 */
                        """),
                new Malformed("size beyond any kernel struct", 2, "number out of range", """
                        struct a {
                        \tint                        x;                    /*     0 2199023255553 */
                        """),
                new Malformed("bitfield width that wraps an int", 2, "bit count out of range", """
                        struct a {
                        \tunsigned int               flag:4294967297;      /*     0: 0  4 */
                        """),
                new Malformed("bit offset that wraps an int", 2, "bit count out of range", """
                        struct a {
                        \tunsigned int               flag:1;               /*     0:4294967296  4 */
                        """),
                new Malformed("alignment that wraps an int", 2, "not a power of two", """
                        struct a {
                        \tint                        x __attribute__((__aligned__(4294967296))); /*     0     4 */
                        """),
                new Malformed("alignment that is not a power of two", 5, "alignment 12", """
                        struct a {
                        \tint                        x;                    /*     0     4 */

                        \t/* size: 4, cachelines: 1, members: 1 */
                        } __attribute__((__aligned__(12)));
                        """),
                new Malformed("nested close without open", 3, "closes no open", """
                        struct a {
                        \tint                        x;                    /*     0     4 */
                        \t} y;                                             /*     0     4 */
                        """),
                new Malformed("a body written inside a member line", 2, "brace inside a member", """
                        struct a {
                        \tstruct { int y; }          x;                    /*     0     4 */
                        """),
                new Malformed("nested close without its offset comment", 4, "to close the body opened at line 2", """
                        struct a {
                        \tunion {
                        \t\tint                x;                    /*     0     4 */
                        \t};
                        """),
                new Malformed("type closed while a nested body is open", 4, "is still open", """
                        struct a {
                        \tunion {
                        \t\tint                x;                    /*     0     4 */
                        };
                        """),
                new Malformed("member indented as if nested", 3, "indented by 2 tabs where 1", """
                        struct a {
                        \tint                        x;                    /*     0     4 */
                        \t\tint                y;                    /*     4     4 */
                        """),
                new Malformed("nested body deeper than pahole prints", 17, "deeper than 16", nestedBodies(16)),
                new Malformed("enum garbage", 4, "expected an enumerator", """
                        struct a {
                        \tenum {
                        \t\tMODE_A = 0,
                        \t\tMODE_B
                        \t} mode;                                          /*     0     4 */
                        """),
                new Malformed("enumerator beyond 64 bits", 3, "out of 64-bit range", """
                        struct a {
                        \tenum {
                        \t\tMODE_A = 18446744073709551616,
                        \t} mode;                                          /*     0     4 */
                        """),
                new Malformed("a body inside an enum", 4, "a body inside an enum", """
                        struct a {
                        \tenum {
                        \t\tMODE_A = 0,
                        \t\tstruct {
                        """),
                new Malformed("two members of one name", 3, "a second member named x", """
                        struct a {
                        \tint                        x;                    /*     0     4 */
                        \tint                        x;                    /*     4     4 */

                        \t/* size: 8, cachelines: 1, members: 2 */
                        };
                        """),
                new Malformed("a name repeated through an anonymous union", 6, "a second member named x", """
                        struct a {
                        \tint                        x;                    /*     0     4 */
                        \tunion {
                        \t\tint                x;                    /*     4     4 */
                        \t\tint                y;                    /*     4     4 */
                        \t};                                               /*     4     4 */

                        \t/* size: 8, cachelines: 1, members: 2 */
                        };
                        """),
                new Malformed("a struct defined twice with different sizes", 12, "second definition", """
                        struct a {
                        \tint                        x;                    /*     0     4 */

                        \t/* size: 4, cachelines: 1, members: 1 */
                        \t/* last cacheline: 4 bytes */
                        };
                        struct a {
                        \tlong long int              x;                    /*     0     8 */

                        \t/* size: 8, cachelines: 1, members: 1 */
                        \t/* last cacheline: 8 bytes */
                        };
                        """));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedDumps")
    void aMalformedDumpIsRefusedNamingTheLineAndTheFault(Malformed dump) {
        ProfileFormatException e = assertThrows(ProfileFormatException.class,
                () -> PaholeParser.parse("bad.pahole", dump.text()), dump.rule());

        assertAll(dump.rule(),
                () -> assertEquals("bad.pahole", e.source()),
                () -> assertEquals(dump.line(), e.line(), e.getMessage()),
                () -> assertTrue(e.reason().contains(dump.reason()), e.getMessage()),
                () -> assertEquals("bad.pahole:" + dump.line() + ": " + e.reason(), e.getMessage()));
    }

    @Test
    void aProfileWithAMalformedDumpNamesTheDumpFile() {
        ProfileFormatException e = assertThrows(ProfileFormatException.class,
                () -> Profile.parse("mine", "struct a {\n\tint x;\n", BundledDump.ARM32.configText()));

        assertEquals("mine/structs.pahole", e.source());
        assertEquals(2, e.line());
    }

    @Test
    void aHugelyNestedDumpIsRefusedBeforeItCanExhaustTheStack() {
        String text = "struct a {\n" + "\tstruct {\n".repeat(200_000) + "\t\tint x; /* 0 4 */\n";

        ProfileFormatException e = assertThrows(ProfileFormatException.class,
                () -> PaholeParser.parse("deep.pahole", text));

        assertEquals(3, e.line(), "the second body is indented like the first");
    }

    @Test
    void bodiesNestedAsDeeplyAsPaholePrintsAreRead() throws ProfileFormatException {
        StructLayout a = PaholeParser.parse("deep.pahole", nestedBodies(15)).get("a");

        Member body = a.members().getFirst();
        for (int depth = 2; depth < 16; depth++) {
            body = body.members().getFirst();
        }
        assertEquals("x", body.members().getFirst().name());
    }

    @Test
    void aBitfieldMayShareTheUnitOfTheMemberBeforeIt() throws ProfileFormatException {
        // pahole: 'Bitfield combined with previous fields'; the bits, not the unit, must not overlap
        StructLayout a = PaholeParser.parse("ok.pahole", """
                struct a {
                	u8                         tag;                  /*     0     1 */

                	/* Bitfield combined with previous fields */

                	unsigned int               flag:1;               /*     0: 8  4 */

                	/* size: 4, cachelines: 1, members: 2 */
                };
                """).get("a");

        assertEquals(8, a.member("flag").bitOffset());
    }

    @Test
    void paholesOwnCommentsAndPaddingBitfieldsAreNotMembers() throws ProfileFormatException {
        StructLayout ctrl = PaholeParser.parse("ok.pahole", """
                struct arch_hw_breakpoint_ctrl {
                \tu32                        __reserved:9;         /*     0: 0  4 */
                \tu32                        mismatch:1;           /*     0: 9  4 */

                \t/* XXX 9 bits hole, try to pack */
                \tu32                        :9;

                \tu32                        len:8;                /*     0:19  4 */

                \t/* size: 4, cachelines: 1, members: 3 */
                \t/* sum bitfield members: 18 bits, bit holes: 1, sum bit holes: 9 bits */
                \t/* last cacheline: 4 bytes */
                };
                """).get("arch_hw_breakpoint_ctrl");

        assertEquals(List.of("__reserved", "mismatch", "len"), ctrl.members().stream().map(Member::name).toList());
    }

    @Test
    void aMangledDumpIsEitherRefusedOrReadIntoLayoutsThatPrintAndReadBack() {
        // characters deleted, inserted, replaced or repeated in a few real types: never another exception,
        // and whatever is accepted is a profile like any other
        String[] lines = BundledDump.ARM64.paholeText().split("\n");
        String alphabet = "\t {};:*[]()/0123456789abxyz_-\n,=";
        Gen<String> mangled = in -> {
            int start = integers().between(0, lines.length - 100).generate(in);
            while (!PaholeFacts.opensType(lines[start])) {
                start--;
            }
            StringBuilder text = new StringBuilder(String.join("\n",
                    Arrays.copyOfRange(lines, start, start + integers().between(5, 100).generate(in))));
            for (int i = 0, n = integers().between(1, 4).generate(in); i < n; i++) {
                int at = integers().between(0, text.length() - 1).generate(in);
                char c = alphabet.charAt(integers().between(0, alphabet.length() - 1).generate(in));
                switch (integers().between(0, 3).generate(in)) {
                    case 0 -> text.deleteCharAt(at);
                    case 1 -> text.insert(at, c);
                    case 2 -> text.setCharAt(at, c);
                    default -> text.insert(integers().between(0, text.length()).generate(in),
                            text.substring(at, Math.min(text.length(), at + 20)));
                }
            }
            return text.append('\n').toString();
        };

        qt().withFixedSeed(SEED).withExamples(1000).forAll(mangled).checkAssert(text -> {
            Profile profile;
            try {
                profile = Profile.parse("mangled", text, "");
            } catch (ProfileFormatException e) {
                return;
            }
            try {
                LayoutAssertions.assertSameProfile(profile, Profile.parse("reprinted", Pahole.print(profile), ""));
            } catch (ProfileFormatException e) {
                throw new AssertionError("accepted, but its printed text is not: " + e.getMessage(), e);
            }
        });
    }

    /** A struct with {@code levels} anonymous structs nested inside it, each indented as pahole does. */
    private static String nestedBodies(int levels) {
        StringBuilder text = new StringBuilder("struct a {\n");
        for (int depth = 1; depth <= levels; depth++) {
            text.append("\t".repeat(depth)).append("struct {\n");
        }
        text.append("\t".repeat(levels + 1)).append("int x;                 /*     0     4 */\n");
        for (int depth = levels; depth >= 1; depth--) {
            text.append("\t".repeat(depth)).append("};                     /*     0     4 */\n");
        }
        return text.append("\n\t/* size: 4, cachelines: 1, members: 1 */\n};\n").toString();
    }
}
