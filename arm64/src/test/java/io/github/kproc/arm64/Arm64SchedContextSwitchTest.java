package io.github.kproc.arm64;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.sched.ContextSwitchContract;

/** {@link ContextSwitchContract} on the bundled linux-4.19-arm64-defconfig build. */
class Arm64SchedContextSwitchTest extends ContextSwitchContract {
    @Override
    protected Platform platform() {
        return Platforms.bundled("linux-4.19-arm64-defconfig");
    }
}
