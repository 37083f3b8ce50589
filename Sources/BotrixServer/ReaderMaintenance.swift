import Botrix
import Logging
import ServiceLifecycle

/// Clears LMDB reader slots of dead processes every few seconds and warns about readers
/// that stay open long. A reader left by a killed CLI (`botrix events | head`) pins the
/// snapshot it started on, so every later commit writes new pages and the file grows
/// without bound; `mdb_reader_check` frees such slots. Live long readers cannot be freed,
/// only reported (metrics `botrix_lmdb_readers`, `botrix_lmdb_oldest_reader_*`).
struct ReaderMaintenanceService: Service {
    let service: BotrixService
    let every: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                check()
                try? await Task.sleep(for: every)
            }
        }
    }

    /// One pass: clear dead slots, sample the table (which also ages the open readers).
    func check() {
        do {
            let cleared = try service.clearStaleReaders()
            if cleared > 0 { logger.warning("cleared \(cleared) LMDB reader slot(s) left by dead processes") }
        } catch {
            logger.error("checking LMDB readers failed: \(error)")
        }
        let readers = service.readers()
        if readers.oldestAgeSeconds > 300 {
            logger.warning(
                "an LMDB reader has been open for \(Int(readers.oldestAgeSeconds)) s (\(readers.oldestLag) commits behind): the file grows until it ends"
            )
        }
    }
}
