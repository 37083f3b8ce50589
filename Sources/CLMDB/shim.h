// Debian's liblmdb-dev installs lmdb.h in /usr/include; pkg-config names it `lmdb`.
#include <lmdb.h>
