import Foundation
import LMDB
import Storage
import TestSupport
import Testing

/// A file that ends before the pages its header counts is sound when every missing page is
/// free (LMDB leaves a page allocated and freed in one transaction unwritten), and cut short
/// otherwise. The open tells the two apart by reading LMDB's free list from the file; these
/// tests check it against LMDB's own walk of that list, on real files cut page by page.
@Suite("Short files")
struct ShortFileTests {
    static let pageSize = Int(getpagesize())
    static let rows = (0..<3).map { (Array("k\($0)".utf8), Array(repeating: UInt8(0x41 + $0), count: 10)) }

    /// A file whose last pages are free: a 1 MB value written, deleted, then small commits
    /// that reuse its pages, so the pages written after it fall free too.
    static func fileWithFreeTail(in folder: TemporaryFolder) throws -> (path: String, freeTail: Int, pages: Int) {
        let environment = try folder.environment("source.mdb")
        let things = try environment.database("things")
        try environment.write { try $0.put(things, Array("big".utf8), [UInt8](repeating: 7, count: 1 << 20)) }
        try environment.write { _ = try $0.delete(things, Array("big".utf8)) }
        for (key, value) in rows { try environment.write { try $0.put(things, key, value) } }
        // LMDB's own walk of its free-page database (database 0): which pages are free.
        var free = Set<UInt64>()
        try environment.read { (txn) throws in
            _ = try txn.forEachEntry(of: Database(name: "free pages", id: 0)) { entry in
                let list = Array(entry.value)
                let ids = stride(from: 0, to: list.count, by: 8).map { offset in
                    list[offset..<offset + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                }
                free.formUnion(ids.dropFirst().prefix(Int(ids[0])))
            }
        }
        let path = environment.path
        let bytes = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let pages = bytes / pageSize
        let freeTail = (0..<pages).reversed().prefix { free.contains(UInt64($0)) }.count
        return (path, freeTail, pages)
    }

    /// A copy of `source` cut to `bytes`, under a name of its own (one open per file).
    static func cutCopy(of source: String, to bytes: Int, in folder: TemporaryFolder, name: String) throws -> String {
        let copy = folder.file(name)
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        #expect(truncate(copy, off_t(bytes)) == 0)
        return copy
    }

    @Test(
        "cut within the free tail, the file opens, reads every row and takes writes; cut into a used page, it is refused"
    )
    func cutPageByPage() throws {
        let folder = TemporaryFolder()
        let source = try Self.fileWithFreeTail(in: folder)
        try #require(source.freeTail >= 2, "the scenario must leave free pages at the end")
        let cuts = [1, source.freeTail / 2, source.freeTail, source.freeTail + 1, source.pages / 2, source.pages - 2]
        for (index, cut) in Set(cuts).sorted().enumerated() where cut >= 1 && cut < source.pages {
            for (part, bytes) in [
                (0, (source.pages - cut) * Self.pageSize), (1, (source.pages - cut) * Self.pageSize + 100),
            ] {
                let path = try Self.cutCopy(of: source.path, to: bytes, in: folder, name: "cut-\(index)-\(part).mdb")
                // A partial page is a missing page: cutting 100 bytes into the last kept page of
                // `cut` loses pages `cut` and up, as cutting at its start does.
                let sound = cut <= source.freeTail
                do {
                    let environment = try Environment(.init(path: path, mapSize: 1 << 26, durability: .nosync))
                    #expect(sound, "cut by \(cut) pages of \(source.pages) (free tail \(source.freeTail)): opened")
                    let things = try environment.database("things")
                    try environment.read { (txn) throws in
                        for (key, value) in Self.rows { #expect(try txn.get(things, key) == value) }
                    }
                    try environment.write { try $0.put(things, Array("after".utf8), [1, 2, 3]) }
                    try environment.read { (txn) throws in
                        #expect(try txn.get(things, Array("after".utf8)) == [1, 2, 3])
                    }
                } catch let error as LMDBError {
                    guard case .truncated = error else { throw error }
                    #expect(!sound, "cut by \(cut) pages of \(source.pages) (free tail \(source.freeTail)): refused")
                }
            }
        }
    }

    @Test("a damaged header counting far more pages than the file holds is refused: nothing huge allocated, no trap")
    func damagedPageCount() throws {
        let folder = TemporaryFolder()
        let source = try Self.fileWithFreeTail(in: folder)
        // The page count LMDB uses is the current meta page's: of the two at the front, the one
        // with the higher transaction id (offset 144); its last page number is at offset 136.
        let header = try #require(FileHandle(forReadingAtPath: source.path)).readData(ofLength: 2 * Self.pageSize)
        func field(_ offset: Int) -> UInt64 {
            header[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        let current = field(144) > field(Self.pageSize + 144) ? 0 : Self.pageSize
        let counts: [UInt64] = [UInt64(source.pages) + 5, 1 << 33, 1 << 52, UInt64(Int.max), UInt64.max]
        for (index, count) in counts.enumerated() {
            let path = try Self.cutCopy(
                of: source.path, to: source.pages * Self.pageSize, in: folder, name: "count-\(index).mdb")
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seek(toOffset: UInt64(current + 136))
            handle.write(Data((0..<8).map { UInt8(truncatingIfNeeded: count >> ($0 * 8)) }))
            try handle.close()
            #expect(throws: LMDBError.self, "a header counting \(count) pages") {
                _ = try Environment(.init(path: path, mapSize: 1 << 26, durability: .nosync))
            }
        }
    }

    @Test("a read-only open of a file cut within its free tail reads it; one cut to its header is refused")
    func readOnly() throws {
        let folder = TemporaryFolder()
        let source = try Self.fileWithFreeTail(in: folder)
        try #require(source.freeTail >= 1)
        let sound = try Self.cutCopy(
            of: source.path, to: (source.pages - source.freeTail) * Self.pageSize, in: folder, name: "sound.mdb")
        do {
            let environment = try Environment(.init(path: sound, readOnly: true))
            let things = try environment.database("things", create: false)
            try environment.read { (txn) throws in #expect(try txn.count(things) == Self.rows.count) }
        }
        let header = try Self.cutCopy(of: source.path, to: 2 * Self.pageSize, in: folder, name: "header.mdb")
        #expect(throws: LMDBError.self) { _ = try Environment(.init(path: header, readOnly: true)) }
    }
}
