package io.github.kproc.layout;

/** Each pahole dump of the bundled builds, with its place among the sources of its build's profile. */
enum BundledPahole {
    ARM32_STRUCTS(BundledDump.ARM32, 0),
    ARM32_SCHED(BundledDump.ARM32, 1),
    ARM64_STRUCTS(BundledDump.ARM64, 0),
    ARM64_SCHED(BundledDump.ARM64, 1);

    private final BundledDump dump;
    private final int source;

    BundledPahole(BundledDump dump, int source) {
        this.dump = dump;
        this.source = source;
    }

    /** The build. */
    BundledDump dump() {
        return dump;
    }

    /** The index of this dump in {@link Profile#sources()} of {@link BundledDump#profile()}. */
    int source() {
        return source;
    }

    /** The dump as pahole printed it. */
    String text() {
        return source == 0 ? dump.paholeText() : dump.schedText();
    }

    /** The dump as {@link Pahole#print(Profile, int)} prints it back from the build's profile. */
    String printed() {
        return Pahole.print(dump.profile(), source);
    }
}
