/**
 * Reading a kernel's memory the way crash does, with the same code for the live model and for a
 * dump: {@link io.github.kproc.image.ElfCore} reads an ELF {@code ET_CORE} file (QEMU's
 * {@code dump-guest-memory}, kdump's {@code /proc/vmcore}) without reading it whole,
 * {@link io.github.kproc.image.SymbolTable} reads a {@code System.map} or a {@code vmlinux}'s
 * {@code .symtab}, {@link io.github.kproc.image.KernelImage} is a
 * {@link io.github.kproc.view.KernelReader} over both that translates kernel virtual addresses by the
 * architecture's own rules, {@link io.github.kproc.image.Crash} runs crash's {@code ps}, {@code runq},
 * {@code bt -v}, {@code task}, {@code struct} and {@code sym} over any reader, and
 * {@link io.github.kproc.image.VmcoreWriter} writes a model's memory as an ELF core.
 *
 * <p>A dump is untrusted data: every size and offset of the file is checked against the file before
 * it is used, and every walk of a list or tree is bounded and checks for cycles; what is wrong is a
 * {@link io.github.kproc.image.ImageFormatException} (the file) or a
 * {@link io.github.kproc.image.WalkException} (the memory, naming the address and the structure).
 */
@NullMarked
package io.github.kproc.image;

import org.jspecify.annotations.NullMarked;
