package io.github.kproc.kernel;

import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;

/**
 * {@code lib/rbtree.c} with {@code include/linux/rbtree.h} and {@code rbtree_augmented.h} on arena
 * memory: red-black trees of {@code struct rb_node}s under a {@code struct rb_root} or
 * {@code struct rb_root_cached}, every pointer a kernel address. {@code __rb_parent_color} holds the
 * parent's address with the colour in bit 0 ({@link #RB_RED} 0, {@link #RB_BLACK} 1), as the kernel
 * keeps it.
 *
 * <p>Callers search by key themselves and link the new node where the search ended, as the kernel
 * does: walk {@link #rootLink}/{@link #leftLink}/{@link #rightLink}, then {@link #linkNode} and
 * {@link #insertColor} (or the cached variants). Only the non-augmented tree is modelled, so the
 * augment callbacks of {@code __rb_insert} and {@code __rb_erase_augmented} are the kernel's dummies and
 * are left out. Each rebalancing loop writes the kernel's left-hand branch once, over child offsets that
 * the right-hand (mirror) branch swaps; the cases and their order are the kernel's. Nothing here
 * allocates on the Java heap.
 */
final class Rbtree {
    /** {@code RB_RED}. */
    static final int RB_RED = 0;
    /** {@code RB_BLACK}. */
    static final int RB_BLACK = 1;

    private final AddressSpace m;
    /** {@code offsetof(struct rb_node, __rb_parent_color)}. */
    private final long parentColor;
    /** {@code offsetof(struct rb_node, rb_right)}. */
    private final long right;
    /** {@code offsetof(struct rb_node, rb_left)}. */
    private final long left;
    /** {@code sizeof(struct rb_node)}, for the struct copy of {@code rb_replace_node}. */
    private final long nodeSize;
    /** {@code offsetof(struct rb_root, rb_node)}. */
    private final long rootNode;
    /** {@code offsetof(struct rb_root_cached, rb_root)}. */
    private final long cachedRoot;
    /** {@code offsetof(struct rb_root_cached, rb_leftmost)}. */
    private final long cachedLeftmost;

    Rbtree(AddressSpace m, Profile profile) {
        this.m = m;
        this.parentColor = profile.offsetOf("rb_node", "__rb_parent_color");
        this.right = profile.offsetOf("rb_node", "rb_right");
        this.left = profile.offsetOf("rb_node", "rb_left");
        this.nodeSize = profile.sizeOf("rb_node");
        this.rootNode = profile.offsetOf("rb_root", "rb_node");
        this.cachedRoot = profile.offsetOf("rb_root_cached", "rb_root");
        this.cachedLeftmost = profile.offsetOf("rb_root_cached", "rb_leftmost");
    }

    // ---- include/linux/rbtree.h and rbtree_augmented.h accessors

    /** {@code rb_parent}: the parent, or 0 for the root. */
    long parent(long node) {
        return m.readPointer(node + parentColor) & ~3L;
    }

    /** {@code node->rb_left}. */
    long left(long node) {
        return m.readPointer(node + left);
    }

    /** {@code node->rb_right}. */
    long right(long node) {
        return m.readPointer(node + right);
    }

    /** {@code rb_color}: {@link #RB_RED} or {@link #RB_BLACK}. */
    int color(long node) {
        return (int) (parentColorOf(node) & 1);
    }

    /** {@code rb_is_red}. */
    boolean isRed(long node) {
        return (parentColorOf(node) & 1) == RB_RED;
    }

    /** {@code rb_is_black}. */
    boolean isBlack(long node) {
        return (parentColorOf(node) & 1) == RB_BLACK;
    }

    /** {@code root->rb_node}: the root node of an {@code rb_root}, or 0 for an empty tree. */
    long rootNode(long root) {
        return m.readPointer(root + rootNode);
    }

    /** {@code &root->rb_root}: the {@code rb_root} inside an {@code rb_root_cached}. */
    long cachedRoot(long root) {
        return root + cachedRoot;
    }

    /** {@code &root->rb_node}: where a search of an {@code rb_root} starts and links a first node. */
    long rootLink(long root) {
        return root + rootNode;
    }

    /** {@code &node->rb_left}: the link a search follows to smaller keys. */
    long leftLink(long node) {
        return node + left;
    }

    /** {@code &node->rb_right}: the link a search follows to greater or equal keys. */
    long rightLink(long node) {
        return node + right;
    }

    /** {@code RB_ROOT}: an empty {@code rb_root}. */
    void initRoot(long root) {
        m.writePointer(root + rootNode, 0);
    }

    /** {@code RB_ROOT_CACHED}: an empty {@code rb_root_cached}. */
    void initRootCached(long root) {
        m.writePointer(root + cachedRoot + rootNode, 0);
        m.writePointer(root + cachedLeftmost, 0);
    }

    /** {@code RB_EMPTY_ROOT}. */
    boolean emptyRoot(long root) {
        return m.readPointer(root + rootNode) == 0;
    }

    /** {@code RB_EMPTY_NODE}: true for a node marked as in no tree by {@link #clearNode}. */
    boolean emptyNode(long node) {
        return m.readPointer(node + parentColor) == node;
    }

    /** {@code RB_CLEAR_NODE}: the node's parent_color becomes its own address. */
    void clearNode(long node) {
        m.writePointer(node + parentColor, node);
    }

    /** {@code rb_link_node}: a red leaf under {@code parent}, stored into the link at {@code link}. */
    void linkNode(long node, long parent, long link) {
        m.writePointer(node + parentColor, parent);
        m.writePointer(node + left, 0);
        m.writePointer(node + right, 0);
        m.writePointer(link, node);
    }

    // ---- lib/rbtree.c

    /** {@code rb_insert_color}: rebalances after {@link #linkNode} into the {@code rb_root} at {@code root}. */
    void insertColor(long node, long root) {
        insert(node, root, false, 0);
    }

    /** {@code rb_insert_color_cached}: {@code leftmost} says the search only went left. */
    void insertColorCached(long node, long root, boolean leftmost) {
        insert(node, root + cachedRoot, leftmost, root + cachedLeftmost);
    }

    /** {@code rb_erase}: unlinks the node from the {@code rb_root} at {@code root} and rebalances. */
    void erase(long node, long root) {
        long rebalance = eraseAugmented(node, root, 0);
        if (rebalance != 0) {
            eraseColor(rebalance, root);
        }
    }

    /** {@code rb_erase_cached}: {@link #erase}, moving {@code rb_leftmost} on if the node was leftmost. */
    void eraseCached(long node, long root) {
        long rebalance = eraseAugmented(node, root + cachedRoot, root + cachedLeftmost);
        if (rebalance != 0) {
            eraseColor(rebalance, root + cachedRoot);
        }
    }

    /** {@code rb_first}: the leftmost node, or 0 for an empty tree. */
    long first(long root) {
        long n = m.readPointer(root + rootNode);
        if (n == 0) {
            return 0;
        }
        for (long l; (l = left(n)) != 0; ) {
            n = l;
        }
        return n;
    }

    /** {@code rb_last}: the rightmost node, or 0 for an empty tree. */
    long last(long root) {
        long n = m.readPointer(root + rootNode);
        if (n == 0) {
            return 0;
        }
        for (long r; (r = right(n)) != 0; ) {
            n = r;
        }
        return n;
    }

    /** {@code rb_first_cached}: {@code root->rb_leftmost}, without a walk. */
    long firstCached(long root) {
        return m.readPointer(root + cachedLeftmost);
    }

    /** {@code rb_next}: the in-order successor, or 0 after the last node or for an empty node. */
    long next(long node) {
        if (emptyNode(node)) {
            return 0;
        }
        long n = right(node);
        if (n != 0) {
            for (long l; (l = left(n)) != 0; ) {
                n = l;
            }
            return n;
        }
        long parent;
        while ((parent = parent(node)) != 0 && node == right(parent)) {
            node = parent;
        }
        return parent;
    }

    /** {@code rb_prev}: the in-order predecessor, or 0 before the first node or for an empty node. */
    long prev(long node) {
        if (emptyNode(node)) {
            return 0;
        }
        long n = left(node);
        if (n != 0) {
            for (long r; (r = right(n)) != 0; ) {
                n = r;
            }
            return n;
        }
        long parent;
        while ((parent = parent(node)) != 0 && node == left(parent)) {
            node = parent;
        }
        return parent;
    }

    /** {@code rb_replace_node}: {@code replacement} takes the victim's place, colour and children. */
    void replaceNode(long victim, long replacement, long root) {
        long parent = parent(victim);
        m.copy(victim, replacement, nodeSize);
        long l = left(victim);
        if (l != 0) {
            setParent(l, replacement);
        }
        long r = right(victim);
        if (r != 0) {
            setParent(r, replacement);
        }
        changeChild(victim, replacement, parent, root);
    }

    /** {@code rb_replace_node_cached}: {@link #replaceNode}, keeping {@code rb_leftmost} right. */
    void replaceNodeCached(long victim, long replacement, long root) {
        replaceNode(victim, replacement, root + cachedRoot);
        if (m.readPointer(root + cachedLeftmost) == victim) {
            m.writePointer(root + cachedLeftmost, replacement);
        }
    }

    // ---- internals

    private long parentColorOf(long node) {
        return m.readPointer(node + parentColor);
    }

    /** {@code rb_red_parent}: a red node's parent_color is its parent's address as is. */
    private long redParent(long node) {
        return m.readPointer(node + parentColor);
    }

    /** {@code rb_set_parent}: keeps the colour. */
    private void setParent(long node, long parent) {
        m.writePointer(node + parentColor, (parentColorOf(node) & 1) | parent);
    }

    /** {@code rb_set_parent_color}. */
    private void setParentColor(long node, long parent, int color) {
        m.writePointer(node + parentColor, parent | color);
    }

    /** {@code rb_set_black}. */
    private void setBlack(long node) {
        m.writePointer(node + parentColor, parentColorOf(node) | RB_BLACK);
    }

    /** {@code __rb_change_child}: the link to {@code old} from its parent (or the root) now holds {@code replacement}. */
    private void changeChild(long old, long replacement, long parent, long root) {
        if (parent != 0) {
            if (left(parent) == old) {
                m.writePointer(parent + left, replacement);
            } else {
                m.writePointer(parent + right, replacement);
            }
        } else {
            m.writePointer(root + rootNode, replacement);
        }
    }

    /** {@code __rb_rotate_set_parents}: {@code replacement} takes old's parent and colour; old hangs under it. */
    private void rotateSetParents(long old, long replacement, long root, int color) {
        long parent = parent(old);
        m.writePointer(replacement + parentColor, parentColorOf(old));
        setParentColor(old, replacement, color);
        changeChild(old, replacement, parent, root);
    }

    /**
     * {@code __rb_insert}. {@code side} is the child offset by which the parent hangs from the
     * grandparent ({@code rb_left} in the kernel's first branch), {@code other} the opposite one.
     */
    private void insert(long node, long root, boolean newLeft, long leftmost) {
        long parent = redParent(node);
        if (newLeft) {
            m.writePointer(leftmost, node);
        }
        while (true) {
            if (parent == 0) {
                setParentColor(node, 0, RB_BLACK);
                return;
            }
            if (isBlack(parent)) {
                return;
            }
            long gparent = redParent(parent);
            long tmp = right(gparent);
            long side;
            long other;
            if (parent != tmp) {
                side = left;
                other = right;
            } else {
                side = right;
                other = left;
                tmp = left(gparent);
            }
            if (tmp != 0 && isRed(tmp)) {
                // Case 1: red uncle, flip colours and go on from the grandparent.
                setParentColor(tmp, gparent, RB_BLACK);
                setParentColor(parent, gparent, RB_BLACK);
                node = gparent;
                parent = parent(node);
                setParentColor(node, parent, RB_RED);
                continue;
            }
            tmp = m.readPointer(parent + other);
            if (node == tmp) {
                // Case 2: black uncle, node is the inner grandchild: rotate at parent toward side.
                tmp = m.readPointer(node + side);
                m.writePointer(parent + other, tmp);
                m.writePointer(node + side, parent);
                if (tmp != 0) {
                    setParentColor(tmp, parent, RB_BLACK);
                }
                setParentColor(parent, node, RB_RED);
                parent = node;
                tmp = m.readPointer(node + other);
            }
            // Case 3: black uncle, node is the outer grandchild: rotate at gparent away from side.
            m.writePointer(gparent + side, tmp);
            m.writePointer(parent + other, gparent);
            if (tmp != 0) {
                setParentColor(tmp, gparent, RB_BLACK);
            }
            rotateSetParents(gparent, parent, root, RB_RED);
            return;
        }
    }

    /**
     * {@code __rb_erase_augmented} with the dummy callbacks: unlinks {@code node}, fixing colours
     * locally where it can. {@code leftmost} is the address of {@code rb_leftmost}, or 0 for a plain
     * {@code rb_root}. Returns the node to rebalance from, or 0.
     */
    private long eraseAugmented(long node, long root, long leftmost) {
        long child = right(node);
        long tmp = left(node);
        long parent;
        long rebalance;
        long pc;
        if (leftmost != 0 && node == m.readPointer(leftmost)) {
            m.writePointer(leftmost, next(node));
        }
        if (tmp == 0) {
            // Case 1: at most a right child, which must be red.
            pc = parentColorOf(node);
            parent = pc & ~3L;
            changeChild(node, child, parent, root);
            if (child != 0) {
                m.writePointer(child + parentColor, pc);
                rebalance = 0;
            } else {
                rebalance = (pc & 1) == RB_BLACK ? parent : 0;
            }
        } else if (child == 0) {
            // Case 1 with the only child on the left.
            pc = parentColorOf(node);
            m.writePointer(tmp + parentColor, pc);
            parent = pc & ~3L;
            changeChild(node, tmp, parent, root);
            rebalance = 0;
        } else {
            long successor = child;
            long child2;
            tmp = left(child);
            if (tmp == 0) {
                // Case 2: the successor is the right child.
                parent = successor;
                child2 = right(successor);
            } else {
                // Case 3: the successor is the leftmost node of the right subtree.
                do {
                    parent = successor;
                    successor = tmp;
                    tmp = left(tmp);
                } while (tmp != 0);
                child2 = right(successor);
                m.writePointer(parent + left, child2);
                m.writePointer(successor + right, child);
                setParent(child, successor);
            }
            tmp = left(node);
            m.writePointer(successor + left, tmp);
            setParent(tmp, successor);
            pc = parentColorOf(node);
            changeChild(node, successor, pc & ~3L, root);
            if (child2 != 0) {
                m.writePointer(successor + parentColor, pc);
                setParentColor(child2, parent, RB_BLACK);
                rebalance = 0;
            } else {
                long pc2 = parentColorOf(successor);
                m.writePointer(successor + parentColor, pc);
                rebalance = (pc2 & 1) == RB_BLACK ? parent : 0;
            }
        }
        return rebalance;
    }

    /**
     * {@code ____rb_erase_color}: restores equal black heights after a black node left the subtree
     * under {@code parent}. {@code side} is the child offset of the short (node's) side, {@code rb_left}
     * in the kernel's first branch; {@code other} is the sibling's.
     */
    private void eraseColor(long parent, long root) {
        long node = 0;
        while (true) {
            long sibling = right(parent);
            long side;
            long other;
            if (node != sibling) {
                side = left;
                other = right;
            } else {
                side = right;
                other = left;
                sibling = left(parent);
            }
            long tmp1;
            long tmp2;
            if (isRed(sibling)) {
                // Case 1: red sibling: rotate at parent toward side.
                tmp1 = m.readPointer(sibling + side);
                m.writePointer(parent + other, tmp1);
                m.writePointer(sibling + side, parent);
                setParentColor(tmp1, parent, RB_BLACK);
                rotateSetParents(parent, sibling, root, RB_RED);
                sibling = tmp1;
            }
            tmp1 = m.readPointer(sibling + other);
            if (tmp1 == 0 || isBlack(tmp1)) {
                tmp2 = m.readPointer(sibling + side);
                if (tmp2 == 0 || isBlack(tmp2)) {
                    // Case 2: black sibling with black children: make it red, push the deficit up.
                    setParentColor(sibling, parent, RB_RED);
                    if (isRed(parent)) {
                        setBlack(parent);
                    } else {
                        node = parent;
                        parent = parent(node);
                        if (parent != 0) {
                            continue;
                        }
                    }
                    return;
                }
                // Case 3: the sibling's near child is red: rotate at sibling away from side.
                tmp1 = m.readPointer(tmp2 + other);
                m.writePointer(sibling + side, tmp1);
                m.writePointer(tmp2 + other, sibling);
                m.writePointer(parent + other, tmp2);
                if (tmp1 != 0) {
                    setParentColor(tmp1, sibling, RB_BLACK);
                }
                tmp1 = sibling;
                sibling = tmp2;
            }
            // Case 4: the sibling's far child is red: rotate at parent toward side, recolour.
            tmp2 = m.readPointer(sibling + side);
            m.writePointer(parent + other, tmp2);
            m.writePointer(sibling + side, parent);
            setParentColor(tmp1, sibling, RB_BLACK);
            if (tmp2 != 0) {
                setParent(tmp2, parent);
            }
            rotateSetParents(parent, sibling, root, RB_BLACK);
            return;
        }
    }
}
