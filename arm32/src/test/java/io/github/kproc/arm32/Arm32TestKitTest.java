package io.github.kproc.arm32;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.contract.ArchFacts;
import io.github.kproc.kernel.contract.TestKitContract;

class Arm32TestKitTest extends TestKitContract {
    @Override
    protected Platform platform() {
        return Platforms.bundled(arch().profile());
    }

    @Override
    protected ArchFacts arch() {
        return ArchFacts.ARM32_VEXPRESS;
    }
}
