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
        .nanoseconds(exactly: a.nanoseconds &- b.nanoseconds)
    }

    public var description: String {
        let ms = Double(nanoseconds) / 1_000_000
        return "\(ms)ms"
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at `Int64` (≈292 years), which no timer here reaches.
    ///
    /// Read from the 128-bit attosecond count directly: `components` is an opaque call that
    /// divides a 128-bit integer, and timers ask this on every turn of the event loop.
    @inlinable public var nanoseconds: Int64 {
        Int64(clamping: self.attoseconds / 1_000_000_000)
    }

    /// A duration of `nanoseconds`, without the generic `.nanoseconds(_:)` constructor's
    /// detour through `Int128(exactly:)`.
    @inlinable public static func nanoseconds(exactly nanoseconds: Int64) -> Duration {
        Duration(attoseconds: Int128(nanoseconds) &* 1_000_000_000)
    }

    /// `self × n`. The standard `*` takes any `BinaryInteger` and converts it through a
    /// generic `Int128(exactly:)`: hundreds of instructions, on every RTT sample and timer.
    @inlinable public func scaled(by n: Int) -> Duration {
        Duration(attoseconds: self.attoseconds &* Int128(n))
    }

    /// `self ÷ n`, truncating, for the same reason as `scaled(by:)`.
    @inlinable public func divided(by n: Int) -> Duration {
        Duration(attoseconds: self.attoseconds / Int128(n))
    }
}
