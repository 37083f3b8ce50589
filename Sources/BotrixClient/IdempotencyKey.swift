import Foundation

/// Fresh `Idempotency-Key` values: one per logical operation, reused across its retries,
/// so that a retry after a lost answer gets the first answer back instead of acting twice.
public enum IdempotencyKey {
    /// A new random key such as `swift-3f2c…` (a UUID's 32 hex digits after the prefix).
    public static func make(prefix: String = "swift") -> String {
        let hex = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        return "\(prefix)-\(hex)"
    }
}
