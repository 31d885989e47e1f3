package io.github.kproc.examples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A command's arguments: {@code --name value} or {@code --name=value} options, each at most once and
 * each taking a value, and the positional arguments in order ({@code --} ends the options).
 */
final class Options {
    private final String command;
    private final Map<String, String> values;
    private final List<String> positionals;

    private Options(String command, Map<String, String> values, List<String> positionals) {
        this.command = command;
        this.values = values;
        this.positionals = positionals;
    }

    /** Parses {@code args} of {@code command}, which accepts the options named in {@code known} (without dashes). */
    static Options parse(String command, List<String> args, Set<String> known) throws UsageException {
        Map<String, String> values = new LinkedHashMap<>();
        List<String> positionals = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (arg.equals("--")) {
                positionals.addAll(args.subList(i + 1, args.size()));
                break;
            }
            if (!arg.startsWith("-") || arg.equals("-")) {
                positionals.add(arg);
                continue;
            }
            int eq = arg.indexOf('=');
            String name = arg.startsWith("--") ? arg.substring(2, eq < 0 ? arg.length() : eq) : "";
            if (!known.contains(name)) {
                throw new UsageException(command + ": unknown option " + (eq < 0 ? arg : arg.substring(0, eq)));
            }
            String value;
            if (eq >= 0) {
                value = arg.substring(eq + 1);
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            } else {
                throw new UsageException(command + ": option --" + name + " needs a value");
            }
            if (values.putIfAbsent(name, value) != null) {
                throw new UsageException(command + ": option --" + name + " given twice");
            }
        }
        return new Options(command, values, positionals);
    }

    /** The value of an option, or null if it was not given. */
    @Nullable String get(String name) {
        return values.get(name);
    }

    /** The value of an option the command cannot do without. */
    String require(String name) throws UsageException {
        String value = values.get(name);
        if (value == null) {
            throw new UsageException(command + ": missing option --" + name);
        }
        return value;
    }

    /**
     * The positional arguments, with {@code struct} or {@code union} joined to the name that follows
     * (so {@code struct task_struct} may come as one argument or two).
     */
    private List<String> joined() {
        List<String> joined = new ArrayList<>();
        for (int i = 0; i < positionals.size(); i++) {
            String arg = positionals.get(i);
            if ((arg.equals("struct") || arg.equals("union")) && i + 1 < positionals.size()) {
                joined.add(arg + " " + positionals.get(++i));
            } else {
                joined.add(arg);
            }
        }
        return joined;
    }

    /** The positional arguments, checked to be exactly those {@code names} describe. */
    List<String> positionals(String... names) throws UsageException {
        List<String> args = joined();
        if (args.size() < names.length) {
            throw new UsageException(command + ": missing " + names[args.size()]);
        }
        if (args.size() > names.length) {
            throw new UsageException(command + ": unexpected argument '" + args.get(names.length) + "'");
        }
        return args;
    }

    /**
     * An unsigned 64-bit number, decimal or {@code 0x}-hex (a kernel address).
     *
     * @param what names the number in the error
     */
    static long number(String what, String text) throws UsageException {
        try {
            if (text.startsWith("0x") || text.startsWith("0X")) {
                return Long.parseUnsignedLong(text.substring(2), 16);
            }
            return Long.parseUnsignedLong(text);
        } catch (NumberFormatException e) {
            throw new UsageException("bad number for " + what + ": '" + text
                    + "' (expected decimal or 0x-hex, at most 64 bits)");
        }
    }
}
