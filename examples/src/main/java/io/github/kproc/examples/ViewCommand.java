package io.github.kproc.examples;

import io.github.kproc.arch.Platform;
import io.github.kproc.layout.StructLayout;
import io.github.kproc.mem.AddressSpace;
import io.github.kproc.mem.MemoryFaultException;
import io.github.kproc.view.Trace32;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;

/** {@code kproc view}: a struct in a raw memory image, as the TRACE32 debugger's Var.View shows it. */
final class ViewCommand implements Command {
    private static final Set<String> OPTIONS = union(Build.OPTIONS, Set.of("image", "base"));

    @Override
    public String name() {
        return "view";
    }

    @Override
    public String summary() {
        return "show a struct in a memory image as TRACE32's Var.View does";
    }

    @Override
    public String usage() {
        return """
                usage: kproc view (--profile NAME | --pahole FILE --config FILE) --image FILE --base ADDR STRUCT ADDR
                Shows STRUCT (thread_info, 'struct thread_info', 'union fp_state') at kernel address ADDR of
                a raw little-endian memory image, as 'Var.View %Type %Hex %Decimal %Index' shows it. When the
                build's architecture is known, the flags and preempt_count of thread_info (and of arm64's
                task_struct, which embeds it) are decoded below the view.

                  --image FILE     the memory image (mapped read-only, never read whole into memory)
                  --base ADDR      the kernel address of the image's first byte
                """ + Build.OPTIONS_USAGE + """

                ADDR and --base are unsigned 64-bit numbers, decimal or 0x-hex.
                """;
    }

    @Override
    public void run(List<String> args, PrintStream out, PrintStream err) throws UsageException {
        Options options = Options.parse(name(), args, OPTIONS);
        List<String> positionals = options.positionals("STRUCT", "ADDR");
        String type = positionals.get(0);
        long address = Options.number("ADDR", positionals.get(1));
        Path image = Path.of(options.require("image"));
        long base = Options.number("--base", options.require("base"));
        Build build = Build.from(name(), options);
        StructLayout layout;
        try {
            layout = build.profile().struct(type);
        } catch (NoSuchElementException e) {
            throw new UsageException(e.getMessage());
        }
        if (Files.isDirectory(image)) {
            throw new UsageException("cannot read " + image + ": is a directory");
        }
        try (FileChannel file = FileChannel.open(image, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = file.size();
            checkInside(layout, address, image, base, size);
            MemorySegment bytes = file.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            AddressSpace memory = AddressSpace.ofImage(bytes, base, build.pointerSize());
            Platform platform = build.platform();
            out.print(platform != null ? Trace32.view(platform, memory, type, address)
                    : Trace32.view(build.profile(), memory, type, address));
        } catch (IOException e) {
            throw UsageException.cannotRead(e);
        } catch (MemoryFaultException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** Says whether the address misses the image or the struct runs past its end. */
    private static void checkInside(StructLayout layout, long address, Path image, long base, long size)
            throws UsageException {
        String extent = size == 0 ? "is empty" : String.format("holds 0x%X..0x%X", base, base + size - 1);
        long offset = address - base;
        if (Long.compareUnsigned(offset, size) >= 0) {
            throw new UsageException(String.format("address 0x%X is outside the image: %s %s", address, image,
                    extent));
        }
        if (Long.compareUnsigned(layout.size(), size - offset) > 0) {
            throw new UsageException(String.format("truncated image: %s at 0x%X needs %d bytes, but %s %s",
                    layout.cName(), address, layout.size(), image, extent));
        }
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
