import EventLog
import Foundation
import Storage

/// An online rebuild's scratch copy: a scratch file per selected projection
/// (``ScratchProjections``), each folded on a thread of its own from the pages one reader
/// decodes (``ReplayReader``).
///
/// Why one file per projection: projections never read one another, and a replay's folding
/// is most of its work (two thirds of an online rebuild's samples, on one thread). Each
/// LMDB file has one writer, so folds that share a file take turns; folds with a file each
/// run side by side, and a replay takes about as long as its slowest projection.
///
/// Used by one task at a time (build, catch up, then the copy, a step per write), hence
/// `@unchecked Sendable`, like the files it holds.
public final class ScratchLanes: @unchecked Sendable {
    /// The scratch files, in the order of the selected projections.
    public let lanes: [ScratchProjections]
    /// The projections selected (nil: every one).
    let only: Set<String>?
    /// Every selected database, in the order of ``Projections/databases(only:)``, with the
    /// lane that holds it: what the move into the partners copies and `verify` compares.
    let databases: [(lane: ScratchProjections, database: Database)]
    private let log: EventLog

    /// A scratch file for each projection `only` selects (every one when nil), each
    /// reserving its map for that projection alone when written `throughMap` (see
    /// ``ScratchProjections/init(store:only:folder:throughMap:)``).
    /// `folder` is where the files go (beside the data file when nil; `verify` uses a
    /// temporary folder).
    public convenience init(
        store: BotrixStore, only: Set<String>? = nil, folder: String? = nil, throughMap: Bool = false
    ) throws {
        let names = try Projections(store: store).selected(only).map(\.name)
        var lanes: [ScratchProjections] = []
        do {
            for name in names {
                lanes.append(
                    try ScratchProjections(store: store, only: [name], folder: folder, throughMap: throughMap))
            }
        } catch {
            for lane in lanes { lane.remove() }
            throw error
        }
        self.init(lanes, only: only, log: store.log)
    }

    /// One scratch file for the projections it selects (the tests' way to fold them on one thread).
    convenience init(_ single: ScratchProjections, store: BotrixStore) {
        self.init([single], only: single.only, log: store.log)
    }

    private init(_ lanes: [ScratchProjections], only: Set<String>?, log: EventLog) {
        self.lanes = lanes
        self.only = only
        self.log = log
        databases = lanes.flatMap { lane in lane.rebuilt.databases(only: lane.only).map { (lane, $0) } }
    }

    /// The last live sequence every lane includes.
    public var replayedTo: UInt64 { lanes.map(\.replayedTo).min() ?? 0 }

    /// Whether every file is written through its memory map.
    public var writesThroughMap: Bool { lanes.allSatisfy(\.writesThroughMap) }

    /// Replays the live log after ``replayedTo`` up to `target` into every lane: one reader
    /// decodes each page once, the first lane folds it on this thread and each other lane on
    /// a thread of its own; `progress` gets the sequence reached after each page (of the
    /// first lane). After a failure the lanes may stand at different pages: throw them away.
    public func catchUp(to target: UInt64, progress: (UInt64) -> Void = { _ in }) throws {
        guard let first = lanes.first, replayedTo < target else { return }
        let others = lanes.dropFirst().map { lane in { @Sendable (page: DecodedPage) throws in try lane.fold(page) } }
        try ReplayReader.replay(
            log, after: replayedTo, through: target,
            fold: { page in
                try first.fold(page)
                progress(page.last)
            }, besides: others)
    }

    /// Ends every lane's writing (see ``ScratchProjections/finishWriting()``).
    public func finishWriting() throws {
        for lane in lanes { try lane.finishWriting() }
    }

    /// Copies at most `limit` rows of selected database number `index` (in the order of
    /// ``databases``) after the key `after` to the end of `partner`; see
    /// ``ScratchProjections/copy(_:after:limit:into:in:)``.
    func copy(
        _ index: Int, after: [UInt8]?, limit: Int, into partner: Database, in ltx: inout LogTransaction
    ) throws -> (rows: Int, last: [UInt8]?) {
        let (lane, source) = databases[index]
        return try lane.copy(source, after: after, limit: limit, into: partner, in: &ltx)
    }

    /// Deletes every lane's files (a crash leaves them for the next run to remove).
    public func remove() {
        for lane in lanes { lane.remove() }
    }
}
