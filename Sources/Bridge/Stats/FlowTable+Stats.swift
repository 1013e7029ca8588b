import Buffers
import Flows
import Wire

/// The flow table's own figures, turned into what the stats socket shows, so the bridge's
/// snapshot is one call per source instead of field-by-field copying.
///
/// The components keep running totals, so the `add…` calls below are for the copy the
/// bridge builds when a client asks (`var s = self.stats; s.addFlowTableCounters(...)`),
/// never for the daemon's running `DaemonStats`: there the totals would be added again at
/// every request.
extension FlowRow {
    /// The row for one flow of `FlowTable.snapshot(now:)`, as of `now`.
    public init(_ summary: FlowSummary, now: Instant) {
        let key = summary.key
        // ICMP echo keeps the identifier in the app port and 0 as the remote port: show
        // the identifier (as `id N`) and no port, not a made-up ":0".
        let isEcho = key.proto == .icmp
        self.init(proto: Transport(key.proto),
                  app: isEcho ? "\(key.appAddress) id \(key.appPort)" : Self.endpoint(key.appAddress, key.appPort),
                  remote: isEcho ? key.remoteAddress.description : Self.endpoint(key.remoteAddress, key.remotePort),
                  modemSocket: summary.modemSocket, state: summary.state,
                  bytesFromApp: UInt64(clamping: summary.bytesFromApp), bytesToApp: UInt64(clamping: summary.bytesToApp),
                  openedAt: now - summary.age)
    }

    /// The row for one UDP session; `remote` is `*` for an endpoint-independent session.
    public init(_ session: UDPSession, modemSocket: Int?) {
        self.init(proto: .udp, app: Self.endpoint(session.key.app.address, session.key.app.port),
                  remote: session.key.remote.map { Self.endpoint($0.address, $0.port) } ?? "*",
                  modemSocket: modemSocket, state: session.state == .open ? "open" : "opening",
                  bytesFromApp: UInt64(clamping: session.bytesFromApp), bytesToApp: UInt64(clamping: session.bytesToApp),
                  openedAt: session.openedAt)
    }

    /// The rows for `FlowTable.snapshot(now:)`, oldest flow first (the table's own order is
    /// a hash order, which would shuffle the list between two `flows` calls).
    public static func rows(_ summaries: [FlowSummary], now: Instant) -> [FlowRow] {
        inListOrder(summaries.map { FlowRow($0, now: now) })
    }

    /// Oldest first, then by endpoints: a stable order for `flows`.
    public static func inListOrder(_ rows: [FlowRow]) -> [FlowRow] {
        rows.sorted { ($0.openedAt, $0.app, $0.remote) < ($1.openedAt, $1.app, $1.remote) }
    }

    /// `192.0.2.1:80`, `[2001:db8::1]:443` (RFC 3986 §3.2.2 brackets for IPv6).
    public static func endpoint(_ address: Wire.IPAddress, _ port: UInt16) -> String {
        switch address {
        case .v4: "\(address):\(port)"
        case .v6: "[\(address)]:\(port)"
        }
    }
}

extension FlowRow.Transport {
    public init(_ proto: Flows.FlowProtocol) {
        switch proto {
        case .tcp: self = .tcp
        case .udp: self = .udp
        case .icmp: self = .icmp
        }
    }
}

extension DaemonStats {
    /// Adds the flow table's counters: TCP closes by reason (in the order of
    /// `TCPCloseReason`; connectionless flows as `connectionless`), refusals for a full
    /// table and RSTs for segments of unknown flows as drops.
    public mutating func addFlowTableCounters(_ c: FlowTableCounters) {
        for reason in TCPCloseReason.allCases {
            if let n = c.closedByReason[reason], n > 0 { self.flowCloses.record(reason.description, UInt64(n)) }
        }
        if c.otherClosed > 0 { self.flowCloses.record("connectionless", UInt64(c.otherClosed)) }
        self.drops.add(.flowTableFull, UInt64(clamping: c.refusedTableFull))
        self.drops.add(.unknownFlow, UInt64(clamping: c.resetsForUnknownFlows))
    }

    /// Adds the UDP sessions' drops: malformed datagrams by wire reason, the session limit,
    /// oversized datagrams, full queues, failed opens, undeliverable replies.
    public mutating func addUDPDrops(_ d: UDPSessions.Drops) {
        self.drops.add(d.wire)
        self.drops.add(.udpSessionLimit, UInt64(clamping: d.sessionLimit))
        self.drops.add(.udpTooBig, UInt64(clamping: d.tooBig))
        self.drops.add(.udpQueueFull, UInt64(clamping: d.queueFull))
        self.drops.add(.openFailed, UInt64(clamping: d.openFailed))
        self.drops.add(.undeliverable, UInt64(clamping: d.undeliverable))
    }
}
