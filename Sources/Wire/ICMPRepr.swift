/// An ICMP or ICMPv6 message as values; the family follows the addresses it travels between.
public struct ICMPRepr: Hashable, Sendable {
    public var message: ICMPMessage
    /// Echo data, or the quoted datagram of an error.
    public var payloadLength: Int

    public init(message: ICMPMessage, payloadLength: Int) {
        self.message = message
        self.payloadLength = payloadLength
    }

    public static let headerLength = ICMPPacket.headerLength
    public var headerLength: Int { Self.headerLength }
    public var bufferLength: Int { Self.headerLength + self.payloadLength }

    /// The IP protocol number that carries ICMP to `address`'s family.
    public static func ipProtocol(for address: IPAddress) -> IPProtocol {
        switch address {
        case .v4: .icmp
        case .v6: .icmpv6
        }
    }

    /// How much of an offending datagram an error quotes: RFC 1812 §4.3.2.3 keeps an
    /// ICMPv4 error within 576 bytes, RFC 4443 §2.4(c) an ICMPv6 one within 1280.
    public static func quoteLength(of originalLength: Int, for address: IPAddress) -> Int {
        let limit = switch address {
        case .v4: 576 - IPv4Repr.headerLength - Self.headerLength
        case .v6: 1280 - IPv6Repr.headerLength - Self.headerLength
        }
        return max(0, min(originalLength, limit))
    }

    // MARK: Parsing

    /// Parses a message that travelled from `source` to `destination`.
    ///
    /// Throws `.badChecksum`, or `.unsupported` for types the daemon has no use for
    /// (router and neighbour discovery, MLD, timestamps, redirects).
    public static func parse(
        _ packet: ICMPPacket, source: IPAddress, destination: IPAddress
    ) throws(WireError) -> ICMPRepr {
        guard packet.verifyChecksum(source: source, destination: destination) else { throw .badChecksum }
        let message: ICMPMessage
        switch source {
        case .v4: message = try Self.messageV4(packet)
        case .v6: message = try Self.messageV6(packet)
        }
        return ICMPRepr(message: message, payloadLength: packet.payload.count)
    }

    public static func parse(
        _ bytes: UnsafeRawBufferPointer, source: IPAddress, destination: IPAddress
    ) throws(WireError) -> ICMPRepr {
        try parse(ICMPPacket(validating: bytes), source: source, destination: destination)
    }

    private static func echoFields(_ packet: ICMPPacket) -> (UInt16, UInt16) {
        (UInt16(truncatingIfNeeded: packet.restOfHeader >> 16), UInt16(truncatingIfNeeded: packet.restOfHeader))
    }

    /// RFC 792 types and codes.
    private static func messageV4(_ packet: ICMPPacket) throws(WireError) -> ICMPMessage {
        switch (packet.type, packet.code) {
        case (0, 0):
            let (id, seq) = echoFields(packet)
            return .echoReply(identifier: id, sequence: seq)
        case (8, 0):
            let (id, seq) = echoFields(packet)
            return .echoRequest(identifier: id, sequence: seq)
        case (3, 4):
            // RFC 1191 §4: next-hop MTU in the low 16 bits; 0 from pre-1191 routers.
            return .packetTooBig(mtu: Int(packet.restOfHeader & 0xFFFF))
        case (3, let code):
            return .destinationUnreachable(Self.unreachableV4[code] ?? .other(code))
        case (11, let code):
            return .timeExceeded(code: code)
        case (12, let code):
            return .parameterProblem(code: code, pointer: packet.restOfHeader >> 24)
        default:
            throw .unsupported
        }
    }

    /// RFC 4443 types and codes.
    private static func messageV6(_ packet: ICMPPacket) throws(WireError) -> ICMPMessage {
        switch (packet.type, packet.code) {
        case (128, 0):
            let (id, seq) = echoFields(packet)
            return .echoRequest(identifier: id, sequence: seq)
        case (129, 0):
            let (id, seq) = echoFields(packet)
            return .echoReply(identifier: id, sequence: seq)
        case (1, let code):
            return .destinationUnreachable(Self.unreachableV6[code] ?? .other(code))
        case (2, 0):
            return .packetTooBig(mtu: Int(packet.restOfHeader))
        case (3, let code):
            return .timeExceeded(code: code)
        case (4, let code):
            return .parameterProblem(code: code, pointer: packet.restOfHeader)
        default:
            throw .unsupported
        }
    }

    private static let unreachableV4: [UInt8: ICMPUnreachable] = [
        0: .network, 1: .host, 2: .protocol, 3: .port, 13: .administrativelyProhibited,
    ]
    private static let unreachableV6: [UInt8: ICMPUnreachable] = [
        0: .network, 1: .administrativelyProhibited, 3: .host, 4: .port,
    ]

    // MARK: Emitting

    /// Type, code and bytes 4-7 for `destination`'s family.
    private func fields(v6: Bool) -> (type: UInt8, code: UInt8, rest: UInt32) {
        func echo(_ id: UInt16, _ seq: UInt16) -> UInt32 { UInt32(id) << 16 | UInt32(seq) }
        switch (self.message, v6) {
        case (.echoRequest(let id, let seq), false): return (8, 0, echo(id, seq))
        case (.echoRequest(let id, let seq), true): return (128, 0, echo(id, seq))
        case (.echoReply(let id, let seq), false): return (0, 0, echo(id, seq))
        case (.echoReply(let id, let seq), true): return (129, 0, echo(id, seq))
        case (.packetTooBig(let mtu), false):
            return (3, 4, UInt32(clamping: max(0, min(mtu, 0xFFFF))))
        case (.packetTooBig(let mtu), true):
            return (2, 0, UInt32(clamping: max(0, mtu)))
        case (.destinationUnreachable(.protocol), true):
            // RFC 4443 §3.4: the IPv6 way to say "protocol unreachable"; 6 is the offset of
            // the next-header field in the quoted header.
            return (4, 1, 6)
        case (.destinationUnreachable(let reason), false):
            let code = Self.unreachableV4.first { $0.value == reason }?.key
            if case .other(let raw) = reason { return (3, raw, 0) }
            return (3, code ?? 1, 0)
        case (.destinationUnreachable(let reason), true):
            let code = Self.unreachableV6.first { $0.value == reason }?.key
            if case .other(let raw) = reason { return (1, raw, 0) }
            return (1, code ?? 3, 0)
        case (.timeExceeded(let code), false): return (11, code, 0)
        case (.timeExceeded(let code), true): return (3, code, 0)
        case (.parameterProblem(let code, let pointer), false): return (12, code, (pointer & 0xFF) << 24)
        case (.parameterProblem(let code, let pointer), true): return (4, code, pointer)
        }
    }

    /// Writes the 8-byte header into the start of `header`, its checksum covering
    /// `payload` where it lies (and, for ICMPv6, the pseudo-header).
    ///
    /// - Precondition: `payload.count == payloadLength`.
    public func emit(
        into header: UnsafeMutableRawBufferPointer,
        source: IPAddress, destination: IPAddress,
        payload: UnsafeRawBufferPointer
    ) {
        precondition(payload.count == self.payloadLength, "payload length differs from the repr's")
        precondition(header.count >= Self.headerLength, "header buffer too small")
        typealias F = ICMPPacket.Field
        let h = header.slice(0..<Self.headerLength)
        let isV6: Bool
        if case .v6 = destination { isV6 = true } else { isV6 = false }
        let f = self.fields(v6: isV6)
        h[F.type] = f.type
        h[F.code] = f.code
        h.write(0 as UInt16, at: F.checksum)
        h.write(f.rest, at: F.rest)
        var sum = isV6
            ? Checksum.pseudoHeader(source: source, destination: destination, protocol: .icmpv6,
                                    length: self.bufferLength)
            : Checksum()
        sum.add(UnsafeRawBufferPointer(h))
        sum.add(payload)
        h.write(sum.value, at: F.checksum)
    }

    /// Writes header and payload into `buffer`; the closure fills the payload in place.
    public func emit(
        into buffer: UnsafeMutableRawBufferPointer,
        source: IPAddress, destination: IPAddress,
        writePayload: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        precondition(buffer.count >= self.bufferLength, "message buffer too small")
        let payload = buffer.slice(Self.headerLength..<self.bufferLength)
        writePayload(payload)
        self.emit(into: buffer.slice(0..<Self.headerLength), source: source, destination: destination,
                  payload: UnsafeRawBufferPointer(payload))
    }
}
