package io.github.kproc.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.KernelMemory;
import io.github.kproc.mem.MemoryMap;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code lib/rbtree.c} on arena memory, on both pointer widths. Entries are a {@code struct rb_node}
 * followed by a {@code long} key; callers descend by key as {@code __enqueue_entity} does, equal keys
 * going right. Every check reads the tree back from memory with walks bounded by the number of nodes
 * and the red-black height limit, so a corrupted tree fails instead of hanging.
 */
@DisplayName("lib/rbtree.c: red-black trees of struct rb_node in the arena")
class RbtreeTest {
    /** The two bundled builds: their guest pointer width and their {@code struct rb_node} layouts. */
    enum Build {
        ARM32(new MemoryMap(4, 4096, 0x8000_0000L, 1 << 20, 0, 0, 0), "arm32-vexpress"),
        ARM64(new MemoryMap(8, 4096, 0xffff_8000_0000_0000L, 1 << 20, 0, 0, 0), "arm64-defconfig");

        private final MemoryMap map;
        private final io.github.kproc.layout.BundledDump dump;

        Build(MemoryMap map, String build) {
            this.map = map;
            this.dump = build.startsWith("arm32") ? io.github.kproc.layout.BundledDump.ARM32
                    : io.github.kproc.layout.BundledDump.ARM64;
        }

        /** The bundled build's profile, from the backend's resources. */
        Profile profile() {
            return dump.profile();
        }
    }

    /**
     * One block of arena memory: an {@code rb_root_cached} and a plain {@code rb_root} in slot 0, then
     * entries of {@link #SLOT} bytes. Free entries are poisoned (0x6b) so nothing relies on zeroed memory.
     */
    static final class Fixture implements AutoCloseable {
        static final int SLOT = 32;
        static final int ORDER = 2;
        static final byte POISON = 0x6b;

        final KernelMemory memory;
        final AddressSpace m;
        final Rbtree rb;
        final long nodeSize;
        final long keyOffset;
        final long block;
        final long blockSize;
        /** A {@code struct rb_root_cached}, as {@code cfs_rq->tasks_timeline}. */
        final long cached;
        /** A plain {@code struct rb_root}. */
        final long plain;
        private final ArrayDeque<Long> free = new ArrayDeque<>();

        Fixture(Build build) {
            memory = KernelMemory.create(build.map);
            m = memory.space();
            Profile p = build.profile();
            rb = new Rbtree(m, p);
            nodeSize = p.sizeOf("rb_node");
            keyOffset = (nodeSize + 7) & ~7L;
            block = memory.pages().allocPages(ORDER);
            blockSize = (long) memory.pages().pageSize() << ORDER;
            cached = block;
            plain = block + p.sizeOf("rb_root_cached");
            reset();
        }

        /** Empty roots and every entry free again. */
        void reset() {
            m.fill(block, blockSize, POISON);
            rb.initRootCached(cached);
            rb.initRoot(plain);
            free.clear();
            for (long e = block + SLOT; e + SLOT <= block + blockSize; e += SLOT) {
                free.addLast(e);
            }
        }

        long key(long node) {
            return m.readLong(node + keyOffset);
        }

        /** A free, poisoned entry with its key set. */
        private long entry(long key) {
            long node = free.removeFirst();
            m.writeLong(node + keyOffset, key);
            return node;
        }

        /** Poisons an erased entry, as a slab free would, and makes it free again. */
        void release(long node) {
            m.fill(node, SLOT, POISON);
            free.addFirst(node);
        }

        /** {@code __enqueue_entity}: descent by key into the cached root, then link and rebalance. */
        long enqueue(long key) {
            long node = entry(key);
            long link = rb.rootLink(rb.cachedRoot(cached));
            long parent = 0;
            boolean leftmost = true;
            for (int depth = 0; m.readPointer(link) != 0; depth++) {
                assertTrue(depth < 128, "descent does not end");
                parent = m.readPointer(link);
                if (key < key(parent)) {
                    link = rb.leftLink(parent);
                } else {
                    link = rb.rightLink(parent);
                    leftmost = false;
                }
            }
            rb.linkNode(node, parent, link);
            rb.insertColorCached(node, cached, leftmost);
            return node;
        }

        /** The same descent into the plain root, then {@code rb_insert_color}. */
        long insertPlain(long key) {
            long node = entry(key);
            long link = rb.rootLink(plain);
            long parent = 0;
            for (int depth = 0; m.readPointer(link) != 0; depth++) {
                assertTrue(depth < 128, "descent does not end");
                parent = m.readPointer(link);
                link = key < key(parent) ? rb.leftLink(parent) : rb.rightLink(parent);
            }
            rb.linkNode(node, parent, link);
            rb.insertColor(node, plain);
            return node;
        }

        long[] enqueueAll(long... keys) {
            long[] nodes = new long[keys.length];
            for (int i = 0; i < keys.length; i++) {
                nodes[i] = enqueue(keys[i]);
            }
            return nodes;
        }

        /**
         * The tree under an {@code rb_root} with colours: a leaf is {@code "5r"} or {@code "5B"}, an
         * inner node {@code "(left key right)"} with {@code "-"} for a missing child.
         */
        String shape(long root) {
            return shape(rb.rootNode(root), 0);
        }

        private String shape(long node, int depth) {
            if (node == 0) {
                return "-";
            }
            assertTrue(depth < 64, "tree deeper than 64");
            String self = key(node) + (rb.isRed(node) ? "r" : "B");
            long l = rb.left(node);
            long r = rb.right(node);
            if (l == 0 && r == 0) {
                return self;
            }
            return "(" + shape(l, depth + 1) + " " + self + " " + shape(r, depth + 1) + ")";
        }

        /** {@link #check} of the cached root, plus {@code rb_leftmost == rb_first} (NULL when empty). */
        void checkCached(List<Long> expected) {
            long root = rb.cachedRoot(cached);
            check(root, expected);
            assertEquals(rb.first(root), rb.firstCached(cached), "rb_leftmost is rb_first");
        }

        /**
         * Every red-black rule read from memory, then both in-order walks against {@code expected}.
         * The structural walk runs first and is bounded in depth (2 log2(n+1)) and node count, so
         * once it passes, rb_first/rb_next/rb_last/rb_prev cannot loop.
         */
        void check(long root, List<Long> expected) {
            int n = expected.size();
            long top = rb.rootNode(root);
            if (n == 0) {
                assertEquals(0, top, "empty tree has no root node");
                assertEquals(0, rb.first(root), "rb_first of an empty tree");
                assertEquals(0, rb.last(root), "rb_last of an empty tree");
                return;
            }
            assertNotEquals(0, top, "a tree of " + n + " nodes has a root node");
            assertTrue(rb.isBlack(top), "root is black");
            int[] visited = {0};
            blackHeight(top, 0, 1, 2 * (32 - Integer.numberOfLeadingZeros(n)), n, visited);
            assertEquals(n, visited[0], "nodes reachable from the root");

            List<Long> forward = new ArrayList<>(n);
            for (long x = rb.first(root); x != 0; x = rb.next(x)) {
                forward.add(x);
                assertTrue(forward.size() <= n, "rb_next walks past " + n + " nodes");
            }
            assertEquals(expected, forward, () -> "rb_first/rb_next order; keys " + keys(forward));
            List<Long> backward = new ArrayList<>(n);
            for (long x = rb.last(root); x != 0; x = rb.prev(x)) {
                backward.add(x);
                assertTrue(backward.size() <= n, "rb_prev walks past " + n + " nodes");
            }
            Collections.reverse(backward);
            assertEquals(expected, backward, "rb_last/rb_prev order");
        }

        private int blackHeight(long node, long parent, int depth, int maxDepth, int n, int[] visited) {
            if (node == 0) {
                return 0;
            }
            if (depth > maxDepth) {
                fail("path longer than 2 log2(n+1) = " + maxDepth + " for " + n + " nodes: unbalanced or cyclic");
            }
            if (++visited[0] > n) {
                fail("more than " + n + " nodes reachable from the root");
            }
            assertEquals(parent, rb.parent(node), () -> "parent pointer of node with key " + key(node));
            long l = rb.left(node);
            long r = rb.right(node);
            if (rb.isRed(node)) {
                assertFalse(l != 0 && rb.isRed(l) || r != 0 && rb.isRed(r),
                        () -> "red node with key " + key(node) + " has a red child");
            }
            int lh = blackHeight(l, node, depth + 1, maxDepth, n, visited);
            int rh = blackHeight(r, node, depth + 1, maxDepth, n, visited);
            assertEquals(lh, rh, () -> "black heights under node with key " + key(node));
            return lh + (rb.isBlack(node) ? 1 : 0);
        }

        List<Long> keys(List<Long> nodes) {
            List<Long> keys = new ArrayList<>(nodes.size());
            for (long node : nodes) {
                keys.add(key(node));
            }
            return keys;
        }

        @Override
        public void close() {
            memory.close();
        }
    }

    private static List<Long> inOrder(TreeMap<Long, List<Long>> model) {
        List<Long> order = new ArrayList<>();
        for (List<Long> equal : model.values()) {
            order.addAll(equal);
        }
        return order;
    }

    private static List<Long> list(long... nodes) {
        List<Long> out = new ArrayList<>(nodes.length);
        for (long node : nodes) {
            out.add(node);
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("rb_insert_color_cached and rb_erase_cached keep the red-black rules, the sorted order and rb_leftmost")
    void randomInsertsAndErasesMatchASortedModel(Build build) {
        try (Fixture t = new Fixture(build)) {
            Theories.qt(150)
                    .forAll(lists().of(integers().between(0, 1 << 20)).ofSizeBetween(1, 300))
                    .checkAssert(ops -> {
                        t.reset();
                        TreeMap<Long, List<Long>> model = new TreeMap<>();
                        int size = 0;
                        for (int op : ops) {
                            if (size == 0 || op % 3 != 0) {
                                // Narrow keys make long runs of equal keys; wide ones make deep trees.
                                long key = (op & 4) == 0 ? (op >> 3) % 8 : op >> 3;
                                long node = t.enqueue(key);
                                model.computeIfAbsent(key, k -> new ArrayList<>()).add(node);
                                size++;
                            } else {
                                List<Long> order = inOrder(model);
                                long victim = order.get((op / 3) % order.size());
                                long key = t.key(victim);
                                t.rb.eraseCached(victim, t.cached);
                                List<Long> equal = model.get(key);
                                equal.remove(Long.valueOf(victim));
                                if (equal.isEmpty()) {
                                    model.remove(key);
                                }
                                t.release(victim);
                                size--;
                            }
                            t.checkCached(inOrder(model));
                        }
                    });
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("rb_link_node + rb_insert_color_cached into an empty tree: a black root that is rb_leftmost")
    void insertIntoEmpty(Build build) {
        try (Fixture t = new Fixture(build)) {
            long n = t.enqueue(10);
            assertEquals(n, t.rb.rootNode(t.rb.cachedRoot(t.cached)));
            assertEquals(0, t.rb.parent(n));
            assertEquals(0, t.rb.left(n));
            assertEquals(0, t.rb.right(n));
            assertEquals(Rbtree.RB_BLACK, t.rb.color(n));
            assertEquals(n, t.rb.firstCached(t.cached));
            t.checkCached(list(n));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("__rb_parent_color holds the parent address with the colour in bit 0, in the build's pointer width")
    void parentColorEncoding(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = t.enqueueAll(20, 10, 30);
            Profile p = build.profile();
            long pc = p.offsetOf("rb_node", "__rb_parent_color");
            assertEquals(Rbtree.RB_BLACK, t.m.readPointer(n[0] + pc), "root: NULL | RB_BLACK");
            assertEquals(n[0] | Rbtree.RB_RED, t.m.readPointer(n[1] + pc), "red child: parent | RB_RED");
            assertEquals(n[1], t.m.readPointer(n[0] + p.offsetOf("rb_node", "rb_left")));
            assertEquals(n[2], t.m.readPointer(n[0] + p.offsetOf("rb_node", "rb_right")));
            if (t.keyOffset > t.nodeSize) {
                assertEquals(0x6b6b6b6b, t.m.readInt(n[1] + t.nodeSize), "bytes after struct rb_node stay untouched");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("__rb_insert case 1: a red uncle flips colours and recurses at the grandparent (and its mirror)")
    void insertCase1RedUncle(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = t.enqueueAll(20, 10, 30, 5);
            assertEquals("((5r 10B -) 20B 30B)", t.shape(t.rb.cachedRoot(t.cached)));
            t.checkCached(list(n[3], n[1], n[0], n[2]));
            t.reset();
            n = t.enqueueAll(20, 10, 30, 35);
            assertEquals("(10B 20B (- 30B 35r))", t.shape(t.rb.cachedRoot(t.cached)));
            t.checkCached(list(n[1], n[0], n[2], n[3]));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("__rb_insert case 2: an inner grandchild rotates at its parent, then case 3 at the grandparent (and its mirror)")
    void insertCase2InnerGrandchild(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = t.enqueueAll(30, 10, 20);
            assertEquals("(10r 20B 30r)", t.shape(t.rb.cachedRoot(t.cached)));
            assertEquals(n[2], t.rb.rootNode(t.rb.cachedRoot(t.cached)), "the new node is the root");
            t.checkCached(list(n[1], n[2], n[0]));
            t.reset();
            n = t.enqueueAll(10, 30, 20);
            assertEquals("(10r 20B 30r)", t.shape(t.rb.cachedRoot(t.cached)));
            assertEquals(n[2], t.rb.rootNode(t.rb.cachedRoot(t.cached)), "the new node is the root");
            t.checkCached(list(n[0], n[2], n[1]));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("__rb_insert case 3: an outer grandchild rotates at the grandparent (and its mirror)")
    void insertCase3OuterGrandchild(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = t.enqueueAll(30, 20, 10);
            assertEquals("(10r 20B 30r)", t.shape(t.rb.cachedRoot(t.cached)));
            assertEquals(n[1], t.rb.rootNode(t.rb.cachedRoot(t.cached)), "the parent is the root");
            t.checkCached(list(n[2], n[1], n[0]));
            t.reset();
            n = t.enqueueAll(10, 20, 30);
            assertEquals("(10r 20B 30r)", t.shape(t.rb.cachedRoot(t.cached)));
            assertEquals(n[1], t.rb.rootNode(t.rb.cachedRoot(t.cached)), "the parent is the root");
            t.checkCached(list(n[0], n[1], n[2]));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("equal keys go right, so rb_next visits them in insertion order")
    void equalKeysInInsertionOrder(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = t.enqueueAll(7, 7, 7, 7, 7);
            t.checkCached(list(n));
            assertEquals(n[0], t.rb.firstCached(t.cached));
        }
    }

    /** ((5r 10B 15r) 20B (25r 30B 35r)): indices 0..6 are keys 20, 10, 30, 5, 15, 25, 35. */
    private static long[] sevenNodes(Fixture t) {
        long[] n = t.enqueueAll(20, 10, 30, 5, 15, 25, 35);
        assertEquals("((5r 10B 15r) 20B (25r 30B 35r))", t.shape(t.rb.cachedRoot(t.cached)));
        return n;
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("__rb_erase_augmented case 2: a node with two children is replaced by its right child")
    void eraseTwoChildrenSuccessorIsRightChild(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = sevenNodes(t);
            t.rb.eraseCached(n[1], t.cached);
            assertEquals("((5r 15B -) 20B (25r 30B 35r))", t.shape(t.rb.cachedRoot(t.cached)));
            t.checkCached(list(n[3], n[4], n[0], n[5], n[2], n[6]));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("rb_erase of the root: case 3, the leftmost node of the right subtree becomes the black root")
    void eraseRoot(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = sevenNodes(t);
            t.rb.eraseCached(n[0], t.cached);
            assertEquals("((5r 10B 15r) 25B (- 30B 35r))", t.shape(t.rb.cachedRoot(t.cached)));
            assertEquals(n[5], t.rb.rootNode(t.rb.cachedRoot(t.cached)));
            assertEquals(0, t.rb.parent(n[5]));
            t.checkCached(list(n[3], n[1], n[4], n[5], n[2], n[6]));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("____rb_erase_color case 4 (mirror): a black leaf's red-nephewed sibling rotates up")
    void eraseBlackLeafRotates(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = t.enqueueAll(20, 10, 30, 5);
            t.rb.eraseCached(n[2], t.cached);
            assertEquals("(5B 10B 20B)", t.shape(t.rb.cachedRoot(t.cached)));
            t.checkCached(list(n[3], n[1], n[0]));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("____rb_erase_color case 2: a black leaf with a black, childless sibling makes the sibling red")
    void eraseBlackLeafRecolours(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = t.enqueueAll(20, 10, 30, 5);
            t.rb.eraseCached(n[3], t.cached);
            assertEquals("(10B 20B 30B)", t.shape(t.rb.cachedRoot(t.cached)));
            t.rb.eraseCached(n[1], t.cached);
            assertEquals("(- 20B 30r)", t.shape(t.rb.cachedRoot(t.cached)));
            t.checkCached(list(n[0], n[2]));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("rb_erase_cached moves rb_leftmost to rb_next when the leftmost leaves, and to NULL at the end")
    void eraseLeftmostUpdatesCache(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = sevenNodes(t);
            assertEquals(n[3], t.rb.firstCached(t.cached));
            long[] byKey = {n[3], n[1], n[4], n[0], n[5], n[2], n[6]};
            for (int i = 0; i < byKey.length; i++) {
                t.rb.eraseCached(byKey[i], t.cached);
                long expected = i + 1 < byKey.length ? byKey[i + 1] : 0;
                assertEquals(expected, t.rb.firstCached(t.cached), "rb_leftmost after erasing " + (i + 1));
                List<Long> rest = new ArrayList<>();
                for (int j = i + 1; j < byKey.length; j++) {
                    rest.add(byKey[j]);
                }
                t.checkCached(rest);
            }
            assertTrue(t.rb.emptyRoot(t.rb.cachedRoot(t.cached)));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("rb_insert_color_cached with leftmost false leaves rb_leftmost alone")
    void insertRightKeepsLeftmost(Build build) {
        try (Fixture t = new Fixture(build)) {
            long first = t.enqueue(10);
            t.enqueueAll(40, 30, 20, 50);
            assertEquals(first, t.rb.firstCached(t.cached));
            long newFirst = t.enqueue(1);
            assertEquals(newFirst, t.rb.firstCached(t.cached));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("RB_CLEAR_NODE marks a node as in no tree: RB_EMPTY_NODE holds and rb_next/rb_prev give NULL")
    void clearAndEmptyNode(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = t.enqueueAll(20, 10, 30);
            assertFalse(t.rb.emptyNode(n[1]));
            t.rb.eraseCached(n[1], t.cached);
            t.rb.clearNode(n[1]);
            assertTrue(t.rb.emptyNode(n[1]));
            assertEquals(n[1], t.m.readPointer(n[1] + build.profile().offsetOf("rb_node", "__rb_parent_color")));
            assertEquals(0, t.rb.next(n[1]));
            assertEquals(0, t.rb.prev(n[1]));
            t.checkCached(list(n[0], n[2]));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("rb_insert_color and rb_erase on a plain rb_root, rb_first and rb_last")
    void plainRoot(Build build) {
        try (Fixture t = new Fixture(build)) {
            assertTrue(t.rb.emptyRoot(t.plain));
            long[] n = new long[7];
            long[] keys = {20, 10, 30, 5, 15, 25, 35};
            for (int i = 0; i < keys.length; i++) {
                n[i] = t.insertPlain(keys[i]);
            }
            assertEquals("((5r 10B 15r) 20B (25r 30B 35r))", t.shape(t.plain));
            assertEquals(n[3], t.rb.first(t.plain));
            assertEquals(n[6], t.rb.last(t.plain));
            t.rb.erase(n[0], t.plain);
            assertEquals("((5r 10B 15r) 25B (- 30B 35r))", t.shape(t.plain));
            t.check(t.plain, list(n[3], n[1], n[4], n[5], n[2], n[6]));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @DisplayName("rb_replace_node_cached: the replacement takes the victim's place, colour, children and rb_leftmost")
    void replaceNode(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = sevenNodes(t);
            long ten = t.entry(10);
            t.rb.replaceNode(n[1], ten, t.rb.cachedRoot(t.cached));
            assertEquals("((5r 10B 15r) 20B (25r 30B 35r))", t.shape(t.rb.cachedRoot(t.cached)));
            t.checkCached(list(n[3], ten, n[4], n[0], n[5], n[2], n[6]));
            long five = t.entry(5);
            t.rb.replaceNodeCached(n[3], five, t.cached);
            assertEquals(five, t.rb.firstCached(t.cached));
            t.checkCached(list(five, ten, n[4], n[0], n[5], n[2], n[6]));
        }
    }

    @ParameterizedTest
    @EnumSource(Build.class)
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    @DisplayName("the checker fails, never hangs, on a tree with a cycle")
    void checkerFailsOnCycle(Build build) {
        try (Fixture t = new Fixture(build)) {
            long[] n = sevenNodes(t);
            t.m.writePointer(t.rb.leftLink(n[3]), n[0]);
            assertThrows(AssertionError.class, () -> t.checkCached(list(n[3], n[1], n[4], n[0], n[5], n[2], n[6])));
        }
    }
}
