// Test support for the crash-safety test: appends batches forever through the real
// group-commit writer with full durability and, after each append is acknowledged,
// writes "first last" (its sequence range) to the acknowledgement file. The test kills
// this process with SIGKILL at random moments and checks every acknowledged event
// survived. Usage: CrashWriter DB_PATH ACK_PATH (other modes below)
import EventLog
import Foundation
import LMDB
import Storage

let arguments = CommandLine.arguments
// `CrashWriter --hold-read DB_PATH`: open the file, begin a read transaction, say
// "holding" and wait inside it until killed (the stale-reader tests kill it with SIGKILL).
if arguments.count == 3, arguments[1] == "--hold-read" {
    let environment = try Environment(.init(path: arguments[2], readOnly: true))
    try environment.read { _ in
        FileHandle.standardOutput.write(Data("holding\n".utf8))
        while true { sleep(60) }
    }
}
// `CrashWriter --storage-writes DB_PATH ACK_PATH`: the storage seam alone (the conformance
// suite's kill test). Commits one numbered key per write with full durability, continuing
// after the last key already stored, and appends each number to ACK_PATH once committed.
if arguments.count == 4, arguments[1] == "--storage-writes" {
    try StorageWrites.run(path: arguments[2], acknowledgements: arguments[3])
}
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: CrashWriter DB_PATH ACK_PATH\n".utf8))
    exit(2)
}
let environment = try Environment(.init(path: arguments[1], mapSize: 1 << 24, durability: .full))
let log = try EventLog(environment: environment)
let writer = try GroupCommitWriter(log: log)
let ackDescriptor = open(arguments[2], O_WRONLY | O_CREAT | O_APPEND, 0o644)
guard ackDescriptor >= 0 else { exit(3) }

try await withThrowingTaskGroup(of: Void.self) { group in
    for task in 0..<8 {
        group.addTask {
            var round = 0
            while true {
                round += 1
                let events = (0..<(1 + round % 3)).map { n in
                    ProposedEvent(type: "Tick", data: Array("{\"n\":\(n),\"round\":\(round),\"task\":\(task)}".utf8))
                }
                let result = try await writer.append(AppendRequest(stream: "crash-\(task)", events: events))
                let line = Array("\(result.firstSequence) \(result.lastSequence)\n".utf8)
                _ = line.withUnsafeBytes { write(ackDescriptor, $0.baseAddress, $0.count) }
            }
        }
    }
    try await group.waitForAll()
}
