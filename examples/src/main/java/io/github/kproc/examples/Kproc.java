package io.github.kproc.examples;

import io.github.kproc.KernelException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The {@code kproc} command line: {@code kproc COMMAND [OPTIONS] ARGS}. Output goes to stdout; an
 * error is one line on stderr starting with {@code kproc: }, and exit status 2. {@code --help} (or
 * {@code -h}) on the tool or any command prints its usage and exits 0.
 */
public final class Kproc {
    /**
     * The commands by name, in the order {@code kproc --help} lists them. A new command is one class
     * implementing {@link Command} and one entry here.
     */
    private static final Map<String, Command> COMMANDS = commands(
            new ProfilesCommand(),
            new LayoutCommand(),
            new ViewCommand(),
            new SimulateCommand(),
            new CrashCommand("ps"),
            new CrashCommand("runq"),
            new CrashCommand("bt"),
            new CrashCommand("task"),
            new CrashCommand("struct"),
            new CrashCommand("sym"));

    private Kproc() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command line; returns the exit status (0 done, 2 error). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> list = Arrays.asList(args);
        try {
            if (list.isEmpty()) {
                throw new UsageException("no command given; try 'kproc --help'");
            }
            String name = list.get(0);
            if (isHelp(name)) {
                out.print(usage());
                return 0;
            }
            Command command = COMMANDS.get(name);
            if (command == null) {
                throw new UsageException("unknown command '" + name + "'; try 'kproc --help'");
            }
            List<String> rest = list.subList(1, list.size());
            if (rest.stream().anyMatch(Kproc::isHelp)) {
                out.print(command.usage());
                return 0;
            }
            command.run(rest, out, err);
            err.flush();
            out.flush();
            return 0;
        } catch (UsageException | KernelException | UncheckedIOException | IllegalArgumentException | IllegalStateException e) {
            return fail(err, e.getMessage());
        }
    }

    private static int fail(PrintStream err, @Nullable String message) {
        String line = message == null ? "failed" : message.replaceAll("\\s*\\R\\s*", " ");
        err.println("kproc: " + line);
        err.flush();
        return 2;
    }

    private static boolean isHelp(String arg) {
        return arg.equals("--help") || arg.equals("-h");
    }

    private static String usage() {
        StringBuilder s = new StringBuilder("""
                usage: kproc COMMAND [OPTIONS] ARGS
                Linux 4.19 kernel structures, byte-exact: layouts and debugger views of kernel builds.

                Commands:
                """);
        COMMANDS.values().forEach(c -> s.append(String.format("  %-10s %s\n", c.name(), c.summary())));
        return s.append("\nRun 'kproc COMMAND --help' for a command's options.\n").toString();
    }

    private static Map<String, Command> commands(Command... commands) {
        Map<String, Command> map = new LinkedHashMap<>();
        for (Command c : commands) {
            map.put(c.name(), c);
        }
        return map;
    }
}
