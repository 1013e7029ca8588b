import Wire

/// Payload of a datagram for the modem.
public enum UDPPayload: Hashable, Sendable {
    /// Bytes of the packet just handed to `receive`, at this range: send from there.
    case inPacket(Range<Int>)
    /// A copy held while the modem socket was opening.
    case owned([UInt8])
}

/// What the UDP sessions ask the bridge to do.
public enum UDPAction: Hashable, Sendable {
    /// Open a modem UDP socket for a new session; answer with `opened` or `openFailed`.
    /// `remote` is nil for an endpoint-independent session.
    case open(UDPSessionID, remote: UDPEndpoint?)
    /// Send a datagram through the session's modem socket.
    case send(UDPSessionID, to: UDPEndpoint, payload: UDPPayload)
    /// Close the session's modem socket (idle timeout).
    case close(UDPSessionID)
    /// Write this packet to the TUN: an ICMP error for the app.
    case reply([UInt8])
}
