/// A point on the daemon's monotonic clock, in nanoseconds from an arbitrary origin.
///
/// Sans-I/O code (Wire, Flows, AT, Modems) never reads a clock: it is handed an `Instant`
/// by its caller. Only `Sys` reads the real one (`CLOCK_MONOTONIC`), so tests drive time by
/// arithmetic and never sleep to synchronise.
public struct Instant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var nanoseconds: Int64

    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The origin; tests usually start there.
    public static let zero = Instant(nanoseconds: 0)

    @inlinable public static func milliseconds(_ ms: Int64) -> Instant { Instant(nanoseconds: ms * 1_000_000) }

    @inlinable public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    @inlinable public static func + (a: Instant, d: Duration) -> Instant {
        Instant(nanoseconds: a.nanoseconds &+ d.nanoseconds)
    }

    @inlinable public static func - (a: Instant, d: Duration) -> Instant {
        Instant(nanoseconds: a.nanoseconds &- d.nanoseconds)
    }

    /// The time from `b` to `a`; negative when `a` is earlier.
    @inlinable public static func - (a: Instant, b: Instant) -> Duration {
        .nanoseconds(a.nanoseconds &- b.nanoseconds)
    }

    public var description: String {
        let ms = Double(nanoseconds) / 1_000_000
        return "\(ms)ms"
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at `Int64` (≈292 years), which no timer here reaches.
    @inlinable public var nanoseconds: Int64 {
        let (s, atto) = self.components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return s < 0 ? .min : .max }
        return ns &+ atto / 1_000_000_000
    }
}
