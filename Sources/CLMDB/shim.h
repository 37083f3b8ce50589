// Debian's liblmdb-dev installs lmdb.h in /usr/include; pkg-config names it `lmdb`.
#include <lmdb.h>

// Two Linux calls the LMDB layer needs beside LMDB, which Swift's Glibc module leaves out
// (statfs, and fallocate, declared only under _GNU_SOURCE).
#include <errno.h>
#include <sys/types.h>
#include <sys/vfs.h>

int fallocate(int fd, int mode, off_t offset, off_t len);

/// The type of the file system holding `path` (statfs's f_type), or -1 when unknown.
static inline long botrix_filesystem_type(const char *path) {
    struct statfs info;
    return statfs(path, &info) == 0 ? (long)info.f_type : -1;
}

/// Gives back the disk blocks under [offset, offset + length) of `fd`, keeping its length
/// (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): 0, or the errno.
static inline int botrix_punch_hole(int fd, off_t offset, off_t length) {
    return fallocate(fd, 0x02 | 0x01, offset, length) == 0 ? 0 : errno;
}
