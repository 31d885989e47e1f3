package io.github.kproc.view;

import io.github.kproc.arch.Platform;
import io.github.kproc.layout.Member;
import io.github.kproc.layout.Profile;
import io.github.kproc.layout.StructLayout;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.MemoryFaultException;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Any struct or union of a profile at any kernel address, rendered the way Lauterbach TRACE32's
 * {@code Var.View %Type %Hex %Decimal %Index (struct thread_info*)0x80C00000} shows it:
 *
 * <pre>
 *   (struct thread_info *) (struct thread_info*)0x80C00000 = 0x80C00000 -&gt; (
 *     (long unsigned int) flags = 0 = 0x0,
 *     (int) preempt_count = 1 = 0x1,
 *     (mm_segment_t) addr_limit = 3204448256 = 0xBF000000,
 *     (struct task_struct *) task = 0x81A3C000,
 *     (struct cpu_context_save) cpu_context = (
 *       (__u32) r4 = 0 = 0x0,
 *       ...
 *       (__u32 [2]) extra = ([0] = 0 = 0x0, [1] = 0 = 0x0)),
 *     ...)
 * </pre>
 *
 * <p>One member a line, with its C type as pahole printed it. A scalar shows its value in decimal
 * (signed for signed C types, the kernel's {@code sN}/{@code __sN}, {@code pid_t} and the like;
 * plain {@code char} is unsigned, as on ARM and arm64) and the raw bits in hex. A bitfield shows its
 * bits. Pointers and function pointers show in hex. Structs and unions, named or inline, nest in
 * parentheses two spaces deeper; an inline enum adds its enumerator's name. Arrays list their
 * elements by index, {@code char} arrays after their string; flexible and zero-length arrays are
 * {@code ()}. A typedef {@code X_t} wider than 8 bytes shows as {@code struct X} when the profile has
 * one of that size, else as raw bytes. Hex digits are upper case, without leading zeros.
 *
 * <p>Untrusted memory cannot make the view run away: only the layout decides what is read, never
 * a value read from memory; at most {@value #MAX_ARRAY_ELEMENTS} elements of an array dimension,
 * {@value #MAX_DEPTH} levels of nesting and about {@value #MAX_CHARS} characters are shown, and
 * each cut says so.
 *
 * <p>Given a {@link Platform}, the view of {@code struct thread_info} (and of {@code task_struct}
 * where thread_info is its first member) ends with the flags decoded into TIF names and the
 * preempt count into its fields ({@link PreemptCount#describe()}).
 */
public final class Trace32 {
    /** Elements shown of one array dimension; the rest are counted. */
    public static final int MAX_ARRAY_ELEMENTS = 256;
    /** Levels of nested structs, unions and array dimensions shown. */
    public static final int MAX_DEPTH = 32;
    /** Characters after which the view stops (checked before each member and element). */
    public static final int MAX_CHARS = 4 << 20;

    private static final Pattern SPACES = Pattern.compile("\\s+");
    private static final Set<String> C_INTEGER_WORDS = Set.of("signed", "unsigned", "int", "long", "short", "char");
    /** Typedefs of signed integers that kernel structs use (include/linux/types.h, uapi/asm-generic/posix_types.h). */
    private static final Set<String> SIGNED_TYPEDEFS = Set.of("s8", "s16", "s32", "s64", "__s8", "__s16", "__s32",
            "__s64", "int8_t", "int16_t", "int32_t", "int64_t", "pid_t", "__kernel_pid_t", "ssize_t",
            "__kernel_ssize_t", "loff_t", "__kernel_loff_t", "off_t", "__kernel_off_t", "__kernel_long_t", "time_t",
            "__kernel_time_t", "time64_t", "clock_t", "__kernel_clock_t", "__kernel_timer_t", "clockid_t",
            "__kernel_clockid_t", "ktime_t", "key_serial_t", "compat_long_t", "compat_time_t", "atomic_t",
            "atomic_long_t", "atomic64_t", "local64_t");

    private final Profile profile;
    private final AddressSpace memory;
    private final StringBuilder out = new StringBuilder(4096);
    private boolean truncated;

    private Trace32(Profile profile, AddressSpace memory) {
        this.profile = profile;
        this.memory = memory;
    }

    /**
     * The view of {@code type} ({@code "struct thread_info"}, {@code "thread_info"}, {@code "union fp_state"})
     * at {@code address}, followed for thread_info by its flags and preempt count in words.
     *
     * @throws NoSuchElementException if the platform's profile has no such struct or union
     * @throws MemoryFaultException if the struct is not wholly inside {@code memory}
     * @throws IllegalArgumentException if the platform's and the memory's pointer sizes differ
     */
    public static String view(Platform platform, AddressSpace memory, String type, long address) {
        if (platform.pointerSize() != memory.pointerSize()) {
            throw new IllegalArgumentException("platform " + platform + " has " + platform.pointerSize()
                    + "-byte pointers, the memory " + memory.pointerSize() + "-byte ones");
        }
        Trace32 view = new Trace32(platform.profile(), memory);
        StructLayout layout = view.render(type, address);
        if (!view.truncated) {
            view.decodeThreadInfo(platform, layout, address);
        }
        return view.out.toString();
    }

    /**
     * The view of {@code type} at {@code address} with the profile's layouts alone (no decoding).
     *
     * @throws NoSuchElementException if the profile has no such struct or union
     * @throws MemoryFaultException if the struct is not wholly inside {@code memory}
     */
    public static String view(Profile profile, AddressSpace memory, String type, long address) {
        Trace32 view = new Trace32(profile, memory);
        view.render(type, address);
        return view.out.toString();
    }

    private StructLayout render(String type, long address) {
        StructLayout layout = profile.struct(type);
        memory.offset(address, layout.size()); // faults unless every byte the view may read is backed
        String name = layout.cName();
        out.append("  (").append(name).append(" *) (").append(name).append("*)");
        hex(address).append(" = ");
        hex(address).append(" -> (");
        body(layout.members(), address, 1);
        if (truncated) {
            out.append("\n  ... view cut at ").append(MAX_CHARS).append(" characters");
        }
        out.append('\n');
        return layout;
    }

    /** After an opening parenthesis: each member on its own line at {@code depth}, then the closing one. */
    private void body(List<Member> members, long base, int depth) {
        if (depth > MAX_DEPTH) {
            out.append("... deeper than ").append(MAX_DEPTH).append(" levels)");
            return;
        }
        for (int i = 0; i < members.size(); i++) {
            if (overBudget()) {
                return;
            }
            out.append(i == 0 ? "\n" : ",\n");
            member(members.get(i), base, depth);
        }
        out.append(')');
    }

    private void member(Member m, long base, int depth) {
        indent(depth).append('(').append(typeName(m)).append(") ");
        out.append(m.name() == null ? "<anonymous>" : m.name()).append(" = ");
        long at = base + m.offset();
        int[] dims = m.dims();
        if (dims.length == 0) {
            element(m, at, depth);
        } else {
            array(m, dims, 0, at, depth);
        }
    }

    /** One dimension of an array member; nested dimensions and struct elements go one level deeper. */
    private void array(Member m, int[] dims, int d, long at, int depth) {
        int count = dims[d];
        if (count <= 0) {
            out.append("()");
            return;
        }
        if (depth > MAX_DEPTH) {
            out.append("(... deeper than ").append(MAX_DEPTH).append(" levels)");
            return;
        }
        long stride = m.elementSize();
        for (int inner = d + 1; inner < dims.length; inner++) {
            stride *= dims[inner];
        }
        boolean innermost = d == dims.length - 1;
        if (innermost && m.elementSize() == 1 && isChar(m.type()) && !m.isPointer()) {
            string(at, count).append(' ');
        }
        boolean lines = isBody(m);
        int shown = Math.min(count, MAX_ARRAY_ELEMENTS);
        out.append('(');
        for (int i = 0; i < shown; i++) {
            if (overBudget()) {
                return;
            }
            if (lines) {
                out.append(i == 0 ? "\n" : ",\n");
                indent(depth + 1);
            } else if (i > 0) {
                out.append(", ");
            }
            out.append('[').append(i).append("] = ");
            long element = at + i * stride;
            if (innermost) {
                element(m, element, depth + 1);
            } else {
                array(m, dims, d + 1, element, depth + 1);
            }
        }
        if (count > shown) {
            if (lines) {
                out.append(",\n");
                indent(depth + 1);
            } else {
                out.append(", ");
            }
            out.append("... ").append(count - shown).append(" more");
        }
        out.append(')');
    }

    /** One value of the member's element type at {@code at}. */
    private void element(Member m, long at, int depth) {
        long size = m.elementSize();
        if (m.isBitfield()) {
            bitfield(m, at);
        } else if (m.isPointer() || m.isFunctionPointer()) {
            if (isScalarSize(size)) {
                hex(memory.readUnsigned(at, (int) size));
            } else {
                bytes(at, size);
            }
        } else if (isInlineBody(m)) {
            out.append('(');
            body(m.members(), at - m.offset(), depth + 1);
        } else if (m.type().equals("enum") || !m.enumerators().isEmpty()) {
            enumValue(m, at, size);
        } else {
            StructLayout layout = namedBody(m);
            if (layout != null) {
                out.append('(');
                body(layout.members(), at, depth + 1);
            } else {
                scalar(m.type(), at, size);
            }
        }
    }

    private void bitfield(Member m, long at) {
        if (!isScalarSize(m.size())) {
            bytes(at, m.size());
            return;
        }
        long unit = memory.readUnsigned(at, (int) m.size());
        int bits = m.bitSize();
        long mask = bits >= 64 ? -1L : (1L << bits) - 1;
        long raw = (unit >>> m.bitOffset()) & mask;
        if (isSigned(m.type()) && bits < 64) {
            out.append((raw << (64 - bits)) >> (64 - bits));
        } else {
            out.append(Long.toUnsignedString(raw));
        }
        out.append(" = ");
        hex(raw);
    }

    private void enumValue(Member m, long at, long size) {
        if (!isScalarSize(size)) {
            bytes(at, size);
            return;
        }
        long raw = memory.readUnsigned(at, (int) size);
        String unsigned = Long.toUnsignedString(raw);
        String signed = Long.toString(signExtend(raw, (int) size));
        out.append(unsigned).append(" = ");
        hex(raw);
        for (String e : m.enumerators()) {
            if (e.endsWith(" = " + unsigned) || e.endsWith(" = " + signed)) {
                out.append(" (").append(e, 0, e.indexOf(' ')).append(')');
                break;
            }
        }
    }

    private void scalar(String type, long at, long size) {
        boolean signed = isSigned(type);
        if (isScalarSize(size)) {
            long raw = memory.readUnsigned(at, (int) size);
            out.append(signed ? Long.toString(signExtend(raw, (int) size)) : Long.toUnsignedString(raw));
            out.append(" = ");
            hex(raw);
        } else if (size == 16 && type.contains("int128")) {
            BigInteger value = new BigInteger(1, reversed(at, 16));
            BigInteger shown = signed && value.testBit(127) ? value.subtract(BigInteger.ONE.shiftLeft(128)) : value;
            out.append(shown).append(" = 0x").append(value.toString(16).toUpperCase(Locale.ROOT));
        } else {
            bytes(at, size);
        }
    }

    /** A member's bytes in memory order, for a type the profile cannot show as a value or a body. */
    private void bytes(long at, long size) {
        if (size <= 0) {
            out.append("()");
            return;
        }
        long shown = Math.min(size, MAX_ARRAY_ELEMENTS);
        out.append('(').append(size).append(" bytes:");
        for (long i = 0; i < shown; i++) {
            out.append(' ');
            int b = Byte.toUnsignedInt(memory.readByte(at + i));
            out.append(Character.toUpperCase(Character.forDigit(b >>> 4, 16)))
                    .append(Character.toUpperCase(Character.forDigit(b & 0xF, 16)));
        }
        if (size > shown) {
            out.append(" ... ").append(size - shown).append(" more");
        }
        out.append(')');
    }

    /** A char array's contents up to its first NUL, quoted with C escapes; {@code "..."...} if cut. */
    private StringBuilder string(long at, int count) {
        int max = Math.min(count, MAX_ARRAY_ELEMENTS);
        out.append('"');
        for (int i = 0; i < max; i++) {
            int c = Byte.toUnsignedInt(memory.readByte(at + i));
            if (c == 0) {
                return out.append('"');
            }
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c >= 0x20 && c < 0x7F) {
                        out.append((char) c);
                    } else {
                        out.append(String.format("\\%03o", c));
                    }
                }
            }
        }
        return out.append(count > max ? "\"..." : "\"");
    }

    private byte[] reversed(long at, int size) {
        byte[] b = new byte[size];
        for (int i = 0; i < size; i++) {
            b[size - 1 - i] = memory.readByte(at + i);
        }
        return b;
    }

    private void decodeThreadInfo(Platform platform, StructLayout layout, long address) {
        String prefix;
        long threadInfo;
        if (!layout.isUnion() && layout.name().equals("thread_info")) {
            prefix = "";
            threadInfo = address;
        } else if (!layout.isUnion() && layout.name().equals("task_struct") && platform.threadInfoInTask()) {
            prefix = "thread_info.";
            threadInfo = address + platform.offsets().taskThreadInfo;
        } else {
            return;
        }
        ThreadInfo ti = new ThreadInfo(platform, memory, threadInfo);
        long flags = ti.flags();
        List<String> names = ThreadInfo.flagNames(platform, flags);
        out.append("  ").append(prefix).append("flags = ");
        hex(flags).append(": ").append(names.isEmpty() ? "no TIF flag set" : String.join(" | ", names)).append('\n');
        PreemptCount count = ti.preemptCount();
        out.append("  ").append(prefix).append("preempt_count = ");
        hex(Integer.toUnsignedLong(count.value())).append(": ").append(count.describe()).append('\n');
    }

    /** True if an element of {@code m} shows as a body of members, false if as a value on one line. */
    private boolean isBody(Member m) {
        return !m.isBitfield() && !m.isPointer() && !m.isFunctionPointer()
                && (isInlineBody(m) || namedBody(m) != null);
    }

    private static boolean isInlineBody(Member m) {
        return !m.members().isEmpty() || m.type().equals("struct") || m.type().equals("union");
    }

    /**
     * The named struct or union a member embeds, or the {@code struct X} a typedef {@code X_t} wider
     * than a scalar stands for ({@code wait_queue_head_t}), when the profile has it.
     */
    private @Nullable StructLayout namedBody(Member m) {
        String embedded = m.embeddedTypeName();
        if (embedded != null) {
            return profile.find(embedded).orElse(null);
        }
        String type = m.type();
        if (type.endsWith("_t") && !isScalarSize(m.elementSize()) && type.indexOf(' ') < 0) {
            StructLayout layout = profile.find(type.substring(0, type.length() - 2)).orElse(null);
            if (layout != null && layout.size() == m.elementSize()) {
                return layout;
            }
        }
        return null;
    }

    /** The type as TRACE32 prints it before the name: {@code "__u32 [2]"}, {@code "unsigned int:1"}. */
    private static String typeName(Member m) {
        String type = m.isFunctionPointer() ? m.type().replace("(*%s)", "(*)") : m.type();
        type = SPACES.matcher(type.strip()).replaceAll(" ");
        while (type.contains("* *")) {
            type = type.replace("* *", "**");
        }
        StringBuilder s = new StringBuilder(type);
        int[] dims = m.dims();
        if (dims.length > 0) {
            s.append(' ');
            for (int d : dims) {
                s.append('[').append(d < 0 ? "" : Integer.toString(d)).append(']');
            }
        }
        if (m.isBitfield()) {
            s.append(':').append(m.bitSize());
        }
        return s.toString();
    }

    /**
     * True for a signed integer type: a C integer type without {@code unsigned} (but plain
     * {@code char}, which the ARM and arm64 procedure call standards make unsigned), or a known
     * signed kernel typedef.
     */
    static boolean isSigned(String type) {
        List<String> words = words(type);
        if (words.contains("unsigned")) {
            return false;
        }
        if (!words.isEmpty() && C_INTEGER_WORDS.containsAll(words)) {
            return !words.equals(List.of("char"));
        }
        return words.size() == 1 && (SIGNED_TYPEDEFS.contains(words.get(0)) || words.get(0).equals("__int128"));
    }

    private static boolean isChar(String type) {
        List<String> words = words(type);
        return words.contains("char") && C_INTEGER_WORDS.containsAll(words);
    }

    private static List<String> words(String type) {
        return Arrays.stream(SPACES.split(type.strip()))
                .filter(w -> !w.isEmpty() && !w.equals("const") && !w.equals("volatile"))
                .toList();
    }

    private static boolean isScalarSize(long size) {
        return size == 1 || size == 2 || size == 4 || size == 8;
    }

    private static long signExtend(long raw, int size) {
        int shift = 64 - 8 * size;
        return (raw << shift) >> shift;
    }

    private boolean overBudget() {
        if (out.length() > MAX_CHARS) {
            truncated = true;
        }
        return truncated;
    }

    private StringBuilder hex(long value) {
        return out.append("0x").append(Long.toHexString(value).toUpperCase(Locale.ROOT));
    }

    private StringBuilder indent(int depth) {
        for (int i = 0; i < depth + 1; i++) {
            out.append("  ");
        }
        return out;
    }
}
