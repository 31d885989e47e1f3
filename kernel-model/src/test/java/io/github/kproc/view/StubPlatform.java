package io.github.kproc.view;

import io.github.kproc.arch.Architecture;
import io.github.kproc.arch.Platform;
import io.github.kproc.layout.Profile;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.MemoryMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A platform over a real profile for tests in kernel-model, which cannot see the backends: the facts
 * {@link Trace32} reads (pointer size, THREAD_INFO_IN_TASK, offsets, TIF names) come from the profile
 * and the names given; the rest is unused here.
 */
final class StubPlatform extends Platform {
    private final Map<Integer, String> tifNames;

    StubPlatform(Profile profile, Map<Integer, String> tifNames) {
        super(new StubArchitecture(), profile);
        this.tifNames = tifNames;
    }

    private static final class StubArchitecture implements Architecture {
        @Override
        public String name() {
            return "stub";
        }

        @Override
        public boolean supports(Profile profile) {
            return true;
        }

        @Override
        public List<String> bundledProfiles() {
            return List.of();
        }

        @Override
        public Profile loadProfile(String name) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Platform bind(Profile profile) {
            throw new UnsupportedOperationException();
        }
    }

    @Override
    public @Nullable String tifName(int bit) {
        return tifNames.get(bit);
    }

    @Override
    public int pageSize() {
        return 4096;
    }

    @Override
    public long textBase() {
        throw new UnsupportedOperationException();
    }

    @Override
    public int pgdOrder() {
        throw new UnsupportedOperationException();
    }

    @Override
    public long threadSize() {
        throw new UnsupportedOperationException();
    }

    @Override
    public long threadAlign() {
        throw new UnsupportedOperationException();
    }

    @Override
    public boolean vmapStack() {
        throw new UnsupportedOperationException();
    }

    @Override
    public long ptRegsSize() {
        throw new UnsupportedOperationException();
    }

    @Override
    public long kernelDs() {
        throw new UnsupportedOperationException();
    }

    @Override
    public long userDs() {
        throw new UnsupportedOperationException();
    }

    @Override
    public MemoryMap memoryMap(long ramBytes) {
        throw new UnsupportedOperationException();
    }

    @Override
    public String cpuContextStruct() {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<String> cpuContextRegisters() {
        throw new UnsupportedOperationException();
    }

    @Override
    public long cpuContext(AddressSpace memory, long task) {
        throw new UnsupportedOperationException();
    }

    @Override
    public long taskPtRegs(AddressSpace memory, long task) {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<String> cpuRegisters() {
        throw new UnsupportedOperationException("the view tests run no CPU");
    }

    @Override
    public long currentTask(AddressSpace memory, long[] registers) {
        throw new UnsupportedOperationException("the view tests run no CPU");
    }

    @Override
    public void enterTask(long[] registers, long task, long sp) {
        throw new UnsupportedOperationException("the view tests run no CPU");
    }

    @Override
    public void switchTo(AddressSpace memory, long[] registers, long prev, long next) {
        throw new UnsupportedOperationException("the view tests switch no task");
    }

    @Override
    public void copyThread(AddressSpace memory, long cloneFlags, long stackStart, long stackArg, long parent,
            long child, boolean kernelThread, long retFromFork) {
        throw new UnsupportedOperationException("the view tests fork no task");
    }

    @Override
    public void setSyscallArgument(AddressSpace memory, long task, int index, long value) {
        throw new UnsupportedOperationException("the view tests make no system call");
    }
}
