package io.github.kproc.layout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The two builds the backends bundle, each as its pahole dumps ({@code structs.pahole} from
 * {@code kernel/fork.o}, {@code sched.pahole} from {@code kernel/sched/core.o}) and {@code .config},
 * read straight from the backend modules' resources (surefire runs in the kernel-model directory),
 * parsed once per test run.
 */
public enum BundledDump {
    ARM32("linux-4.19-arm32-vexpress", Path.of("..", "arm32", "src", "main", "resources", "io", "github", "kproc",
            "arm32", "linux-4.19-arm32-vexpress")),
    ARM64("linux-4.19-arm64-defconfig", Path.of("..", "arm64", "src", "main", "resources", "io", "github", "kproc",
            "arm64", "linux-4.19-arm64-defconfig"));

    private final String profileName;
    private final Path dir;
    private String pahole;
    private String sched;
    private String config;
    private Profile profile;

    BundledDump(String profileName, Path dir) {
        this.profileName = profileName;
        this.dir = dir;
    }

    /** The original {@code structs.pahole} text. */
    synchronized String paholeText() {
        if (pahole == null) {
            pahole = read("structs.pahole");
        }
        return pahole;
    }

    /** The original {@code sched.pahole} text. */
    synchronized String schedText() {
        if (sched == null) {
            sched = read("sched.pahole");
        }
        return sched;
    }

    /** The original {@code config} text. */
    synchronized String configText() {
        if (config == null) {
            config = read("config");
        }
        return config;
    }

    /** The folder of the files, as a path from the kernel-model directory. */
    Path dir() {
        return dir;
    }

    /** The profile parsed from the two dumps (in this order) and the config, as the backend bundles it. */
    public synchronized Profile profile() {
        if (profile == null) {
            try {
                profile = Profile.parse(profileName, List.of(paholeText(), schedText()), configText());
            } catch (ProfileFormatException e) {
                throw new AssertionError("bundled dump does not parse: " + e.getMessage(), e);
            }
        }
        return profile;
    }

    private String read(String file) {
        try {
            return Files.readString(dir.resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir.resolve(file).toAbsolutePath(), e);
        }
    }
}
