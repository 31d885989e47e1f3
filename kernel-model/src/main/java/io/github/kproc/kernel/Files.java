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
        m.copy(oldf, newf, f.filesSize);
        m.writeInt(newf + f.filesNextFd, 0);
        initFiles(newf);
        return newf;
    }

    /**
     * A files_struct with one reference whose fdtable is its own embedded {@code fdtab}, pointing at its
     * embedded bitmaps and {@code fd_array} (NR_OPEN_DEFAULT slots), as {@code init_files} and
     * {@code dup_fd} set it up.
     */
    void initFiles(long files) {
        m.writeInt(files + f.filesCount, 1);
        mc.lists.init(files + f.filesResizeWaitHead);
        long fdt = files + f.filesFdtab;
        m.writePointer(files + f.filesFdt, fdt);
        m.writeInt(fdt + f.fdtMaxFds, (int) f.filesFdArrayLength);
        m.writePointer(fdt + f.fdtCloseOnExec, files + f.filesCloseOnExecInit);
        m.writePointer(fdt + f.fdtOpenFds, files + f.filesOpenFdsInit);
        m.writePointer(fdt + f.fdtFullFdsBits, files + f.filesFullFdsBitsInit);
        m.writePointer(fdt + f.fdtFd, files + f.filesFdArray);
    }

    /** {@code atomic_inc(&files->count)}. */
    void getFiles(long files) {
        m.writeInt(files + f.filesCount, m.readInt(files + f.filesCount) + 1);
    }

    /** {@code put_files_struct}: count--, freed at zero. */
    void putFiles(long files) {
        int count = m.readInt(files + f.filesCount) - 1;
        m.writeInt(files + f.filesCount, count);
        if (count == 0) {
            mc.filesCache.free(files);
        }
    }

    /** {@code exit_files(p)}: detach and {@code put_files_struct}. */
    void exitFiles(long p) {
        long files = m.readPointer(p + f.taskFiles);
        if (files == 0) {
            return;
        }
        m.writePointer(p + f.taskFiles, 0);
        putFiles(files);
    }

    /** {@code copy_fs_struct(old)}: a copy with one user, not in exec, a fresh seqcount; 0 without memory. */
    long copyFsStruct(long old) {
        long copy = mc.kmemCacheAlloc(mc.fsCache);
        if (copy == 0) {
            return 0;
        }
        m.copy(old, copy, f.fsSize);
        m.writeInt(copy + f.fsUsers, 1);
        m.writeInt(copy + f.fsInExec, 0);
        m.writeInt(copy + f.fsSeq, 0);
        return copy;
    }

    /** {@code exit_fs(p)}: detach, {@code --fs->users}, {@code free_fs_struct} at zero. */
    void exitFs(long p) {
        long fs = m.readPointer(p + f.taskFs);
        if (fs == 0) {
            return;
        }
        m.writePointer(p + f.taskFs, 0);
        int users = m.readInt(fs + f.fsUsers) - 1;
        m.writeInt(fs + f.fsUsers, users);
        if (users == 0) {
            mc.fsCache.free(fs);
        }
    }
}
