package io.github.kproc.arm32;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.sched.SchedContract;

/** {@link SchedContract} on the bundled linux-4.19-arm32-vexpress build. */
class Arm32SchedTest extends SchedContract {
    @Override
    protected Platform platform() {
        return Platforms.bundled("linux-4.19-arm32-vexpress");
    }
}
