import CCryptoBoringSSL
import Crypto
import EventLog
import Foundation
import LMDB
import Storage
import Synchronization
import TestSupport
import Testing

@testable import Botrix

/// The sealed secrets of each account, read from the log (they never leave it).
struct SealedSecrets {
    var byAccount: [Int64: [String]] = [:]

    init(log: EventLog) throws {
        for event in try log.read(after: 0, limit: 10_000) where event.stream.hasPrefix("account-") {
            guard let id = Int64(event.stream.dropFirst("account-".count)),
                let object = try JSONSerialization.jsonObject(with: Data(event.data)) as? [String: Any]
            else { continue }
            for field in ["password", "verification_code"] {
                if let text = object[field] as? String, text.hasPrefix("enc1:") {
                    byAccount[id, default: []].append(text)
                }
            }
        }
    }

    func of(_ id: Int64) -> [String] { byAccount[id] ?? [] }
}

/// A keyring file as JSON, parsed here independently of the code under test.
struct KeyringCopy: Equatable {
    struct Entry: Equatable {
        var epoch: UInt64
        var master: String
        var root: String
    }
    var store: String
    var format: Int
    var epochs: [Entry]

    init(_ path: String) throws {
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        store = try #require(object["store"] as? String)
        format = try #require(object["format"] as? Int)
        epochs = try #require(object["epochs"] as? [[String: Any]]).map {
            Entry(
                epoch: try #require(($0["epoch"] as? NSNumber)?.uint64Value),
                master: try #require($0["master"] as? String),
                root: try #require($0["root"] as? String))
        }
    }

    private init(store: String, format: Int, epochs: [Entry]) {
        self.store = store
        self.format = format
        self.epochs = epochs
    }

    /// A keyring entry for `epoch` with a random root, as an erasure writes before its commit.
    static func fabricated(epoch: UInt64, store: String, master: [UInt8]) throws -> KeyringCopy {
        let root = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let wrapped = try AES.GCM.seal(root, using: SymmetricKey(data: master)).combined!
        let fingerprint = try SecretBox(masterKey: master).fingerprint
        return KeyringCopy(
            store: store, format: 1,
            epochs: [Entry(epoch: epoch, master: fingerprint, root: wrapped.base64EncodedString())])
    }

    func merged(with other: KeyringCopy) -> KeyringCopy {
        KeyringCopy(store: store, format: format, epochs: epochs + other.epochs)
    }

    static func write(_ keyring: KeyringCopy, to path: String) throws {
        let object: [String: Any] = [
            "store": keyring.store, "format": keyring.format,
            "epochs": keyring.epochs.map { ["epoch": $0.epoch, "master": $0.master, "root": $0.root] },
        ]
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).write(
            to: URL(fileURLWithPath: path))
    }
}

/// Everything the master key opens from a copy, found without knowing the layout: every
/// root in the keyring, then every 60-byte window (nonce | 32-byte key | tag) of the data
/// file that AES-GCM opens under any key found so far, again and again until nothing new
/// turns up. The keys found are then tried on sealed secrets.
struct Search {
    let keys: [SymmetricKey]

    init(data: String, keyring: String) throws {
        let master = SymmetricKey(data: ErasureTests.master)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: data)))
        var found: [[UInt8]: SymmetricKey] = [:]
        var frontier: [SymmetricKey] = [master]
        for entry in try KeyringCopy(keyring).epochs {
            guard let blob = Data(base64Encoded: entry.root), let raw = Self.open(Array(blob)[...], master) else {
                continue
            }
            found[raw] = SymmetricKey(data: raw)
        }
        frontier += found.values
        while !frontier.isEmpty {
            let new = Self.scan(bytes, with: frontier).filter { found[$0] == nil }
            frontier = []
            for raw in Set(new) {
                let key = SymmetricKey(data: raw)
                found[raw] = key
                frontier.append(key)
            }
        }
        keys = [master] + Array(found.values)
    }

    /// The plain texts of `sealed` (`enc1:` strings) that any key found opens.
    func opens(_ sealed: [String]) -> Set<String> {
        var out: Set<String> = []
        for text in sealed {
            guard let blob = Data(base64Encoded: String(text.dropFirst("enc1:".count))),
                let box = try? AES.GCM.SealedBox(combined: blob)
            else { continue }
            for key in keys {
                if let plain = try? AES.GCM.open(box, using: key) { out.insert(String(decoding: plain, as: UTF8.self)) }
            }
        }
        return out
    }

    static let blobSize = 12 + 32 + 16

    static func open(_ blob: ArraySlice<UInt8>, _ key: SymmetricKey) -> [UInt8]? {
        guard blob.count == blobSize, let box = try? AES.GCM.SealedBox(combined: blob),
            let raw = try? AES.GCM.open(box, using: key), raw.count == 32
        else { return nil }
        return Array(raw)
    }

    /// Every window of `bytes` that opens under one of `keys`: the keys inside them.
    /// BoringSSL's AEAD directly, with one context per key: swift-crypto builds a context
    /// (key schedule) for every call, which made this search take minutes.
    static func scan(_ bytes: [UInt8], with keys: [SymmetricKey]) -> [[UInt8]] {
        guard bytes.count >= blobSize else { return [] }
        let contexts = keys.map(AEADKey.init)
        let last = bytes.count - blobSize
        let found = Mutex<[[UInt8]]>([])
        let parts = 2
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            var local: [[UInt8]] = []
            var out = [UInt8](repeating: 0, count: 64)
            bytes.withUnsafeBufferPointer { buffer in
                var offset = part * (last + 1) / parts
                let end = (part + 1) * (last + 1) / parts
                while offset < end {
                    let window = buffer.baseAddress! + offset
                    for context in contexts where context.open(window, into: &out) {
                        local.append(Array(out[0..<32]))
                    }
                    offset += 1
                }
            }
            found.withLock { $0 += local }
        }
        return found.withLock { $0 }
    }
}

/// An AES-256-GCM key ready to open many blobs (nonce 12 | ciphertext 32 | tag 16).
final class AEADKey: @unchecked Sendable {
    private var context = EVP_AEAD_CTX()

    init(_ key: SymmetricKey) {
        key.withUnsafeBytes { raw in
            _ = CCryptoBoringSSL_EVP_AEAD_CTX_init(
                &context, CCryptoBoringSSL_EVP_aead_aes_256_gcm(), raw.baseAddress, raw.count, 16, nil)
        }
    }

    deinit { CCryptoBoringSSL_EVP_AEAD_CTX_cleanup(&context) }

    /// True when the blob at `blob` opens; the 32-byte plain text is then in `out`.
    func open(_ blob: UnsafePointer<UInt8>, into out: inout [UInt8]) -> Bool {
        var length = 0
        return out.withUnsafeMutableBufferPointer { output in
            withUnsafePointer(to: &context) { context in
                CCryptoBoringSSL_EVP_AEAD_CTX_open(
                    context, output.baseAddress, &length, output.count, blob, 12, blob + 12, 48, nil, 0) == 1
            }
        } && length == 32
    }
}
