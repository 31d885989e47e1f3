package io.github.kproc.kernel;

import io.github.kproc.mem.AddressSpace;

/**
 * {@code fs/file.c} and {@code fs/fs_struct.c}: a {@code files_struct} with its embedded fdtable
 * ({@code dup_fd}, {@code put_files_struct}) and the {@code fs_struct} a task's root and cwd live in
 * ({@code copy_fs_struct}, {@code free_fs_struct}). Open files themselves are not modelled.
 */
final class Files {
    private final Machine mc;
    private final AddressSpace m;
    private final Fields f;

    Files(Machine mc) {
        this.mc = mc;
        this.m = mc.m;
        this.f = mc.f;
    }

    /** {@code dup_fd(oldf)}: a new files_struct with the old table's bits and fds, its fdtable pointing into itself; 0 without memory. */
    long dupFd(long oldf) {
        long newf = mc.kmemCacheAlloc(mc.filesCache);
        if (newf == 0) {
            return 0;
        }
        m.copy(oldf, newf, f.files.size);
        m.writeInt(newf + f.files.nextFd, 0);
        initFiles(newf);
        return newf;
    }

    /**
     * A files_struct with one reference whose fdtable is its own embedded {@code fdtab}, pointing at its
     * embedded bitmaps and {@code fd_array} (NR_OPEN_DEFAULT slots), as {@code init_files} and
     * {@code dup_fd} set it up.
     */
    void initFiles(long files) {
        m.writeInt(files + f.files.count, 1);
        mc.lists.init(files + f.files.resizeWaitHead);
        long fdt = files + f.files.fdtab;
        m.writePointer(files + f.files.fdt, fdt);
        m.writeInt(fdt + f.fdt.maxFds, (int) f.files.fdArrayLength);
        m.writePointer(fdt + f.fdt.closeOnExec, files + f.files.closeOnExecInit);
        m.writePointer(fdt + f.fdt.openFds, files + f.files.openFdsInit);
        m.writePointer(fdt + f.fdt.fullFdsBits, files + f.files.fullFdsBitsInit);
        m.writePointer(fdt + f.fdt.fd, files + f.files.fdArray);
    }

    /** {@code atomic_inc(&files->count)}. */
    void getFiles(long files) {
        m.writeInt(files + f.files.count, m.readInt(files + f.files.count) + 1);
    }

    /** {@code put_files_struct}: count--, freed at zero. */
    void putFiles(long files) {
        int count = m.readInt(files + f.files.count) - 1;
        m.writeInt(files + f.files.count, count);
        if (count == 0) {
            mc.filesCache.free(files);
        }
    }

    /** {@code exit_files(p)}: detach and {@code put_files_struct}. */
    void exitFiles(long p) {
        long files = m.readPointer(p + f.task.files);
        if (files == 0) {
            return;
        }
        m.writePointer(p + f.task.files, 0);
        putFiles(files);
    }

    /** {@code copy_fs_struct(old)}: a copy with one user, not in exec, a fresh seqcount; 0 without memory. */
    long copyFsStruct(long old) {
        long copy = mc.kmemCacheAlloc(mc.fsCache);
        if (copy == 0) {
            return 0;
        }
        m.copy(old, copy, f.fs.size);
        m.writeInt(copy + f.fs.users, 1);
        m.writeInt(copy + f.fs.inExec, 0);
        m.writeInt(copy + f.fs.seq, 0);
        return copy;
    }

    /** {@code exit_fs(p)}: detach, {@code --fs->users}, {@code free_fs_struct} at zero. */
    void exitFs(long p) {
        long fs = m.readPointer(p + f.task.fs);
        if (fs == 0) {
            return;
        }
        m.writePointer(p + f.task.fs, 0);
        int users = m.readInt(fs + f.fs.users) - 1;
        m.writeInt(fs + f.fs.users, users);
        if (users == 0) {
            mc.fsCache.free(fs);
        }
    }
}
