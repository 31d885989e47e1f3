package io.github.kproc.layout;

import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads the text pahole prints for structs and unions into {@link StructLayout}s, checking every number.
 *
 * <p>Text that pahole could not have printed is refused, naming the line: numbers out of range, members
 * outside their body, bitfields outside their unit, arrays whose size is not a whole number of elements,
 * alignments that are not powers of two, two members a scope sees under one name, lines not indented by
 * their depth, and bodies nested deeper than the 16 levels pahole indents.
 */
final class PaholeParser {
    private static final String IDENT = "[A-Za-z_][A-Za-z0-9_]*";
    private static final String ALIGNED = "__attribute__\\(\\(__aligned__\\((\\d+)\\)\\)\\)";
    private static final String OFFSET_SIZE = "/\\*\\s+(\\d+)(?::\\s*(\\d+))?\\s+(\\d+)\\s+\\*/";
    private static final Pattern TOP_OPEN = Pattern.compile("(struct|union) (" + IDENT + ") \\{");
    private static final Pattern TOP_CLOSE = Pattern.compile(
            "\\}(?: __attribute__\\(\\((?:__aligned__\\((\\d+)\\)|(__packed__))\\)\\))?;");
    private static final Pattern NESTED_OPEN = Pattern.compile("\t+(struct|union|enum) \\{");
    private static final Pattern NESTED_CLOSE = Pattern.compile("\t+\\}(?: " + ALIGNED + ")?(?: (" + IDENT
            + ")((?:\\[\\d+\\])*)(?::(\\d+))?)?(?: " + ALIGNED + ")?;\\s+" + OFFSET_SIZE);
    private static final Pattern MEMBER = Pattern.compile("\t+(.+?);\\s+" + OFFSET_SIZE);
    private static final Pattern PADDING_BITFIELD = Pattern.compile("\t+[A-Za-z_][^/;]*\\s:\\d+;");
    private static final Pattern ENUMERATOR = Pattern.compile("\t+(" + IDENT + ")\\s*=\\s*(-?\\d+),");
    private static final Pattern COMMENT = Pattern.compile("\\s*/\\*.*\\*/");
    private static final Pattern SIZE_COMMENT = Pattern.compile("\t/\\* size: (\\d+), .*\\*/");
    private static final Pattern FUNCTION_POINTER = Pattern.compile(
            "(.*?)\\s*\\(\\*(" + IDENT + ")((?:\\[\\d+\\])*)\\)(\\(.*\\))");
    private static final Pattern ATTRIBUTE_SUFFIX = Pattern.compile("(.*?)\\s+" + ALIGNED);
    private static final Pattern BITS_SUFFIX = Pattern.compile("(.*?):(\\d+)");
    private static final Pattern DIMS_SUFFIX = Pattern.compile("(.*?)((?:\\[\\d*\\])+)");
    private static final Pattern NAME_SUFFIX = Pattern.compile("(.*?[\\s*])(" + IDENT + ")");
    /** A C type as pahole names it: words and stars ({@code "const struct sched_class  *"}). */
    private static final Pattern TYPE = Pattern.compile(IDENT + "(?:[ \\t]+(?:" + IDENT + "|\\*))*");
    /**
     * A pointer to a function type as pahole 1.24 prints one it cannot write as a declarator, such as
     * ARM32's {@code __noreturn} {@code processor.reset}: {@code volatile void ()(long unsigned int, bool)  *}.
     */
    private static final Pattern FUNCTION_TYPE_POINTER = Pattern.compile(
            IDENT + "(?:[ \\t]+(?:" + IDENT + "|\\*))* \\(\\)\\([\\w *,.()\\[\\]]*\\)[ \\t]*\\*");
    /** A function pointer's parameter list: types, commas, nested declarators, {@code ...}. */
    private static final Pattern PARAMETERS = Pattern.compile("\\([\\w *,.()\\[\\]]*\\)");
    private static final Pattern DIM = Pattern.compile("\\[(\\d*)\\]");
    /** pahole indents with at most 16 tabs, so it cannot show bodies nested deeper than this. */
    private static final int MAX_DEPTH = 16;
    private static final BigInteger ENUMERATOR_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger ENUMERATOR_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private final String source;
    private int lineNo;

    private PaholeParser(String source) {
        this.source = source;
    }

    /** One open struct, union or enum body while its lines are read. */
    private static final class Block {
        final String kind;
        final @Nullable String topName;
        final int startLine;
        final List<Member> members = new ArrayList<>();
        final List<Integer> memberLines = new ArrayList<>();
        final List<String> enumerators = new ArrayList<>();
        long size = -1;

        Block(String kind, @Nullable String topName, int startLine) {
            this.kind = kind;
            this.topName = topName;
            this.startLine = startLine;
        }

        void add(Member member, int line) {
            members.add(member);
            memberLines.add(line);
        }
    }

    static Map<String, StructLayout> parse(String source, String text) throws ProfileFormatException {
        return new PaholeParser(source).parse(text);
    }

    private Map<String, StructLayout> parse(String text) throws ProfileFormatException {
        Map<String, StructLayout> types = new LinkedHashMap<>();
        Deque<Block> open = new ArrayDeque<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            lineNo = i + 1;
            String line = lines[i];
            if (line.endsWith("\r")) {
                line = line.substring(0, line.length() - 1);
            }
            if (line.isBlank()) {
                continue;
            }
            Matcher m;
            if (open.isEmpty()) {
                m = TOP_OPEN.matcher(line);
                if (!m.matches()) {
                    throw error("expected 'struct NAME {' or 'union NAME {'");
                }
                open.push(new Block(m.group(1), m.group(2), lineNo));
                continue;
            }
            Block block = open.peek();
            if ((m = TOP_OPEN.matcher(line)).matches()) {
                throw error(m.group(1) + " " + m.group(2) + " starts before the type opened at line "
                        + open.getLast().startLine + " is closed");
            }
            if ((m = TOP_CLOSE.matcher(line)).matches()) {
                if (open.size() > 1) {
                    throw error("'};' ends the type opened at line " + open.getLast().startLine
                            + " while the body opened at line " + block.startLine + " is still open");
                }
                open.pop();
                StructLayout layout = close(block, m);
                StructLayout previous = types.putIfAbsent(layout.name(), layout);
                if (previous != null && previous.size() != layout.size()) {
                    throw error("second definition of " + layout.cName() + " with another size");
                }
                continue;
            }
            if ((m = SIZE_COMMENT.matcher(line)).matches() && open.size() == 1) {
                block.size = number(m.group(1));
                continue;
            }
            if (COMMENT.matcher(line).matches()) {
                continue;
            }
            boolean closing = line.stripLeading().startsWith("}");
            checkIndent(line, closing && open.size() > 1 ? open.size() - 1 : open.size());
            if ((m = NESTED_OPEN.matcher(line)).matches()) {
                if (block.kind.equals("enum")) {
                    throw error("a body inside an enum");
                }
                if (open.size() == MAX_DEPTH) {
                    throw error("bodies nested deeper than " + MAX_DEPTH + " levels");
                }
                open.push(new Block(m.group(1), null, lineNo));
                continue;
            }
            if (open.size() > 1 && closing) {
                if (!(m = NESTED_CLOSE.matcher(line)).matches()) {
                    throw error("expected '} NAME; /* offset size */' to close the body opened at line "
                            + block.startLine);
                }
                open.pop();
                Member nested = closeNested(block, m);
                open.peek().add(nested, lineNo);
                continue;
            }
            if (block.kind.equals("enum")) {
                if ((m = ENUMERATOR.matcher(line)).matches()) {
                    checkEnumerator(m.group(2));
                    block.enumerators.add(m.group(1) + " = " + m.group(2));
                    continue;
                }
                throw error("expected an enumerator 'NAME = value,'");
            }
            if (closing) {
                throw error("'}' closes no open struct, union or enum body");
            }
            if ((m = MEMBER.matcher(line)).matches()) {
                block.add(member(m), lineNo);
                continue;
            }
            if (PADDING_BITFIELD.matcher(line).matches()) {
                continue;
            }
            throw error("not a member, comment or brace line");
        }
        if (!open.isEmpty()) {
            lineNo = open.getLast().startLine;
            throw error("type is not closed before the end of the input");
        }
        if (types.isEmpty()) {
            throw new ProfileFormatException(source, 1, "no struct or union in the input");
        }
        return types;
    }

    private StructLayout close(Block block, Matcher m) throws ProfileFormatException {
        if (block.size < 0 && !block.kind.equals("union")) {
            throw error("struct has no '/* size: N, ... */' line");
        }
        int aligned = m.group(1) == null ? 0 : alignment(m.group(1));
        boolean packed = m.group(2) != null;
        if (block.size >= 0) {
            checkInside(block, 0, block.size);
        }
        checkNamesUnique(block);
        if (!block.kind.equals("union")) {
            checkInOrder(block);
        }
        return new StructLayout(block.kind.equals("union"), block.topName == null ? "" : block.topName, block.size,
                aligned, packed, block.members, block.startLine);
    }

    private Member closeNested(Block block, Matcher m) throws ProfileFormatException {
        int closeAligned = m.group(1) != null ? alignment(m.group(1)) : 0;
        int aligned = m.group(5) != null ? alignment(m.group(5)) : 0;
        String name = m.group(2);
        if (name == null && aligned == 0) {
            // '} __attribute__((__aligned__(N)));' of an anonymous body is the member's attribute: pahole
            // prints the type's before the member's, and spaces the comment after it as a member's
            aligned = closeAligned;
            closeAligned = 0;
        }
        int[] dims = dims(m.group(3) == null ? "" : m.group(3));
        int bitSize = m.group(4) == null ? 0 : bits(m.group(4));
        long offset = number(m.group(6));
        int bitOffset = m.group(7) == null ? 0 : bits(m.group(7));
        long size = number(m.group(8));
        if (!block.kind.equals("enum")) {
            checkInside(block, offset, size);
            checkNamesUnique(block);
        }
        if (block.kind.equals("struct")) {
            checkInOrder(block);
        }
        checkMember(size, dims, bitOffset, bitSize);
        return new Member(name, block.kind, offset, size, dims, bitOffset, bitSize, aligned, block.members,
                block.enumerators).closeAligned(closeAligned);
    }

    private Member member(Matcher m) throws ProfileFormatException {
        String decl = m.group(1).strip();
        long offset = number(m.group(2));
        int bitOffset = m.group(3) == null ? 0 : bits(m.group(3));
        long size = number(m.group(4));
        if (decl.indexOf('{') >= 0 || decl.indexOf('}') >= 0) {
            throw error("a brace inside a member declaration");
        }
        if (decl.indexOf(';') >= 0) {
            throw error("two declarations on one line");
        }
        int aligned = 0;
        Matcher a = ATTRIBUTE_SUFFIX.matcher(decl);
        if (a.matches()) {
            decl = a.group(1);
            aligned = alignment(a.group(2));
        }
        Matcher f = FUNCTION_POINTER.matcher(decl);
        if (f.matches()) {
            checkType(f.group(1).strip());
            if (!PARAMETERS.matcher(f.group(4)).matches()) {
                throw error("not a parameter list: " + f.group(4));
            }
            int[] dims = dims(f.group(3));
            checkMember(size, dims, bitOffset, 0);
            String type = f.group(1).strip() + " (*%s)" + f.group(4);
            return new Member(f.group(2), type, offset, size, dims, bitOffset, 0, aligned, List.of(), List.of());
        }
        int bitSize = 0;
        Matcher b = BITS_SUFFIX.matcher(decl);
        if (b.matches()) {
            decl = b.group(1).strip();
            bitSize = bits(b.group(2));
            if (bitSize == 0) {
                throw error("a named bitfield of width 0");
            }
        }
        int[] dims = new int[0];
        Matcher d = DIMS_SUFFIX.matcher(decl);
        if (d.matches()) {
            decl = d.group(1);
            dims = dims(d.group(2));
        }
        Matcher n = NAME_SUFFIX.matcher(decl);
        if (!n.matches() || n.group(1).isBlank()) {
            throw error("expected 'TYPE NAME' in a member declaration");
        }
        checkType(n.group(1).strip());
        checkMember(size, dims, bitOffset, bitSize);
        return new Member(n.group(2), n.group(1).strip(), offset, size, dims, bitOffset, bitSize, aligned, List.of(),
                List.of());
    }

    private void checkType(String type) throws ProfileFormatException {
        if (!TYPE.matcher(type).matches() && !FUNCTION_TYPE_POINTER.matcher(type).matches()) {
            throw error("not a C type: '" + type + "'");
        }
    }

    private void checkMember(long size, int[] dims, int bitOffset, int bitSize) throws ProfileFormatException {
        long count = 1;
        for (int dim : dims) {
            try {
                count = Math.multiplyExact(count, Math.max(dim, 0));
            } catch (ArithmeticException e) {
                throw error("array has more than " + Long.MAX_VALUE + " elements");
            }
        }
        if (count > 0 && size % count != 0) {
            throw error("size " + size + " is not a whole number of " + count + " array elements");
        }
        if (bitSize > 0 && bitOffset + bitSize > size * 8) {
            throw error("bitfield bits " + bitOffset + ".." + (bitOffset + bitSize) + " do not fit in " + size
                    + " bytes");
        }
        if (bitSize == 0 && bitOffset != 0) {
            throw error("a bit offset on a member that is not a bitfield");
        }
    }

    private void checkInside(Block block, long start, long size) throws ProfileFormatException {
        for (int i = 0; i < block.members.size(); i++) {
            Member member = block.members.get(i);
            if (member.offset() < start || member.offset() + member.size() > start + size) {
                throw new ProfileFormatException(source, block.memberLines.get(i), "member " + shown(member) + " at "
                        + member.offset() + " size " + member.size() + " lies outside its container (" + start + ".."
                        + (start + size) + ")");
            }
        }
    }

    /** A struct's members follow one another; a bitfield may share the unit of the member before it, not its bits. */
    private void checkInOrder(Block block) throws ProfileFormatException {
        long end = 0;
        for (int i = 0; i < block.members.size(); i++) {
            Member member = block.members.get(i);
            long start = member.offset() * 8 + member.bitOffset();
            if (start < end) {
                throw new ProfileFormatException(source, block.memberLines.get(i), "member " + shown(member)
                        + " starts at " + position(start) + ", inside what the members before it take (up to "
                        + position(end) + ")");
            }
            end = start + (member.isBitfield() ? member.bitSize() : member.size() * 8);
        }
    }

    private static String position(long bits) {
        return bits % 8 == 0 ? "byte " + bits / 8 : "bit " + bits;
    }

    private static String shown(Member member) {
        return member.name() == null ? "<anonymous " + member.type() + ">" : member.name();
    }

    /** C gives every member of a struct or union, including those of its anonymous bodies, its own name. */
    private void checkNamesUnique(Block block) throws ProfileFormatException {
        Map<String, Boolean> seen = new LinkedHashMap<>();
        for (int i = 0; i < block.members.size(); i++) {
            for (String name : visibleNames(block.members.get(i), new ArrayList<>())) {
                if (seen.put(name, Boolean.TRUE) != null) {
                    throw new ProfileFormatException(source, block.memberLines.get(i), "a second member named "
                            + name);
                }
            }
        }
    }

    private static List<String> visibleNames(Member member, List<String> names) {
        if (member.name() != null) {
            names.add(member.name());
        } else {
            for (Member inner : member.members()) {
                visibleNames(inner, names);
            }
        }
        return names;
    }

    private void checkIndent(String line, int depth) throws ProfileFormatException {
        int tabs = 0;
        while (tabs < line.length() && line.charAt(tabs) == '\t') {
            tabs++;
        }
        if (tabs != depth) {
            throw error("indented by " + tabs + " tabs where " + depth + " are expected");
        }
    }

    private void checkEnumerator(String digits) throws ProfileFormatException {
        BigInteger value = new BigInteger(digits);
        if (value.compareTo(ENUMERATOR_MIN) < 0 || value.compareTo(ENUMERATOR_MAX) > 0) {
            throw error("enumerator value out of 64-bit range: " + digits);
        }
    }

    private int[] dims(String text) throws ProfileFormatException {
        List<Integer> dims = new ArrayList<>();
        Matcher m = DIM.matcher(text);
        while (m.find()) {
            long dim = m.group(1).isEmpty() ? -1 : number(m.group(1));
            if (dim > Integer.MAX_VALUE) {
                throw error("array dimension too large: " + dim);
            }
            dims.add((int) dim);
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A bit offset or bitfield width. */
    private int bits(String digits) throws ProfileFormatException {
        long value = number(digits);
        if (value > Integer.MAX_VALUE) {
            throw error("bit count out of range: " + digits);
        }
        return (int) value;
    }

    /** N of {@code __aligned__(N)}: a power of two, as GCC requires. */
    private int alignment(String digits) throws ProfileFormatException {
        long value = number(digits);
        if (value > Integer.MAX_VALUE || Long.bitCount(value) != 1) {
            throw error("alignment " + digits + " is not a power of two");
        }
        return (int) value;
    }

    private long number(String digits) throws ProfileFormatException {
        try {
            long value = Long.parseLong(digits);
            if (value > (1L << 40)) {
                throw error("number out of range: " + digits);
            }
            return value;
        } catch (NumberFormatException e) {
            throw error("number out of range: " + digits);
        }
    }

    private ProfileFormatException error(String reason) {
        return new ProfileFormatException(source, lineNo, reason);
    }
}
