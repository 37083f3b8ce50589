import BotrixClient

/// Made-up accounts: `.invalid` addresses (RFC 2606), so nothing can ever be sent to them.
enum FakeAccounts {
    static func make() -> NewAccount {
        let n = UInt32.random(in: 0..<1_000_000_000)
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        let password = String((0..<16).map { _ in alphabet.randomElement()! })
        let year = Int.random(in: 1970...1999)
        let month = Int.random(in: 1...12)
        let day = Int.random(in: 1...28)  // valid in every month
        let birthdate = "\(year)-\(twoDigits(month))-\(twoDigits(day))"
        return NewAccount(
            email: "user-\(n)@example.invalid", username: "user-\(n)", password: password, birthdate: birthdate,
            accountData: ["source": "botrix-example-worker"])
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
