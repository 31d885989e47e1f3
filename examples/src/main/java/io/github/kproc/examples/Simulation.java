package io.github.kproc.examples;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.view.TaskStruct;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A seeded workload on a booted kernel: fork, vfork (then exec or exit), clone of threads and of
 * processes sharing files or fs, kernel_thread from kthreadd, exit, wait, sleep and wakeup, yields,
 * timer ticks and the IPIs they cause. The same seed on the same profile and CPU count gives the
 * same sequence, and so the same trace, byte for byte.
 */
final class Simulation {
    private static final int PF_KTHREAD = 0x00200000;
    private static final int TASK_INTERRUPTIBLE = 1;

    private final Kernel kernel;
    private final SplittableRandom random;
    private final Map<Errno, Integer> failures = new EnumMap<>(Errno.class);
    private int attempts;
    private int forks;
    private long ticks;
    private long userWord = 0x10000;

    Simulation(Kernel kernel, long seed) {
        this.kernel = kernel;
        this.random = new SplittableRandom(seed);
    }

    /** Runs until {@code forkAttempts} forks (of every kind) have been tried. */
    void run(int forkAttempts) {
        while (attempts < forkAttempts) {
            kernel.advanceClock(1_000 + random.nextLong(200_000));
            int roll = random.nextInt(100);
            if (roll < 15) {
                kernel.tickAll();
                ticks++;
            } else if (roll < 55) {
                forkSomething();
            } else if (roll < 70) {
                exitSomething();
            } else if (roll < 82) {
                reapSomething();
            } else if (roll < 94) {
                sleepOrWake();
            } else {
                kernel.cpu(random.nextInt(kernel.cpus())).schedule();
            }
            kernel.stepAll();
        }
    }

    int attempts() {
        return attempts;
    }

    int forks() {
        return forks;
    }

    long ticks() {
        return ticks;
    }

    Map<Errno, Integer> failures() {
        return failures;
    }

    private List<TaskStruct> live() {
        List<TaskStruct> out = new ArrayList<>();
        for (TaskStruct task : kernel.tasks()) {
            if (task.pid() > 0 && task.exitState() == 0) {
                out.add(task);
            }
        }
        return out;
    }

    /** Makes a runnable task current on a CPU it may run on; returns that CPU or -1. */
    private int runOnSomeCpu(TaskStruct task) {
        for (int cpu = 0; cpu < kernel.cpus(); cpu++) {
            if (kernel.cpu(cpu).current().address() == task.address()) {
                return cpu;
            }
        }
        if (task.rawState() != 0 || task.onRq() != 1) {
            return -1;
        }
        int cpu = task.cpu();
        try {
            kernel.cpu(cpu).run(Pid.of(task.pid()));
            return cpu;
        } catch (KernelException e) {
            return -1;
        }
    }

    private TaskStruct pick(List<TaskStruct> tasks) {
        return tasks.get(random.nextInt(tasks.size()));
    }

    private void forkSomething() {
        List<TaskStruct> candidates = live();
        int kind = random.nextInt(100);
        boolean kthread = kind >= 85;
        List<TaskStruct> parents = new ArrayList<>();
        for (TaskStruct t : candidates) {
            boolean isKthread = (t.flags() & PF_KTHREAD) != 0;
            if (kthread ? t.pid() == 2 : !isKthread) {
                parents.add(t);
            }
        }
        if (parents.isEmpty()) {
            return;
        }
        TaskStruct parent = pick(parents);
        int cpu = runOnSomeCpu(parent);
        if (cpu < 0) {
            return;
        }
        attempts++;
        try {
            if (kthread) {
                kernel.cpu(cpu).kernelThread("kthread", random.nextInt(1000), EnumSet.of(CloneFlag.FS,
                        CloneFlag.FILES));
            } else if (kind < 40) {
                kernel.cpu(cpu).fork();
            } else if (kind < 55) {
                finishVfork(kernel.cpu(cpu).vfork());
            } else if (kind < 70) {
                long tid = userWord += 4;
                kernel.cpu(cpu).clone(new CloneArgs(EnumSet.of(CloneFlag.VM, CloneFlag.FS, CloneFlag.FILES,
                        CloneFlag.SIGHAND, CloneFlag.THREAD, CloneFlag.SYSVSEM, CloneFlag.SETTLS,
                        CloneFlag.PARENT_SETTID, CloneFlag.CHILD_CLEARTID), 0,
                        0x7f000000L + random.nextInt(0x10000) * 16L, 0, tid, tid, 0x76fff000L));
            } else if (kind < 80) {
                Set<CloneFlag> flags = random.nextBoolean() ? EnumSet.of(CloneFlag.FILES) : EnumSet.of(CloneFlag.FS);
                kernel.cpu(cpu).clone(new CloneArgs(flags, CloneFlag.SIGCHLD, 0, 0, 0, 0, 0));
            } else {
                // a caller's mistake: CLONE_SIGHAND without CLONE_VM, or CLONE_THREAD without CLONE_SIGHAND
                Set<CloneFlag> flags = random.nextBoolean() ? EnumSet.of(CloneFlag.SIGHAND) : EnumSet.of(CloneFlag.THREAD, CloneFlag.VM);
                kernel.cpu(cpu).clone(new CloneArgs(flags, CloneFlag.SIGCHLD, 0, 0, 0, 0, 0));
            }
            forks++;
        } catch (KernelException e) {
            failures.merge(e.errno(), 1, Integer::sum);
        }
    }

    /** The vfork child runs at once on the CPU fork balancing gave it, then execs or exits. */
    private void finishVfork(Pid child) {
        TaskStruct task = kernel.task(child).orElse(null);
        if (task == null) {
            return;
        }
        int cpu = runOnSomeCpu(task);
        if (cpu < 0) {
            return;
        }
        if (random.nextBoolean()) {
            kernel.cpu(cpu).exec(random.nextBoolean() ? "sh" : "true");
        } else {
            kernel.cpu(cpu).exit(random.nextInt(256));
        }
    }

    private void exitSomething() {
        List<TaskStruct> victims = new ArrayList<>();
        for (TaskStruct t : live()) {
            if (t.pid() > 2) {
                victims.add(t);
            }
        }
        if (victims.isEmpty()) {
            return;
        }
        TaskStruct victim = pick(victims);
        int cpu = runOnSomeCpu(victim);
        if (cpu >= 0) {
            kernel.cpu(cpu).exit(random.nextInt(256));
        }
    }

    private void reapSomething() {
        List<TaskStruct> parents = new ArrayList<>();
        for (TaskStruct task : kernel.tasks()) {
            if (task.exitState() == 0x20) {
                parents.add(kernel.task(task.realParent()));
            }
        }
        if (parents.isEmpty()) {
            return;
        }
        TaskStruct parent = pick(parents);
        int cpu = runOnSomeCpu(parent);
        if (cpu >= 0) {
            try {
                kernel.cpu(cpu).wait4Any();
            } catch (KernelException e) {
                failures.merge(e.errno(), 1, Integer::sum);
            }
        }
    }

    private void sleepOrWake() {
        List<TaskStruct> sleepers = new ArrayList<>();
        List<TaskStruct> awake = new ArrayList<>();
        for (TaskStruct t : live()) {
            if (t.rawState() == TASK_INTERRUPTIBLE) {
                sleepers.add(t);
            } else if (t.rawState() == 0 && t.pid() > 2) {
                awake.add(t);
            }
        }
        if (!sleepers.isEmpty() && (awake.isEmpty() || random.nextBoolean())) {
            kernel.cpu(random.nextInt(kernel.cpus())).wakeUp(Pid.of(pick(sleepers).pid()));
        } else if (!awake.isEmpty()) {
            int cpu = runOnSomeCpu(pick(awake));
            if (cpu >= 0) {
                kernel.cpu(cpu).sleep();
            }
        }
    }
}
