/// An IPv6 packet as it lies in memory: a non-owning view (RFC 8200 §3).
///
/// `init(validating:)` checks the fixed header and walks the extension headers (RFC 8200
/// §4: hop-by-hop, routing, fragment, destination options, and AH by its own length rule),
/// so `upperLayerProtocol` and `payload` are the TCP/UDP/ICMPv6 part however many
/// extension headers came before it. A fragment header is remembered in `fragment`.
public struct IPv6Packet {
    /// The packet, exactly 40 bytes plus its payload length.
    public let bytes: UnsafeRawBufferPointer
    /// The protocol after the last extension header.
    public let upperLayerProtocol: IPProtocol
    /// Where the upper-layer header starts.
    public let upperLayerOffset: Int
    /// The fragment header, when the packet is a fragment.
    public let fragment: IPv6FragmentHeader?

    enum Field {
        static let versionClassLabel = 0
        static let payloadLength = 4
        static let nextHeader = 6
        static let hopLimit = 7
        static let source = 8
        static let destination = 24
    }

    public static let headerLength = 40
    /// A bound on extension headers walked: real packets carry two or three, and the bound
    /// keeps the walk short even for a payload made of nothing but 8-byte headers.
    public static let maximumExtensionHeaders = 16

    public init(validating bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Self.headerLength else { throw .truncated }
        guard bytes[0] >> 4 == 6 else { throw .badVersion }
        let payloadLength = Int(bytes.readUInt16(at: Field.payloadLength))
        // A zero payload length announces a jumbogram (RFC 2675), which a TUN never carries.
        if payloadLength == 0, bytes[Field.nextHeader] == IPProtocol.hopByHop.rawValue {
            throw .unsupported
        }
        guard Self.headerLength + payloadLength <= bytes.count else { throw .truncated }
        let packet = bytes.slice(0..<(Self.headerLength + payloadLength))

        var next = IPProtocol(rawValue: packet[Field.nextHeader])
        var offset = Self.headerLength
        var fragment: IPv6FragmentHeader?
        var walked = 0
        // Where the next-header byte naming the current header lives (reassembly rewrites it).
        var link = Field.nextHeader
        walk: while true {
            switch next {
            case .hopByHop, .ipv6Routing, .ipv6DestinationOptions, .authenticationHeader, .ipv6Fragment:
                // RFC 8200 §4.3: hop-by-hop may only come first.
                if next == .hopByHop, offset != Self.headerLength { throw .malformed }
                walked += 1
                guard walked <= Self.maximumExtensionHeaders else { throw .unsupported }
                guard offset + 8 <= packet.count else { throw .truncated }
                let length: Int
                switch next {
                case .ipv6Fragment:
                    // RFC 8200 §4.5: fixed 8 bytes; a second fragment header is nonsense.
                    guard fragment == nil else { throw .malformed }
                    let word = packet.readUInt16(at: offset + 2)
                    let header = IPv6FragmentHeader(
                        offset: Int(word >> 3) * 8, moreFragments: word & 1 != 0,
                        identification: packet.readUInt32(at: offset + 4),
                        nextHeader: IPProtocol(rawValue: packet[offset]),
                        headerOffset: offset, linkOffset: link)
                    // RFC 6946: an atomic fragment (offset 0, no more) is a whole packet.
                    if !header.isAtomic { fragment = header }
                    length = 8
                case .authenticationHeader:
                    // RFC 4302 §2.2: AH length is in 4-byte units, minus 2.
                    length = (Int(packet[offset + 1]) + 2) * 4
                default:
                    // RFC 8200 §4.3-4.6: 8-byte units, not counting the first 8.
                    length = (Int(packet[offset + 1]) + 1) * 8
                }
                guard offset + length <= packet.count else { throw .truncated }
                next = IPProtocol(rawValue: packet[offset])
                link = offset
                offset += length
                // Later fragments carry no upper-layer header: stop at the fragment header.
                if let f = fragment, f.offset != 0 { break walk }
            default:
                break walk
            }
        }
        self.bytes = packet
        self.upperLayerProtocol = next
        self.upperLayerOffset = offset
        self.fragment = fragment
    }

    public var trafficClass: UInt8 {
        UInt8(truncatingIfNeeded: self.bytes.readUInt16(at: Field.versionClassLabel) >> 4)
    }
    public var flowLabel: UInt32 { self.bytes.readUInt32(at: Field.versionClassLabel) & 0x000F_FFFF }
    /// The payload length field: extension headers and upper layer together.
    public var payloadLength: Int { Int(self.bytes.readUInt16(at: Field.payloadLength)) }
    /// The next-header field of the fixed header (the first extension header, if any).
    public var nextHeader: IPProtocol { IPProtocol(rawValue: self.bytes[Field.nextHeader]) }
    public var hopLimit: UInt8 { self.bytes[Field.hopLimit] }
    public var source: IPv6Address { IPv6Address(reading: self.bytes, at: Field.source) }
    public var destination: IPv6Address { IPv6Address(reading: self.bytes, at: Field.destination) }
    /// The fixed header and every extension header walked.
    public var headers: UnsafeRawBufferPointer { self.bytes.slice(0..<self.upperLayerOffset) }
    /// The upper-layer part (for a non-first fragment: its fragment data).
    public var payload: UnsafeRawBufferPointer { self.bytes.slice(from: self.upperLayerOffset) }
}

/// What an IPv6 fragment header says (RFC 8200 §4.5).
public struct IPv6FragmentHeader: Hashable, Sendable {
    /// Where this fragment's data starts in the fragmentable part, in bytes.
    public var offset: Int
    public var moreFragments: Bool
    public var identification: UInt32
    /// The header that follows in the reassembled packet.
    public var nextHeader: IPProtocol
    /// Where the fragment header itself starts in the packet; the fragment's data starts
    /// 8 bytes later, and everything before it is the unfragmentable part.
    public var headerOffset: Int
    /// Where the next-header byte that names the fragment header lives.
    public var linkOffset: Int

    public init(offset: Int, moreFragments: Bool, identification: UInt32,
                nextHeader: IPProtocol, headerOffset: Int, linkOffset: Int) {
        self.offset = offset
        self.moreFragments = moreFragments
        self.identification = identification
        self.nextHeader = nextHeader
        self.headerOffset = headerOffset
        self.linkOffset = linkOffset
    }

    /// The fragment's data: everything after the fragment header.
    public var dataOffset: Int { self.headerOffset + 8 }

    public var isAtomic: Bool { self.offset == 0 && !self.moreFragments }
}
