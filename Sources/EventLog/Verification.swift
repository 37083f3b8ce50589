import Storage

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
        case headHashMismatch(sequence: UInt64)

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
            case .headHashMismatch(let sequence):
                return "meta head hash differs from the hash of event \(sequence), the last event"
            }
        }
    }

    public var eventsChecked: UInt64 = 0
    public var indexEntriesChecked: UInt64 = 0
    public var problems: [Problem] = []
    public var isIntact: Bool { problems.isEmpty }
}

extension EventLog {
    /// Events (and index entries) checked per read transaction: verify never holds one
    /// snapshot for long, so a server beside it keeps reusing pages and the file does not
    /// grow while it runs.
    static let verifyPageSize = 4096

    /// Checks the hash chain, sequence and stream-version continuity, the stream index
    /// in both directions, and the stored head (sequence and hash). It checks the log up to
    /// the last record it finds at the start, page by page in short read transactions (records
    /// never change once written, so the pages add up to one consistent check); events
    /// appended meanwhile are left for the next run. `progress` receives the sequence
    /// reached, every 10,000 events.
    public func verify(
        limitProblems: Int = 100, progress: (UInt64) -> Void = { _ in }
    ) throws -> LogVerification {
        var report = LogVerification()
        func note(_ problem: LogVerification.Problem) {
            if report.problems.count < limitProblems { report.problems.append(problem) }
        }
        // The head and the last record as of the start: the check ends there.
        let (stored, lastKey) = try environment.read { txn in
            (
                try head(in: txn),
                try txn.withCursor(events) { try $0.last().map { BigEndian.uint64($0.key) ?? 0 } } ?? 0
            )
        }
        var previousHash = LogHead.empty.hash
        var expected: UInt64 = 1
        var position: UInt64 = 0
        var lastHash: [UInt8]? = nil
        var streamVersions: [String: UInt64] = [:]
        var done = false
        while !done {
            try environment.read { txn in
                try txn.withCursor(events) { cursor in
                    var entry = try cursor.seek(atLeast: BigEndian.bytes(position &+ 1))
                    var checked = 0
                    while let current = entry, checked < Self.verifyPageSize {
                        let key = BigEndian.uint64(current.key) ?? 0
                        guard key <= lastKey else {
                            entry = nil
                            break
                        }
                        checked += 1
                        position = key
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
                            lastHash = nil
                            entry = try cursor.next()
                            continue
                        }
                        if event.sequence != key { note(.keyMismatch(key: key, recordSays: event.sequence)) }
                        let computed = RecordFormat.computeHash(current.value)
                        if computed != event.hash { note(.hashMismatch(sequence: key)) }
                        if event.previousHash != previousHash { note(.brokenChain(sequence: key)) }
                        previousHash = event.hash
                        lastHash = event.hash
                        let streamExpected = (streamVersions[event.stream] ?? 0) + 1
                        if event.version != streamExpected {
                            note(
                                .streamVersionGap(
                                    sequence: key, stream: event.stream, expected: streamExpected,
                                    found: event.version))
                        }
                        streamVersions[event.stream] = event.version
                        let indexed = try txn.get(streams, StreamKey.key(event.stream, version: event.version))
                        if let indexed {
                            let points = BigEndian.uint64(indexed) ?? 0
                            if points != key {
                                note(
                                    .indexWrong(
                                        stream: event.stream, version: event.version, points: points, expected: key))
                            }
                        } else {
                            note(.indexMissing(sequence: key, stream: event.stream, version: event.version))
                        }
                        entry = try cursor.next()
                    }
                    if entry == nil { done = true }
                }
            }
        }
        let index = try verifyIndexEntries(upTo: lastKey)
        report.indexEntriesChecked = index.checked
        for problem in index.problems { note(problem) }
        if stored.sequence != expected - 1 { note(.headMismatch(stored: stored.sequence, last: expected - 1)) }
        if stored.sequence > 0, stored.sequence == expected - 1, let lastHash, lastHash != stored.hash {
            note(.headHashMismatch(sequence: stored.sequence))
        }
        return report
    }

    /// The index's other direction: every entry points at the event of that stream and
    /// version. Entries pointing past `head` (appended during the check) are skipped.
    private func verifyIndexEntries(upTo head: UInt64) throws -> (
        checked: UInt64, problems: [LogVerification.Problem]
    ) {
        var checkedTotal: UInt64 = 0
        var problems: [LogVerification.Problem] = []
        var resume: [UInt8]? = nil
        var done = false
        while !done {
            try environment.read { txn in
                try txn.withCursor(streams) { cursor in
                    var entry = try resume.map { try cursor.seek(atLeast: $0) } ?? cursor.first()
                    if let resumeKey = resume, let current = entry, current.key.elementsEqual(resumeKey) {
                        entry = try cursor.next()
                    }
                    var checked = 0
                    while let current = entry, checked < Self.verifyPageSize {
                        checked += 1
                        let key = Array(current.key)
                        resume = key
                        let points = BigEndian.uint64(current.value) ?? 0
                        if points <= head {
                            checkedTotal += 1
                            let nameBytes = key.prefix(while: { $0 != 0 })
                            let stream = String(decoding: nameBytes, as: UTF8.self)
                            let version = BigEndian.uint64(key, at: nameBytes.count + 1) ?? 0
                            let event = try? self.event(at: points, in: txn)
                            if event?.stream != stream || event?.version != version, problems.count < 1000 {
                                problems.append(.indexExtra(stream: stream, version: version, points: points))
                            }
                        }
                        entry = try cursor.next()
                    }
                    if entry == nil { done = true }
                }
            }
        }
        return (checkedTotal, problems)
    }
}

extension EventLog {
    /// Checks the newest `count` records in one short read transaction: each record's bytes
    /// against its hash, each link of the chain between them, and the stored head (sequence
    /// and hash) against the last record. It does not replace ``verify(limitProblems:progress:)``,
    /// which reads the whole log; it is cheap enough to run on every load of a health page,
    /// and it finds an edited or truncated tail.
    public func verifyTail(last count: Int) throws -> LogVerification {
        try environment.read { txn in
            var report = LogVerification()
            let stored = try head(in: txn)
            try txn.withCursor(events) { cursor in
                var records: [(key: UInt64, bytes: [UInt8])] = []
                var entry = try cursor.last()
                while let current = entry, records.count < max(1, count) {
                    records.append((BigEndian.uint64(current.key) ?? 0, Array(current.value)))
                    entry = try cursor.previous()
                }
                records.reverse()
                var previous: RecordedEvent?
                for (key, bytes) in records {
                    report.eventsChecked += 1
                    guard let event = try? bytes.withUnsafeBytes({ try RecordFormat.decode($0, sequence: key) }) else {
                        report.problems.append(.unreadable(sequence: key, reason: "the record does not decode"))
                        previous = nil
                        continue
                    }
                    if event.sequence != key {
                        report.problems.append(.keyMismatch(key: key, recordSays: event.sequence))
                    }
                    if RecordFormat.computeHash(bytes) != event.hash {
                        report.problems.append(.hashMismatch(sequence: key))
                    }
                    if let previous {
                        if key != previous.sequence + 1 {
                            report.problems.append(.sequenceGap(expected: previous.sequence + 1, found: key))
                        }
                        if event.previousHash != previous.hash { report.problems.append(.brokenChain(sequence: key)) }
                    }
                    previous = event
                }
                let last = records.last?.key ?? 0
                if stored.sequence != last {
                    report.problems.append(.headMismatch(stored: stored.sequence, last: last))
                }
                if stored.sequence == last, let previous, last > 0, previous.hash != stored.hash {
                    report.problems.append(.headHashMismatch(sequence: last))
                }
            }
            return report
        }
    }
}
