import EventLog
public import Foundation
public import JSONCoding

/// An account as the API shows it (the password is left out unless revealed), and the
/// state `decide` reads: one row of the `accounts` projection.
public struct AccountView: Codable, Sendable, Equatable {
    public var id: Int64
    public var email: String
    public var username: String
    public var password: String
    public var birthdate: String
    public var verificationCode: String?
    public var status: AccountStatus
    @LowercaseUUID public var jobID: UUID
    public var accountData: JSONObject
    public var createdAt: String
    public var updatedAt: String
    public var version: UInt64

    enum CodingKeys: String, CodingKey {
        case id, email, username, password, birthdate, status, version
        case verificationCode = "verification_code", jobID = "job_id", accountData = "account_data"
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    /// Folds one event of this account's stream; nil once deleted. Pure, like ``JobView/evolve(_:_:_:)``.
    public static func evolve(_ state: AccountView?, _ event: DomainEvent, _ recorded: EventPosition) -> AccountView? {
        let time = recorded.recordedTime
        switch event {
        case .accountCreated(let e):
            return AccountView(
                id: e.accountID, email: e.email, username: e.username, password: e.password, birthdate: e.birthdate,
                verificationCode: e.verificationCode, status: e.status, jobID: e.jobID, accountData: e.accountData,
                createdAt: time, updatedAt: time, version: recorded.version)
        case .accountUpdated(let e):
            guard var account = state else { return nil }
            if let v = e.status { account.status = v }
            if let v = e.verificationCode { account.verificationCode = v }
            if let v = e.accountData { account.accountData = v }
            if let v = e.password { account.password = v }
            if let v = e.email { account.email = v }
            if let v = e.username { account.username = v }
            account.updatedAt = time
            account.version = recorded.version
            return account
        case .accountDeleted:
            return nil
        default:
            return state
        }
    }
}
