package io.github.kproc.image;

import io.github.kproc.arch.Platform;
import io.github.kproc.layout.Kconfig;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.MemoryFaultException;
import io.github.kproc.view.KernelReader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * A {@link KernelReader} over a kernel's memory that is not a live model: an ELF core (QEMU's
 * {@code dump-guest-memory}, kdump's {@code /proc/vmcore}, one the model wrote) or a raw image, with
 * the symbols of its build. The same views, test kit and {@link Crash} commands read it as they read
 * a live {@code Kernel}.
 *
 * <p>Kernel virtual addresses are translated as the kernel does:
 * <ul>
 * <li>ARM32 lowmem: {@code phys = virt - PAGE_OFFSET + PHYS_OFFSET}, {@code PAGE_OFFSET} from the
 * profile's {@code CONFIG_PAGE_OFFSET};</li>
 * <li>arm64's linear map: {@code phys = (virt & ~PAGE_OFFSET) + PHYS_OFFSET}; the kernel image by
 * {@code kimage_voffset} when the VMCOREINFO gives it; every other kernel address (the vmalloc area,
 * VMAP stacks) by walking {@code swapper_pg_dir}'s page tables as the MMU does (4K or 64K granule,
 * the profile's {@code CONFIG_ARM64_VA_BITS}).</li>
 * </ul>
 * {@code PHYS_OFFSET} comes, in this order, from an explicit value, the VMCOREINFO's
 * {@code NUMBER(PHYS_OFFSET)}, or the lowest {@code PT_LOAD} at which {@code init_task} checks out
 * (its stack's {@code thread_info.task} or its {@code tasks} list points back); {@link #physOffsetSource()}
 * says which. A physical address is found in the {@code PT_LOAD} that holds it.
 */
public final class KernelImage implements KernelReader, AutoCloseable {
    private final Platform platform;
    private final AddressSpace space;
    private final SymbolTable symbols;
    private final List<long[]> registers;
    private final int cpus;
    private final @Nullable ElfCore core;
    private final long physOffset;
    private final String physOffsetSource;
    private final Map<String, String> vmcoreinfo;
    private final @Nullable Translator translator;

    private KernelImage(Platform platform, AddressSpace space, SymbolTable symbols, List<long[]> registers, int cpus,
            @Nullable ElfCore core, long physOffset, String physOffsetSource, Map<String, String> vmcoreinfo,
            @Nullable Translator translator) {
        this.platform = platform;
        this.space = space;
        this.symbols = symbols;
        this.registers = registers;
        this.cpus = cpus;
        this.core = core;
        this.physOffset = physOffset;
        this.physOffsetSource = physOffsetSource;
        this.vmcoreinfo = vmcoreinfo;
        this.translator = translator;
    }

    /**
     * Opens an ELF core of a build of {@code platform}.
     *
     * @param symbols the build's System.map or vmlinux symbols, or null to use the VMCOREINFO's
     *     {@code SYMBOL(name)} lines alone (a vmcore the model wrote has every symbol a reader needs)
     * @param physOffset {@code PHYS_OFFSET} to use, or empty to find it
     * @throws ImageFormatException if the file is not an ELF core of the platform's architecture, or
     *     no symbols are given and the dump has none
     * @throws IOException if the file cannot be read
     */
    public static KernelImage open(Platform platform, Path vmcore, @Nullable SymbolTable symbols,
            OptionalLong physOffset) throws IOException {
        ElfCore core = ElfCore.open(vmcore);
        try {
            return of(platform, core, symbols, physOffset);
        } catch (RuntimeException e) {
            core.close();
            throw e;
        }
    }

    /** A reader over an ELF core already opened; closing the image closes the core. */
    public static KernelImage of(Platform platform, ElfCore core, @Nullable SymbolTable symbols, OptionalLong physOffset) {
        int ptr = platform.pointerSize();
        int expectedMachine = ptr == 4 ? ElfCore.EM_ARM : ElfCore.EM_AARCH64;
        if (core.machine() != expectedMachine) {
            throw new ImageFormatException("the dump is of machine " + core.machine() + " (e_machine), "
                    + platform + " is of " + expectedMachine);
        }
        Map<String, String> info = parseVmcoreinfo(core.vmcoreinfo().orElse(""));
        SymbolTable table = mergeSymbols(symbols, info);
        if (table.find("init_task").isEmpty()) {
            throw new ImageFormatException("no symbol init_task: give the build's System.map or vmlinux");
        }
        Translator tr = new Translator(platform, core, info);
        String source;
        long phys;
        if (physOffset.isPresent()) {
            phys = physOffset.getAsLong();
            source = String.format("PHYS_OFFSET 0x%x as given", phys);
        } else if (info.containsKey("NUMBER(PHYS_OFFSET)")) {
            phys = number(info.get("NUMBER(PHYS_OFFSET)"));
            source = String.format("PHYS_OFFSET 0x%x from the VMCOREINFO", phys);
        } else {
            List<ElfCore.Segment> bySize = new ArrayList<>(core.loads());
            bySize.sort(Comparator.comparingLong(ElfCore.Segment::physical));
            if (bySize.isEmpty()) {
                throw new ImageFormatException("the dump has no PT_LOAD segment");
            }
            phys = bySize.get(0).physical();
            source = String.format("PHYS_OFFSET 0x%x from the lowest PT_LOAD (init_task does not check out at any)", phys);
            for (ElfCore.Segment s : bySize) {
                tr.physOffset = s.physical();
                if (initTaskChecksOut(platform, tr.space(), table.address("init_task"))) {
                    phys = s.physical();
                    source = String.format("PHYS_OFFSET 0x%x from the lowest PT_LOAD at which init_task checks out", phys);
                    break;
                }
            }
        }
        tr.physOffset = phys;
        List<long[]> regs = new ArrayList<>();
        List<long[]> full = core.kprocRegisters();
        int names = platform.cpuRegisters().size();
        for (int c = 0; c < core.prstatus().size(); c++) {
            long[] r = registersOf(platform, core.prstatus().get(c));
            if (c < full.size() && full.get(c).length == names) {
                r = full.get(c).clone();
            }
            regs.add(r);
        }
        int cpus = regs.size();
        if (cpus == 0) {
            cpus = 1;
            OptionalLong nr = table.find("nr_cpu_ids");
            if (nr.isPresent()) {
                try {
                    cpus = Math.max(1, Math.min(platform.nrCpus(), tr.space().readInt(nr.getAsLong())));
                } catch (MemoryFaultException e) {
                    cpus = 1;
                }
            }
        }
        tr.swapperPgDir = table.find("swapper_pg_dir");
        OptionalLong high = table.find("high_memory");
        if (ptr == 4 && high.isPresent()) {
            try {
                long value = tr.space().readPointer(high.getAsLong());
                long pageOffset = platform.profile().config().number("CONFIG_PAGE_OFFSET", 0xC0000000L);
                tr.highMemory = Long.compareUnsigned(value, pageOffset) > 0 ? value : 0;
            } catch (MemoryFaultException e) {
                tr.highMemory = 0;
            }
        }
        AddressSpace space = tr.space();
        return new KernelImage(platform, space, table, List.copyOf(regs), cpus, core, phys, source, Map.copyOf(info), tr);
    }

    /**
     * A reader over memory already in an address space (a raw image through
     * {@link AddressSpace#ofImage}), with its symbols and each CPU's registers (by
     * {@link Platform#cpuRegisters()}).
     */
    public static KernelImage of(Platform platform, AddressSpace memory, SymbolTable symbols, List<long[]> registers) {
        if (memory.pointerSize() != platform.pointerSize()) {
            throw new IllegalArgumentException("the memory has " + memory.pointerSize() + "-byte pointers, " + platform
                    + " " + platform.pointerSize() + "-byte ones");
        }
        List<long[]> copy = new ArrayList<>();
        for (long[] r : registers) {
            copy.add(r.clone());
        }
        return new KernelImage(platform, memory, symbols, List.copyOf(copy), Math.max(1, copy.size()), null, 0,
                "not used (a raw image)", Map.of(), null);
    }

    /** init_task's stack leads back to it (ARM32 thread_info.task), or its tasks list is consistent. */
    private static boolean initTaskChecksOut(Platform platform, AddressSpace m, long initTask) {
        try {
            var o = platform.offsets();
            if (!platform.threadInfoInTask()) {
                long ti = m.readPointer(initTask + o.taskStack);
                return m.readPointer(ti + o.tiTask) == initTask;
            }
            long next = m.readPointer(initTask + o.taskTasks);
            long prev = m.readPointer(initTask + o.taskTasks + platform.pointerSize());
            return m.readPointer(next + platform.pointerSize()) == initTask + o.taskTasks
                    && m.readPointer(prev) == initTask + o.taskTasks;
        } catch (MemoryFaultException e) {
            return false;
        }
    }

    private static SymbolTable mergeSymbols(@Nullable SymbolTable given, Map<String, String> info) {
        Map<String, Long> fromInfo = new HashMap<>();
        for (var e : info.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("SYMBOL(") && k.endsWith(")")) {
                try {
                    fromInfo.put(k.substring(7, k.length() - 1), Long.parseUnsignedLong(e.getValue(), 16));
                } catch (NumberFormatException ignored) {
                    // a malformed line is not a symbol
                }
            }
        }
        if (given == null) {
            return SymbolTable.of(fromInfo);
        }
        return given;
    }

    /** {@code KEY=VALUE} lines; a later key wins. */
    static Map<String, String> parseVmcoreinfo(String text) {
        Map<String, String> map = new HashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                map.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
        return map;
    }

    private static long number(@Nullable String value) {
        if (value == null) {
            throw new ImageFormatException("VMCOREINFO number missing");
        }
        try {
            return value.startsWith("0x") ? Long.parseUnsignedLong(value.substring(2), 16) : Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new ImageFormatException("VMCOREINFO: not a number: " + value);
        }
    }

    /**
     * {@code pr_reg} into the platform's register order, by name: ARM32 r0-r12 (sl, fp, ip), sp, lr,
     * pc, cpsr; arm64 x0-x30, sp, pc. A register the note does not hold is 0.
     */
    private static long[] registersOf(Platform platform, long[] prReg) {
        List<String> names = platform.cpuRegisters();
        long[] out = new long[names.size()];
        for (int i = 0; i < names.size(); i++) {
            int index = prRegIndex(platform.pointerSize() == 4, names.get(i));
            if (index >= 0 && index < prReg.length) {
                out[i] = prReg[index];
            }
        }
        return out;
    }

    private static int prRegIndex(boolean arm32, String name) {
        if (arm32) {
            return switch (name) {
                case "sl" -> 10;
                case "fp" -> 11;
                case "ip" -> 12;
                case "sp" -> 13;
                case "lr" -> 14;
                case "pc" -> 15;
                case "cpsr" -> 16;
                default -> name.matches("r[0-9]+") ? Integer.parseInt(name.substring(1)) : -1;
            };
        }
        return switch (name) {
            case "sp" -> 31;
            case "pc" -> 32;
            case "pstate" -> 33;
            default -> name.matches("x[0-9]+") ? Integer.parseInt(name.substring(1)) : -1;
        };
    }

    /**
     * Where each kernel address is in the file: the lowmem (linear map) segment directly, any other
     * physical address through the PT_LOAD that holds it, the vmalloc area by a page-table walk.
     */
    private static final class Translator {
        private final Platform platform;
        private final ElfCore core;
        private final ElfCore.Segment[] segments;
        private final boolean arm32;
        private final long pageOffset;
        private final int vaBits;
        private final int granuleShift;
        private final long kimageVoffset;
        private final boolean hasKimageVoffset;
        long physOffset;
        OptionalLong swapperPgDir = OptionalLong.empty();
        /** ARM32 {@code high_memory}: the end of lowmem, above which addresses are translated by the tables (0: unknown). */
        long highMemory;
        /** A one-entry TLB of the last page-table walk. */
        private long tlbPage = -1;
        private long tlbPhys;

        Translator(Platform platform, ElfCore core, Map<String, String> info) {
            this.platform = platform;
            this.core = core;
            this.segments = core.loads().toArray(ElfCore.Segment[]::new);
            this.arm32 = platform.pointerSize() == 4;
            Kconfig config = platform.profile().config();
            this.vaBits = (int) config.number("CONFIG_ARM64_VA_BITS", 48);
            this.granuleShift = (int) config.number("CONFIG_ARM64_PAGE_SHIFT", 12);
            this.pageOffset = arm32 ? config.number("CONFIG_PAGE_OFFSET", 0xC0000000L) : -(1L << (vaBits - 1));
            String kv = info.get("NUMBER(kimage_voffset)");
            this.hasKimageVoffset = kv != null;
            this.kimageVoffset = kv == null ? 0 : number(kv);
        }

        AddressSpace space() {
            int ptr = platform.pointerSize();
            // the direct region: the segment holding PHYS_OFFSET, from PHYS_OFFSET on, at PAGE_OFFSET
            for (ElfCore.Segment s : segments) {
                long into = physOffset - s.physical();
                if (Long.compareUnsigned(into, s.available()) < 0) {
                    long size = s.available() - into;
                    if (arm32) {
                        size = Math.min(size, (highMemory != 0 ? highMemory : 1L << 32) - pageOffset);
                    }
                    return AddressSpace.ofTranslation(core.file(), ptr, pageOffset, s.fileOffset() + into, size,
                            this::offset);
                }
            }
            return AddressSpace.ofTranslation(core.file(), ptr, 0, 0, 0, this::offset);
        }

        /** The physical address of a kernel address by the kernel's rules, or -1. */
        long physical(long address) {
            if (arm32) {
                if (Long.compareUnsigned(address, pageOffset) < 0 || address > 0xffffffffL) {
                    return -1;
                }
                return highMemory == 0 || address < highMemory ? address - pageOffset + physOffset : walk(address, 1);
            }
            if (Long.compareUnsigned(address, pageOffset) >= 0) {
                return (address & ~pageOffset) + physOffset;
            }
            return Long.compareUnsigned(address, -(1L << vaBits)) >= 0 ? walk(address, 1) : -1;
        }

        /** The table walk alone, without the one-entry TLB. */
        long walkPageUncached(long address) {
            tlbPage = -1;
            long phys = walkPage(address);
            tlbPage = -1;
            return phys;
        }

        /** The file offset of {@code [address, address + length)}, or -1. */
        long offset(long address, long length) {
            long phys;
            if (arm32) {
                if (Long.compareUnsigned(address, pageOffset) < 0 || address > 0xffffffffL) {
                    return -1;
                }
                if (highMemory == 0 || address < highMemory) {
                    phys = address - pageOffset + physOffset;
                } else {
                    phys = walk(address, length);
                    if (phys == -1) {
                        return -1;
                    }
                }
            } else if (Long.compareUnsigned(address, pageOffset) >= 0) {
                phys = (address & ~pageOffset) + physOffset;
            } else if (Long.compareUnsigned(address, -(1L << vaBits)) >= 0) {
                phys = walk(address, length);
                if (phys == -1) {
                    return -1;
                }
            } else {
                return -1;
            }
            return physToFile(phys, length);
        }

        long physToFile(long phys, long length) {
            for (ElfCore.Segment s : segments) {
                long off = phys - s.physical();
                if (Long.compareUnsigned(off, s.available()) < 0 && Long.compareUnsigned(length, s.available() - off) <= 0) {
                    return s.fileOffset() + off;
                }
            }
            return -1;
        }

        /**
         * The MMU's translation table walk for a kernel address (TTBR1): {@code swapper_pg_dir} at
         * level {@code 4 - levels}, 8-byte descriptors, table descriptors (bits 1:0 = 3) above the last
         * level, block descriptors (1) at levels 1 and 2, page descriptors (3) at the last. -1 if
         * unmapped, or if the access crosses into a page that is not physically next.
         */
        private long walk(long address, long length) {
            long pageMask = (1L << granuleShift) - 1;
            long first = walkPage(address);
            if (first == -1 || (address & pageMask) + length <= pageMask + 1) {
                return first;
            }
            // an access across pages is backed only if every page maps to the next physical page
            long pages = ((address & pageMask) + length - 1) >>> granuleShift;
            for (long i = 1; i <= pages; i++) {
                long next = walkPage((address & ~pageMask) + (i << granuleShift));
                if (next != (first & ~pageMask) + (i << granuleShift)) {
                    return -1;
                }
            }
            return first;
        }

        private long walkPage(long address) {
            long pageMask = (1L << granuleShift) - 1;
            long page = address & ~pageMask;
            if (page == tlbPage) {
                return tlbPhys + (address & pageMask);
            }
            if (swapperPgDir.isEmpty()) {
                return -1;
            }
            if (arm32) {
                return walkShortDescriptor(address);
            }
            long table = tablePhys(swapperPgDir.getAsLong());
            if (table == -1) {
                return -1;
            }
            int bitsPerLevel = granuleShift - 3;
            int levels = (vaBits - granuleShift + bitsPerLevel - 1) / bitsPerLevel;
            for (int level = 0; level < levels; level++) {
                int shift = granuleShift + (levels - 1 - level) * bitsPerLevel;
                int indexBits = Math.min(bitsPerLevel, vaBits - shift);
                long index = (address >>> shift) & ((1L << indexBits) - 1);
                long at = physToFile(table + 8 * index, 8);
                if (at == -1) {
                    return -1;
                }
                long desc = core.file().get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED
                        .withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), at);
                long outMask = ((1L << 48) - 1) & ~pageMask;
                boolean last = level == levels - 1;
                if ((desc & 1) == 0) {
                    return -1;
                }
                if (!last && (desc & 2) == 0) {
                    long blockMask = (1L << shift) - 1;
                    long phys = (desc & outMask & ~blockMask) + (address & blockMask);
                    return phys;
                }
                if (last) {
                    if ((desc & 2) == 0) {
                        return -1;
                    }
                    tlbPage = page;
                    tlbPhys = desc & outMask;
                    return tlbPhys + (address & pageMask);
                }
                table = desc & outMask;
            }
            return -1;
        }

        /**
         * ARM's short-descriptor walk (ARMv7 without LPAE, what 4.19 builds without
         * {@code CONFIG_ARM_LPAE} use): the first-level entry of {@code swapper_pg_dir} for the top
         * 12 bits is a section (1 MiB, or a 16 MiB supersection with bit 18) or points to a
         * second-level table of 256 entries, each a small (4 KiB) or large (64 KiB) page.
         */
        private long walkShortDescriptor(long address) {
            long l1 = readPhys32(swapperPgDir.getAsLong() - pageOffset + physOffset + 4 * (address >>> 20));
            switch ((int) (l1 & 3)) {
                case 1 -> {
                    long l2 = readPhys32((l1 & 0xfffffc00L) + 4 * ((address >>> 12) & 0xff));
                    if ((l2 & 2) != 0) {
                        tlbPage = address & ~0xfffL;
                        tlbPhys = l2 & 0xfffff000L;
                        return tlbPhys + (address & 0xfff);
                    }
                    return (l2 & 3) == 1 ? (l2 & 0xffff0000L) | (address & 0xffff) : -1;
                }
                case 2 -> {
                    return (l1 & (1 << 18)) != 0 ? (l1 & 0xff000000L) | (address & 0xffffff)
                            : (l1 & 0xfff00000L) | (address & 0xfffff);
                }
                default -> {
                    return -1;
                }
            }
        }

        /** A 32-bit word at a physical address, -1 (no valid descriptor) if no segment holds it. */
        private long readPhys32(long phys) {
            if (phys < 0) {
                return -1;
            }
            long at = physToFile(phys, 4);
            return at == -1 ? 0 : Integer.toUnsignedLong(core.file().get(
                    java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), at));
        }

        /** The physical address of a kernel data symbol (linear map, or the image by kimage_voffset). */
        private long tablePhys(long virt) {
            if (Long.compareUnsigned(virt, pageOffset) >= 0) {
                return (virt & ~pageOffset) + physOffset;
            }
            return hasKimageVoffset ? virt - kimageVoffset : -1;
        }
    }

    @Override
    public Platform platform() {
        return platform;
    }

    @Override
    public AddressSpace addressSpace() {
        return space;
    }

    @Override
    public long symbol(String name) {
        return symbols.address(name);
    }

    /** The symbols (System.map, vmlinux, or the VMCOREINFO's). */
    public SymbolTable symbols() {
        return symbols;
    }

    @Override
    public int cpus() {
        return cpus;
    }

    /**
     * The CPU's registers from its {@code NT_PRSTATUS} (all zero if the dump has none for it); from
     * the model's own {@code KPROC} note where the dump has one, which holds the registers
     * {@code pr_reg} has no room for.
     */
    @Override
    public long[] registers(int cpu) {
        if (cpu < 0 || cpu >= cpus) {
            throw new IndexOutOfBoundsException("CPU " + cpu + " of " + cpus);
        }
        return cpu < registers.size() ? registers.get(cpu).clone() : new long[platform.cpuRegisters().size()];
    }

    /** True if the dump has an {@code NT_PRSTATUS} for the CPU. */
    public boolean hasRegisters(int cpu) {
        return cpu >= 0 && cpu < registers.size();
    }

    /**
     * The physical address of a kernel virtual address by the rules above (linear map, or the page
     * tables where the kernel uses them), if it is one the dump can hold.
     */
    public OptionalLong physical(long virtualAddress) {
        long phys = translator == null ? -1 : translator.physical(virtualAddress);
        return phys == -1 ? OptionalLong.empty() : OptionalLong.of(phys);
    }

    /**
     * The physical address the MMU would find for a kernel virtual address by walking
     * {@code swapper_pg_dir} (ARM32 short descriptors, arm64 4K or 64K granule), whatever region the
     * address is in; empty if it is unmapped or the dump has no {@code swapper_pg_dir}. For a lowmem
     * or linear-map address it agrees with {@link #physical(long)}.
     */
    public OptionalLong pageTableWalk(long virtualAddress) {
        long phys = translator == null ? -1 : translator.walkPageUncached(virtualAddress);
        return phys == -1 ? OptionalLong.empty() : OptionalLong.of(phys);
    }

    /** {@code PHYS_OFFSET} used. */
    public long physOffset() {
        return physOffset;
    }

    /** Where {@link #physOffset()} came from, in words. */
    public String physOffsetSource() {
        return physOffsetSource;
    }

    /** The VMCOREINFO's {@code KEY=VALUE} entries (empty if the dump has none). */
    public Map<String, String> vmcoreinfo() {
        return vmcoreinfo;
    }

    /** Unmaps the dump (if this reader opened it). */
    @Override
    public void close() {
        if (core != null) {
            core.close();
        }
    }
}
