package io.github.kproc.kernel;

import io.github.kproc.Errno;
import io.github.kproc.layout.Member;
import io.github.kproc.layout.Profile;
import io.github.kproc.layout.StructLayout;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.SlabCache;
import java.util.function.BooleanSupplier;

/**
 * {@code lib/radix-tree.c} of Linux 4.19 as {@link Idr} ({@code lib/idr.c}) uses it, in the layout
 * {@link Idr} describes. Every {@code root} is a {@code struct radix_tree_root *} (an IDR's
 * {@code idr_rt}); its nodes come from a slab cache.
 *
 * <p>Where the model differs from the kernel, and why:
 * <ul>
 * <li>Allocation is atomic. The kernel allocates nodes as {@code idr_get_free} walks and, when one
 *     allocation fails, returns {@code -ENOMEM} leaving the extended tree and any nodes already linked
 *     (with count 0) behind. The model first finds the id the kernel's walk would find and counts the
 *     nodes the path needs, allocates them all up front (like {@code idr_preload} filling its pool,
 *     {@code allocationFails} consulted once per node), and on a failure frees them in reverse order
 *     (and gives a slab taken for them back) so the arena and the cache are as before. Nodes are then
 *     used in the order the kernel would allocate them, so they get the addresses the kernel's
 *     {@code kmem_cache_alloc} sequence would give.</li>
 * <li>Nodes are freed at once, not after an RCU grace period, and freed nodes are poisoned by the
 *     cache instead of zeroed by {@code radix_tree_node_rcu_free}; a fresh node is zeroed with its
 *     {@code private_list} linked to itself, the state {@code radix_tree_node_ctor} leaves.</li>
 * <li>After an allocation stores its entry, the IDR_FREE tag is cleared before the node is checked
 *     for shrinking (the kernel clears it after, on the possibly freed node); the two orders differ
 *     only for a root node with count 0, which only a kernel {@code -ENOMEM} leaves behind.</li>
 * </ul>
 * No method allocates on the Java heap; each costs O(tree height), as the kernel's does (the
 * kernel's linear sibling scans included).
 */
final class RadixTree {
    /** {@code ROOT_IS_IDR}. */
    static final int ROOT_IS_IDR = 4;
    /** {@code RADIX_TREE_INTERNAL_NODE}. */
    static final long INTERNAL_NODE = 1;
    /** {@code RADIX_TREE_ENTRY_MASK}. */
    static final long ENTRY_MASK = 3;
    /** {@code RADIX_TREE_EXCEPTIONAL_ENTRY}. */
    static final long EXCEPTIONAL_ENTRY = 2;
    /** {@code ___GFP_KSWAPD_RECLAIM} is bit 22, so {@code __GFP_BITS_SHIFT} is 23 (+1 for LOCKDEP's bit). */
    private static final int GFP_BITS_SHIFT_NO_LOCKDEP = 23;

    private final AddressSpace m;
    private final SlabCache nodeCache;
    private final BooleanSupplier allocationFails;
    private final int ptr;

    // struct radix_tree_node
    final long nodeShift;
    final long nodeOffset;
    final long nodeCount;
    final long nodeExceptional;
    final long nodeParent;
    final long nodeRoot;
    final long nodePrivateList;
    final long nodeSlots;
    final long nodeTags;
    final long nodeSize;
    /** RADIX_TREE_MAP_SIZE, from the length of {@code slots}. */
    final int mapSize;
    /** RADIX_TREE_MAP_SHIFT. */
    final int mapShift;
    final long mapMask;
    /** RADIX_TREE_TAG_LONGS. */
    final int tagLongs;
    /** {@code sizeof(unsigned long)}. */
    final int tagWordBytes;
    final int bitsPerLong;
    final int tagRowBytes;
    // struct radix_tree_root
    final long rootXaLock;
    final int rootXaLockSize;
    final long rootGfpMask;
    final int gfpSize;
    final long rootRnode;
    /** ROOT_TAG_SHIFT = __GFP_BITS_SHIFT. */
    final int rootTagShift;

    /** The preload pool: nodes an allocation needs, in the order it takes them. */
    private final long[] pool;
    private int poolTaken;
    private int poolCount;

    RadixTree(AddressSpace m, Profile profile, SlabCache nodeCache, BooleanSupplier allocationFails) {
        this.m = m;
        this.nodeCache = nodeCache;
        this.allocationFails = allocationFails;
        this.ptr = m.pointerSize();
        String node = "radix_tree_node";
        nodeShift = profile.offsetOf(node, "shift");
        nodeOffset = profile.offsetOf(node, "offset");
        nodeCount = profile.offsetOf(node, "count");
        nodeExceptional = profile.offsetOf(node, "exceptional");
        nodeParent = profile.offsetOf(node, "parent");
        nodeRoot = profile.offsetOf(node, "root");
        nodePrivateList = profile.offsetOf(node, "private_list");
        nodeSlots = profile.offsetOf(node, "slots");
        nodeTags = profile.offsetOf(node, "tags");
        nodeSize = profile.sizeOf(node);
        StructLayout layout = profile.struct(node);
        Member slots = member(layout, "slots");
        Member tags = member(layout, "tags");
        long slotCount = slots.elementCount();
        if (slotCount < 2 || slotCount > 64 || Long.bitCount(slotCount) != 1 || slots.elementSize() != ptr) {
            throw new IllegalArgumentException("radix_tree_node.slots: " + slots);
        }
        mapSize = (int) slotCount;
        mapShift = Integer.numberOfTrailingZeros(mapSize);
        mapMask = mapSize - 1;
        int[] dims = tags.dims();
        tagWordBytes = (int) tags.elementSize();
        bitsPerLong = 8 * tagWordBytes;
        if (dims.length != 2 || dims[0] < 1 || (long) dims[1] * bitsPerLong < mapSize) {
            throw new IllegalArgumentException("radix_tree_node.tags: " + tags);
        }
        tagLongs = dims[1];
        tagRowBytes = tagLongs * tagWordBytes;
        String root = "radix_tree_root";
        rootXaLock = profile.offsetOf(root, "xa_lock");
        rootXaLockSize = (int) profile.field(root, "xa_lock").size();
        rootGfpMask = profile.offsetOf(root, "gfp_mask");
        gfpSize = (int) profile.field(root, "gfp_mask").size();
        rootRnode = profile.offsetOf(root, "rnode");
        rootTagShift = GFP_BITS_SHIFT_NO_LOCKDEP + (profile.config().enabled("CONFIG_LOCKDEP") ? 1 : 0);
        // the most one allocation takes: a chain of new roots down to slot 0 from a single entry up to
        // the height INT_MAX needs, and the path below the new top
        pool = new long[2 * ((31 + mapShift - 1) / mapShift)];
    }

    private static Member member(StructLayout layout, String name) {
        Member member = layout.member(name);
        if (member == null) {
            throw new IllegalArgumentException("no " + layout.cName() + "." + name);
        }
        return member;
    }

    /** {@code INIT_RADIX_TREE(root, mask)}: an empty tree, its lock zeroed, {@code gfp_mask} = {@code mask}. */
    void initRoot(long root, int mask) {
        m.fill(root + rootXaLock, rootXaLockSize, (byte) 0);
        m.writeScalar(root + rootGfpMask, gfpSize, mask);
        m.writePointer(root + rootRnode, 0);
    }

    // ---- idr_get_free ------------------------------------------------------------------------------

    /**
     * {@code idr_get_free} for an index in [{@code start}, {@code max}], then {@code radix_tree_iter_replace}
     * with {@code entry} and {@code radix_tree_iter_tag_clear(IDR_FREE)}: the index, {@code -ENOSPC} or
     * {@code -ENOMEM} (with the tree, the arena and the cache as before).
     */
    long idrGetFree(long root, long start, long max, long entry) {
        long index = findFree(root, start, max);
        if (index < 0) {
            return Errno.ENOSPC.negative();
        }
        if (!preload(nodesNeeded(root, index))) {
            return Errno.ENOMEM.negative();
        }
        insert(root, index, entry, true);
        boolean allUsed = poolTaken == poolCount;
        poolTaken = 0;
        poolCount = 0;
        if (!allUsed) {
            throw new IllegalStateException("radix tree: nodes preloaded and used differ");
        }
        return index;
    }

    /**
     * The index {@code idr_get_free}'s walk settles on: the first free slot at or after {@code start}
     * (indices past the tree are free), found the way the kernel looks (descend by IDR_FREE tags, on
     * to the next sibling when a node has no free slot left), or -1 when it is past {@code max}.
     */
    private long findFree(long root, long start, long max) {
        long rnode = m.readPointer(root + rootRnode);
        long maxIndex = isInternal(rnode) ? nodeMaxIndex(rnode & ~INTERNAL_NODE) : 0;
        int shift = isInternal(rnode) ? shiftOf(rnode & ~INTERNAL_NODE) + mapShift : 0;
        if (!rootTagGet(root)) {
            start = Math.max(start, maxIndex + 1);
        }
        if (start > max) {
            return -1;
        }
        if (start > maxIndex) {
            return start;
        }
        long child = rnode;
        while (shift > 0) {
            shift -= mapShift;
            if (child == 0) {
                return start;       // a new node: every slot free
            }
            if (!isInternal(child)) {
                throw new IllegalStateException(String.format("radix tree: entry 0x%x at shift %d", child, shift));
            }
            long node = child & ~INTERNAL_NODE;
            int offset = (int) ((start >>> shiftOf(node)) & mapMask);
            child = slot(node, offset);
            if (!tagGet(node, offset)) {
                offset = findNextBit(node, offset + 1);
                start = (start & ~nodeMaxIndex(node)) + ((long) offset << shiftOf(node));
                if (start > max) {
                    return -1;
                }
                while (offset == mapSize) {
                    offset = m.readByte(node + nodeOffset) & 0xff;
                    offset++;
                    node = m.readPointer(node + nodeParent);
                    if (node == 0) {
                        return start;   // past the tree: the kernel grows it
                    }
                    shift = shiftOf(node);
                }
                child = slot(node, offset);
            }
        }
        return start;
    }

    /** Nodes {@code insert(root, index, ...)} will allocate: the extension above the root and the path below. */
    private int nodesNeeded(long root, long index) {
        long rnode = m.readPointer(root + rootRnode);
        int shift = isInternal(rnode) ? shiftOf(rnode & ~INTERNAL_NODE) + mapShift : 0;
        long maxIndex = isInternal(rnode) ? nodeMaxIndex(rnode & ~INTERNAL_NODE) : 0;
        if (index > maxIndex) {
            int maxShift = shift;
            while (index > shiftMaxIndex(maxShift)) {
                maxShift += mapShift;
            }
            if (rnode == 0 && rootTagGet(root)) {
                return maxShift / mapShift + 1;     // no extension: the walk creates every level
            }
            // the new top has the old tree in slot 0 and index beyond it: the levels below are new
            return (maxShift - shift) / mapShift + 1 + maxShift / mapShift;
        }
        if (!isInternal(rnode)) {
            return 0;
        }
        long node = rnode & ~INTERNAL_NODE;
        for (int level = 0; level < pool.length; level++) {
            int s = shiftOf(node);
            if (s == 0) {
                return 0;
            }
            long child = slot(node, (int) ((index >>> s) & mapMask));
            if (child == 0) {
                return s / mapShift;
            }
            node = child & ~INTERNAL_NODE;
        }
        throw new IllegalStateException("radix tree deeper than " + pool.length + " levels");
    }

    /** Allocates {@code n} nodes into the pool; on a failure frees those taken, newest first, and returns false. */
    private boolean preload(int n) {
        if (n > pool.length) {
            throw new IllegalStateException("radix tree path of " + n + " nodes");
        }
        long slabs = nodeCache.slabs();
        for (int i = 0; i < n; i++) {
            long node = allocationFails.getAsBoolean() ? 0 : nodeCache.zalloc();
            if (node == 0) {
                for (int j = i - 1; j >= 0; j--) {
                    nodeCache.free(pool[j]);
                    pool[j] = 0;
                }
                if (nodeCache.slabs() > slabs) {
                    nodeCache.shrink();
                }
                return false;
            }
            // radix_tree_node_ctor: zeroed, private_list empty
            m.writePointer(node + nodePrivateList, node + nodePrivateList);
            m.writePointer(node + nodePrivateList + ptr, node + nodePrivateList);
            pool[i] = node;
        }
        poolCount = n;
        poolTaken = 0;
        return true;
    }

    /** {@code radix_tree_node_alloc} from the preloaded pool. */
    private long nodeAlloc(long parent, long root, int shift, int offset, int count, int exceptional) {
        if (poolTaken >= poolCount) {
            throw new IllegalStateException("radix tree: more nodes needed than preloaded");
        }
        long node = pool[poolTaken];
        pool[poolTaken++] = 0;
        m.writeByte(node + nodeShift, (byte) shift);
        m.writeByte(node + nodeOffset, (byte) offset);
        m.writeByte(node + nodeCount, (byte) count);
        m.writeByte(node + nodeExceptional, (byte) exceptional);
        m.writePointer(node + nodeParent, parent);
        m.writePointer(node + nodeRoot, root);
        return node;
    }

    /**
     * The modifying half of {@code idr_get_free} for the index {@link #findFree} chose, then
     * {@code radix_tree_iter_replace} and {@code radix_tree_iter_tag_clear(IDR_FREE)}.
     */
    private void insert(long root, long index, long entry, boolean clearFree) {
        long rnode = m.readPointer(root + rootRnode);
        int shift = isInternal(rnode) ? shiftOf(rnode & ~INTERNAL_NODE) + mapShift : 0;
        long maxIndex = isInternal(rnode) ? nodeMaxIndex(rnode & ~INTERNAL_NODE) : 0;
        if (index > maxIndex) {
            shift = extend(root, index, shift);
        }
        long child = m.readPointer(root + rootRnode);
        long node = 0;
        long slot = root + rootRnode;
        int offset = 0;
        while (shift > 0) {
            shift -= mapShift;
            if (child == 0) {
                child = nodeAlloc(node, root, shift, offset, 0, 0);
                allTagSet(child);
                m.writePointer(slot, child | INTERNAL_NODE);
                if (node != 0) {
                    addByte(node + nodeCount, 1);
                }
            } else if (!isInternal(child)) {
                throw new IllegalStateException(String.format("radix tree: entry 0x%x at shift %d", child, shift));
            } else {
                child &= ~INTERNAL_NODE;
            }
            node = child;
            offset = (int) ((index >>> shiftOf(node)) & mapMask);
            if (!tagGet(node, offset)) {
                throw new IllegalStateException("radix tree: index " + index + " is not free");
            }
            child = slot(node, offset);
            slot = node + nodeSlots + (long) offset * ptr;
        }
        // __radix_tree_replace: a free slot gains an entry (even NULL) and counts
        long old = m.readPointer(slot);
        if (node != 0) {
            addByte(node + nodeCount, 1);
            int exceptional = exceptional(entry) - exceptional(old);
            if (exceptional != 0) {
                addByte(node + nodeExceptional, exceptional);
            }
        }
        m.writePointer(slot, entry);
        if (clearFree) {
            nodeTagClear(root, node, offset);
        }
        if (node != 0) {
            deleteNode(root, node);
        }
    }

    // ---- the IDA's use of the tree (lib/idr.c ida_get_new_above, ida_remove) ---------------------------

    /**
     * The first index at or after {@code start} whose slot is tagged IDR_FREE (indices past the tree
     * are free), or -1 past {@code max}: {@code radix_tree_next_slot(TAGGED)} then {@code idr_get_free}.
     */
    long nextFree(long root, long start, long max) {
        return findFree(root, start, max);
    }

    /**
     * {@code idr_get_free} of a free, empty {@code index} then {@code radix_tree_iter_replace} with
     * {@code entry}, leaving its IDR_FREE tag set (an IDA leaf stays free until its bitmap is full):
     * false with the tree as before when a node cannot be allocated.
     */
    boolean insertKeepingFree(long root, long index, long entry) {
        if (!preload(nodesNeeded(root, index))) {
            return false;
        }
        insert(root, index, entry, false);
        boolean allUsed = poolTaken == poolCount;
        poolTaken = 0;
        poolCount = 0;
        if (!allUsed) {
            throw new IllegalStateException("radix tree: nodes preloaded and used differ");
        }
        return true;
    }

    /** {@code radix_tree_iter_tag_set}/{@code _clear(IDR_FREE)} of the slot {@link #lookup} found with {@code keep}. */
    void foundTag(long root, boolean free) {
        int offset = foundNode == 0 ? 0 : (int) ((foundSlot - (foundNode + nodeSlots)) / ptr);
        if (free) {
            nodeTagSet(root, foundNode, offset);
        } else {
            nodeTagClear(root, foundNode, offset);
        }
    }

    /** {@code radix_tree_extend}: new root nodes until {@code index} fits; returns the new root's shift + MAP_SHIFT. */
    private int extend(long root, long index, int shift) {
        int maxShift = shift;
        while (index > shiftMaxIndex(maxShift)) {
            maxShift += mapShift;
        }
        long entry = m.readPointer(root + rootRnode);
        if (entry == 0 && rootTagGet(root)) {
            return maxShift + mapShift;
        }
        do {
            long node = nodeAlloc(0, root, shift, 0, 1, 0);
            allTagSet(node);
            if (!rootTagGet(root)) {
                tagClear(node, 0);
                rootTagSet(root);
            }
            if (isInternal(entry)) {
                m.writePointer((entry & ~INTERNAL_NODE) + nodeParent, node);
            } else if (exceptional(entry) != 0) {
                m.writeByte(node + nodeExceptional, (byte) 1);
            }
            m.writePointer(node + nodeSlots, entry);
            entry = node | INTERNAL_NODE;
            m.writePointer(root + rootRnode, entry);
            shift += mapShift;
        } while (shift <= maxShift);
        return maxShift + mapShift;
    }

    // ---- lookup, delete, shrink --------------------------------------------------------------------

    /** {@code __radix_tree_lookup}'s {@code *nodep}: the node of the slot {@link #lookup} found, 0 for the root. */
    long foundNode;
    /** {@code __radix_tree_lookup}'s {@code *slotp}: the address of the slot {@link #lookup} found. */
    long foundSlot;

    /**
     * {@code __radix_tree_lookup} for an index within the tree: the entry; with {@code keep} its
     * node (0 for the root slot) and slot address in {@link #foundNode} and {@link #foundSlot}.
     */
    long lookup(long root, long index, boolean keep) {
        long node = m.readPointer(root + rootRnode);
        long slot = root + rootRnode;
        long parent = 0;
        if (index > (isInternal(node) ? nodeMaxIndex(node & ~INTERNAL_NODE) : 0)) {
            return 0;
        }
        while (isInternal(node)) {
            parent = node & ~INTERNAL_NODE;
            int offset = (int) ((index >>> shiftOf(parent)) & mapMask);
            slot = parent + nodeSlots + (long) offset * ptr;
            node = m.readPointer(slot);
        }
        if (keep) {
            foundNode = parent;
            foundSlot = slot;
        }
        return node;
    }

    /** {@code radix_tree_tag_get(root, index, IDR_FREE)}. */
    boolean indexTagGet(long root, long index) {
        if (!rootTagGet(root)) {
            return false;
        }
        long node = m.readPointer(root + rootRnode);
        if (index > (isInternal(node) ? nodeMaxIndex(node & ~INTERNAL_NODE) : 0)) {
            return false;
        }
        while (isInternal(node)) {
            long parent = node & ~INTERNAL_NODE;
            int offset = (int) ((index >>> shiftOf(parent)) & mapMask);
            node = slot(parent, offset);
            if (!tagGet(parent, offset)) {
                return false;
            }
        }
        return true;
    }

    /** {@code __radix_tree_replace} of a slot that is not free (so its count stays), then {@code delete_node}. */
    void replace(long root, long node, long slot, long entry) {
        long old = m.readPointer(slot);
        int exceptional = exceptional(entry) - exceptional(old);
        if (node != 0 && exceptional != 0) {
            addByte(node + nodeExceptional, exceptional);
        }
        m.writePointer(slot, entry);
        if (node != 0) {
            deleteNode(root, node);
        }
    }

    /**
     * {@code radix_tree_delete_item(root, index, NULL)} of an IDR: frees {@code index}, returns the entry
     * it held (0 if NULL or free); the tree shrinks and emptied nodes go back to the slab.
     */
    long deleteItem(long root, long index) {
        if (index > rootMaxIndex(root)) {
            return 0;
        }
        long entry = lookup(root, index, true);
        long node = foundNode;
        long slot = foundSlot;
        int offset = node == 0 ? 0 : (int) ((slot - (node + nodeSlots)) / ptr);
        if (entry == 0 && nodeTagGet(root, node, offset)) {
            return 0;
        }
        // __radix_tree_delete
        nodeTagSet(root, node, offset);
        if (node != 0) {
            addByte(node + nodeCount, -1);
            if (exceptional(entry) != 0) {
                addByte(node + nodeExceptional, -1);
            }
        }
        m.writePointer(slot, 0);
        if (node != 0) {
            deleteNode(root, node);
        }
        return entry;
    }

    /** {@code delete_node}: frees emptied nodes upwards, then shrinks the root. */
    private void deleteNode(long root, long node) {
        do {
            if (count(node) != 0) {
                if ((node | INTERNAL_NODE) == m.readPointer(root + rootRnode)) {
                    shrink(root);
                }
                return;
            }
            long parent = m.readPointer(node + nodeParent);
            if (parent != 0) {
                int offset = m.readByte(node + nodeOffset) & 0xff;
                m.writePointer(parent + nodeSlots + (long) offset * ptr, 0);
                addByte(parent + nodeCount, -1);
            } else {
                m.writePointer(root + rootRnode, 0);   // an IDR keeps its root tags
            }
            nodeCache.free(node);
            node = parent;
        } while (node != 0);
    }

    /** {@code radix_tree_shrink}: while the root node holds only slot 0, that slot becomes the root. */
    private void shrink(long root) {
        for (;;) {
            long rnode = m.readPointer(root + rootRnode);
            if (!isInternal(rnode)) {
                return;
            }
            long node = rnode & ~INTERNAL_NODE;
            if (count(node) != 1) {
                return;
            }
            long child = slot(node, 0);
            if (child == 0) {
                return;
            }
            if (!isInternal(child) && shiftOf(node) != 0) {
                return;
            }
            if (isInternal(child)) {
                m.writePointer((child & ~INTERNAL_NODE) + nodeParent, 0);
            }
            m.writePointer(root + rootRnode, child);
            if (!tagGet(node, 0)) {
                rootTagClear(root);
            }
            nodeCache.free(node);
        }
    }

    /** {@code radix_tree_free_nodes}: every node below and including {@code top}, children first. */
    void freeNodes(long top) {
        long topNode = top & ~INTERNAL_NODE;
        long child = topNode;
        int offset = 0;
        for (;;) {
            long entry = slot(child, offset);
            if (isInternal(entry)) {
                child = entry & ~INTERNAL_NODE;
                offset = 0;
                continue;
            }
            offset++;
            while (offset == mapSize) {
                long old = child;
                offset = (m.readByte(child + nodeOffset) & 0xff) + 1;
                child = m.readPointer(child + nodeParent);
                nodeCache.free(old);
                if (old == topNode) {
                    return;
                }
            }
        }
    }

    /**
     * {@code radix_tree_next_chunk} without tags: the first index >= {@code index} holding a non-NULL
     * entry, or -1.
     */
    long nextChunk(long root, long index) {
        restart:
        for (;;) {
            long child = m.readPointer(root + rootRnode);
            long maxIndex = isInternal(child) ? nodeMaxIndex(child & ~INTERNAL_NODE) : 0;
            if (index > maxIndex || child == 0) {
                return -1;
            }
            if (!isInternal(child)) {
                return index;
            }
            long node;
            int offset;
            do {
                node = child & ~INTERNAL_NODE;
                int shift = shiftOf(node);
                offset = (int) ((index >>> shift) & mapMask);
                child = slot(node, offset);
                if (child == 0) {
                    while (++offset < mapSize) {
                        if (slot(node, offset) != 0) {
                            break;
                        }
                    }
                    index &= ~nodeMaxIndex(node);
                    index += (long) offset << shift;
                    if (index == 0) {
                        return -1;
                    }
                    if (offset == mapSize) {
                        continue restart;
                    }
                    child = slot(node, offset);
                }
            } while (isInternal(child));
            return (index & ~nodeMaxIndex(node)) | ((long) offset << shiftOf(node));
        }
    }

    // ---- tags and fields ---------------------------------------------------------------------------

    /** {@code node_tag_set(root, node, IDR_FREE, offset)}: sets the tag up the path, then the root's. */
    private void nodeTagSet(long root, long node, int offset) {
        while (node != 0) {
            if (tagGet(node, offset)) {
                return;
            }
            tagSet(node, offset);
            offset = m.readByte(node + nodeOffset) & 0xff;
            node = m.readPointer(node + nodeParent);
        }
        if (!rootTagGet(root)) {
            rootTagSet(root);
        }
    }

    /** {@code node_tag_clear(root, node, IDR_FREE, offset)}: clears upwards while a node has no tag left. */
    private void nodeTagClear(long root, long node, int offset) {
        while (node != 0) {
            if (!tagGet(node, offset)) {
                return;
            }
            tagClear(node, offset);
            if (anyTagSet(node)) {
                return;
            }
            offset = m.readByte(node + nodeOffset) & 0xff;
            node = m.readPointer(node + nodeParent);
        }
        if (rootTagGet(root)) {
            rootTagClear(root);
        }
    }

    /** {@code node_tag_get}: the node's tag, or the root's for the root slot. */
    private boolean nodeTagGet(long root, long node, int offset) {
        return node != 0 ? tagGet(node, offset) : rootTagGet(root);
    }

    private long tagWord(long node, int offset) {
        return node + nodeTags + (long) Idr.IDR_FREE * tagRowBytes + (long) (offset / bitsPerLong) * tagWordBytes;
    }

    /** {@code tag_get(node, IDR_FREE, offset)}. */
    boolean tagGet(long node, int offset) {
        return (m.readUnsigned(tagWord(node, offset), tagWordBytes) >>> (offset % bitsPerLong) & 1) != 0;
    }

    private void tagSet(long node, int offset) {
        long word = tagWord(node, offset);
        m.writeScalar(word, tagWordBytes, m.readUnsigned(word, tagWordBytes) | 1L << (offset % bitsPerLong));
    }

    private void tagClear(long node, int offset) {
        long word = tagWord(node, offset);
        m.writeScalar(word, tagWordBytes, m.readUnsigned(word, tagWordBytes) & ~(1L << (offset % bitsPerLong)));
    }

    /** {@code any_tag_set(node, IDR_FREE)}. */
    private boolean anyTagSet(long node) {
        long row = node + nodeTags + (long) Idr.IDR_FREE * tagRowBytes;
        for (int i = 0; i < tagLongs; i++) {
            if (m.readUnsigned(row + (long) i * tagWordBytes, tagWordBytes) != 0) {
                return true;
            }
        }
        return false;
    }

    /** {@code all_tag_set(node, IDR_FREE)}: {@code bitmap_fill} of MAP_SIZE bits. */
    private void allTagSet(long node) {
        long row = node + nodeTags + (long) Idr.IDR_FREE * tagRowBytes;
        for (int i = 0; i < tagLongs; i++) {
            int bits = Math.min(bitsPerLong, mapSize - i * bitsPerLong);
            long value = bits <= 0 ? 0 : bits == 64 ? -1L : (1L << bits) - 1;
            m.writeScalar(row + (long) i * tagWordBytes, tagWordBytes, value);
        }
    }

    /** {@code radix_tree_find_next_bit(node, IDR_FREE, offset)}: the next tagged slot, or MAP_SIZE. */
    private int findNextBit(long node, int offset) {
        while (offset < mapSize) {
            int bit = offset % bitsPerLong;
            long word = m.readUnsigned(tagWord(node, offset), tagWordBytes) >>> bit;
            if (word != 0) {
                int found = offset + Long.numberOfTrailingZeros(word);
                return Math.min(found, mapSize);
            }
            offset += bitsPerLong - bit;
        }
        return mapSize;
    }

    int gfp(long root) {
        return (int) m.readUnsigned(root + rootGfpMask, gfpSize);
    }

    boolean rootTagGet(long root) {
        return (gfp(root) & 1 << (Idr.IDR_FREE + rootTagShift)) != 0;
    }

    void rootTagSet(long root) {
        m.writeScalar(root + rootGfpMask, gfpSize, gfp(root) | 1 << (Idr.IDR_FREE + rootTagShift));
    }

    private void rootTagClear(long root) {
        m.writeScalar(root + rootGfpMask, gfpSize, gfp(root) & ~(1 << (Idr.IDR_FREE + rootTagShift)));
    }

    private long slot(long node, int offset) {
        return m.readPointer(node + nodeSlots + (long) offset * ptr);
    }

    private int shiftOf(long node) {
        return m.readByte(node + nodeShift) & 0xff;
    }

    private int count(long node) {
        return m.readByte(node + nodeCount) & 0xff;
    }

    private void addByte(long address, int delta) {
        m.writeByte(address, (byte) (m.readByte(address) + delta));
    }

    /** {@code shift_maxindex}. */
    private long shiftMaxIndex(int shift) {
        return ((long) mapSize << shift) - 1;
    }

    private long nodeMaxIndex(long node) {
        return shiftMaxIndex(shiftOf(node));
    }

    long rootMaxIndex(long root) {
        long rnode = m.readPointer(root + rootRnode);
        return isInternal(rnode) ? nodeMaxIndex(rnode & ~INTERNAL_NODE) : 0;
    }

    /** {@code radix_tree_is_internal_node}. */
    static boolean isInternal(long entry) {
        return (entry & ENTRY_MASK) == INTERNAL_NODE;
    }

    private static int exceptional(long entry) {
        return (entry & EXCEPTIONAL_ENTRY) != 0 ? 1 : 0;
    }
}
