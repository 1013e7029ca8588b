/// A place in a `ByteRing`'s stream of bytes: an absolute offset that only grows, so a
/// packet's position stays valid (and comparable) however often the ring wraps.
public struct RingPosition: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Bytes since the ring was created, including bytes skipped at the end of storage.
    public let offset: Int

    public init(offset: Int) { self.offset = offset }

    public static func < (a: RingPosition, b: RingPosition) -> Bool { a.offset < b.offset }

    /// The position `count` bytes further on.
    public func advanced(by count: Int) -> RingPosition { RingPosition(offset: self.offset + count) }

    public var description: String { "@\(self.offset)" }
}

/// The zero-copy byte ring of the hot path (cf. hev-socks5-tunnel's read_finish /
/// read_release): the TUN or serial fd reads straight into it, parsers look at the bytes
/// where they landed, and storage is reused only once nobody refers to it any more.
///
/// Three cursors divide the stream:
///
/// ```
///  released │ consumed, still held │ committed, unread │ free
///           ▲ releasePosition      ▲ readPosition      ▲ writePosition
/// ```
///
/// - `reserve(max:min:)` hands out free room, contiguous (one `read()` fills it);
///   `commit(_:)` makes the bytes read part of the stream and tells where they start.
/// - `peek()` / `readableSpans()` show the committed bytes not yet consumed; `consume(_:)`
///   moves the read cursor past them. Consumed bytes stay valid (`spans(at:count:)`): a TCP
///   segment the app sent is consumed from the TUN ring at once, but its payload is still
///   needed until the modem accepts it.
/// - `release(upTo:)` gives storage back, and only then can it be reused.
///
/// Capacity is fixed; `reserve` answers `nil` when the room is not there, and the caller
/// counts a drop. When the room at the end of storage is too small for a contiguous
/// reservation of `min` bytes, those end bytes are skipped (they count in positions but hold
/// no data) and the reservation starts at the beginning of storage.
public struct ByteRing: ~Copyable {
    private let storage: UnsafeMutableRawBufferPointer
    private var released = 0
    /// Never equal to `hole.start`: `consume` moves it over the hole.
    private var read = 0
    private var written = 0
    /// Skipped end-of-storage bytes `[start, end)` not yet passed by `released`; `end` is a
    /// multiple of capacity. At most one such hole exists: to create another, `written` must
    /// come round again, which needs `released` past this one.
    private var hole: (start: Int, end: Int)? = nil
    /// Where the outstanding reservation starts (maybe past a skip), until `commit`.
    private var reservation: (start: Int, count: Int)? = nil

    /// A ring of `capacity` bytes (at least 1), allocated once and 16-byte aligned.
    public init(capacity: Int) {
        self.storage = .allocate(byteCount: Swift.max(1, capacity), alignment: 16)
    }

    deinit { self.storage.deallocate() }

    /// Total storage.
    public var capacity: Int { self.storage.count }
    /// The oldest byte still held.
    public var releasePosition: RingPosition { RingPosition(offset: self.released) }
    /// The first committed byte not consumed.
    public var readPosition: RingPosition { RingPosition(offset: self.read) }
    /// Where the next committed byte will be.
    public var writePosition: RingPosition { RingPosition(offset: self.written) }
    /// Committed bytes not yet consumed.
    public var unconsumedCount: Int { self.dataBytes(from: self.read, to: self.written) }
    /// Consumed bytes not yet released.
    public var heldCount: Int { self.dataBytes(from: self.released, to: self.read) }
    /// Bytes of storage not in use (some may be unusable for a contiguous reservation).
    public var freeCount: Int { self.capacity - (self.written - self.released) }
    /// Whether nothing is held at all: every byte was consumed and released.
    public var isEmpty: Bool { self.released == self.written }

    // MARK: writing

    /// Contiguous free room of at least `min` and at most `max` bytes, to read into
    /// directly; `nil` when the ring has no such room (a drop). `min` defaults to `max`:
    /// a TUN read must have room for a whole packet, or the kernel truncates it. A stream
    /// such as the serial line passes `min: 1`.
    ///
    /// Follow with `commit(_:)`; reserving again replaces an uncommitted reservation.
    public mutating func reserve(max: Int, min: Int? = nil) -> UnsafeMutableRawBufferPointer? {
        let minimum = Swift.max(1, min ?? max)
        guard max >= minimum, minimum <= self.capacity else { return nil }
        self.reservation = nil
        let index = self.written % self.capacity
        let contiguous = Swift.min(self.freeCount, self.capacity - index)
        if contiguous >= minimum {
            let count = Swift.min(contiguous, max)
            self.reservation = (self.written, count)
            return UnsafeMutableRawBufferPointer(rebasing: self.storage[index..<(index + count)])
        }
        // Skip to the start of storage. (At index 0 there is no end to skip: full.) An empty
        // ring frees everything by doing so.
        guard index != 0 else { return nil }
        let start = self.written + (self.capacity - index)
        let available = self.isEmpty ? self.capacity : self.capacity - (start - self.released)
        guard available >= minimum else { return nil }
        let count = Swift.min(available, max)
        self.reservation = (start, count)
        return UnsafeMutableRawBufferPointer(rebasing: self.storage[0..<count])
    }

    /// Adds the first `count` bytes of the last reservation to the stream.
    /// - Returns: where they start, for later `spans(at:count:)` and `release(upTo:)`.
    /// - Precondition: a reservation is outstanding and `count` is at most its size.
    @discardableResult
    public mutating func commit(_ count: Int) -> RingPosition {
        guard let reservation = self.reservation else { preconditionFailure("ByteRing.commit without reserve") }
        precondition(count >= 0 && count <= reservation.count, "commit(\(count)) of a \(reservation.count)-byte reservation")
        self.reservation = nil
        // Nothing read (EAGAIN, EOF): the ring stays as it was, no end bytes wasted.
        guard count > 0 else { return RingPosition(offset: self.written) }
        if reservation.start != self.written {
            if self.isEmpty {
                // Nothing refers to the ring: move every cursor, no hole needed.
                self.released = reservation.start
                self.read = reservation.start
                self.hole = nil
            } else {
                // A skip needs `released` past the previous lap boundary, where any older
                // hole ended, and passing it cleared that hole.
                assert(self.hole == nil, "ByteRing: a second hole before the first was released")
                self.hole = (self.written, reservation.start)
                // All data consumed (but held): the read cursor stood where the hole begins.
                if self.read == self.written { self.read = reservation.start }
            }
        }
        self.written = reservation.start + count
        return RingPosition(offset: reservation.start)
    }

    // MARK: reading

    /// The committed, unconsumed bytes that are contiguous from the read cursor: all of
    /// them, or those up to the end of storage (see `readableSpans()` for the rest).
    public func peek() -> UnsafeRawBufferPointer {
        self.readableSpans().first
    }

    /// All committed, unconsumed bytes in place, as one or two spans.
    public func readableSpans() -> ByteSpans {
        self.spans(at: self.readPosition, count: self.unconsumedCount)
    }

    /// Moves the read cursor past `count` data bytes (skipped end bytes do not count).
    /// The bytes stay valid until released.
    /// - Precondition: `count` is at most `unconsumedCount`.
    public mutating func consume(_ count: Int) {
        precondition(count >= 0 && count <= self.unconsumedCount, "consume(\(count)) of \(self.unconsumedCount) bytes")
        self.read = self.position(after: self.read, dataBytes: count)
        // Standing at the skipped end bytes means standing at the data after them.
        if let hole = self.hole, self.read == hole.start { self.read = hole.end }
    }

    /// The `count` data bytes from `position` in place, as one or two spans; for bytes
    /// between `releasePosition` and `writePosition` (consumed or not).
    /// - Precondition: the bytes are held (not released, committed).
    public func spans(at position: RingPosition, count: Int) -> ByteSpans {
        var start = position.offset
        if let hole = self.hole, start == hole.start { start = hole.end }
        precondition(count >= 0 && start >= self.released, "spans(at: \(position)) before release position @\(self.released)")
        let end = self.position(after: start, dataBytes: count)
        precondition(end <= self.written, "spans(at: \(position), count: \(count)) past write position @\(self.written)")
        guard count > 0 else { return ByteSpans(first: UnsafeRawBufferPointer(start: nil, count: 0)) }
        let index = start % self.capacity
        var firstCount = Swift.min(count, self.capacity - index)
        if let hole = self.hole, start < hole.start { firstCount = Swift.min(firstCount, hole.start - start) }
        let first = UnsafeRawBufferPointer(rebasing: self.storage[index..<(index + firstCount)])
        let second = UnsafeRawBufferPointer(rebasing: self.storage[0..<(count - firstCount)])
        return ByteSpans(first: first, second: second)
    }

    // MARK: releasing

    /// Gives storage before `position` back for reuse. Positions at or before
    /// `releasePosition` change nothing, so owners may release in any order they like as
    /// long as each passes the oldest position it still needs.
    /// - Precondition: `position` is not past `readPosition` (unconsumed bytes cannot go).
    public mutating func release(upTo position: RingPosition) {
        var target = position.offset
        guard target > self.released else { return }
        if let hole = self.hole, target == hole.start { target = hole.end }
        precondition(target <= self.read, "release(upTo: \(position)) past read position @\(self.read)")
        self.released = target
        if let hole = self.hole, self.released >= hole.start {
            self.released = Swift.max(self.released, hole.end)
            self.hole = nil
        }
    }

    /// Consumes and releases everything (e.g. a framer resynchronising after garbage).
    public mutating func removeAll() {
        self.released = self.written
        self.read = self.written
        self.hole = nil
        self.reservation = nil
    }

    // MARK: positions

    /// Data bytes in `[from, to)`, not counting the hole.
    private func dataBytes(from: Int, to: Int) -> Int {
        guard let hole = self.hole else { return to - from }
        let overlap = Swift.max(0, Swift.min(to, hole.end) - Swift.max(from, hole.start))
        return to - from - overlap
    }

    /// The position `count` data bytes after `start`, jumping the hole when crossing it.
    private func position(after start: Int, dataBytes count: Int) -> Int {
        var end = start + count
        if let hole = self.hole, start <= hole.start, end > hole.start {
            end += hole.end - hole.start
        }
        return end
    }
}
