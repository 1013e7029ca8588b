/// Reads big-endian (network order) fields from a byte buffer, front to back, without ever
/// reading past its end: every read answers `nil` when too few bytes remain, and a failed
/// read does not move the cursor.
///
/// For parsers of untrusted input (packets, AT payloads, DNS): a short buffer becomes an
/// error the caller names (`truncated`), never a trap.
public struct ByteCursor {
    /// The bytes being read.
    public let bytes: UnsafeRawBufferPointer
    /// How many bytes have been read (or skipped) so far.
    public private(set) var offset: Int = 0

    /// A cursor at the first of `bytes`, which must stay valid while it is used.
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Bytes not read yet.
    public var remaining: Int { self.bytes.count - self.offset }
    /// Whether every byte has been read.
    public var isAtEnd: Bool { self.remaining == 0 }

    /// The next byte, without reading it.
    public func peekUInt8() -> UInt8? {
        self.remaining >= 1 ? self.bytes[self.offset] : nil
    }

    /// The next big-endian integer of type `T`.
    public mutating func read<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard self.remaining >= size else { return nil }
        var value: T = 0
        for index in self.offset..<(self.offset + size) {
            value = value << 8 | T(self.bytes[index])
        }
        self.offset += size
        return value
    }

    /// The next byte.
    public mutating func readUInt8() -> UInt8? { self.read(UInt8.self) }
    /// The next big-endian 16-bit value.
    public mutating func readUInt16() -> UInt16? { self.read(UInt16.self) }
    /// The next big-endian 32-bit value.
    public mutating func readUInt32() -> UInt32? { self.read(UInt32.self) }
    /// The next big-endian 64-bit value.
    public mutating func readUInt64() -> UInt64? { self.read(UInt64.self) }

    /// The next `count` bytes in place (no copy); `nil` when fewer remain or `count` < 0.
    public mutating func readBytes(_ count: Int) -> UnsafeRawBufferPointer? {
        guard count >= 0, count <= self.remaining else { return nil }
        let slice = UnsafeRawBufferPointer(rebasing: self.bytes[self.offset..<(self.offset + count)])
        self.offset += count
        return slice
    }

    /// Everything not read yet, in place; the cursor ends at the end.
    public mutating func readRemaining() -> UnsafeRawBufferPointer {
        let slice = UnsafeRawBufferPointer(rebasing: self.bytes[self.offset...])
        self.offset = self.bytes.count
        return slice
    }

    /// Skips `count` bytes; `false` (and no move) when fewer remain or `count` < 0.
    @discardableResult
    public mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, count <= self.remaining else { return false }
        self.offset += count
        return true
    }

    /// Moves to absolute `offset` (e.g. a DNS compression pointer); `false` (and no move)
    /// when it lies outside the buffer. `offset == bytes.count` is the end, allowed.
    @discardableResult
    public mutating func seek(to offset: Int) -> Bool {
        guard offset >= 0, offset <= self.bytes.count else { return false }
        self.offset = offset
        return true
    }
}
