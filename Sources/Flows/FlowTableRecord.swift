import Buffers

/// One flow as the table holds it. For TCP the endpoint carries the state and byte
/// counters; other protocols keep theirs here, updated by `recordTraffic`.
public struct FlowRecord {
    /// Which flow this is.
    public let key: FlowKey
    /// When the flow was created.
    public let openedAt: Instant
    /// The modem's socket (connect id) carrying this flow; opaque here, set by the bridge.
    public var modemSocket: Int?
    /// The TCP endpoint, for TCP flows.
    public var tcp: TCPEndpoint?
    /// The app's SYN as it came from the TUN, kept (at most `FlowTable.heldSYNLimit` bytes)
    /// while the modem opens, for an ICMP error that must quote it.
    var heldSYN: [UInt8]?
    var otherBytesFromApp = 0
    var otherBytesToApp = 0
    var otherLastActivityAt: Instant
    /// `tcp?.pollAt()` as of the endpoint's last change. The answer depends on the endpoint's
    /// own state only (never on the time or on other flows), and every change goes through
    /// `withEndpoint`, which refreshes it: the table's per-turn scans then read this instead
    /// of copying each endpoint to ask it.
    var poll: TCPPollAt = .never

    /// Payload bytes received from the app.
    public var bytesFromApp: Int { tcp?.bytesFromApp ?? otherBytesFromApp }
    /// Payload bytes delivered to the app (for TCP: acknowledged by it).
    public var bytesToApp: Int { tcp?.bytesToApp ?? otherBytesToApp }
    /// When the flow last saw traffic or a modem event.
    public var lastActivityAt: Instant { tcp?.lastActivityAt ?? otherLastActivityAt }
    /// The state's name for the stats socket ("open" for connectionless flows).
    public var stateName: String { tcp.map { $0.state.description } ?? "OPEN" }
    /// Buffer memory the flow holds now.
    public var bufferedBytes: Int { tcp?.bytesBuffered ?? 0 }
}

/// A flow as the stats socket shows it.
public struct FlowSummary: Hashable, Sendable {
    /// Which flow.
    public var key: FlowKey
    /// The TCP state's name, or "OPEN".
    public var state: String
    /// Payload bytes from the app.
    public var bytesFromApp: Int
    /// Payload bytes to the app.
    public var bytesToApp: Int
    /// Time since the flow was created.
    public var age: Duration
    /// Time since its last activity.
    public var idle: Duration
    /// The modem socket carrying it, if one is open.
    public var modemSocket: Int?
    /// Buffer memory it holds.
    public var bufferedBytes: Int
}

extension FlowRecord {
    /// Runs `body` on the TCP endpoint in place; nil for a flow that is not TCP.
    mutating func withEndpoint<R, E: Error>(_ body: (inout TCPEndpoint) throws(E) -> R) throws(E) -> R? {
        guard self.tcp != nil else { return nil }
        defer {
            // Once the modem has answered, the SYN is only kept for an ICMP error.
            if let state = self.tcp?.state, state != .awaitingModem, self.tcp?.wantsUnreachable == false {
                self.heldSYN = nil
            }
            self.refreshPoll()
        }
        return try body(&self.tcp!)
    }
}

extension FlowRecord {
    /// Recomputes `poll` after the endpoint changed.
    mutating func refreshPoll() {
        self.poll = self.tcp?.pollAt() ?? .never
    }
}
