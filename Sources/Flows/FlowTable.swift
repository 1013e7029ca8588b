import Buffers

/// The transport protocol of a flow.
public enum FlowProtocol: UInt8, Hashable, Sendable, CustomStringConvertible {
    case icmp = 1
    case tcp = 6
    case udp = 17

    public var description: String {
        switch self {
        case .icmp: "icmp"
        case .tcp: "tcp"
        case .udp: "udp"
        }
    }
}

/// What identifies a flow: protocol, the app's address and port, the remote address and
/// port (ICMP echo uses the identifier as the app port and 0 as the remote port).
public struct FlowKey: Hashable, Sendable, CustomStringConvertible {
    public var proto: FlowProtocol
    public var appAddress: IPAddress
    public var appPort: UInt16
    public var remoteAddress: IPAddress
    public var remotePort: UInt16

    public init(
        proto: FlowProtocol, appAddress: IPAddress, appPort: UInt16,
        remoteAddress: IPAddress, remotePort: UInt16
    ) {
        self.proto = proto
        self.appAddress = appAddress
        self.appPort = appPort
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
    }

    public var description: String {
        "\(proto) \(appAddress):\(appPort) -> \(remoteAddress):\(remotePort)"
    }
}

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
