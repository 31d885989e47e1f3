package io.github.kproc.arm32;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.sched.FtraceContract;

/** {@link FtraceContract} on the bundled linux-4.19-arm32-vexpress build. */
class Arm32SchedFtraceTest extends FtraceContract {
    @Override
    protected Platform platform() {
        return Platforms.bundled("linux-4.19-arm32-vexpress");
    }
}
