package io.github.kproc.arch;

import io.github.kproc.layout.Profile;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/** Finds backends with {@link ServiceLoader} and binds profiles to them. */
public final class Platforms {
    private static final ConcurrentHashMap<String, Platform> BUNDLED = new ConcurrentHashMap<>();

    private Platforms() {
    }

    /** Every architecture backend on the class path or module path. */
    public static List<Architecture> architectures() {
        List<Architecture> list = new ArrayList<>();
        ServiceLoader.load(Architecture.class, Platforms.class.getClassLoader()).forEach(list::add);
        if (list.isEmpty()) {
            ServiceLoader.load(Architecture.class).forEach(list::add);
        }
        return list;
    }

    /** The names of every bundled profile of every backend found. */
    public static List<String> bundledProfiles() {
        List<String> names = new ArrayList<>();
        for (Architecture a : architectures()) {
            names.addAll(a.bundledProfiles());
        }
        return names;
    }

    /**
     * The platform of a bundled profile, such as {@code "linux-4.19-arm32-vexpress"}; loaded once and
     * shared (platforms are immutable).
     *
     * @throws NoSuchElementException if no backend bundles it
     */
    public static Platform bundled(String profileName) {
        java.util.Objects.requireNonNull(profileName, "profileName");
        Platform cached = BUNDLED.get(profileName);
        if (cached != null) {
            return cached;
        }
        for (Architecture a : architectures()) {
            if (a.bundledProfiles().contains(profileName)) {
                Platform platform = a.bind(a.loadProfile(profileName));
                Platform raced = BUNDLED.putIfAbsent(profileName, platform);
                return raced == null ? platform : raced;
            }
        }
        throw new NoSuchElementException("no bundled profile " + profileName + "; bundled: " + bundledProfiles());
    }

    /**
     * Binds any profile (such as one loaded from a user's own build) to the backend that supports it.
     *
     * @throws NoSuchElementException if no backend on the path supports it
     */
    public static Platform of(Profile profile) {
        java.util.Objects.requireNonNull(profile, "profile");
        for (Architecture a : architectures()) {
            if (a.supports(profile)) {
                return a.bind(profile);
            }
        }
        throw new NoSuchElementException("no architecture backend supports profile " + profile.name());
    }
}
