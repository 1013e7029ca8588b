/// A UDP datagram as it lies in memory: a non-owning view (RFC 768).
///
/// `init(validating:)` checks the length field against the buffer and trims to it, so
/// `payload` is exactly the datagram's data.
public struct UDPPacket {
    /// The datagram, exactly `length` bytes.
    public let bytes: UnsafeRawBufferPointer

    enum Field {
        static let sourcePort = 0
        static let destinationPort = 2
        static let length = 4
        static let checksum = 6
    }

    public static let headerLength = 8

    public init(validating bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Self.headerLength else { throw .truncated }
        let length = Int(bytes.readUInt16(at: Field.length))
        guard length >= Self.headerLength else { throw .malformed }
        guard length <= bytes.count else { throw .truncated }
        self.bytes = bytes.slice(0..<length)
    }

    public var sourcePort: UInt16 { self.bytes.readUInt16(at: Field.sourcePort) }
    public var destinationPort: UInt16 { self.bytes.readUInt16(at: Field.destinationPort) }
    public var length: Int { Int(self.bytes.readUInt16(at: Field.length)) }
    public var checksum: UInt16 { self.bytes.readUInt16(at: Field.checksum) }
    public var payload: UnsafeRawBufferPointer { self.bytes.slice(from: Self.headerLength) }

    /// True when the checksum is right, or absent where absence is allowed: RFC 768 lets
    /// IPv4 senders put zero; RFC 8200 §8.1 makes it mandatory over IPv6.
    public func verifyChecksum(source: IPAddress, destination: IPAddress) -> Bool {
        if self.checksum == 0 {
            if case .v4 = source { return true }
            return false
        }
        var sum = Checksum.pseudoHeader(
            source: source, destination: destination, protocol: .udp, length: self.bytes.count)
        sum.add(self.bytes)
        return sum.isValid
    }
}

/// A UDP header as values.
public struct UDPRepr: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var payloadLength: Int

    public init(sourcePort: UInt16, destinationPort: UInt16, payloadLength: Int) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.payloadLength = payloadLength
    }

    public static let headerLength = UDPPacket.headerLength
    public var headerLength: Int { Self.headerLength }
    public var bufferLength: Int { Self.headerLength + self.payloadLength }
    /// The 16-bit length field bounds one datagram.
    public static let maximumPayloadLength = 65_535 - headerLength

    /// Parses a validated datagram, checking its checksum; port 0 is refused as a source
    /// a reply could not reach, and as a destination (RFC 6335 §6: reserved).
    public static func parse(
        _ packet: UDPPacket, source: IPAddress, destination: IPAddress
    ) throws(WireError) -> UDPRepr {
        guard packet.verifyChecksum(source: source, destination: destination) else { throw .badChecksum }
        if packet.sourcePort == 0 || packet.destinationPort == 0 { throw .malformed }
        return UDPRepr(sourcePort: packet.sourcePort, destinationPort: packet.destinationPort,
                       payloadLength: packet.payload.count)
    }

    public static func parse(
        _ bytes: UnsafeRawBufferPointer, source: IPAddress, destination: IPAddress
    ) throws(WireError) -> UDPRepr {
        try parse(UDPPacket(validating: bytes), source: source, destination: destination)
    }

    /// Writes the 8-byte header into the start of `header`, its checksum covering `payload`
    /// where it lies. A computed zero is sent as 0xFFFF (RFC 768: zero means "none").
    ///
    /// - Precondition: `payload.count == payloadLength <= maximumPayloadLength`.
    public func emit(
        into header: UnsafeMutableRawBufferPointer,
        source: IPAddress, destination: IPAddress,
        payload: UnsafeRawBufferPointer
    ) {
        precondition(payload.count == self.payloadLength, "payload length differs from the repr's")
        precondition(self.payloadLength <= Self.maximumPayloadLength, "UDP payload too long")
        precondition(header.count >= Self.headerLength, "header buffer too small")
        typealias F = UDPPacket.Field
        let h = header.slice(0..<Self.headerLength)
        h.write(self.sourcePort, at: F.sourcePort)
        h.write(self.destinationPort, at: F.destinationPort)
        h.write(UInt16(truncatingIfNeeded: self.bufferLength), at: F.length)
        h.write(0 as UInt16, at: F.checksum)
        var sum = Checksum.pseudoHeader(
            source: source, destination: destination, protocol: .udp, length: self.bufferLength)
        sum.add(UnsafeRawBufferPointer(h))
        sum.add(payload)
        let value = sum.value
        h.write(value == 0 ? 0xFFFF : value, at: F.checksum)
    }

    /// Writes header and payload into `buffer` (at least `bufferLength` bytes); the closure
    /// fills the payload in place before the checksum is taken.
    public func emit(
        into buffer: UnsafeMutableRawBufferPointer,
        source: IPAddress, destination: IPAddress,
        writePayload: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        precondition(buffer.count >= self.bufferLength, "datagram buffer too small")
        let payload = buffer.slice(Self.headerLength..<self.bufferLength)
        writePayload(payload)
        self.emit(into: buffer.slice(0..<Self.headerLength), source: source, destination: destination,
                  payload: UnsafeRawBufferPointer(payload))
    }
}
