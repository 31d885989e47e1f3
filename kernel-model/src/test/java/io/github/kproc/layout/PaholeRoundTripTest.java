package io.github.kproc.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link Pahole#print(Profile, int)} gives back each dump a profile was read from, and
 * {@link Pahole#print(Profile)} the dump of a profile read from one: the same types in the same order
 * with the same member offsets, bit offsets and sizes, text that parses to the same profile, and lines
 * byte-identical to what pahole printed.
 */
class PaholeRoundTripTest {
    /**
     * Share of printed lines that are byte-identical to pahole's, measured when this floor was set
     * (every line); a change to the printer that loses lines fails here.
     */
    private static final double ARM32_IDENTICAL_FLOOR = 1.0;
    private static final double ARM64_IDENTICAL_FLOOR = 1.0;

    @ParameterizedTest
    @EnumSource(BundledPahole.class)
    void printedDumpStatesEveryOffsetBitOffsetAndSizeOfTheOriginal(BundledPahole pahole) {
        List<String> original = PaholeFacts.of(pahole.text());
        List<String> printed = PaholeFacts.of(pahole.printed());

        assertSameSequence(original, printed);
    }

    @ParameterizedTest
    @EnumSource(BundledDump.class)
    void printedDumpParsesToTheSameProfileMemberForMember(BundledDump dump) throws ProfileFormatException {
        Profile reparsed = Profile.parse("reprinted", Pahole.print(dump.profile()), dump.configText());

        LayoutAssertions.assertSameProfile(dump.profile(), reparsed);
    }

    @ParameterizedTest
    @EnumSource(BundledDump.class)
    void printingAReparsedDumpGivesTheSameText(BundledDump dump) throws ProfileFormatException {
        String printed = Pahole.print(dump.profile());

        assertEquals(printed, Pahole.print(Profile.parse("reprinted", printed, "")));
    }

    @ParameterizedTest
    @EnumSource(BundledPahole.class)
    void theShareOfLinesIdenticalToPaholesNeverDrops(BundledPahole pahole) {
        String original = pahole.text();
        int identical = PaholeFacts.identicalLines(original, pahole.printed());
        int lines = PaholeFacts.lineCount(original);
        double share = (double) identical / lines;

        System.out.printf("%s: %d of %d printed lines identical to pahole's (%.4f)%n", pahole, identical, lines,
                share);
        double floor = pahole.dump() == BundledDump.ARM32 ? ARM32_IDENTICAL_FLOOR : ARM64_IDENTICAL_FLOOR;
        assertTrue(share >= floor, pahole + ": " + identical + " of " + lines + " lines identical, below " + floor);
    }

    @ParameterizedTest
    @EnumSource(BundledPahole.class)
    void printingEachDumpOfABundledProfileGivesItBackByteForByte(BundledPahole pahole) {
        assertSameLines(pahole.toString(), pahole.text(), pahole.printed());
    }

    @ParameterizedTest
    @EnumSource(BundledDump.class)
    void aProfileReadFromOneDumpPrintsItBackByteForByte(BundledDump dump) throws ProfileFormatException {
        Profile structsOnly = Profile.parse("structs only", dump.paholeText(), dump.configText());

        assertEquals(List.of("structs only/structs.pahole"), structsOnly.sources());
        assertSameLines(dump + " structs.pahole", dump.paholeText(), Pahole.print(structsOnly));
        assertEquals(Pahole.print(structsOnly), Pahole.print(structsOnly, 0));
    }

    @ParameterizedTest
    @EnumSource(BundledDump.class)
    void mergingSchedPaholeChangesNoLayoutOfStructsPahole(BundledDump dump) throws ProfileFormatException {
        // alignments are inferred across types; more types must not change what the first dump gave
        Profile structsOnly = Profile.parse("structs only", dump.paholeText(), dump.configText());
        Profile schedOnly = Profile.parse("sched only", dump.schedText(), dump.configText());
        Profile merged = dump.profile();

        assertEquals(List.copyOf(structsOnly.types()).size(), merged.types(0).size());
        for (StructLayout type : merged.types(0)) {
            LayoutAssertions.assertSameLayout(structsOnly.struct(type.name()), type);
        }
        for (StructLayout type : merged.types(1)) {
            LayoutAssertions.assertSameLayout(schedOnly.struct(type.name()), type);
        }
    }

    @Test
    void aLayoutPrintedAloneLacksTheNotesThatNeedOtherTypes() throws ProfileFormatException {
        // 'XXX last struct has 4 bytes of padding' after thread_info needs struct thread_info's layout
        Profile arm64 = BundledDump.ARM64.profile();
        StructLayout task = arm64.struct("task_struct");

        String alone = Pahole.print(task);

        assertTrue(BundledDump.ARM64.paholeText().contains("\t/* paddings: 3, sum paddings: 16 */\n"));
        assertFalse(alone.contains("XXX last struct has"), alone);
        assertFalse(alone.contains("/* paddings:"), alone);
        LayoutAssertions.assertSameLayout(task, Profile.parse("alone", alone, "").struct("task_struct"));
    }

    @Test
    void aPointerToANoreturnFunctionTypeReadsAsAPointerAndPrintsBack() throws ProfileFormatException {
        // pahole 1.24's line for ARM32's struct processor.reset, a pointer to a __noreturn function
        // (arch/arm/include/asm/proc-fns.h), as it prints it from mm/vmalloc.o of the vexpress build
        String text = """
                struct processor {
                	void                       (*_proc_fin)(void);   /*     0     4 */
                	volatile void ()(long unsigned int, bool)  * reset; /*     4     4 */

                	/* size: 8, cachelines: 1, members: 2 */
                	/* last cacheline: 8 bytes */
                };
                """;
        Profile profile = Profile.parse("noreturn", text, "");
        Member reset = profile.struct("processor").member("reset");

        assertEquals(4, reset.offset());
        assertTrue(reset.isPointer());
        assertEquals(text, Pahole.print(profile, 0));
    }

    @Test
    void factsOfTheDumpNoticeOneChangedOffset() {
        String original = BundledDump.ARM32.paholeText();
        String changed = original.replace("stack;                /*     4     4 */",
                "stack;                /*     5     4 */");

        assertNotEquals(original, changed, "the edit must hit the dump");
        assertNotEquals(PaholeFacts.of(original), PaholeFacts.of(changed));
    }

    @Test
    void factsNameTheMembersOfEveryKindOfLine() {
        String text = """
                struct f {
                \tvoid                       (*func)(struct callback_head *); /*     4     4 */
                \tunsigned int               in_execve:1;          /*   664: 0  4 */
                \tlong unsigned int          tags[3][1];           /*   552    24 */
                \t} __attribute__((__aligned__(4))) shared __attribute__((__aligned__(4)));        /*    44    16 */
                \t};                                               /*     8    40 */

                \t/* size: 1472, cachelines: 23, members: 149 */
                };
                """;

        assertEquals(List.of("struct f {", "func @4 4", "in_execve @664:0 4", "tags @552 24", "shared @44 16",
                "<anonymous> @8 40", "size 1472"), PaholeFacts.of(text));
    }

    private static void assertSameLines(String what, String expected, String actual) {
        String[] original = expected.split("\n", -1);
        String[] printed = actual.split("\n", -1);

        for (int i = 0; i < Math.min(original.length, printed.length); i++) {
            assertEquals(original[i], printed[i], what + " line " + (i + 1));
        }
        assertEquals(original.length, printed.length, what + ": number of lines");
    }

    private static void assertSameSequence(List<String> expected, List<String> actual) {
        String type = "";
        for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
            if (PaholeFacts.opensType(expected.get(i))) {
                type = expected.get(i);
            }
            assertEquals(expected.get(i), actual.get(i), "fact " + i + " in " + type);
        }
        assertEquals(expected.size(), actual.size(), "number of facts");
    }
}
