package io.github.kproc.kernel;

/**
 * A process id as the init pid namespace numbers it ({@code pid_nr}): the type of every argument
 * that names a task, so that a CPU number or a signal cannot be passed where a task is meant.
 *
 * @param nr the number, 1 or more (pid 0 names the idle tasks, which are reached through their CPU)
 */
public record Pid(int nr) {
    /** Pid 1, the init process. */
    public static final Pid INIT = new Pid(1);
    /** Pid 2, kthreadd. */
    public static final Pid KTHREADD = new Pid(2);

    /** @throws IllegalArgumentException if {@code nr} is below 1 */
    public Pid {
        if (nr < 1) {
            throw new IllegalArgumentException("a pid is 1 or more: " + nr);
        }
    }

    /** The pid numbered {@code nr}. */
    public static Pid of(int nr) {
        return new Pid(nr);
    }

    @Override
    public String toString() {
        return "pid " + nr;
    }
}
