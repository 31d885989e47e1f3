/** The ARM32 backend of kproc, with the bundled {@code linux-4.19-arm32-vexpress} profile. */
module io.github.kproc.arm32 {
    requires transitive io.github.kproc;
    requires static org.jspecify;
    exports io.github.kproc.arm32;
    provides io.github.kproc.arch.Architecture with io.github.kproc.arm32.Arm32Architecture;
}
