/// Why the packet layer refused a packet.
///
/// One enum for the whole layer: every case is a drop reason the stats count, so a new
/// way of failing needs a new case here, not a string.
public enum WireError: Error, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Fewer bytes than a header, a length field or an option says there are.
    case truncated
    /// A field holds a value the protocol forbids (a header length below the minimum,
    /// an option of the wrong size, a DNS compression loop).
    case malformed
    /// The checksum does not match the bytes.
    case badChecksum
    /// The IP version nibble is neither 4 nor 6 (or not the one this parser reads).
    case badVersion
    /// Well formed, but something this daemon does not carry (a jumbogram, an ICMP type
    /// it has no use for, a DNS opcode other than QUERY).
    case unsupported
    /// A fragment the reassembler refused: a per-datagram or total limit was reached.
    case fragmentLimit
    /// A fragment whose data overlaps or contradicts fragments already held (RFC 5722:
    /// the whole datagram is dropped).
    case fragmentOverlap
    /// A partly reassembled datagram expired before its last fragment arrived.
    case fragmentTimeout

    public var description: String {
        switch self {
        case .truncated: "truncated"
        case .malformed: "malformed"
        case .badChecksum: "bad checksum"
        case .badVersion: "bad version"
        case .unsupported: "unsupported"
        case .fragmentLimit: "fragment limit"
        case .fragmentOverlap: "fragment overlap"
        case .fragmentTimeout: "fragment timeout"
        }
    }
}
