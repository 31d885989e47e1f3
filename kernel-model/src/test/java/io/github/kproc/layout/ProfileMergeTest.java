package io.github.kproc.layout;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A profile read from several pahole dumps of one build: pahole prints the types one object file sees,
 * so a type {@code kernel/fork.o} and {@code kernel/sched/core.o} both see is printed in both dumps,
 * with one layout. The dumps' types are merged by name; a type two dumps lay out differently is refused.
 */
class ProfileMergeTest {
    private static final String LIST_HEAD = """
            struct list_head {
            \tstruct list_head *         next;                 /*     0     4 */
            \tstruct list_head *         prev;                 /*     4     4 */

            \t/* size: 8, cachelines: 1, members: 2 */
            \t/* last cacheline: 8 bytes */
            };
            """;
    private static final String TASK = """
            struct task {
            \tint                        pid;                  /*     0     4 */
            \tstruct list_head           tasks;                /*     4     8 */

            \t/* size: 12, cachelines: 1, members: 2 */
            \t/* last cacheline: 12 bytes */
            };
            """;
    private static final String RQ = """
            struct rq {
            \tunsigned int               nr_running;           /*     0     4 */
            \tstruct list_head           cfs_tasks;            /*     4     8 */

            \t/* size: 12, cachelines: 1, members: 2 */
            \t/* last cacheline: 12 bytes */
            };
            """;

    @Test
    void aTypeBothDumpsPrintIsOneTypeOfTheProfile() throws ProfileFormatException {
        Profile profile = Profile.parse("mine", List.of(LIST_HEAD + TASK, LIST_HEAD + RQ), "");

        assertAll(
                () -> assertEquals(List.of("list_head", "task", "rq"), names(profile.types())),
                () -> assertEquals(List.of("mine[0]", "mine[1]"), profile.sources()),
                () -> assertEquals(List.of("list_head", "task"), names(profile.types(0))),
                () -> assertEquals(List.of("list_head", "rq"), names(profile.types(1))),
                () -> assertSame(profile.types(0).getFirst(), profile.types(1).getFirst()),
                () -> assertEquals(4 + 4, profile.offsetOf("rq", "cfs_tasks.prev"), "list_head of the first dump"));
    }

    @Test
    void eachDumpPrintsBackInItsOwnOrder() throws ProfileFormatException {
        String forkDump = LIST_HEAD + TASK;
        String schedDump = RQ + LIST_HEAD;
        Profile profile = Profile.parse("mine", List.of(forkDump, schedDump), "");

        assertEquals(forkDump, Pahole.print(profile, 0));
        assertEquals(schedDump, Pahole.print(profile, 1));
        assertEquals(forkDump + RQ, Pahole.print(profile), "every type once, in the order first printed");
    }

    @Test
    void aTypeTwoDumpsLayOutDifferentlyIsRefusedNamingItAndBothDumps() {
        String otherListHead = LIST_HEAD.replace("struct list_head *         prev;",
                "void *                     prev;");

        ProfileFormatException e = assertThrows(ProfileFormatException.class,
                () -> Profile.parse("mine", List.of(TASK + LIST_HEAD, RQ + otherListHead), ""));

        assertAll(
                () -> assertEquals("mine[1]", e.source()),
                () -> assertEquals(8, e.line(), "where the second dump prints struct list_head"),
                () -> assertEquals("struct list_head differs from struct list_head in mine[0] at line 8: prev: "
                        + "struct list_head * there, void * prev here", e.reason()));
    }

    @Test
    void aTypeOfAnotherSizeIsRefused() {
        String biggerTask = TASK.replace("size: 12,", "size: 16,");

        ProfileFormatException e = assertThrows(ProfileFormatException.class,
                () -> Profile.parse("mine", List.of(LIST_HEAD + TASK, biggerTask), ""));

        assertEquals("mine[1]:1: struct task differs from struct task in mine[0] at line 8: size 12 there, 16 here",
                e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(BundledDump.class)
    void aSharedBundledTypeChangedInSchedPaholeIsRefused(BundledDump dump) {
        // sched_entity is printed by both dumps; give its on_rq another type in sched.pahole only
        String sched = dump.schedText();
        int start = sched.indexOf("struct sched_entity {\n");
        int at = sched.indexOf("\tunsigned int               on_rq;", start);
        String changed = sched.substring(0, at) + "\tint                        on_rq;"
                + sched.substring(at + "\tunsigned int               on_rq;".length());
        int line = (int) sched.substring(0, start).chars().filter(c -> c == '\n').count() + 1;

        ProfileFormatException e = assertThrows(ProfileFormatException.class,
                () -> Profile.parse("bundled", List.of(dump.paholeText(), changed), dump.configText()));

        assertAll(
                () -> assertEquals("bundled[1]", e.source()),
                () -> assertEquals(line, e.line()),
                () -> assertTrue(e.reason().startsWith("struct sched_entity differs from struct sched_entity in "
                        + "bundled[0] at line "), e.reason()),
                () -> assertTrue(e.reason().endsWith(": on_rq: unsigned int there, int on_rq here"), e.reason()));
    }

    @Test
    void loadReadsEveryPaholeFileAndNamesTheProfileAfterTheFirstFilesFolder(@TempDir Path dir)
            throws IOException, ProfileFormatException {
        Path build = Files.createDirectory(dir.resolve("my-build"));
        Path structs = Files.writeString(build.resolve("structs.pahole"), LIST_HEAD + TASK);
        Path sched = Files.writeString(build.resolve("sched.pahole"), RQ + LIST_HEAD);
        Path config = Files.writeString(build.resolve("config"), "CONFIG_SMP=y\n");

        Profile profile = Profile.load(List.of(structs, sched), config);

        assertAll(
                () -> assertEquals("my-build", profile.name()),
                () -> assertEquals(List.of(structs.toString(), sched.toString()), profile.sources()),
                () -> assertEquals(List.of("list_head", "task", "rq"), names(profile.types())),
                () -> assertTrue(profile.config().enabled("CONFIG_SMP")),
                () -> assertEquals(List.of(structs.toString()), Profile.load(structs, config).sources()));
    }

    @Test
    void aMalformedSecondDumpIsNamedByItsFile(@TempDir Path dir) throws IOException {
        Path structs = Files.writeString(dir.resolve("structs.pahole"), LIST_HEAD);
        Path sched = Files.writeString(dir.resolve("sched.pahole"), "struct rq {\n\tnonsense\n};\n");
        Path config = Files.writeString(dir.resolve("config"), "");

        ProfileFormatException e = assertThrows(ProfileFormatException.class,
                () -> Profile.load(List.of(structs, sched), config));

        assertEquals(sched.toString(), e.source());
        assertEquals(2, e.line());
    }

    @Test
    void aProfileNeedsADump() {
        assertThrows(IllegalArgumentException.class, () -> Profile.parse("mine", List.of(), ""));
    }

    private static List<String> names(Iterable<StructLayout> types) {
        List<String> names = new java.util.ArrayList<>();
        types.forEach(type -> names.add(type.name()));
        return names;
    }
}
