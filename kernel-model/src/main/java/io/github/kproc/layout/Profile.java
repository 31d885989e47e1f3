package io.github.kproc.layout;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One kernel build as the model needs it: the layout of every struct and union pahole printed for it,
 * and its {@code .config}. Immutable; safe to share.
 *
 * <p>A profile may be read from several pahole dumps of one build (pahole prints the types one object
 * file sees: {@code kernel/fork.o} gives {@code task_struct}, {@code kernel/sched/core.o} gives
 * {@code struct rq}). Their types are merged by name; a type two dumps print must have the same layout
 * in both. The profile remembers which types each dump printed, in its order, so that
 * {@link Pahole#print(Profile, int)} gives each dump back.
 *
 * <p>Member paths reach through embedded structs, inline nested structs and unions (named or
 * anonymous) and array elements: {@code "se.vruntime"}, {@code "thread.cpu_context.pc"},
 * {@code "pid_links[1].pprev"}, {@code "signal"}.
 */
public final class Profile {
    private static final Pattern SEGMENT = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)((?:\\[\\d+\\])*)");
    private static final Pattern INDEX = Pattern.compile("\\[(\\d+)\\]");

    private final String name;
    private final Map<String, StructLayout> types;
    private final List<Source> sources;
    private final Kconfig config;

    /** One pahole dump a profile was read from: its name and the types it printed, in its order. */
    private record Source(String name, List<StructLayout> types) {
    }

    private Profile(String name, Map<String, StructLayout> types, List<Source> sources, Kconfig config) {
        this.name = name;
        this.types = types;
        this.sources = sources;
        this.config = config;
        for (StructLayout type : types.values()) {
            alignmentOf(type, 0);
            if (type.size() < 0) {
                long end = 0;
                for (Member m : type.members()) {
                    end = Math.max(end, m.offset() + m.size());
                }
                type.size((end + type.alignment() - 1) / type.alignment() * type.alignment());
            }
        }
    }

    /**
     * Parses a pahole dump and a {@code .config}; {@code name} labels the profile and the errors, which
     * name the dump {@code NAME/structs.pahole} and the config {@code NAME/config}.
     */
    public static Profile parse(String name, String paholeText, String configText) throws ProfileFormatException {
        return of(name, List.of(name + "/structs.pahole"), List.of(paholeText), name + "/config", configText);
    }

    /**
     * Parses several pahole dumps of one build and its {@code .config}, merging the dumps' types by name;
     * errors name dump {@code i} {@code NAME[i]} and the config {@code NAME/config}.
     *
     * @throws ProfileFormatException if a dump or the config is malformed, or two dumps give one type
     *     different layouts
     * @throws IllegalArgumentException if there is no dump
     */
    public static Profile parse(String name, List<String> paholeTexts, String configText)
            throws ProfileFormatException {
        List<String> sourceNames = new ArrayList<>();
        for (int i = 0; i < paholeTexts.size(); i++) {
            sourceNames.add(name + "[" + i + "]");
        }
        return of(name, sourceNames, paholeTexts, name + "/config", configText);
    }

    /** Loads a profile from a pahole file and a {@code .config} file. */
    public static Profile load(Path pahole, Path config) throws IOException, ProfileFormatException {
        return load(List.of(pahole), config);
    }

    /**
     * Loads a profile from several pahole files of one build, merged by type name as
     * {@link #parse(String, List, String)} merges them, and a {@code .config} file; the profile is
     * named after the first file's folder.
     *
     * @throws IllegalArgumentException if there is no pahole file
     */
    public static Profile load(List<Path> pahole, Path config) throws IOException, ProfileFormatException {
        java.util.Objects.requireNonNull(pahole, "pahole");
        java.util.Objects.requireNonNull(config, "config");
        if (pahole.isEmpty()) {
            throw new IllegalArgumentException("pahole: no pahole file");
        }
        for (Path file : pahole) {
            java.util.Objects.requireNonNull(file, "pahole: a null path");
        }
        Path first = pahole.getFirst().toAbsolutePath();
        Path folder = first.getParent() == null ? null : first.getParent().getFileName();
        String name = folder == null ? pahole.getFirst().toString() : folder.toString();
        List<String> sourceNames = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (Path file : pahole) {
            sourceNames.add(file.toString());
            texts.add(readString(file, MAX_PAHOLE_BYTES));
        }
        return of(name, sourceNames, texts, config.toString(), readString(config, MAX_CONFIG_BYTES));
    }

    /**
     * Loads a profile from resources of {@code owner}'s module (used by backends for bundled profiles):
     * one or more pahole dumps, merged as {@link #parse(String, List, String)} merges them, and a
     * {@code .config}. Errors name the resources.
     */
    public static Profile fromResources(String name, Class<?> owner, List<String> paholeResources,
            String configResource) throws IOException, ProfileFormatException {
        List<String> texts = new ArrayList<>();
        for (String pahole : paholeResources) {
            texts.add(resource(owner, pahole));
        }
        return of(name, paholeResources, texts, configResource, resource(owner, configResource));
    }

    /** Loads a profile from two resources of {@code owner}'s module: one pahole dump and a {@code .config}. */
    public static Profile fromResources(String name, Class<?> owner, String paholeResource, String configResource)
            throws IOException, ProfileFormatException {
        return fromResources(name, owner, List.of(paholeResource), configResource);
    }

    /**
     * Parses the dumps in order; a type a later dump prints again keeps the layout of the first, which
     * it must equal.
     */
    private static Profile of(String name, List<String> sourceNames, List<String> paholeTexts, String configSource,
            String configText) throws ProfileFormatException {
        if (paholeTexts.isEmpty()) {
            throw new IllegalArgumentException("a profile needs at least one pahole dump");
        }
        Map<String, StructLayout> types = new LinkedHashMap<>();
        Map<String, String> firstSource = new HashMap<>();
        List<Source> sources = new ArrayList<>();
        for (int i = 0; i < paholeTexts.size(); i++) {
            String source = sourceNames.get(i);
            List<StructLayout> printed = new ArrayList<>();
            for (StructLayout type : PaholeParser.parse(source, paholeTexts.get(i)).values()) {
                StructLayout first = types.putIfAbsent(type.name(), type);
                if (first == null) {
                    firstSource.put(type.name(), source);
                    printed.add(type);
                    continue;
                }
                String difference = first.differenceFrom(type);
                if (difference != null) {
                    throw new ProfileFormatException(source, type.line(), type.cName() + " differs from "
                            + first.cName() + " in " + firstSource.get(type.name()) + " at line " + first.line()
                            + ": " + difference);
                }
                printed.add(first);
            }
            sources.add(new Source(source, List.copyOf(printed)));
        }
        checkNoSelfContainment(types, firstSource);
        Kconfig config = Kconfig.parse(configSource, configText);
        return new Profile(name, Collections.unmodifiableMap(types), List.copyOf(sources), config);
    }

    /**
     * Rejects a type that contains itself by value, directly or through other embedded types: no
     * compiler lays one out, and sizes and alignments computed from it would never end.
     */
    private static void checkNoSelfContainment(Map<String, StructLayout> types, Map<String, String> firstSource)
            throws ProfileFormatException {
        Map<String, Integer> state = new HashMap<>(); // 1 on the path being walked, 2 done
        for (StructLayout type : types.values()) {
            List<String> path = new ArrayList<>();
            String cycle = walk(type.name(), types, state, path);
            if (cycle != null) {
                StructLayout t = types.get(cycle);
                String reason = path.size() > MAX_NESTING ? "embeds types more than " + MAX_NESTING + " deep"
                        : "contains itself by value: " + String.join(" -> ", path);
                throw new ProfileFormatException(firstSource.getOrDefault(cycle, "?"), t.line(), t.cName() + " "
                        + reason);
            }
        }
    }

    /** How deep types may embed each other (the kernel's deepest is about ten). */
    private static final int MAX_NESTING = 256;

    /** Depth-first walk of embedded types; the type on a cycle (or too deep a path), or null. */
    private static @org.jspecify.annotations.Nullable String walk(String name, Map<String, StructLayout> types,
            Map<String, Integer> state, List<String> path) {
        StructLayout type = types.get(name);
        Integer s = state.get(name);
        if (type == null || (s != null && s == 2)) {
            return null;
        }
        path.add(type.cName());
        if (s != null || path.size() > MAX_NESTING) {
            return name;
        }
        state.put(name, 1);
        java.util.ArrayDeque<List<Member>> pending = new java.util.ArrayDeque<>();
        pending.push(type.members());
        while (!pending.isEmpty()) {
            for (Member m : pending.pop()) {
                if (m.isInline()) {
                    pending.push(m.members());
                    continue;
                }
                String embedded = m.embeddedTypeName();
                if (embedded != null) {
                    String cycle = walk(embedded, types, state, path);
                    if (cycle != null) {
                        return cycle;
                    }
                }
            }
        }
        state.put(name, 2);
        path.removeLast();
        return null;
    }

    /**
     * The largest pahole dump {@link #load} reads: 64 MiB, some hundred times the bundled dumps of
     * {@code fork.o} and {@code sched/core.o}; a dump of a whole vmlinux is larger and is better made
     * of the objects wanted ({@code pahole -C NAME} or one {@code .o}).
     */
    public static final long MAX_PAHOLE_BYTES = 64L << 20;
    /** The largest {@code .config} {@link #load} reads: 4 MiB (a real one is under 200 KiB). */
    public static final long MAX_CONFIG_BYTES = 4L << 20;

    /**
     * Reads a text input whole, after checking that it is a regular file (a FIFO would block, a device
     * never end) of at most {@code limit} bytes; at most {@code limit + 1} bytes are ever read, even
     * if the file grows meanwhile.
     */
    private static String readString(Path file, long limit) throws IOException, ProfileFormatException {
        java.nio.file.attribute.BasicFileAttributes attributes = Files.readAttributes(file,
                java.nio.file.attribute.BasicFileAttributes.class);
        if (!attributes.isRegularFile()) {
            throw new java.nio.file.FileSystemException(file.toString(), null,
                    attributes.isDirectory() ? "is a directory" : "not a regular file (a FIFO, device or socket)");
        }
        String tooLarge = "larger than the " + (limit >> 20) + " MiB read of such a file";
        if (attributes.size() > limit) {
            throw new ProfileFormatException(file.toString(), 1, attributes.size() + " bytes, " + tooLarge);
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes((int) limit + 1);
        }
        if (bytes.length > limit) {
            throw new ProfileFormatException(file.toString(), 1, tooLarge);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new ProfileFormatException(file.toString(), 1, "not UTF-8 text");
        }
    }

    private static String resource(Class<?> owner, String path) throws IOException {
        try (InputStream in = owner.getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("missing resource " + path + " of " + owner.getName());
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** The profile's name, such as {@code "linux-4.19-arm32-vexpress"}. */
    public String name() {
        return name;
    }

    /** The kernel configuration of the build. */
    public Kconfig config() {
        return config;
    }

    /**
     * Every struct and union, in the order pahole printed them: those of the first dump, then those
     * each later dump adds.
     */
    public Collection<StructLayout> types() {
        return types.values();
    }

    /** The names of the pahole dumps the profile was read from, in the order they were given. */
    public List<String> sources() {
        return sources.stream().map(Source::name).toList();
    }

    /** The types dump {@code source} printed, in its order (as {@link #sources()} counts). */
    List<StructLayout> types(int source) {
        return sources.get(source).types();
    }

    /** The struct or union with this tag, if the build has it. */
    public Optional<StructLayout> find(String typeName) {
        return Optional.ofNullable(types.get(stripTag(typeName)));
    }

    /**
     * The struct or union with this tag ({@code "task_struct"} or {@code "struct task_struct"}).
     *
     * @throws NoSuchElementException if the build has no such type
     */
    public StructLayout struct(String typeName) {
        StructLayout layout = types.get(stripTag(typeName));
        if (layout == null) {
            throw new NoSuchElementException("no struct or union " + typeName + " in profile " + name);
        }
        return layout;
    }

    /** {@code sizeof(struct typeName)}. */
    public long sizeOf(String typeName) {
        return struct(typeName).size();
    }

    /** {@code offsetof(struct typeName, path)}. */
    public long offsetOf(String typeName, String path) {
        return field(typeName, path).offset();
    }

    /** True if {@code path} resolves in {@code typeName}. */
    public boolean has(String typeName, String path) {
        try {
            field(typeName, path);
            return true;
        } catch (NoSuchElementException e) {
            return false;
        }
    }

    /**
     * Resolves a member path inside a struct: where the member is, relative to the struct's start.
     *
     * @throws NoSuchElementException if the type or any segment of the path does not exist, or an index is
     *     out of bounds
     */
    public Field field(String typeName, String path) {
        StructLayout layout = struct(typeName);
        List<Member> scope = layout.members();
        long base = 0;      // added to offsets read in scope (non-zero after entering a named struct)
        Member member = null;
        long offset = 0;
        String[] segments = path.split("\\.", -1);
        for (int s = 0; s < segments.length; s++) {
            Matcher m = SEGMENT.matcher(segments[s]);
            if (!m.matches()) {
                throw new NoSuchElementException("bad member path '" + path + "'");
            }
            if (member != null) {
                if (!member.members().isEmpty()) {
                    scope = member.members();
                    base = offset - member.offset();
                } else {
                    StructLayout inner = typeOf(member).orElse(null);
                    if (inner == null) {
                        throw new NoSuchElementException(path + ": '" + member.name() + "' of type " + member.type()
                                + " has no members in profile " + name);
                    }
                    scope = inner.members();
                    base = offset;
                }
            }
            member = StructLayout.find(scope, m.group(1));
            if (member == null) {
                throw new NoSuchElementException(
                        "no member '" + m.group(1) + "' on the path " + path + " in " + layout.cName());
            }
            offset = base + member.offset();
            Matcher index = INDEX.matcher(m.group(2));
            int[] dims = member.dims();
            int d = 0;
            long stride = member.size();
            while (index.find()) {
                if (d >= dims.length) {
                    throw new NoSuchElementException(path + ": too many indices for " + member.name());
                }
                String digits = index.group(1);
                long i = digits.length() > 10 ? Long.MAX_VALUE : Long.parseLong(digits);
                if (i >= dims[d]) {
                    throw new NoSuchElementException(path + ": index " + digits + " out of bounds " + dims[d]);
                }
                stride /= dims[d];
                offset += i * stride;
                d++;
            }
            if (d > 0) {
                if (d != dims.length) {
                    throw new NoSuchElementException(path + ": partial indexing of a multi-dimensional array");
                }
                // one element: same place in its scope, the element's size
                member = new Member(member.name(), member.type(), member.offset(), stride, new int[0], 0, 0, 0,
                        member.members(), member.enumerators());
            }
        }
        return new Field(path, member.type(), offset, member.size(), member.bitOffset(), member.bitSize());
    }

    /**
     * The named struct or union a member embeds, if the profile has it: {@code struct list_head}
     * directly, and a typedef such as {@code wait_queue_head_t} by the kernel's naming convention
     * ({@code typedef struct wait_queue_head wait_queue_head_t}).
     */
    public Optional<StructLayout> typeOf(Member member) {
        String embedded = member.embeddedTypeName();
        if (embedded != null) {
            return Optional.ofNullable(types.get(embedded));
        }
        String t = member.type();
        if (member.isInline() || member.isPointer() || member.isFunctionPointer() || !t.endsWith("_t")
                || t.contains(" ")) {
            return Optional.empty();
        }
        return Optional.ofNullable(types.get(t.substring(0, t.length() - 2)));
    }

    private int alignmentOf(StructLayout type, int depth) {
        if (type.alignment() > 0) {
            return type.alignment();
        }
        int align;
        if (type.alignedAttribute() > 0) {
            align = type.alignedAttribute();
        } else if (type.isPacked()) {
            align = 1;
        } else {
            align = 1;
            for (Member m : type.members()) {
                align = Math.max(align, alignmentOf(m, depth));
            }
            align = dividing(align, type.size());
        }
        type.alignment(align);
        return align;
    }

    /**
     * A member's alignment: its own {@code __aligned__} attribute or its type's alignment, whichever is
     * larger. A type pahole names only by a typedef ({@code sigset_t}, {@code seqlock_t}) has no layout
     * here, so its alignment is guessed from its size; since C makes a type's size a multiple of its
     * alignment and puts every member of a struct that is not packed at a multiple of its alignment,
     * the guess (and any alignment found) is cut down to what the member's size and offset allow.
     */
    private int alignmentOf(Member m, int depth) {
        int align;
        if (!m.members().isEmpty()) {
            align = 1;
            for (Member inner : m.members()) {
                align = Math.max(align, alignmentOf(inner, depth));
            }
        } else {
            StructLayout inner = typeOf(m).orElse(null);
            align = inner != null && depth < 64 ? alignmentOf(inner, depth + 1) : naturalAlignment(m.elementSize());
        }
        align = dividing(dividing(align, m.elementSize()), m.offset());
        return Math.max(align, Math.max(m.alignedAttribute(), m.closeAlignedAttribute()));
    }

    /** The largest power of two no larger than {@code align} that divides {@code value}; any, for 0. */
    private static int dividing(int align, long value) {
        return value <= 0 ? align : (int) Math.min(align, Long.lowestOneBit(value));
    }

    private static int naturalAlignment(long size) {
        if (size <= 0) {
            return 1;
        }
        long a = Long.lowestOneBit(size);
        return (int) Math.min(a, 8);
    }

    private static String stripTag(String typeName) {
        String t = typeName.strip();
        if (t.startsWith("struct ")) {
            return t.substring(7).strip();
        }
        if (t.startsWith("union ")) {
            return t.substring(6).strip();
        }
        return t;
    }

    @Override
    public String toString() {
        return name;
    }
}
