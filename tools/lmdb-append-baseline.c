/*
 * Raw-LMDB baseline for `botrix-bench append`: the same puts the Swift path makes,
 * without Swift. Per event: one record into `events` (u64 big-endian key, MDB_APPEND)
 * and one entry into `streams`; per transaction: one `meta` head update and a commit
 * with the requested durability. Prints "events=N seconds=S rate=R".
 * STREAMS (default 1) spreads the events round-robin over that many streams
 * ("bench-0" ... ), as N concurrent appenders of one stream each do: every
 * transaction then inserts into STREAMS places of the `streams` index.
 *
 *   cc -O2 -o lmdb-append-baseline tools/lmdb-append-baseline.c -llmdb
 *   ./lmdb-append-baseline PATH TOTAL_EVENTS EVENTS_PER_TXN VALUE_BYTES full|nometasync|nosync [STREAMS]
 */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call)                                                              \
    do {                                                                         \
        int rc_ = (call);                                                        \
        if (rc_ != 0) {                                                          \
            fprintf(stderr, "%s failed: %s\n", #call, mdb_strerror(rc_));        \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

static void put_be64(unsigned char *out, uint64_t v) {
    for (int i = 7; i >= 0; i--) { out[i] = (unsigned char)(v & 0xff); v >>= 8; }
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s PATH TOTAL EVENTS_PER_TXN VALUE_BYTES full|nometasync|nosync [STREAMS]\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    long total = atol(argv[2]), batch = atol(argv[3]), value_bytes = atol(argv[4]);
    unsigned int flags = MDB_NOSUBDIR | MDB_NOTLS;
    if (strcmp(argv[5], "nometasync") == 0) flags |= MDB_NOMETASYNC;
    else if (strcmp(argv[5], "nosync") == 0) flags |= MDB_NOSYNC;
    else if (strcmp(argv[5], "full") != 0) { fprintf(stderr, "unknown durability %s\n", argv[5]); return 2; }
    long stream_count = argc == 7 ? atol(argv[6]) : 1;
    if (total <= 0 || batch <= 0 || value_bytes <= 0 || stream_count <= 0 || stream_count > 100000) { fprintf(stderr, "counts must be positive (STREAMS at most 100000)\n"); return 2; }

    MDB_env *env;
    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_maxdbs(env, 8));
    CHECK(mdb_env_set_mapsize(env, (size_t)1 << 34));
    CHECK(mdb_env_open(env, path, flags, 0644));
    MDB_txn *txn;
    MDB_dbi events, streams, meta;
    CHECK(mdb_txn_begin(env, NULL, 0, &txn));
    CHECK(mdb_dbi_open(txn, "events", MDB_CREATE, &events));
    CHECK(mdb_dbi_open(txn, "streams", MDB_CREATE, &streams));
    CHECK(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta));
    CHECK(mdb_txn_commit(txn));

    unsigned char *value = malloc((size_t)value_bytes);
    memset(value, 'x', (size_t)value_bytes);
    unsigned char key[8], stream_key[32], seq_value[8], head[48];
    uint64_t *versions = calloc((size_t)stream_count, sizeof(uint64_t));
    memset(head, 0, sizeof head);

    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t seq = 0;
    while ((long)seq < total) {
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        for (long i = 0; i < batch && (long)seq < total; i++) {
            seq++;
            put_be64(key, seq);
            MDB_val k = {8, key}, v = {(size_t)value_bytes, value};
            CHECK(mdb_put(txn, events, &k, &v, MDB_APPEND));
            /* name + NUL separator, then the stream's version */
            long stream = (long)(seq % (uint64_t)stream_count);
            int name_length = snprintf((char *)stream_key, 16, "bench-%ld", stream) + 1;
            put_be64(stream_key + name_length, ++versions[stream]);
            put_be64(seq_value, seq);
            MDB_val sk = {(size_t)name_length + 8, stream_key}, sv = {8, seq_value};
            CHECK(mdb_put(txn, streams, &sk, &sv, 0));
        }
        put_be64(head, seq);
        MDB_val hk = {4, "head"}, hv = {48, head};
        CHECK(mdb_put(txn, meta, &hk, &hv, 0));
        CHECK(mdb_txn_commit(txn));
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("events=%ld seconds=%.6f rate=%.1f\n", total, seconds, (double)total / seconds);
    mdb_env_close(env);
    free(value);
    free(versions);
    return 0;
}
