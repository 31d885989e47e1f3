package io.github.kproc.kernel;

import org.quicktheories.QuickTheory;

/**
 * QuickTheories with a fixed seed, so a failure reproduces. On a falsified property QuickTheories
 * prints "Seed was N"; rerun with {@code -DQT_SEED=N} to replay it.
 */
final class Theories {
    /** The seed every property starts from unless {@code -DQT_SEED} overrides it. */
    static final long SEED = Long.getLong("QT_SEED", 0x4_19_6b_aaL);

    private Theories() {
    }

    static QuickTheory qt(int examples) {
        return QuickTheory.qt().withFixedSeed(SEED).withExamples(examples);
    }
}
