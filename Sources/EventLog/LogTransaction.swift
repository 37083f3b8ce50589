import Foundation
public import LMDB

/// Appends to the log inside a write transaction, and hands that transaction to whoever
/// must write beside the events (projections), so events and views commit together.
///
/// Everything an append checks (names, sizes, expected version, idempotency key) is
/// checked before it writes, so a rejected append leaves the transaction as it was.
public struct LogTransaction {
    /// The log being appended to.
    public let log: EventLog
    /// The write transaction; projections write their own databases through it.
    public let transaction: WriteTransaction
    /// The batch's clock reading in milliseconds; `recorded_at` never goes below the head's.
    public let now: Int64
    /// Events appended through this value, in order.
    public private(set) var appended: [RecordedEvent] = []

    public init(log: EventLog, transaction: WriteTransaction, now: Int64) {
        self.log = log
        self.transaction = transaction
        self.now = now
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
        var idempotencyKey: [UInt8]?
        if let key = request.idempotencyKey {
            guard !key.isEmpty, key.utf8.count <= 256 else { throw EventLogError.invalidIdempotencyKey }
            idempotencyKey = Array(key.utf8)
            if let stored = try transaction.get(log.idempotency, idempotencyKey!) {
                var result = try JSONDecoder().decode(AppendResult.self, from: Data(stored))
                result.replayed = true
                return result
            }
        }
        let current = try streamVersion(request.stream)
        if case .exact(let expected) = request.expectedVersion, expected != current {
            throw EventLogError.versionConflict(stream: request.stream, expected: expected, actual: current)
        }

        let head = try log.head(in: transaction)
        let recordedAt = max(now, head.recordedAt)
        var previousHash = head.hash
        var records: [(sequence: UInt64, bytes: [UInt8], event: RecordedEvent)] = []
        records.reserveCapacity(request.events.count)
        for (offset, proposed) in request.events.enumerated() {
            let sequence = head.sequence + UInt64(offset) + 1
            let version = current + UInt64(offset) + 1
            let encoded = RecordFormat.encode(
                sequence: sequence, stream: request.stream, version: version, type: proposed.type,
                recordedAt: recordedAt, data: proposed.data,
                metadataJSON: RecordFormat.encodeMetadata(proposed.metadata), previousHash: previousHash)
            guard encoded.bytes.count <= log.limits.maximumRecordBytes else {
                throw EventLogError.recordTooLarge(bytes: encoded.bytes.count, limit: log.limits.maximumRecordBytes)
            }
            let event = RecordedEvent(
                sequence: sequence, stream: request.stream, version: version, type: proposed.type,
                recordedAt: recordedAt, data: proposed.data, metadata: proposed.metadata,
                previousHash: previousHash, hash: encoded.hash)
            records.append((sequence, encoded.bytes, event))
            previousHash = encoded.hash
        }

        for record in records {
            try transaction.put(log.events, BigEndian.bytes(record.sequence), record.bytes, options: .append)
            try transaction.put(
                log.streams, StreamKey.key(request.stream, version: record.event.version),
                BigEndian.bytes(record.sequence), options: .noOverwrite)
        }
        let last = records[records.count - 1]
        var headValue = BigEndian.bytes(last.sequence)
        headValue.append(contentsOf: last.event.hash)
        BigEndian.append(UInt64(bitPattern: recordedAt), to: &headValue)
        try transaction.put(log.meta, MetaKey.head, headValue)

        let result = AppendResult(
            stream: request.stream, firstSequence: records[0].sequence, lastSequence: last.sequence,
            firstVersion: records[0].event.version, lastVersion: last.event.version)
        if let idempotencyKey {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            try transaction.put(log.idempotency, idempotencyKey, Array(try encoder.encode(result)))
        }
        appended.append(contentsOf: records.map(\.event))
        return result
    }

    /// Event data must be a JSON object: readers embed it verbatim in the public shape.
    static func validateData(_ data: [UInt8]) throws {
        guard let first = data.first(where: { !isSpace($0) }), first == UInt8(ascii: "{"),
            let last = data.last(where: { !isSpace($0) }), last == UInt8(ascii: "}")
        else { throw EventLogError.invalidEventData(reason: "it does not start with { and end with }") }
        do {
            guard try JSONSerialization.jsonObject(with: Data(data)) is [String: Any] else {
                throw EventLogError.invalidEventData(reason: "it is not an object")
            }
        } catch let error as EventLogError {
            throw error
        } catch {
            throw EventLogError.invalidEventData(reason: "it is not valid JSON")
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
