import BotrixClient

/// The handler: for each missing account, "work" (sleep), record a made-up account, and
/// report progress. It returns early when the worker is stopping; the worker then
/// releases the job.
enum FakeWork {
    struct NoFreeName: Error, CustomStringConvertible {
        var description: String { "could not find a free username in 5 tries" }
    }

    static func handler(delay: Duration) -> Worker.Handler {
        { context in
            while context.remaining > 0 {
                guard try await context.sleep(for: delay) else { return }  // stopping
                var recorded = false
                for _ in 0..<5 where !recorded {
                    do {
                        try await context.record(FakeAccounts.make())
                        recorded = true
                    } catch let error as BotrixError where error.status == 422 {
                        continue  // a made-up name may already be taken: pick another
                    }
                }
                guard recorded else { throw NoFreeName() }
                try await context.progress(successful: context.count - context.remaining)
            }
        }
    }
}
