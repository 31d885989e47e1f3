package io.github.kproc.layout;

import java.util.List;

/**
 * Prints layouts the way pahole does: one member a line with {@code /* offset size *}{@code /}, holes and
 * cachelines marked.
 *
 * <p>Columns follow pahole's: a member's type is padded to the type column, 26 characters at the first
 * level and 8 fewer at each level of nesting (pahole pads to the magnitude of a negative width, as
 * {@code printf} does); the offset comment starts where the type column plus the name column (23, or 21
 * in a union printed on its own) ends, or one space after a longer declaration.
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
        StringBuilder out = new StringBuilder(256 + 80 * layout.members().size());
        out.append(layout.cName()).append(" {\n");
        long[] cacheline = {0};
        body(out, layout.members(), 1, layout.isUnion(), layout.isUnion() ? UNION_NAME_SPACING : NAME_SPACING,
                cacheline);

        long size = layout.size();
        if (layout.isUnion()) {
            return out.append("};\n").toString();
        }
        out.append('\n');
        out.append("\t/* size: ").append(size).append(", cachelines: ").append((size + CACHELINE - 1) / CACHELINE)
                .append(", members: ").append(layout.members().size()).append(" */\n");
        if (size % CACHELINE != 0) {
            out.append("\t/* last cacheline: ").append(size % CACHELINE).append(" bytes */\n");
        }
        out.append('}');
        if (layout.alignedAttribute() > 0) {
            out.append(" __attribute__((__aligned__(").append(layout.alignedAttribute()).append(")))");
        } else if (layout.isPacked()) {
            out.append(" __attribute__((__packed__))");
        }
        out.append(";\n");
        return out.toString();
    }

    /** Every type of a profile, in its order. */
    public static String print(Profile profile) {
        StringBuilder out = new StringBuilder();
        for (StructLayout layout : profile.types()) {
            out.append(print(layout));
        }
        return out.toString();
    }

    private static void body(StringBuilder out, List<Member> members, int depth, boolean union, int nameSpacing,
            long[] cacheline) {
        long end = -1;
        for (Member m : members) {
            if (!union && end >= 0 && m.offset() > end && !m.isBitfield()) {
                out.append('\n');
                indent(out, depth).append("/* XXX ").append(m.offset() - end).append(" bytes hole, try to pack */\n\n");
            }
            if (depth == 1 && !union) {
                while (m.offset() >= cacheline[0] + CACHELINE) {
                    cacheline[0] += CACHELINE;
                    indent(out, depth).append("/* --- cacheline ").append(cacheline[0] / CACHELINE)
                            .append(" boundary (").append(cacheline[0]).append(" bytes)");
                    if (m.offset() > cacheline[0] && m.offset() < cacheline[0] + CACHELINE) {
                        out.append(" was ").append(m.offset() - cacheline[0]).append(" bytes ago");
                    }
                    out.append(" --- */\n");
                }
            }
            member(out, m, depth, nameSpacing);
            end = Math.max(end, m.offset() + m.size());
        }
    }

    private static void member(StringBuilder out, Member m, int depth, int nameSpacing) {
        int typeSpacing = TYPE_SPACING - 8 * (depth - 1);
        int start = out.length();
        int spaces;
        if (m.isInline()) {
            indent(out, depth).append(m.type()).append(" {\n");
            if (!m.enumerators().isEmpty()) {
                enumerators(out, m.enumerators(), depth + 1);
            } else {
                body(out, m.members(), depth + 1, m.type().equals("union"), nameSpacing,
                        new long[] {Long.MAX_VALUE / 2});
            }
            int bodyEnd = out.length();
            indent(out, depth).append('}');
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
                spaces = typeSpacing + nameSpacing - (out.length() - start - depth);
            } else {
                // pahole counts only the name and its attribute, not what follows '}' before them
                int named = m.name() == null ? -1 : m.name().length();
                spaces = typeSpacing + nameSpacing - (named + aligned.length()) - 3;
            }
            start = bodyEnd;
        } else {
            indent(out, depth);
            String type = m.type();
            String declarator;
            if (m.isFunctionPointer()) {
                int at = type.indexOf(" (*%s)");
                pad(out, type.substring(0, at), typeSpacing);
                declarator = type.substring(at + 1).replace("%s", name(m));
            } else {
                pad(out, type, typeSpacing);
                declarator = name(m);
            }
            if (m.alignedAttribute() > 0) {
                declarator += aligned(m.alignedAttribute());
            }
            out.append(declarator).append(';');
            spaces = typeSpacing + nameSpacing - (out.length() - start - depth);
        }
        out.append(" ".repeat(Math.max(1, spaces)));
        if (m.isBitfield()) {
            out.append(String.format("/* %5d:%2d %2d */\n", m.offset(), m.bitOffset(), m.size()));
        } else {
            out.append(String.format("/* %5d %5d */\n", m.offset(), m.size()));
        }
    }

    /** {@code NAME = value,} with the names padded to the longest, one level deeper than {@code enum {}. */
    private static void enumerators(StringBuilder out, List<String> enumerators, int depth) {
        int width = 0;
        for (String e : enumerators) {
            width = Math.max(width, e.indexOf(" = "));
        }
        for (String e : enumerators) {
            int at = e.indexOf(" = ");
            indent(out, depth).append(e, 0, at).append(" ".repeat(width - at)).append(e, at, e.length())
                    .append(",\n");
        }
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

    /** pahole's {@code "%-*s "}: a negative width pads to its magnitude, as printf does. */
    private static void pad(StringBuilder out, String text, int width) {
        out.append(text);
        out.append(" ".repeat(Math.max(1, Math.abs(width) - text.length() + 1)));
    }

    private static StringBuilder indent(StringBuilder out, int depth) {
        for (int i = 0; i < depth; i++) {
            out.append('\t');
        }
        return out;
    }
}
