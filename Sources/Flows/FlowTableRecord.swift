import Buffers

/// One flow as the table holds it. For TCP the endpoint carries the state and byte
/// counters; other protocols keep theirs here, updated by `recordTraffic`.
public struct FlowRecord {
    public let key: FlowKey
    public let openedAt: Instant
    /// The modem's socket (connect id) carrying this flow; opaque here, set by the bridge.
    public var modemSocket: Int?
    /// The TCP endpoint, for TCP flows.
    public var tcp: TCPEndpoint?
    var otherBytesFromApp = 0
    var otherBytesToApp = 0
    var otherLastActivityAt: Instant

    public var bytesFromApp: Int { tcp?.bytesFromApp ?? otherBytesFromApp }
    public var bytesToApp: Int { tcp?.bytesToApp ?? otherBytesToApp }
    public var lastActivityAt: Instant { tcp?.lastActivityAt ?? otherLastActivityAt }
    /// The state's name for the stats socket ("open" for connectionless flows).
    public var stateName: String { tcp.map { $0.state.description } ?? "OPEN" }
    /// Buffer memory the flow holds now.
    public var bufferedBytes: Int { tcp?.bytesBuffered ?? 0 }
}

/// A flow as the stats socket shows it.
public struct FlowSummary: Hashable, Sendable {
    public var key: FlowKey
    public var state: String
    public var bytesFromApp: Int
    public var bytesToApp: Int
    public var age: Duration
    public var idle: Duration
    public var modemSocket: Int?
    public var bufferedBytes: Int
}
