package io.github.kproc.arch;

import io.github.kproc.layout.Profile;
import java.util.List;

/**
 * A backend for one kernel architecture ({@code ARCH=arm}, {@code ARCH=arm64}), found with
 * {@link java.util.ServiceLoader}. A backend is a small table of facts and hooks: it recognises
 * its builds' profiles, bundles some, and binds a profile to a {@link Platform}.
 */
public interface Architecture {
    /** The kernel's name for the architecture: {@code "arm"} or {@code "arm64"}. */
    String name();

    /** True if the profile is a build of this architecture (by its Kconfig). */
    boolean supports(Profile profile);

    /** Names of the profiles this backend bundles. */
    List<String> bundledProfiles();

    /**
     * Loads a bundled profile.
     *
     * @throws java.util.NoSuchElementException if this backend bundles no profile of that name
     */
    Profile loadProfile(String name);

    /**
     * Binds a profile of this architecture: checks that the profile has every struct and member the
     * model needs and resolves them once.
     *
     * @throws IllegalArgumentException if the profile is not of this architecture or lacks a needed member
     */
    Platform bind(Profile profile);

    /**
     * Loads a profile a backend bundles as resources beside {@code owner}: the pahole dumps of one
     * build, merged, and its {@code NAME/config}. The dumps are those of the objects whose types the
     * model lays out: {@code NAME/structs.pahole} ({@code kernel/fork.o}), {@code NAME/sched.pahole}
     * ({@code kernel/sched/core.o}: {@code struct rq}, {@code cfs_rq}, {@code rt_rq}, the domains),
     * {@code NAME/rcu.pahole} ({@code kernel/rcu/tree.o}: {@code rcu_data}, {@code rcu_node},
     * {@code rcu_state}), {@code NAME/ipc.pahole} ({@code ipc/sem.o}: {@code ipc_namespace},
     * {@code sem_undo_list}), {@code NAME/namespace.pahole} ({@code fs/namespace.o}:
     * {@code mnt_namespace}) and {@code NAME/vmalloc.pahole} ({@code mm/vmalloc.o}: {@code vmap_area}).
     *
     * @throws java.io.UncheckedIOException if the resources cannot be read
     * @throws IllegalStateException if they are malformed
     */
    static Profile loadBundledProfile(Class<?> owner, String name) {
        try {
            return Profile.fromResources(name, owner, List.of(name + "/structs.pahole", name + "/sched.pahole",
                    name + "/rcu.pahole", name + "/ipc.pahole", name + "/namespace.pahole", name + "/vmalloc.pahole"),
                    name + "/config");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (io.github.kproc.layout.ProfileFormatException e) {
            throw new IllegalStateException("bundled profile is corrupt: " + e.getMessage(), e);
        }
    }
}
