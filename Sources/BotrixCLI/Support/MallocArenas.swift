#if canImport(Glibc)
    import Glibc
#endif

/// Caps glibc's malloc arenas for a long-running server.
///
/// glibc gives threads their own arenas, up to eight per core, and an arena keeps the
/// memory its thread once used. Botrix's threads (SwiftNIO's event loops, Swift's pool,
/// Dispatch's workers, the writer, the read pool) each grew their own: under steady load
/// the server's own memory (RssAnon) rose by 40% over three minutes before it levelled
/// off; with one arena per core it stays flat from the first minute
/// (`tools/memory-bench.sh`, README "Performance"). Call it first, before threads start.
///
/// `mallopt` is not in Swift's Glibc module (it lives in `malloc.h`), so it is looked up by
/// name; `M_ARENA_MAX` is -8 in glibc's `malloc.h`.
enum MallocArenas {
    static let arenaMaximumOption: Int32 = -8

    /// Returns whether glibc took the setting (false on another C library).
    @discardableResult
    static func limit() -> Bool {
        #if canImport(Glibc)
            typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
            guard let symbol = dlsym(nil, "mallopt") else { return false }
            let cores = Int32(max(2, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
            return unsafeBitCast(symbol, to: Mallopt.self)(arenaMaximumOption, cores) == 1
        #else
            return false
        #endif
    }
}
