/// A TCP sequence number: 32 bits that wrap (RFC 9293 §3.4).
///
/// Arithmetic wraps and comparison is by signed distance, so `a < b` means "b is ahead
/// of a by less than 2^31", which is what every window check in RFC 9293 means.
/// Comparing numbers more than 2^31 apart is meaningless, as it is in TCP itself.
public struct SeqNumber: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible {
    public var rawValue: UInt32

    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// `a` advanced by `n` bytes of sequence space (`n` may be negative).
    @inlinable public static func + (a: SeqNumber, n: Int) -> SeqNumber {
        SeqNumber(rawValue: a.rawValue &+ UInt32(truncatingIfNeeded: n))
    }

    @inlinable public static func - (a: SeqNumber, n: Int) -> SeqNumber {
        SeqNumber(rawValue: a.rawValue &- UInt32(truncatingIfNeeded: n))
    }

    @inlinable public static func += (a: inout SeqNumber, n: Int) { a = a + n }

    /// The signed distance from `b` to `a`: positive when `a` is ahead.
    @inlinable public static func - (a: SeqNumber, b: SeqNumber) -> Int {
        Int(Int32(bitPattern: a.rawValue &- b.rawValue))
    }

    @inlinable public static func < (a: SeqNumber, b: SeqNumber) -> Bool {
        Int32(bitPattern: a.rawValue &- b.rawValue) < 0
    }

    /// The later of two numbers in sequence space.
    @inlinable public static func max(_ a: SeqNumber, _ b: SeqNumber) -> SeqNumber { a < b ? b : a }
    /// The earlier of two numbers in sequence space.
    @inlinable public static func min(_ a: SeqNumber, _ b: SeqNumber) -> SeqNumber { a < b ? a : b }

    public var description: String { String(self.rawValue) }
}
