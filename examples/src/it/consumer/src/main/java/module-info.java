/** A user of kproc: needs nothing but the two backends, which bring the kernel model with them. */
module io.github.kproc.it.consumer {
    requires io.github.kproc.arm32;
    requires io.github.kproc.arm64;
    exports io.github.kproc.it.consumer;
}
