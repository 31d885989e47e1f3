package io.github.kproc.arm64;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.kernel.contract.ArchFacts;
import io.github.kproc.kernel.contract.TestKitContract;

class Arm64TestKitTest extends TestKitContract {
    @Override
    protected Platform platform() {
        return Platforms.bundled(arch().profile());
    }

    @Override
    protected ArchFacts arch() {
        return ArchFacts.ARM64_DEFCONFIG;
    }
}
