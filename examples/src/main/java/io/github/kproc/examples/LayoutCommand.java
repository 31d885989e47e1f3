package io.github.kproc.examples;

import io.github.kproc.layout.Pahole;
import java.io.PrintStream;
import java.util.List;
import java.util.NoSuchElementException;

/** {@code kproc layout}: a struct's layout in a build, as pahole prints it. */
final class LayoutCommand implements Command {
    @Override
    public String name() {
        return "layout";
    }

    @Override
    public String summary() {
        return "print a struct's layout in pahole's format";
    }

    @Override
    public String usage() {
        return """
                usage: kproc layout (--profile NAME | --pahole FILE --config FILE) STRUCT
                Prints the layout of STRUCT (task_struct, 'struct task_struct' or 'union fp_state') in
                pahole's format: each member with its offset and size, holes and cachelines marked.

                """ + Build.OPTIONS_USAGE;
    }

    @Override
    public void run(List<String> args, PrintStream out, PrintStream err) throws UsageException {
        Options options = Options.parse(name(), args, Build.OPTIONS);
        String type = options.positionals("STRUCT").get(0);
        Build build = Build.from(name(), options);
        try {
            out.print(Pahole.print(build.profile().struct(type)));
        } catch (NoSuchElementException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
