package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.KernelException;
import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.Policy;
import io.github.kproc.kernel.SoftirqVector;
import io.github.kproc.testkit.KernelInvariants;
import io.github.kproc.testkit.KernelSnapshot;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * API misuse sequences: seeded random calls of the public API with arguments in and far out of range
 * (CPUs, pids, signals, nice values, priorities, clone words, sysctls, rlimits, interrupt nesting).
 * Each call must end within a time bound in a result or a typed error ({@link KernelException},
 * {@link IllegalArgumentException}, {@link IllegalStateException}) that leaves the model exactly as
 * before ({@link KernelSnapshot}); every invariant of {@link KernelInvariants} holds throughout. After
 * {@link Kernel#close()} every call is {@code IllegalStateException("kernel is closed")}.
 */
public abstract class MisuseFuzzContract extends KernelContract {
    private static final int SEQUENCES = Integer.getInteger("kproc.fuzz.sequences", 12);
    private static final int CALLS = 120;

    private static final int[] INTS = {Integer.MIN_VALUE, -100, -1, 0, 1, 2, 3, 4, 5, 7, 8, 19, 20, 64, 65, 99, 100,
        139, 4096, 32768, 4194304, Integer.MAX_VALUE};
    private static final long[] LONGS = {Long.MIN_VALUE, -1, 0, 1, 300, 32768, 4194304, 1L << 31, 1L << 32,
        Long.MAX_VALUE};

    private static int anInt(SplittableRandom r) {
        return r.nextInt(3) == 0 ? r.nextInt(-5, 12) : INTS[r.nextInt(INTS.length)];
    }

    private static long aLong(SplittableRandom r) {
        return r.nextBoolean() ? r.nextLong(-5, 100_000) : LONGS[r.nextInt(LONGS.length)];
    }

    /** A pid that names a task now, or any number. */
    private static Pid aPid(Kernel k, SplittableRandom r) {
        if (r.nextInt(4) > 0) {
            var tasks = k.tasks();
            int pid = tasks.get(r.nextInt(tasks.size())).pid();
            if (pid > 0) {
                return Pid.of(pid);
            }
        }
        return Pid.of(1 + r.nextInt(1 << 22));
    }

    /** Children of vfork (and CLONE_VFORK) by parent: the parent keeps a reference until it runs again. */
    private final java.util.Map<Long, Long> vforked = new java.util.HashMap<>();

    private void rememberVfork(Kernel k, long parent, int pid) {
        if (pid > 0) {
            vforked.put(parent, PidsContract.findByNs(k, k.taskActivePidNs(parent), pid));
        }
    }

    /**
     * The task_structs a vfork parent still holds ({@code _do_fork}'s reference, dropped when it returns
     * from {@code wait_for_vfork_done}): a reaped child's shared references live on until then.
     */
    private List<Long> held(Kernel k) {
        Debugger d = new Debugger(k);
        vforked.keySet().removeIf(parent -> !d.inVforkWait(parent));
        return List.copyOf(vforked.values());
    }

    /** One call; returns what it did, for the failure message. */
    private String call(Kernel k, SplittableRandom r) {
        int cpu = r.nextInt(10) == 0 ? anInt(r) : r.nextInt(k.cpus());
        return switch (r.nextInt(24)) {
            case 0 -> "fork on " + cpu + " " + k.cpu(cpu).fork();
            case 1 -> {
                long parent = k.cpu(cpu).current().address();
                Pid child = k.cpu(cpu).vfork();
                rememberVfork(k, parent, child.nr());
                yield "vfork on " + cpu + " " + child;
            }
            case 2 -> {
                java.util.EnumSet<CloneFlag> flags = java.util.EnumSet.noneOf(CloneFlag.class);
                for (CloneFlag f : CloneFlag.values()) {
                    if (r.nextInt(6) == 0) {
                        flags.add(f);
                    }
                }
                CloneArgs args = new CloneArgs(flags, r.nextInt(3) == 0 ? r.nextInt(256) : CloneFlag.SIGCHLD,
                        r.nextBoolean() ? 0 : aLong(r), 0, r.nextBoolean() ? 0 : aLong(r), 0, aLong(r));
                long parent = k.cpu(cpu).current().address();
                Pid child = k.cpu(cpu).clone(args);
                if (flags.contains(CloneFlag.VFORK)) {
                    rememberVfork(k, parent, child.nr());
                }
                yield "clone " + flags + " " + child;
            }
            case 3 -> {
                k.cpu(cpu).exit(anInt(r));
                yield "exit on " + cpu;
            }
            case 4 -> "wait4Any on " + cpu + " " + k.cpu(cpu).wait4Any();
            case 5 -> "wait4 " + k.cpu(cpu).wait4(aPid(k, r));
            case 6 -> {
                Pid p = aPid(k, r);
                k.cpu(cpu).run(p);
                yield "run " + p + " on " + cpu;
            }
            case 7 -> {
                k.cpu(cpu).sleep();
                yield "sleep on " + cpu;
            }
            case 8 -> "wakeUp " + k.cpu(cpu).wakeUp(aPid(k, r));
            case 9 -> {
                k.cpu(cpu).schedule();
                yield "schedule on " + cpu;
            }
            case 10 -> {
                k.tickAll();
                yield "tickAll";
            }
            case 11 -> {
                Pid p = aPid(k, r);
                int to = r.nextInt(5) == 0 ? anInt(r) : r.nextInt(k.cpus());
                k.migrate(p, to);
                yield "migrate " + p + " to " + to;
            }
            case 12 -> {
                Policy[] policies = Policy.values();
                Policy policy = policies[r.nextInt(policies.length)];
                int prio = anInt(r);
                k.setScheduler(aPid(k, r), policy, prio);
                yield "setScheduler " + policy + " " + prio;
            }
            case 13 -> {
                int nice = anInt(r);
                k.setNice(aPid(k, r), nice);
                yield "setNice " + nice;
            }
            case 14 -> {
                int sig = anInt(r);
                yield "kill " + sig + " " + k.kill(aPid(k, r), sig);
            }
            case 15 -> {
                String name = List.of("kernel.pid_max", "kernel.threads-max", "kernel.nope", "").get(r.nextInt(4));
                long value = aLong(r);
                k.sysctl(name, value);
                yield "sysctl " + name + "=" + value;
            }
            case 16 -> {
                int resource = anInt(r);
                k.setrlimit(aPid(k, r), resource, aLong(r), aLong(r));
                yield "setrlimit " + resource;
            }
            case 17 -> {
                k.cpu(cpu).exec("fuzz" + r.nextInt(100));
                yield "exec on " + cpu;
            }
            case 18 -> {
                k.cpu(cpu).preemptDisable();
                yield "preempt_disable on " + cpu;
            }
            case 19 -> {
                k.cpu(cpu).preemptEnable();
                yield "preempt_enable on " + cpu;
            }
            case 20 -> {
                k.cpu(cpu).irqEnter();
                yield "irq_enter on " + cpu;
            }
            case 21 -> {
                k.cpu(cpu).irqExit();
                yield "irq_exit on " + cpu;
            }
            case 22 -> {
                SoftirqVector[] v = SoftirqVector.values();
                k.cpu(cpu).raiseSoftirq(v[r.nextInt(v.length)]);
                yield "raise_softirq on " + cpu;
            }
            default -> {
                String fn = List.of("kthreadd", "kthread", "worker_thread", "no_such_fn").get(r.nextInt(4));
                yield "kernel_thread " + fn + " " + k.cpu(cpu).kernelThread(fn, aLong(r), Set.of());
            }
        };
    }

    @Test
    @DisplayName("seeded misuse sequences: a result or a typed error that changes nothing, invariants always hold")
    void misuseSequences() {
        SplittableRandom seeds = new SplittableRandom(SEED);
        int typed = 0;
        int ok = 0;
        for (int sequence = 0; sequence < SEQUENCES; sequence++) {
            SplittableRandom r = seeds.split();
            Kernel k = boot(b -> b.cpus(1 + r.nextInt(platform().nrCpus())).memory((16L + r.nextInt(48)) << 20));
            vforked.clear();
            for (int n = 0; n < CALLS; n++) {
                KernelSnapshot before = null;
                if (r.nextInt(4) == 0) {
                    // a call first takes a reschedule IPI pending for its CPU (Cpu#step), which is no part
                    // of what a failing call must leave unchanged: take them all before the snapshot
                    k.stepAll();
                    before = KernelSnapshot.take(k);
                }
                String[] what = {"?"};
                long seedOfCall = r.nextLong();
                RuntimeException failure = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
                    try {
                        what[0] = call(k, new SplittableRandom(seedOfCall));
                        return null;
                    } catch (KernelException | IllegalArgumentException | IllegalStateException e) {
                        return e;
                    }
                }, () -> "call " + what[0]);
                String where = "sequence " + sequence + " call " + n + " (" + what[0] + ")";
                if (failure != null) {
                    typed++;
                    assertTrue(failure.getMessage() != null && !failure.getMessage().isBlank(), where);
                    if (before != null) {
                        assertEquals(List.of(), before.differences(KernelSnapshot.take(k)),
                                where + " failed with " + failure + " and changed the model");
                    }
                } else {
                    ok++;
                }
                if (n % 10 == 9) {
                    List<?> violations = KernelInvariants.of(k).check(held(k));
                    assertEquals(List.of(), violations, where);
                }
            }
            k.close();
            assertEquals("kernel is closed", assertThrows(IllegalStateException.class,
                    () -> call(k, new SplittableRandom(r.nextLong()))).getMessage());
        }
        assertTrue(typed > 0 && ok > 0, "both outcomes: " + ok + " results, " + typed + " typed errors");
    }
}
