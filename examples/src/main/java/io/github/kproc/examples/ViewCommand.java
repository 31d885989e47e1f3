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

                  --image FILE     the memory image (mapped read-only, never read whole into memory); a
                                   FILE ending in .gz or .xz is decompressed to a temporary file first
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
        checkRegularFile(image);
        long top = build.pointerSize() == 8 ? -1L : 0xffff_ffffL;
        if (Long.compareUnsigned(address, top) > 0 || Long.compareUnsigned(base, top) > 0) {
            throw new UsageException(String.format("address 0x%X or --base 0x%X is past the %d-bit address space of %s",
                    address, base, build.pointerSize() * 8, build.profile().name()));
        }
        Path temporary = null;
        try {
            String fileName = image.getFileName() == null ? "" : image.getFileName().toString();
            if (fileName.endsWith(".gz") || fileName.endsWith(".xz")) {
                temporary = decompress(image, fileName.endsWith(".xz"));
            }
            show(build, type, layout, address, image, temporary != null ? temporary : image, base, out);
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // a temporary file left in the temporary folder
                }
            }
        }
    }

    /** The largest decompressed image {@code --image FILE.gz} or {@code FILE.xz} writes: 16 GiB. */
    static final long MAX_GUNZIP_BYTES = 16L << 30;

    /** Refuses what is not a regular file before opening it: opening a FIFO would block until a writer comes. */
    static void checkRegularFile(Path file) throws UsageException {
        java.nio.file.attribute.BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
        } catch (IOException e) {
            throw UsageException.cannotRead(e);
        }
        if (attributes.isDirectory()) {
            throw new UsageException("cannot read " + file + ": is a directory");
        }
        if (!attributes.isRegularFile()) {
            throw new UsageException("cannot read " + file + ": not a regular file (a FIFO, device or socket); "
                    + "decompress or copy the image to a file first");
        }
    }

    /**
     * Decompresses a gzip image (the JDK's GZIPInputStream) or an xz image (XZ for Java) to a
     * temporary file, at most {@link #MAX_GUNZIP_BYTES}.
     */
    private static Path decompress(Path image, boolean xz) throws UsageException {
        Path out = null;
        try {
            out = Files.createTempFile("kproc-image-", ".raw");
            try (java.io.InputStream raw = new java.io.BufferedInputStream(Files.newInputStream(image), 1 << 16);
                    java.io.InputStream in = xz ? new org.tukaani.xz.XZInputStream(raw)
                            : new java.util.zip.GZIPInputStream(raw, 1 << 16);
                    java.io.OutputStream to = Files.newOutputStream(out)) {
                byte[] buffer = new byte[1 << 16];
                long total = 0;
                for (int n; (n = in.read(buffer)) > 0;) {
                    total += n;
                    if (total > MAX_GUNZIP_BYTES) {
                        throw new UsageException("cannot read " + image + ": decompresses to more than "
                                + (MAX_GUNZIP_BYTES >> 30) + " GiB");
                    }
                    to.write(buffer, 0, n);
                }
            }
            return out;
        } catch (IOException | UsageException e) {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // left in the temporary folder
                }
            }
            if (e instanceof UsageException u) {
                throw u;
            }
            if (e instanceof java.util.zip.ZipException || e instanceof java.io.EOFException
                    || e instanceof org.tukaani.xz.XZIOException) {
                throw new UsageException("cannot read " + image + ": not a complete " + (xz ? "xz" : "gzip") + " file ("
                        + e.getMessage() + ")");
            }
            throw UsageException.cannotRead((IOException) e);
        }
    }

    private static void show(Build build, String type, StructLayout layout, long address, Path image, Path raw,
            long base, PrintStream out) throws UsageException {
        try (FileChannel file = FileChannel.open(raw, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = file.size();
            checkInside(layout, address, image, base, size);
            MemorySegment bytes = file.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            AddressSpace memory = AddressSpace.ofImage(bytes, base, build.pointerSize());
            Platform platform = build.platform();
            out.print(platform != null ? Trace32.view(platform, memory, type, address)
                    : Trace32.view(build.profile(), memory, type, address));
            if (platform == null) {
                // say why the flags and preempt_count are not decoded below the view
                out.println("  (no flags or preempt_count decoding: " + build.unbound() + ")");
            }
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
        if (size > 0 && Long.compareUnsigned(base + size - 1, base) < 0) {
            throw new UsageException(String.format("%s of %d bytes at --base 0x%X runs past the end of the address space",
                    image, size, base));
        }
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
