/// Where an account is in its life.
public enum AccountStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, verified, active, disabled, failed
}

/// An account as the server shows it: what a worker recorded, without its password
/// unless revealed with the `secrets` scope.
public struct Account: Sendable, Hashable, Decodable {
    /// The server's account id (`GET /api/accounts/{id}`).
    public var id: Int
    /// The address, unique (case-insensitive) among live accounts.
    public var email: String
    /// The username, unique (case-insensitive) among live accounts.
    public var username: String
    /// `YYYY-MM-DD`.
    public var birthdate: String
    /// Null unless revealed.
    public var verificationCode: String?
    /// Where the account is in its life.
    public var status: AccountStatus
    /// The job the account was recorded for.
    public var jobID: String
    /// Free-form data the worker attached.
    public var accountData: [String: JSONValue]
    /// When it was recorded (RFC 3339 UTC).
    public var createdAt: String
    /// When it last changed (RFC 3339 UTC).
    public var updatedAt: String
    /// The account stream's version: its ETag, for `If-Match`.
    public var version: Int
    /// Only with `revealPassword` and the `secrets` scope.
    public var password: String?

    enum CodingKeys: String, CodingKey {
        case id, email, username, birthdate, status, version, password
        case verificationCode = "verification_code"
        case jobID = "job_id"
        case accountData = "account_data"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// One produced account as a worker hands it back (`POST /api/jobs/{id}/accounts`).
/// Its description leaves the password and code out, so logging it leaks no secret.
public struct NewAccount: Sendable, Hashable, Encodable, CustomStringConvertible {
    /// Unique (case-insensitive) among live accounts.
    public var email: String
    /// 3–32 of `[A-Za-z0-9_.-]`, unique (case-insensitive) among live accounts.
    public var username: String
    /// 8–128 characters; stored sealed.
    public var password: String
    /// `YYYY-MM-DD`, from 1900-01-01 to today.
    public var birthdate: String
    /// A verification code, if the service sent one; stored sealed.
    public var verificationCode: String?
    /// The account's status; the server's default is `pending`.
    public var status: AccountStatus?
    /// A JSON object of at most 16 KiB.
    public var accountData: [String: JSONValue]?

    /// One account to record.
    public init(
        email: String, username: String, password: String, birthdate: String, verificationCode: String? = nil,
        status: AccountStatus? = nil, accountData: [String: JSONValue]? = nil
    ) {
        self.email = email
        self.username = username
        self.password = password
        self.birthdate = birthdate
        self.verificationCode = verificationCode
        self.status = status
        self.accountData = accountData
    }

    enum CodingKeys: String, CodingKey {
        case email, username, password, birthdate, status
        case verificationCode = "verification_code"
        case accountData = "account_data"
    }

    /// Names the account without its secrets.
    public var description: String { "NewAccount(email: \(email), username: \(username))" }
}
