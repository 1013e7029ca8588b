import Buffers
import Glibc

/// The clock the daemon runs on: `clock_gettime(CLOCK_MONOTONIC)`. It never jumps when
/// the wall clock is set (NTP, a gateway without RTC that learns the date late), so every
/// timeout and rate is measured on it; sans-I/O layers receive its `Instant`s.
public enum MonotonicClock {
    /// `clock_gettime(CLOCK_MONOTONIC)` as an `Instant`.
    public static func now() -> Instant {
        var time = timespec()
        // Cannot fail for CLOCK_MONOTONIC with a valid pointer (see clock_gettime(2)).
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Instant(nanoseconds: Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec))
    }
}

/// A moment in civil (UTC) time, for log lines only: never used to measure intervals.
public struct WallTime: Hashable, Sendable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var seconds: Int64
    /// Nanoseconds into that second, 0..<1_000_000_000.
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-21T16:36:46.123Z` (via `gmtime_r(3)`).
    public var description: String {
        var time = time_t(self.seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "@\(self.seconds)" }
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(Int(parts.tm_year) + 1900, 4) + "-" + padded(Int(parts.tm_mon) + 1, 2)
            + "-" + padded(Int(parts.tm_mday), 2) + "T" + padded(Int(parts.tm_hour), 2)
            + ":" + padded(Int(parts.tm_min), 2) + ":" + padded(Int(parts.tm_sec), 2)
            + "." + padded(Int(self.nanoseconds) / 1_000_000, 3) + "Z"
    }
}

/// `clock_gettime(CLOCK_REALTIME)`, for timestamps in logs.
public enum WallClock {
    /// The current civil time.
    public static func now() -> WallTime {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return WallTime(seconds: Int64(time.tv_sec), nanoseconds: Int32(time.tv_nsec))
    }
}
