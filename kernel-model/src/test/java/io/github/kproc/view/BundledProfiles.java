package io.github.kproc.view;

import io.github.kproc.layout.Profile;
import io.github.kproc.layout.ProfileFormatException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The two real v4.19 builds the backends bundle, read from the backend modules' resources (surefire
 * runs in the kernel-model directory; kernel-model cannot depend on the backends).
 */
enum BundledProfiles {
    ARM32("arm32", "linux-4.19-arm32-vexpress"),
    ARM64("arm64", "linux-4.19-arm64-defconfig");

    private final Path dir;
    private Profile profile;

    BundledProfiles(String module, String name) {
        this.dir = Path.of("..", module, "src", "main", "resources", "io", "github", "kproc", module, name);
    }

    synchronized Profile profile() {
        if (profile == null) {
            try {
                profile = Profile.load(dir.resolve("structs.pahole"), dir.resolve("config"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + dir.toAbsolutePath(), e);
            } catch (ProfileFormatException e) {
                throw new AssertionError("bundled profile does not parse: " + e.getMessage(), e);
            }
        }
        return profile;
    }
}
