module io.github.kproc {
    requires static transitive org.jspecify;
    exports io.github.kproc;
    exports io.github.kproc.layout;
    exports io.github.kproc.mem;
    exports io.github.kproc.arch;
    exports io.github.kproc.view;
    exports io.github.kproc.kernel;
    exports io.github.kproc.testkit;
    exports io.github.kproc.image;

    uses io.github.kproc.arch.Architecture;
}
