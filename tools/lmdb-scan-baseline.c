/*
 * Raw-LMDB baseline for `botrix-bench rebuild`: one read transaction, one cursor over
 * the log's `events` database from first to last, touching every byte of every value.
 * Prints "events=N seconds=S rate=R".
 *
 *   cc -O2 -o lmdb-scan-baseline tools/lmdb-scan-baseline.c -llmdb
 *   ./lmdb-scan-baseline PATH
 */
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call)                                                              \
    do {                                                                         \
        int rc_ = (call);                                                        \
        if (rc_ != 0) {                                                          \
            fprintf(stderr, "%s failed: %s\n", #call, mdb_strerror(rc_));        \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s PATH\n", argv[0]); return 2; }
    MDB_env *env;
    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_maxdbs(env, 64));
    CHECK(mdb_env_set_mapsize(env, (size_t)1 << 36));
    CHECK(mdb_env_open(env, argv[1], MDB_NOSUBDIR | MDB_RDONLY | MDB_NOTLS, 0644));
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    MDB_txn *txn;
    MDB_dbi events;
    MDB_cursor *cursor;
    CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    CHECK(mdb_dbi_open(txn, "events", 0, &events));
    CHECK(mdb_cursor_open(txn, events, &cursor));
    MDB_val key, value;
    long count = 0;
    unsigned long checksum = 0;
    while (mdb_cursor_get(cursor, &key, &value, count == 0 ? MDB_FIRST : MDB_NEXT) == 0) {
        const unsigned char *bytes = value.mv_data;
        for (size_t i = 0; i < value.mv_size; i++) checksum += bytes[i];
        count++;
    }
    mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("events=%ld seconds=%.6f rate=%.1f checksum=%lu\n", count, seconds, (double)count / seconds, checksum);
    mdb_env_close(env);
    return 0;
}
