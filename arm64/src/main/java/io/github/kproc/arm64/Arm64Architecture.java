package io.github.kproc.arm64;

import io.github.kproc.arch.Architecture;
import io.github.kproc.arch.Platform;
import io.github.kproc.layout.Profile;
import java.util.List;
import java.util.NoSuchElementException;

/** {@code ARCH=arm64}: AArch64, Linux 4.19. */
public final class Arm64Architecture implements Architecture {
    /** The bundled arm64 defconfig build (SMP, PREEMPT, THREAD_INFO_IN_TASK, VMAP_STACK, 4K pages, 48-bit VA). */
    public static final String DEFCONFIG = "linux-4.19-arm64-defconfig";

    @Override
    public String name() {
        return "arm64";
    }

    @Override
    public boolean supports(Profile profile) {
        return profile.config().builtIn("CONFIG_ARM64");
    }

    @Override
    public List<String> bundledProfiles() {
        return List.of(DEFCONFIG);
    }

    @Override
    public Profile loadProfile(String name) {
        if (!DEFCONFIG.equals(name)) {
            throw new NoSuchElementException("the arm64 backend bundles no profile " + name);
        }
        return Architecture.loadBundledProfile(Arm64Architecture.class, name);
    }

    @Override
    public Platform bind(Profile profile) {
        return new Arm64Platform(this, profile);
    }
}
