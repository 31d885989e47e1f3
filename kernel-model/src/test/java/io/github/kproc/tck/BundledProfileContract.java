package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.layout.Pahole;
import io.github.kproc.layout.Profile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * A backend's bundled profile merges the pahole dumps of {@code kernel/fork.o} ({@code structs.pahole})
 * and {@code kernel/sched/core.o} ({@code sched.pahole}), read from the backend's resources: the
 * runqueue types come from the second, and each dump prints back byte for byte.
 */
public abstract class BundledProfileContract extends KernelContract {
    private Profile profile() {
        return platform().profile();
    }

    @Test
    @DisplayName("Architecture.loadBundledProfile reads structs.pahole, then sched.pahole")
    void theBundledProfileIsReadFromBothDumps() {
        String name = facts().profile();
        assertEquals(List.of(name + "/structs.pahole", name + "/sched.pahole"), profile().sources());
    }

    @Test
    @DisplayName("struct rq of kernel/sched/sched.h is in the bundled profile, with its cfs and rt members")
    void theBundledProfileHasTheRunqueue() {
        assertTrue(profile().find("rq").isPresent(), "struct rq of kernel/sched/sched.h");
        assertTrue(profile().sizeOf("rq") > 0);
        assertTrue(profile().has("rq", "cfs.tasks_timeline.rb_leftmost"));
        assertTrue(profile().has("rq", "rt.active.queue[99].next"));
    }

    @Test
    @DisplayName("Pahole.print(profile, source) gives each bundled dump back byte for byte")
    void eachBundledDumpPrintsBackByteForByte() throws IOException {
        assertEquals(resource("structs.pahole"), Pahole.print(profile(), 0));
        assertEquals(resource("sched.pahole"), Pahole.print(profile(), 1));
    }

    private String resource(String file) throws IOException {
        String path = facts().profile() + "/" + file;
        Class<?> backend = platform().architecture().getClass();
        try (InputStream in = backend.getResourceAsStream(path)) {
            assertTrue(in != null, path + " beside " + backend.getName());
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
