#if canImport(CMalloc)
    import CMalloc
#endif

/// How many heaps (arenas) glibc's allocator may keep for the server's threads.
///
/// glibc gives each thread that meets contention an arena of its own, up to eight per core,
/// and keeps what each arena once held: a server whose event loops, read pool, writer and
/// task threads all allocate ends up holding the high-water mark of every arena. Two arenas
/// keep resident memory flat under steady load (`tools/memory-bench.sh`; README
/// "Performance"), for about 6–7% of read throughput on two cores. An operator's own
/// `MALLOC_ARENA_MAX`, or an `arena_max` in `GLIBC_TUNABLES`, wins: glibc has applied it
/// already. (Set in the process environment: `.env` is read after glibc started.)
enum MallocArenas {
    static let serverDefault: Int32 = 2

    /// The limit to set: ``serverDefault``, or nil when the environment chose one.
    static func limit(environment: [String: String]) -> Int32? {
        // glibc ignores an empty value, so an empty one leaves the choice to us.
        if environment["MALLOC_ARENA_MAX"]?.isEmpty == false { return nil }
        if environment["GLIBC_TUNABLES"]?.contains("glibc.malloc.arena_max") == true { return nil }
        return serverDefault
    }

    /// Sets ``limit(environment:)``. Call it first thing: threads that already own an arena
    /// keep it.
    static func limitForServer(environment: [String: String]) {
        #if canImport(CMalloc)
            if let limit = limit(environment: environment) { _ = mallopt(M_ARENA_MAX, limit) }
        #endif
    }
}
