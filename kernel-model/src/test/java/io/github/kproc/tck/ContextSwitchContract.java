package io.github.kproc.tck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.kproc.Errno;
import io.github.kproc.KernelException;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.CpuContextSave;
import io.github.kproc.view.ThreadInfo;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

/**
 * The architecture's register switch and how {@code current} and {@code smp_processor_id()} are found
 * from the registers: ARM32 {@code __switch_to} (arch/arm/kernel/entry-armv.S) and
 * {@code current_thread_info()} (arch/arm/include/asm/thread_info.h), arm64 {@code cpu_switch_to}
 * (arch/arm64/kernel/entry.S), {@code tls_thread_switch} (arch/arm64/kernel/process.c) and
 * {@code get_current()} (arch/arm64/include/asm/current.h); {@code set_task_cpu()} ->
 * {@code __set_task_cpu()} (kernel/sched/core.c, kernel/sched/sched.h).
 */
public abstract class ContextSwitchContract extends KernelContract {
    /** Written over a running task's saved words, which the next switch-out must replace. */
    private static final long STALE = 0x6b6b6b6b6b6b6b6bL;

    /** Values for every switched register and TLS word, full width (32 bits on ARM32). */
    private Gen<List<Long>> registerValues() {
        ArchFacts facts = facts();
        int n = facts.switched().size() + facts.tls().size();
        return lists().of(longs().all().map(v -> v & facts.wordMask())).ofSize(n);
    }

    @Test
    @DisplayName("__switch_to/cpu_switch_to: callee-saved registers and TLS are loaded on switch-in and come back bit-exact")
    void calleeSavedRegistersAndTlsRoundTripThroughTheSavedContext() {
        qt().withFixedSeed(SEED).withExamples(40).forAll(registerValues()).checkAssert(values -> {
            try (Kernel k = bootUnmanaged(1)) {
                roundTrip(k, values);
            }
        });
    }

    /**
     * init runs; kthreadd (switched out during boot) gets {@code values} in its saved context and TLS
     * words; kthreadd runs, then init, then kthreadd again.
     */
    private void roundTrip(Kernel k, List<Long> values) {
        ArchFacts facts = facts();
        Tasks t = tasks(k);
        AddressSpace m = k.addressSpace();
        k.cpu(0).run(Pid.INIT);
        long init = k.cpu(0).current().address();
        long kthreadd = task(k, 2);
        long[] before = k.cpu(0).registers();
        CpuContextSave saved = t.context(kthreadd);
        long savedSp = saved.sp();
        long savedPc = saved.pc();
        for (int i = 0; i < facts.switched().size(); i++) {
            saved.set(facts.switched().get(i).member(), values.get(i));
        }
        for (int i = 0; i < facts.tls().size(); i++) {
            m.writePointer(facts.tls().get(i).word().address(platform(), m, kthreadd),
                    values.get(facts.switched().size() + i));
        }

        k.cpu(0).run(Pid.KTHREADD);

        long[] during = k.cpu(0).registers();
        assertEquals(kthreadd, k.cpu(0).current().address(), "current after the switch");
        for (int i = 0; i < facts.switched().size(); i++) {
            ArchFacts.Switched s = facts.switched().get(i);
            assertEquals(values.get(i), during[reg(s.register())], s.register() + " loaded from cpu_context." + s.member());
            assertEquals(before[reg(s.register())], t.context(init).get(s.member()),
                    s.register() + " of the switched-out task saved into its cpu_context." + s.member());
        }
        assertTrue(t.onStack(kthreadd, during[reg(facts.sp())]), "sp is on the next task's stack");
        assertEquals(savedPc, t.context(init).pc(),
                "every task is switched out from the same place in __schedule, so the saved pc (lr) is the same");
        for (int i = 0; i < facts.tls().size(); i++) {
            ArchFacts.Tls tls = facts.tls().get(i);
            assertEquals(values.get(facts.switched().size() + i), during[reg(tls.register())],
                    tls.register() + " loaded from " + tls.name());
            if (tls.saved()) {
                assertEquals(before[reg(tls.register())], m.readPointer(tls.word().address(platform(), m, init)),
                        tls.register() + " saved into the previous task's " + tls.name());
            }
        }
        for (String cleared : facts.clearedOnSwitch()) {
            assertEquals(0, during[reg(cleared)], cleared + " is zeroed for a native task");
        }
        // while a task runs its saved context is stale: the switch-out must store the live registers
        for (ArchFacts.Switched s : facts.switched()) {
            t.context(kthreadd).set(s.member(), STALE & facts.wordMask());
        }
        for (ArchFacts.Tls tls : facts.tls()) {
            if (tls.saved()) {
                m.writePointer(tls.word().address(platform(), m, kthreadd), STALE & facts.wordMask());
            }
        }

        k.cpu(0).run(Pid.INIT);

        long[] after = k.cpu(0).registers();
        assertEquals(init, k.cpu(0).current().address());
        for (ArchFacts.Switched s : facts.switched()) {
            assertEquals(before[reg(s.register())], after[reg(s.register())], s.register() + " back bit-exact");
        }
        assertEquals(before[reg(facts.sp())], after[reg(facts.sp())], "sp back bit-exact");
        for (ArchFacts.Tls tls : facts.tls()) {
            assertEquals(before[reg(tls.register())], after[reg(tls.register())], tls.register() + " back bit-exact");
        }
        for (int i = 0; i < facts.switched().size(); i++) {
            ArchFacts.Switched s = facts.switched().get(i);
            assertEquals(values.get(i), t.context(kthreadd).get(s.member()),
                    "what was loaded into " + s.register() + " is saved back into cpu_context." + s.member());
        }
        assertEquals(savedSp, t.context(kthreadd).sp(), "the switched-out sp is the one it was switched in with");
        for (int i = 0; i < facts.tls().size(); i++) {
            ArchFacts.Tls tls = facts.tls().get(i);
            if (tls.saved()) {
                assertEquals(values.get(facts.switched().size() + i),
                        m.readPointer(tls.word().address(platform(), m, kthreadd)),
                        tls.register() + " saved back into " + tls.name());
            }
        }

        k.cpu(0).run(Pid.KTHREADD);

        long[] again = k.cpu(0).registers();
        for (int i = 0; i < facts.switched().size(); i++) {
            ArchFacts.Switched s = facts.switched().get(i);
            assertEquals(values.get(i), again[reg(s.register())], s.register() + " comes back on the next switch-in");
        }
        assertEquals(during[reg(facts.sp())], again[reg(facts.sp())], "sp comes back on the next switch-in");
        for (int i = 0; i < facts.tls().size(); i++) {
            ArchFacts.Tls tls = facts.tls().get(i);
            assertEquals(values.get(facts.switched().size() + i), again[reg(tls.register())],
                    tls.register() + " comes back on the next switch-in");
        }
    }

    @Test
    @DisplayName("copy_thread + __switch_to: a new task's first switch-in loads sp = task_pt_regs(p)")
    void newTaskIsSwitchedInOnItsPtRegs() {
        Kernel k = boot(1);
        k.cpu(0).run(Pid.INIT);
        int child = k.cpu(0).fork().nr();
        long p = task(k, child);
        long ptRegs = platform().taskPtRegs(k.addressSpace(), p);
        assertEquals(ptRegs, tasks(k).context(p).sp(), "copy_thread: cpu_context.sp = childregs");

        k.cpu(0).run(Pid.of(child));

        assertEquals(p, k.cpu(0).current().address());
        assertEquals(ptRegs, k.cpu(0).registers()[reg(facts().sp())], "ret_from_fork runs on the child's pt_regs");
    }

    @Test
    @DisplayName("current_thread_info() = sp & ~(THREAD_SIZE - 1) from any sp in the stack; arm64 current = sp_el0")
    void currentIsFoundFromAnyStackPointerInsideTheTasksStack() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        k.cpu(0).fork();
        AddressSpace m = k.addressSpace();
        List<Long> all = new ArrayList<>(taskAddresses(k));
        all.add(k.cpu(1).idleTask().address());
        for (int i = 0; i < all.size(); i++) {
            long p = all.get(i);
            long stack = k.task(p).stack();
            long otherStack = k.task(all.get((i + 1) % all.size())).stack();
            assertEquals(0, stack % platform().threadAlign(), "THREAD_SIZE-aligned stack of " + name(k, p));
            long[] regs = new long[platform().cpuRegisters().size()];
            for (long sp = stack; sp < stack + facts().threadSize(); sp += 4) {
                regs[reg(facts().sp())] = sp;
                if (facts().current() != null) {
                    // sp_el0 alone says who is current: sp may be anywhere, even on another task's stack
                    regs[reg(facts().current())] = p;
                    regs[reg(facts().sp())] = otherStack + (sp - stack);
                }
                assertEquals(p, platform().currentTask(m, regs), String.format("current with sp 0x%x", sp));
            }
            ThreadInfo ti = k.task(p).threadInfo();
            if (facts().current() == null) {
                assertEquals(stack, ti.address(), "thread_info sits at the lowest address of the stack");
            } else {
                assertEquals(p, ti.address(), "thread_info is the first member of task_struct");
            }
            assertEquals(p, ti.task(), "thread_info->task");
        }
    }

    @Test
    @DisplayName("current of every CPU is what its registers say, runs on its own stack, has on_cpu set and task_cpu == cpu")
    void everyCpusCurrentAgreesWithItsRegisters() {
        Kernel k = boot(4);
        k.cpu(0).run(Pid.INIT);
        for (int i = 0; i < 3; i++) {
            k.cpu(0).fork();
        }
        k.cpu(1).run(Pid.KTHREADD);
        for (int i = 0; i < 4; i++) {
            k.tickAll();
        }
        Tasks t = tasks(k);
        for (int cpu = 0; cpu < 4; cpu++) {
            long[] regs = k.cpu(cpu).registers();
            long current = k.cpu(cpu).current().address();
            assertEquals(current, platform().currentTask(k.addressSpace(), regs));
            if (facts().current() != null) {
                assertEquals(current, regs[reg(facts().current())], facts().current() + " holds current");
            }
            assertTrue(t.onStack(current, regs[reg(facts().sp())]), "CPU " + cpu + " runs on the stack of " + name(k, current));
            assertEquals(1, t.onCpu(current), "on_cpu of " + name(k, current));
            assertEquals(cpu, k.cpu(cpu).smpProcessorId(), "smp_processor_id() on CPU " + cpu);
        }
    }

    @Test
    @DisplayName("set_task_cpu -> __set_task_cpu: migration writes the CPU where task_cpu() reads it and wake_cpu; smp_processor_id() follows")
    void smpProcessorIdAfterMigrationIsTheNewCpu() {
        Kernel k = boot(2);
        TraceLog log = TraceLog.attach(k);
        Tasks t = tasks(k);
        AddressSpace m = k.addressSpace();
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        long p = task(k, pid);
        for (int target : new int[] {0, 1, 0}) {
            int from = k.task(p).cpu();
            long migrations = t.nrMigrations(p);
            if (from != target) {
                log.clear();
                k.migrate(Pid.of(pid), target);
                FtraceLine line = log.only("sched_migrate_task");
                assertEquals(String.format("comm=%s pid=%d prio=%d orig_cpu=%d dest_cpu=%d", k.task(p).comm(), pid,
                        k.task(p).prio(), from, target), line.body());
                assertEquals(migrations + 1, t.nrMigrations(p), "se.nr_migrations");
            }
            assertEquals(target, m.readInt(facts().cpu().address(platform(), m, p)), "the cpu word __set_task_cpu writes");
            assertEquals(target, t.wakeCpu(p), "p->wake_cpu");
            assertTrue(k.cpu(target).queued().stream().anyMatch(q -> q.address() == p),
                    "queued on its new CPU");

            k.cpu(target).run(Pid.of(pid));

            assertEquals(p, k.cpu(target).current().address());
            assertEquals(target, k.cpu(target).smpProcessorId(), "smp_processor_id() = task_cpu(current)");
            KernelException busy = assertThrows(KernelException.class,
                    () -> k.migrate(Pid.of(pid), 1 - target));
            assertEquals(Errno.EBUSY, busy.errno(), "a running task is not migrated");
            k.cpu(target).runIdle();
        }
    }

    @Test
    @DisplayName("try_to_wake_up of a task moved while asleep: task_cpu(), wake_cpu and the runqueue agree on where select_task_rq put it")
    void aSleepingTaskMigratedIsWokenOnItsNewCpu() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        long p = task(k, pid);
        int first = k.task(p).cpu();
        k.cpu(first).run(Pid.of(pid));
        k.cpu(first).sleep();
        assertEquals(TASK_INTERRUPTIBLE, k.task(p).rawState());
        int second = 1 - first;
        k.migrate(Pid.of(pid), second);
        assertEquals(second, k.task(p).cpu());
        assertNotEquals(p, k.cpu(first).current().address());

        k.cpu(first).wakeUp(Pid.of(pid));

        int now = k.task(p).cpu();
        assertEquals(now, tasks(k).wakeCpu(p), "__set_task_cpu: wake_cpu follows");
        assertTrue(k.cpu(now).queued().stream().anyMatch(q -> q.address() == p) || k.cpu(now).current().address() == p,
                "enqueued where task_cpu() says");
    }

    @Test
    @DisplayName("run(cpu, pid) of a task queued on another CPU moves it with set_task_cpu first")
    void runningATaskQueuedElsewhereMovesIt() {
        Kernel k = boot(2);
        k.cpu(0).run(Pid.INIT);
        int pid = k.cpu(0).fork().nr();
        long p = task(k, pid);
        int other = 1 - k.task(p).cpu();

        k.cpu(other).run(Pid.of(pid));

        assertEquals(p, k.cpu(other).current().address());
        assertEquals(other, k.cpu(other).smpProcessorId());
        assertEquals(other, tasks(k).wakeCpu(p));
    }
}
