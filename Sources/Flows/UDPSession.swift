import Buffers
import Wire

/// One UDP session: an app's socket talking through one modem socket.
public struct UDPSession: Sendable {
    public enum State: Hashable, Sendable {
        /// The bridge is opening the modem socket; datagrams wait in `queue`.
        case opening
        case open
    }

    /// A datagram copied while the modem socket opens: the ring slot cannot wait.
    struct Queued: Sendable {
        var remote: UDPEndpoint
        var payload: [UInt8]
    }

    public let id: UDPSessionID
    public let key: UDPSessionKey
    public let openedAt: Instant
    public internal(set) var state: State
    public internal(set) var lastActivityAt: Instant
    public internal(set) var datagramsFromApp = 0
    public internal(set) var bytesFromApp = 0
    public internal(set) var datagramsToApp = 0
    public internal(set) var bytesToApp = 0
    var queue: [Queued] = []
    var queuedBytes = 0
    /// The first datagram, kept until the socket opens: an unreachable error quotes it if
    /// the socket cannot be opened.
    var firstPacket: [UInt8]

    init(id: UDPSessionID, key: UDPSessionKey, now: Instant, firstPacket: [UInt8]) {
        self.id = id
        self.key = key
        self.openedAt = now
        self.state = .opening
        self.lastActivityAt = now
        self.firstPacket = firstPacket
    }
}
