package io.github.kproc.kernel;

import io.github.kproc.mem.AddressSpace;

/**
 * {@code include/linux/list.h} on arena memory: doubly linked {@code list_head}s and
 * {@code hlist_head}/{@code hlist_node}s whose pointers are kernel addresses. Deleted entries are
 * poisoned with LIST_POISON1/2 as {@code list_del} does.
 */
final class Lists {
    private final AddressSpace m;
    private final long next;
    private final long prev;
    private final long hnext;
    private final long hpprev;
    private final long poison1;
    private final long poison2;

    Lists(AddressSpace m, Fields f, long poisonPointerDelta) {
        this.m = m;
        this.next = f.list.next;
        this.prev = f.list.prev;
        this.hnext = f.list.hnodeNext;
        this.hpprev = f.list.hnodePprev;
        this.poison1 = 0x100 + poisonPointerDelta;
        this.poison2 = 0x200 + poisonPointerDelta;
    }

    /** {@code INIT_LIST_HEAD}. */
    void init(long head) {
        m.writePointer(head + next, head);
        m.writePointer(head + prev, head);
    }

    long next(long entry) {
        return m.readPointer(entry + next);
    }

    long prev(long entry) {
        return m.readPointer(entry + prev);
    }

    /** {@code list_empty}. */
    boolean empty(long head) {
        return m.readPointer(head + next) == head;
    }

    private void insert(long entry, long before, long after) {
        m.writePointer(after + prev, entry);
        m.writePointer(entry + next, after);
        m.writePointer(entry + prev, before);
        m.writePointer(before + next, entry);
    }

    /** {@code list_add}: after the head. */
    void add(long entry, long head) {
        insert(entry, head, next(head));
    }

    /** {@code list_add_tail}: before the head. */
    void addTail(long entry, long head) {
        insert(entry, prev(head), head);
    }

    private void unlink(long entry) {
        long n = next(entry);
        long p = prev(entry);
        m.writePointer(n + prev, p);
        m.writePointer(p + next, n);
    }

    /** {@code list_del}: unlinks and poisons. */
    void del(long entry) {
        unlink(entry);
        m.writePointer(entry + next, poison1);
        m.writePointer(entry + prev, poison2);
    }

    /** {@code list_del_init}. */
    void delInit(long entry) {
        unlink(entry);
        init(entry);
    }

    /** {@code list_move_tail}. */
    void moveTail(long entry, long head) {
        unlink(entry);
        addTail(entry, head);
    }

    /** {@code INIT_HLIST_HEAD}. */
    void hlistInitHead(long head) {
        m.writePointer(head, 0);
    }

    /** {@code INIT_HLIST_NODE}. */
    void hlistInitNode(long node) {
        m.writePointer(node + hnext, 0);
        m.writePointer(node + hpprev, 0);
    }

    long hlistFirst(long head) {
        return m.readPointer(head);
    }

    long hlistNext(long node) {
        return m.readPointer(node + hnext);
    }

    /** {@code hlist_add_head}. */
    void hlistAddHead(long node, long head) {
        long first = m.readPointer(head);
        m.writePointer(node + hnext, first);
        if (first != 0) {
            m.writePointer(first + hpprev, node + hnext);
        }
        m.writePointer(head, node);
        m.writePointer(node + hpprev, head);
    }

    /** {@code list_replace_rcu(old, new)}: {@code new} takes {@code old}'s place; old's prev is poisoned. */
    void replace(long old, long entry) {
        long n = next(old);
        long p = prev(old);
        m.writePointer(entry + next, n);
        m.writePointer(entry + prev, p);
        m.writePointer(p + next, entry);
        m.writePointer(n + prev, entry);
        m.writePointer(old + prev, poison2);
    }

    /** {@code list_replace_init(old, new)}: {@code new} takes {@code old}'s place; old is re-initialised. */
    void replaceInit(long old, long entry) {
        long n = next(old);
        long p = prev(old);
        m.writePointer(entry + next, n);
        m.writePointer(entry + prev, p);
        m.writePointer(p + next, entry);
        m.writePointer(n + prev, entry);
        init(old);
    }

    /** {@code hlist_replace_rcu(old, new)}: {@code new} takes {@code old}'s place; old's pprev is poisoned. */
    void hlistReplace(long old, long node) {
        long n = m.readPointer(old + hnext);
        long pprev = m.readPointer(old + hpprev);
        m.writePointer(node + hnext, n);
        m.writePointer(node + hpprev, pprev);
        m.writePointer(pprev, node);
        if (n != 0) {
            m.writePointer(n + hpprev, node + hnext);
        }
        m.writePointer(old + hpprev, poison2);
    }

    /** {@code hlist_del}: unlinks and poisons. */
    void hlistDel(long node) {
        long n = m.readPointer(node + hnext);
        long pprev = m.readPointer(node + hpprev);
        m.writePointer(pprev, n);
        if (n != 0) {
            m.writePointer(n + hpprev, pprev);
        }
        m.writePointer(node + hnext, poison1);
        m.writePointer(node + hpprev, poison2);
    }

    /** {@code hlist_del_init}: unlinks a hashed node and re-initialises it. */
    void hlistDelInit(long node) {
        if (m.readPointer(node + hpprev) != 0) {
            long n = m.readPointer(node + hnext);
            long pprev = m.readPointer(node + hpprev);
            m.writePointer(pprev, n);
            if (n != 0) {
                m.writePointer(n + hpprev, pprev);
            }
            hlistInitNode(node);
        }
    }
}
