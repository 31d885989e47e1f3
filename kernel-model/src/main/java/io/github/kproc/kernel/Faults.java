package io.github.kproc.kernel;

import io.github.kproc.Errno;
import java.util.EnumMap;
import java.util.Map;

/**
 * Fault injection for the fork path, like the kernel's failslab and fail_page_alloc: fail a chosen
 * {@link ForkStep} with an errno, or the n-th allocation from now. Every injected failure must leave
 * the model exactly as it was before the fork; the tests use this to walk every unwind path.
 */
public final class Faults {
    private final Map<ForkStep, Errno> steps = new EnumMap<>(ForkStep.class);
    private final Map<ForkStep, Integer> remaining = new EnumMap<>(ForkStep.class);
    private long allocationsUntilFailure = -1;
    private long injected;

    /** Fails {@code step} with {@code errno} the next {@code times} times it runs. */
    public Faults failStep(ForkStep step, Errno errno, int times) {
        if (times <= 0) {
            throw new IllegalArgumentException("times must be positive: " + times);
        }
        steps.put(step, errno);
        remaining.put(step, times);
        return this;
    }

    /** Fails the {@code n}-th slab or page allocation from now (1 = the next one), once. */
    public Faults failNthAllocation(long n) {
        if (n <= 0) {
            throw new IllegalArgumentException("n must be positive: " + n);
        }
        allocationsUntilFailure = n;
        return this;
    }

    /** Removes every pending fault. */
    public Faults clear() {
        steps.clear();
        remaining.clear();
        allocationsUntilFailure = -1;
        return this;
    }

    /** How many faults have been injected so far. */
    public long injected() {
        return injected;
    }

    /** True if any fault is armed. */
    public boolean armed() {
        return allocationsUntilFailure > 0 || !steps.isEmpty();
    }

    /** The errno a step must fail with now, or null. */
    @org.jspecify.annotations.Nullable Errno step(ForkStep step) {
        if (steps.isEmpty()) {
            return null;
        }
        Errno errno = steps.get(step);
        if (errno == null) {
            return null;
        }
        int left = remaining.get(step) - 1;
        if (left == 0) {
            steps.remove(step);
            remaining.remove(step);
        } else {
            remaining.put(step, left);
        }
        injected++;
        return errno;
    }

    /** True if this allocation must fail. */
    boolean allocation() {
        if (allocationsUntilFailure <= 0) {
            return false;
        }
        if (--allocationsUntilFailure == 0) {
            allocationsUntilFailure = -1;
            injected++;
            return true;
        }
        return false;
    }
}
