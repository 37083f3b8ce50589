import Crypto
public import Foundation

/// Encrypts account secrets (passwords, verification codes) before they enter the log.
///
/// Each account has its own 256-bit data key; secrets are sealed with AES-GCM under it and
/// stored as `enc1:<base64 nonce|ciphertext|tag>`. Data keys are kept outside the log, in
/// the `secrets.data_keys` database, wrapped (AES-GCM) by the master key from
/// `BOTRIX_MASTER_KEY` or a key file. Deleting an account destroys its data key in the
/// same transaction: its secrets can then never be read again — from the log, from a
/// rebuild, or from a backup made afterwards. (A backup made before the deletion still
/// holds the wrapped key; whoever has it and the master key can read that account.)
public struct SecretBox: Sendable {
    let master: SymmetricKey
    static let prefix = "enc1:"

    /// A box over a 32-byte master key.
    public init(masterKey: [UInt8]) throws {
        guard masterKey.count == 32 else { throw SecretBoxError.badMasterKey(length: masterKey.count) }
        master = SymmetricKey(data: masterKey)
    }

    /// A fresh data key for a new account.
    func newDataKey() -> SymmetricKey { SymmetricKey(size: .bits256) }

    /// The data key as stored: sealed under the master key.
    func wrap(_ key: SymmetricKey) throws -> [UInt8] {
        let raw = key.withUnsafeBytes { Array($0) }
        return Array(try AES.GCM.seal(raw, using: master).combined!)
    }

    func unwrap(_ wrapped: [UInt8]) throws -> SymmetricKey {
        SymmetricKey(data: try AES.GCM.open(try AES.GCM.SealedBox(combined: wrapped), using: master))
    }

    /// `enc1:` + base64 of nonce, ciphertext and tag.
    func encrypt(_ text: String, with key: SymmetricKey) throws -> String {
        let sealed = try AES.GCM.seal(Array(text.utf8), using: key)
        return Self.prefix + sealed.combined!.base64EncodedString()
    }

    func decrypt(_ text: String, with key: SymmetricKey) throws -> String {
        guard text.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(text.dropFirst(Self.prefix.count)))
        else {
            throw SecretBoxError.notEncrypted
        }
        return String(decoding: try AES.GCM.open(try AES.GCM.SealedBox(combined: data), using: key), as: UTF8.self)
    }

    /// The master key from `BOTRIX_MASTER_KEY` (base64 of 32 bytes), else the file named
    /// by `BOTRIX_MASTER_KEY_FILE`, else — in development only — `<data file>-master.key`,
    /// created on first use with mode 0600. Production without a key is an error.
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment, dataFile: String, development: Bool
    ) throws -> (box: SecretBox, source: String) {
        if let text = environment["BOTRIX_MASTER_KEY"], !text.isEmpty {
            guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw SecretBoxError.badMasterKey(length: 0)
            }
            return (try SecretBox(masterKey: Array(bytes)), "BOTRIX_MASTER_KEY")
        }
        let file = environment["BOTRIX_MASTER_KEY_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8),
                let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { throw SecretBoxError.unreadableKeyFile(path: file) }
            return (try SecretBox(masterKey: Array(bytes)), file)
        }
        guard development else { throw SecretBoxError.missingInProduction }
        let path = URL(fileURLWithPath: dataFile).standardizedFileURL.path + "-master.key"
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
            let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            return (try SecretBox(masterKey: Array(bytes)), path)
        }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data((key.base64EncodedString() + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        else {
            throw SecretBoxError.unreadableKeyFile(path: path)
        }
        return (try SecretBox(masterKey: Array(key)), path)
    }
}

/// Why secrets cannot be sealed or opened.
public enum SecretBoxError: Error, CustomStringConvertible {
    case badMasterKey(length: Int)
    case unreadableKeyFile(path: String)
    case missingInProduction
    case notEncrypted
    case keyDestroyed

    public var description: String {
        switch self {
        case .badMasterKey(let length):
            "the master key must be 32 bytes in base64 (got \(length)): make one with `openssl rand -base64 32`"
        case .unreadableKeyFile(let path): "cannot read or create the master key file \(path)"
        case .missingInProduction:
            "SERVER_ENV=production needs a master key: set BOTRIX_MASTER_KEY (base64 of 32 bytes) or BOTRIX_MASTER_KEY_FILE"
        case .notEncrypted: "the stored secret is not in the enc1: format"
        case .keyDestroyed: "the account's data key was destroyed (the account was deleted): its secrets cannot be read"
        }
    }
}
