import LMDB

/// What `verify` found. An intact log has no problems.
public struct LogVerification: Sendable, Equatable {
    /// One defect, precise enough to find the record.
    public enum Problem: Sendable, Equatable, CustomStringConvertible {
        case unreadable(sequence: UInt64, reason: String)
        case sequenceGap(expected: UInt64, found: UInt64)
        case keyMismatch(key: UInt64, recordSays: UInt64)
        case hashMismatch(sequence: UInt64)
        case brokenChain(sequence: UInt64)
        case streamVersionGap(sequence: UInt64, stream: String, expected: UInt64, found: UInt64)
        case indexMissing(sequence: UInt64, stream: String, version: UInt64)
        case indexWrong(stream: String, version: UInt64, points: UInt64, expected: UInt64)
        case indexExtra(stream: String, version: UInt64, points: UInt64)
        case headMismatch(stored: UInt64, last: UInt64)

        public var description: String {
            switch self {
            case .unreadable(let s, let reason): return "event \(s): unreadable (\(reason))"
            case .sequenceGap(let e, let f): return "event \(e) is missing: the next event found is \(f)"
            case .keyMismatch(let k, let r): return "event stored at key \(k) says it is event \(r)"
            case .hashMismatch(let s): return "event \(s): its bytes do not match its hash (edited?)"
            case .brokenChain(let s): return "event \(s): prev_hash does not match the hash of event \(s - 1)"
            case .streamVersionGap(let s, let stream, let e, let f):
                return "event \(s): stream \(stream) version \(f), expected \(e)"
            case .indexMissing(let s, let stream, let v):
                return "stream index: \(stream) version \(v) (event \(s)) has no entry"
            case .indexWrong(let stream, let v, let p, let e):
                return "stream index: \(stream) version \(v) points to event \(p), expected \(e)"
            case .indexExtra(let stream, let v, let p):
                return "stream index: \(stream) version \(v) points to event \(p), which is not that event"
            case .headMismatch(let stored, let last):
                return "meta head says \(stored), the last event is \(last)"
            }
        }
    }

    public var eventsChecked: UInt64 = 0
    public var indexEntriesChecked: UInt64 = 0
    public var problems: [Problem] = []
    public var isIntact: Bool { problems.isEmpty }
}

extension EventLog {
    /// Checks the hash chain, sequence and stream-version continuity, the stream index
    /// in both directions, and the stored head. Reads one snapshot; safe beside a writer.
    /// `progress` receives the sequence reached, every 10,000 events.
    public func verify(
        limitProblems: Int = 100, progress: (UInt64) -> Void = { _ in }
    ) throws -> LogVerification {
        try environment.read { txn in
            var report = LogVerification()
            var previousHash = LogHead.empty.hash
            var expected: UInt64 = 1
            var streamVersions: [String: UInt64] = [:]
            func note(_ problem: LogVerification.Problem) {
                if report.problems.count < limitProblems { report.problems.append(problem) }
            }

            try txn.withCursor(events) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    let key = BigEndian.uint64(current.key) ?? 0
                    if key != expected { note(.sequenceGap(expected: expected, found: key)) }
                    expected = key + 1
                    report.eventsChecked += 1
                    if report.eventsChecked % 10_000 == 0 { progress(key) }
                    let event: RecordedEvent
                    do {
                        event = try RecordFormat.decode(current.value, sequence: key)
                    } catch {
                        note(.unreadable(sequence: key, reason: "\(error)"))
                        previousHash = []
                        entry = try cursor.next()
                        continue
                    }
                    if event.sequence != key { note(.keyMismatch(key: key, recordSays: event.sequence)) }
                    if RecordFormat.computeHash(current.value) != event.hash { note(.hashMismatch(sequence: key)) }
                    if event.previousHash != previousHash { note(.brokenChain(sequence: key)) }
                    previousHash = event.hash
                    let streamExpected = (streamVersions[event.stream] ?? 0) + 1
                    if event.version != streamExpected {
                        note(
                            .streamVersionGap(
                                sequence: key, stream: event.stream, expected: streamExpected, found: event.version))
                    }
                    streamVersions[event.stream] = event.version
                    let indexed = try txn.get(streams, StreamKey.key(event.stream, version: event.version))
                    if let indexed {
                        let points = BigEndian.uint64(indexed) ?? 0
                        if points != key {
                            note(
                                .indexWrong(stream: event.stream, version: event.version, points: points, expected: key)
                            )
                        }
                    } else {
                        note(.indexMissing(sequence: key, stream: event.stream, version: event.version))
                    }
                    entry = try cursor.next()
                }
            }
            try txn.withCursor(streams) { cursor in
                var entry = try cursor.first()
                while let current = entry {
                    report.indexEntriesChecked += 1
                    let key = Array(current.key)
                    let nameBytes = key.prefix(while: { $0 != 0 })
                    let stream = String(decoding: nameBytes, as: UTF8.self)
                    let version = BigEndian.uint64(key, at: nameBytes.count + 1) ?? 0
                    let points = BigEndian.uint64(current.value) ?? 0
                    let event = try? self.event(at: points, in: txn)
                    if event?.stream != stream || event?.version != version {
                        note(.indexExtra(stream: stream, version: version, points: points))
                    }
                    entry = try cursor.next()
                }
            }
            let stored = try head(in: txn).sequence
            if stored != expected - 1 { note(.headMismatch(stored: stored, last: expected - 1)) }
            return report
        }
    }
}
