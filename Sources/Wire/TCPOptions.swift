/// Up to four SACK blocks (RFC 2018 §3), held inline so a segment needs no allocation.
public struct SACKBlocks: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral {
    /// One block: the bytes `left..<right` in sequence space have been received.
    public struct Block: Hashable, Sendable {
        public var left: SeqNumber
        public var right: SeqNumber
        public init(left: SeqNumber, right: SeqNumber) {
            self.left = left
            self.right = right
        }
    }

    /// RFC 2018 §3: at most four blocks fit in 40 option bytes.
    public static let capacity = 4

    private var b0 = Block(left: SeqNumber(0), right: SeqNumber(0))
    private var b1 = Block(left: SeqNumber(0), right: SeqNumber(0))
    private var b2 = Block(left: SeqNumber(0), right: SeqNumber(0))
    private var b3 = Block(left: SeqNumber(0), right: SeqNumber(0))
    public private(set) var count = 0

    public init() {}

    public init(arrayLiteral elements: Block...) {
        for e in elements { self.append(e) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { self.count }

    public subscript(position: Int) -> Block {
        precondition(position >= 0 && position < self.count, "SACK block index out of range")
        switch position {
        case 0: return self.b0
        case 1: return self.b1
        case 2: return self.b2
        default: return self.b3
        }
    }

    /// Appends a block; returns false (and keeps the list) when four are already held.
    @discardableResult
    public mutating func append(_ block: Block) -> Bool {
        switch self.count {
        case 0: self.b0 = block
        case 1: self.b1 = block
        case 2: self.b2 = block
        case 3: self.b3 = block
        default: return false
        }
        self.count += 1
        return true
    }

    public static func == (a: SACKBlocks, b: SACKBlocks) -> Bool { a.elementsEqual(b) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.count)
        for block in self { hasher.combine(block) }
    }
}

/// The TCP timestamps option (RFC 7323 §3).
public struct TCPTimestamp: Hashable, Sendable {
    /// TSval: the sender's clock.
    public var value: UInt32
    /// TSecr: the most recent TSval received from the peer (0 on a SYN).
    public var echoReply: UInt32

    public init(value: UInt32, echoReply: UInt32) {
        self.value = value
        self.echoReply = echoReply
    }
}

/// TCP option kinds (IANA "TCP Option Kind Numbers").
enum TCPOptionKind {
    static let endOfList: UInt8 = 0
    static let noOperation: UInt8 = 1
    static let maxSegmentSize: UInt8 = 2
    static let windowScale: UInt8 = 3
    static let sackPermitted: UInt8 = 4
    static let sack: UInt8 = 5
    static let timestamp: UInt8 = 8
}
