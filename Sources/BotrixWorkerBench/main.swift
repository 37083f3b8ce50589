// botrix-worker-bench: the worker loop through the Swift client, against a running server.
//
//   botrix-worker-bench URL MODE [WORKERS] [JOBS] [LATENCY_JOBS]
//
// MODE is `long-poll` (claims wait up to 30 s for work) or `poll` (a claim that finds
// nothing sleeps 100 ms and asks again). Two measurements, one JSON line:
// - throughput: JOBS jobs of one account are created, then WORKERS workers run the loop
//   claim → record 1 account → complete until every job is done: jobs per second;
// - latency: the same workers wait for work while LATENCY_JOBS jobs are created one at
//   a time, 20 ms apart: from the create request's start to the claim's answer, p50/p99.
// It touches nothing but the Botrix server. tools/worker-bench.sh runs both modes.
import AsyncHTTPClient
import BotrixClient
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 3, ["long-poll", "poll"].contains(arguments[2]) else {
    FileHandle.standardError.write(
        Data("usage: botrix-worker-bench URL long-poll|poll [WORKERS] [JOBS] [LATENCY_JOBS]\n".utf8))
    exit(2)
}
let settings = WorkerBench.Settings(
    url: arguments[1], longPoll: arguments[2] == "long-poll",
    workers: arguments.count > 3 ? Int(arguments[3]) ?? 64 : 64,
    jobs: arguments.count > 4 ? Int(arguments[4]) ?? 2000 : 2000,
    latencyJobs: arguments.count > 5 ? Int(arguments[5]) ?? 200 : 200)
do {
    print(try await WorkerBench(settings).run())
    exit(0)
} catch {
    FileHandle.standardError.write(Data("botrix-worker-bench: \(error)\n".utf8))
    exit(1)
}
