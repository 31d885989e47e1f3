package io.github.kproc.layout;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Prints layouts the way pahole 1.24 does: one member a line with {@code /* offset size *}{@code /},
 * cacheline boundaries, byte and bit holes, padding and the summary after a struct.
 *
 * <p>Columns follow pahole's: a member's type is padded to the type column, 26 characters at the first
 * level and 8 fewer at each level of nesting (pahole pads to the magnitude of a negative width, as
 * {@code printf} does); the offset comment starts where the type column plus the name column (23, or 21
 * in a union printed on its own) ends, or one space after a longer declaration.
 *
 * <p>Some of pahole's notes need other types: the padding at the end of an embedded {@code struct X}
 * ({@code XXX last struct has N bytes of padding}) and the pointer size ({@code Force padding:}). They
 * are printed when a whole profile is printed, not for a lone layout.
 */
public final class Pahole {
    private static final int TYPE_SPACING = 26;
    private static final int NAME_SPACING = 23;
    private static final int UNION_NAME_SPACING = 21;
    private static final int CACHELINE = 64;

    private Pahole() {
    }

    /** The pahole text of one struct or union, ending with a newline. */
    public static String print(StructLayout layout) {
        Printer printer = new Printer(name -> Optional.empty(), 0);
        printer.type(layout);
        return printer.out.toString();
    }

    /** Every type of a profile, in its order. */
    public static String print(Profile profile) {
        return print(profile, profile.types());
    }

    /**
     * The types one of the dumps a profile was read from printed, in that dump's order: the dump itself,
     * for a dump pahole printed.
     *
     * @param source the dump's index in {@link Profile#sources()}
     * @throws IndexOutOfBoundsException if the profile has no such dump
     */
    public static String print(Profile profile, int source) {
        return print(profile, profile.types(source));
    }

    private static String print(Profile profile, Collection<StructLayout> types) {
        Printer printer = new Printer(profile::find, pointerSize(profile.types()));
        for (StructLayout layout : types) {
            printer.type(layout);
        }
        return printer.out.toString();
    }

    /** The size of the first data pointer in the types, or 0 if they have none. */
    private static int pointerSize(Collection<StructLayout> types) {
        for (StructLayout type : types) {
            long size = pointerSize(type.members());
            if (size > 0) {
                return (int) size;
            }
        }
        return 0;
    }

    private static long pointerSize(List<Member> members) {
        for (Member m : members) {
            long size = m.isPointer() && m.dims().length == 0 ? m.size() : pointerSize(m.members());
            if (size > 0) {
                return size;
            }
        }
        return 0;
    }

    /**
     * Where a struct's members leave bytes and bits unused, found the way pahole's
     * {@code class__find_holes} finds them: {@code hole[i]} and {@code bitHole[i]} follow member i,
     * {@code preHole} and {@code preBitHole} come before the first, {@code padding} and
     * {@code bitPadding} after the last.
     */
    private record Holes(long preHole, long preBitHole, long[] hole, long[] bitHole, int holes, int bitHoles,
            long padding, long bitPadding) {

        /** The holes of a body of {@code size} bytes whose members' offsets count from {@code base}. */
        static Holes of(List<Member> members, long base, long size) {
            long[] hole = new long[members.size()];
            long[] bitHole = new long[members.size()];
            long preHole = 0;
            long preBitHole = 0;
            int holes = 0;
            int bitHoles = 0;
            long lastSeenBit = 0;
            long bitfieldEnd = size * 8;
            long bitfieldUnitBits = 0;
            boolean inBitfield = false;
            for (int i = 0; i < members.size(); i++) {
                Member m = members.get(i);
                long byteOffset = m.offset() - base;
                long bitStart = byteOffset * 8 + m.bitOffset();
                long bitEnd = bitStart + (m.isBitfield() ? m.bitSize() : m.size() * 8);
                long bits = 0;
                long bytes = 0;
                if (inBitfield) {
                    long end = Math.min(bitStart, bitfieldEnd);
                    bits = end - lastSeenBit;
                    lastSeenBit = end;
                }
                if (m.isBitfield()) {
                    long unitStart = byteOffset * 8;
                    if (lastSeenBit < unitStart && unitStart <= bitStart) {
                        bytes = byteOffset - lastSeenBit / 8;
                        lastSeenBit = unitStart;
                    }
                    bits += bitStart - lastSeenBit;
                } else {
                    bytes = bitStart / 8 - lastSeenBit / 8;
                }
                lastSeenBit = bitEnd;
                if (m.isBitfield()) {
                    inBitfield = true;
                    long unitBits = m.size() * 8;
                    if (bitEnd > bitfieldEnd || unitBits > bitfieldUnitBits) {
                        bitfieldUnitBits = unitBits;
                        bitfieldEnd = byteOffset * 8 + unitBits;
                        if (bitEnd > bitfieldEnd) {
                            bitfieldEnd += unitBits;
                        }
                    }
                } else {
                    inBitfield = false;
                    bitfieldUnitBits = 0;
                    bitfieldEnd = bitEnd;
                }
                if (i == 0) {
                    preHole = bytes;
                    preBitHole = bits;
                } else {
                    hole[i - 1] = bytes;
                    bitHole[i - 1] = bits;
                }
                holes += bytes != 0 ? 1 : 0;
                bitHoles += bits != 0 ? 1 : 0;
            }
            long bitPadding = 0;
            if (inBitfield) {
                long end = Math.min(size * 8, bitfieldEnd);
                bitPadding = end - lastSeenBit;
                lastSeenBit = end;
            }
            return new Holes(preHole, preBitHole, hole, bitHole, holes, bitHoles, size - lastSeenBit / 8,
                    bitPadding);
        }
    }

    /** What pahole sums up under a struct: member bytes and bits, holes, paddings, forced alignments. */
    private static final class Totals {
        long bytes;
        long bits;
        long holes;
        long bitHoles;
        int paddings;
        long sumPaddings;
        int forced;
        int forcedHoles;
        long sumForcedHoles;
    }

    private static final class Printer {
        final StringBuilder out = new StringBuilder();
        private final Function<String, Optional<StructLayout>> named;
        private final int pointerSize;
        /** The last cacheline a boundary was marked for, shared by nested bodies as in pahole. */
        private long cacheline;

        Printer(Function<String, Optional<StructLayout>> named, int pointerSize) {
            this.named = named;
            this.pointerSize = pointerSize;
        }

        void type(StructLayout layout) {
            cacheline = 0;
            out.append(layout.cName()).append(" {\n");
            if (layout.isUnion()) {
                union(layout.members(), 1, UNION_NAME_SPACING);
                out.append("};\n");
                return;
            }
            Totals totals = new Totals();
            Holes holes = struct(layout.members(), 0, layout.size(), layout.alignedAttribute(), 1, NAME_SPACING,
                    totals);
            summary(layout, holes, totals);
            out.append('}');
            if (layout.alignedAttribute() > 0) {
                out.append(aligned(layout.alignedAttribute()));
            } else if (layout.isPacked()) {
                out.append(" __attribute__((__packed__))");
            }
            out.append(";\n");
        }

        private void summary(StructLayout layout, Holes holes, Totals totals) {
            long size = layout.size();
            out.append("\n\t/* size: ").append(size).append(", cachelines: ").append((size + CACHELINE - 1) / CACHELINE)
                    .append(", members: ").append(layout.members().size()).append(" */\n");
            if (totals.holes > 0 || totals.bitHoles > 0) {
                if (totals.bytes > 0) {
                    out.append("\t/* sum members: ").append(totals.bytes);
                    if (totals.holes > 0) {
                        out.append(", holes: ").append(holes.holes()).append(", sum holes: ").append(totals.holes);
                    }
                    out.append(" */\n");
                }
                if (totals.bits > 0) {
                    out.append("\t/* sum bitfield members: ").append(totals.bits).append(" bits");
                    if (totals.bitHoles > 0) {
                        out.append(", bit holes: ").append(holes.bitHoles()).append(", sum bit holes: ")
                                .append(totals.bitHoles).append(" bits");
                    } else {
                        out.append(" (").append(totals.bits / 8).append(" bytes)");
                    }
                    out.append(" */\n");
                }
            }
            if (holes.padding() > 0) {
                out.append("\t/* padding: ").append(holes.padding()).append(" */\n");
            }
            if (totals.paddings > 0) {
                out.append("\t/* paddings: ").append(totals.paddings).append(", sum paddings: ")
                        .append(totals.sumPaddings).append(" */\n");
            }
            if (holes.bitPadding() > 0) {
                out.append("\t/* bit_padding: ").append(holes.bitPadding()).append(" bits */\n");
            }
            if (totals.forced > 0) {
                out.append("\t/* forced alignments: ").append(totals.forced);
                if (totals.forcedHoles > 0) {
                    out.append(", forced holes: ").append(totals.forcedHoles).append(", sum forced holes: ")
                            .append(totals.sumForcedHoles);
                }
                out.append(" */\n");
            }
            if (size % CACHELINE != 0) {
                out.append("\t/* last cacheline: ").append(size % CACHELINE).append(" bytes */\n");
            }
        }

        /**
         * The members of a struct body at {@code depth}, each followed by the holes after it; a blank line
         * sets notes apart from members, as in pahole's {@code __class__fprintf}.
         */
        private Holes struct(List<Member> members, long base, long size, int typeAligned, int depth,
                int nameSpacing, Totals totals) {
            Holes holes = Holes.of(members, base, size);
            int typeSpacing = TYPE_SPACING - 8 * (depth - 1);
            boolean blank = false;
            if (holes.preBitHole() > 0) {
                blank = blankLine(blank);
                indent(depth).append(bitHole(holes.preBitHole())).append('\n');
                totals.bitHoles += holes.preBitHole();
            }
            if (holes.preHole() > 0) {
                blank = blankLine(blank);
                indent(depth).append(byteHole(holes.preHole())).append('\n');
                totals.holes += holes.preHole();
            }
            Member last = null;
            long lastSize = 0;
            for (int i = 0; i < members.size(); i++) {
                Member m = members.get(i);
                if (m.alignedAttribute() > 0) {
                    long hole = last == null ? holes.preHole() : holes.hole()[i - 1];
                    totals.forced++;
                    if (hole != 0) {
                        totals.forcedHoles++;
                        totals.sumForcedHoles += hole;
                    }
                }
                if (last != null && lastSize != 0) {
                    long bitHole = holes.bitHole()[i - 1];
                    if (bitHole != 0 && m.isBitfield()) {
                        // pahole shows the unused bits as the unnamed bitfield that would fill them
                        if (last.offset() != m.offset()) {
                            out.append('\n');
                            indent(depth).append("/* Force alignment to the next boundary: */\n");
                            bitHole = 0;
                        }
                        indent(depth);
                        pad(m.type(), typeSpacing);
                        out.append(':').append(bitHole).append(";\n");
                    }
                    if (m.offset() < last.offset()
                            || (m.offset() == last.offset() && !last.isBitfield() && m.isBitfield())) {
                        blank = blankLine(blank);
                        indent(depth).append("/* Bitfield combined with previous fields */\n");
                    } else if (m.offset() - last.offset() > 0 && m.offset() - last.offset() < lastSize) {
                        blank = blankLine(blank);
                        indent(depth).append("/* Bitfield combined with next fields */\n");
                    }
                }
                if (blank) {
                    out.append('\n');
                    blank = false;
                }
                member(m, depth, nameSpacing);
                long padding = paddingOf(m);
                if (padding > 0) {
                    blank = blankLine(blank);
                    out.append('\n');
                    indent(depth).append("/* XXX last struct has ").append(padding).append(" byte")
                            .append(padding != 1 ? "s" : "").append(" of padding */");
                    totals.paddings++;
                    totals.sumPaddings += padding;
                }
                if (holes.bitHole()[i] > 0) {
                    blank = blankLine(blank);
                    out.append('\n');
                    indent(depth).append(bitHole(holes.bitHole()[i]));
                    totals.bitHoles += holes.bitHole()[i];
                }
                if (holes.hole()[i] > 0) {
                    blank = blankLine(blank);
                    out.append('\n');
                    indent(depth).append(byteHole(holes.hole()[i]));
                    totals.holes += holes.hole()[i];
                }
                out.append('\n');
                if (m.isBitfield()) {
                    totals.bits += m.bitSize();
                } else {
                    totals.bytes += m.size();
                }
                if (last == null || lastSize == 0 || last.offset() != m.offset()
                        || (!last.isBitfield() && m.isBitfield())) {
                    lastSize = m.size();
                }
                last = m;
            }
            forcePadding(last, holes.padding(), typeAligned, depth);
            return holes;
        }

        /**
         * pahole spells out trailing padding larger than a pointer as unnamed bitfields of the last
         * member's type, when the struct has no alignment attribute and that type's size is a power of two.
         */
        private void forcePadding(Member last, long padding, int typeAligned, int depth) {
            if (last == null || padding <= pointerSize || pointerSize == 0 || typeAligned != 0
                    || last.dims().length > 0 || last.isInline() || last.isFunctionPointer()
                    || Long.bitCount(last.size()) != 1) {
                return;
            }
            out.append('\n');
            indent(depth).append("/* Force padding: */\n");
            for (long added = 0; added < padding; added += last.size()) {
                indent(depth);
                pad(last.type(), TYPE_SPACING - 8 * (depth - 1));
                out.append(':').append(last.size() * 8).append(";\n");
            }
        }

        /** Members of a union body: no holes, and each starts again from the union's cacheline. */
        private void union(List<Member> members, int depth, int nameSpacing) {
            long initialCacheline = cacheline;
            for (Member m : members) {
                member(m, depth, nameSpacing);
                out.append('\n');
                cacheline = initialCacheline;
            }
        }

        /** The padding after the last member of a struct this member embeds, if pahole would note it. */
        private long paddingOf(Member m) {
            if (m.dims().length > 0) {
                return 0;
            }
            if (m.type().equals("struct")) {
                return Holes.of(m.members(), m.offset(), m.size()).padding();
            }
            String tag = m.embeddedTypeName();
            if (tag == null || !m.type().startsWith("struct ")) {
                return 0;
            }
            return named.apply(tag).filter(type -> !type.isUnion())
                    .map(type -> Holes.of(type.members(), 0, type.size()).padding()).orElse(0L);
        }

        /** One member's lines, without the final newline. */
        private void member(Member m, int depth, int nameSpacing) {
            int typeSpacing = TYPE_SPACING - 8 * (depth - 1);
            indent(depth);
            long line = m.offset() / CACHELINE;
            if (line > cacheline) {
                long ago = m.offset() % CACHELINE;
                out.append("/* --- cacheline ").append(line).append(" boundary (").append(line * CACHELINE)
                        .append(" bytes)");
                if (ago != 0) {
                    out.append(" was ").append(ago).append(" byte").append(ago > 1 ? "s" : "").append(" ago");
                }
                out.append(" --- */\n");
                indent(depth);
                cacheline = line;
            }
            int start = out.length();
            int spaces;
            if (m.isInline()) {
                out.append(m.type()).append(" {\n");
                if (!m.enumerators().isEmpty()) {
                    enumerators(m.enumerators(), depth + 1);
                } else if (m.type().equals("union")) {
                    union(m.members(), depth + 1, nameSpacing);
                } else {
                    struct(m.members(), m.offset(), m.elementSize(), m.closeAlignedAttribute(), depth + 1,
                            nameSpacing, new Totals());
                }
                int bodyEnd = out.length();
                indent(depth).append('}');
                if (m.closeAlignedAttribute() > 0) {
                    out.append(aligned(m.closeAlignedAttribute()));
                }
                String aligned = m.alignedAttribute() > 0 ? aligned(m.alignedAttribute()) : "";
                if (m.name() != null) {
                    out.append(' ').append(name(m));
                }
                out.append(aligned).append(';');
                if (m.dims().length > 0) {
                    // pahole counts the whole body as printed for an array of bodies
                    spaces = typeSpacing + nameSpacing - (out.length() - start);
                } else {
                    // pahole counts only the name and its attribute, not what follows '}' before them
                    int named = m.name() == null ? -1 : m.name().length();
                    spaces = typeSpacing + nameSpacing - (named + aligned.length()) - 3;
                }
                start = bodyEnd;
            } else {
                String type = m.type();
                String declarator;
                if (m.isFunctionPointer()) {
                    int at = type.indexOf(" (*%s)");
                    pad(type.substring(0, at), typeSpacing);
                    declarator = type.substring(at + 1).replace("%s", name(m));
                } else {
                    pad(type, typeSpacing);
                    declarator = name(m);
                }
                if (m.alignedAttribute() > 0) {
                    declarator += aligned(m.alignedAttribute());
                }
                out.append(declarator).append(';');
                spaces = typeSpacing + nameSpacing - (out.length() - start);
            }
            out.append(" ".repeat(Math.max(1, spaces)));
            if (m.isBitfield()) {
                out.append(String.format("/* %5d:%2d %2d */", m.offset(), m.bitOffset(), m.size()));
            } else {
                out.append(String.format("/* %5d %5d */", m.offset(), m.size()));
            }
        }

        /** {@code NAME = value,} lines with the names padded to the longest, one level deeper than the enum. */
        private void enumerators(List<String> enumerators, int depth) {
            int width = 0;
            for (String e : enumerators) {
                width = Math.max(width, e.indexOf(" = "));
            }
            for (String e : enumerators) {
                int at = e.indexOf(" = ");
                indent(depth).append(e, 0, at).append(" ".repeat(width - at)).append(e, at, e.length())
                        .append(",\n");
            }
        }

        /** pahole's {@code "%-*s "}: a negative width pads to its magnitude, as printf does. */
        private void pad(String text, int width) {
            out.append(text);
            out.append(" ".repeat(Math.max(1, Math.abs(width) - text.length() + 1)));
        }

        /** Ends the current line with a blank one unless a note already did; pahole's {@code newline++}. */
        private boolean blankLine(boolean blank) {
            if (!blank) {
                out.append('\n');
            }
            return true;
        }

        private StringBuilder indent(int depth) {
            for (int i = 0; i < depth; i++) {
                out.append('\t');
            }
            return out;
        }
    }

    private static String byteHole(long bytes) {
        return "/* XXX " + bytes + " byte" + (bytes != 1 ? "s" : "") + " hole, try to pack */";
    }

    private static String bitHole(long bits) {
        return "/* XXX " + bits + " bit" + (bits != 1 ? "s" : "") + " hole, try to pack */";
    }

    private static String aligned(int alignment) {
        return " __attribute__((__aligned__(" + alignment + ")))";
    }

    private static String name(Member m) {
        StringBuilder s = new StringBuilder(String.valueOf(m.name()));
        for (int dim : m.dims()) {
            s.append('[').append(dim < 0 ? "" : String.valueOf(dim)).append(']');
        }
        if (m.isBitfield()) {
            s.append(':').append(m.bitSize());
        }
        return s.toString();
    }
}
