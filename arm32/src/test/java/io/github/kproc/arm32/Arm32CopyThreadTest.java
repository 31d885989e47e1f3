package io.github.kproc.arm32;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.contract.ArchFacts;
import io.github.kproc.kernel.contract.CopyThreadContract;
import io.github.kproc.mem.AddressSpace;
import java.util.HexFormat;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class Arm32CopyThreadTest extends CopyThreadContract {
    @Override
    protected Platform platform() {
        return Platforms.bundled(arch().profile());
    }

    @Override
    protected ArchFacts arch() {
        return ArchFacts.ARM32_VEXPRESS;
    }

    @Test
    @DisplayName("copy_thread -> thread_notify(THREAD_NOTIFY_COPY) -> vfp_thread_copy: the parent's VFP state, hard.cpu = NR_CPUS")
    void vfpStateIsCopiedWithNoCpu() {
        Kernel k = boot(2);
        AddressSpace m = k.addressSpace();
        long parentTi = k.task(Pid.INIT).orElseThrow().stack();
        // thread_info.vfpstate (TI_VFPSTATE 248); vfp_hard_struct.cpu at 272 (VFP_CPU)
        long vfp = 248;
        long cpu = vfp + 272;
        m.writeInt(parentTi + vfp + 256, 0x40000000);
        m.writeInt(parentTi + cpu, 1);
        k.cpu(0).run(Pid.INIT);
        long childTi = k.task(k.cpu(0).fork()).orElseThrow().stack();
        assertEquals(8, m.readInt(childTi + cpu), "NR_CPUS: the state is in no CPU's VFP registers");
        byte[] mine = m.readBytes(childTi + vfp, 280);
        byte[] theirs = m.readBytes(parentTi + vfp, 280);
        java.util.Arrays.fill(mine, 272, 276, (byte) 0);
        java.util.Arrays.fill(theirs, 272, 276, (byte) 0);
        assertEquals(HexFormat.of().formatHex(theirs), HexFormat.of().formatHex(mine));
    }
}
