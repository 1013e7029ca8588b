/// An IPv4 datagram as it lies in memory: a non-owning view (RFC 791 §3.1).
///
/// `init(validating:)` checks version, header length and total length; `bytes` is then
/// trimmed to the total length (link padding dropped), and no accessor can trap.
/// Options are kept in `options` and otherwise skipped: the daemon acts on none of them.
public struct IPv4Packet {
    /// The datagram, exactly `totalLength` bytes.
    public let bytes: UnsafeRawBufferPointer

    enum Field {
        static let versionAndHeaderLength = 0
        static let typeOfService = 1
        static let totalLength = 2
        static let identification = 4
        static let flagsAndFragmentOffset = 6
        static let timeToLive = 8
        static let proto = 9
        static let checksum = 10
        static let source = 12
        static let destination = 16
        static let options = 20
    }

    public static let minimumHeaderLength = 20

    public init(validating bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Self.minimumHeaderLength else { throw .truncated }
        guard bytes[0] >> 4 == 4 else { throw .badVersion }
        let headerLength = Int(bytes[0] & 0x0F) * 4
        guard headerLength >= Self.minimumHeaderLength else { throw .malformed }
        let totalLength = Int(bytes.readUInt16(at: Field.totalLength))
        guard totalLength >= headerLength else { throw .malformed }
        guard totalLength <= bytes.count else { throw .truncated }
        self.bytes = bytes.slice(0..<totalLength)
    }

    public var headerLength: Int { Int(self.bytes[0] & 0x0F) * 4 }
    /// DSCP and ECN, the old type-of-service byte.
    public var typeOfService: UInt8 { self.bytes[Field.typeOfService] }
    public var totalLength: Int { Int(self.bytes.readUInt16(at: Field.totalLength)) }
    public var identification: UInt16 { self.bytes.readUInt16(at: Field.identification) }
    private var flagsAndOffset: UInt16 { self.bytes.readUInt16(at: Field.flagsAndFragmentOffset) }
    /// The reserved "evil" bit (RFC 3514 jokes aside, it must be zero).
    public var reservedFlag: Bool { self.flagsAndOffset & 0x8000 != 0 }
    public var dontFragment: Bool { self.flagsAndOffset & 0x4000 != 0 }
    public var moreFragments: Bool { self.flagsAndOffset & 0x2000 != 0 }
    /// Where this fragment's data starts in the original payload, in bytes.
    public var fragmentOffset: Int { Int(self.flagsAndOffset & 0x1FFF) * 8 }
    /// True for any piece of a fragmented datagram, the first included.
    public var isFragment: Bool { self.moreFragments || self.fragmentOffset != 0 }
    public var timeToLive: UInt8 { self.bytes[Field.timeToLive] }
    public var `protocol`: IPProtocol { IPProtocol(rawValue: self.bytes[Field.proto]) }
    public var headerChecksum: UInt16 { self.bytes.readUInt16(at: Field.checksum) }
    public var source: IPv4Address { IPv4Address(reading: self.bytes, at: Field.source) }
    public var destination: IPv4Address { IPv4Address(reading: self.bytes, at: Field.destination) }
    public var options: UnsafeRawBufferPointer { self.bytes.slice(Field.options..<self.headerLength) }
    public var header: UnsafeRawBufferPointer { self.bytes.slice(0..<self.headerLength) }
    public var payload: UnsafeRawBufferPointer { self.bytes.slice(from: self.headerLength) }

    /// RFC 791: the checksum covers the header only, options included.
    public func verifyChecksum() -> Bool {
        var sum = Checksum()
        sum.add(self.header)
        return sum.isValid
    }
}
