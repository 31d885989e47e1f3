package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.SlabCache;
import java.util.function.BooleanSupplier;

/**
 * The IDA of {@code lib/idr.c} in Linux 4.19: a {@code struct ida} is a radix tree root ({@code ida_rt},
 * marked as an IDR's) whose leaf {@code n} holds the ids {@code n * IDA_BITMAP_BITS} and up, either
 * inline as an exceptional entry (bit {@code RADIX_TREE_EXCEPTIONAL_SHIFT + i} for id {@code i}, while
 * the ids fit in a long) or as a {@code struct ida_bitmap} of 1024 bits from kmalloc-128. A leaf keeps
 * its IDR_FREE tag until its bitmap is full. {@code ida_get_new_above}'s one quirk is kept: turning an
 * exceptional leaf into a bitmap stores the pointer without updating the node's exceptional count.
 * No method allocates on the Java heap.
 */
final class Ida {
    /** {@code IDA_BITMAP_BITS}: 128 bytes of bits. */
    static final int IDA_BITMAP_BITS = 1024;
    /** {@code RADIX_TREE_EXCEPTIONAL_SHIFT}. */
    private static final int EXCEPTIONAL_SHIFT = 2;

    private final AddressSpace m;
    private final RadixTree tree;
    private final SlabCache bitmapCache;
    private final BooleanSupplier allocationFails;
    /** {@code BITS_PER_LONG}. */
    private final int bitsPerLong;
    private final int ptr;

    /** An IDA over {@code tree}, its {@code ida_bitmap}s from {@code bitmapCache} (kmalloc-128). */
    Ida(AddressSpace m, RadixTree tree, SlabCache bitmapCache, BooleanSupplier allocationFails, int pointerSize) {
        this.m = m;
        this.tree = tree;
        this.bitmapCache = bitmapCache;
        this.allocationFails = allocationFails;
        this.ptr = pointerSize;
        this.bitsPerLong = 8 * pointerSize;
    }

    /** {@code IDA_INIT} / {@code ida_init}: an empty IDA (the root marked ROOT_IS_IDR with IDR_FREE set). */
    void init(long ida, int idrRtMarker) {
        tree.initRoot(ida, idrRtMarker);
    }

    /**
     * {@code ida_alloc_range(ida, 0, end - 1)} ({@code ida_simple_get(ida, 0, end)}): the lowest free id
     * below {@code end}, or {@code -ENOSPC}, or {@code -ENOMEM} with the IDA and the caches as before.
     */
    int alloc(long ida, int end) {
        long maxIndex = Integer.MAX_VALUE / IDA_BITMAP_BITS;
        long index = 0;
        while (true) {
            index = tree.nextFree(ida, index, maxIndex);
            if (index < 0) {
                return Errno.ENOSPC.negative();
            }
            long base = index * IDA_BITMAP_BITS;
            long entry = index <= tree.rootMaxIndex(ida) ? tree.lookup(ida, index, true) : 0;
            int id;
            if (entry == 0) {
                // a new leaf: an exceptional entry with the first bit
                if (base >= end) {
                    return Errno.ENOSPC.negative();
                }
                if (!tree.insertKeepingFree(ida, index, (1L << EXCEPTIONAL_SHIFT) | RadixTree.EXCEPTIONAL_ENTRY)) {
                    return Errno.ENOMEM.negative();
                }
                return (int) base;
            }
            if ((entry & RadixTree.EXCEPTIONAL_ENTRY) != 0) {
                long bits = ptr == 4 ? entry & 0xffff_ffffL : entry;
                int ebit = lowestZero(bits, EXCEPTIONAL_SHIFT, bitsPerLong);
                if (ebit < bitsPerLong) {
                    id = (int) (base + ebit - EXCEPTIONAL_SHIFT);
                    if (id >= end) {
                        return Errno.ENOSPC.negative();
                    }
                    m.writePointer(tree.foundSlot, bits | 1L << ebit);
                    return id;
                }
                // the inline bits are used up: move them to an ida_bitmap
                long bitmap = allocationFails.getAsBoolean() ? 0 : bitmapCache.zalloc();
                if (bitmap == 0) {
                    return Errno.ENOMEM.negative();
                }
                m.writePointer(bitmap, bits >>> EXCEPTIONAL_SHIFT);
                m.writePointer(tree.foundSlot, bitmap);
                entry = bitmap;
            }
            int bit = lowestZeroInBitmap(entry);
            if (bit == IDA_BITMAP_BITS) {
                index++;
                continue;
            }
            id = (int) (base + bit);
            if (id >= end) {
                return Errno.ENOSPC.negative();
            }
            long word = entry + (long) (bit / bitsPerLong) * ptr;
            m.writePointer(word, m.readPointer(word) | 1L << (bit % bitsPerLong));
            if (lowestZeroInBitmap(entry) == IDA_BITMAP_BITS) {
                tree.lookup(ida, index, true);
                tree.foundTag(ida, false);
            }
            return id;
        }
    }

    /** {@code ida_free(ida, id)} ({@code ida_remove}): an id not allocated is left alone (the kernel WARNs). */
    void free(long ida, int id) {
        long index = id / IDA_BITMAP_BITS;
        int offset = id % IDA_BITMAP_BITS;
        if (id < 0 || index > tree.rootMaxIndex(ida)) {
            return;
        }
        long entry = tree.lookup(ida, index, true);
        if (entry == 0) {
            return;
        }
        if ((entry & RadixTree.EXCEPTIONAL_ENTRY) != 0) {
            int ebit = offset + EXCEPTIONAL_SHIFT;
            if (ebit >= bitsPerLong || (entry >>> ebit & 1) == 0) {
                return;
            }
            long bits = entry & ~(1L << ebit);
            m.writePointer(tree.foundSlot, bits);
            tree.foundTag(ida, true);
            if (bits == RadixTree.EXCEPTIONAL_ENTRY) {
                tree.deleteItem(ida, index);
            }
            return;
        }
        long word = entry + (long) (offset / bitsPerLong) * ptr;
        long value = m.readPointer(word);
        if ((value >>> (offset % bitsPerLong) & 1) == 0) {
            return;
        }
        m.writePointer(word, value & ~(1L << (offset % bitsPerLong)));
        tree.foundTag(ida, true);
        if (bitmapEmpty(entry)) {
            bitmapCache.free(entry);
            tree.deleteItem(ida, index);
        }
    }

    private int lowestZero(long bits, int from, int width) {
        for (int b = from; b < width; b++) {
            if ((bits >>> b & 1) == 0) {
                return b;
            }
        }
        return width;
    }

    private int lowestZeroInBitmap(long bitmap) {
        for (int w = 0; w < IDA_BITMAP_BITS / bitsPerLong; w++) {
            long value = m.readPointer(bitmap + (long) w * ptr);
            long inverted = ptr == 4 ? ~value & 0xffff_ffffL : ~value;
            if (inverted != 0) {
                return w * bitsPerLong + Long.numberOfTrailingZeros(inverted);
            }
        }
        return IDA_BITMAP_BITS;
    }

    private boolean bitmapEmpty(long bitmap) {
        for (int w = 0; w < IDA_BITMAP_BITS / bitsPerLong; w++) {
            if (m.readPointer(bitmap + (long) w * ptr) != 0) {
                return false;
            }
        }
        return true;
    }
}
