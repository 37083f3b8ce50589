import Crypto
import EventLog
import Foundation
import Storage
import Synchronization

/// Where the secrets' keys live in LMDB.
///
/// - `secrets.meta`: `epoch` (8 bytes, big-endian: which keyring root wraps the bucket
///   keys) and `scheme` (JSON: scheme version, the data file's random store id, the master
///   key's fingerprint).
/// - `secrets.buckets`: bucket number (1 byte) → bucket key wrapped under the epoch root.
/// - `secrets.data_keys`: bucket (1 byte) | account id (8 bytes, big-endian) → the
///   account's data key wrapped under its bucket key. The bucket first, so erasing an
///   account re-wraps only its bucket's keys, found by one cursor range.
enum SecretsLayout {
    static let meta = "secrets.meta"
    static let buckets = "secrets.buckets"
    static let dataKeys = "secrets.data_keys"
    static let epochKey = Array("epoch".utf8)
    static let schemeKey = Array("scheme".utf8)
    /// Buckets of a new file. Each erasure gives one bucket a new key (re-wrapping about
    /// 1/256 of the data keys) and re-wraps at most 256 bucket keys under the new root: both
    /// stay small. The count is recorded per file (`scheme.buckets`, 1...256: one key byte).
    static let bucketCount = 256

    static func bucket(of account: Int64, among count: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: UInt64(bitPattern: account) % UInt64(count))
    }
}

/// The `scheme` record of `secrets.meta`.
struct SecretsScheme: Codable, Sendable {
    /// 2: keyring roots → bucket keys → data keys. (1, never written as a record: data keys
    /// wrapped directly under the master key, before keyrings existed.)
    var scheme: Int
    /// Random id shared with the keyring, so a keyring of another data file is refused.
    var store: String
    /// ``SecretBox/fingerprint`` of the master key wrapping the current epoch's root.
    var master: String
    var buckets: Int
    /// True between recording this record on a scheme-1 file and converting its data keys.
    var legacyKeys: Bool

    enum CodingKeys: String, CodingKey {
        case scheme, store, master, buckets
        case legacyKeys = "legacy_keys"
    }

    static let current = 2

    static func read(_ meta: Database, in txn: some TransactionReading) throws -> SecretsScheme? {
        guard let raw = try txn.get(meta, SecretsLayout.schemeKey) else { return nil }
        guard let scheme = try? JSONDecoder().decode(SecretsScheme.self, from: Data(raw)) else {
            throw SecretBoxError.damaged("the secrets.meta scheme record does not parse")
        }
        return scheme
    }

    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try! encoder.encode(self))
    }
}
