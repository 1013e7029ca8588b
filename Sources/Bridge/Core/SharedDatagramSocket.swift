import Buffers
import Flows

/// The one modem socket that carries many UDP sessions, on a model whose datagram service
/// names the peer on each send and the sender on each read (`udpSharedSocket`: Quectel EC
/// "UDP SERVICE"). Sessions would otherwise take a socket each, and modems have few.
///
/// A datagram read from it belongs to the session whose remote endpoint sent it. The socket
/// has one local port, so two sessions to the same remote endpoint could not be told apart
/// (RFC 4787's endpoint-independent mapping problem): only the first rides here, the next
/// gets a socket of its own. Bounded: at most one member per session (`UDPSessions` caps those).
struct SharedDatagramSocket {
    /// The modem socket, reserved from the scheduler, while held (nil: none yet, or given
    /// back when the modem went away before it was opened).
    var socket: Int?
    /// Its requests in flight, as for every socket; `flow` stays nil.
    var slot = SocketSlot(flow: nil)
    /// The local port of the service being opened or open.
    var localPort: UInt16 = 0
    /// Member sessions by remote endpoint, and the reverse.
    private(set) var sessionOf: [UDPEndpoint: UDPSessionID] = [:]
    private(set) var remoteOf: [UDPSessionID: UDPEndpoint] = [:]
    /// `slot.wantsClose` was set because no session was left (not because it failed): a
    /// new session may still use it.
    var closingIdle = false
    /// The session whose datagram is the pending send.
    var sendingFor: UDPSessionID?
    /// After an open failed, new sessions take their own sockets until then.
    var pausedUntil: Instant?
    /// Opens asked so far: each picks another local port.
    var opens = 0

    var isEmpty: Bool { self.remoteOf.isEmpty }
    var count: Int { self.remoteOf.count }
    var members: [UDPSessionID] { self.remoteOf.keys.sorted() }

    func carries(_ id: UDPSessionID) -> Bool { self.remoteOf[id] != nil }
    func remote(of id: UDPSessionID) -> UDPEndpoint? { self.remoteOf[id] }
    func session(from sender: UDPEndpoint) -> UDPSessionID? { self.sessionOf[sender] }

    /// False when another member already talks to `remote` (the collision rule).
    mutating func add(_ id: UDPSessionID, remote: UDPEndpoint) -> Bool {
        guard self.sessionOf[remote] == nil, self.remoteOf[id] == nil else { return false }
        self.sessionOf[remote] = id
        self.remoteOf[id] = remote
        return true
    }

    mutating func remove(_ id: UDPSessionID) {
        guard let remote = self.remoteOf.removeValue(forKey: id) else { return }
        self.sessionOf[remote] = nil
        if self.sendingFor == id { self.sendingFor = nil }
    }

    /// Forgets every member; returns them.
    mutating func removeAll() -> [UDPSessionID] {
        let all = self.members
        self.sessionOf.removeAll()
        self.remoteOf.removeAll()
        self.sendingFor = nil
        return all
    }

    /// The socket is gone (closed, lost) or was never opened: a fresh slot for the next open.
    mutating func forgetSocket() {
        self.socket = nil
        self.slot = SocketSlot(flow: nil)
        self.sendingFor = nil
        self.closingIdle = false
    }

    /// A local port for the next open, from the dynamic range (RFC 6335 §6: 49152–65535),
    /// varied with the time and the count of opens so a port that failed to bind (or that a
    /// peer could guess from an earlier run) is not simply tried again.
    mutating func nextLocalPort(now: Instant) -> UInt16 {
        self.opens += 1
        let mixed = UInt64(bitPattern: now.nanoseconds / 1000) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(self.opens) &* 7919
        return 49152 + UInt16(truncatingIfNeeded: (mixed >> 32) % 16384)
    }
}
