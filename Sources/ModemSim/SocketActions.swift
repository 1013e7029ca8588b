/// Names one real OS socket the emulator asked for.
///
/// The modem's own id (`connectID`, `link_num`, `connect_id`) is reused after a close, and a
/// reboot throws every socket away; events for a socket that no longer exists must not touch
/// its successor, so each open gets a fresh `serial` as well.
public struct SocketHandle: Hashable, Sendable, CustomStringConvertible {
    /// The id the host uses on the AT interface.
    public var linkID: Int
    /// Unique per open over the emulator's lifetime.
    public var serial: UInt64

    public init(linkID: Int, serial: UInt64) {
        self.linkID = linkID
        self.serial = serial
    }

    public var description: String { "link \(linkID)#\(serial)" }
}

/// A remote endpoint as the AT interface names it: a host name or a literal address, and a port.
public struct RemoteEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// What the modem asks the network side (real sockets, or a test's fake) to do.
public enum SocketAction: Equatable, Sendable {
    /// Connect a TCP socket; answer `.connected` or `.failed`.
    case connectTCP(SocketHandle, to: RemoteEndpoint, localPort: Int)
    /// Create a UDP socket that sends to `to` by default; answer `.connected` or `.failed`.
    case openUDP(SocketHandle, to: RemoteEndpoint?, localPort: Int)
    /// Listen for TCP on `localPort`; answer `.connected` (listening) or `.failed`, then
    /// `.accepted` for each client.
    case listenTCP(SocketHandle, localPort: Int)
    /// Send these bytes (for UDP: one datagram; `to` overrides the default peer).
    /// Answer `.sent` when the kernel has taken them.
    case send(SocketHandle, [UInt8], to: RemoteEndpoint?)
    /// Close and forget the socket; no further events are expected for it.
    case close(SocketHandle)
    /// Resolve a host name; answer `.resolved`.
    case resolve(query: Int, name: String)
    /// Send ICMP echo requests; answer `.pingReply` / `.pingTimeout` once per request.
    case ping(query: Int, host: String, count: Int, timeoutSeconds: Int, size: Int)
    /// Ask an NTP server for the time; answer `.timeSynced`.
    case timeSync(query: Int, server: String, port: Int, timeoutSeconds: Int)
}

/// What the network side reports back.
public enum SocketEvent: Equatable, Sendable {
    /// The open finished: TCP connected, UDP socket created, or listener bound.
    case connected(SocketHandle, localPort: Int)
    /// The open failed (refused, unreachable, bind error).
    case failed(SocketHandle)
    /// Bytes (TCP) or one datagram (UDP) arrived from `from`.
    case received(SocketHandle, [UInt8], from: RemoteEndpoint)
    /// The kernel accepted `count` more bytes of what was given with `.send`.
    case sent(SocketHandle, count: Int)
    /// The peer closed the connection, or it broke.
    case closed(SocketHandle)
    /// A listener accepted a client; `client` is the handle the network side created for it,
    /// using `linkID` -1 until the modem adopts it (see `SimModem.handle`).
    case accepted(listener: SocketHandle, client: SocketHandle, from: RemoteEndpoint, localPort: Int)
    /// A name resolved to these addresses (empty when it did not resolve).
    case resolved(query: Int, addresses: [String])
    /// One echo reply.
    case pingReply(query: Int, address: String, bytes: Int, milliseconds: Int, ttl: Int)
    /// One echo request got no reply in time (or could not be sent).
    case pingTimeout(query: Int, address: String?)
    /// The NTP answer in Unix seconds; nil when the server did not answer (or did not resolve).
    case timeSynced(query: Int, unixSeconds: Int64?)
}
