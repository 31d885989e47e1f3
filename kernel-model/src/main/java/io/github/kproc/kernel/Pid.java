package io.github.kproc.kernel;

/**
 * A process id as the init pid namespace numbers it ({@code pid_nr}): the type of every argument
 * that names a task, so that a CPU number or a signal cannot be passed where a task is meant.
 *
 * @param nr the number, 1 or more (pid 0 names the idle tasks, which are reached through their CPU)
 */
public record Pid(int nr) {
    /** Small pids are shared instances, as {@code Integer.valueOf}'s are. */
    private static final int CACHED = 1024;
    private static final Pid[] CACHE = new Pid[CACHED];

    /** Pid 1, the init process. */
    public static final Pid INIT = of(1);
    /** Pid 2, kthreadd. */
    public static final Pid KTHREADD = of(2);

    /** @throws IllegalArgumentException if {@code nr} is below 1 */
    public Pid {
        if (nr < 1) {
            throw new IllegalArgumentException("a pid is 1 or more: " + nr);
        }
    }

    /** The pid numbered {@code nr} (a shared instance below 1024). */
    public static Pid of(int nr) {
        if (nr > 0 && nr < CACHED) {
            Pid p = CACHE[nr];
            if (p == null) {
                p = new Pid(nr);
                CACHE[nr] = p;
            }
            return p;
        }
        return new Pid(nr);
    }

    @Override
    public String toString() {
        return "pid " + nr;
    }
}
