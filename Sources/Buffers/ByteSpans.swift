/// Up to two pieces of contiguous memory that together hold bytes in order: what a ring
/// gives out when its data wraps around the end of storage.
///
/// A collection of its non-empty pieces, so it can go straight to
/// `FileDescriptor.writev` without being copied together.
public struct ByteSpans: RandomAccessCollection {
    /// The bytes up to the end of storage (or all of them when they do not wrap).
    public let first: UnsafeRawBufferPointer
    /// The rest, from the start of storage; empty when nothing wraps.
    public let second: UnsafeRawBufferPointer

    /// The pieces in order; an empty `first` makes `second` the only piece.
    public init(first: UnsafeRawBufferPointer, second: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)) {
        // Keep "second is empty unless first is not" so that indices stay dense.
        if first.isEmpty {
            self.first = second
            self.second = UnsafeRawBufferPointer(start: nil, count: 0)
        } else {
            self.first = first
            self.second = second
        }
    }

    /// All bytes in both pieces.
    public var byteCount: Int { self.first.count + self.second.count }

    public var startIndex: Int { 0 }
    public var endIndex: Int { (self.first.isEmpty ? 0 : 1) + (self.second.isEmpty ? 0 : 1) }
    public subscript(index: Int) -> UnsafeRawBufferPointer {
        precondition(index >= 0 && index < self.endIndex, "ByteSpans index \(index) of \(self.endIndex)")
        return index == 0 ? self.first : self.second
    }

    /// The byte at `offset` across both pieces, or `nil` past the end.
    public func byte(at offset: Int) -> UInt8? {
        guard offset >= 0 else { return nil }
        if offset < self.first.count { return self.first[offset] }
        let inSecond = offset - self.first.count
        return inSecond < self.second.count ? self.second[inSecond] : nil
    }

    /// A copy of the bytes, for tests and slow paths (logging); never on the hot path.
    public func copyBytes() -> [UInt8] {
        Array(self.first) + Array(self.second)
    }
}

/// Up to two pieces of writable memory to fill in order (e.g. with `readv`).
public struct MutableByteSpans: RandomAccessCollection {
    /// The room up to the end of storage.
    public let first: UnsafeMutableRawBufferPointer
    /// The room from the start of storage; empty when there is none.
    public let second: UnsafeMutableRawBufferPointer

    /// The pieces in order; an empty `first` makes `second` the only piece.
    public init(first: UnsafeMutableRawBufferPointer, second: UnsafeMutableRawBufferPointer = UnsafeMutableRawBufferPointer(start: nil, count: 0)) {
        if first.isEmpty {
            self.first = second
            self.second = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        } else {
            self.first = first
            self.second = second
        }
    }

    /// All bytes of room in both pieces.
    public var byteCount: Int { self.first.count + self.second.count }

    public var startIndex: Int { 0 }
    public var endIndex: Int { (self.first.isEmpty ? 0 : 1) + (self.second.isEmpty ? 0 : 1) }
    public subscript(index: Int) -> UnsafeMutableRawBufferPointer {
        precondition(index >= 0 && index < self.endIndex, "MutableByteSpans index \(index) of \(self.endIndex)")
        return index == 0 ? self.first : self.second
    }
}
