/// An ICMP or ICMPv6 message as it lies in memory: a non-owning view.
///
/// Both families share the layout (RFC 792, RFC 4443 §2.1): type, code, checksum, four
/// bytes whose meaning depends on the type, then data (echo data, or the quoted datagram).
public struct ICMPPacket {
    public let bytes: UnsafeRawBufferPointer

    enum Field {
        static let type = 0
        static let code = 1
        static let checksum = 2
        static let rest = 4
        static let data = 8
    }

    public static let headerLength = 8

    public init(validating bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Self.headerLength else { throw .truncated }
        self.bytes = bytes
    }

    public var type: UInt8 { self.bytes[Field.type] }
    public var code: UInt8 { self.bytes[Field.code] }
    public var checksum: UInt16 { self.bytes.readUInt16(at: Field.checksum) }
    /// Bytes 4-7: identifier and sequence, an MTU, a pointer, or unused.
    public var restOfHeader: UInt32 { self.bytes.readUInt32(at: Field.rest) }
    public var payload: UnsafeRawBufferPointer { self.bytes.slice(from: Field.data) }

    /// ICMPv4 sums the message alone; ICMPv6 adds the pseudo-header (RFC 4443 §2.3).
    public func verifyChecksum(source: IPAddress, destination: IPAddress) -> Bool {
        var sum: Checksum
        switch source {
        case .v4: sum = Checksum()
        case .v6: sum = Checksum.pseudoHeader(source: source, destination: destination,
                                               protocol: .icmpv6, length: self.bytes.count)
        }
        sum.add(self.bytes)
        return sum.isValid
    }
}

/// Why a destination is unreachable, named once for both families.
public enum ICMPUnreachable: Hashable, Sendable {
    /// v4 code 0 "net unreachable"; v6 code 0 "no route to destination".
    case network
    /// v4 code 1 "host unreachable"; v6 code 3 "address unreachable".
    case host
    /// v4 code 2. IPv6 has no such code: it is sent as parameter problem, code 1
    /// "unrecognized next header", pointing at the next-header field (RFC 4443 §3.4).
    case `protocol`
    /// v4 code 3; v6 code 4.
    case port
    /// v4 code 13 "communication administratively prohibited"; v6 code 1.
    case administrativelyProhibited
    /// Any other code, kept as sent.
    case other(UInt8)
}

/// The ICMP messages the daemon reads and writes.
public enum ICMPMessage: Hashable, Sendable {
    case echoRequest(identifier: UInt16, sequence: UInt16)
    case echoReply(identifier: UInt16, sequence: UInt16)
    case destinationUnreachable(ICMPUnreachable)
    /// ICMPv4 "fragmentation needed and DF set" (type 3 code 4, RFC 1191 §4) or ICMPv6
    /// "packet too big" (type 2): the MTU the sender must fit.
    case packetTooBig(mtu: Int)
    case timeExceeded(code: UInt8)
    /// v4 type 12 (pointer is one byte) or v6 type 4.
    case parameterProblem(code: UInt8, pointer: UInt32)

    /// True for the messages that quote the datagram that caused them.
    public var isError: Bool {
        switch self {
        case .echoRequest, .echoReply: false
        default: true
        }
    }
}
