import CLMDB
import Storage

extension Environment {
    /// The names of every named database in the file, in key order: LMDB keeps them as
    /// the keys of its main (unnamed) database. For tools that copy a file database by
    /// database without knowing what each one holds.
    public func databaseNames() throws -> [String] {
        try readLMDB { txn in
            var main: MDB_dbi = 0
            // The main database always exists; opening it in a read transaction creates nothing.
            try check(mdb_dbi_open(txn.handle, nil, 0, &main), "open the main database")
            return try txn.withCursor(Database(name: "(main)", id: main)) { cursor in
                var names: [String] = []
                var entry = try cursor.first()
                while let current = entry {
                    let name = String(decoding: current.key, as: UTF8.self)
                    // The storage layer's own record of exchanges (``DatabaseMap``) is not data.
                    if name != DatabaseMap.tableName { names.append(name) }
                    entry = try cursor.next()
                }
                return names
            }
        }
    }
}
