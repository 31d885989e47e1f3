/** The arm64 backend of kproc, with the bundled {@code linux-4.19-arm64-defconfig} profile. */
module io.github.kproc.arm64 {
    requires transitive io.github.kproc;
    requires static org.jspecify;
    exports io.github.kproc.arm64;
    provides io.github.kproc.arch.Architecture with io.github.kproc.arm64.Arm64Architecture;
}
