import EventLog
import Foundation

/// The account's rules as pure functions. Uniqueness is asked of `isTaken`, which the
/// write path answers from the unique indexes inside the same transaction.
public enum AccountDecider {
    /// Who already uses a lowercased email or username (nil: free).
    public typealias Lookup = (_ field: String, _ lowercased: String) throws -> Int64?

    public static func record(
        _ job: JobView, _ command: RecordAccount, newID: Int64, isTaken: Lookup, _ context: DecisionContext
    ) throws -> [DomainEvent] {
        try JobDecider.requireHolder(job, command.call, context)
        guard job.accountsRecorded < job.count else {
            throw DomainError.conflict("job \(job.id.text) already has all \(job.count) accounts it asked for")
        }
        var checks = FieldChecks()
        AccountRules.check(email: command.email, into: &checks)
        AccountRules.check(username: command.username, into: &checks)
        AccountRules.check(password: command.password, into: &checks)
        AccountRules.check(birthdate: command.birthdate, now: context.now, into: &checks)
        if let code = command.verificationCode { AccountRules.check(verificationCode: code, into: &checks) }
        AccountRules.check(accountData: command.accountData, into: &checks)
        try checks.throwIfAny()
        try requireUnique(email: command.email, username: command.username, except: nil, isTaken)
        return [
            .accountCreated(
                AccountCreated(
                    accountID: newID, jobID: job.id, workerID: command.workerID, email: command.email,
                    username: command.username, password: command.password, birthdate: command.birthdate,
                    verificationCode: command.verificationCode, status: command.status,
                    accountData: command.accountData))
        ]
    }

    public static func update(
        _ account: AccountView, _ command: UpdateAccount, isTaken: Lookup, _ context: DecisionContext
    ) throws -> [DomainEvent] {
        if let expected = command.expectedVersion, expected != account.version {
            throw DomainError.preconditionFailed(expected: "\"\(expected)\"", actual: "\"\(account.version)\"")
        }
        var checks = FieldChecks()
        if let v = command.email { AccountRules.check(email: v, into: &checks) }
        if let v = command.username { AccountRules.check(username: v, into: &checks) }
        if let v = command.password { AccountRules.check(password: v, into: &checks) }
        if let v = command.verificationCode { AccountRules.check(verificationCode: v, into: &checks) }
        if let v = command.accountData { AccountRules.check(accountData: v, into: &checks) }
        checks.require(
            command.status != nil || command.verificationCode != nil || command.accountData != nil
                || command.password != nil || command.email != nil || command.username != nil,
            "body", "change at least one of status, verification_code, account_data, password, email, username")
        try checks.throwIfAny()
        try requireUnique(email: command.email, username: command.username, except: account.id, isTaken)
        return [
            .accountUpdated(
                AccountUpdated(
                    accountID: account.id, status: command.status, verificationCode: command.verificationCode,
                    accountData: command.accountData, password: command.password, email: command.email,
                    username: command.username))
        ]
    }

    public static func delete(_ account: AccountView, expectedVersion: UInt64?) throws -> [DomainEvent] {
        if let expectedVersion, expectedVersion != account.version {
            throw DomainError.preconditionFailed(expected: "\"\(expectedVersion)\"", actual: "\"\(account.version)\"")
        }
        return [.accountDeleted(AccountDeleted(accountID: account.id, jobID: account.jobID))]
    }

    private static func requireUnique(email: String?, username: String?, except: Int64?, _ isTaken: Lookup) throws {
        var taken: [FieldError] = []
        if let email, let owner = try isTaken("email", AccountRules.uniquenessKey(email)), owner != except {
            taken.append(FieldError("email", "is already used by account \(owner)"))
        }
        if let username, let owner = try isTaken("username", AccountRules.uniquenessKey(username)), owner != except {
            taken.append(FieldError("username", "is already used by account \(owner)"))
        }
        if !taken.isEmpty { throw DomainError.validation(taken) }
    }
}
