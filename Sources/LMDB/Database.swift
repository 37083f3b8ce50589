import CLMDB

/// A named database inside an environment: a handle that stays valid for the life of
/// the environment, so open each once at start-up and keep it.
public struct Database: Sendable, Hashable {
    /// The name it was opened with.
    public let name: String
    let dbi: MDB_dbi

    /// Options a database is created with; fixed at creation by LMDB.
    public struct Options: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// Keys are native-endian unsigned integers (not used for our big-endian keys).
        public static let integerKey = Options(rawValue: UInt32(MDB_INTEGERKEY))
    }
}
