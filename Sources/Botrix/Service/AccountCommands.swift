extension BotrixService {
    /// Records one account the lease holder produced; ids are assigned in order.
    public func recordAccount(_ command: RecordAccount, metadata: CommandMetadata = .init()) async throws
        -> AccountView
    {
        var command = command
        command.apiKey = metadata.apiKey
        return try await run(metadata) { [command] ltx, scope in
            let job = try scope.job(command.jobID, in: ltx)
            let accounts = scope.projections.accounts
            let id = try accounts.nextID(in: ltx.reading)
            let reading = ltx.reading
            let events = try AccountDecider.record(
                job, command, newID: id, isTaken: { try accounts.owner(of: $0, $1, in: reading) }, scope.context)
            let sealed = try scope.vault.seal(events, in: ltx)
            try scope.emit(sealed.events, expected: .noStream, in: &ltx)
            try scope.vault.store(sealed.newKeys, in: &ltx)
            return try scope.account(id, in: ltx)
        }
    }

    /// Changes fields of an account; `expectedVersion` is the client's `If-Match`.
    public func updateAccount(_ command: UpdateAccount, metadata: CommandMetadata = .init()) async throws
        -> AccountView
    {
        try await run(metadata) { ltx, scope in
            let account = try scope.account(command.accountID, in: ltx)
            let accounts = scope.projections.accounts
            let reading = ltx.reading
            let events = try AccountDecider.update(
                account, command, isTaken: { try accounts.owner(of: $0, $1, in: reading) }, scope.context)
            try scope.emit(try scope.vault.seal(events, in: ltx).events, expected: .exact(account.version), in: &ltx)
            return try scope.account(command.accountID, in: ltx)
        }
    }

    /// Deletes an account: it leaves every view; its events stay in the log, and its
    /// secrets in them can never be opened again (see ``AccountVault``: the answer waits
    /// until the keyring no longer holds the root that could).
    /// - Throws: ``SecretBoxError/erasurePending(accounts:keyring:cause:)`` when the account
    ///   is deleted but the final keyring rewrite failed (it is retried by the next write).
    public func deleteAccount(id: Int64, expectedVersion: UInt64? = nil, metadata: CommandMetadata = .init())
        async throws
    {
        try await run(metadata) { ltx, scope in
            let account = try scope.account(id, in: ltx)
            try scope.emit(
                AccountDecider.delete(account, expectedVersion: expectedVersion), expected: .exact(account.version),
                in: &ltx)
            try scope.vault.destroy(id, in: &ltx)
        }
    }
}

extension BotrixService {
    /// The account's password in plain text (the `secrets` scope's `?reveal=password`).
    /// - Throws: ``SecretBoxError/keyDestroyed`` once the account was deleted.
    public func revealPassword(accountID: Int64) throws -> String? {
        try vault.reading { txn in
            guard let account = try projections.accounts.view(accountID, in: txn) else { return nil }
            return try vault.open(account.password, account: accountID, in: txn)
        }
    }

    /// The account's verification code in plain text, when it has one.
    public func revealVerificationCode(accountID: Int64) throws -> String? {
        try vault.reading { txn in
            guard let code = try projections.accounts.view(accountID, in: txn)?.verificationCode else { return nil }
            return try vault.open(code, account: accountID, in: txn)
        }
    }
}
