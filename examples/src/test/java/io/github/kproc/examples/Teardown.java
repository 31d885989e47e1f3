package io.github.kproc.examples;

import io.github.kproc.kernel.Cpu;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.testkit.Workload;
import io.github.kproc.testkit.Workload.Kind;
import io.github.kproc.testkit.Workload.Op;
import io.github.kproc.view.TaskState;
import io.github.kproc.view.TaskStruct;
import java.util.Optional;

/**
 * Ends every task a workload left behind, so that a {@link io.github.kproc.testkit.KernelSnapshot}
 * taken at boot can tell what leaked. Round after round on every CPU it applies {@link Workload}
 * operations (WAKE the sleepers, EXIT whatever may exit, WAIT to reap zombies), ends init's own
 * threads (which a workload never exits), and finally runs init on every CPU so that no idle task
 * still borrows a dead process's mm as its lazy-TLB {@code active_mm} (its page tables would count
 * as leaked pages until the next switch).
 */
final class Teardown {
    private Teardown() {
    }

    /** The tasks boot did not make (anything but the idle tasks, init and kthreadd). */
    static boolean anyLeft(Kernel kernel) {
        return kernel.tasks().stream().anyMatch(t -> !t.isIdle() && t.pid() > 2);
    }

    /**
     * Exits and reaps everything but the boot tasks.
     *
     * @throws AssertionError naming the tasks left if {@code rounds} rounds do not end them all
     */
    static void reapAll(Kernel kernel, int rounds) {
        for (int round = 0; round < rounds && anyLeft(kernel); round++) {
            for (int cpu = 0; cpu < kernel.cpus(); cpu++) {
                for (Kind kind : new Kind[] {Kind.WAKE, Kind.EXIT, Kind.WAIT}) {
                    Workload.apply(kernel, new Op(kind, cpu, round, 0));
                }
            }
            endInitThreads(kernel);
        }
        if (anyLeft(kernel)) {
            throw new AssertionError("left after " + rounds + " rounds: "
                    + kernel.tasks().stream().filter(t -> !t.isIdle() && t.pid() > 2).toList());
        }
        settle(kernel);
    }

    /** Each runnable thread of init's thread group runs and exits (a thread reaps itself). */
    private static void endInitThreads(Kernel kernel) {
        for (TaskStruct t : kernel.tasks()) {
            if (t.tgid() == 1 && t.pid() > 2 && t.state() == TaskState.RUNNING && !t.isZombie()) {
                Cpu cpu = kernel.cpu(t.cpu());
                Pid thread = Pid.of(t.pid());
                if (!cpu.currentPid().equals(Optional.of(thread))) {
                    cpu.run(thread);
                }
                cpu.as(thread).exit(0);
            }
        }
    }

    /** Runs init on every CPU in turn, last on CPU 0, so that every lazy-TLB mm is dropped. */
    private static void settle(Kernel kernel) {
        for (int cpu = kernel.cpus() - 1; cpu >= 0; cpu--) {
            for (int other = 0; other < kernel.cpus(); other++) {
                if (kernel.cpu(other).currentPid().equals(Optional.of(Pid.INIT))) {
                    kernel.cpu(other).runIdle();
                }
            }
            kernel.cpu(cpu).run(Pid.INIT);
        }
    }
}
