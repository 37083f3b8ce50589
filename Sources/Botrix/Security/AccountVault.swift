import Crypto
import EventLog
import LMDB

/// Seals the secrets of account events after `decide` (which validates the plain text)
/// and before the append, and keeps each account's wrapped data key beside the events in
/// the same transaction. Deleting an account deletes its key.
struct AccountVault: Sendable {
    let box: SecretBox
    let keys: Database

    /// The events with every password and verification code sealed; new accounts get a
    /// data key (returned, to be stored once the events are appended).
    func seal(_ events: [DomainEvent], in ltx: LogTransaction) throws -> (
        events: [DomainEvent], newKeys: [(Int64, [UInt8])]
    ) {
        var sealed: [DomainEvent] = []
        var newKeys: [(Int64, [UInt8])] = []
        for event in events {
            switch event {
            case .accountCreated(var e):
                let key = box.newDataKey()
                e.password = try box.encrypt(e.password, with: key)
                e.verificationCode = try e.verificationCode.map { try box.encrypt($0, with: key) }
                newKeys.append((e.accountID, try box.wrap(key)))
                sealed.append(.accountCreated(e))
            case .accountUpdated(var e) where e.password != nil || e.verificationCode != nil:
                let key = try dataKey(e.accountID, in: ltx.reading)
                e.password = try e.password.map { try box.encrypt($0, with: key) }
                e.verificationCode = try e.verificationCode.map { try box.encrypt($0, with: key) }
                sealed.append(.accountUpdated(e))
            default:
                sealed.append(event)
            }
        }
        return (sealed, newKeys)
    }

    func store(_ newKeys: [(Int64, [UInt8])], in ltx: inout LogTransaction) throws {
        for (id, wrapped) in newKeys { try ltx.put(keys, Keys.integer(id), wrapped) }
    }

    func destroy(_ accountID: Int64, in ltx: inout LogTransaction) throws {
        try ltx.delete(keys, Keys.integer(accountID))
    }

    func dataKey(_ accountID: Int64, in txn: some TransactionReading) throws -> SymmetricKey {
        guard let wrapped = try txn.get(keys, Keys.integer(accountID)) else { throw SecretBoxError.keyDestroyed }
        return try box.unwrap(wrapped)
    }

    /// A sealed secret of an account in plain text.
    func open(_ sealed: String, account: Int64, in txn: some TransactionReading) throws -> String {
        try box.decrypt(sealed, with: try dataKey(account, in: txn))
    }
}
