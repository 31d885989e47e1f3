package io.github.kproc.arm32;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.layout.Pahole;
import io.github.kproc.layout.Profile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bundled linux-4.19-arm32-vexpress profile merges the pahole dumps of kernel/fork.o ({@code structs.pahole}) and
 * kernel/sched/core.o ({@code sched.pahole}): the runqueue types come from the second.
 */
class Arm32BundledProfileTest {
    private final Profile profile = new Arm32Architecture().loadProfile(Arm32Architecture.VEXPRESS);

    @Test
    void theBundledProfileIsReadFromBothDumps() {
        assertEquals(List.of(Arm32Architecture.VEXPRESS + "/structs.pahole",
                        Arm32Architecture.VEXPRESS + "/sched.pahole"), profile.sources());
    }

    @Test
    void theBundledProfileHasTheRunqueue() {
        assertTrue(profile.find("rq").isPresent(), "struct rq of kernel/sched/sched.h");
        assertEquals(1664, profile.sizeOf("rq"), "sizeof(struct rq) as sched.pahole prints it");
        assertTrue(profile.has("rq", "cfs.tasks_timeline.rb_leftmost"));
        assertTrue(profile.has("rq", "rt.active.queue[99].next"));
    }

    @Test
    void eachBundledDumpPrintsBackByteForByte() throws IOException {
        assertEquals(resource("structs.pahole"), Pahole.print(profile, 0));
        assertEquals(resource("sched.pahole"), Pahole.print(profile, 1));
    }

    private static String resource(String file) throws IOException {
        String path = Arm32Architecture.VEXPRESS + "/" + file;
        try (InputStream in = Arm32Architecture.class.getResourceAsStream(path)) {
            assertTrue(in != null, path);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
