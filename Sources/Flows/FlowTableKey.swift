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
