import Foundation
import JSONCoding

/// Projection rows in a compact binary layout, versioned by a leading byte. Views are
/// read and rewritten on every command and every replayed event; a hand-written layout
/// costs a small fraction of JSON. The API renders views to JSON when it serves them.
struct ViewWriter {
    var bytes: [UInt8]

    init(version: UInt8) {
        bytes = [version]
        bytes.reserveCapacity(256)  // most rows fit: one allocation per row
    }

    mutating func int(_ value: Int64) { withUnsafeBytes(of: value.bigEndian) { bytes += $0 } }
    mutating func uint(_ value: UInt64) { withUnsafeBytes(of: value.bigEndian) { bytes += $0 } }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }
    mutating func string(_ value: String) { string(utf8: value.utf8) }
    /// A string field from its UTF-8 (also JSON text just written, without making a String).
    mutating func string(utf8: some Collection<UInt8>) {
        withUnsafeBytes(of: UInt32(utf8.count).bigEndian) { bytes += $0 }
        bytes += utf8
    }
    mutating func string(_ value: String?) {
        bool(value != nil)
        if let value { string(value) }
    }
    mutating func uuid(_ value: UUID) { withUnsafeBytes(of: value.uuid) { bytes += $0 } }
}

struct ViewReader {
    let bytes: [UInt8]
    var index = 1

    struct Damaged: Error, CustomStringConvertible {
        var description: String { "a projection row is damaged: run `botrix rebuild`" }
    }

    init(_ bytes: [UInt8], version: UInt8) throws {
        try self.init(bytes, versions: version...version)
    }

    /// Reads a row of any of `versions`; ``version`` says which.
    init(_ bytes: [UInt8], versions: ClosedRange<UInt8>) throws {
        guard let first = bytes.first, versions.contains(first) else { throw Damaged() }
        self.bytes = bytes
    }

    /// The row's format version (its first byte).
    var version: UInt8 { bytes[0] }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard index + count <= bytes.count else { throw Damaged() }
        defer { index += count }
        return bytes[index..<(index + count)]
    }

    mutating func uint() throws -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
    mutating func int() throws -> Int64 { Int64(bitPattern: try uint()) }
    mutating func bool() throws -> Bool { try take(1).first == 1 }
    mutating func string() throws -> String {
        let count = Int(try take(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        return String(decoding: try take(count), as: UTF8.self)
    }
    mutating func optionalString() throws -> String? { try bool() ? try string() : nil }
    mutating func uuid() throws -> UUID {
        let b = Array(try take(16))
        return UUID(
            uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        )
    }
}

extension JobView {
    /// 2 adds the claim's lease length, token hash, API key, the holders and the accounts
    /// recorded; rows of 1 (written before) read with those empty (accounts: the progress).
    /// 3 adds when a retried job becomes available (rows of 2 read with none).
    static let rowVersion: UInt8 = 3

    func row() -> [UInt8] {
        var w = ViewWriter(version: Self.rowVersion)
        w.uuid(id)
        w.int(Int64(count))
        w.string(status.rawValue)
        w.int(Int64(progress))
        w.int(Int64(successful))
        w.int(Int64(failed))
        w.int(Int64(priority))
        w.bool(verificationEnabled)
        w.string(errorMessage)
        w.string(message)
        w.int(Int64(attempts))
        w.string(workerID)
        w.string(leaseExpiresAt)
        w.string(createdAt)
        w.string(updatedAt)
        w.string(startedAt)
        w.string(completedAt)
        w.uint(version)
        w.uint(createdSequence)
        w.bool(requeued)
        w.int(Int64(leaseSeconds ?? -1))
        w.string(claimTokenHash)
        w.string(claimKey)
        w.string(holders.joined(separator: "\n"))
        w.int(Int64(accountsRecorded))
        w.string(availableAt)
        return w.bytes
    }

    /// True when ``init(row:)`` of ``row()`` gives this view back. Two things do not
    /// survive: holders are kept one per line (an empty one, or one holding a line break,
    /// reads back differently), and a negative lease length reads back as none.
    var survivesRow: Bool {
        (leaseSeconds ?? 0) >= 0 && holders.allSatisfy { !$0.isEmpty && !$0.utf8.contains(UInt8(ascii: "\n")) }
    }

    init(row: [UInt8]) throws {
        var r = try ViewReader(row, versions: 1...Self.rowVersion)
        let id = try r.uuid()
        let count = Int(try r.int())
        guard let status = JobStatus(rawValue: try r.string()) else { throw ViewReader.Damaged() }
        self.init(
            id: id, count: count, status: status, progress: Int(try r.int()), successful: Int(try r.int()),
            failed: Int(try r.int()), priority: Int(try r.int()), verificationEnabled: try r.bool(),
            errorMessage: try r.optionalString(), message: try r.optionalString(), attempts: Int(try r.int()),
            workerID: try r.optionalString(), leaseExpiresAt: try r.optionalString(), createdAt: try r.string(),
            updatedAt: try r.string(), startedAt: try r.optionalString(), completedAt: try r.optionalString(),
            version: try r.uint(), createdSequence: try r.uint(), requeued: try r.bool())
        guard r.version >= 2 else {
            accountsRecorded = progress  // format 1 counted accounts in progress
            return
        }
        let lease = try r.int()
        leaseSeconds = lease < 0 ? nil : Int(lease)
        claimTokenHash = try r.optionalString()
        claimKey = try r.optionalString()
        let holders = try r.string()
        self.holders = holders.isEmpty ? [] : holders.split(separator: "\n").map(String.init)
        // A row written before holders were bounded: cut it claim by claim, as a rebuild does,
        // so its answers are a rebuild's at once (its stored bytes change at its next write).
        if self.holders.count > JobView.keptHolders {
            self.holders = self.holders.reduce(into: []) { $0 = JobView.boundedHolders($0 + [$1]) }
        }
        accountsRecorded = Int(try r.int())
        if r.version >= 3 { availableAt = try r.optionalString() }
    }
}

extension AccountView {
    static let rowVersion: UInt8 = 1

    func row() -> [UInt8] {
        var w = ViewWriter(version: Self.rowVersion)
        w.int(id)
        w.string(email)
        w.string(username)
        w.string(password)
        w.string(birthdate)
        w.string(verificationCode)
        w.string(status.rawValue)
        w.uuid(jobID)
        w.string(utf8: JSONWriting.value(.object(accountData)))
        w.string(createdAt)
        w.string(updatedAt)
        w.uint(version)
        return w.bytes
    }

    init(row: [UInt8]) throws {
        var r = try ViewReader(row, version: Self.rowVersion)
        let id = try r.int()
        let email = try r.string()
        let username = try r.string()
        let password = try r.string()
        let birthdate = try r.string()
        let code = try r.optionalString()
        guard let status = AccountStatus(rawValue: try r.string()) else { throw ViewReader.Damaged() }
        let jobID = try r.uuid()
        let data = try JSONReader.object(Array(try r.string().utf8))
        self.init(
            id: id, email: email, username: username, password: password, birthdate: birthdate,
            verificationCode: code, status: status, jobID: jobID, accountData: data, createdAt: try r.string(),
            updatedAt: try r.string(), version: try r.uint())
    }
}
