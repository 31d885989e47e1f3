package io.github.kproc.layout;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * Member-for-member comparison of layouts, naming the first difference by its path
 * ({@code struct task_struct > se > vruntime: offset 56 != 64}).
 */
final class LayoutAssertions {
    private LayoutAssertions() {
    }

    /** Every type of {@code actual} equals the type of {@code expected} at the same position. */
    static void assertSameProfile(Profile expected, Profile actual) {
        List<String> differences = differences(expected, actual);
        if (!differences.isEmpty()) {
            fail(differences.size() + " differences, first: " + differences.getFirst());
        }
    }

    /** One layout equals another in every member, nested body and attribute. */
    static void assertSameLayout(StructLayout expected, StructLayout actual) {
        List<String> differences = new ArrayList<>();
        compare(expected, actual, differences);
        if (!differences.isEmpty()) {
            fail(differences.size() + " differences, first: " + differences.getFirst());
        }
    }

    /** Every difference between two profiles' types, in order. */
    static List<String> differences(Profile expected, Profile actual) {
        List<String> differences = new ArrayList<>();
        List<StructLayout> left = List.copyOf(expected.types());
        List<StructLayout> right = List.copyOf(actual.types());
        if (left.size() != right.size()) {
            differences.add("type count " + left.size() + " != " + right.size());
        }
        for (int i = 0; i < Math.min(left.size(), right.size()); i++) {
            compare(left.get(i), right.get(i), differences);
        }
        return differences;
    }

    private static void compare(StructLayout expected, StructLayout actual, List<String> out) {
        String at = expected.cName();
        check(out, at, "kind and name", expected.cName(), actual.cName());
        check(out, at, "size", expected.size(), actual.size());
        check(out, at, "alignment", expected.alignment(), actual.alignment());
        check(out, at, "aligned attribute", expected.alignedAttribute(), actual.alignedAttribute());
        check(out, at, "packed", expected.isPacked(), actual.isPacked());
        compare(at, expected.members(), actual.members(), out);
    }

    private static void compare(String at, List<Member> expected, List<Member> actual, List<String> out) {
        check(out, at, "member count", expected.size(), actual.size());
        Iterator<Member> right = actual.iterator();
        for (Member left : expected) {
            if (!right.hasNext()) {
                return;
            }
            compare(at + " > " + (left.name() == null ? "<anonymous>" : left.name()), left, right.next(), out);
        }
    }

    private static void compare(String at, Member expected, Member actual, List<String> out) {
        check(out, at, "name", expected.name(), actual.name());
        check(out, at, "type", expected.type(), actual.type());
        check(out, at, "offset", expected.offset(), actual.offset());
        check(out, at, "size", expected.size(), actual.size());
        check(out, at, "dims", Arrays.toString(expected.dims()), Arrays.toString(actual.dims()));
        check(out, at, "bit offset", expected.bitOffset(), actual.bitOffset());
        check(out, at, "bit size", expected.bitSize(), actual.bitSize());
        check(out, at, "aligned attribute", expected.alignedAttribute(), actual.alignedAttribute());
        check(out, at, "aligned attribute after '}'", expected.closeAlignedAttribute(),
                actual.closeAlignedAttribute());
        check(out, at, "enumerators", expected.enumerators(), actual.enumerators());
        compare(at, expected.members(), actual.members(), out);
    }

    private static void check(List<String> out, String at, String what, Object expected, Object actual) {
        if (!Objects.equals(expected, actual)) {
            out.add(at + ": " + what + " " + expected + " != " + actual);
        }
    }
}
