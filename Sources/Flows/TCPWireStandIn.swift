// TEMPORARY: a stand-in for the Wire types agreed with the wire helper (SeqNumber, TCPFlags,
// TCPRepr, IPAddress), so the TCP endpoint can be written and tested before Wire lands on
// main. It has only what the endpoint uses, in the agreed shape, and is deleted when Wire
// lands (the endpoint then picks the real types up through `import Wire`).

/// A TCP sequence number: arithmetic modulo 2^32 (RFC 9293 §3.4).
public struct SeqNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static func + (a: SeqNumber, n: Int) -> SeqNumber {
        SeqNumber(rawValue: a.rawValue &+ UInt32(truncatingIfNeeded: n))
    }

    public static func - (a: SeqNumber, n: Int) -> SeqNumber {
        SeqNumber(rawValue: a.rawValue &- UInt32(truncatingIfNeeded: n))
    }

    /// The signed distance from `b` to `a`.
    public static func - (a: SeqNumber, b: SeqNumber) -> Int {
        Int(Int32(bitPattern: a.rawValue &- b.rawValue))
    }

    public static func < (a: SeqNumber, b: SeqNumber) -> Bool {
        Int32(bitPattern: a.rawValue &- b.rawValue) < 0
    }

    public var description: String { String(rawValue) }
}

/// The TCP control bits other than ACK (ACK is `TCPRepr.ackNumber != nil`).
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
}

/// The timestamps option (RFC 7323 §3).
public struct TCPTimestamp: Hashable, Sendable {
    public var value: UInt32
    public var echoReply: UInt32
    public init(value: UInt32, echoReply: UInt32) {
        self.value = value
        self.echoReply = echoReply
    }
}

/// Up to four SACK blocks (RFC 2018 §3).
public struct SACKBlocks: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral {
    public struct Block: Hashable, Sendable {
        public var left: SeqNumber
        public var right: SeqNumber
        public init(left: SeqNumber, right: SeqNumber) {
            self.left = left
            self.right = right
        }
    }

    public static let capacity = 4
    private var blocks: [Block] = []

    public init() {}
    public init(arrayLiteral elements: Block...) {
        for e in elements { self.append(e) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { blocks.count }
    public subscript(position: Int) -> Block { blocks[position] }

    @discardableResult
    public mutating func append(_ block: Block) -> Bool {
        guard blocks.count < Self.capacity else { return false }
        blocks.append(block)
        return true
    }
}

/// A TCP header in owned form.
public struct TCPRepr: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: SeqNumber
    /// Non-nil iff the ACK bit is set.
    public var ackNumber: SeqNumber?
    public var flags: TCPFlags
    /// The raw window field, not yet scaled.
    public var windowLength: UInt16
    public var maxSegmentSize: UInt16?
    public var windowScale: UInt8?
    public var sackPermitted: Bool
    public var sackRanges: SACKBlocks
    public var timestamp: TCPTimestamp?
    public var payloadLength: Int

    public init(
        sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: SeqNumber,
        ackNumber: SeqNumber?, flags: TCPFlags, windowLength: UInt16,
        maxSegmentSize: UInt16? = nil, windowScale: UInt8? = nil, sackPermitted: Bool = false,
        sackRanges: SACKBlocks = [], timestamp: TCPTimestamp? = nil, payloadLength: Int = 0
    ) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.ackNumber = ackNumber
        self.flags = flags
        self.windowLength = windowLength
        self.maxSegmentSize = maxSegmentSize
        self.windowScale = windowScale
        self.sackPermitted = sackPermitted
        self.sackRanges = sackRanges
        self.timestamp = timestamp
        self.payloadLength = payloadLength
    }
}

/// An IPv4 or IPv6 address.
public enum IPAddress: Hashable, Sendable {
    case v4(IPv4Address)
    case v6(IPv6Address)
}

public struct IPv4Address: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }
}

public struct IPv6Address: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}
