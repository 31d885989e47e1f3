package io.github.kproc.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.kernel.Pid;
import io.github.kproc.kernel.contract.ArchFacts;
import io.github.kproc.kernel.contract.CopyThreadContract;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.view.ThreadInfo;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class Arm64CopyThreadTest extends CopyThreadContract {
    /** {@code TIF_SVE} (arch/arm64/include/asm/thread_info.h). */
    private static final int TIF_SVE = 23;

    @Override
    protected Platform platform() {
        return Platforms.bundled(arch().profile());
    }

    @Override
    protected ArchFacts arch() {
        return ArchFacts.ARM64_DEFCONFIG;
    }

    @Test
    @DisplayName("copy_thread (arm64): clear_tsk_thread_flag(p, TIF_SVE) and p->thread.sve_state = NULL")
    void sveStateIsNotInherited() {
        Kernel k = boot(2);
        AddressSpace m = k.addressSpace();
        long init = address(k, 1);
        long sveState = platform().offsets().required("task_struct", "thread.sve_state");
        ThreadInfo parent = k.task(init).threadInfo();
        parent.flag(TIF_SVE, true);
        m.writeLong(init + sveState, 0xffff800012340000L);
        k.cpu(0).run(Pid.INIT);
        long child = address(k, k.cpu(0).fork().nr());
        assertFalse(k.task(child).threadInfo().testFlag(TIF_SVE));
        assertEquals(0, m.readLong(child + sveState));
        assertTrue(parent.testFlag(TIF_SVE), "the parent keeps its own");
    }
}
