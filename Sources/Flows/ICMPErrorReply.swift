import Wire

/// An ICMP error sent back to the app about one of its packets: "fragmentation needed" or
/// "packet too big" for a datagram the modem cannot carry, "unreachable" when the modem
/// could not reach the destination.
public enum ICMPErrorReply {
    /// A whole IP+ICMP packet answering `original` (a validated packet from the app) with
    /// `message`, from the original destination, quoting as much as RFC 1812/4443 allow.
    ///
    /// Nil where RFC 1122 §3.2.2 and RFC 4443 §2.4(e) forbid an error: about an ICMP error,
    /// about a fragment other than the first, or about a packet sent to a multicast or
    /// broadcast address (or from an address no reply could reach).
    public static func packet(answering original: IPPacket, with message: ICMPMessage) -> [UInt8]? {
        let appAddress = original.source
        let remote = original.destination
        guard message.isError, !Self.isGroupOrUnspecified(remote), !Self.isGroupOrUnspecified(appAddress)
        else { return nil }
        switch original {
        case .v4(let p):
            if p.fragmentOffset != 0 { return nil }
        case .v6(let p):
            if let f = p.fragment, f.offset != 0 { return nil }
        }
        if original.protocol == ICMPRepr.ipProtocol(for: appAddress) {
            guard let icmp = try? ICMPPacket(validating: original.payload) else { return nil }
            // Only echo messages may be answered; an unknown type might be an error too.
            let isEcho = switch appAddress {
            case .v4: icmp.type == 0 || icmp.type == 8
            case .v6: icmp.type == 128 || icmp.type == 129
            }
            guard isEcho else { return nil }
        }

        let whole = Self.bytes(of: original)
        let quoteLength = ICMPRepr.quoteLength(of: whole.count, for: appAddress)
        let icmp = ICMPRepr(message: message, payloadLength: quoteLength)
        let ip = IPRepr(source: remote, destination: appAddress,
                        protocol: ICMPRepr.ipProtocol(for: appAddress), payloadLength: icmp.bufferLength)
        var out = [UInt8](repeating: 0, count: ip.bufferLength)
        out.withUnsafeMutableBytes { buffer in
            ip.emit(into: buffer)
            icmp.emit(into: UnsafeMutableRawBufferPointer(rebasing: buffer[ip.headerLength...]),
                      source: remote, destination: appAddress) { quote in
                quote.copyMemory(from: UnsafeRawBufferPointer(rebasing: whole[0..<quoteLength]))
            }
        }
        return out
    }

    private static func bytes(of packet: IPPacket) -> UnsafeRawBufferPointer {
        switch packet {
        case .v4(let p): p.bytes
        case .v6(let p): p.bytes
        }
    }

    /// Multicast, broadcast (limited), unspecified: no ICMP error goes to or about them.
    static func isGroupOrUnspecified(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let a):
            // 224.0.0.0/4 multicast, 255.255.255.255, 0.0.0.0.
            a.rawValue >> 28 == 0xE || a.rawValue == 0xFFFF_FFFF || a.rawValue == 0
        case .v6(let a):
            a.high >> 56 == 0xFF || a == .any
        }
    }
}
