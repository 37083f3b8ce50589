import Crypto
public import Foundation
public import Storage

/// The master key, and the sealing of account secrets (passwords, verification codes)
/// before they enter the log.
///
/// Secrets are sealed with AES-GCM under a 256-bit data key per account and stored as
/// `enc1:<base64 nonce|ciphertext|tag>`. The master key never wraps a data key directly:
/// it only wraps the epoch roots in the keyring file beside the data file, which wrap the
/// bucket keys, which wrap the data keys (see ``AccountVault``). That indirection is what
/// lets a deletion be erased from every later copy of the data file even though LMDB
/// keeps freed pages (see README, Security).
public struct SecretBox: Sendable {
    let master: SymmetricKey
    /// Where the key came from (`BOTRIX_MASTER_KEY`, a key file), for messages and logs.
    public let source: String
    static let prefix = "enc1:"

    /// A box over a 32-byte master key.
    public init(masterKey: [UInt8], source: String = "the key given to BotrixService") throws {
        guard masterKey.count == 32 else { throw SecretBoxError.badMasterKey(length: masterKey.count) }
        master = SymmetricKey(data: masterKey)
        self.source = source
    }

    /// Identifies the key without revealing it: the first 16 bytes of an HMAC-SHA256 of a
    /// fixed label under the key, in hex. Recorded in the data file and the keyring so a
    /// wrong key is refused by name instead of failing later on some account.
    public var fingerprint: String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("botrix/master-key-fingerprint/v1".utf8), using: master)
        return Array(mac).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// A fresh data key for a new account.
    func newDataKey() -> SymmetricKey { SymmetricKey(size: .bits256) }

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
    /// created on first use (exclusively, mode 0600, fsynced). Production without a key is
    /// an error.
    ///
    /// A key file that exists but cannot be read or parsed stops here with a message naming
    /// the file, the cause and the fix. It is never replaced: a new key would make every
    /// secret already sealed unreadable.
    /// - Parameter createDevelopmentKey: false for tools that must use the existing key
    ///   (`botrix keys rotate-master`), so a missing file is an error, not a new key.
    public static func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment, dataFile: String, development: Bool,
        createDevelopmentKey: Bool = true
    ) throws -> (box: SecretBox, source: String) {
        if let text = environment["BOTRIX_MASTER_KEY"], !text.isEmpty {
            let key = try MasterKeyText.parse(Array(text.utf8)) {
                SecretBoxError.badEnvironmentKey(name: "BOTRIX_MASTER_KEY", cause: $0)
            }
            let box = try SecretBox(masterKey: key, source: "BOTRIX_MASTER_KEY")
            return (box, box.source)
        }
        if let file = environment["BOTRIX_MASTER_KEY_FILE"], !file.isEmpty {
            let box = try MasterKeyText.load(file, source: "BOTRIX_MASTER_KEY_FILE \(file)", setting: true)
            return (box, box.source)
        }
        guard development else { throw SecretBoxError.missingInProduction }
        // Named after the real path, as the store is: a command given a link finds the key.
        let path = DataFilePath.canonical(dataFile) + "-master.key"
        let source = "the development key file \(path)"
        if let box = try MasterKeyText.loadIfPresent(path, source: source, setting: false) { return (box, box.source) }
        guard createDevelopmentKey else { throw SecretBoxError.noKey(path: path) }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        do throws(FileProblem) {
            try DurableFile.createExclusively(path, Array((Data(key).base64EncodedString() + "\n").utf8))
        } catch  where error.alreadyExists {
            // Another process created it a moment ago: use that one, never overwrite it.
            let box = try MasterKeyText.load(path, source: source, setting: false)
            return (box, box.source)
        } catch {
            throw SecretBoxError.keyFile(path: path, cause: error.reason, fix: "check that its folder is writable")
        }
        let box = try SecretBox(masterKey: key, source: source)
        return (box, box.source)
    }

    /// A new master key for `botrix keys rotate-master`: from `environmentValue`
    /// (`BOTRIX_NEW_MASTER_KEY`) and/or the file at `file`; when both are given they must
    /// hold the same key. A file that does not exist yet gets a freshly generated key
    /// (created exclusively, mode 0600, fsynced) — never an existing file overwritten.
    /// - Returns: the box and whether the file was created.
    public static func newMasterKey(file: String?, environmentValue: String?) throws -> (
        box: SecretBox, createdFile: Bool
    ) {
        var fromEnvironment: SecretBox?
        if let text = environmentValue, !text.isEmpty {
            let key = try MasterKeyText.parse(Array(text.utf8)) {
                SecretBoxError.badEnvironmentKey(name: "BOTRIX_NEW_MASTER_KEY", cause: $0)
            }
            fromEnvironment = try SecretBox(masterKey: key, source: "BOTRIX_NEW_MASTER_KEY")
        }
        guard let file else {
            guard let fromEnvironment else { throw SecretBoxError.noNewKey }
            return (fromEnvironment, false)
        }
        let source = "--new-key-file \(file)"
        if let existing = try MasterKeyText.loadIfPresent(file, source: source, setting: false) {
            if let fromEnvironment, fromEnvironment.fingerprint != existing.fingerprint {
                throw SecretBoxError.newKeysDisagree(path: file)
            }
            return (existing, false)
        }
        let key =
            fromEnvironment.map { $0.master.withUnsafeBytes { Array($0) } }
            ?? SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        do throws(FileProblem) {
            try DurableFile.createExclusively(file, Array((Data(key).base64EncodedString() + "\n").utf8))
        } catch {
            throw SecretBoxError.keyFile(
                path: file, cause: error.reason, fix: "check that its folder exists and is writable")
        }
        return (try SecretBox(masterKey: key, source: source), true)
    }
}

/// Reading a master key: one line of base64 of exactly 32 bytes.
enum MasterKeyText {
    /// The key in `bytes`; surrounding whitespace (a final newline) is allowed, nothing else.
    static func parse(_ bytes: [UInt8], error: (String) -> SecretBoxError) throws -> [UInt8] {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw error("it is not text") }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { throw error("it is empty") }
        if trimmed.contains(where: { $0.isWhitespace || $0.isNewline }) {
            throw error("it holds more than the one base64 line of the key (a comment or a second line?)")
        }
        guard let data = Data(base64Encoded: trimmed) else { throw error("it is not base64") }
        guard data.count == 32 else { throw error("it holds \(data.count) bytes of base64, not 32") }
        return Array(data)
    }

    /// The key in the file at `path`; the file must exist.
    static func load(_ path: String, source: String, setting: Bool) throws -> SecretBox {
        guard let box = try loadIfPresent(path, source: source, setting: setting) else {
            throw SecretBoxError.keyFile(
                path: path, cause: "it does not exist",
                fix: setting
                    ? "point BOTRIX_MASTER_KEY_FILE at the key file the data was sealed with"
                    : "restore the key file the data was sealed with")
        }
        return box
    }

    /// The key in the file at `path`, or nil when nothing is there.
    static func loadIfPresent(_ path: String, source: String, setting: Bool) throws -> SecretBox? {
        let bytes: [UInt8]
        do throws(FileProblem) {
            guard let read = try DurableFile.read(path) else { return nil }
            bytes = read
        } catch {
            throw SecretBoxError.keyFile(
                path: path, cause: error.reason,
                fix: "make it a readable file holding the key (Botrix never replaces a key file)")
        }
        let fix =
            "leave only the base64 line of the key the data was sealed with in it (Botrix never replaces a key file)"
        let key = try parse(bytes) { SecretBoxError.keyFile(path: path, cause: $0, fix: fix) }
        return try SecretBox(masterKey: key, source: source)
    }
}

/// Why secrets cannot be sealed or opened, or the server cannot start with its keys.
public enum SecretBoxError: Error, CustomStringConvertible, Sendable {
    case badMasterKey(length: Int)
    case badEnvironmentKey(name: String, cause: String)
    case keyFile(path: String, cause: String, fix: String)
    case noKey(path: String)
    case noNewKey
    case newKeysDisagree(path: String)
    case sameNewKey(fingerprint: String)
    case missingInProduction
    case wrongMasterKey(source: String, fingerprint: String, expected: String, dataFile: String)
    case keyring(path: String, problem: String, fix: String)
    /// The keyring could not be written (`code` is the errno): a storage failure.
    case keyringUnwritable(path: String, code: Int32, problem: String, fix: String)
    case erasurePending(accounts: [Int64], keyring: String, cause: String)
    case notEncrypted
    case keyDestroyed
    case damaged(String)

    public var description: String {
        switch self {
        case .badMasterKey(let length):
            "the master key must be 32 bytes in base64 (got \(length)): make one with `openssl rand -base64 32`"
        case .badEnvironmentKey(let name, let cause):
            "\(name) is not a master key: \(cause); it must be base64 of 32 bytes (make one with `openssl rand -base64 32`)"
        case .keyFile(let path, let cause, let fix):
            "cannot use the master key file \(path): \(cause); \(fix)"
        case .noKey(let path):
            "no master key: set BOTRIX_MASTER_KEY or BOTRIX_MASTER_KEY_FILE (the development key file \(path) does not exist)"
        case .noNewKey:
            "give the new master key with --new-key-file PATH (a missing file gets a new key) or BOTRIX_NEW_MASTER_KEY"
        case .newKeysDisagree(let path):
            "BOTRIX_NEW_MASTER_KEY and --new-key-file \(path) hold different keys: give one, or make them agree"
        case .sameNewKey(let fingerprint):
            "the new master key is the current one (fingerprint \(fingerprint)): give a different new key"
        case .missingInProduction:
            "SERVER_ENV=production needs a master key: set BOTRIX_MASTER_KEY (base64 of 32 bytes) or BOTRIX_MASTER_KEY_FILE"
        case .wrongMasterKey(let source, let fingerprint, let expected, let dataFile):
            "the master key from \(source) (fingerprint \(fingerprint)) does not match the key \(dataFile) is sealed with (fingerprint \(expected)): start with that key (after `botrix keys rotate-master`, the new one)"
        case .keyring(let path, let problem, let fix), .keyringUnwritable(let path, _, let problem, let fix):
            "keyring \(path): \(problem); \(fix)"
        case .erasurePending(let accounts, let keyring, let cause):
            "account\(accounts.count == 1 ? "" : "s") \(accounts.map(String.init).joined(separator: ", ")) deleted, but erasing the secrets is pending: \(cause); the keyring \(keyring) is rewritten on the next write or start"
        case .notEncrypted: "the stored secret is not in the enc1: format"
        case .keyDestroyed: "the account's data key was destroyed (the account was deleted): its secrets cannot be read"
        case .damaged(let what): "the secrets in the data file are damaged: \(what)"
        }
    }
}

extension SecretBoxError: StorageFailure {
    /// A keyring that cannot be written is a storage failure (a full disk: out of space).
    public var storageFailure: (outOfSpace: Bool, summary: String)? {
        guard case .keyringUnwritable(_, let code, _, _) = self else { return nil }
        return (code == ENOSPC || code == EDQUOT, String(cString: strerror(code)))
    }
}
