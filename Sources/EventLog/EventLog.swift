public import Storage

/// The append-only log: records in `events`, the stream index in `streams`, the head and
/// format in `meta`. (`idempotency`, opened so that format 1 files stay as they are, is empty
/// and unused: idempotent commands keep their first answers in the domain's `commands.replays`,
/// the one idempotency store.)
///
/// `EventLog` itself only reads; appends go through a ``LogTransaction`` inside a write
/// transaction, normally the one the ``GroupCommitWriter`` owns. It knows nothing about
/// jobs or accounts: stream names, event types and data are the caller's.
public final class EventLog: Sendable {
    /// Limits that keep one append from harming the rest.
    public struct Limits: Sendable {
        /// Largest encoded record, header included.
        public var maximumRecordBytes: Int
        public init(maximumRecordBytes: Int = 1 << 20) { self.maximumRecordBytes = maximumRecordBytes }
    }

    /// The newest file format this build reads and writes (the `meta` entry `format`).
    /// 1: the log and projections, each in the database of its own name. 2: the same, but
    /// an online rebuild has exchanged projection databases with their partners, so a
    /// name's rows may live in another database (recorded by the storage layer): a build
    /// that does not know this would read retired rows, and format 2 makes it refuse the
    /// file. New files are stamped 1; the first exchange raises it (``LogTransaction/raiseFormat(to:)``).
    public static let formatVersion: UInt64 = 2
    /// The format an exchange of projection databases needs.
    public static let exchangedFormat: UInt64 = 2
    /// The formats this build reads.
    public static let readableFormats: ClosedRange<UInt64> = 1...formatVersion

    public let environment: any StorageEngine
    public let limits: Limits
    let events: Database
    let streams: Database
    let meta: Database
    let idempotency: Database
    /// Wakes subscribers of this process when the writer commits.
    public let notifier = CommitNotifier()

    /// Opens the log's databases, creating them and stamping the format on a new file.
    /// - Throws: ``EventLogError/unsupportedLogFormat(found:supported:)`` for a file from a newer build.
    public init(environment: any StorageEngine, limits: Limits = Limits()) throws {
        self.environment = environment
        self.limits = limits
        events = try environment.database("events")
        streams = try environment.database("streams")
        meta = try environment.database("meta")
        idempotency = try environment.database("idempotency")
        let found = try environment.read { try $0.get(meta, MetaKey.format).flatMap { BigEndian.uint64($0) } }
        if let found {
            guard Self.readableFormats.contains(found) else {
                throw EventLogError.unsupportedLogFormat(found: found, supported: Self.formatVersion)
            }
        } else if !environment.options.readOnly {
            try environment.write { txn in
                try txn.put(meta, MetaKey.format, BigEndian.bytes(1))
            }
        }
        notifier.publish(head: try head().sequence)
    }

    /// The last committed record, or ``LogHead/empty``.
    public func head() throws -> LogHead {
        try environment.read { try head(in: $0) }
    }

    /// The head as seen by `transaction` (a write transaction sees its own appends).
    public func head(in transaction: some TransactionReading) throws -> LogHead {
        guard let raw = try transaction.get(meta, MetaKey.head), raw.count == 48,
            let sequence = BigEndian.uint64(raw), let time = BigEndian.uint64(raw, at: 40)
        else { return .empty }
        return LogHead(sequence: sequence, hash: Array(raw[8..<40]), recordedAt: Int64(bitPattern: time))
    }

    /// Up to `limit` events with sequence greater than `after`, in order (with `fields`
    /// ``RecordFields/forProjections``, only what a projection reads).
    public func read(after: UInt64, limit: Int, fields: RecordFields = .all) throws -> [RecordedEvent] {
        try environment.read { try read(after: after, limit: limit, in: $0, fields: fields) }
    }

    /// Up to `limit` events with sequence greater than `after`, as `transaction` sees them.
    public func read(
        after: UInt64, limit: Int, in transaction: some TransactionReading, fields: RecordFields = .all
    ) throws -> [RecordedEvent] {
        var out: [RecordedEvent] = []
        try forEach(after: after, in: transaction, fields: fields) { event in
            out.append(event)
            return out.count < limit
        }
        return out
    }

    /// Calls `body` for each event after `after` until it returns false; streams the log
    /// without holding it in memory (replay, verify, export).
    public func forEach(
        after: UInt64, in transaction: some TransactionReading, fields: RecordFields = .all,
        _ body: (RecordedEvent) throws -> Bool
    ) throws {
        try transaction.withCursor(events) { cursor in
            var entry = try cursor.seek(atLeast: BigEndian.bytes(after &+ 1))
            if after == UInt64.max { entry = nil }
            while let current = entry {
                let sequence = BigEndian.uint64(current.key) ?? 0
                guard try body(try RecordFormat.decode(current.value, sequence: sequence, fields: fields)) else {
                    return
                }
                entry = try cursor.next()
            }
        }
    }

    /// The event at `sequence`, or nil.
    public func event(at sequence: UInt64, in transaction: some TransactionReading) throws -> RecordedEvent? {
        try transaction.withValue(events, BigEndian.bytes(sequence)) { raw in
            try raw.map { try RecordFormat.decode($0, sequence: sequence) }
        }
    }

    /// Up to `limit` events of one stream with version greater than `afterVersion`.
    public func readStream(_ stream: String, afterVersion: UInt64 = 0, limit: Int = .max) throws -> [RecordedEvent] {
        try environment.read { try readStream(stream, afterVersion: afterVersion, limit: limit, in: $0) }
    }

    /// Up to `limit` events of one stream, as `transaction` sees them.
    public func readStream(
        _ stream: String, afterVersion: UInt64 = 0, limit: Int = .max, in transaction: some TransactionReading
    ) throws -> [RecordedEvent] {
        try StreamName.validate(stream)
        let prefix = StreamKey.prefix(stream)
        var sequences: [UInt64] = []
        try transaction.withCursor(streams) { cursor in
            var entry = try cursor.seek(atLeast: StreamKey.key(stream, version: afterVersion &+ 1))
            while let current = entry, sequences.count < limit, current.key.starts(with: prefix) {
                sequences.append(BigEndian.uint64(current.value) ?? 0)
                entry = try cursor.next()
            }
        }
        return try sequences.map { sequence in
            guard let event = try event(at: sequence, in: transaction) else {
                throw EventLogError.corruptRecord(
                    sequence: sequence, reason: "the stream index points to a missing event")
            }
            return event
        }
    }

    /// The version of the first event of `stream` whose sequence is greater than
    /// `afterSequence` (versions and sequences grow together, so a binary search over the
    /// stream index finds it in about log2(version) lookups); nil when there is none.
    public func firstVersion(
        of stream: String, afterSequence: UInt64, in transaction: some TransactionReading
    ) throws -> UInt64? {
        let last = try streamVersion(stream, in: transaction)
        var low: UInt64 = 1
        var high = last &+ 1  // the answer lies in low...high; high means "none"
        while low < high {
            let middle = low + (high - low) / 2
            let sequence = try transaction.withValue(streams, StreamKey.key(stream, version: middle)) {
                $0.flatMap { BigEndian.uint64($0) } ?? 0
            }
            if sequence > afterSequence { high = middle } else { low = middle + 1 }
        }
        return low > last ? nil : low
    }

    /// The stream's current version: 0 when it has no events.
    public func streamVersion(_ stream: String, in transaction: some TransactionReading) throws -> UInt64 {
        let prefix = StreamKey.prefix(stream)
        return try transaction.withCursor(streams) { cursor in
            guard let entry = try cursor.seek(atMost: StreamKey.key(stream, version: .max)),
                entry.key.starts(with: prefix)
            else { return 0 }
            return BigEndian.uint64(entry.key, at: prefix.count) ?? 0
        }
    }

    /// The first sequence recorded at or after `milliseconds` (head + 1 when none):
    /// a binary search, since `recorded_at` never decreases along a gapless log.
    public func firstSequence(recordedAtOrAfter milliseconds: Int64, in transaction: some TransactionReading) throws
        -> UInt64
    {
        var low: UInt64 = 1
        var high = try head(in: transaction).sequence + 1
        while low < high {
            let middle = low + (high - low) / 2
            guard let event = try event(at: middle, in: transaction) else {
                throw EventLogError.corruptRecord(sequence: middle, reason: "missing from the log")
            }
            if event.recordedAt < milliseconds { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Bytes the log stores for `event` in `stream` (header and hashes included), for
    /// size limits and fair benchmark baselines.
    public static func encodedRecordSize(of event: ProposedEvent, stream: String) -> Int {
        RecordFormat.encodedSize(
            stream: stream, type: event.type, data: event.data,
            metadataJSON: RecordFormat.encodeMetadata(event.metadata))
    }

    /// Number of events (equals the head sequence in an intact log).
    public func count(in transaction: some TransactionReading) throws -> Int {
        try transaction.count(events)
    }
}

/// Fixed keys of the `meta` database.
enum MetaKey {
    /// u64 sequence + 32-byte hash + i64 recorded_at of the last record.
    static let head = Array("head".utf8)
    /// u64 log format version.
    static let format = Array("format".utf8)
}

/// The `streams` index key of one stream version, for tools that copy the index.
public enum StreamIndexKey {
    public static func key(_ stream: String, version: UInt64) -> [UInt8] { StreamKey.key(stream, version: version) }
}

/// Keys of the `streams` index: UTF-8 name, a 0 byte (names never contain one, so no
/// name is a prefix of another's keys), then the version as u64 big-endian.
enum StreamKey {
    static func prefix(_ stream: String) -> [UInt8] {
        var key = Array(stream.utf8)
        key.append(0)
        return key
    }

    static func key(_ stream: String, version: UInt64) -> [UInt8] {
        var key = prefix(stream)
        BigEndian.append(version, to: &key)
        return key
    }
}

/// Rules for stream names and event types, checked before anything is written.
public enum StreamName {
    /// Longest stream name in UTF-8 bytes (the index key must fit LMDB's 511-byte limit).
    public static let maximumLength = 200

    public static func validate(_ stream: String) throws {
        if stream.isEmpty { throw EventLogError.invalidStreamName(stream, reason: "it is empty") }
        if stream.utf8.count > maximumLength {
            throw EventLogError.invalidStreamName(
                String(stream.prefix(40)) + "…", reason: "it is longer than \(maximumLength) bytes")
        }
        if stream.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw EventLogError.invalidStreamName(stream, reason: "it contains a control character")
        }
    }

    static func validateType(_ type: String) throws {
        let allowed = { (c: UInt8) in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 46 || c == 45
        }
        guard !type.isEmpty, type.utf8.count <= 100, type.utf8.allSatisfy(allowed) else {
            throw EventLogError.invalidEventType(type)
        }
    }
}
