package io.github.kproc.layout;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A reading of pahole text that shares nothing with {@link PaholeParser}: a few regular expressions
 * that pick out, in order, each type's header, each member's name and {@code /* offset[:bit] size *}{@code /}
 * comment, and each {@code /* size: N} line. Two texts that give the same facts describe the same
 * bytes.
 */
final class PaholeFacts {
    private static final Pattern TYPE_OPEN = Pattern.compile("(struct|union) (\\w+) \\{");
    private static final Pattern SIZE = Pattern.compile("\t/\\* size: (\\d+), .*");
    private static final Pattern OFFSET_COMMENT = Pattern.compile(
            "(.*);\\s*/\\*\\s*(\\d+)(:\\s*\\d+)?\\s+(\\d+) \\*/");
    private static final Pattern FUNCTION_POINTER_NAME = Pattern.compile(".*?\\(\\*(\\w+)");
    private static final Pattern ATTRIBUTE = Pattern.compile(" __attribute__\\(\\(\\w+(?:\\(\\d+\\))?\\)\\)");
    private static final Pattern TRAILING_NAME = Pattern.compile(".*?(\\w+)(?:\\[\\d*\\])*(?::\\d+)?");

    private PaholeFacts() {
    }

    /** {@code "struct task_struct {"}, {@code "state @0 8"}, {@code "sched_migrated @660:2 4"}, {@code "size 1472"}, ... */
    static List<String> of(String text) {
        List<String> facts = new ArrayList<>();
        for (String line : text.split("\n")) {
            Matcher m;
            if ((m = TYPE_OPEN.matcher(line)).matches()) {
                facts.add(m.group(1) + " " + m.group(2) + " {");
            } else if ((m = SIZE.matcher(line)).matches()) {
                facts.add("size " + m.group(1));
            } else if ((m = OFFSET_COMMENT.matcher(line)).matches()) {
                String bits = m.group(3) == null ? "" : ":" + m.group(3).substring(1).strip();
                facts.add(memberName(m.group(1)) + " @" + m.group(2) + bits + " " + m.group(4));
            }
        }
        return facts;
    }

    private static String memberName(String declaration) {
        String decl = ATTRIBUTE.matcher(declaration.strip()).replaceAll("");
        Matcher fp = FUNCTION_POINTER_NAME.matcher(decl);
        if (!decl.startsWith("}") && fp.lookingAt()) {
            return fp.group(1);
        }
        if (decl.equals("}")) {
            return "<anonymous>";
        }
        Matcher name = TRAILING_NAME.matcher(decl);
        return name.matches() ? name.group(1) : "<unreadable: " + decl + ">";
    }

    /** True for the line that opens a {@code struct NAME} or {@code union NAME}. */
    static boolean opensType(String line) {
        return TYPE_OPEN.matcher(line).matches();
    }

    /**
     * How many lines of {@code printed} equal a line of {@code original} when each type's lines are
     * aligned with the same type's lines of the original (longest common subsequence per type).
     */
    static int identicalLines(String original, String printed) {
        List<List<String>> left = types(original);
        List<List<String>> right = types(printed);
        int same = 0;
        for (int i = 0; i < Math.min(left.size(), right.size()); i++) {
            same += commonSubsequence(left.get(i), right.get(i));
        }
        return same;
    }

    /** The number of lines, as {@link #identicalLines} counts them. */
    static int lineCount(String text) {
        return text.split("\n").length;
    }

    private static List<List<String>> types(String text) {
        List<List<String>> types = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (types.isEmpty() || TYPE_OPEN.matcher(line).matches()) {
                types.add(new ArrayList<>());
            }
            types.getLast().add(line);
        }
        return types;
    }

    private static int commonSubsequence(List<String> a, List<String> b) {
        int[] previous = new int[b.size() + 1];
        int[] current = new int[b.size() + 1];
        for (String x : a) {
            for (int j = 1; j <= b.size(); j++) {
                current[j] = x.equals(b.get(j - 1)) ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
            }
            int[] t = previous;
            previous = current;
            current = t;
        }
        return previous[b.size()];
    }
}
