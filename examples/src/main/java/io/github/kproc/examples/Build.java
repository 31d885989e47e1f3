package io.github.kproc.examples;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.layout.Profile;
import io.github.kproc.layout.ProfileFormatException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.NoSuchElementException;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The kernel build a command works on: a bundled profile ({@code --profile NAME}) or a user's own
 * pahole dump and {@code .config} ({@code --pahole FILE --config FILE}), with the platform it binds
 * to when an architecture backend supports it.
 *
 * @param profile the layouts and config
 * @param platform the bound platform, or null when no backend binds the profile
 * @param unbound why no backend binds the profile, or null when one does
 */
record Build(Profile profile, @Nullable Platform platform, @Nullable String unbound) {
    /** The options that choose a build. */
    static final Set<String> OPTIONS = Set.of("profile", "pahole", "config");

    /** The usage lines of those options. */
    static final String OPTIONS_USAGE = """
              --profile NAME   a profile the backends bundle (see 'kproc profiles')
              --pahole FILE    the pahole dump of your own build ('pahole vmlinux > FILE')
              --config FILE    the .config of that build
            """;

    /** The build the options name. */
    static Build from(String command, Options options) throws UsageException {
        String name = options.get("profile");
        String pahole = options.get("pahole");
        String config = options.get("config");
        if (name != null) {
            if (pahole != null || config != null) {
                throw new UsageException(command + ": give either --profile or --pahole and --config, not both");
            }
            try {
                Platform platform = Platforms.bundled(name);
                return new Build(platform.profile(), platform, null);
            } catch (NoSuchElementException e) {
                throw new UsageException("unknown profile '" + name + "'; bundled: "
                        + String.join(", ", Platforms.bundledProfiles()));
            }
        }
        if (pahole == null && config == null) {
            throw new UsageException(command + ": missing option --profile (or --pahole and --config)");
        }
        Profile profile = load(options.require("pahole"), options.require("config"));
        try {
            return new Build(profile, Platforms.of(profile), null);
        } catch (NoSuchElementException | IllegalArgumentException e) {
            return new Build(profile, null, e.getMessage());
        }
    }

    private static Profile load(String pahole, String config) throws UsageException {
        try {
            return Profile.load(Path.of(pahole), Path.of(config));
        } catch (ProfileFormatException e) {
            throw new UsageException("malformed profile: " + e.getMessage());
        } catch (IOException e) {
            throw UsageException.cannotRead(e);
        }
    }

    /** {@code sizeof(void *)}: the platform's, else 8 for a {@code CONFIG_64BIT} build and 4 otherwise. */
    int pointerSize() {
        if (platform != null) {
            return platform.pointerSize();
        }
        return profile.config().enabled("CONFIG_64BIT") ? 8 : 4;
    }
}
