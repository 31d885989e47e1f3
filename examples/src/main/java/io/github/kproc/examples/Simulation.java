package io.github.kproc.examples;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
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
                kernel.schedule(random.nextInt(kernel.cpus()));
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
        for (long t : kernel.tasks()) {
            TaskStruct task = kernel.task(t);
            if (task.pid() > 0 && task.exitState() == 0) {
                out.add(task);
            }
        }
        return out;
    }

    /** Makes a runnable task current on a CPU it may run on; returns that CPU or -1. */
    private int runOnSomeCpu(TaskStruct task) {
        for (int cpu = 0; cpu < kernel.cpus(); cpu++) {
            if (kernel.current(cpu) == task.address()) {
                return cpu;
            }
        }
        if (task.state() != 0 || task.onRq() != 1) {
            return -1;
        }
        int cpu = task.cpu();
        try {
            kernel.run(cpu, task.pid());
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
            int child;
            if (kthread) {
                child = kernel.kernelThread(cpu, "kthread", random.nextInt(1000), EnumSet.of(CloneFlag.FS, CloneFlag.FILES));
            } else if (kind < 40) {
                child = kernel.fork(cpu);
            } else if (kind < 55) {
                child = kernel.vfork(cpu);
                finishVfork(child);
            } else if (kind < 70) {
                long tid = userWord += 4;
                child = kernel.clone(cpu, EnumSet.of(CloneFlag.VM, CloneFlag.FS, CloneFlag.FILES, CloneFlag.SIGHAND,
                        CloneFlag.THREAD, CloneFlag.SYSVSEM, CloneFlag.SETTLS, CloneFlag.PARENT_SETTID,
                        CloneFlag.CHILD_CLEARTID), 0, 0x7f000000L + random.nextInt(0x10000) * 16L, tid, tid,
                        0x76fff000L);
            } else if (kind < 80) {
                Set<CloneFlag> flags = random.nextBoolean() ? EnumSet.of(CloneFlag.FILES) : EnumSet.of(CloneFlag.FS);
                child = kernel.clone(cpu, flags, CloneFlag.SIGCHLD, 0, 0, 0, 0);
            } else {
                // a caller's mistake: CLONE_SIGHAND without CLONE_VM, or CLONE_THREAD without CLONE_SIGHAND
                Set<CloneFlag> flags = random.nextBoolean() ? EnumSet.of(CloneFlag.SIGHAND) : EnumSet.of(CloneFlag.THREAD, CloneFlag.VM);
                child = kernel.clone(cpu, flags, CloneFlag.SIGCHLD, 0, 0, 0, 0);
            }
            forks++;
            if (child <= 0) {
                return;
            }
        } catch (KernelException e) {
            failures.merge(e.errno(), 1, Integer::sum);
        }
    }

    /** The vfork child runs at once on the CPU fork balancing gave it, then execs or exits. */
    private void finishVfork(int child) {
        long address = kernel.findTask(child);
        if (address == 0) {
            return;
        }
        TaskStruct task = kernel.task(address);
        int cpu = runOnSomeCpu(task);
        if (cpu < 0) {
            return;
        }
        if (random.nextBoolean()) {
            kernel.exec(cpu, random.nextBoolean() ? "sh" : "true");
        } else {
            kernel.exit(cpu, random.nextInt(256));
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
            kernel.exit(cpu, random.nextInt(256));
        }
    }

    private void reapSomething() {
        List<TaskStruct> parents = new ArrayList<>();
        for (long t : kernel.tasks()) {
            TaskStruct task = kernel.task(t);
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
                kernel.wait(cpu, -1);
            } catch (KernelException e) {
                failures.merge(e.errno(), 1, Integer::sum);
            }
        }
    }

    private void sleepOrWake() {
        List<TaskStruct> sleepers = new ArrayList<>();
        List<TaskStruct> awake = new ArrayList<>();
        for (TaskStruct t : live()) {
            if (t.state() == TASK_INTERRUPTIBLE) {
                sleepers.add(t);
            } else if (t.state() == 0 && t.pid() > 2) {
                awake.add(t);
            }
        }
        if (!sleepers.isEmpty() && (awake.isEmpty() || random.nextBoolean())) {
            kernel.wakeUp(random.nextInt(kernel.cpus()), pick(sleepers).pid());
        } else if (!awake.isEmpty()) {
            int cpu = runOnSomeCpu(pick(awake));
            if (cpu >= 0) {
                kernel.sleep(cpu);
            }
        }
    }
}
