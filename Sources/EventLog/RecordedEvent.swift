/// An event as the log stored it: the caller's type, data and metadata, plus what the log
/// added (global sequence, stream version, time, hash chain).
public struct RecordedEvent: Sendable, Equatable {
    /// Position in the whole log, from 1, gapless.
    public var sequence: UInt64
    /// The stream (aggregate) it belongs to, such as `job-<uuid>`.
    public var stream: String
    /// Position within its stream, from 1, gapless.
    public var version: UInt64
    /// The event's name, such as `JobCreated`.
    public var type: String
    /// Milliseconds since 1970 when the log recorded it; never decreases along the log.
    public var recordedAt: Int64
    /// The event's fields as a JSON object (UTF-8, encoded by the caller with sorted keys).
    public var data: [UInt8]
    /// Who and what caused it (`request_id`, `actor`, ...).
    public var metadata: [String: String]
    /// SHA-256 of the previous record; 32 zero bytes for the first.
    public var previousHash: [UInt8]
    /// SHA-256 of this record (all of it but this field).
    public var hash: [UInt8]

    public init(
        sequence: UInt64, stream: String, version: UInt64, type: String, recordedAt: Int64,
        data: [UInt8], metadata: [String: String], previousHash: [UInt8], hash: [UInt8]
    ) {
        self.sequence = sequence
        self.stream = stream
        self.version = version
        self.type = type
        self.recordedAt = recordedAt
        self.data = data
        self.metadata = metadata
        self.previousHash = previousHash
        self.hash = hash
    }
}

/// An event a caller wants appended; the log fills in everything else.
public struct ProposedEvent: Sendable, Equatable {
    public var type: String
    /// A JSON object, UTF-8; encode it with sorted keys so hashes are reproducible.
    public var data: [UInt8]
    public var metadata: [String: String]

    public init(type: String, data: [UInt8], metadata: [String: String] = [:]) {
        self.type = type
        self.data = data
        self.metadata = metadata
    }
}

/// What the caller believes the stream's current version is; the append fails with
/// ``EventLogError/versionConflict(stream:expected:actual:)`` otherwise.
public enum ExpectedVersion: Sendable, Equatable {
    /// Append whatever the stream's version.
    case any
    /// The stream must be exactly at this version (0: it must not exist yet).
    case exact(UInt64)

    /// The stream must not exist yet.
    public static let noStream = ExpectedVersion.exact(0)
}

/// One append: events for one stream, written together or not at all.
public struct AppendRequest: Sendable, Equatable {
    public var stream: String
    public var expectedVersion: ExpectedVersion
    public var events: [ProposedEvent]

    public init(stream: String, expectedVersion: ExpectedVersion = .any, events: [ProposedEvent]) {
        self.stream = stream
        self.expectedVersion = expectedVersion
        self.events = events
    }
}

/// Where an append landed.
public struct AppendResult: Sendable, Equatable {
    public var stream: String
    /// Global sequences of the appended events.
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    /// Stream versions of the appended events; `lastVersion` is the stream's new version.
    public var firstVersion: UInt64
    public var lastVersion: UInt64

    public init(
        stream: String, firstSequence: UInt64, lastSequence: UInt64, firstVersion: UInt64, lastVersion: UInt64
    ) {
        self.stream = stream
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.firstVersion = firstVersion
        self.lastVersion = lastVersion
    }
}

/// The last committed record: what the next append chains to.
public struct LogHead: Sendable, Equatable {
    /// 0 for an empty log.
    public var sequence: UInt64
    public var hash: [UInt8]
    public var recordedAt: Int64

    public static let empty = LogHead(sequence: 0, hash: [UInt8](repeating: 0, count: 32), recordedAt: 0)
}

/// Which fields of a record a read decodes.
public enum RecordFields: Sendable, Equatable {
    /// Every field: what verification, exports and the API read.
    case all
    /// What a projection folds (sequence, stream, version, time, type, data); the hashes
    /// and the metadata are left empty. A replay reads every record of the log, and the
    /// metadata alone is a JSON object parsed into a dictionary that no projection reads.
    case forProjections
}
