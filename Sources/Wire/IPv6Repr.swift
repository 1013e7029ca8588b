/// An IPv6 header as values: the fixed header only, since the daemon emits no extension
/// headers, and the upper-layer protocol found after any it parsed.
public struct IPv6Repr: Hashable, Sendable {
    public var source: IPv6Address
    public var destination: IPv6Address
    /// The upper-layer protocol (after any extension headers on parse).
    public var nextHeader: IPProtocol
    /// Upper-layer bytes.
    public var payloadLength: Int
    public var hopLimit: UInt8
    public var trafficClass: UInt8
    public var flowLabel: UInt32

    public init(
        source: IPv6Address, destination: IPv6Address, nextHeader: IPProtocol,
        payloadLength: Int, hopLimit: UInt8 = 64, trafficClass: UInt8 = 0, flowLabel: UInt32 = 0
    ) {
        self.source = source
        self.destination = destination
        self.nextHeader = nextHeader
        self.payloadLength = payloadLength
        self.hopLimit = hopLimit
        self.trafficClass = trafficClass
        self.flowLabel = flowLabel
    }

    public static let headerLength = 40
    public static let maximumPayloadLength = 65_535

    public var headerLength: Int { Self.headerLength }
    public var bufferLength: Int { Self.headerLength + self.payloadLength }

    /// Values of a validated packet; there is no header checksum in IPv6.
    public static func parse(_ packet: IPv6Packet) -> IPv6Repr {
        IPv6Repr(
            source: packet.source, destination: packet.destination,
            nextHeader: packet.upperLayerProtocol, payloadLength: packet.payload.count,
            hopLimit: packet.hopLimit, trafficClass: packet.trafficClass, flowLabel: packet.flowLabel)
    }

    /// Writes the 40-byte fixed header into the start of `header`.
    ///
    /// - Precondition: `header.count >= 40` and `payloadLength <= 65535`.
    public func emit(into header: UnsafeMutableRawBufferPointer) {
        precondition(header.count >= Self.headerLength, "header buffer too small")
        precondition(self.payloadLength >= 0 && self.payloadLength <= Self.maximumPayloadLength,
                     "IPv6 payload too long")
        typealias F = IPv6Packet.Field
        let h = header.slice(0..<Self.headerLength)
        let first = 6 << 28 | UInt32(self.trafficClass) << 20 | (self.flowLabel & 0x000F_FFFF)
        h.write(first, at: F.versionClassLabel)
        h.write(UInt16(truncatingIfNeeded: self.payloadLength), at: F.payloadLength)
        h[F.nextHeader] = self.nextHeader.rawValue
        h[F.hopLimit] = self.hopLimit
        self.source.write(into: h, at: F.source)
        self.destination.write(into: h, at: F.destination)
    }
}
