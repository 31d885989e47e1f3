module io.github.kproc {
    requires static transitive org.jspecify;
    exports io.github.kproc.layout;
}
