package io.github.kproc.kernel;

/**
 * A process id as the init pid namespace numbers it ({@code pid_nr}): the type of every argument
 * that names a task, so that a CPU number or a signal cannot be passed where a task is meant.
 *
 * @param nr the number, 1 or more (pid 0 names the idle tasks, which are reached through their CPU)
 */
public record Pid(int nr) {
    /** Pids below this are cached, so that fork and wait4 in a loop allocate nothing (pid_max is 32768 by default). */
    private static final int CACHED = 1 << 16;
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

    /** The pid numbered {@code nr} (one shared instance for each pid below 65536, as Integer.valueOf does). */
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
