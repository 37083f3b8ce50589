#if canImport(Glibc)
    import Glibc
#endif

/// Whether the pages missing from the end of a short LMDB file are all free, read from the file
/// with `pread` and never through the memory map.
///
/// LMDB counts in its header every page a transaction allocated, but it writes only the pages
/// still in use at commit: a page allocated and freed again in the same transaction goes to the
/// free list unwritten. When such pages are the last ones, the file ends before the count, and a
/// crash before anything is written past them leaves it so. Such a file is sound: LMDB never
/// reads a free page (it writes a page whole before it reads it again). A copy cut short is not:
/// pages of the tree are missing, and reading one through the map kills the process (SIGBUS).
/// This walk of LMDB's free-page database (database 0) tells the two apart. It reads the file
/// itself, so a cut-short free-page database is found missing here rather than crashing LMDB.
///
/// The layout read is LMDB 0.9's data format version 1 (`mdb.c`: `MDB_page`, `MDB_meta`,
/// `MDB_node`); anything else answers "not free", which keeps the old refusal.
enum FreePages {
    /// True when every page from the file's last whole page to the header's last page is on
    /// LMDB's free list.
    static func coverMissingTail(of path: String, fileBytes: Int) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var reader = PageReader(descriptor: descriptor, fileBytes: fileBytes)
        return (try? reader.missingTailIsFree()) ?? false
    }
}

/// Reads LMDB pages by number; a page past the file's end, or one that does not parse, throws.
private struct PageReader {
    struct Unreadable: Error {}

    // MDB_page: pgno (8) · pad (2) · flags (2) · lower (2) · upper (2), or pages (4) · pointers.
    static let headerSize = 16
    static let branch: UInt16 = 0x01
    static let leaf: UInt16 = 0x02
    static let overflow: UInt16 = 0x04
    static let meta: UInt16 = 0x08
    // MDB_node: lo (2) · hi (2) · flags (2) · key size (2) · key · data.
    static let bigData: UInt16 = 0x01
    static let magic: UInt32 = 0xBEEF_C0DE
    static let noPage = UInt64.max

    let descriptor: Int32
    let fileBytes: Int
    var pageSize = 0
    /// Pages read so far: a corrupt tree that loops cannot walk forever.
    var visited = 0

    init(descriptor: Int32, fileBytes: Int) {
        self.descriptor = descriptor
        self.fileBytes = fileBytes
    }

    mutating func missingTailIsFree() throws -> Bool {
        let current = try currentMeta()
        pageSize = current.pageSize
        let firstMissing = UInt64(fileBytes / pageSize)
        guard firstMissing <= current.lastPage else { return true }
        // Every missing page must be named by an 8-byte id somewhere in the file: a header
        // that counts more (a damaged last-page field) is refused before anything is allocated.
        guard current.lastPage - firstMissing < UInt64(fileBytes / 8) else { return false }
        var missing = [Bool](repeating: false, count: Int(current.lastPage - firstMissing) + 1)
        var remaining = missing.count
        var pending = current.freeRoot == Self.noPage ? [] : [current.freeRoot]
        // A tree reaches each page once: a page named twice (a loop in a damaged file) ends the
        // walk, so its memory stays within the file's page count.
        var seen = Set<UInt64>()
        while let page = pending.popLast() {
            guard seen.insert(page).inserted else { throw Unreadable() }
            let bytes = try read(page: page, count: 1)
            let flags = bytes.uint16(at: 10)
            let nodes = (Int(bytes.uint16(at: 12)) - Self.headerSize) / 2
            guard nodes >= 0, flags & (Self.branch | Self.leaf) != 0 else { throw Unreadable() }
            for index in 0..<nodes {
                let node = Int(bytes.uint16(at: Self.headerSize + 2 * index))
                guard node + 8 <= bytes.count else { throw Unreadable() }
                let low = UInt64(bytes.uint16(at: node)) | UInt64(bytes.uint16(at: node + 2)) << 16
                let nodeFlags = bytes.uint16(at: node + 4)
                if flags & Self.branch != 0 {
                    guard pending.count + seen.count < fileBytes / pageSize else { throw Unreadable() }
                    pending.append(low | UInt64(nodeFlags) << 32)
                    continue
                }
                let data = node + 8 + Int(bytes.uint16(at: node + 6))
                let list = try freeList(at: data, size: Int(low), big: nodeFlags & Self.bigData != 0, in: bytes)
                for free in list where free >= firstMissing && free <= current.lastPage {
                    let slot = Int(free - firstMissing)
                    if !missing[slot] {
                        missing[slot] = true
                        remaining -= 1
                    }
                }
            }
            if remaining == 0 { return true }
        }
        return remaining == 0
    }

    /// A free-list record: a count, then that many page numbers (`MDB_IDL`), stored in the
    /// leaf or, when large, on overflow pages of its own.
    private mutating func freeList(at offset: Int, size: Int, big: Bool, in leaf: [UInt8]) throws -> [UInt64] {
        var record: [UInt8]
        if big {
            guard offset + 8 <= leaf.count else { throw Unreadable() }
            let first = leaf.uint64(at: offset)
            let head = try read(page: first, count: 1)
            guard head.uint16(at: 10) & Self.overflow != 0 else { throw Unreadable() }
            let pages = Int(head.uint32(at: 12))
            guard pages >= 1, Self.headerSize + size <= pages * pageSize else { throw Unreadable() }
            record = try read(page: first, count: pages)
            record = Array(record[Self.headerSize..<Self.headerSize + size])
        } else {
            guard offset + size <= leaf.count else { throw Unreadable() }
            record = Array(leaf[offset..<offset + size])
        }
        guard size >= 8 else { throw Unreadable() }
        let count = Int(clamping: record.uint64(at: 0))
        guard count <= size / 8 - 1 else { throw Unreadable() }
        return (0..<count).map { record.uint64(at: 8 + 8 * $0) }
    }

    /// The meta page LMDB itself would pick: the valid one with the higher transaction id.
    private mutating func currentMeta() throws -> (pageSize: Int, freeRoot: UInt64, lastPage: UInt64) {
        // MDB_meta follows the page header: magic (4) · version (4) · address (8) · map size (8) ·
        // two MDB_db of 48 bytes (free pages, then main; the free one's first 4 bytes hold the
        // page size) · last page (8) · transaction id (8). The first meta page is at offset 0,
        // the second one page size further.
        var best: (txn: UInt64, pageSize: Int, freeRoot: UInt64, lastPage: UInt64)?
        var offset = 0
        for _ in 0..<2 {
            let bytes = try readBytes(at: offset, count: 152)
            guard bytes.uint16(at: 10) & Self.meta != 0, bytes.uint32(at: 16) == Self.magic,
                bytes.uint32(at: 20) == 1
            else { throw Unreadable() }
            let size = Int(bytes.uint32(at: 40))
            guard size >= 512, size.nonzeroBitCount == 1 else { throw Unreadable() }
            let txn = bytes.uint64(at: 144)
            if best.map({ txn > $0.txn }) ?? true {
                best = (txn, size, bytes.uint64(at: 80), bytes.uint64(at: 136))
            }
            offset = size
        }
        guard let best else { throw Unreadable() }
        return (best.pageSize, best.freeRoot, best.lastPage)
    }

    private mutating func read(page: UInt64, count: Int) throws -> [UInt8] {
        visited += count
        guard page < UInt64(Int.max / pageSize), visited <= fileBytes / pageSize + 1 else { throw Unreadable() }
        let bytes = try readBytes(at: Int(page) * pageSize, count: count * pageSize)
        guard bytes.uint64(at: 0) == page else { throw Unreadable() }
        return bytes
    }

    /// Exactly `count` bytes at `offset`, or ``Unreadable`` (a range past the end of the file
    /// is a missing page, never read through the map).
    private func readBytes(at offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count > 0, offset + count <= fileBytes else { throw Unreadable() }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset + done))
            }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw Unreadable() }
            done += got
        }
        return bytes
    }
}

extension [UInt8] {
    /// Little-endian integers at a byte offset (LMDB writes its pages in the host's order; this
    /// package builds only for little-endian Linux). Reads past the end give zero.
    fileprivate func uint16(at offset: Int) -> UInt16 { UInt16(truncatingIfNeeded: little(at: offset, bytes: 2)) }
    fileprivate func uint32(at offset: Int) -> UInt32 { UInt32(truncatingIfNeeded: little(at: offset, bytes: 4)) }
    fileprivate func uint64(at offset: Int) -> UInt64 { little(at: offset, bytes: 8) }

    private func little(at offset: Int, bytes: Int) -> UInt64 {
        guard offset >= 0, offset + bytes <= count else { return 0 }
        var value: UInt64 = 0
        for index in (0..<bytes).reversed() { value = value << 8 | UInt64(self[offset + index]) }
        return value
    }
}
