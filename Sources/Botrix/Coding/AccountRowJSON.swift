import Foundation
import JSONCoding

/// An account's API JSON written straight from its projection row, for list pages.
///
/// The answer is byte for byte `AccountView(row:).json()` (`AccountRowJSONTests` holds the
/// two equal on random accounts), without what that costs per account: a `String` per
/// field, `account_data` parsed into a tree of dictionaries and written out again, and a
/// writer that tracks every key to sort them. The row keeps `account_data` as the JSON text
/// the writer made (keys sorted), which is what the API serves: when it is in the writer's
/// own form (``JSONWriterForm``) it is copied as it is, and otherwise parsed and written as
/// the view does, so a damaged row is refused or tidied exactly as before.
/// Rendering a page of ten accounts through views was 11.8% of the server's samples
/// (README, Performance).
enum AccountRowJSON {
    /// Thrown instead of parsing `account_data` that would pass the caller's parse budget.
    struct TooCostly: Error {}

    /// The account's JSON; nil when `status` is given and the account is in another one.
    /// Throws where the view's reader would: ``ViewReader/Damaged`` for a broken row, the
    /// JSON reader's error for `account_data` that does not parse.
    static func render(_ row: UnsafeRawBufferPointer, status wanted: AccountStatus?) throws -> [UInt8]? {
        var unlimited = Int.max
        return try render(row, status: wanted, parseBudget: &unlimited)
    }

    /// As ``render(_:status:)``, but `account_data` that is not in the writer's form is parsed
    /// only while `parseBudget` bytes remain (it is spent as they are parsed), else
    /// ``TooCostly`` is thrown before any parsing: parsing costs some 60 times a copy per byte,
    /// so a caller bounding work by bytes gives it a budget of its own.
    static func render(
        _ row: UnsafeRawBufferPointer, status wanted: AccountStatus?, parseBudget: inout Int
    ) throws -> [UInt8]? {
        var r = RawRowReader(row)
        guard try r.byte() == AccountView.rowVersion else { throw ViewReader.Damaged() }
        let id = Int64(bitPattern: try r.uint())
        let email = try r.string()
        let username = try r.string()
        _ = try r.string()  // the sealed password: shown only when revealed
        let birthdate = try r.string()
        if try r.byte() == 1 { _ = try r.string() }  // the verification code: shown only when revealed
        let statusText = try r.string()
        guard let status = AccountStatus.allCases.first(where: { $0.rawValue.utf8.elementsEqual(statusText) }) else {
            throw ViewReader.Damaged()
        }
        let jobID = try r.uuid()
        let data = try r.string()
        let createdAt = try r.string()
        let updatedAt = try r.string()
        let version = try r.uint()

        var out: [UInt8] = []
        out.reserveCapacity(row.count + 160)
        append("{\"account_data\":", to: &out)
        if JSONWriterForm.isObject(data) {
            out.append(contentsOf: data)  // what the writer made, served as it is
        } else {
            // Anything else (a double, non-ASCII text, damage) as the view does it: parsed,
            // refused if it does not parse, written again if it does.
            guard data.count <= parseBudget else { throw TooCostly() }
            parseBudget -= data.count
            let text = String(decoding: data, as: UTF8.self)
            out.append(contentsOf: JSONWriting.value(.object(try JSONReader.object(Array(text.utf8)))))
        }
        append(",\"birthdate\":", to: &out)
        appendString(birthdate, to: &out)
        append(",\"created_at\":", to: &out)
        appendString(createdAt, to: &out)
        append(",\"email\":", to: &out)
        appendString(email, to: &out)
        append(",\"id\":", to: &out)
        out.append(contentsOf: String(id).utf8)
        append(",\"job_id\":\"", to: &out)
        UUIDText.append(jobID, to: &out)
        append("\",\"status\":", to: &out)
        appendString(statusText, to: &out)
        append(",\"updated_at\":", to: &out)
        appendString(updatedAt, to: &out)
        append(",\"username\":", to: &out)
        appendString(username, to: &out)
        append(",\"verification_code\":null,\"version\":", to: &out)
        out.append(contentsOf: String(version).utf8)
        out.append(UInt8(ascii: "}"))
        // Filtered last, as the view is: a row that the view would refuse is refused here too,
        // whatever its status.
        if let wanted, wanted != status { return nil }
        return out
    }

    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    /// A stored string field as a JSON string. ASCII is escaped from the row's bytes; other
    /// text goes through `String` first, as the view's reader does (which repairs invalid
    /// UTF-8), so a damaged row still renders as the view would.
    private static func appendString(_ utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        if utf8.allSatisfy({ $0 < 0x80 }) {
            JSONText.appendString(utf8: utf8, to: &out)
        } else {
            JSONText.appendString(String(decoding: utf8, as: UTF8.self), to: &out)
        }
    }
}

/// ``ViewReader``'s layout read in place: fields are slices of the row, not copies.
private struct RawRowReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(_ row: UnsafeRawBufferPointer) { bytes = row.assumingMemoryBound(to: UInt8.self) }

    mutating func take(_ count: Int) throws -> UnsafeBufferPointer<UInt8> {
        guard count >= 0, count <= bytes.count - index else { throw ViewReader.Damaged() }
        defer { index += count }
        return UnsafeBufferPointer(rebasing: bytes[index..<(index + count)])
    }

    mutating func byte() throws -> UInt8 { try take(1)[0] }
    mutating func uint() throws -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
    mutating func string() throws -> UnsafeBufferPointer<UInt8> {
        let count = try take(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        return try take(Int(count))
    }
    mutating func uuid() throws -> UUID {
        let b = try take(16)
        return UUID(
            uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        )
    }
}
