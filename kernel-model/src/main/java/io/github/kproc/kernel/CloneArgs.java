package io.github.kproc.kernel;

import java.util.EnumSet;
import java.util.Set;

/**
 * The arguments of {@code clone()} in the shape of later kernels' {@code struct kernel_clone_args}:
 * what {@code _do_fork(clone_flags, stack_start, stack_size, parent_tidptr, child_tidptr, tls)} takes in
 * 4.19, with the exit signal apart from the flags. User addresses are the caller's; 0 is NULL.
 *
 * @param flags the CLONE_* flags
 * @param exitSignal the signal the parent gets when the child exits (the CSIGNAL byte), 0 .. 255
 * @param stack the child's stack pointer ({@code newsp}), 0 to share the parent's
 * @param stackSize {@code stack_size}
 * @param parentTid where CLONE_PARENT_SETTID stores the child's tid
 * @param childTid where CLONE_CHILD_SETTID / CLONE_CHILD_CLEARTID store and clear it
 * @param tls the TLS value CLONE_SETTLS installs
 */
public record CloneArgs(Set<CloneFlag> flags, int exitSignal, long stack, long stackSize, long parentTid,
        long childTid, long tls) {
    /** @throws IllegalArgumentException if the exit signal does not fit CSIGNAL */
    public CloneArgs {
        flags = Set.copyOf(flags);
        if (exitSignal < 0 || exitSignal > 255) {
            throw new IllegalArgumentException("exit signal must fit CSIGNAL (0..255): " + exitSignal);
        }
    }

    /** {@code fork()}: no flags, SIGCHLD. */
    public static CloneArgs fork() {
        return new CloneArgs(Set.of(), CloneFlag.SIGCHLD, 0, 0, 0, 0, 0);
    }

    /** The given flags and SIGCHLD, no addresses. */
    public static CloneArgs of(CloneFlag... flags) {
        Set<CloneFlag> set = EnumSet.noneOf(CloneFlag.class);
        set.addAll(java.util.Arrays.asList(flags));
        return new CloneArgs(set, CloneFlag.SIGCHLD, 0, 0, 0, 0, 0);
    }

    /** A thread: CLONE_VM | FS | FILES | SIGHAND | THREAD | SYSVSEM, no exit signal, as pthread_create asks. */
    public static CloneArgs thread() {
        return new CloneArgs(EnumSet.of(CloneFlag.VM, CloneFlag.FS, CloneFlag.FILES, CloneFlag.SIGHAND,
                CloneFlag.THREAD, CloneFlag.SYSVSEM), 0, 0, 0, 0, 0, 0);
    }

    public CloneArgs withExitSignal(int signal) {
        return new CloneArgs(flags, signal, stack, stackSize, parentTid, childTid, tls);
    }

    public CloneArgs withStack(long newStack, long size) {
        return new CloneArgs(flags, exitSignal, newStack, size, parentTid, childTid, tls);
    }

    public CloneArgs withParentTid(long address) {
        return new CloneArgs(flags, exitSignal, stack, stackSize, address, childTid, tls);
    }

    public CloneArgs withChildTid(long address) {
        return new CloneArgs(flags, exitSignal, stack, stackSize, parentTid, address, tls);
    }

    public CloneArgs withTls(long value) {
        return new CloneArgs(flags, exitSignal, stack, stackSize, parentTid, childTid, value);
    }

    /** The {@code clone_flags} word: the flags and the exit signal in the low byte. */
    public long word() {
        return CloneFlag.word(flags, exitSignal);
    }
}
