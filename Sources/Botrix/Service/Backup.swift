import EventLog
import Foundation
import Storage

/// The moments of a backup's snapshot (step 2 of ``BotrixStore/backup(to:pageSize:progress:atSnapshot:)``).
public enum SnapshotMoment: Sendable, Equatable {
    /// Just before the snapshot's read transaction begins.
    case beginning
    /// Just after it began: the copy is of the file as it is now.
    case begun
    /// After the snapshot is copied, before the projections are rebuilt in the copy.
    case taken
}

/// What ``BotrixStore/backup(to:pageSize:progress:atSnapshot:)`` wrote.
public struct BackupReport: Sendable {
    /// The copy's head: the copy holds the log up to here, and matching everything else.
    public var head: UInt64
    /// Events copied page by page, before the final snapshot.
    public var pagedEvents: UInt64
    /// Events and rows copied inside the final snapshot (what was appended meanwhile, and
    /// the tables that are not the log or a projection).
    public var finalEntries: Int
}

extension BotrixStore {
    /// Writes a consistent copy of this store to `destination` (a new file) without holding
    /// one read transaction for long, so a server beside it keeps reusing pages.
    ///
    /// 1. The log (`events`, and the `streams` index) is copied page by page, each page in
    ///    its own short read transaction: records never change once written, so the pages
    ///    add up to the log as of the start.
    /// 2. One short read transaction then copies what was appended meanwhile and every
    ///    table that is neither the log nor a projection (meta, keys, secrets, stored
    ///    answers): a consistent snapshot of all of it.
    /// 3. The projections are rebuilt in the copy from its own log (invariant 1: the result
    ///    is what the live server built), with no transaction open on this store.
    /// 4. The copy so made (in the private folder `DEST.partial`, held locked: one backup per
    ///    `DEST`, ``BackupFiles/claim(_:owned:)``) is
    ///    written compacted to `destination` and removed: `destination` holds only live
    ///    entries, no free pages and none of their stale bytes. A rebuild in commits leaves
    ///    free pages behind: a fifth of a 60,000-event copy (`BackupSizeTests`).
    /// `progress` receives (events copied, events to copy). `atSnapshot` is called at each
    /// ``SnapshotMoment`` of step 2, so state kept outside the file (the keyring) can be read
    /// at the instant the copy is of. `botrix backup` goes through
    /// ``makeBackup(to:progress:afterSnapshot:beforePlacing:)``, which adds the keyring, checks and renames.
    public func backup(
        to destination: String, pageSize: Int = 4096, progress: (UInt64, UInt64) -> Void = { _, _ in },
        atSnapshot: (SnapshotMoment) throws -> Void = { _ in }
    ) throws -> BackupReport {
        let destination = try BackupFiles.checkedDestination(destination)
        let owned = OwnedFiles()
        let claim = try BackupFiles.claim(destination, owned: owned)
        defer {
            claim.emptyFolder()
            owned.removeAll()
        }
        let (copy, report) = try buildBackup(
            in: claim.working, pageSize: pageSize, progress: progress, atSnapshot: atSnapshot)
        try copy.copy(to: destination, compact: true)
        return report
    }

    /// Steps 1 to 3 of ``backup(to:pageSize:progress:atSnapshot:)`` into `working` (an empty
    /// file the caller owns); returns the copy, open, and what was copied.
    func buildBackup(
        in working: String, pageSize: Int = 4096, progress: (UInt64, UInt64) -> Void,
        atSnapshot: (SnapshotMoment) throws -> Void
    ) throws -> (copy: any StorageEngine, report: BackupReport) {
        let (projectionNames, snapshotNames) = try backupTables()
        let copy = try environment.open(
            StorageOptions(
                path: working, mapSize: environment.figures.mapSize,
                maximumMapSize: environment.options.maximumMapSize, durability: .nosync,
                // No LMDB lock file: only this process opens the copy (claimed), and a lock
                // file is one more name LMDB would open through a link someone put there.
                singleProcess: true))
        let events = try environment.database("events", create: false)
        let streams = try environment.database("streams", create: false)
        let copiedEvents = try copy.database("events")
        let copiedStreams = try copy.database("streams")

        // 1. The log up to the last record at the start, page by page.
        let last = try environment.read { txn in
            try txn.withCursor(events) { try $0.last().map { BigEndian.uint64($0.key) ?? 0 } } ?? 0
        }
        var position: UInt64 = 0
        while position < last {
            let page = try environment.read { txn in
                try txn.withCursor(events) { cursor -> [(key: [UInt8], value: [UInt8])] in
                    var rows: [(key: [UInt8], value: [UInt8])] = []
                    var entry = try cursor.seek(atLeast: BigEndian.bytes(position + 1))
                    while let current = entry, rows.count < pageSize, (BigEndian.uint64(current.key) ?? 0) <= last {
                        rows.append(current.copied)
                        entry = try cursor.next()
                    }
                    return rows
                }
            }
            guard let end = page.last else { break }
            try copy.write(makingRoom: 8) { txn in
                for row in page { try txn.put(copiedEvents, row.key, row.value, options: .append) }
            }
            position = BigEndian.uint64(end.key) ?? last
            progress(position, last)
        }
        var resume: [UInt8]? = nil
        while true {
            let page = try environment.read { txn in
                try txn.withCursor(streams) { cursor -> [(key: [UInt8], value: [UInt8])] in
                    var rows: [(key: [UInt8], value: [UInt8])] = []
                    var entry = try resume.map { try cursor.seek(atLeast: $0) } ?? cursor.first()
                    if let key = resume, let current = entry, current.key.elementsEqual(key) {
                        entry = try cursor.next()
                    }
                    var scanned = 0
                    while let current = entry, scanned < pageSize {
                        scanned += 1
                        resume = Array(current.key)
                        // Entries of events appended since the start come with the snapshot.
                        if (BigEndian.uint64(current.value) ?? 0) <= last { rows.append(current.copied) }
                        entry = try cursor.next()
                    }
                    if entry == nil { resume = nil }
                    return rows
                }
            }
            try copy.write(makingRoom: 8) { txn in
                for row in page { try txn.put(copiedStreams, row.key, row.value) }
            }
            if resume == nil { break }
        }

        // 2. One snapshot: the rest of the log, and every table that is not derived from it.
        let (head, finalEntries) = try copySnapshot(into: copy, tables: snapshotNames, atSnapshot: atSnapshot)
        try atSnapshot(.taken)

        // 3. Projections rebuilt from the copy's own log; no transaction open on this store.
        if !projectionNames.isEmpty {
            let copiedLog = try EventLog(environment: copy)
            let projections = try Projections(environment: copy, registered: projectionTypes)
            _ = try projections.rebuild(log: copiedLog)
        }
        try copy.sync()
        return (copy, BackupReport(head: head, pagedEvents: position, finalEntries: finalEntries))
    }

    /// Brings `copy` (made by ``buildBackup(in:pageSize:progress:atSnapshot:)``) up to this
    /// store's present in one short snapshot (``copySnapshot(into:tables:atSnapshot:)``):
    /// what was appended since and the tables not derived from the log; then the copy's
    /// projections catch up from its own log. Two transactions, each leaving a copy a server
    /// can open (projections behind their log are caught up on start, like any store's).
    /// For a backup that should not end behind an erasure committed while it ran
    /// (``makeBackup(to:progress:afterSnapshot:beforePlacing:)``).
    func refreshBackup(_ copy: any StorageEngine, atSnapshot: (SnapshotMoment) throws -> Void) throws -> UInt64 {
        let (projectionNames, snapshotNames) = try backupTables()
        let head = try copySnapshot(into: copy, tables: snapshotNames, atSnapshot: atSnapshot).head
        // With no read transaction open on this store: the projections catch up from the
        // copy's own log. Until this commits, their checkpoint says how far behind they are.
        if !projectionNames.isEmpty {
            let copiedLog = try EventLog(environment: copy)
            let projections = try Projections(environment: copy, registered: projectionTypes)
            try copy.write(makingRoom: 8) { txn in
                var ltx = LogTransaction(log: copiedLog, transaction: txn, now: 0)
                try projections.catchUp(in: &ltx)
            }
        }
        try copy.sync()
        return head
    }

    /// The databases a backup copies in its snapshot (neither the log nor a projection's),
    /// and those it rebuilds instead (a projection owns the databases named after it:
    /// "jobs.views", "accounts.emails").
    private func backupTables() throws -> (projections: Set<String>, snapshot: [String]) {
        let names = try environment.databaseNames()
        let projectionNames = Set(
            names.filter { name in projectionTypes.contains { name.hasPrefix($0.name + ".") } })
        let logNames: Set<String> = ["events", "streams"]
        return (projectionNames, names.filter { !logNames.contains($0) && !projectionNames.contains($0) })
    }

    /// Copies, in one read transaction of this store and one write transaction of `copy`,
    /// the events after the copy's last one (up to this store's head) with their index
    /// entries, and the `tables` whole (emptied in the copy first). Returns the head and the
    /// entries written. `atSnapshot` is called at ``SnapshotMoment/beginning`` and ``SnapshotMoment/begun``.
    func copySnapshot(
        into copy: any StorageEngine, tables: [String], atSnapshot: (SnapshotMoment) throws -> Void
    ) throws -> (head: UInt64, entries: Int) {
        let events = try environment.database("events", create: false)
        let copiedEvents = try copy.database("events")
        let copiedStreams = try copy.database("streams")
        let targets = try Dictionary(uniqueKeysWithValues: tables.map { ($0, try copy.database($0)) })
        let sources = try Dictionary(
            uniqueKeysWithValues: tables.map { ($0, try environment.database($0, create: false)) })
        try atSnapshot(.beginning)
        return try environment.read { source in
            try atSnapshot(.begun)
            let head = try log.head(in: source).sequence
            // Counted inside the write: a write that had to grow the map runs again.
            let entries = try copy.write(makingRoom: 8) { target -> Int in
                var entries = 0
                let after =
                    try target.withCursor(copiedEvents) { try $0.last().map { BigEndian.uint64($0.key) ?? 0 } } ?? 0
                try log.forEach(after: after, in: source) { event in
                    guard event.sequence <= head else { return false }
                    let key = BigEndian.bytes(event.sequence)
                    try source.withValue(events, key) { raw in
                        if let raw { try target.put(copiedEvents, key, Array(raw), options: .append) }
                    }
                    try target.put(copiedStreams, StreamIndexKey.key(event.stream, version: event.version), key)
                    entries += 2
                    return true
                }
                for name in tables {
                    guard let from = sources[name], let to = targets[name] else { continue }
                    try target.clear(to)
                    entries += try target.withAppender(to) { appender in
                        try source.forEachEntry(of: from) { try appender.append($0) }
                    }
                }
                return entries
            }
            return (head, entries)
        }
    }
}
