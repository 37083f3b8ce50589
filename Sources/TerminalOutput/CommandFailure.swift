/// A command's failure as the one line the user reads (`botrix: <message>`), for errors
/// that are the user's to fix (a bad argument, a missing key) rather than a bug.
public struct CommandFailure: Error, CustomStringConvertible {
    /// The line printed after `botrix: `.
    public let description: String
    /// A failure that says `message`.
    public init(_ message: String) { description = message }
}
