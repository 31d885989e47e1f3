package io.github.kproc.layout;

import java.util.List;

/** Prints layouts the way pahole does: one member a line with {@code /* offset size *}{@code /}, holes and cachelines marked. */
public final class Pahole {
    private static final int COMMENT_COLUMN = 57;
    private static final int TYPE_WIDTH = 26;
    private static final int CACHELINE = 64;

    private Pahole() {
    }

    /** The pahole text of one struct or union, ending with a newline. */
    public static String print(StructLayout layout) {
        StringBuilder out = new StringBuilder(256 + 80 * layout.members().size());
        out.append(layout.cName()).append(" {\n");
        long[] cacheline = {0};
        body(out, layout.members(), 1, layout.isUnion(), cacheline);

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

    private static void body(StringBuilder out, List<Member> members, int depth, boolean union, long[] cacheline) {
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
            member(out, m, depth, union);
            end = Math.max(end, m.offset() + m.size());
        }
    }

    private static void member(StringBuilder out, Member m, int depth, boolean inUnion) {
        int start = out.length();
        String declarator;
        if (m.isInline()) {
            indent(out, depth).append(m.type()).append(" {\n");
            if (!m.enumerators().isEmpty()) {
                for (String e : m.enumerators()) {
                    indent(out, depth + 1).append(e).append(",\n");
                }
            } else {
                body(out, m.members(), depth + 1, m.type().equals("union"), new long[] {Long.MAX_VALUE / 2});
            }
            start = out.length();
            indent(out, depth).append('}');
            if (m.closeAlignedAttribute() > 0) {
                out.append(" __attribute__((__aligned__(").append(m.closeAlignedAttribute()).append(")))");
            }
            declarator = m.name() == null ? "" : " " + name(m);
            if (m.alignedAttribute() > 0) {
                declarator += " __attribute__((__aligned__(" + m.alignedAttribute() + ")))";
            }
            out.append(declarator).append(';');
        } else {
            indent(out, depth);
            String type = m.type();
            if (m.isFunctionPointer()) {
                int at = type.indexOf(" (*%s)");
                String ret = type.substring(0, at);
                pad(out, ret, TYPE_WIDTH - 8 * (depth - 1));
                declarator = type.substring(at + 1).replace("%s", name(m));
            } else {
                pad(out, type, TYPE_WIDTH - 8 * (depth - 1));
                declarator = name(m);
            }
            if (m.alignedAttribute() > 0) {
                declarator += " __attribute__((__aligned__(" + m.alignedAttribute() + ")))";
            }
            out.append(declarator).append(';');
        }
        int column = 8 * depth + (out.length() - start - depth);
        int commentColumn = inUnion && depth == 1 ? COMMENT_COLUMN - 2 : COMMENT_COLUMN;
        out.append(" ".repeat(Math.max(1, commentColumn - column)));
        if (m.isBitfield()) {
            out.append(String.format("/* %5d:%2d %2d */\n", m.offset(), m.bitOffset(), m.size()));
        } else {
            out.append(String.format("/* %5d %5d */\n", m.offset(), m.size()));
        }
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

    private static void pad(StringBuilder out, String text, int width) {
        out.append(text);
        out.append(" ".repeat(Math.max(1, width - text.length() + 1)));
    }

    private static StringBuilder indent(StringBuilder out, int depth) {
        for (int i = 0; i < depth; i++) {
            out.append('\t');
        }
        return out;
    }
}
