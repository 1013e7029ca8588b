/// What an ICMP error says about the datagram it quotes: the original header and the
/// first eight bytes after it (RFC 792; RFC 4443 quotes as much as fits), enough to find
/// the flow it belongs to.
///
/// A quote is truncated by design, so its length fields are not held against it: only the
/// bytes actually needed must be present.
public struct ICMPQuote: Hashable, Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var `protocol`: IPProtocol
    /// TCP/UDP ports, when the quote reaches them.
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?

    /// Reads the quote carried in an ICMP error's `payload`.
    public init(parsing payload: UnsafeRawBufferPointer) throws(WireError) {
        guard let first = payload.first else { throw .truncated }
        let upper: Int
        switch first >> 4 {
        case 4:
            guard payload.count >= IPv4Packet.minimumHeaderLength else { throw .truncated }
            let headerLength = Int(first & 0x0F) * 4
            guard headerLength >= IPv4Packet.minimumHeaderLength else { throw .malformed }
            self.source = .v4(IPv4Address(reading: payload, at: IPv4Packet.Field.source))
            self.destination = .v4(IPv4Address(reading: payload, at: IPv4Packet.Field.destination))
            self.protocol = IPProtocol(rawValue: payload[IPv4Packet.Field.proto])
            upper = headerLength
        case 6:
            guard payload.count >= IPv6Packet.headerLength else { throw .truncated }
            self.source = .v6(IPv6Address(reading: payload, at: IPv6Packet.Field.source))
            self.destination = .v6(IPv6Address(reading: payload, at: IPv6Packet.Field.destination))
            // Extension headers in a quote are not walked: flows never send any.
            self.protocol = IPProtocol(rawValue: payload[IPv6Packet.Field.nextHeader])
            upper = IPv6Packet.headerLength
        default:
            throw .badVersion
        }
        if self.protocol == .tcp || self.protocol == .udp, upper + 4 <= payload.count {
            self.sourcePort = payload.readUInt16(at: upper)
            self.destinationPort = payload.readUInt16(at: upper + 2)
        } else {
            self.sourcePort = nil
            self.destinationPort = nil
        }
    }
}
