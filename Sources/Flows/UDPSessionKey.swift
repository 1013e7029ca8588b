import Wire

/// How app datagrams are grouped onto modem sockets (RFC 4787 §4.1).
public enum UDPMapping: Hashable, Sendable {
    /// Endpoint-independent: one session per app address and port, whatever the
    /// destination (RFC 4787 REQ-1's recommendation). Needs a modem socket mode that sends
    /// to any destination (Quectel "UDP SERVICE").
    case endpointIndependent
    /// One session per app address and port and destination address and port: a
    /// "connected" modem UDP socket each.
    case addressAndPortDependent
}

/// An address and port.
public struct UDPEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    public var description: String {
        switch self.address {
        case .v4: "\(self.address):\(self.port)"
        case .v6: "[\(self.address)]:\(self.port)"
        }
    }
}

/// What identifies a UDP session: the app's end, and the remote end unless the mapping is
/// endpoint-independent.
public struct UDPSessionKey: Hashable, Sendable, CustomStringConvertible {
    public var app: UDPEndpoint
    /// Nil for an endpoint-independent session.
    public var remote: UDPEndpoint?

    public init(app: UDPEndpoint, remote: UDPEndpoint?) {
        self.app = app
        self.remote = remote
    }

    public var description: String {
        "udp \(self.app) -> \(self.remote.map(\.description) ?? "*")"
    }
}

/// A session's handle for the bridge, which maps it to a modem socket. Never reused.
public struct UDPSessionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: UDPSessionID, b: UDPSessionID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "udp#\(self.rawValue)" }
}
