package io.github.kproc.layout;

/**
 * A member reached by a path from the start of a struct, resolved once: where it is and how big.
 *
 * @param path the path that was resolved, such as {@code "se.vruntime"} or {@code "pid_links[1].next"}
 * @param type the member's C type as pahole prints it
 * @param offset byte offset from the start of the struct the path was resolved in
 * @param size size in bytes (of the storage unit, for a bitfield)
 * @param bitOffset bit offset inside the storage unit, 0 unless a bitfield
 * @param bitSize width of a bitfield in bits, 0 otherwise
 */
public record Field(String path, String type, long offset, long size, int bitOffset, int bitSize) {
}
