import EventLog
import Foundation
import JSONCoding

/// Field rules for accounts, each with a message that says what is accepted.
enum AccountRules {
    static let maximumAccountDataBytes = 16 * 1024

    /// What two emails (or usernames) are compared by for uniqueness: lowercased, then in
    /// Unicode NFC, so "É" typed precomposed and "E" + combining accent are one address.
    /// ASCII text is its own NFC, so it skips Foundation's normalization (6% of a rebuild's
    /// time when every address went through it).
    static func uniquenessKey(_ text: String) -> String {
        let lowered = text.lowercased()
        if lowered.utf8.allSatisfy({ $0 < 0x80 }) { return lowered }
        return lowered.precomposedStringWithCanonicalMapping
    }

    static func check(email: String, into checks: inout FieldChecks) {
        checks.require(isEmail(email), "email", "must be an address like name@example.com (at most 254 bytes)")
    }

    static func check(username: String, into checks: inout FieldChecks) {
        let allowed = username.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 46 || c == 45
        }
        checks.require(
            (3...32).contains(username.utf8.count) && allowed, "username",
            "must be 3 to 32 characters of A-Z a-z 0-9 _ . -")
    }

    static func check(password: String, into checks: inout FieldChecks) {
        checks.require((8...128).contains(password.utf8.count), "password", "must be 8 to 128 bytes of UTF-8")
    }

    static func check(verificationCode: String, into checks: inout FieldChecks) {
        checks.require(
            (1...64).contains(verificationCode.utf8.count), "verification_code", "must be 1 to 64 bytes of UTF-8")
    }

    static func check(birthdate: String, now: Int64, into checks: inout FieldChecks) {
        let parts = birthdate.split(separator: "-", omittingEmptySubsequences: false)
        var valid = false
        if birthdate.utf8.count == 10, parts.count == 3, let y = Int64(parts[0]), let m = Int64(parts[1]),
            let d = Int64(parts[2]), parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            (1...12).contains(m),
            d >= 1, d <= Timestamp.daysIn(month: m, year: y)
        {
            let days = Timestamp.daysFromCivil(year: y, month: m, day: d)
            let earliest = Timestamp.daysFromCivil(year: 1900, month: 1, day: 1)
            let today = now >= 0 ? now / 86_400_000 : (now - 86_399_999) / 86_400_000
            valid = days >= earliest && days <= today
        }
        checks.require(valid, "birthdate", "must be a real date YYYY-MM-DD between 1900-01-01 and today")
    }

    static func check(accountData: JSONObject, into checks: inout FieldChecks) {
        let size = JSONWriting.value(.object(accountData)).count
        checks.require(
            size <= maximumAccountDataBytes, "account_data",
            "must be a JSON object of at most 16 KiB (it is \(size) bytes)")
    }

    /// A practical address check: one `@`, a non-empty local part without spaces, and a
    /// domain of dot-separated labels ending in a label of two or more letters.
    static func isEmail(_ text: String) -> Bool {
        guard text.utf8.count <= 254, !text.contains(where: { $0.isWhitespace || $0.isNewline }) else { return false }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64, !parts[0].hasPrefix("."),
            !parts[0].hasSuffix("."), !parts[0].contains("..")
        else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, let tld = labels.last, tld.count >= 2, tld.allSatisfy(\.isLetter) else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }
}
