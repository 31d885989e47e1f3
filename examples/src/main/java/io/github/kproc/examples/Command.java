package io.github.kproc.examples;

import java.io.PrintStream;
import java.util.List;

/** One {@code kproc} subcommand. */
interface Command {
    /** The word that selects it: {@code "view"}. */
    String name();

    /** One line for {@code kproc --help}. */
    String summary();

    /** The text {@code kproc NAME --help} prints. */
    String usage();

    /**
     * Runs the command with the arguments after its name ({@code --help} is handled before); results go
     * to {@code out}, reports (such as a summary) to {@code err}.
     *
     * @throws UsageException for anything the user must change: its message is printed as one line
     */
    void run(List<String> args, PrintStream out, PrintStream err) throws UsageException;
}
