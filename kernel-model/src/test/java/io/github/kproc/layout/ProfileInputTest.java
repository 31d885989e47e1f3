package io.github.kproc.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What {@link Profile#load} and {@link Kconfig} refuse before any of it reaches the model: files that
 * are not regular files (a FIFO would block the reader), files over the size limits, types that embed
 * themselves, and the numeric options the model computes from out of their ranges.
 */
class ProfileInputTest {
    private static final String PAHOLE = "struct a {\n\tint x; /* 0 4 */\n\n\t/* size: 4, cachelines: 1, members: 1 */\n};\n";

    @TempDir
    Path dir;

    @Test
    void aDirectoryOrAFifoIsRefusedWithoutOpeningIt() throws IOException, InterruptedException {
        Path config = Files.writeString(dir.resolve("config"), "CONFIG_HZ=100\n");
        FileSystemException e = assertThrows(FileSystemException.class, () -> Profile.load(dir, config));
        assertEquals("is a directory", e.getReason());
        Path fifo = dir.resolve("fifo");
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        } catch (IOException noMkfifo) {
            return; // a host without mkfifo has no FIFOs to test
        }
        assertEquals(0, mkfifo.waitFor());
        Path pahole = Files.writeString(dir.resolve("a.pahole"), PAHOLE);
        FileSystemException f = assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(FileSystemException.class, () -> Profile.load(pahole, fifo)));
        assertEquals("not a regular file (a FIFO, device or socket)", f.getReason());
        assertTimeoutPreemptively(Duration.ofSeconds(5),
                () -> assertThrows(FileSystemException.class, () -> Profile.load(Path.of("/dev/zero"), config)));
    }

    @Test
    void filesOverTheLimitsAreRefusedBeforeTheyAreRead() throws IOException {
        Path config = Files.writeString(dir.resolve("config"), "CONFIG_HZ=100\n");
        Path big = dir.resolve("big.pahole");
        try (var file = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            file.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}), Profile.MAX_PAHOLE_BYTES); // sparse
        }
        ProfileFormatException e = assertThrows(ProfileFormatException.class, () -> Profile.load(big, config));
        assertEquals(big.toString(), e.source());
        assertEquals((Profile.MAX_PAHOLE_BYTES + 1) + " bytes, larger than the 64 MiB read of such a file", e.reason());
        Path pahole = Files.writeString(dir.resolve("a.pahole"), PAHOLE);
        Path bigConfig = dir.resolve("big.config");
        Files.write(bigConfig, new byte[(int) Profile.MAX_CONFIG_BYTES + 1]);
        assertTrue(assertThrows(ProfileFormatException.class, () -> Profile.load(pahole, bigConfig)).reason()
                .endsWith("larger than the 4 MiB read of such a file"));
    }

    @Test
    void aPathWithoutAFolderNameNamesTheProfileAfterItself() throws Exception {
        // Profile.load names the profile after the dump's folder; "/" has no name
        Path config = Files.writeString(dir.resolve("config"), "CONFIG_HZ=100\n");
        FileSystemException e = assertThrows(FileSystemException.class, () -> Profile.load(Path.of("/"), config));
        assertEquals("is a directory", e.getReason());
        assertThrows(NullPointerException.class, () -> Profile.load((Path) null, config), "pahole");
    }

    @Test
    void aTypeThatContainsItselfByValueIsRejected() {
        String direct = "struct a {\n\tstruct a x; /* 0 4 */\n\n\t/* size: 4, cachelines: 1, members: 1 */\n};\n";
        ProfileFormatException e = assertThrows(ProfileFormatException.class, () -> Profile.parse("loop", direct, ""));
        assertEquals("struct a contains itself by value: struct a -> struct a", e.reason());
        assertEquals(1, e.line());
        String mutual = "struct a {\n\tstruct b x; /* 0 4 */\n\n\t/* size: 4, cachelines: 1, members: 1 */\n};\n"
                + "struct b {\n\tstruct a y[2]; /* 0 8 */\n\n\t/* size: 8, cachelines: 1, members: 1 */\n};\n";
        e = assertThrows(ProfileFormatException.class, () -> Profile.parse("loop", mutual, ""));
        assertEquals("struct a contains itself by value: struct a -> struct b -> struct a", e.reason());
        String pointer = "struct a {\n\tstruct a * next; /* 0 8 */\n\n\t/* size: 8, cachelines: 1, members: 1 */\n};\n";
        assertEquals(8, assertDoesNotThrowProfile(pointer).sizeOf("a"), "a pointer to itself is fine");
    }

    private static Profile assertDoesNotThrowProfile(String pahole) {
        try {
            return Profile.parse("ok", pahole, "");
        } catch (ProfileFormatException e) {
            throw new AssertionError(e);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "CONFIG_HZ=0|CONFIG_HZ=0 is out of range: the model needs 1..100000",
        "CONFIG_HZ=y|CONFIG_HZ=y is out of range: the model needs 1..100000",
        "CONFIG_NR_CPUS=0|CONFIG_NR_CPUS=0 is out of range: the model needs 1..8192",
        "CONFIG_ARM64_VA_BITS=0|CONFIG_ARM64_VA_BITS=0 is out of range: the model needs 36..52",
        "CONFIG_ARM64_PAGE_SHIFT=13|CONFIG_ARM64_PAGE_SHIFT=13 is out of range: the model needs 12..16, a multiple of 2",
        "CONFIG_PAGE_OFFSET=0x80001000|CONFIG_PAGE_OFFSET=0x80001000 is out of range: the model needs 0x400000..0xffc00000, a multiple of 0x400000",
        "CONFIG_PAGE_OFFSET=0x100000000|CONFIG_PAGE_OFFSET=0x100000000 is out of range: the model needs 0x400000..0xffc00000, a multiple of 0x400000",
    })
    void optionsTheModelComputesFromAreCheckedWhenTheConfigLoads(String line, String reason) {
        ProfileFormatException e = assertThrows(ProfileFormatException.class,
                () -> Kconfig.parse("my/config", "# a comment\n" + line + "\n"));
        assertEquals("my/config", e.source());
        assertEquals(2, e.line());
        assertEquals(reason, e.reason());
        String[] pair = line.split("=", 2);
        assertEquals(reason, assertThrows(IllegalArgumentException.class, () -> Kconfig.of(Map.of(pair[0], pair[1])))
                .getMessage());
    }

    @Test
    void a64BitBuildHasNoThirtyTwoBitPageOffsetToCheck() throws ProfileFormatException {
        assertEquals(0xffff_8000_0000_0000L, Kconfig.parse("c", "CONFIG_64BIT=y\nCONFIG_PAGE_OFFSET=0xffff800000000000\n")
                .number("CONFIG_PAGE_OFFSET", 0));
    }
}
