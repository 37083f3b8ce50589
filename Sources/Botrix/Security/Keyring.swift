import Crypto
import Foundation
public import Storage

#if canImport(Glibc)
    import Glibc
#endif

/// The keyring file beside the data file (`<data file>-keyring`, mode 0600): the epoch
/// roots, each a random 256-bit key wrapped (AES-GCM) under the master key.
///
/// Why a file of its own: LMDB is copy-on-write and never clears freed pages, so a key
/// deleted from the data file lingers in it. The keyring is small and rewritten whole on
/// every change (a new file renamed over the old one), so a root dropped from it is in no
/// copy of the folder taken afterwards. Erasing an account moves every surviving bucket
/// key to a new root and drops the old root from this file: the stale bytes left in the
/// data file are then wrapped under a key that no longer exists anywhere.
///
/// Normally it holds one epoch: the one the data file's `secrets.meta` names. It holds two
/// only while an erasure or a master-key rotation is between its steps; opening the data
/// file finishes that by keeping exactly the epoch the data file names.
public struct Keyring: Sendable {
    /// The file's path.
    public let path: String

    /// One epoch root as stored.
    struct Entry: Codable, Sendable, Equatable {
        var epoch: UInt64
        /// The fingerprint of the master key that wraps ``root`` (see ``SecretBox/fingerprint``).
        var master: String
        /// nonce | ciphertext | tag of the 32-byte root.
        var root: Data

        init(epoch: UInt64, root: SymmetricKey, under box: SecretBox) throws {
            self.epoch = epoch
            master = box.fingerprint
            self.root = Data(try KeyWrap.wrap(root, under: box.master))
        }
    }

    /// The whole file: `{"epochs":[{"epoch":…,"master":…,"root":…}],"format":1,"store":…}`.
    struct Contents: Codable, Sendable, Equatable {
        var format: Int
        /// The random id of the data file this keyring belongs to (also in `secrets.meta`).
        var store: String
        var epochs: [Entry]
    }

    static let format = 1

    /// The keyring that goes with `dataFile`, named after its real path as the store is
    /// (``DataFilePath/canonical(_:)``): a command given a link finds the server's keyring.
    public init(dataFile: String) {
        path = DataFilePath.canonical(dataFile) + "-keyring"
    }

    /// The contents, or nil when there is no file. A file that cannot be read or parsed
    /// throws; it is never replaced (it may hold the only root of the data file's secrets).
    func load() throws -> Contents? {
        let bytes: [UInt8]
        do throws(FileProblem) {
            guard let read = try DurableFile.read(path) else { return nil }
            bytes = read
        } catch {
            throw SecretBoxError.keyring(
                path: path, problem: "cannot be read (\(error.reason))",
                fix: "make it a readable file again; Botrix never replaces a keyring")
        }
        guard let contents = try? JSONDecoder().decode(Contents.self, from: Data(bytes)), !contents.epochs.isEmpty
        else {
            throw SecretBoxError.keyring(
                path: path, problem: "is not a keyring Botrix wrote (it does not parse)",
                fix: "restore the keyring saved with this data file; Botrix never replaces a keyring")
        }
        guard contents.format == Self.format else {
            throw SecretBoxError.keyring(
                path: path, problem: "has format \(contents.format), which this Botrix does not know",
                fix: "use the Botrix version that wrote it")
        }
        return contents
    }

    /// Writes a keyring where none is (exclusively, fsynced with its folder).
    func create(_ contents: Contents) throws {
        do throws(FileProblem) {
            try DurableFile.createExclusively(path, Self.encode(contents))
        } catch {
            throw SecretBoxError.keyringUnwritable(
                path: path, code: error.code, problem: "cannot be created (\(error.reason))",
                fix: "check that its folder is writable and has space")
        }
    }

    /// Replaces the keyring atomically and durably (see ``DurableFile/replace(_:_:)``).
    func replace(_ contents: Contents) throws {
        do throws(FileProblem) {
            try DurableFile.replace(path, Self.encode(contents))
        } catch {
            throw SecretBoxError.keyringUnwritable(
                path: path, code: error.code, problem: "cannot be rewritten (\(error.reason))",
                fix: "free space or fix permissions in its folder")
        }
    }

    /// Removes a temporary file a crash left beside the keyring: it holds roots that may
    /// have been dropped since.
    func removeLeftover() throws {
        do throws(FileProblem) {
            try DurableFile.removeLeftover(of: path)
        } catch {
            throw SecretBoxError.keyring(
                path: path, problem: "a leftover \(error.path) cannot be removed (\(error.reason))",
                fix: "remove it by hand")
        }
    }

    static func encode(_ contents: Contents) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try! encoder.encode(contents)) + [0x0A]
    }
}

/// 32-byte keys wrapped under other 32-byte keys with AES-GCM: nonce (12) | ciphertext
/// (32) | tag (16). No associated data: one plain format at every level (master → root →
/// bucket → data key), so the erasure test can look for wrapped keys anywhere in a copy
/// with nothing but the keys it recovered.
enum KeyWrap {
    static func wrap(_ key: SymmetricKey, under wrapping: SymmetricKey) throws -> [UInt8] {
        let raw = key.withUnsafeBytes { Array($0) }
        return Array(try AES.GCM.seal(raw, using: wrapping).combined!)
    }

    static func unwrap(_ wrapped: [UInt8], under wrapping: SymmetricKey) throws -> SymmetricKey {
        let raw = try AES.GCM.open(try AES.GCM.SealedBox(combined: wrapped), using: wrapping)
        guard raw.count == 32 else { throw SecretBoxError.damaged("a wrapped key is \(raw.count) bytes, not 32") }
        return SymmetricKey(data: raw)
    }
}

extension Keyring {
    /// What ``writeBackupKeyring(of:copy:)`` did.
    public enum BackupOutcome: Sendable, Equatable {
        /// The keyring for the copy's epoch was written to this path.
        case written(path: String, epoch: UInt64)
        /// The copy holds no keyring-protected secrets (a file without accounts, or one in
        /// the scheme from before keyrings, still to be converted by a server start).
        case notNeeded
        /// The live keyring moved past the copy's epoch before it could be read (an erasure
        /// committed and finished meanwhile): copy again.
        case epochGone(UInt64)
    }

    /// Writes the keyring that opens `copy` beside it (`<copy path>-keyring`): the entry
    /// of the copy's epoch from the live keyring of `dataFile`, and nothing else, so the
    /// backup holds no root of an erased state. Needs no master key: entries stay wrapped.
    public static func writeBackupKeyring(of dataFile: String, copy: any StorageEngine) throws -> BackupOutcome {
        try writeBackupKeyring(of: dataFile, copy: copy, captured: [])
    }

    /// As ``writeBackupKeyring(of:copy:)``, looking for the copy's epoch first in `captured`:
    /// the live keyring as read around the copy's snapshot, when its root was surely there.
    static func writeBackupKeyring(of dataFile: String, copy: any StorageEngine, captured: [Contents]) throws
        -> BackupOutcome
    {
        let state: (epoch: UInt64, store: String, buckets: Int)?
        do {
            let meta = try copy.database(SecretsLayout.meta, create: false)
            let buckets = try copy.database(SecretsLayout.buckets, create: false)
            state = try copy.read { txn in
                guard let raw = try txn.get(meta, SecretsLayout.epochKey), let epoch = BigEndian.uint64(raw),
                    let scheme = try SecretsScheme.read(meta, in: txn)
                else { return nil }
                return (epoch, scheme.store, try txn.count(buckets))
            }
        } catch let error as any StorageError {
            guard error.isMissingDatabase else { throw error }
            state = nil
        }
        guard let state else { return .notNeeded }
        let live = Keyring(dataFile: dataFile)
        let readings = captured + [try live.load()].compactMap { $0 }
        guard !readings.isEmpty else {
            if state.buckets == 0 { return .notNeeded }
            throw SecretBoxError.keyring(
                path: live.path, problem: "is missing, so the copy's secrets could not be saved with it",
                fix: "restore the keyring of \(dataFile)")
        }
        for contents in readings where contents.store != state.store {
            throw SecretBoxError.keyring(
                path: live.path, problem: "belongs to another data file than \(dataFile)",
                fix: "put the keyring saved with this data file in its place")
        }
        guard let entry = readings.lazy.flatMap(\.epochs).first(where: { $0.epoch == state.epoch }) else {
            return .epochGone(state.epoch)
        }
        let target = Keyring(dataFile: copy.path)
        try target.create(Contents(format: format, store: state.store, epochs: [entry]))
        return .written(path: target.path, epoch: state.epoch)
    }
}
