package io.github.kproc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The arithmetic of {@code kernel/sched/pelt.c} (v4.19): {@code decay_load}, {@code __accumulate_pelt_segments}
 * and the {@code runnable_avg_yN_inv} table, against values worked out by hand from the formulas.
 */
class PeltTest {
    @Test
    @DisplayName("runnable_avg_yN_inv[n] is y^n in 32.32 fixed point with y^32 = 1/2 (within 2 of 2^32 * 2^(-n/32))")
    void theTableIsYToTheN() {
        assertEquals(Pelt.LOAD_AVG_PERIOD, Pelt.RUNNABLE_AVG_YN_INV.length);
        for (int n = 0; n < Pelt.LOAD_AVG_PERIOD; n++) {
            double exact = Math.pow(2, 32) * Math.pow(0.5, n / 32.0);
            assertTrue(Math.abs(Pelt.RUNNABLE_AVG_YN_INV[n] - exact) <= 2, "y^" + n);
        }
    }

    @Test
    @DisplayName("decay_load: val * y^n by mul_u64_u32_shr(val, yN_inv, 32), a halving per 32 periods, 0 past 63 half-lives")
    void decayLoad() {
        assertEquals(1023, Pelt.decayLoad(1024, 0), "y^0 is 0xffffffff / 2^32: one less");
        assertEquals(511, Pelt.decayLoad(1024, 32), "1024 >> 1, times y^0");
        assertEquals(46718, Pelt.decayLoad(Pelt.LOAD_AVG_MAX, 1), "47742 * 0xfa83b2da >> 32");
        assertEquals(23870, Pelt.decayLoad(Pelt.LOAD_AVG_MAX, 32));
        assertEquals(0, Pelt.decayLoad(Pelt.LOAD_AVG_MAX, 2016), "63 halvings of 47742");
        assertEquals(0, Pelt.decayLoad(Long.MAX_VALUE, 2017), "n > LOAD_AVG_PERIOD * 63");
        assertEquals(126032075968L, Pelt.decayLoad(1L << 40, 100), "2^40 >> 3, times y^4: a 96-bit product");
    }

    @Test
    @DisplayName("__accumulate_pelt_segments: d1 * y^p + 1024 * (y^1 + .. + y^(p-1)) + d3")
    void accumulatePeltSegments() {
        assertEquals(1002, Pelt.accumulatePeltSegments(1, 1024, 0), "decay_load(1024, 1) + 47742 - 46718 - 1024");
        assertEquals(9579, Pelt.accumulatePeltSegments(10, 1000, 500));
        assertEquals(41249, Pelt.accumulatePeltSegments(100, 24, 0));
    }

    @Test
    @DisplayName("LOAD_AVG_MAX is the fixed point of s = decay_load(s, 1) + 1024: a sum that is always runnable saturates there")
    void loadAvgMaxIsTheLimit() {
        long s = 0;
        for (int i = 0; i < 3000; i++) {
            s = Pelt.decayLoad(s, 1) + 1024;
        }
        assertEquals(Pelt.LOAD_AVG_MAX, s);
    }
}
