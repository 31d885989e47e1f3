package io.github.kproc.arm32;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.layout.Profile;
import io.github.kproc.tck.ArchFacts;
import io.github.kproc.tck.KernelContract.Backend;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The vexpress build as a user who turned the namespaces on would load it: the bundled pahole files
 * and the bundled {@code .config} with {@code CONFIG_USER_NS}, {@code PID_NS}, {@code UTS_NS},
 * {@code IPC_NS} and {@code NET_NS} set, read from files with {@link Profile#load(List, Path)}. The
 * layouts these options change (none of fork.o's structs) are the same, so the facts are the bundled
 * build's; the namespace contracts of the TCK run on it, as on arm64, whose defconfig has them.
 */
final class Arm32WithNamespaces {
    static final String NAME = "linux-4.19-arm32-vexpress+namespaces";
    static final List<String> OPTIONS = List.of("CONFIG_USER_NS", "CONFIG_PID_NS", "CONFIG_UTS_NS", "CONFIG_IPC_NS",
            "CONFIG_NET_NS");
    private static Backend backend;

    private Arm32WithNamespaces() {
    }

    static synchronized Backend backend() {
        if (backend == null) {
            backend = new Backend(load(), ArchFacts.ARM32_VEXPRESS.named(NAME));
        }
        return backend;
    }

    private static Platform load() {
        try {
            Path dir = Path.of(Arm32WithNamespaces.class.getResource(
                    "/io/github/kproc/arm32/linux-4.19-arm32-vexpress/config").toURI()).getParent();
            String config = Files.readString(dir.resolve("config"));
            for (String option : OPTIONS) {
                String off = "# " + option + " is not set";
                if (!config.contains(off)) {
                    throw new IllegalStateException("the bundled .config no longer lacks " + option);
                }
                config = config.replace(off, option + "=y");
            }
            // a folder of the user's own, named as the profile is to be named
            Path own = Files.createTempDirectory("kproc-profile").resolve(NAME);
            Files.createDirectories(own);
            List<Path> pahole = java.util.stream.Stream.of("structs", "sched", "rcu", "ipc", "namespace", "vmalloc")
                    .map(dump -> own.resolve(dump + ".pahole")).toList();
            for (Path p : pahole) {
                Files.copy(dir.resolve(p.getFileName()), p);
            }
            Path edited = Files.writeString(own.resolve("config"), config);
            own.getParent().toFile().deleteOnExit();
            own.toFile().deleteOnExit();
            for (Path p : pahole) {
                p.toFile().deleteOnExit();
            }
            edited.toFile().deleteOnExit();
            return Platforms.of(Profile.load(pahole, edited));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException | io.github.kproc.layout.ProfileFormatException e) {
            throw new IllegalStateException(e);
        }
    }
}
