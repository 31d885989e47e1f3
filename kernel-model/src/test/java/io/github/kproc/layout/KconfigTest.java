package io.github.kproc.layout;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A {@code .config} as {@code scripts/kconfig} writes it: {@code CONFIG_NAME=value} for a set option,
 * {@code # CONFIG_NAME is not set} for a bool or tristate that is off, other {@code #} lines comments.
 */
class KconfigTest {
    private static final String CONFIG = """
            #
            # Automatically generated file; DO NOT EDIT.
            # Linux/arm 4.19.1 Kernel Configuration
            #
            CONFIG_SMP=y
            CONFIG_EXT4_FS=m
            # CONFIG_PREEMPT is not set
            CONFIG_NR_CPUS=8
            CONFIG_NEGATIVE=-3
            CONFIG_PAGE_OFFSET=0x80000000
            CONFIG_ILLEGAL_POINTER_VALUE=0xdead000000000000
            CONFIG_CMDLINE="console=ttyAMA0 root=\\"/dev/vda\\" path=C:\\\\x"
            CONFIG_LOCALVERSION=""

            CONFIG_TOO_BIG=0x1ffffffffffffffff
            """;

    private final Kconfig config = parse(CONFIG);

    @Test
    void aBoolOrTristateIsEnabledWhenBuiltInOrAModule() {
        assertAll(
                () -> assertTrue(config.enabled("CONFIG_SMP")),
                () -> assertTrue(config.builtIn("CONFIG_SMP")),
                () -> assertTrue(config.enabled("CONFIG_EXT4_FS"), "=m"),
                () -> assertFalse(config.builtIn("CONFIG_EXT4_FS"), "=m is not built in"));
    }

    @Test
    void anOptionThatIsNotSetIsAbsent() {
        assertAll(
                () -> assertFalse(config.enabled("CONFIG_PREEMPT")),
                () -> assertEquals(Optional.empty(), config.raw("CONFIG_PREEMPT")),
                () -> assertFalse(config.asMap().containsKey("CONFIG_PREEMPT")),
                () -> assertFalse(config.enabled("CONFIG_NEVER_MENTIONED")),
                () -> assertEquals(42, config.number("CONFIG_NEVER_MENTIONED", 42)));
    }

    @Test
    void intAndHexOptionsAreNumbers() {
        assertAll(
                () -> assertEquals(8, config.number("CONFIG_NR_CPUS", 0)),
                () -> assertEquals(-3, config.number("CONFIG_NEGATIVE", 0)),
                () -> assertEquals(0x8000_0000L, config.number("CONFIG_PAGE_OFFSET", 0)),
                () -> assertEquals(0xdead_0000_0000_0000L, config.number("CONFIG_ILLEGAL_POINTER_VALUE", 0),
                        "hex is read as 64 unsigned bits"));
    }

    @Test
    void aValueThatIsNotANumberIsRefusedByNameWhenReadAsOne() {
        IllegalArgumentException notNumber = assertThrows(IllegalArgumentException.class,
                () -> config.number("CONFIG_SMP", 0));
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                () -> config.number("CONFIG_TOO_BIG", 0));

        assertTrue(notNumber.getMessage().contains("CONFIG_SMP"), notNumber.getMessage());
        assertTrue(tooBig.getMessage().contains("CONFIG_TOO_BIG"), tooBig.getMessage());
    }

    @Test
    void aStringOptionLosesItsQuotesAndEscapes() {
        assertAll(
                () -> assertEquals(Optional.of("console=ttyAMA0 root=\"/dev/vda\" path=C:\\x"),
                        config.string("CONFIG_CMDLINE")),
                () -> assertEquals(Optional.of(""), config.string("CONFIG_LOCALVERSION")),
                () -> assertEquals(Optional.empty(), config.string("CONFIG_NR_CPUS"), "not a string"),
                () -> assertEquals(Optional.of("\"\""), config.raw("CONFIG_LOCALVERSION")));
    }

    @Test
    void optionsKeepTheirFileOrder() {
        assertEquals(List.of("CONFIG_SMP", "CONFIG_EXT4_FS", "CONFIG_NR_CPUS", "CONFIG_NEGATIVE",
                "CONFIG_PAGE_OFFSET", "CONFIG_ILLEGAL_POINTER_VALUE", "CONFIG_CMDLINE", "CONFIG_LOCALVERSION",
                "CONFIG_TOO_BIG"), List.copyOf(config.asMap().keySet()));
    }

    @Test
    void windowsLineEndingsAreTolerated() throws ProfileFormatException {
        Kconfig crlf = Kconfig.parse("crlf", "CONFIG_SMP=y\r\n# CONFIG_PREEMPT is not set\r\nCONFIG_HZ=100\r\n");

        assertTrue(crlf.builtIn("CONFIG_SMP"));
        assertEquals(100, crlf.number("CONFIG_HZ", 0));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
            no value                 | CONFIG_SMP                    | expected CONFIG_NAME=value
            empty value              | CONFIG_SMP=                   | not a Kconfig value
            a word that is not y/m/n | CONFIG_SMP=yes                | not a Kconfig value
            an unterminated string   | CONFIG_CMDLINE="console       | not a Kconfig value
            a bare word string       | CONFIG_CMDLINE=console        | not a Kconfig value
            hex without digits       | CONFIG_PAGE_OFFSET=0x         | not a Kconfig value
            hex with a bad digit     | CONFIG_PAGE_OFFSET=0x8000000g | not a Kconfig value
            two values               | CONFIG_NR_CPUS=8 16           | not a Kconfig value
            a name without CONFIG_   | SMP=y                         | expected CONFIG_NAME=value
            a space in the name      | CONFIG_NR CPUS=8              | expected CONFIG_NAME=value
            a stray word             | garbage                       | expected CONFIG_NAME=value
            """)
    void aMalformedLineIsRefusedWithItsLineNumber(String rule, String line, String reason) {
        String text = "#\n# Linux/arm 4.19.1 Kernel Configuration\n#\nCONFIG_SMP=y\n\n" + line + "\nCONFIG_HZ=100\n";

        ProfileFormatException e = assertThrows(ProfileFormatException.class, () -> Kconfig.parse("bad.config", text),
                rule);

        assertAll(rule,
                () -> assertEquals("bad.config", e.source()),
                () -> assertEquals(6, e.line()),
                () -> assertTrue(e.reason().contains(reason), e.reason()),
                () -> assertTrue(e.getMessage().startsWith("bad.config:6: "), e.getMessage()));
    }

    @Test
    void aMalformedConfigOfAProfileNamesTheConfigFile() {
        ProfileFormatException e = assertThrows(ProfileFormatException.class,
                () -> Profile.parse("mine", BundledDump.ARM32.paholeText(), "CONFIG_SMP=y\nCONFIG_HZ=often\n"));

        assertEquals("mine/config", e.source());
        assertEquals(2, e.line());
    }

    @Test
    void arm32VexpressIsAnSmpBuildWithA2GSplitAndNoPreemption() {
        Kconfig arm32 = BundledDump.ARM32.profile().config();

        assertAll(
                () -> assertEquals(0x8000_0000L, arm32.number("CONFIG_PAGE_OFFSET", 0), "VMSPLIT_2G"),
                () -> assertTrue(arm32.builtIn("CONFIG_VMSPLIT_2G")),
                () -> assertEquals(8, arm32.number("CONFIG_NR_CPUS", 0)),
                () -> assertTrue(arm32.builtIn("CONFIG_SMP")),
                () -> assertTrue(arm32.builtIn("CONFIG_PREEMPT_NONE")),
                () -> assertFalse(arm32.enabled("CONFIG_PREEMPT")),
                () -> assertFalse(arm32.enabled("CONFIG_THREAD_INFO_IN_TASK")),
                () -> assertTrue(arm32.builtIn("CONFIG_VFPv3")),
                () -> assertEquals(100, arm32.number("CONFIG_HZ", 0)),
                () -> assertEquals(Optional.of("console=ttyAMA0"), arm32.string("CONFIG_CMDLINE")));
    }

    @Test
    void arm64DefconfigIsPreemptibleWithThreadInfoInTaskAndVmappedStacks() {
        Kconfig arm64 = BundledDump.ARM64.profile().config();

        assertAll(
                () -> assertEquals(64, arm64.number("CONFIG_NR_CPUS", 0)),
                () -> assertTrue(arm64.builtIn("CONFIG_PREEMPT")),
                () -> assertFalse(arm64.enabled("CONFIG_PREEMPT_NONE")),
                () -> assertTrue(arm64.builtIn("CONFIG_THREAD_INFO_IN_TASK")),
                () -> assertTrue(arm64.builtIn("CONFIG_VMAP_STACK")),
                () -> assertTrue(arm64.builtIn("CONFIG_ARM64_4K_PAGES")),
                () -> assertEquals(12, arm64.number("CONFIG_ARM64_PAGE_SHIFT", 0)),
                () -> assertEquals(48, arm64.number("CONFIG_ARM64_VA_BITS", 0)),
                () -> assertEquals(0xdead_0000_0000_0000L, arm64.number("CONFIG_ILLEGAL_POINTER_VALUE", 0)),
                () -> assertTrue(arm64.enabled("CONFIG_CPU_FREQ_GOV_POWERSAVE")),
                () -> assertFalse(arm64.builtIn("CONFIG_CPU_FREQ_GOV_POWERSAVE"), "a module"),
                () -> assertEquals(Optional.of(""), arm64.string("CONFIG_CMDLINE")));
    }

    private static Kconfig parse(String text) {
        try {
            return Kconfig.parse("test.config", text);
        } catch (ProfileFormatException e) {
            throw new AssertionError(e);
        }
    }
}
