public import ArgumentParser
public import Botrix
import Foundation
import Storage
import TerminalOutput

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke API keys; rotate the master key.",
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
              botrix keys rotate-master --new-key-file /etc/botrix/master-2.key
            """,
        subcommands: [Create.self, List.self, Revoke.self, RotateMaster.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it once.")
        @OptionGroup var store: StoreOptions
        @Option(help: "A name to recognise the key by (1 to 64 characters).") var name: String
        @Option(help: "A scope: read, operate, work, secrets or admin; repeat for several.") var scope: [Scope]

        func run() async throws {
            let keys = try await store.openForWriting().keys()
            let (key, token) = try keys.create(name: name, scopes: Set(scope))
            say(token)
            let scopes = key.scopes.map(\.rawValue).sorted().joined(separator: ", ")
            let note = "created key \(key.id) (\(key.name)) with scopes \(scopes); it is shown only now\n"
            FileHandle.standardError.write(Data(note.utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let keys = try await store.openForReading().keys()
            var table = Table()
            table.add("ID", "NAME", "SCOPES", "CREATED", "REVOKED")
            for key in try keys.list() {
                let scopes = key.scopes.map(\.rawValue).sorted().joined(separator: ",")
                table.add(key.id, key.name, scopes, key.createdAt, key.revokedAt ?? "-")
            }
            say(table.render())
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key; it stops working at once.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The key's id (see `botrix keys list`).") var id: String

        func run() async throws {
            let keys = try await store.openForWriting().keys()
            guard try keys.revoke(id: id) else { throw CommandFailure("no key with id \(id): see `botrix keys list`") }
            say("revoked \(id)")
        }
    }
}

extension KeysCommand {
    /// `botrix keys rotate-master`: see ``MasterKeyRotation``.
    struct RotateMaster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-master",
            abstract: "Move the account secrets to a new master key (with the server stopped).",
            discussion: """
                The current key comes from the usual sources (BOTRIX_MASTER_KEY,
                BOTRIX_MASTER_KEY_FILE, or in development <data file>-master.key); the new one
                from --new-key-file PATH and/or BOTRIX_NEW_MASTER_KEY. A --new-key-file that
                does not exist gets a new random key (mode 0600); an existing one is only read.

                Re-wraps every bucket key under a new keyring root wrapped by the new key, in
                one transaction, crash-safe at every step (run it again after a crash). The old
                key then opens nothing in the data file or in backups taken from now on; it
                still opens backups taken before. Refused while `botrix serve` runs on the file.

                EXAMPLES
                  BOTRIX_MASTER_KEY_FILE=/etc/botrix/master.key botrix keys rotate-master --new-key-file /etc/botrix/master-2.key
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: ArgumentHelp("The new key's file (created with a new key when missing).", valueName: "path"))
        var newKeyFile: String?

        func run() async throws {
            let configuration = try await store.configuration()
            let path = configuration.databasePath
            if let pid = ServerPresence.server(of: path) {
                throw CommandFailure(
                    "a server (botrix serve\(pid > 0 ? ", pid \(pid)" : "")) is running on \(path): stop it, then rotate the master key"
                )
            }
            guard FileManager.default.fileExists(atPath: path) else { throw StorageOpenError.missing(path: path) }
            // Hold the serve lock so no server starts on the file while the keys move.
            let presence = try ServerPresence(dataFile: path)
            var sources: [String: String] = [:]
            sources["BOTRIX_MASTER_KEY"] = configuration.masterKey
            sources["BOTRIX_MASTER_KEY_FILE"] = configuration.masterKeyFile
            let current = try SecretBox.resolve(
                environment: sources, dataFile: path, development: configuration.serverEnvironment == .development,
                createDevelopmentKey: false
            ).box
            let (new, created) = try SecretBox.newMasterKey(
                file: newKeyFile, environmentValue: ProcessInfo.processInfo.environment["BOTRIX_NEW_MASTER_KEY"])
            if created, let newKeyFile { say("wrote a new master key to \(newKeyFile) (mode 0600)") }
            let botrix = try await store.openForWriting()
            let rotation = try await botrix.rotateMasterKey(current: current, new: new)
            withExtendedLifetime(presence) {}
            if rotation.finishedEarlierRun {
                say("\(rotation.dataFile) was already sealed with the new key: finished an interrupted rotation")
            } else {
                say(
                    "rotated the master key of \(rotation.dataFile): epoch \(rotation.fromEpoch) -> \(rotation.toEpoch), "
                        + "\(rotation.bucketKeys) bucket key(s) re-wrapped (\(rotation.dataKeys) account data key(s) unchanged)"
                )
            }
            say(
                "keyring \(rotation.keyring) is now wrapped under \(new.source) (fingerprint \(rotation.newFingerprint))"
            )
            say(
                "start the server with the new key (BOTRIX_MASTER_KEY_FILE or BOTRIX_MASTER_KEY); the old key (fingerprint "
                    + "\(rotation.oldFingerprint)) from \(current.source) no longer opens this file, only backups taken before now"
            )
        }
    }
}

extension Scope: ExpressibleByArgument {}
