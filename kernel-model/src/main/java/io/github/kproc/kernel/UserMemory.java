package io.github.kproc.kernel;

import java.util.HashMap;
import java.util.Map;

/**
 * The words the kernel writes into user space with {@code put_user} (the tid pointers of
 * CLONE_PARENT_SETTID, CLONE_CHILD_SETTID and CLONE_CHILD_CLEARTID), per address space: the model
 * has no user page tables, so each mm's user memory is a sparse map of 32-bit words. Duplicating an
 * mm copies its words, as copy-on-write memory would read.
 */
final class UserMemory {
    private final Map<Long, Map<Long, Integer>> words = new HashMap<>();

    /** {@code put_user(value, (int __user *)address)} in address space {@code mm}. */
    void putUser(long mm, long address, int value) {
        words.computeIfAbsent(mm, x -> new HashMap<>()).put(address, value);
    }

    /** The word at {@code address}, if ever written. */
    @org.jspecify.annotations.Nullable Integer getUser(long mm, long address) {
        Map<Long, Integer> space = words.get(mm);
        return space == null ? null : space.get(address);
    }

    /** {@code dup_mmap}: the child's address space reads as the parent's did. */
    void duplicate(long from, long to) {
        if (words.isEmpty()) {
            return;
        }
        Map<Long, Integer> space = words.get(from);
        if (space != null && !space.isEmpty()) {
            words.put(to, new HashMap<>(space));
        }
    }

    /** The address space is gone ({@code __mmput}). */
    void drop(long mm) {
        if (!words.isEmpty()) {
            words.remove(mm);
        }
    }
}
