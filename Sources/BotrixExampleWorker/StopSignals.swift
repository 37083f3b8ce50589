import Dispatch
import Foundation

/// SIGTERM and SIGINT as dispatch sources: the default actions (terminate at once) are
/// turned off, and each signal calls `onSignal` on a queue of its own, where the worker
/// is asked to stop gracefully.
enum StopSignals {
    /// Installs the sources; keep the result alive for as long as signals should count.
    static func install(_ onSignal: @escaping @Sendable (String) -> Void) -> [any DispatchSourceSignal] {
        let queue = DispatchQueue(label: "botrix-example-worker.signals")
        var sources: [any DispatchSourceSignal] = []
        for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { onSignal(name) }
            source.resume()
            sources.append(source)
        }
        return sources
    }
}
