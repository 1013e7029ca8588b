/// A socket of the modem's own TCP/IP stack: Quectel `<connectID>`, SIMCom `<link_num>`,
/// OneMO `<connect_id>`. Valid ids run from 0 to `ModemCapabilities.socketCount - 1`.
public struct ModemSocketID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: Int
    public init(_ rawValue: Int) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "socket \(self.rawValue)" }
}

/// The transport of a modem socket.
public enum SocketProtocol: String, Sendable, Equatable {
    case tcp = "TCP"
    case udp = "UDP"
}

/// A socket's state as the modem reports it to a reconcile query (QISTATE / CIPCLOSE? /
/// MIPSTATE), reduced to what the bridge acts on.
public enum ModemSocketState: Sendable, Equatable {
    case closed
    case opening
    case connected
    /// The peer or the network closed it; unread data may remain; it needs a host close.
    case closing
}
