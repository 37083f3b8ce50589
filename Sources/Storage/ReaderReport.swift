/// The store's open readers as seen now (LMDB's reader table): how many read transactions are open (in every process
/// on the file) and how far behind the oldest one is.
///
/// A reader pins the snapshot it started on: pages freed after it cannot be reused, so
/// the file grows while it lives. A reader of a process that died (a `botrix events | head`
/// killed by SIGPIPE mid-transaction) keeps its slot until ``StorageEngine/clearStaleReaders()``.
public struct ReaderReport: Sendable, Equatable {
    /// Read transactions open now, across processes.
    public var active: Int
    /// Slots in the table (used or not).
    public var slots: Int
    /// Transactions committed since the oldest open reader's snapshot (0 with no reader).
    public var oldestLag: Int
    /// How long the oldest open reader has been seen open, in seconds: measured by this
    /// process between its own looks at the table, so as fine as those looks are frequent.
    public var oldestAgeSeconds: Double

    /// For backends; one without reader slots reports zeros.
    public init(active: Int, slots: Int, oldestLag: Int, oldestAgeSeconds: Double) {
        self.active = active
        self.slots = slots
        self.oldestLag = oldestLag
        self.oldestAgeSeconds = oldestAgeSeconds
    }
}
