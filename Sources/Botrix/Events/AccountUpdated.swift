import Foundation
public import JSONCoding

/// An operator changed some fields of an account; only the changed fields are present.
public struct AccountUpdated: Sendable, Equatable {
    public var accountID: Int64
    public var status: AccountStatus?
    public var verificationCode: String?
    public var accountData: JSONObject?
    public var password: String?
    public var email: String?
    public var username: String?

    public init(
        accountID: Int64, status: AccountStatus? = nil, verificationCode: String? = nil, accountData: JSONObject? = nil,
        password: String? = nil, email: String? = nil, username: String? = nil
    ) {
        self.accountID = accountID
        self.status = status
        self.verificationCode = verificationCode
        self.accountData = accountData
        self.password = password
        self.email = email
        self.username = username
    }
}

extension AccountUpdated {
    /// Its stored JSON: the keys of `schemas/events/AccountUpdated.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.int("account_id", accountID)
        w.string("status", status?.rawValue)
        w.string("verification_code", verificationCode)
        w.object("account_data", accountData)
        w.string("password", password)
        w.string("email", email)
        w.string("username", username)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> AccountUpdated {
        return AccountUpdated(
            accountID: try o.int64("account_id"), status: try o.accountStatus("status"),
            verificationCode: try o.optionalString("verification_code"),
            accountData: try o.object("account_data"), password: try o.optionalString("password"),
            email: try o.optionalString("email"), username: try o.optionalString("username"))
    }
}
