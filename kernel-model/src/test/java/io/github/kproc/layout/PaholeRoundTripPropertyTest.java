package io.github.kproc.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.core.RandomnessSource;

/**
 * For any struct or union laid out by the C rules GCC follows on ARM, the pahole text {@link Pahole}
 * prints parses back to the same layout; the profile also infers the alignment the C rules give and,
 * for a union (pahole prints it no size), the size.
 *
 * <p>The rules: each member at the next multiple of its alignment (its type's, raised by
 * {@code __aligned__}); a bitfield in the unit of its type where it starts, unless it would cross into
 * the next unit, then at the start of that; union members all at the union's start; a body's size
 * rounded up to its alignment, the largest of its members'.
 *
 * <p>Seeded for repeatable runs; {@code -DQT_SEED=n} explores another part of the space. QuickTheories
 * shrinks a failing example and prints it as pahole text with its seed.
 */
class PaholeRoundTripPropertyTest {
    private static final long SEED = Long.getLong("QT_SEED", 0x6b70726f63L);

    @Test
    void aPrintedLayoutParsesBackToTheSameLayout() {
        qt().withFixedSeed(SEED).withExamples(500).forAll(layouts()).checkAssert(expected -> {
            String text = Pahole.print(expected);
            Profile profile = parse(text);
            StructLayout parsed = profile.struct(expected.name());

            LayoutAssertions.assertSameLayout(expected, parsed);
            assertEquals(text, Pahole.print(parsed), "printing what was parsed gives the same text");
            // a whole profile is printed with the notes that need its pointer size
            LayoutAssertions.assertSameLayout(expected, parse(Pahole.print(profile)).struct(expected.name()));
        });
    }

    @Test
    void aTypeTwoDumpsPrintIsMergedAndEachDumpPrintsBack() {
        qt().withFixedSeed(SEED).withExamples(200).forAll(layouts()).checkAssert(type -> {
            String forkDump = Pahole.print(parse(Pahole.print(named(type, "a")) + Pahole.print(named(type, "shared"))));
            String schedDump = Pahole.print(parse(Pahole.print(named(type, "shared")) + Pahole.print(named(type, "b"))));
            Profile merged = parse(List.of(forkDump, schedDump));

            assertEquals(List.of("a", "shared", "b"), merged.types().stream().map(StructLayout::name).toList());
            assertEquals(forkDump, Pahole.print(merged, 0));
            assertEquals(schedDump, Pahole.print(merged, 1));
        });
    }

    @Test
    void twoDumpsMergeATypeExactlyWhenPaholePrintsItTheSameInBoth() {
        qt().withFixedSeed(SEED).withExamples(200).forAll(layouts(), layouts()).checkAssert((first, second) -> {
            String firstDump = Pahole.print(named(first, "shared"));
            String secondDump = Pahole.print(named(second, "shared"));
            String message;
            try {
                Profile.parse("generated", List.of(firstDump, secondDump), "");
                message = null;
            } catch (ProfileFormatException e) {
                message = e.getMessage();
            }

            if (firstDump.equals(secondDump)) {
                assertNull(message);
            } else {
                assertNotNull(message, "merged\n" + firstDump + "with\n" + secondDump);
                assertTrue(message.startsWith("generated[1]:1: " + named(second, "shared").cName()
                        + " differs from " + named(first, "shared").cName() + " in generated[0] at line 1"), message);
            }
        });
    }

    /** The same layout under another tag. */
    private static StructLayout named(StructLayout type, String name) {
        StructLayout renamed = new StructLayout(type.isUnion(), name, type.size(), type.alignedAttribute(),
                type.isPacked(), type.members(), 1);
        renamed.alignment(type.alignment());
        return renamed;
    }

    private static Profile parse(List<String> texts) {
        try {
            return Profile.parse("generated", texts, "");
        } catch (ProfileFormatException e) {
            throw new AssertionError(e.getMessage() + " in\n" + String.join("\n", texts), e);
        }
    }

    private static Profile parse(String text) {
        try {
            return Profile.parse("generated", text, "");
        } catch (ProfileFormatException e) {
            throw new AssertionError(e.getMessage() + " in\n" + text, e);
        }
    }

    /** Top-level structs and unions for a 32-bit or a 64-bit target, shown as their pahole text. */
    private static Gen<StructLayout> layouts() {
        Gen<StructLayout> gen = in -> new Generator(in).type().layout();
        return gen.describedAs(Pahole::print);
    }

    // --- what to declare: C declarations without offsets ------------------------------------------------

    private sealed interface Decl permits Plain, Bits, ZeroSized, Body {
        /** The C alignment of this member. */
        long alignment();

        /** The C size of this member. */
        long size();
    }

    /** A scalar, pointer, function pointer, inline enum or an array of one of those. */
    private record Plain(String name, String type, long elementSize, int[] dims, int aligned,
            List<String> enumerators) implements Decl {
        @Override
        public long alignment() {
            return Math.max(elementSize, aligned);
        }

        @Override
        public long size() {
            return elementSize * count(dims);
        }
    }

    /** {@code type name:width}, in a unit of {@code unitSize} bytes. */
    private record Bits(String name, String type, int unitSize, int width) implements Decl {
        @Override
        public long alignment() {
            return unitSize;
        }

        @Override
        public long size() {
            return unitSize;
        }
    }

    /** {@code type name[0]} or, when {@code flexible}, {@code type name[]}. */
    private record ZeroSized(String name, String type, int elementSize, boolean flexible) implements Decl {
        @Override
        public long alignment() {
            return elementSize;
        }

        @Override
        public long size() {
            return 0;
        }
    }

    /** An inline {@code struct {...}} or {@code union {...}}, anonymous when {@code name} is null. */
    private record Body(@Nullable String name, boolean union, List<Decl> members, int closeAligned, int aligned,
            int[] dims, int typeAligned) implements Decl {
        /** The body's own alignment, before a member attribute raises it. */
        long bodyAlignment() {
            long a = Math.max(1, Math.max(closeAligned, typeAligned));
            for (Decl d : members) {
                a = Math.max(a, d.alignment());
            }
            return a;
        }

        long bodySize() {
            return place(this, 0).size();
        }

        @Override
        public long alignment() {
            return Math.max(bodyAlignment(), aligned);
        }

        @Override
        public long size() {
            return bodySize() * count(dims);
        }

        StructLayout layout() {
            Laid laid = place(this, 0);
            StructLayout layout = new StructLayout(union, "t", laid.size(), typeAligned, false, laid.members(), 1);
            layout.alignment((int) bodyAlignment());
            return layout;
        }
    }

    // --- where it goes: the C layout rules -------------------------------------------------------------

    /** A body's members at their absolute offsets, and its size. */
    private record Laid(List<Member> members, long size) {
    }

    private static Laid place(Body body, long base) {
        List<Member> members = new ArrayList<>();
        long bits = 0;
        for (Decl decl : body.members()) {
            long offset;
            if (body.union()) {
                offset = 0;
            } else if (decl instanceof Bits b) {
                long unitBits = b.unitSize() * 8L;
                long start = bits / unitBits == (bits + b.width() - 1) / unitBits ? bits : alignUp(bits, unitBits);
                long unit = start / unitBits * b.unitSize();
                members.add(new Member(b.name(), b.type(), base + unit, b.unitSize(), new int[0],
                        (int) (start - unit * 8), b.width(), 0, List.of(), List.of()));
                bits = start + b.width();
                continue;
            } else {
                offset = alignUp(bytes(bits), decl.alignment());
            }
            members.add(member(decl, base + offset));
            bits = Math.max(bits, (offset + decl.size()) * 8);
        }
        return new Laid(members, alignUp(bytes(bits), body.bodyAlignment()));
    }

    private static Member member(Decl decl, long offset) {
        return switch (decl) {
            case Plain p -> new Member(p.name(), p.type(), offset, p.size(), p.dims(), 0, 0, p.aligned(), List.of(),
                    p.enumerators());
            case ZeroSized z -> new Member(z.name(), z.type(), offset, 0, new int[] {z.flexible() ? -1 : 0}, 0, 0, 0,
                    List.of(), List.of());
            case Body b -> new Member(b.name(), b.union() ? "union" : "struct", offset, b.size(), b.dims(), 0, 0,
                    b.aligned(), place(b, offset).members(), List.of()).closeAligned(b.closeAligned());
            case Bits b -> throw new IllegalArgumentException("bitfields are placed by bit: " + b);
        };
    }

    private static long count(int[] dims) {
        long n = 1;
        for (int d : dims) {
            n *= Math.max(d, 0);
        }
        return n;
    }

    private static long bytes(long bits) {
        return (bits + 7) / 8;
    }

    private static long alignUp(long value, long alignment) {
        return (value + alignment - 1) / alignment * alignment;
    }

    // --- drawing declarations --------------------------------------------------------------------------

    /** Draws one type; members are numbered so that every name a scope can see is unique, as C requires. */
    private static final class Generator {
        private static final String[] FUNCTION_POINTERS = {"void (*%s)(struct callback_head *)",
                "int (*%s)(struct file *, int)", "long int (*%s)(void)"};
        private static final List<Plain> BITFIELD_UNITS = List.of(unit("unsigned int", 4), unit("u8", 1),
                unit("u16", 2), unit("u64", 8), unit("bool", 1));

        private final RandomnessSource in;
        private final List<Plain> scalars;
        private final int pointerSize;
        private int names;

        Generator(RandomnessSource in) {
            this.in = in;
            this.pointerSize = chance(50) ? 4 : 8;
            this.scalars = List.of(unit("char", 1), unit("u8", 1), unit("short int", 2), unit("u16", 2),
                    unit("int", 4), unit("unsigned int", 4), unit("long long int", 8), unit("u64", 8),
                    unit("long unsigned int", pointerSize), unit("void *", pointerSize),
                    unit("struct task_struct *", pointerSize), unit("const char  *", pointerSize));
        }

        Body type() {
            boolean union = chance(25);
            List<Decl> members = members(union, 0, between(0, 7), true);
            // pahole prints a struct's actual alignment when it was forced, and no attribute after a union
            int typeAligned = 0;
            if (!union && chance(10)) {
                typeAligned = 1 << between(3, 6);
                for (Decl d : members) {
                    typeAligned = (int) Math.max(typeAligned, d.alignment());
                }
            }
            return new Body("t", union, members, 0, 0, new int[0], typeAligned);
        }

        private List<Decl> members(boolean union, int depth, int count, boolean outermost) {
            List<Decl> members = new ArrayList<>();
            long alignment = 1;
            for (int i = 0; i < count; i++) {
                int kind = between(0, 99);
                Decl decl;
                if (!union && kind < 20) {
                    Plain unit = pick(BITFIELD_UNITS);
                    decl = new Bits(name(), unit.type(), (int) unit.elementSize(),
                            between(1, (int) unit.elementSize() * 8));
                } else if (!union && outermost && kind < 25) {
                    // A zero-sized array gives a reader of pahole text no size to tell its alignment by, so
                    // one more aligned than the members before it falls back to char.
                    Plain element = pick(scalars);
                    if (element.elementSize() > alignment) {
                        element = unit("char", 1);
                    }
                    decl = new ZeroSized(name(), element.type(), (int) element.elementSize(),
                            i == count - 1 && chance(50));
                } else {
                    decl = member(depth);
                }
                members.add(decl);
                alignment = Math.max(alignment, decl.alignment());
            }
            return members;
        }

        private Decl member(int depth) {
            int kind = between(0, 99);
            int aligned = chance(8) ? 1 << between(3, 6) : 0;
            String name = name();
            if (kind < 45 || (kind >= 80 && depth >= 3)) {
                Plain scalar = pick(scalars);
                return new Plain(name, scalar.type(), scalar.elementSize(), new int[0], aligned, List.of());
            }
            if (kind < 55) {
                int[] dims = chance(20) ? new int[] {between(1, 4)} : new int[0];
                return new Plain(name, pick(List.of(FUNCTION_POINTERS)), pointerSize, dims, aligned, List.of());
            }
            if (kind < 75) {
                Plain element = pick(scalars);
                int[] dims = chance(70) ? new int[] {between(1, 5)} : new int[] {between(1, 3), between(1, 5)};
                return new Plain(name, element.type(), element.elementSize(), dims, aligned, List.of());
            }
            if (kind < 80) {
                List<String> enumerators = new ArrayList<>();
                for (int i = 0, n = between(1, 3); i < n; i++) {
                    enumerators.add(name.toUpperCase() + "_" + i + " = " + i);
                }
                return new Plain(name, "enum", 4, new int[0], aligned, enumerators);
            }
            boolean union = chance(50);
            boolean anonymous = chance(50);
            int[] dims = !anonymous && chance(15) ? new int[] {between(1, 3)} : new int[0];
            // pahole prints an anonymous body's own attribute only before the member's: alone, it reads as
            // the member's, so an anonymous body has its own only together with a member attribute
            int closeAligned = chance(10) && (!anonymous || aligned > 0) ? 16 : 0;
            return new Body(anonymous ? null : name, union, members(union, depth + 1, between(1, 4), false),
                    closeAligned, aligned, dims, 0);
        }

        private static Plain unit(String type, int size) {
            return new Plain("", type, size, new int[0], 0, List.of());
        }

        private String name() {
            return "m" + names++;
        }

        private <T> T pick(List<T> choices) {
            return choices.get(between(0, choices.size() - 1));
        }

        private boolean chance(int percent) {
            return between(0, 99) < percent;
        }

        private int between(int min, int max) {
            return integers().between(min, max).generate(in);
        }
    }
}
