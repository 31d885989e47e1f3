package io.github.kproc.kernel;

import java.util.EnumSet;
import java.util.Set;

/** The {@code clone()} flags of Linux 4.19 ({@code include/uapi/linux/sched.h}), with their values. */
public enum CloneFlag {
    VM(0x00000100L),
    FS(0x00000200L),
    FILES(0x00000400L),
    SIGHAND(0x00000800L),
    PTRACE(0x00002000L),
    VFORK(0x00004000L),
    PARENT(0x00008000L),
    THREAD(0x00010000L),
    NEWNS(0x00020000L),
    SYSVSEM(0x00040000L),
    SETTLS(0x00080000L),
    PARENT_SETTID(0x00100000L),
    CHILD_CLEARTID(0x00200000L),
    DETACHED(0x00400000L),
    UNTRACED(0x00800000L),
    CHILD_SETTID(0x01000000L),
    NEWCGROUP(0x02000000L),
    NEWUTS(0x04000000L),
    NEWIPC(0x08000000L),
    NEWUSER(0x10000000L),
    NEWPID(0x20000000L),
    NEWNET(0x40000000L),
    IO(0x80000000L);

    /** {@code CSIGNAL}: the low byte of the flags is the signal sent to the parent when the child exits. */
    public static final long CSIGNAL = 0xff;
    /** {@code SIGCHLD} on ARM and arm64. */
    public static final int SIGCHLD = 17;

    private static final CloneFlag[] VALUES = values();

    private final long value;

    CloneFlag(long value) {
        this.value = value;
    }

    /** The uapi bit value. */
    public long value() {
        return value;
    }

    /** The flags word of a set plus an exit signal in the low byte (0..255). */
    public static long word(Set<CloneFlag> flags, int exitSignal) {
        if (exitSignal < 0 || exitSignal > 255) {
            throw new IllegalArgumentException("exit signal must fit CSIGNAL: " + exitSignal);
        }
        long word = exitSignal;
        for (CloneFlag f : VALUES) {
            if (flags.contains(f)) {
                word |= f.value;
            }
        }
        return word;
    }

    /** The named flags set in a flags word (the CSIGNAL byte and unknown bits are not flags). */
    public static Set<CloneFlag> decode(long word) {
        EnumSet<CloneFlag> set = EnumSet.noneOf(CloneFlag.class);
        for (CloneFlag f : VALUES) {
            if ((word & f.value) != 0) {
                set.add(f);
            }
        }
        return set;
    }

    /** {@code CLONE_*} spelled as the kernel does: {@code "CLONE_VM"}. */
    public String kernelName() {
        return "CLONE_" + name();
    }
}
