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
 * A backend's bundled profile merges the pahole dumps of {@code kernel/fork.o} ({@code structs.pahole}),
 * {@code kernel/sched/core.o} ({@code sched.pahole}), {@code kernel/rcu/tree.o}, {@code ipc/sem.o},
 * {@code fs/namespace.o} and {@code mm/vmalloc.o} of one build, read from the backend's resources: the
 * runqueue types come from the second, the RCU, IPC, mount and vmalloc types from the others, and each
 * dump prints back byte for byte.
 */
public abstract class BundledProfileContract extends KernelContract {
    private Profile profile() {
        return platform().profile();
    }

    /** The dumps in the order {@code Architecture.loadBundledProfile} merges them. */
    private static final List<String> DUMPS = List.of("structs.pahole", "sched.pahole", "rcu.pahole", "ipc.pahole",
            "namespace.pahole", "vmalloc.pahole");

    @Test
    @DisplayName("Architecture.loadBundledProfile reads structs, sched, rcu, ipc, namespace and vmalloc dumps in that order")
    void theBundledProfileIsReadFromEveryDump() {
        String name = facts().profile();
        assertEquals(DUMPS.stream().map(d -> name + "/" + d).toList(), profile().sources());
    }

    @Test
    @DisplayName("the RCU, IPC, mount-namespace and vmalloc types are in the bundled profile")
    void theBundledProfileHasTheTypesOfTheOtherObjects() {
        for (String type : List.of("rcu_data", "rcu_node", "rcu_state", "rcu_segcblist", "ipc_namespace",
                "sem_undo_list", "mnt_namespace", "vmap_area", "vm_struct")) {
            assertTrue(profile().find(type).isPresent(), "struct " + type);
        }
        assertTrue(profile().has("rcu_data", "cblist.head"));
        assertTrue(profile().has("mnt_namespace", "ns.inum"));
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
        for (int i = 0; i < DUMPS.size(); i++) {
            assertEquals(resource(DUMPS.get(i)), Pahole.print(profile(), i), DUMPS.get(i));
        }
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
