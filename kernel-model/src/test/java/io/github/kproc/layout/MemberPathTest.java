package io.github.kproc.layout;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A member path resolves to one place in a struct, or fails with {@link NoSuchElementException} naming
 * what it could not find; it never answers with a wrong offset.
 */
class MemberPathTest {
    private final Profile arm64 = BundledDump.ARM64.profile();

    @Test
    void aTypeIsFoundWithOrWithoutItsTag() {
        assertAll(
                () -> assertEquals(arm64.struct("task_struct"), arm64.struct("struct task_struct")),
                () -> assertEquals(arm64.struct("user_fpsimd_state"), arm64.find("user_fpsimd_state").orElseThrow()),
                () -> assertTrue(arm64.find("no_such_struct").isEmpty()));
    }

    @Test
    void anUnknownTypeIsNoSuchElement() {
        NoSuchElementException e = assertThrows(NoSuchElementException.class,
                () -> arm64.offsetOf("no_such_struct", "state"));

        assertTrue(e.getMessage().contains("no_such_struct"), e.getMessage());
        assertThrows(NoSuchElementException.class, () -> arm64.sizeOf("struct no_such_struct"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            unknown member                     | no_such_member           | no_such_member
            unknown member of an embedded type | se.no_such_member        | no_such_member
            unknown member of an inline body   | restart_block.futex.nope | nope
            index past the end                 | pid_links[4]             | out of bounds
            index past the end of a nested one | thread.uw.fpsimd_state.vregs[32] | out of bounds
            index too large for a long         | pid_links[99999999999999999999] | out of bounds
            index on a non-array               | state[0]                 | too many indices
            too many indices                   | pid_links[1][0]          | too many indices
            a member of a pointer              | parent.pid               | has no members
            a member of a scalar               | state.x                  | has no members
            an empty path                      | ''                       | bad member path
            an empty segment                   | se..vruntime             | bad member path
            a negative index                   | pid_links[-1]            | bad member path
            """)
    void aPathThatLeadsNowhereIsNoSuchElement(String rule, String path, String reason) {
        NoSuchElementException e = assertThrows(NoSuchElementException.class,
                () -> arm64.field("task_struct", path), rule);

        assertTrue(e.getMessage().contains(reason), rule + ": " + e.getMessage());
        assertFalse(arm64.has("task_struct", path), rule);
    }

    @Test
    void partialIndexingOfAMultiDimensionalArrayIsNoSuchElement() {
        NoSuchElementException e = assertThrows(NoSuchElementException.class,
                () -> arm64.field("mem_cgroup_per_node", "lru_zone_size[1]"));

        assertTrue(e.getMessage().contains("partial"), e.getMessage());
    }

    @Test
    void aFlexibleArrayHasNoElementToIndex() {
        // kgid_t gid[]: the profile cannot know how many elements the allocation holds
        assertThrows(NoSuchElementException.class, () -> arm64.field("group_info", "gid[0]"));
        assertEquals(8, arm64.offsetOf("group_info", "gid"));
    }

    @Test
    void theLastElementOfAnArrayIsInBounds() {
        assertEquals(1208 + 3 * 16, arm64.offsetOf("task_struct", "pid_links[3]"));
        assertEquals(16, arm64.field("task_struct", "pid_links[3]").size());
        assertTrue(arm64.has("task_struct", "pid_links[3].next"));
    }
}
