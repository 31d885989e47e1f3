package io.github.kproc.arm32;

import io.github.kproc.arch.Architecture;
import io.github.kproc.arch.Platform;
import io.github.kproc.layout.Profile;
import java.util.List;
import java.util.NoSuchElementException;

/** {@code ARCH=arm}: 32-bit ARM, Linux 4.19. */
public final class Arm32Architecture implements Architecture {
    /** The bundled vexpress_defconfig build (SMP, 2G/2G split, VFPv3, no PREEMPT). */
    public static final String VEXPRESS = "linux-4.19-arm32-vexpress";

    @Override
    public String name() {
        return "arm";
    }

    @Override
    public boolean supports(Profile profile) {
        return profile.config().builtIn("CONFIG_ARM") && !profile.config().enabled("CONFIG_ARM64");
    }

    @Override
    public List<String> bundledProfiles() {
        return List.of(VEXPRESS);
    }

    @Override
    public Profile loadProfile(String name) {
        if (!VEXPRESS.equals(name)) {
            throw new NoSuchElementException("the arm backend bundles no profile " + name);
        }
        return Architecture.loadBundledProfile(Arm32Architecture.class, name);
    }

    @Override
    public Platform bind(Profile profile) {
        return new Arm32Platform(this, profile);
    }
}
