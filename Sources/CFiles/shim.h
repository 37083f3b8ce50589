// File operations Swift's Glibc module leaves out.
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

// rename(2) that refuses an existing `to` (renameat2 with RENAME_NOREPLACE, Linux 3.15+):
// glibc declares renameat2 only under _GNU_SOURCE, which Swift's Glibc module is built
// without. Returns 0, or -1 with errno (EEXIST: `to` exists; EINVAL: the file system
// cannot promise it).
static inline int botrix_rename_noreplace(const char *from, const char *to) {
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1u /* RENAME_NOREPLACE */);
}
