public import Foundation

/// The clock leases are timed by: the system clock read once, at start, then advanced by
/// a monotonic clock. A step of the system clock (NTP, an operator) then neither expires
/// every lease at once nor stretches them; `recorded_at` keeps the system clock.
///
/// Lease ends are written into events as times on this clock, so a step during a
/// process's life shows only at its next start, by the size of the step.
public struct LeaseClock: Sendable {
    private let wallAtStart: Int64
    private let monotonicAtStart: UInt64
    private let monotonic: @Sendable () -> UInt64

    /// - Parameters:
    ///   - wall: milliseconds since 1970, read once (tests inject it).
    ///   - monotonic: nanoseconds from a clock that never steps (tests inject it).
    public init(
        wall: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        monotonic: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }
    ) {
        wallAtStart = wall()
        monotonicAtStart = monotonic()
        self.monotonic = monotonic
    }

    /// Milliseconds since 1970 as of start, plus the monotonic time since.
    public func now() -> Int64 {
        wallAtStart + Int64((monotonic() &- monotonicAtStart) / 1_000_000)
    }
}
