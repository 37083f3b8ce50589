import Crypto
import EventLog
public import Foundation
import JSONCoding
public import Storage

/// What a key may do. `admin` may do everything.
public enum Scope: String, Sendable, CaseIterable, Codable {
    /// Views, stats, events.
    case read
    /// Create and cancel jobs, edit and delete accounts.
    case operate
    /// The worker protocol.
    case work
    /// Reveal passwords (`?reveal=password`).
    case secrets
    /// Everything.
    case admin
}

/// A stored API key: only the SHA-256 of its secret part is kept.
public struct APIKey: Sendable, Equatable {
    public var id: String
    public var name: String
    public var scopes: Set<Scope>
    public var createdAt: String
    public var revokedAt: String?

    /// True when the key may use `scope` (admin may use all).
    public func allows(_ scope: Scope) -> Bool {
        revokedAt == nil && (scopes.contains(scope) || scopes.contains(.admin))
    }
}

/// API keys in the `auth.keys` database of the data file, outside the log: a key is
/// `btx_<id>_<secret>`; the id finds the record, the secret is compared by hash in
/// constant time. Written by `botrix keys`, read by the server on every request, so a
/// revocation takes effect at once, across processes.
public struct APIKeyStore: Sendable {
    let environment: any StorageEngine
    let keys: Database

    public init(environment: any StorageEngine) throws {
        self.environment = environment
        keys = try environment.database("auth.keys")
    }

    /// Creates a key; the returned token is shown once and never stored.
    public func create(name: String, scopes: Set<Scope>, now: Date = Date()) throws -> (key: APIKey, token: String) {
        guard !scopes.isEmpty else { throw APIKeyError.noScopes }
        guard (1...64).contains(name.count) else { throw APIKeyError.badName }
        let id = Self.randomHex(6)
        let secret = Self.randomHex(24)
        let key = APIKey(
            id: id, name: name, scopes: scopes,
            createdAt: Timestamp.rfc3339(milliseconds: Int64(now.timeIntervalSince1970 * 1000)),
            revokedAt: nil)
        try environment.write { txn in try txn.put(keys, Array(id.utf8), Self.encode(key, hash: Self.hash(secret))) }
        return (key, "btx_\(id)_\(secret)")
    }

    /// Every key, newest last.
    public func list() throws -> [APIKey] {
        try environment.read { txn in
            var out: [APIKey] = []
            try txn.withCursor(keys) { cursor in
                var entry = try cursor.first()
                while let e = entry {
                    if let decoded = Self.decode(Array(e.value)) { out.append(decoded.key) }
                    entry = try cursor.next()
                }
            }
            return out.sorted { $0.createdAt < $1.createdAt }
        }
    }

    /// Marks a key revoked (it is kept, for the audit trail). False when there is no such key.
    @discardableResult
    public func revoke(id: String, now: Date = Date()) throws -> Bool {
        try environment.write { txn in
            guard let raw = try txn.get(keys, Array(id.utf8)), var record = Self.decode(raw) else { return false }
            record.key.revokedAt =
                record.key.revokedAt ?? Timestamp.rfc3339(milliseconds: Int64(now.timeIntervalSince1970 * 1000))
            try txn.put(keys, Array(id.utf8), Self.encode(record.key, hash: record.hash))
            return true
        }
    }

    /// True when at least one key exists (revoked or not): the server then requires keys.
    public func hasKeys() throws -> Bool { try environment.read { try $0.count(keys) > 0 } }

    /// The key a bearer token names, or why it is refused.
    public func authenticate(_ token: String) throws -> Result<APIKey, APIKeyError> {
        let parts = token.split(separator: "_", omittingEmptySubsequences: false)
        // Counted in bytes and limited to lowercase hex, so no other text reaches the table.
        func hex(_ part: Substring, _ length: Int) -> Bool {
            part.utf8.count == length
                && part.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }
        guard parts.count == 3, parts[0] == "btx", hex(parts[1], 12), hex(parts[2], 48) else {
            return .failure(.malformed)
        }
        guard let record = try environment.read({ try $0.get(keys, Array(parts[1].utf8)) }).flatMap(Self.decode) else {
            return .failure(.unknown)
        }
        guard Self.constantTimeEqual(Self.hash(String(parts[2])), record.hash) else { return .failure(.unknown) }
        guard record.key.revokedAt == nil else { return .failure(.revoked) }
        return .success(record.key)
    }

    /// Whether the key `id` exists and is not revoked: event streams ask it while they run,
    /// so a revocation ends them too.
    public func isActive(id: String) throws -> Bool {
        try environment.read { try $0.get(keys, Array(id.utf8)) }.flatMap(Self.decode).map { $0.key.revokedAt == nil }
            ?? false
    }

    static func hash(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return JSONText.hex((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func encode(_ key: APIKey, hash: [UInt8]) -> [UInt8] {
        var w = JSONObjectWriter()
        w.string("created_at", key.createdAt)
        w.string("hash", JSONText.hex(hash))
        w.string("id", key.id)
        w.string("name", key.name)
        w.string("revoked_at", key.revokedAt)
        w.raw("scopes", JSONWriting.value(.array(key.scopes.map(\.rawValue).sorted().map { .string($0) })))
        return w.bytes()
    }

    static func decode(_ bytes: [UInt8]) -> (key: APIKey, hash: [UInt8])? {
        guard let object = try? JSONReader.object(bytes), case .string(let id)? = object["id"],
            case .string(let name)? = object["name"], case .string(let created)? = object["created_at"],
            case .string(let hashHex)? = object["hash"], case .array(let scopes)? = object["scopes"]
        else { return nil }
        var revoked: String?
        if case .string(let value)? = object["revoked_at"] { revoked = value }
        let scopeSet = Set(
            scopes.compactMap { value -> Scope? in if case .string(let s) = value { Scope(rawValue: s) } else { nil } })
        return (
            APIKey(id: id, name: name, scopes: scopeSet, createdAt: created, revokedAt: revoked),
            JSONTextHex.bytes(hashHex)
        )
    }
}

/// Why a key was refused or could not be made.
public enum APIKeyError: Error, Equatable, CustomStringConvertible {
    case malformed, unknown, revoked, noScopes, badName

    public var description: String {
        switch self {
        case .malformed: "the bearer token is not a Botrix API key (btx_<id>_<secret>)"
        case .unknown: "the API key is not known: check it, or create one with `botrix keys create`"
        case .revoked: "the API key was revoked: ask for a new one"
        case .noScopes: "a key needs at least one --scope (read, operate, work, secrets, admin)"
        case .badName: "a key's --name must be 1 to 64 characters"
        }
    }
}

/// Stored hashes back from hex (written with `JSONText.hex`).
enum JSONTextHex {
    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = UInt8(String(UnicodeScalar(high)), radix: 16),
                let l = UInt8(String(UnicodeScalar(low)), radix: 16)
            else { return [] }
            out.append(h << 4 | l)
        }
        return out
    }
}
