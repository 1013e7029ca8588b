/// The Internet checksum: the one's-complement sum of 16-bit big-endian words (RFC 1071).
///
/// A running sum that can be fed in pieces of any length (a header in one buffer, payload
/// in another, a pseudo-header as words), so a segment is checksummed where its bytes lie,
/// never copied together first.
public struct Checksum: Hashable, Sendable {
    /// Unfolded sum; 64 bits so no realistic packet can overflow it between folds.
    private var sum: UInt64 = 0
    /// An odd number of bytes has been added: the next byte is the low half of a word.
    private var odd = false

    public init() {}

    /// Adds bytes that follow everything added so far.
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        // Eight bytes at a time in the machine's own byte order, with end-around carry: the
        // one's-complement sum does not depend on the word size (it folds to the same 16
        // bits) and, up to one final byte swap, not on byte order either (RFC 1071 §2(A),
        // §2(B)). Every payload byte of every TCP segment passes through here, both ways.
        var partial: UInt64 = 0
        var index = 0
        let count = bytes.count
        while index + 8 <= count {
            let (sum, carry) = partial.addingReportingOverflow(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            partial = sum &+ (carry ? 1 : 0)
            index += 8
        }
        if index + 4 <= count {
            let (sum, carry) = partial.addingReportingOverflow(UInt64(bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self)))
            partial = sum &+ (carry ? 1 : 0)
            index += 4
        }
        if index + 2 <= count {
            let (sum, carry) = partial.addingReportingOverflow(UInt64(bytes.loadUnaligned(fromByteOffset: index, as: UInt16.self)))
            partial = sum &+ (carry ? 1 : 0)
            index += 2
        }
        if index < count {
            // The last byte of an odd length, as the first byte of a word padded with zero.
            let (sum, carry) = partial.addingReportingOverflow(UInt64(UInt16(bigEndian: UInt16(bytes[index]) << 8)))
            partial = sum &+ (carry ? 1 : 0)
        }
        // Machine order to network order: a swap on little-endian machines, nothing on big.
        var folded = UInt16(bigEndian: Self.fold(partial))
        // RFC 1071 §2(B): a sum taken from an odd offset is the byte-swap of the aligned one.
        if self.odd { folded = folded.byteSwapped }
        self.sum &+= UInt64(folded)
        if count & 1 == 1 { self.odd.toggle() }
    }

    /// Adds bytes held in an array (tests, small headers).
    public mutating func add(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.add($0) }
    }

    /// Adds one 16-bit word in host order, as if its two big-endian bytes followed.
    public mutating func add(_ word: UInt16) {
        self.sum &+= UInt64(self.odd ? word.byteSwapped : word)
    }

    /// Adds one 32-bit value in host order, as if its four big-endian bytes followed.
    public mutating func add(_ word: UInt32) {
        self.add(UInt16(truncatingIfNeeded: word >> 16))
        self.add(UInt16(truncatingIfNeeded: word))
    }

    /// The one's-complement sum folded to 16 bits, not yet complemented.
    public var sum16: UInt16 { Self.fold(self.sum) }

    /// The value to store in a checksum field: the complement of the sum.
    public var value: UInt16 { ~self.sum16 }

    /// True when the bytes added include their own checksum field and it is right:
    /// the sum of a correct packet is all ones.
    public var isValid: Bool { self.sum16 == 0xFFFF }

    static func fold(_ value: UInt64) -> UInt16 {
        var v = value
        while v > 0xFFFF { v = (v & 0xFFFF) &+ (v >> 16) }
        return UInt16(truncatingIfNeeded: v)
    }

    /// The checksum of `bytes` alone, ready to store.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var c = Checksum()
        c.add(bytes)
        return c.value
    }

    // MARK: Pseudo-headers

    /// A sum started with the pseudo-header that TCP, UDP and ICMPv6 checksums cover.
    ///
    /// IPv4 (RFC 9293 §3.1): source, destination, zero, protocol, 16-bit upper-layer length.
    /// IPv6 (RFC 8200 §8.1): source, destination, 32-bit upper-layer length, three zero
    /// bytes, next header. Both reduce to the same word sum; the layout is picked from
    /// `source`'s family.
    public static func pseudoHeader(
        source: IPAddress, destination: IPAddress, protocol proto: IPProtocol, length: Int
    ) -> Checksum {
        var c = Checksum()
        source.addTo(&c)
        destination.addTo(&c)
        let length32 = UInt32(truncatingIfNeeded: length)
        switch source {
        case .v4:
            c.add(UInt16(proto.rawValue))
            c.add(UInt16(truncatingIfNeeded: length32))
        case .v6:
            c.add(length32)
            c.add(UInt32(proto.rawValue))
        }
        return c
    }

    // MARK: Incremental update (RFC 1624)

    /// The checksum after one 16-bit word it covers changed from `old` to `new`.
    ///
    /// RFC 1624 eqn. 3, `HC' = ~(~HC + ~m + m')`: it agrees with a full recomputation
    /// even where RFC 1141's formula gives 0xFFFF for a true 0x0000 (RFC 1624 §4).
    public static func update(_ checksum: UInt16, replacing old: UInt16, with new: UInt16) -> UInt16 {
        let sum = UInt64(~checksum) &+ UInt64(~old) &+ UInt64(new)
        return ~fold(sum)
    }

    /// The checksum after a 32-bit value it covers (an IPv4 address) changed.
    public static func update(_ checksum: UInt16, replacing old: UInt32, with new: UInt32) -> UInt16 {
        let high = update(checksum, replacing: UInt16(truncatingIfNeeded: old >> 16),
                          with: UInt16(truncatingIfNeeded: new >> 16))
        return update(high, replacing: UInt16(truncatingIfNeeded: old), with: UInt16(truncatingIfNeeded: new))
    }
}
