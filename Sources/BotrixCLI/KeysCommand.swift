public import ArgumentParser
public import Botrix
import Foundation

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys.",
        discussion: """
            Keys are stored in the data file as hashes only; `create` prints the key once.
            Scopes: read (views, stats, events), operate (create and cancel jobs, edit and
            delete accounts), work (the worker protocol), secrets (reveal passwords), admin
            (everything). Once any key exists the server requires keys on every /api route.

            EXAMPLES
              botrix keys create --name ops --scope admin
              botrix keys create --name worker-1 --scope work --scope read
              botrix keys list
              botrix keys revoke 3f9a1c2b4d5e
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it once.")
        @OptionGroup var store: StoreOptions
        @Option(help: "A name to recognise the key by (1 to 64 characters).") var name: String
        @Option(help: "A scope: read, operate, work, secrets or admin; repeat for several.") var scope: [Scope]

        func run() async throws {
            let keys = try APIKeyStore(environment: try await store.openForWriting().environment)
            let (key, token) = try keys.create(name: name, scopes: Set(scope))
            print(token)
            let scopes = key.scopes.map(\.rawValue).sorted().joined(separator: ", ")
            let note = "created key \(key.id) (\(key.name)) with scopes \(scopes); it is shown only now\n"
            FileHandle.standardError.write(Data(note.utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let keys = try APIKeyStore(environment: try await store.openForReading().environment)
            var table = Table()
            table.add("ID", "NAME", "SCOPES", "CREATED", "REVOKED")
            for key in try keys.list() {
                let scopes = key.scopes.map(\.rawValue).sorted().joined(separator: ",")
                table.add(key.id, key.name, scopes, key.createdAt, key.revokedAt ?? "-")
            }
            print(table.render())
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key; it stops working at once.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The key's id (see `botrix keys list`).") var id: String

        func run() async throws {
            let keys = try APIKeyStore(environment: try await store.openForWriting().environment)
            guard try keys.revoke(id: id) else { throw CommandFailure("no key with id \(id): see `botrix keys list`") }
            print("revoked \(id)")
        }
    }
}

extension Scope: ExpressibleByArgument {}
