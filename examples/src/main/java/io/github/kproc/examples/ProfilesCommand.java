package io.github.kproc.examples;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import java.io.PrintStream;
import java.util.List;
import java.util.Set;

/** {@code kproc profiles}: the bundled profiles, one a line, with the facts that tell builds apart. */
final class ProfilesCommand implements Command {
    @Override
    public String name() {
        return "profiles";
    }

    @Override
    public String summary() {
        return "list the bundled kernel build profiles";
    }

    @Override
    public String usage() {
        return """
                usage: kproc profiles
                Lists the profiles the architecture backends bundle, one a line: name, architecture,
                pointer size in bytes, THREAD_SIZE, and whether the build is SMP (with NR_CPUS) and PREEMPT.
                """;
    }

    @Override
    public void run(List<String> args, PrintStream out, PrintStream err) throws UsageException {
        Options.parse(name(), args, Set.of()).positionals();
        for (String name : Platforms.bundledProfiles()) {
            Platform p = Platforms.bundled(name);
            out.printf("%-28s %-6s pointer=%d THREAD_SIZE=0x%x SMP=%s NR_CPUS=%d PREEMPT=%s\n", name,
                    p.architecture().name(), p.pointerSize(), p.threadSize(), yn(p.smp()), p.nrCpus(),
                    yn(p.preemptible()));
        }
    }

    private static String yn(boolean value) {
        return value ? "y" : "n";
    }
}
