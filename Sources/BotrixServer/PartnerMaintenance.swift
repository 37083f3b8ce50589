import Botrix
import Logging
import ServiceLifecycle

/// Removes what an interrupted online rebuild left (a `botrix rebuild` killed beside the
/// server), at start and then every minute: its scratch files, and the rows it left in the
/// partner databases. Either holds up to a copy of the projections' disk until removed.
/// The scratch files go when no run holds their owner lock; the rows' check is a count of
/// each partner in one read transaction, and their removal goes in the rebuild's short
/// steps and waits while a rebuild of the file runs (it owns the partners then).
struct PartnerMaintenanceService: Service {
    let service: BotrixService
    let every: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await check()
                try? await Task.sleep(for: every)
            }
        }
    }

    /// One pass.
    func check() async {
        for leftover in service.removeScratchLeftovers() {
            logger.warning("removed \(leftover), left by a rebuild that was killed")
        }
        do {
            let removed = try await service.removePartnerLeftovers()
            if removed > 0 {
                logger.warning(
                    "removed \(removed) rows left in the partner databases by a rebuild that was interrupted or could not finish removing them"
                )
            }
        } catch  where !Task.isCancelled {
            logger.error("could not remove the rows a rebuild left in the partner databases: \(error)")
        } catch {}
    }
}
