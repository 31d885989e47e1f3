package io.github.kproc.arm32;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.sched.PreemptContract;

/** {@link PreemptContract} on the bundled linux-4.19-arm32-vexpress build. */
class Arm32SchedPreemptTest extends PreemptContract {
    @Override
    protected Platform platform() {
        return Platforms.bundled("linux-4.19-arm32-vexpress");
    }
}
