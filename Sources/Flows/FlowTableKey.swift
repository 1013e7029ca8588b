import Wire

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
    /// TCP, UDP or ICMP.
    public var proto: FlowProtocol
    /// The app's address (the packet's source).
    public var appAddress: IPAddress
    /// The app's port (ICMP: the echo identifier).
    public var appPort: UInt16
    /// Where the app wants to go (the packet's destination).
    public var remoteAddress: IPAddress
    /// The destination port (ICMP: 0).
    public var remotePort: UInt16

    /// A key from its parts.
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

    /// Every packet looks its flow up by key. The synthesised conformance fed the hasher
    /// each field and enum discriminator apart (eight combines); an IPv4 key is two words.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(UInt64(self.proto.rawValue) << 32 | UInt64(self.appPort) << 16 | UInt64(self.remotePort))
        switch (self.appAddress, self.remoteAddress) {
        case (.v4(let app), .v4(let remote)):
            hasher.combine(UInt64(app.rawValue) << 32 | UInt64(remote.rawValue))
        default:
            hasher.combine(self.appAddress)
            hasher.combine(self.remoteAddress)
        }
    }
}
