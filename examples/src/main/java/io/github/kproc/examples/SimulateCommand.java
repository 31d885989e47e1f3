package io.github.kproc.examples;

import io.github.kproc.Errno;
import io.github.kproc.arch.Platform;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Tracer;
import io.github.kproc.view.TaskStruct;
import io.github.kproc.view.Trace32;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * {@code kproc simulate}: boots a kernel, runs a seeded mix of forks, exits, reaps, wakeups and ticks,
 * and prints the ftrace log on stdout and a summary on stderr; with {@code --svg FILE} it also draws the
 * run as a per-CPU timeline ({@link Timeline}, {@link TimelineSvg}).
 */
final class SimulateCommand implements Command {
    private static final Set<String> OPTIONS = Set.of("profile", "cpus", "clusters", "forks", "seed", "show-task",
            "memory", "svg", "then", "vmcore");

    @Override
    public String name() {
        return "simulate";
    }

    @Override
    public String summary() {
        return "boot a kernel, run a seeded fork/exit/schedule workload, print the ftrace log";
    }

    @Override
    public String usage() {
        return """
                usage: kproc simulate --profile NAME [--cpus N] [--clusters A,B,..] [--forks N] [--seed S] [--memory MiB]
                                      [--show-task PID] [--svg FILE] [--then 'CMD[; CMD...]'] [--vmcore FILE]
                Boots the build on N CPUs (default 4) and runs a seeded mix of fork, vfork, clone (threads
                and processes), kernel_thread, exit and wait, with sleeps, wakeups, timer ticks, context
                switches and reschedule IPIs, until N forks (default 50) have been tried. The ftrace log
                (with its header) goes to stdout, a summary to stderr. The same seed gives the same bytes.

                  --profile NAME    a bundled profile (see 'kproc profiles')
                  --cpus N          CPUs to boot, 1 .. CONFIG_NR_CPUS
                  --clusters A,B,.. CPUs per cluster, adding up to N (default: one cluster); the
                                    scheduling domains follow the build (arm64: MC per cluster under
                                    DIE; ARM32 vexpress, without CONFIG_SCHED_MC: DIE alone)
                  --forks N         forks to try
                  --seed S          the workload's seed (default 1)
                  --memory MiB      RAM of the machine (default 256)
                  --show-task PID   at the end, print the TRACE32 view of that task's thread_info
                                    (and, on arm64, its thread.cpu_context)
                  --svg FILE        also draw the run as an SVG picture in FILE: a lane per CPU with
                                    the task that ran when, forks, wakeups, migrations and IPIs,
                                    and each CPU's current task at the end (same seed, same bytes)
                  --then CMDS       at the end, run crash's commands on the live model (';' between
                                    them): ps, runq, bt -v, task PID, struct TYPE ADDR, sym NAME|ADDR;
                                    stdout then has their output instead of the ftrace log
                  --vmcore FILE     at the end, write the model's memory as an ELF core (PT_LOAD by
                                    physical address, NT_PRSTATUS per CPU, VMCOREINFO with the
                                    symbols) that 'kproc ps --vmcore FILE' and crash's peers read
                """;
    }

    @Override
    public void run(List<String> args, PrintStream out, PrintStream err) throws UsageException {
        Options options = Options.parse(name(), args, OPTIONS);
        options.positionals();
        Build build = Build.from(name(), options);
        Platform platform = build.platform();
        if (platform == null) {
            throw new UsageException("simulate: no architecture backend binds this profile");
        }
        int cpus = (int) count(options, "cpus", 4, 1, platform.nrCpus());
        int[] clusters = clusters(options.get("clusters"), cpus);
        int forks = (int) count(options, "forks", 50, 0, 1_000_000);
        long memory = count(options, "memory", 256, 16, 1 << 20) << 20;
        String seedText = options.get("seed");
        long seed = seedText == null ? 1 : Options.number("--seed", seedText);
        String show = options.get("show-task");
        int showPid = show == null ? -1 : (int) count(options, "show-task", 0, 0, Integer.MAX_VALUE);
        String svg = options.get("svg");
        String then = options.get("then");
        List<List<String>> commands = then == null ? List.of() : commands(then);
        String vmcore = options.get("vmcore");
        if (vmcore != null && Files.isDirectory(Path.of(vmcore))) {
            throw new UsageException("simulate: cannot write --vmcore " + vmcore + ": is a directory");
        }
        PrintStream log = then == null ? out : new PrintStream(java.io.OutputStream.nullOutputStream());
        @Nullable Timeline timeline = svg == null ? null : new Timeline(cpus);
        @Nullable OutputStream svgOut = svg == null ? null : openSvg(svg);
        Tracer tracer = Tracer.events(timeline == null ? log::println : line -> {
            log.println(line);
            timeline.accept(line);
        });
        try {
            platform.memoryMap(memory); // RAM the build cannot map fails here, before anything is printed
        } catch (IllegalArgumentException e) {
            throw new UsageException("simulate: " + e.getMessage());
        }
        log.println(tracer.header());
        try (svgOut; Kernel kernel = Kernel.builder(platform).cpus(cpus).clusters(clusters).memory(memory).seed(seed)
                .tracer(tracer).boot()) {
            Simulation simulation = new Simulation(kernel, seed);
            simulation.run(forks);
            kernel.tracer(null);
            if (timeline != null && svgOut != null) {
                timeline.finish(cpu -> {
                    TaskStruct task = kernel.cpu(cpu).current();
                    return new Timeline.Task(task.comm(), task.pid());
                });
                svgOut.write(TimelineSvg.render(timeline, title(build, cpus, forks, seed, memory))
                        .getBytes(StandardCharsets.UTF_8));
            }
            if (showPid >= 0) {
                showTask(kernel, platform, showPid, out);
            }
            if (vmcore != null) {
                try {
                    io.github.kproc.image.VmcoreWriter.write(kernel, Path.of(vmcore));
                } catch (IOException e) {
                    throw new UncheckedIOException("simulate: cannot write --vmcore " + vmcore + ": " + reason(e), e);
                }
            }
            if (!commands.isEmpty()) {
                var symbols = io.github.kproc.image.SymbolTable.of(kernel.symbols());
                for (List<String> command : commands) {
                    out.print(CrashCommand.execute(kernel, symbols, command));
                }
            }
            summary(kernel, simulation, err);
        } catch (IllegalArgumentException e) {
            throw new UsageException("simulate: " + e.getMessage());
        } catch (IOException e) {
            throw new UncheckedIOException("simulate: cannot write --svg " + svg + ": " + reason(e), e);
        }
    }

    /** {@code 'ps; task 1'}: the commands, each as its words, checked before the run. */
    private static List<List<String>> commands(String text) throws UsageException {
        List<List<String>> all = new java.util.ArrayList<>();
        for (String part : text.split(";")) {
            List<String> words = java.util.Arrays.stream(part.trim().split("\\s+")).filter(w -> !w.isEmpty()).toList();
            if (words.isEmpty()) {
                throw new UsageException("simulate: --then has an empty command");
            }
            if (!CrashCommand.NAMES.contains(words.get(0))) {
                throw new UsageException("simulate: --then: unknown command '" + words.get(0) + "' (one of "
                        + String.join(", ", CrashCommand.NAMES) + ")");
            }
            all.add(words);
        }
        return all;
    }

    /** The picture's heading: the options that decide the run, in a fixed order (not the file's name). */
    private static String title(Build build, int cpus, int forks, long seed, long memory) {
        return "kproc simulate --profile " + build.profile().name() + " --cpus " + cpus + " --forks " + forks
                + " --seed " + Long.toUnsignedString(seed) + " --memory " + (memory >> 20);
    }

    /** Opens (creates or truncates) the picture's file before the run, so that a bad path fails first. */
    private static OutputStream openSvg(String file) throws UsageException {
        try {
            Path path = Path.of(file);
            if (Files.isDirectory(path)) {
                throw new UsageException("simulate: cannot write --svg " + file + ": is a directory");
            }
            return Files.newOutputStream(path);
        } catch (InvalidPathException e) {
            throw new UsageException("simulate: cannot write --svg " + file + ": " + e.getReason());
        } catch (IOException e) {
            throw new UsageException("simulate: cannot write --svg " + file + ": " + reason(e));
        }
    }

    private static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return String.valueOf(e.getMessage());
    }

    /** {@code --clusters A,B,..}: each at least 1, adding up to the CPUs; one cluster of them all if absent. */
    private static int[] clusters(@Nullable String text, int cpus) throws UsageException {
        if (text == null) {
            return new int[] {cpus};
        }
        String[] parts = text.split(",", -1);
        int[] sizes = new int[parts.length];
        long sum = 0;
        for (int i = 0; i < parts.length; i++) {
            long n = Options.number("--clusters", parts[i].strip());
            if (n < 1 || n > cpus) {
                throw new UsageException("simulate: --clusters sizes must be 1.." + cpus + ": " + text);
            }
            sizes[i] = (int) n;
            sum += n;
        }
        if (sum != cpus) {
            throw new UsageException("simulate: --clusters " + text + " adds up to " + sum + " CPUs, not --cpus " + cpus);
        }
        return sizes;
    }

    private static long count(Options options, String name, long fallback, long min, long max) throws UsageException {
        String text = options.get(name);
        if (text == null) {
            return fallback;
        }
        long value = Options.number("--" + name, text);
        if (value < min || value > max) {
            throw new UsageException("simulate: --" + name + " must be " + min + ".." + max + ": " + text);
        }
        return value;
    }

    private static void showTask(Kernel kernel, Platform platform, int pid, PrintStream out) throws UsageException {
        Optional<TaskStruct> task = pid == 0 ? Optional.of(kernel.task(kernel.initTask()))
                : pid > 0 ? kernel.task(Pid.of(pid)) : Optional.empty();
        if (task.isEmpty()) {
            throw new UsageException("simulate: no live task with pid " + pid + " at the end of the run");
        }
        TaskStruct view = task.get();
        out.println();
        out.print(Trace32.view(platform, kernel.addressSpace(), "struct thread_info", view.threadInfo().address()));
        if (platform.threadInfoInTask()) {
            out.println();
            out.print(Trace32.view(platform, kernel.addressSpace(), "struct " + platform.cpuContextStruct(),
                    view.cpuContext().address()));
        }
    }

    private static void summary(Kernel kernel, Simulation simulation, PrintStream err) {
        int processes = 0;
        int threads = 0;
        int kthreads = 0;
        int zombies = 0;
        for (TaskStruct task : kernel.tasks()) {
            if (task.pid() == 0) {
                continue;
            }
            if (task.exitState() != 0) {
                zombies++;
            } else if ((task.flags() & 0x00200000) != 0) {
                kthreads++;
            } else if (task.isGroupLeader()) {
                processes++;
            } else {
                threads++;
            }
        }
        long switches = 0;
        long ipis = 0;
        for (int cpu = 0; cpu < kernel.cpus(); cpu++) {
            switches += kernel.cpu(cpu).nrSwitches();
            ipis += kernel.cpu(cpu).reschedIpis();
        }
        err.printf("live tasks: %d (%d processes, %d threads, %d kernel threads), zombies: %d%n",
                processes + threads + kthreads, processes, threads, kthreads, zombies);
        err.printf("forks: %d tried, %d succeeded; total_forks %d%n", simulation.attempts(),
                simulation.attempts() - failed(simulation.failures()), kernel.totalForks());
        StringBuilder s = new StringBuilder("failures by errno:");
        if (simulation.failures().isEmpty()) {
            s.append(" none");
        }
        for (Map.Entry<Errno, Integer> e : simulation.failures().entrySet()) {
            s.append(' ').append(e.getKey()).append('=').append(e.getValue());
        }
        err.println(s);
        err.printf("context switches: %d, reschedule IPIs: %d, ticks: %d%n", switches, ipis, simulation.ticks());
    }

    private static int failed(Map<Errno, Integer> failures) {
        int n = 0;
        for (int v : failures.values()) {
            n += v;
        }
        return n;
    }
}
