/// A validated IP packet of either version, for code that reads the version nibble first.
public enum IPPacket {
    case v4(IPv4Packet)
    case v6(IPv6Packet)

    public init(validating bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard !bytes.isEmpty else { throw .truncated }
        switch bytes[0] >> 4 {
        case 4: self = .v4(try IPv4Packet(validating: bytes))
        case 6: self = .v6(try IPv6Packet(validating: bytes))
        default: throw .badVersion
        }
    }

    public var source: IPAddress {
        switch self {
        case .v4(let p): .v4(p.source)
        case .v6(let p): .v6(p.source)
        }
    }

    public var destination: IPAddress {
        switch self {
        case .v4(let p): .v4(p.destination)
        case .v6(let p): .v6(p.destination)
        }
    }

    /// The upper-layer protocol (after IPv6 extension headers).
    public var `protocol`: IPProtocol {
        switch self {
        case .v4(let p): p.protocol
        case .v6(let p): p.upperLayerProtocol
        }
    }

    /// The upper-layer bytes.
    public var payload: UnsafeRawBufferPointer {
        switch self {
        case .v4(let p): p.payload
        case .v6(let p): p.payload
        }
    }

    /// True when the packet is a piece of a fragmented datagram and needs reassembly.
    public var isFragment: Bool {
        switch self {
        case .v4(let p): p.isFragment
        case .v6(let p): p.fragment != nil
        }
    }
}

/// An IP header of either version as values: what a flow emits in front of its segments.
public enum IPRepr: Hashable, Sendable {
    case v4(IPv4Repr)
    case v6(IPv6Repr)

    /// A header from `source` to `destination`, which must be of one family.
    ///
    /// - Precondition: both addresses are IPv4 or both IPv6; a flow's two ends always are.
    public init(source: IPAddress, destination: IPAddress, protocol proto: IPProtocol,
                payloadLength: Int, hopLimit: UInt8 = 64) {
        switch (source, destination) {
        case (.v4(let s), .v4(let d)):
            self = .v4(IPv4Repr(source: s, destination: d, protocol: proto,
                                payloadLength: payloadLength, timeToLive: hopLimit))
        case (.v6(let s), .v6(let d)):
            self = .v6(IPv6Repr(source: s, destination: d, nextHeader: proto,
                                payloadLength: payloadLength, hopLimit: hopLimit))
        default:
            preconditionFailure("IP header with mixed address families: \(source) -> \(destination)")
        }
    }

    /// Parses and checks a validated packet (IPv4 header checksum).
    public static func parse(_ packet: IPPacket) throws(WireError) -> IPRepr {
        switch packet {
        case .v4(let p): .v4(try IPv4Repr.parse(p))
        case .v6(let p): .v6(IPv6Repr.parse(p))
        }
    }

    public var source: IPAddress {
        switch self {
        case .v4(let r): .v4(r.source)
        case .v6(let r): .v6(r.source)
        }
    }

    public var destination: IPAddress {
        switch self {
        case .v4(let r): .v4(r.destination)
        case .v6(let r): .v6(r.destination)
        }
    }

    public var `protocol`: IPProtocol {
        switch self {
        case .v4(let r): r.protocol
        case .v6(let r): r.nextHeader
        }
    }

    public var payloadLength: Int {
        switch self {
        case .v4(let r): r.payloadLength
        case .v6(let r): r.payloadLength
        }
    }

    /// 20 or 40: emitted headers carry no options or extension headers.
    public var headerLength: Int {
        switch self {
        case .v4: IPv4Repr.headerLength
        case .v6: IPv6Repr.headerLength
        }
    }

    /// The most upper-layer bytes one packet of this version can hold.
    public var maximumPayloadLength: Int {
        switch self {
        case .v4: IPv4Repr.maximumPayloadLength
        case .v6: IPv6Repr.maximumPayloadLength
        }
    }

    public var bufferLength: Int { self.headerLength + self.payloadLength }

    /// Writes the header into the start of `header` (at least `headerLength` bytes).
    public func emit(into header: UnsafeMutableRawBufferPointer) {
        switch self {
        case .v4(let r): r.emit(into: header)
        case .v6(let r): r.emit(into: header)
        }
    }
}
