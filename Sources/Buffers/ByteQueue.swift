/// A bounded first-in first-out byte buffer over fixed storage: a TCP flow's send buffer
/// (bytes ACKed to the app, waiting for the modem) or receive buffer (bytes from the
/// modem, waiting for the app's window).
///
/// It never grows: `append` takes what fits and says how much, so the owner can advertise
/// exactly `freeCount` as its window. Readers get the bytes in place as one or two spans
/// (two when they wrap around the end of storage), e.g. for one `writev`.
public struct ByteQueue: ~Copyable {
    private let storage: UnsafeMutableRawBufferPointer
    /// Storage index of the oldest byte.
    private var head = 0
    /// Bytes held.
    public private(set) var count = 0

    /// A queue of `capacity` bytes (at least 1), allocated once.
    public init(capacity: Int) {
        self.storage = .allocate(byteCount: Swift.max(1, capacity), alignment: 16)
    }

    deinit { self.storage.deallocate() }

    /// The most bytes it can hold.
    public var capacity: Int { self.storage.count }
    /// Room left.
    public var freeCount: Int { self.capacity - self.count }
    /// Whether no bytes are held.
    public var isEmpty: Bool { self.count == 0 }
    /// Whether no room is left.
    public var isFull: Bool { self.count == self.capacity }

    /// Appends as much of `bytes` as fits and returns how many bytes were taken.
    @discardableResult
    public mutating func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let room = self.writableSpans(max: bytes.count)
        let firstCount = room.first.count
        if firstCount > 0 { room.first.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<firstCount])) }
        let secondCount = room.second.count
        if secondCount > 0 {
            room.second.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[firstCount..<(firstCount + secondCount)]))
        }
        self.count += firstCount + secondCount
        return firstCount + secondCount
    }

    /// Appends as much of `bytes` as fits and returns how many bytes were taken.
    @discardableResult
    public mutating func append(contentsOf bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { self.append($0) }
    }

    /// The free room after the held bytes, at most `max` bytes, as one or two spans to fill
    /// in place (e.g. by `readv`); follow with `commitAppend`.
    public func writableSpans(max: Int = .max) -> MutableByteSpans {
        let wanted = Swift.min(Swift.max(0, max), self.freeCount)
        let tail = self.index(self.count)
        let firstCount = Swift.min(wanted, self.capacity - tail)
        let first = UnsafeMutableRawBufferPointer(rebasing: self.storage[tail..<(tail + firstCount)])
        let second = UnsafeMutableRawBufferPointer(rebasing: self.storage[0..<(wanted - firstCount)])
        return MutableByteSpans(first: first, second: second)
    }

    /// Makes `count` bytes written into `writableSpans()` part of the queue.
    /// - Precondition: `count` is at most `freeCount` (what `writableSpans` offered).
    public mutating func commitAppend(_ count: Int) {
        precondition(count >= 0 && count <= self.freeCount, "commitAppend(\(count)) with \(self.freeCount) free")
        self.count += count
    }

    /// The held bytes from `offset` on, at most `count` of them, in place as one or two
    /// spans; empty when `offset` is at or past the end. A TCP sender reads unacknowledged
    /// data this way to retransmit from an offset.
    public func spans(from offset: Int = 0, count: Int = .max) -> ByteSpans {
        guard offset >= 0, offset < self.count, count > 0 else { return ByteSpans(first: UnsafeRawBufferPointer(start: nil, count: 0)) }
        let wanted = Swift.min(count, self.count - offset)
        let start = self.index(offset)
        let firstCount = Swift.min(wanted, self.capacity - start)
        let first = UnsafeRawBufferPointer(rebasing: self.storage[start..<(start + firstCount)])
        let second = UnsafeRawBufferPointer(rebasing: self.storage[0..<(wanted - firstCount)])
        return ByteSpans(first: first, second: second)
    }

    /// Drops the `count` oldest bytes (they were delivered or acknowledged).
    /// - Precondition: `count` is at most `self.count`.
    public mutating func consume(_ count: Int) {
        precondition(count >= 0 && count <= self.count, "consume(\(count)) of \(self.count) bytes")
        self.head = self.index(count)
        self.count -= count
        // An empty queue restarts at the beginning, so the next spans are more often one.
        if self.count == 0 { self.head = 0 }
    }

    /// Drops every byte.
    public mutating func removeAll() {
        self.head = 0
        self.count = 0
    }

    /// Storage index of the byte `offset` past the head.
    private func index(_ offset: Int) -> Int {
        let raw = self.head + offset
        return raw >= self.capacity ? raw - self.capacity : raw
    }
}
