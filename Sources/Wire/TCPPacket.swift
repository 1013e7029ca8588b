/// A TCP segment as it lies in memory: a non-owning view that reads fields in place.
///
/// `init(validating:)` checks every length the accessors rely on, so no accessor can read
/// outside `bytes` afterwards, whatever the bytes were. The checksum is not checked here:
/// it needs the IP addresses; see `verifyChecksum(source:destination:)` and `TCPRepr.parse`.
public struct TCPPacket {
    /// The whole segment (header and payload), as carried by the IP layer.
    public let bytes: UnsafeRawBufferPointer

    // RFC 9293 §3.1, Figure 1.
    enum Field {
        static let sourcePort = 0
        static let destinationPort = 2
        static let sequenceNumber = 4
        static let ackNumber = 8
        static let dataOffset = 12
        static let flags = 13
        static let window = 14
        static let checksum = 16
        static let urgentPointer = 18
        static let options = 20
    }

    /// The fixed header, without options.
    public static let minimumHeaderLength = 20
    /// Data offset is 4 bits of 32-bit words.
    public static let maximumHeaderLength = 60

    public init(validating bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Self.minimumHeaderLength else { throw .truncated }
        let headerLength = Int(bytes[Field.dataOffset] >> 4) * 4
        guard headerLength >= Self.minimumHeaderLength else { throw .malformed }
        guard headerLength <= bytes.count else { throw .truncated }
        self.bytes = bytes
    }

    public var sourcePort: UInt16 { self.bytes.readUInt16(at: Field.sourcePort) }
    public var destinationPort: UInt16 { self.bytes.readUInt16(at: Field.destinationPort) }
    public var sequenceNumber: SeqNumber { SeqNumber(self.bytes.readUInt32(at: Field.sequenceNumber)) }
    /// The acknowledgment field, meaningful only when `flags` has ACK.
    public var ackNumber: SeqNumber { SeqNumber(self.bytes.readUInt32(at: Field.ackNumber)) }
    public var headerLength: Int { Int(self.bytes[Field.dataOffset] >> 4) * 4 }
    public var flags: TCPFlags { TCPFlags(rawValue: self.bytes[Field.flags]) }
    /// The window field as sent, before any window scale is applied.
    public var windowLength: UInt16 { self.bytes.readUInt16(at: Field.window) }
    public var checksum: UInt16 { self.bytes.readUInt16(at: Field.checksum) }
    public var urgentPointer: UInt16 { self.bytes.readUInt16(at: Field.urgentPointer) }
    /// The option bytes, padding included.
    public var options: UnsafeRawBufferPointer { self.bytes.slice(Field.options..<self.headerLength) }
    public var payload: UnsafeRawBufferPointer { self.bytes.slice(from: self.headerLength) }

    /// True when the checksum covers the pseudo-header and the whole segment correctly.
    public func verifyChecksum(source: IPAddress, destination: IPAddress) -> Bool {
        var sum = Checksum.pseudoHeader(
            source: source, destination: destination, protocol: .tcp, length: self.bytes.count)
        sum.add(self.bytes)
        return sum.isValid
    }
}
