public import Foundation
import JSONCoding

/// An account was deleted; it leaves every view.
public struct AccountDeleted: Sendable, Equatable {
    public var accountID: Int64
    public var jobID: UUID

    public init(
        accountID: Int64, jobID: UUID
    ) {
        self.accountID = accountID
        self.jobID = jobID
    }
}

extension AccountDeleted {
    /// Its stored JSON: the keys of `schemas/events/AccountDeleted.schema.json` (the writer sorts them).
    func write(into w: inout JSONObjectWriter) {
        w.int("account_id", accountID)
        w.uuid("job_id", jobID)
    }

    /// Reads it back from a stored event's data.
    static func read(_ o: some StoredFields) throws -> AccountDeleted {
        return AccountDeleted(accountID: try o.int64("account_id"), jobID: try o.uuid("job_id"))
    }
}
