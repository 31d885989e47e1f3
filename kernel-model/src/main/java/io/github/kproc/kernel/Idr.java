package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.SlabCache;
import java.util.function.BooleanSupplier;

/**
 * {@code lib/idr.c} over {@code lib/radix-tree.c} of Linux 4.19: a {@code struct idr} in the arena,
 * its {@code struct radix_tree_node}s taken from a slab cache, internal-node pointers tagged with
 * {@code RADIX_TREE_INTERNAL_NODE} (bit 0), tag 0 ({@code IDR_FREE}) set on every free slot and on
 * every internal slot with a free slot below it, the root's tags in {@code gfp_mask} above
 * {@code ROOT_TAG_SHIFT} (= {@code __GFP_BITS_SHIFT}: 23, 24 with {@code CONFIG_LOCKDEP}) next to
 * {@code ROOT_IS_IDR}. Every address is an {@code struct idr *}; entries are guest pointers (0 is
 * {@code NULL}). Offsets, the slot count and the tag words come from the profile.
 *
 * <p>Where the model differs from the kernel, and why:
 * <ul>
 * <li>The radix tree's differences (atomic allocation, nodes freed at once, the order of clearing
 *     IDR_FREE after an allocation) are listed in {@link RadixTree}, which holds the tree.</li>
 * <li>{@code idr_alloc_u32} with a maximum below {@code idr_base} returns {@code -ENOSPC} where the
 *     kernel's unsigned subtraction would wrap.</li>
 * </ul>
 * No method allocates on the Java heap; each costs O(tree height), as the kernel's does (the
 * kernel's linear sibling scans included).
 */
final class Idr {
    /** {@code IDR_FREE}: tag 0. */
    static final int IDR_FREE = 0;
    private static final int INT_MAX = Integer.MAX_VALUE;

    private final AddressSpace m;
    /** {@code idr_rt}'s tree: {@code lib/radix-tree.c} (an {@link Ida} uses the same). */
    final RadixTree tree;

    // struct idr
    final long idrRt;
    final long idrBase;
    final long idrNext;
    /** IDR_RT_MARKER: ROOT_IS_IDR and the root's IDR_FREE tag. */
    final int idrRtMarker;

    /** An IDR whose tree takes its nodes from {@code nodeCache}, asking {@code allocationFails} before each. */
    Idr(AddressSpace m, Profile profile, SlabCache nodeCache, BooleanSupplier allocationFails) {
        this(m, profile, new RadixTree(m, profile, nodeCache, allocationFails));
    }

    /** An IDR over {@code tree}, which holds the nodes of every {@code struct idr} this one is given. */
    Idr(AddressSpace m, Profile profile, RadixTree tree) {
        this.m = m;
        this.tree = tree;
        idrRt = profile.offsetOf("idr", "idr_rt");
        idrBase = profile.offsetOf("idr", "idr_base");
        idrNext = profile.offsetOf("idr", "idr_next");
        idrRtMarker = RadixTree.ROOT_IS_IDR | 1 << (tree.rootTagShift + IDR_FREE);
    }

    // ---- the IDR API -----------------------------------------------------------------------------

    /** {@code IDR_INIT} / {@code idr_init}: an empty IDR with base 0, the cursor at 0. */
    void init(long idr) {
        tree.initRoot(idr + idrRt, idrRtMarker);
        m.writeInt(idr + idrBase, 0);
        m.writeInt(idr + idrNext, 0);
    }

    /**
     * {@code idr_alloc_cyclic}: an id in [cursor, end) or else [start, end) ({@code end <= 0} means
     * INT_MAX + 1) mapped to {@code entry}; the cursor moves past it. Returns the id, {@code -ENOSPC},
     * {@code -ENOMEM} or {@code -EINVAL} (an entry that looks like an internal node).
     */
    int allocCyclic(long idr, long entry, int start, int end) {
        int id = m.readInt(idr + idrNext);
        int max = end > 0 ? end - 1 : INT_MAX;
        if (id < start) {
            id = start;
        }
        long got = allocU32(idr, entry, Integer.toUnsignedLong(id), max);
        if (got == Errno.ENOSPC.negative() && Integer.compareUnsigned(id, start) > 0) {
            got = allocU32(idr, entry, Integer.toUnsignedLong(start), max);
        }
        if (got < 0) {
            return (int) got;
        }
        m.writeInt(idr + idrNext, (int) got + 1);
        return (int) got;
    }

    /**
     * {@code idr_alloc}: the lowest free id in [start, end) ({@code end <= 0} means INT_MAX + 1)
     * mapped to {@code entry}. Returns the id, {@code -ENOSPC}, {@code -ENOMEM} or {@code -EINVAL}
     * (negative start, or an entry that looks like an internal node).
     */
    int alloc(long idr, long entry, int start, int end) {
        if (start < 0) {
            return Errno.EINVAL.negative();
        }
        long got = allocU32(idr, entry, start, end > 0 ? end - 1 : INT_MAX);
        return (int) got;
    }

    /** {@code idr_find}: the entry mapped to {@code id}, 0 (NULL) if none or if NULL is mapped. */
    long find(long idr, int id) {
        long index = index(idr, id);
        if (index < 0) {
            return 0;
        }
        return tree.lookup(idr + idrRt, index, false);
    }

    /**
     * {@code idr_replace}: maps the allocated {@code id} to {@code entry}. Returns the old entry, or a
     * negative errno in [-4095, -1] as the kernel's {@code ERR_PTR}: {@code -ENOENT} if {@code id} is
     * not allocated, {@code -EINVAL} for an entry that looks like an internal node.
     */
    long replace(long idr, long entry, int id) {
        if (RadixTree.isInternal(entry)) {
            return Errno.EINVAL.negative();
        }
        long root = idr + idrRt;
        long index = index(idr, id);
        if (index < 0 || index > tree.rootMaxIndex(root)) {
            return Errno.ENOENT.negative();
        }
        long old = tree.lookup(root, index, true);
        if (tree.indexTagGet(root, index)) {
            return Errno.ENOENT.negative();
        }
        tree.replace(root, tree.foundNode, tree.foundSlot, entry);
        return old;
    }

    /**
     * {@code idr_remove}: frees {@code id}. Returns the entry it mapped (0 if that was NULL, or if the
     * id was not allocated); the tree shrinks and emptied nodes go back to the slab.
     */
    long remove(long idr, int id) {
        long index = index(idr, id);
        if (index < 0) {
            return 0;
        }
        return tree.deleteItem(idr + idrRt, index);
    }

    /**
     * {@code idr_get_next}: the lowest allocated id >= {@code id} whose entry is not NULL (ids mapped
     * to NULL are skipped, as {@code radix_tree_next_chunk} skips empty slots), or -1 if there is none
     * (or it would exceed INT_MAX, or {@code id} is negative).
     */
    int getNext(long idr, int id) {
        if (id < 0) {
            return -1;
        }
        long base = Integer.toUnsignedLong(m.readInt(idr + idrBase));
        long index = id < base ? 0 : id - base;
        long found = tree.nextChunk(idr + idrRt, index);
        if (found < 0 || found + base > INT_MAX) {
            return -1;
        }
        return (int) (found + base);
    }

    /** {@code idr_get_cursor}: {@code idr_next}, the id the cyclic allocator tries first. */
    int getCursor(long idr) {
        return m.readInt(idr + idrNext);
    }

    /** {@code idr_set_cursor}: sets {@code idr_next}. */
    void setCursor(long idr, int value) {
        m.writeInt(idr + idrNext, value);
    }

    /** {@code idr_destroy}: frees every node (children before parents, as radix_tree_free_nodes); the IDR is empty. */
    void destroy(long idr) {
        long root = idr + idrRt;
        long rnode = m.readPointer(root + tree.rootRnode);
        if (RadixTree.isInternal(rnode)) {
            tree.freeNodes(rnode);
        }
        m.writePointer(root + tree.rootRnode, 0);
        tree.rootTagSet(root);
    }

    /** {@code idr_is_empty}: no id is allocated (no root entry and the root's IDR_FREE tag set). */
    boolean isEmpty(long idr) {
        long root = idr + idrRt;
        return m.readPointer(root + tree.rootRnode) == 0 && tree.rootTagGet(root);
    }

    // ---- idr_alloc_u32 -----------------------------------------------------------------------------

    /** {@code idr_alloc_u32}: the allocated id (>= 0) or a negative errno. */
    private long allocU32(long idr, long entry, long nextId, long max) {
        if (RadixTree.isInternal(entry)) {
            return Errno.EINVAL.negative();
        }
        long root = idr + idrRt;
        int gfp = tree.gfp(root);
        if ((gfp & RadixTree.ROOT_IS_IDR) == 0) {
            m.writeScalar(root + tree.rootGfpMask, tree.gfpSize, gfp | idrRtMarker);
        }
        long base = Integer.toUnsignedLong(m.readInt(idr + idrBase));
        if (max < base) {
            return Errno.ENOSPC.negative();
        }
        long start = nextId < base ? 0 : nextId - base;
        long index = tree.idrGetFree(root, start, max - base, entry);
        if (index < 0) {
            return index;
        }
        return (int) (index + base);
    }

    /** The radix tree index of {@code id} (id - idr_base), or -1 where the kernel's unsigned index is out of any tree. */
    private long index(long idr, int id) {
        if (id < 0) {
            return -1;
        }
        long index = id - Integer.toUnsignedLong(m.readInt(idr + idrBase));
        return index;
    }
}
