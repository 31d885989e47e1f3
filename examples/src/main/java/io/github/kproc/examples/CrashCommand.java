package io.github.kproc.examples;

import io.github.kproc.arch.Platform;
import io.github.kproc.image.Crash;
import io.github.kproc.image.KernelImage;
import io.github.kproc.image.SymbolTable;
import io.github.kproc.mem.MemoryFaultException;
import io.github.kproc.view.KernelReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.OptionalLong;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * crash's commands on a dump: {@code kproc ps|runq|bt|task|struct|sym --vmcore FILE [--system-map
 * FILE | --vmlinux FILE] (--profile NAME | --pahole FILE --config FILE)}. The same commands run on
 * the live model with {@code kproc simulate ... --then 'ps'} ({@link #execute}).
 */
final class CrashCommand implements Command {
    private static final Set<String> OPTIONS = union(Build.OPTIONS, Set.of("vmcore", "system-map", "vmlinux", "phys-offset"));
    /** The commands and what each does. */
    static final List<String> NAMES = List.of("ps", "runq", "bt", "task", "struct", "sym");

    private final String name;

    CrashCommand(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String summary() {
        return switch (name) {
            case "ps" -> "crash's ps of a vmcore: PID PPID CPU TASK ST %MEM VSZ RSS COMM";
            case "runq" -> "crash's runq of a vmcore: each CPU's current task, RT and CFS queues";
            case "bt" -> "crash's bt -v stack checks of every task of a vmcore, with saved and live registers";
            case "task" -> "a task of a vmcore: its task_struct and thread_info in TRACE32's view";
            case "struct" -> "any struct of the build at an address of a vmcore, in TRACE32's view";
            default -> "a symbol's address, or the symbol an address is in";
        };
    }

    private String arguments() {
        return switch (name) {
            case "bt" -> " [-v]";
            case "task" -> " PID";
            case "struct" -> " TYPE ADDR";
            case "sym" -> " NAME|ADDR";
            default -> "";
        };
    }

    @Override
    public String usage() {
        return "usage: kproc " + name + " --vmcore FILE [--system-map FILE | --vmlinux FILE] [--phys-offset ADDR]\n"
                + "       (--profile NAME | --pahole FILE --config FILE)" + arguments() + "\n"
                + summary() + ".\n" + """

                  --vmcore FILE       an ELF core (QEMU's dump-guest-memory, kdump's /proc/vmcore, or one
                                      'kproc simulate --vmcore' wrote), mapped, never read whole;
                                      decompress a gzip'd one first (gzip -dc)
                  --system-map FILE   the build's System.map (the symbols: init_task, runqueues, ...)
                  --vmlinux FILE      or the build's vmlinux (its .symtab; no DWARF needed); without
                                      either, the dump's VMCOREINFO symbols are used
                  --phys-offset ADDR  PHYS_OFFSET (the physical address of the start of RAM); without it,
                                      from the VMCOREINFO, else the lowest PT_LOAD at which init_task
                                      checks out (said on stderr)
                """ + Build.OPTIONS_USAGE + """

                The tasks are found by walking init_task.tasks and each thread group, the runqueues at
                &runqueues + __per_cpu_offset[cpu]. A broken list, a pointer to nowhere or a malformed
                dump is a one-line error naming the address and the structure.
                """;
    }

    @Override
    public void run(List<String> args, PrintStream out, PrintStream err) throws UsageException {
        List<String> rest = new ArrayList<>(args);
        if (name.equals("bt")) {
            rest.remove("-v");
        }
        Options options = Options.parse(name, rest, OPTIONS);
        List<String> positionals = switch (name) {
            case "task" -> options.positionals("PID");
            case "struct" -> options.positionals("TYPE", "ADDR");
            case "sym" -> options.positionals("NAME");
            default -> options.positionals();
        };
        Build build = Build.from(name, options);
        Platform platform = build.platform();
        if (platform == null) {
            throw new UsageException(name + ": no architecture backend binds this profile");
        }
        Path vmcore = Path.of(options.require("vmcore"));
        if (Files.isDirectory(vmcore)) {
            throw new UsageException("cannot read " + vmcore + ": is a directory");
        }
        String map = options.get("system-map");
        String vmlinux = options.get("vmlinux");
        if (map != null && vmlinux != null) {
            throw new UsageException(name + ": give --system-map or --vmlinux, not both");
        }
        String phys = options.get("phys-offset");
        OptionalLong physOffset = phys == null ? OptionalLong.empty() : OptionalLong.of(Options.number("--phys-offset", phys));
        try {
            SymbolTable symbols = map != null ? SymbolTable.readSystemMap(Path.of(map))
                    : vmlinux != null ? SymbolTable.readVmlinux(Path.of(vmlinux)) : null;
            try (KernelImage image = KernelImage.open(platform, vmcore, symbols, physOffset)) {
                err.println(name + ": " + image.physOffsetSource());
                List<String> words = new ArrayList<>();
                words.add(name);
                words.addAll(positionals);
                out.print(execute(image, image.symbols(), words));
            }
        } catch (IOException e) {
            throw UsageException.cannotRead(e);
        }
    }

    /**
     * Runs one crash command ({@code ps}, {@code runq}, {@code bt [-v]}, {@code task PID},
     * {@code struct TYPE ADDR}, {@code sym NAME|ADDR}) over a reader and returns what it prints.
     */
    static String execute(KernelReader reader, @Nullable SymbolTable symbols, List<String> words) throws UsageException {
        if (words.isEmpty()) {
            throw new UsageException("no command given");
        }
        Crash crash = new Crash(reader, symbols);
        String command = words.get(0);
        List<String> args = new ArrayList<>(words.subList(1, words.size()));
        try {
            return switch (command) {
                case "ps" -> {
                    none(command, args);
                    yield crash.formatPs(crash.ps());
                }
                case "runq" -> {
                    none(command, args);
                    yield crash.formatRunq(crash.runq());
                }
                case "bt" -> {
                    args.remove("-v");
                    none(command, args);
                    yield crash.formatBt(crash.bt());
                }
                case "task" -> {
                    count(command, args, 1, "PID");
                    yield crash.task((int) Options.number("PID", args.get(0)));
                }
                case "struct" -> {
                    if (args.size() == 3 && (args.get(0).equals("struct") || args.get(0).equals("union"))) {
                        args.set(1, args.get(0) + " " + args.get(1));
                        args.remove(0);
                    }
                    count(command, args, 2, "TYPE ADDR");
                    yield crash.struct(args.get(0), Options.number("ADDR", args.get(1)));
                }
                case "sym" -> {
                    count(command, args, 1, "NAME");
                    yield sym(reader, symbols, args.get(0));
                }
                default -> throw new UsageException("unknown crash command '" + command + "' (one of "
                        + String.join(", ", NAMES) + ")");
            };
        } catch (NoSuchElementException e) {
            throw new UsageException(command + ": " + e.getMessage());
        } catch (MemoryFaultException e) {
            throw new UsageException(command + ": " + e.getMessage());
        }
    }

    private static String sym(KernelReader reader, @Nullable SymbolTable symbols, String what) throws UsageException {
        if (Character.isDigit(what.charAt(0))) {
            long address = Options.number("ADDR", what);
            String found = symbols == null ? null : symbols.symbolize(address).orElse(null);
            if (found == null) {
                throw new UsageException(String.format("sym: no symbol near 0x%x", address));
            }
            return String.format("%x %s%n", address, found);
        }
        return String.format("%x %s%n", reader.symbol(what), what);
    }

    private static void none(String command, List<String> args) throws UsageException {
        if (!args.isEmpty()) {
            throw new UsageException(command + ": unexpected argument '" + args.get(0) + "'");
        }
    }

    private static void count(String command, List<String> args, int n, String names) throws UsageException {
        if (args.size() != n) {
            throw new UsageException(command + ": expected " + names);
        }
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
