import Buffers

/// Every counter and gauge the daemon shows through `stats`, `status` and `metrics`.
///
/// Plain stored properties the event loop bumps with `&+=` on the hot path: the daemon is
/// one thread, so there are no locks, and the tables are fixed arrays, so recording never
/// hashes nor (after a name's first use) allocates. Counters only grow; gauges (`Int`) are
/// set. Derived figures (uptime, line utilisation, flows by state) are computed when a
/// request is rendered, never maintained.
///
/// Directions are named from the apps' side: `In` is what the daemon read from the TUN
/// (apps sending), `Out` what it wrote to the TUN (apps receiving).
public struct DaemonStats: Sendable, Equatable {
    /// When the daemon started, for uptime.
    public var startedAt: Instant

    // TUN
    public var tunPacketsIn: UInt64 = 0
    public var tunBytesIn: UInt64 = 0
    public var tunPacketsOut: UInt64 = 0
    public var tunBytesOut: UInt64 = 0

    // Modem payload: bytes the modem accepted (SEND OK and its dialect forms) and bytes read
    // or pushed from modem sockets. AT text and framing are not payload.
    public var modemBytesSent: UInt64 = 0
    public var modemBytesReceived: UInt64 = 0

    // The serial line, everything on it: commands, payload, results, URCs.
    public var serialBytesWritten: UInt64 = 0
    public var serialBytesRead: UInt64 = 0
    /// The configured line speed in bit/s (8N1: 10 bits a byte), for utilisation.
    public var serialBaud: Int

    public var at = ATCommandStats()
    /// Unsolicited result codes by kind (`recv`, `closed`, `pdpdeact`, `CEREG`...).
    public var urcs = NamedCounters()
    /// Sends the modem refused (SEND FAIL, no free buffer): retried later.
    public var sendFail: UInt64 = 0
    public var sendRetries: UInt64 = 0

    public var drops = DropCounts()

    public var flowsOpened = PerProtocolCounts()
    /// Flows closed, by the flow table's close reason (`finished`, `reset by app`, ...).
    public var flowCloses = NamedCounters()

    /// Flows waiting for a modem socket now.
    public var admissionQueueLength = 0
    public var admissionWaits: UInt64 = 0
    public var admissionTimeouts: UInt64 = 0
    public var admissionRejects: UInt64 = 0

    public var modemSockets = ModemSocketUse()
    /// UDP sessions riding the one shared UDP socket now (models with `udpSharedSocket`),
    /// and sessions that took a socket of their own because another already talked to the
    /// same remote endpoint through it.
    public var sharedUDPSessions = 0
    public var sharedUDPCollisions: UInt64 = 0

    public var dnsQueries: UInt64 = 0
    public var dnsCacheHits: UInt64 = 0
    public var dnsFailures: UInt64 = 0

    public var icmpEchoRequests: UInt64 = 0
    public var icmpEchoReplies: UInt64 = 0
    public var icmpEchoFailures: UInt64 = 0

    public var modem = ModemStatus()

    public init(startedAt: Instant, baud: Int) {
        self.startedAt = startedAt
        self.serialBaud = baud
    }

    /// Time since start at `now` (zero if the clock is behind `startedAt`).
    public func uptime(at now: Instant) -> Duration {
        now < self.startedAt ? .zero : now - self.startedAt
    }
}

/// Figures computed from the counters when a request is rendered.
extension DaemonStats {
    /// The serial line's average utilisation since start, 0...1, each way: bytes × 10 bits
    /// (8N1) against `serialBaud` × uptime. Nil before any time has passed or without a baud.
    public func serialUtilisation(at now: Instant) -> (write: Double, read: Double)? {
        let seconds = DurationSeconds.of(self.uptime(at: now))
        guard seconds > 0, self.serialBaud > 0 else { return nil }
        let capacity = Double(self.serialBaud) / 10 * seconds
        return (min(1, Double(self.serialBytesWritten) / capacity), min(1, Double(self.serialBytesRead) / capacity))
    }
}

enum DurationSeconds {
    static func of(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
