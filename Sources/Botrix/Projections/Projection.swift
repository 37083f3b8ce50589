public import EventLog
public import Storage

/// A view of the log kept in databases of its own, updated in the transaction of every
/// event that changes it, so it is never behind what was acknowledged.
///
/// A projection is a pure fold of the log: what it stores depends only on the events
/// (their payloads and positions), never on the clock or on another projection. That is
/// what lets `rebuild` replay it, `verify` compare it with a replay, and catch-up bring a
/// newly added one to the head. Those three iterate over the registered projections
/// (``Projections/standard``); adding one is a new file conforming here plus one entry
/// in that list.
public protocol Projection: Sendable {
    /// The name operators use (`botrix rebuild NAME`); every database it owns is named
    /// `NAME.<something>`, which is how a backup tells its databases from the rest.
    static var name: String { get }

    /// Opens its databases on `environment`, creating them when missing.
    init(environment: any StorageEngine) throws

    /// Every database it owns: cleared by a rebuild, compared by verify.
    var databases: [Database] { get }

    /// The database (one of ``databases``) that keeps its checkpoint, the sequence of the
    /// last event it applied, under the key `checkpoint`.
    var checkpointDatabase: Database { get }

    /// Folds one event into its rows, inside the transaction that appends (or replays) it.
    func apply(_ event: DomainEvent, _ position: EventPosition, in ltx: inout LogTransaction) throws

    /// Folds a page of a replay (rebuild, verify, an online rebuild's catch-up), in order.
    /// A projection may fold the page in memory and write each row once, provided the rows
    /// it leaves are byte-identical to applying the events one by one; the default does that.
    func apply(page: [DecodedEvent], in ltx: inout LogTransaction) throws
}

extension Projection {
    /// Its name, from an instance.
    public var name: String { Self.name }

    /// One event at a time.
    public func apply(page: [DecodedEvent], in ltx: inout LogTransaction) throws {
        for decoded in page { try apply(decoded.event, decoded.position, in: &ltx) }
    }
}

/// A list of projections that cannot work: a reserved or repeated name, or a standard
/// projection missing.
public struct ProjectionRegistryError: Error, CustomStringConvertible {
    public let description: String
}
