/// An IPv4 header as values, without options: what the daemon parses and emits.
public struct IPv4Repr: Hashable, Sendable {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var `protocol`: IPProtocol
    /// Bytes after the header.
    public var payloadLength: Int
    public var timeToLive: UInt8
    public var typeOfService: UInt8
    public var identification: UInt16
    public var dontFragment: Bool

    public init(
        source: IPv4Address, destination: IPv4Address, protocol proto: IPProtocol,
        payloadLength: Int, timeToLive: UInt8 = 64, typeOfService: UInt8 = 0,
        identification: UInt16 = 0, dontFragment: Bool = true
    ) {
        self.source = source
        self.destination = destination
        self.protocol = proto
        self.payloadLength = payloadLength
        self.timeToLive = timeToLive
        self.typeOfService = typeOfService
        self.identification = identification
        self.dontFragment = dontFragment
    }

    /// Emitted headers carry no options.
    public static let headerLength = 20
    /// The most payload a 16-bit total length allows.
    public static let maximumPayloadLength = 65_535 - headerLength

    public var headerLength: Int { Self.headerLength }
    public var bufferLength: Int { Self.headerLength + self.payloadLength }

    /// Parses a validated packet, checking its header checksum.
    ///
    /// Fragments parse like any datagram: whether to reassemble is the caller's decision
    /// (`packet.isFragment`), taken before the payload is read as TCP or UDP.
    public static func parse(_ packet: IPv4Packet) throws(WireError) -> IPv4Repr {
        guard packet.verifyChecksum() else { throw .badChecksum }
        // RFC 791 §3.1: the reserved flag must be zero.
        guard !packet.reservedFlag else { throw .malformed }
        return IPv4Repr(
            source: packet.source, destination: packet.destination, protocol: packet.protocol,
            payloadLength: packet.payload.count, timeToLive: packet.timeToLive,
            typeOfService: packet.typeOfService, identification: packet.identification,
            dontFragment: packet.dontFragment)
    }

    /// Writes the 20-byte header, checksum included, into the start of `header`.
    ///
    /// - Precondition: `header.count >= 20` and `payloadLength <= maximumPayloadLength`.
    public func emit(into header: UnsafeMutableRawBufferPointer) {
        precondition(header.count >= Self.headerLength, "header buffer too small")
        precondition(self.payloadLength >= 0 && self.payloadLength <= Self.maximumPayloadLength,
                     "IPv4 payload too long")
        typealias F = IPv4Packet.Field
        let h = header.slice(0..<Self.headerLength)
        h[F.versionAndHeaderLength] = 0x45
        h[F.typeOfService] = self.typeOfService
        h.write(UInt16(truncatingIfNeeded: self.bufferLength), at: F.totalLength)
        h.write(self.identification, at: F.identification)
        h.write(self.dontFragment ? 0x4000 as UInt16 : 0, at: F.flagsAndFragmentOffset)
        h[F.timeToLive] = self.timeToLive
        h[F.proto] = self.protocol.rawValue
        h.write(0 as UInt16, at: F.checksum)
        self.source.write(into: h, at: F.source)
        self.destination.write(into: h, at: F.destination)
        h.write(Checksum.of(UnsafeRawBufferPointer(h)), at: F.checksum)
    }
}
