import Foundation

/// Committed events from a sequence onwards, then live ones as they commit.
///
/// Memory is bounded by `pageSize`: the iterator reads a page from LMDB, hands it out,
/// reads the next. A slow consumer simply reads later pages later; nothing queues up for
/// it. When caught up it waits for the in-process ``CommitNotifier`` and, so that appends
/// by another process (`botrix events --follow` beside a server) are seen too, re-reads
/// the head every `pollInterval`.
public struct EventSubscription: AsyncSequence, Sendable {
    public typealias Element = RecordedEvent

    let log: EventLog
    let after: UInt64
    let pageSize: Int
    let pollInterval: Duration

    public func makeAsyncIterator() -> Iterator {
        Iterator(log: log, position: after, pageSize: pageSize, pollInterval: pollInterval)
    }

    /// Yields events in sequence order; ends (returns nil) when its task is cancelled.
    public struct Iterator: AsyncIteratorProtocol {
        let log: EventLog
        var position: UInt64
        let pageSize: Int
        let pollInterval: Duration
        var buffer: [RecordedEvent] = []
        var index = 0

        public mutating func next() async throws -> RecordedEvent? {
            while index == buffer.count {
                if Task.isCancelled { return nil }
                buffer = try log.read(after: position, limit: pageSize)
                index = 0
                if buffer.isEmpty { await waitForMore() }
            }
            defer { index += 1 }
            position = buffer[index].sequence
            return buffer[index]
        }

        private func waitForMore() async {
            await log.waitForAppend(after: position, timeout: pollInterval)
        }
    }
}

extension EventLog {
    /// Returns when an event after `sequence` is committed in this process, or after
    /// `timeout` (whichever is first), or when the task is cancelled.
    public func waitForAppend(after sequence: UInt64, timeout: Duration) async {
        let notifier = self.notifier
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await notifier.wait(beyond: sequence) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Events after `sequence`, first those already committed, then each new commit.
    public func subscribe(
        after sequence: UInt64, pageSize: Int = 256, pollInterval: Duration = .milliseconds(250)
    ) -> EventSubscription {
        EventSubscription(log: self, after: sequence, pageSize: max(1, pageSize), pollInterval: pollInterval)
    }
}
