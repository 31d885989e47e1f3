package io.github.kproc.kernel;

/** {@code RLIMIT_*} indices of {@code include/uapi/asm-generic/resource.h} the model uses. */
final class Rlimit {
    static final int RLIMIT_NPROC = 6;
    static final int RLIMIT_SIGPENDING = 11;

    private Rlimit() {
    }
}
