public import Foundation
public import JSONCoding

/// The lease holder handed back one account it produced.
public struct AccountCreated: Sendable, Equatable {
    public var accountID: Int64
    public var jobID: UUID
    public var workerID: String
    public var email: String
    public var username: String
    public var password: String
    public var birthdate: String
    public var verificationCode: String?
    public var status: AccountStatus
    public var accountData: JSONObject

    public init(
        accountID: Int64, jobID: UUID, workerID: String, email: String, username: String, password: String,
        birthdate: String, verificationCode: String? = nil, status: AccountStatus, accountData: JSONObject
    ) {
        self.accountID = accountID
        self.jobID = jobID
        self.workerID = workerID
        self.email = email
        self.username = username
        self.password = password
        self.birthdate = birthdate
        self.verificationCode = verificationCode
        self.status = status
        self.accountData = accountData
    }
}

extension AccountCreated {
    /// Its stored JSON: the keys of `schemas/events/AccountCreated.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.int("account_id", accountID)
        w.uuid("job_id", jobID)
        w.string("worker_id", workerID)
        w.string("email", email)
        w.string("username", username)
        w.string("password", password)
        w.string("birthdate", birthdate)
        w.string("verification_code", verificationCode)
        w.string("status", status.rawValue)
        w.object("account_data", accountData)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> AccountCreated {
        guard let status = try o.accountStatus("status") else { throw FieldMissing(key: "status") }
        return AccountCreated(
            accountID: try o.int64("account_id"), jobID: try o.uuid("job_id"),
            workerID: try o.string("worker_id"),
            email: try o.string("email"), username: try o.string("username"),
            password: try o.string("password"),
            birthdate: try o.string("birthdate"), verificationCode: try o.optionalString("verification_code"),
            status: status, accountData: try o.object("account_data") ?? [:])
    }
}
