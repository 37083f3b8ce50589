import Foundation

/// Reads a `Retry-After` header (seconds, or an HTTP date) into a wait, so the client
/// never retries sooner than the server asked.
enum RetryAfter {
    /// The longest wait honoured: a larger or absurd value is cut to this.
    static let longest: Double = 3600

    /// The wait the header asks for; nil when absent or unreadable.
    static func parse(_ value: String?, now: Date = Date()) -> Duration? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text) {
            guard seconds.isFinite else { return nil }
            return .seconds(min(longest, max(0, seconds)))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return .seconds(min(longest, max(0, date.timeIntervalSince(now))))
    }
}
