package io.github.kproc.image;

/** An open-addressing set of non-zero longs (addresses a walk has visited), growing by doubling. */
final class LongSet {
    private long[] slots = new long[64];
    private int size;

    /** Adds {@code value} (non-zero); false if it was there already. */
    boolean add(long value) {
        if (2 * (size + 1) > slots.length) {
            grow();
        }
        int mask = slots.length - 1;
        int i = hash(value) & mask;
        while (slots[i] != 0) {
            if (slots[i] == value) {
                return false;
            }
            i = (i + 1) & mask;
        }
        slots[i] = value;
        size++;
        return true;
    }

    boolean contains(long value) {
        int mask = slots.length - 1;
        int i = hash(value) & mask;
        while (slots[i] != 0) {
            if (slots[i] == value) {
                return true;
            }
            i = (i + 1) & mask;
        }
        return false;
    }

    int size() {
        return size;
    }

    private void grow() {
        long[] old = slots;
        slots = new long[old.length * 2];
        size = 0;
        for (long v : old) {
            if (v != 0) {
                add(v);
            }
        }
    }

    private static int hash(long v) {
        long h = v * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }
}
