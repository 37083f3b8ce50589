import Storage

/// The store as a projection's partner databases see it: every database named `NAME` is
/// opened as `NAME~` instead. An online rebuild fills the partners beside the live
/// databases while the server serves, then exchanges each pair in one short transaction
/// (``WriteTransaction/exchange(_:_:)``); opening the registered projections through this
/// engine gives projections that write the partners, for the catch-up before that.
///
/// Everything but ``database(_:create:)`` is the store's own.
final class PartnerDatabases: StorageEngine {
    /// What a partner's name adds to its live database's name (it keeps the projection's
    /// `NAME.` prefix, so a backup still tells it for derived).
    static let suffix = "~"

    let base: any StorageEngine
    init(_ base: any StorageEngine) { self.base = base }

    func database(_ name: String, create: Bool) throws -> Database {
        try base.database(name + Self.suffix, create: create)
    }

    var path: String { base.path }
    var options: StorageOptions { base.options }
    func read<R>(_ body: (any TransactionReading) throws -> R) throws -> R { try base.read(body) }
    func write<R>(_ body: (any WriteTransaction) throws -> R) throws -> R { try base.write(body) }
    func write<R>(makingRoom attempts: Int, _ body: (any WriteTransaction) throws -> R) throws -> R {
        try base.write(makingRoom: attempts, body)
    }
    func databaseNames() throws -> [String] { try base.databaseNames() }
    var figures: StorageFigures { base.figures }
    func readers() -> ReaderReport { base.readers() }
    func clearStaleReaders() throws -> Int { try base.clearStaleReaders() }
    func clearStaleReadersAfterGrowth(pages: Int) -> Int { base.clearStaleReadersAfterGrowth(pages: pages) }
    func copy(to destination: String, compact: Bool) throws { try base.copy(to: destination, compact: compact) }
    func sync() throws { try base.sync() }
    func availableBytes() -> Int? { base.availableBytes() }
    var fatalError: (any StorageError)? { base.fatalError }
    func open(_ options: StorageOptions) throws -> any StorageEngine { try base.open(options) }
    func finishWriting() throws { try base.finishWriting() }
}
