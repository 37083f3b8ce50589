import Foundation
import JSONCoding
public import Storage

/// Appends to the log inside a write transaction, and lets whoever must write beside the
/// events (projections) do so through it, so events and views commit together.
///
/// The rule for operations run by the ``GroupCommitWriter``: **check, then write.** Do
/// every check that may reject the operation before the first write. Every append here
/// follows it (names, sizes and the expected version are checked first).
/// The writer relies on it to run a batch in one transaction; an operation that throws
/// after writing is still rolled back alone, but costs its batch a slower second run.
public struct LogTransaction {
    /// The log being appended to.
    public let log: EventLog
    let transaction: any WriteTransaction
    /// True once anything was written through this value.
    public private(set) var hasWritten = false
    /// The batch's clock reading in milliseconds; `recorded_at` never goes below the head's.
    public let now: Int64
    /// What each append through this value wrote, in order (see ``appended(from:)``).
    private var runs: [AppendedRun] = []
    /// How many events were appended through this value.
    public private(set) var appendedCount = 0
    /// Hooks registered through this value; see ``CommitHook``.
    private(set) var hooks: [(CommitHook, any Sendable)] = []

    public init(log: EventLog, transaction: any WriteTransaction, now: Int64) {
        self.log = log
        self.transaction = transaction
        self.now = now
    }

    /// Asks the writer to run `hook` around this batch's commit with `payload`; see
    /// ``CommitHook``. Registering writes nothing, so it does not break "check, then write".
    public mutating func register(_ hook: CommitHook, payload: any Sendable) {
        hooks.append((hook, payload))
    }

    /// Reads as of this transaction, its own writes included.
    public var reading: any TransactionReading { transaction }

    /// Writes beside the events (projection rows); see ``WriteTransaction/put(_:_:_:options:)``.
    public mutating func put(
        _ database: Database, _ key: [UInt8], _ value: [UInt8], options: PutOptions = []
    ) throws {
        hasWritten = true
        try transaction.put(database, key, value, options: options)
    }

    /// Appends rows to a projection database in key order (see
    /// ``WriteTransaction/withAppender(_:_:)``).
    public mutating func withAppender<R>(_ database: Database, _ body: (any Appender) throws -> R) throws -> R {
        hasWritten = true
        return try transaction.withAppender(database, body)
    }

    /// Removes a projection row; returns false when it was not there.
    @discardableResult
    public mutating func delete(_ database: Database, _ key: [UInt8]) throws -> Bool {
        hasWritten = true
        return try transaction.delete(database, key)
    }

    /// Empties a projection database (rebuilds).
    public mutating func clear(_ database: Database) throws {
        hasWritten = true
        try transaction.clear(database)
    }

    /// Removes the first `count` rows of a projection database (see
    /// ``WriteTransaction/removeFirst(_:from:)``); returns how many went.
    public mutating func removeFirst(_ count: Int, from database: Database) throws -> Int {
        hasWritten = true
        return try transaction.removeFirst(count, from: database)
    }

    /// Raises the file's format (`meta/format`) to at least `format`, in this transaction:
    /// builds that read only older formats then refuse the file (see ``EventLog/formatVersion``).
    public mutating func raiseFormat(to format: UInt64) throws {
        let found = try transaction.get(log.meta, MetaKey.format).flatMap { BigEndian.uint64($0) } ?? 0
        guard found < format else { return }
        hasWritten = true
        try transaction.put(log.meta, MetaKey.format, BigEndian.bytes(format))
    }

    /// Exchanges the rows of two projection databases (see ``WriteTransaction/exchange(_:_:)``).
    public mutating func exchange(_ a: Database, _ b: Database) throws {
        hasWritten = true
        try transaction.exchange(a, b)
    }

    /// The stream's version as of this transaction (0: no events yet).
    public func streamVersion(_ stream: String) throws -> UInt64 {
        try log.streamVersion(stream, in: transaction)
    }

    /// Appends the request's events to its stream, all or none.
    public mutating func append(_ request: AppendRequest) throws -> AppendResult {
        try StreamName.validate(request.stream)
        guard !request.events.isEmpty else { throw EventLogError.emptyAppend }
        for event in request.events {
            try StreamName.validateType(event.type)
            try Self.validateData(event.data)
        }
        let current = try streamVersion(request.stream)
        if case .exact(let expected) = request.expectedVersion, expected != current {
            throw EventLogError.versionConflict(stream: request.stream, expected: expected, actual: current)
        }

        let head = try log.head(in: transaction)
        let recordedAt = max(now, head.recordedAt)
        // Check every size before the first write (check, then write).
        var metadataJSON: [[UInt8]] = []
        metadataJSON.reserveCapacity(request.events.count)
        var sizes: [Int] = []
        sizes.reserveCapacity(request.events.count)
        for (offset, proposed) in request.events.enumerated() {
            let reuse = offset > 0 && proposed.metadata == request.events[offset - 1].metadata
            metadataJSON.append(reuse ? metadataJSON[offset - 1] : RecordFormat.encodeMetadata(proposed.metadata))
            let size = RecordFormat.encodedSize(
                stream: request.stream, type: proposed.type, data: proposed.data, metadataJSON: metadataJSON[offset])
            guard size <= log.limits.maximumRecordBytes else {
                throw EventLogError.recordTooLarge(bytes: size, limit: log.limits.maximumRecordBytes)
            }
            sizes.append(size)
        }

        hasWritten = true
        let run = try Self.write(
            request, metadataJSON: metadataJSON, sizes: sizes, after: head, streamVersion: current,
            recordedAt: recordedAt, log: log, transaction: transaction)
        runs.append(run)
        appendedCount += run.count
        let lastSequence = run.firstSequence + UInt64(run.count - 1)
        var headValue = BigEndian.bytes(lastSequence)
        headValue.append(contentsOf: run.chain[(run.count * 32)...])
        BigEndian.append(UInt64(bitPattern: recordedAt), to: &headValue)
        try transaction.put(log.meta, MetaKey.head, headValue)

        return AppendResult(
            stream: request.stream, firstSequence: run.firstSequence, lastSequence: lastSequence,
            firstVersion: run.firstVersion, lastVersion: run.firstVersion + UInt64(run.count - 1))
    }

    /// The events appended through this value from the `first`th on (0: all), as the log
    /// stored them: made on demand (see ``AppendedRun``).
    public func appended(from first: Int = 0) -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        events.reserveCapacity(max(0, appendedCount - first))
        var start = 0
        for run in runs {
            defer { start += run.count }
            guard start + run.count > first else { continue }
            run.recorded(from: max(0, first - start), into: &events)
        }
        return events
    }

    /// Writes the request's records (checked already) after `head` and their stream index
    /// rows, and returns what it wrote. Each record is encoded and hashed straight into the
    /// room LMDB makes for it in the page, through one cursor kept at the log's end (no
    /// buffer, no copy, no descent from the root), its hash copied into the run's chain. A
    /// static function, so that the loop, which runs under the write lock for every event,
    /// copies neither this value's transaction nor anything else out of it per event
    /// (`perf`: that retain and release traffic was a tenth of the writer's time at batches
    /// of 1,000).
    private static func write(
        _ request: AppendRequest, metadataJSON: [[UInt8]], sizes: [Int], after head: LogHead,
        streamVersion current: UInt64, recordedAt: Int64, log: EventLog, transaction: any WriteTransaction
    ) throws -> AppendedRun {
        precondition(head.hash.count == 32, "a hash is 32 bytes")
        let streams = log.streams
        let noOverwrite = PutOptions.noOverwrite
        var chain: [UInt8] = []
        chain.reserveCapacity(32 * (request.events.count + 1))
        chain.append(contentsOf: head.hash)
        var streamKey = StreamKey.key(request.stream, version: 0)
        let versionOffset = streamKey.count - 8
        var sequenceKey = [UInt8](repeating: 0, count: 8)
        try transaction.withAppender(log.events) { events in
            for offset in request.events.indices {
                let sequence = head.sequence + UInt64(offset) + 1
                let version = current + UInt64(offset) + 1
                sequenceKey.withUnsafeMutableBytes { $0.storeBytes(of: sequence.bigEndian, as: UInt64.self) }
                try sequenceKey.withUnsafeBytes { key in
                    try events.append(key: key, reserving: sizes[offset]) { record in
                        chain.withUnsafeBytes { hashes in
                            RecordFormat.encode(
                                sequence: sequence, stream: request.stream, version: version,
                                type: request.events[offset].type, recordedAt: recordedAt,
                                data: request.events[offset].data, metadataJSON: metadataJSON[offset],
                                previousHash: UnsafeRawBufferPointer(
                                    rebasing: hashes[(offset * 32)..<(offset * 32 + 32)]),
                                into: record)
                        }
                        chain.append(
                            contentsOf: UnsafeRawBufferPointer(
                                rebasing: record[RecordFormat.hashOffset..<(RecordFormat.hashOffset + 32)]))
                    }
                }
                withUnsafeBytes(of: version.bigEndian) { streamKey.replaceSubrange(versionOffset..., with: $0) }
                try transaction.put(streams, streamKey, sequenceKey, options: noOverwrite)
            }
        }
        return AppendedRun(
            request: request, firstSequence: head.sequence + 1, firstVersion: current + 1, recordedAt: recordedAt,
            chain: chain)
    }

    /// Event data must be a JSON object: readers embed it verbatim in the public shape.
    static func validateData(_ data: [UInt8]) throws {
        switch JSONValidator.validateObject(data) {
        case .valid: return
        case .invalid(let reason): throw EventLogError.invalidEventData(reason: reason)
        }
    }
}
