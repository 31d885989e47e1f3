package io.github.kproc.layout;

import java.util.List;
import java.util.Arrays;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One member of a struct or union as pahole prints it.
 *
 * <p>Offsets are in bytes from the start of the outermost type, as pahole prints them for members of
 * inline nested structs and unions too. A member that is itself an inline {@code struct {...}},
 * {@code union {...}} or {@code enum {...}} carries its body in {@link #members()} (or
 * {@link #enumerators()}); a member whose type is a named struct does not: look that struct up in
 * the {@link Profile}.
 */
public final class Member {
    private final @Nullable String name;
    private final String type;
    private final long offset;
    private final long size;
    private final int[] dims;
    private final int bitOffset;
    private final int bitSize;
    private final int alignedAttribute;
    private final List<Member> members;
    private final List<String> enumerators;
    private int closeAligned;

    Member(@Nullable String name, String type, long offset, long size, int[] dims, int bitOffset, int bitSize,
            int alignedAttribute, List<Member> members, List<String> enumerators) {
        this.name = name;
        this.type = type;
        this.offset = offset;
        this.size = size;
        this.dims = dims.clone();
        this.bitOffset = bitOffset;
        this.bitSize = bitSize;
        this.alignedAttribute = alignedAttribute;
        this.members = List.copyOf(members);
        this.enumerators = List.copyOf(enumerators);
    }

    /** The member's name, or null for an anonymous inline struct or union. */
    public @Nullable String name() {
        return name;
    }

    /**
     * The C type as pahole prints it before the name: {@code "long unsigned int"},
     * {@code "struct task_struct *"}, {@code "struct"} or {@code "union"} for an inline body; for a
     * function pointer the whole declarator with {@code %s} where the name stands.
     */
    public String type() {
        return type;
    }

    /** Byte offset from the start of the outermost type. */
    public long offset() {
        return offset;
    }

    /** Size in bytes (of the storage unit, for a bitfield). */
    public long size() {
        return size;
    }

    /**
     * Array dimensions, outermost first; empty for a non-array. A zero-length array ({@code [0]}) has
     * dimension 0, a flexible array member ({@code []}) dimension -1.
     */
    public int[] dims() {
        return dims.clone();
    }

    /** Number of array elements (product of the dimensions), 1 for a non-array. */
    public long elementCount() {
        long n = 1;
        for (int d : dims) {
            n *= Math.max(d, 0);
        }
        return n;
    }

    /** Size of one array element, or of the member itself for a non-array. */
    public long elementSize() {
        long n = elementCount();
        return n == 0 ? 0 : size / n;
    }

    /** True for a bitfield member. */
    public boolean isBitfield() {
        return bitSize > 0;
    }

    /** Bit offset within the storage unit (pahole's {@code offset:bit}); 0 for non-bitfields. */
    public int bitOffset() {
        return bitOffset;
    }

    /** Width in bits of a bitfield; 0 for non-bitfields. */
    public int bitSize() {
        return bitSize;
    }

    /** N of {@code __attribute__((__aligned__(N)))} on this member, or 0. */
    public int alignedAttribute() {
        return alignedAttribute;
    }

    Member closeAligned(int value) {
        closeAligned = value;
        return this;
    }

    /**
     * N of the {@code __aligned__(N)} attribute of an inline body's own type, which pahole prints right
     * after its closing brace, or 0. pahole prints a member's attribute after the member's name; for an
     * anonymous body with a single attribute ({@code "} __attribute__((__aligned__(8)));"}) that one is the
     * member's, {@link #alignedAttribute()}.
     */
    public int closeAlignedAttribute() {
        return closeAligned;
    }

    /** The body of an inline struct or union, in declaration order; empty otherwise. */
    public List<Member> members() {
        return members;
    }

    /** The enumerator lines of an inline enum ({@code "NAME = 1"}), empty otherwise. */
    public List<String> enumerators() {
        return enumerators;
    }

    /** True if this member's body is printed inline (struct, union or enum). */
    public boolean isInline() {
        return !members.isEmpty() || !enumerators.isEmpty() || type.equals("struct") || type.equals("union")
                || type.equals("enum");
    }

    /** True for a pointer (not a function pointer): the type ends with {@code *}. */
    public boolean isPointer() {
        return type.endsWith("*");
    }

    /** True for a function pointer member. */
    public boolean isFunctionPointer() {
        return type.contains("(*%s)");
    }

    /** The named struct or union this member embeds ({@code "list_head"} for {@code struct list_head}), or null. */
    public @Nullable String embeddedTypeName() {
        if (isPointer() || isFunctionPointer() || isInline()) {
            return null;
        }
        String t = type;
        if (t.startsWith("const ")) {
            t = t.substring(6);
        }
        if (t.startsWith("volatile ")) {
            t = t.substring(9);
        }
        if (t.startsWith("struct ")) {
            return t.substring(7).trim();
        }
        if (t.startsWith("union ")) {
            return t.substring(6).trim();
        }
        return null;
    }

    /**
     * The first way {@code other} differs from this member, its body included
     * ({@code "curr: offset 1356 size 4 there, offset 1360 size 4 here"}), or null if it is the same.
     */
    @Nullable String differenceFrom(Member other) {
        String at = name == null ? "<anonymous " + type + ">" : name;
        if (!Objects.equals(name, other.name) || !type.equals(other.type)) {
            return at + ": " + type + " there, " + other.type + " " + other.name + " here";
        }
        if (offset != other.offset || size != other.size || bitOffset != other.bitOffset
                || bitSize != other.bitSize) {
            return at + ": " + place() + " there, " + other.place() + " here";
        }
        if (!Arrays.equals(dims, other.dims) || alignedAttribute != other.alignedAttribute
                || closeAligned != other.closeAligned || !enumerators.equals(other.enumerators)) {
            return at + ": declared differently";
        }
        String inner = differenceIn(members, other.members);
        return inner == null ? null : at + "." + inner;
    }

    /** The first difference between two member lists, in order, or null if they are the same. */
    static @Nullable String differenceIn(List<Member> there, List<Member> here) {
        for (int i = 0; i < Math.min(there.size(), here.size()); i++) {
            String difference = there.get(i).differenceFrom(here.get(i));
            if (difference != null) {
                return difference;
            }
        }
        return there.size() == here.size() ? null : there.size() + " members there, " + here.size() + " here";
    }

    private String place() {
        return "offset " + offset + (bitSize > 0 ? ":" + bitOffset : "") + " size " + size
                + (bitSize > 0 ? " bits " + bitSize : "");
    }

    @Override
    public String toString() {
        return (name == null ? "<anonymous>" : name) + " : " + type + Arrays.toString(dims) + " @" + offset
                + "+" + size + (bitSize > 0 ? (" bits " + bitOffset + ":" + bitSize) : "");
    }
}
