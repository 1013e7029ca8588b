import Buffers

/// The module's real-time clock (`AT+CCLK`), set by NTP commands with auto-set.
///
/// Time is Unix seconds; the modem derives "now" from the `Instant` it is handed, so tests
/// stay deterministic. The manuals' examples all show a China network, time zone +32
/// (quarter hours, UTC+8), which the emulator reports too.
struct ModemClock {
    /// Unix time at `reference`.
    var unixSeconds: Int64
    var reference: Instant
    /// Quarter hours east of UTC.
    var zoneQuarters = 32

    func unixTime(at now: Instant) -> Int64 {
        unixSeconds + (now - reference).nanoseconds / 1_000_000_000
    }

    mutating func set(unixSeconds: Int64, at now: Instant) {
        self.unixSeconds = unixSeconds
        self.reference = now
    }

    /// `yy/MM/dd,hh:mm:ss±zz` (27.007 §8.15), or with a four-digit year.
    func text(of unix: Int64, fourDigitYear: Bool = false) -> String {
        let local = unix + Int64(zoneQuarters) * 15 * 60
        let (y, m, d) = Self.civil(fromDays: local >= 0 ? local / 86400 : (local - 86399) / 86400)
        let seconds = ((local % 86400) + 86400) % 86400
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let year = fourDigitYear ? String(y) : two(y % 100)
        let zone = zoneQuarters >= 0 ? "+\(two(Int64(zoneQuarters)))" : "-\(two(Int64(-zoneQuarters)))"
        return "\(year)/\(two(m))/\(two(d)),\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))\(zone)"
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
