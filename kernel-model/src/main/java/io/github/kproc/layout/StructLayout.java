package io.github.kproc.layout;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The layout of one struct or union of a kernel build: its members with their offsets and sizes, its
 * total size and its alignment.
 */
public final class StructLayout {
    private final boolean union;
    private final String name;
    private long size;
    private final int alignedAttribute;
    private final boolean packed;
    private final List<Member> members;
    private final int line;
    private int alignment;

    StructLayout(boolean union, String name, long size, int alignedAttribute, boolean packed, List<Member> members,
            int line) {
        this.union = union;
        this.name = name;
        this.size = size;
        this.alignedAttribute = alignedAttribute;
        this.packed = packed;
        this.members = List.copyOf(members);
        this.line = line;
    }

    /** True for a union, false for a struct. */
    public boolean isUnion() {
        return union;
    }

    /** The tag: {@code "task_struct"}. */
    public String name() {
        return name;
    }

    /** {@code "struct task_struct"} or {@code "union fp_state"}. */
    public String cName() {
        return (union ? "union " : "struct ") + name;
    }

    /**
     * {@code sizeof}, in bytes. pahole prints no size for a union: its size is its largest member
     * rounded up to its alignment.
     */
    public long size() {
        return size;
    }

    /**
     * {@code _Alignof}, in bytes: the type's own {@code __aligned__} attribute if it has one (pahole
     * prints the actual alignment there), else the largest alignment of its members (named structs by
     * their own alignment, other types by their size, capped at 8), cut down to what the members'
     * offsets and sizes and the struct's size allow.
     */
    public int alignment() {
        return alignment;
    }

    void size(long value) {
        size = value;
    }

    void alignment(int value) {
        alignment = value;
    }

    /** N of {@code __attribute__((__aligned__(N)))} on the type, or 0. */
    public int alignedAttribute() {
        return alignedAttribute;
    }

    /** True if pahole printed {@code __attribute__((__packed__))}. */
    public boolean isPacked() {
        return packed;
    }

    /** The top-level members in declaration order. */
    public List<Member> members() {
        return members;
    }

    /**
     * The 1-based line this type started at in the first pahole dump of its profile that printed it (0 if
     * not parsed from a dump).
     */
    public int line() {
        return line;
    }

    /** A direct or anonymous-nested member of this type by name, or null. */
    public @Nullable Member member(String memberName) {
        return find(members, memberName);
    }

    /**
     * The first way {@code other} is laid out differently from this type (kind, name, size, attributes,
     * then member by member as pahole prints them), or null if it is laid out the same.
     */
    @Nullable String differenceFrom(StructLayout other) {
        if (union != other.union || !name.equals(other.name)) {
            return "it is " + other.cName();
        }
        if (size != other.size) {
            return "size " + size + " there, " + other.size + " here";
        }
        if (alignedAttribute != other.alignedAttribute || packed != other.packed) {
            return "its attributes differ";
        }
        return Member.differenceIn(members, other.members);
    }

    static @Nullable Member find(List<Member> members, String memberName) {
        for (Member m : members) {
            if (memberName.equals(m.name())) {
                return m;
            }
        }
        for (Member m : members) {
            if (m.name() == null && !m.members().isEmpty()) {
                Member found = find(m.members(), memberName);
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return cName() + " (" + size + " bytes)";
    }
}
