package io.github.kproc.arm64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.kproc.arch.Platform;
import io.github.kproc.arch.Platforms;
import io.github.kproc.image.Crash;
import io.github.kproc.image.KernelImage;
import io.github.kproc.image.VmcoreWriter;
import io.github.kproc.kernel.Kernel;
import io.github.kproc.layout.Profile;
import io.github.kproc.testkit.Workload;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The swapper_pg_dir walk of {@code KernelImage} for the other arm64 granules and VA sizes: a 64K-page
 * build (three levels of 8192-entry tables for 48-bit VAs, 64 KiB VMAP stacks at 128 KiB alignment)
 * and a 39-bit VA build (three levels of 4K tables). The layouts are the bundled defconfig's, the
 * config says which translation regime the MMU uses; the VMAP stacks of a vmcore written by the model
 * are found only through the page tables, so bt -v passing for every task proves the walk.
 */
class Arm64VmcorePageTablesTest {
    @TempDir
    Path temp;

    private static String resource(String name) throws IOException {
        try (InputStream in = Arm64Platform.class.getResourceAsStream("linux-4.19-arm64-defconfig/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @ParameterizedTest
    @CsvSource({"16, 48", "12, 39", "12, 48"})
    void psAndBtReadBackThroughThePageTables(int pageShift, int vaBits) throws Exception {
        String config = resource("config").replace("CONFIG_ARM64_PAGE_SHIFT=12", "CONFIG_ARM64_PAGE_SHIFT=" + pageShift)
                .replace("CONFIG_ARM64_VA_BITS=48", "CONFIG_ARM64_VA_BITS=" + vaBits);
        Profile profile = Profile.parse("arm64-" + pageShift + "-" + vaBits,
                List.of(resource("structs.pahole"), resource("sched.pahole"), resource("rcu.pahole"),
                        resource("ipc.pahole"), resource("namespace.pahole"), resource("vmalloc.pahole")), config);
        Platform platform = Platforms.of(profile);
        assertEquals(1 << pageShift, platform.pageSize());
        try (Kernel k = Kernel.builder(platform).cpus(2).memory(128L << 20).boot()) {
            Workload.generate(pageShift * 100L + vaBits, 200).apply(k);
            Path file = temp.resolve("vmcore");
            VmcoreWriter.write(k, file);
            Crash live = new Crash(k, io.github.kproc.image.SymbolTable.of(k.symbols()));
            try (KernelImage image = KernelImage.open(platform, file, null, OptionalLong.empty())) {
                Crash read = new Crash(image);
                assertEquals(live.formatPs(live.ps()), read.formatPs(read.ps()));
                List<Crash.StackCheck> checks = read.bt();
                assertTrue(checks.stream().anyMatch(c -> !c.stackFreed()));
                for (Crash.StackCheck c : checks) {
                    assertTrue(c.passed(), read.formatBt(List.of(c)));
                    if (!c.stackFreed()) {
                        // the stack is in the vmalloc area, below PAGE_OFFSET: reached by the walk alone
                        assertTrue(Long.compareUnsigned(c.stack(), -(1L << (vaBits - 1))) < 0);
                        assertEquals(k.addressSpace().readLong(c.stack()), image.addressSpace().readLong(c.stack()));
                    }
                }
                assertEquals(live.formatBt(live.bt()), read.formatBt(checks));
            }
        }
    }
}
