/// What one append request wrote, kept compact: the request itself (its events' types, data
/// and metadata), where its events landed, and the hash chain through them. A batch of 1,000
/// events then costs no ``RecordedEvent`` per event (six references taken, released and a
/// hash allocated each) unless someone asks for them: the group-commit writer only counts
/// them, and a command's projections read the few it appended.
struct AppendedRun {
    let request: AppendRequest
    let firstSequence: UInt64
    let firstVersion: UInt64
    let recordedAt: Int64
    /// The previous record's hash, then each event's: 32 bytes each, `count + 1` of them,
    /// so event `i`'s previous hash is entry `i` and its own is entry `i + 1`.
    let chain: [UInt8]

    var count: Int { request.events.count }

    /// Entry `index` of ``chain``.
    func hash(_ index: Int) -> [UInt8] { Array(chain[(index * 32)..<(index * 32 + 32)]) }

    /// The events from the `first`th on, as the log stored them (what reading them back
    /// gives, hashes included).
    func recorded(from first: Int, into events: inout [RecordedEvent]) {
        var previous = hash(first)
        for offset in first..<count {
            let hash = hash(offset + 1)
            let proposed = request.events[offset]
            events.append(
                RecordedEvent(
                    sequence: firstSequence + UInt64(offset), stream: request.stream,
                    version: firstVersion + UInt64(offset), type: proposed.type, recordedAt: recordedAt,
                    data: proposed.data, metadata: proposed.metadata, previousHash: previous, hash: hash))
            previous = hash
        }
    }
}
