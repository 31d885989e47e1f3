package io.github.kproc.tck;

import static io.github.kproc.kernel.CloneFlag.SETTLS;
import static io.github.kproc.kernel.CloneFlag.SIGHAND;
import static io.github.kproc.kernel.CloneFlag.THREAD;
import static io.github.kproc.kernel.CloneFlag.VM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.kernel.CloneArgs;
import io.github.kproc.kernel.CloneFlag;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.mem.AddressSpace;
import java.util.EnumSet;
import java.util.HexFormat;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@code copy_thread()} (arch/arm/kernel/process.c, arch/arm64/kernel/process.c) and the first
 * switch into the child: the saved context is all zero but pc = ret_from_fork and sp = the child's
 * pt_regs; a user child's pt_regs are the parent's with the return register 0; a kernel thread's
 * are zero but the mode, with fn and arg in the registers ret_from_fork calls through; CLONE_SETTLS
 * sets the thread pointer.
 */
public abstract class CopyThreadContract extends KernelContract {

    private long[] contextWords(Kernel k, long task) {
        Structs s = structs(k);
        long context = platform().cpuContext(k.addressSpace(), task);
        int n = (int) (s.size(platform().cpuContextStruct()) / facts().longSize());
        long[] words = new long[n];
        for (int i = 0; i < n; i++) {
            words[i] = k.addressSpace().readUnsigned(context + (long) i * facts().longSize(), facts().longSize());
        }
        return words;
    }

    private int slot(Kernel k, String register) {
        return (int) (structs(k).offset(platform().cpuContextStruct(), register) / facts().longSize());
    }

    private static long low(long value, int bytes) {
        return bytes == 8 ? value : value & 0xffffffffL;
    }

    @Test
    @DisplayName("copy_thread: a user child's context is zero but pc = ret_from_fork and sp = task_pt_regs(child)")
    void userChildContext() {
        Kernel k = boot(2);
        AddressSpace m = k.addressSpace();
        long parent = runAs(k, 0, 1);
        long child = address(k, k.cpu(0).fork().nr());
        long regs = k.task(child).stack() + facts().ptRegsOffset();
        assertEquals(regs, platform().taskPtRegs(m, child));
        long[] words = contextWords(k, child);
        long[] expected = new long[words.length];
        expected[slot(k, "pc")] = low(k.symbol("ret_from_fork"), facts().longSize());
        expected[slot(k, "sp")] = low(regs, facts().longSize());
        assertEquals(HexFormat.of().formatHex(toBytes(expected)), HexFormat.of().formatHex(toBytes(words)));
        // *childregs = *current_pt_regs(); childregs->regs[0] = 0
        byte[] mine = m.readBytes(regs, facts().ptRegsSize());
        byte[] theirs = m.readBytes(platform().taskPtRegs(m, parent), facts().ptRegsSize());
        java.util.Arrays.fill(theirs, 0, facts().longSize(), (byte) 0);
        assertEquals(HexFormat.of().formatHex(theirs), HexFormat.of().formatHex(mine));
    }

    @Test
    @DisplayName("copy_thread: a kernel thread gets fn and arg in the callee-saved registers ret_from_fork calls through")
    void kernelThreadContext() {
        Kernel k = boot(2);
        AddressSpace m = k.addressSpace();
        k.cpu(0).run(Pid.KTHREADD);
        long child = address(k, k.cpu(0).kernelThread("worker_thread", 0x1234, EnumSet.noneOf(CloneFlag.class)).nr());
        long[] words = contextWords(k, child);
        long regs = k.task(child).stack() + facts().ptRegsOffset();
        long[] expected = new long[words.length];
        expected[slot(k, "pc")] = low(k.symbol("ret_from_fork"), facts().longSize());
        expected[slot(k, "sp")] = low(regs, facts().longSize());
        expected[slot(k, facts().kthreadFn())] = low(k.symbol("worker_thread"), facts().longSize());
        expected[slot(k, facts().kthreadArg())] = 0x1234;
        assertEquals(HexFormat.of().formatHex(toBytes(expected)), HexFormat.of().formatHex(toBytes(words)));
        byte[] zero = new byte[facts().ptRegsSize()];
        zero[facts().kthreadModeOffset()] = (byte) facts().kthreadMode();
        assertEquals(HexFormat.of().formatHex(zero), HexFormat.of().formatHex(m.readBytes(regs, facts().ptRegsSize())),
                "memset(childregs, 0) and the kernel mode");
    }

    @Test
    @DisplayName("copy_thread: CLONE_SETTLS takes the clone tls argument as the child's thread pointer")
    void setTlsTakesTheTlsArgument() {
        Kernel k = boot(2);
        AddressSpace m = k.addressSpace();
        long init = address(k, 1);
        long parentTls = facts().settls().address(platform(), m, init);
        m.writeInt(parentTls, 0x7eadbeef);
        k.cpu(0).run(Pid.INIT);
        long child = address(k, k.cpu(0).clone(new CloneArgs(EnumSet.of(VM, SIGHAND, THREAD, SETTLS), 0, 0, 0, 0, 0,
                0x76543210L)).nr());
        assertEquals(0x76543210, m.readInt(facts().settls().address(platform(), m, child)));
        long copy = address(k, k.cpu(0).clone(new CloneArgs(EnumSet.of(VM, SIGHAND, THREAD), 0, 0, 0, 0, 0,
                0x76543210L)).nr());
        assertEquals(0x7eadbeef, m.readInt(facts().settls().address(platform(), m, copy)), "without CLONE_SETTLS: inherited");
        // the switch into the child loads it into the thread pointer register
        k.cpu(1).run(Pid.of(pidOf(k, child)));
        String register = platform().threadInfoInTask() ? "tpidr_el0" : "tpidruro";
        assertEquals(0x76543210L, k.cpu(1).registers()[platform().cpuRegisters().indexOf(register)]);
    }

    @Test
    @DisplayName("copy_thread: a new stack pointer (clone's newsp) goes into the child's pt_regs")
    void newStackPointerGoesIntoPtRegs() {
        Kernel k = boot(2);
        AddressSpace m = k.addressSpace();
        k.cpu(0).run(Pid.INIT);
        long child = address(k, k.cpu(0).clone(new CloneArgs(EnumSet.of(VM, SIGHAND, THREAD), 0, 0x7ff00000L, 0, 0, 0,
                0)).nr());
        long regs = k.task(child).stack() + facts().ptRegsOffset();
        // ARM_sp is uregs[13]; arm64's pt_regs.sp follows regs[31]
        long spOffset = facts().longSize() == 8 ? 31 * 8 : 13 * 4;
        assertEquals(0x7ff00000L, m.readUnsigned(regs + spOffset, facts().longSize()));
    }

    @Test
    @DisplayName("__switch_to / cpu_switch_to: the CPU that switches away saves sp and the return address into __schedule")
    void switchSavesThePreviousContext() {
        Kernel k = boot(2);
        long init = runAs(k, 0, 1);
        long child = address(k, k.cpu(0).fork().nr());
        k.cpu(1).run(Pid.of(pidOf(k, child)));
        long idle = k.cpu(1).idleTask().address();
        long[] saved = contextWords(k, idle);
        long schedule = k.symbol("__schedule");
        long pc = saved[slot(k, "pc")];
        long sp = saved[slot(k, "sp")];
        assertEquals(low(schedule, facts().longSize()), pc & -0x400L, "the saved pc returns into __schedule");
        long stack = k.task(idle).stack();
        assertTrue(sp > stack && sp < stack + facts().threadSize(), "the saved sp is on the idle task's stack");
        assertEquals(idle, k.cpu(1).registers()[0], "switch_to returns prev in r0/x0");
        assertEquals(init, k.cpu(0).current().address());
        assertEquals(child, k.cpu(1).current().address());
    }

    private byte[] toBytes(long[] words) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(words.length * facts().longSize())
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long w : words) {
            if (facts().longSize() == 8) {
                b.putLong(w);
            } else {
                b.putInt((int) w);
            }
        }
        return b.array();
    }
}
