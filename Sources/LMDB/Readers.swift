import CLMDB
import Dispatch
public import Storage
import Synchronization

/// First sightings of reader slots, to turn LMDB's table (which has no times) into ages.
final class ReaderSightings: Sendable {
    private let seen = Mutex<[String: UInt64]>([:])

    /// Ages in nanoseconds for the given slots; forgets slots no longer open.
    func age(of slots: [String], now: UInt64) -> [String: UInt64] {
        seen.withLock { seen in
            var next: [String: UInt64] = [:]
            for slot in slots { next[slot] = seen[slot] ?? now }
            seen = next
            return next.mapValues { now - $0 }
        }
    }
}

extension Environment {
    /// Clears the slots of readers whose process is gone (LMDB's `mdb_reader_check`);
    /// returns how many were cleared. Safe while other processes read and write.
    @discardableResult
    public func clearStaleReaders() throws -> Int {
        var dead: Int32 = 0
        try record(mdb_reader_check(handle, &dead), "check readers")
        return Int(dead)
    }

    /// Clears stale reader slots when the file grew by `pages` or more since the last such
    /// look: a dead reader makes every commit write new pages, so growth is its symptom.
    /// The writer calls this after each commit; it costs one read of the meta page.
    @discardableResult
    public func clearStaleReadersAfterGrowth(pages: Int = 256) -> Int {
        let last = info.lastPageNumber
        let checked = lastReaderCheckPage.load(ordering: .relaxed)
        guard last >= checked + pages || last < checked else { return 0 }
        lastReaderCheckPage.store(last, ordering: .relaxed)
        return (try? clearStaleReaders()) ?? 0
    }

    /// The reader table now; see ``ReaderReport``.
    public func readers() -> ReaderReport {
        final class Lines { var text = "" }
        let lines = Lines()
        let context = Unmanaged.passUnretained(lines).toOpaque()
        _ = mdb_reader_list(
            handle,
            { message, context in
                guard let message, let context else { return 0 }
                Unmanaged<Lines>.fromOpaque(context).takeUnretainedValue().text += String(cString: message)
                return 0
            }, context)
        // Lines are "pid thread txnid" (txnid "-" for a slot not in a transaction) after a
        // header line; "(no active readers)" when the table is empty.
        var open: [(slot: String, txnid: Int)] = []
        for line in lines.text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 3, let txnid = Int(fields[2]) else { continue }
            open.append(("\(fields[0]) \(fields[1]) \(txnid)", txnid))
        }
        let info = self.info
        let ages = sightings.age(of: open.map(\.slot), now: DispatchTime.now().uptimeNanoseconds)
        let oldest = open.min(by: { $0.txnid < $1.txnid })
        return ReaderReport(
            active: open.count,
            slots: info.readersInUse,
            oldestLag: oldest.map { max(0, info.lastTransactionID - $0.txnid) } ?? 0,
            oldestAgeSeconds: oldest.flatMap { ages[$0.slot] }.map { Double($0) / 1e9 } ?? 0)
    }
}
