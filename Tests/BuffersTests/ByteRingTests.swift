import Testing
import Buffers

/// Reserves exactly `bytes.count` (or with `min`), fills and commits them.
@discardableResult
private func put(_ bytes: [UInt8], into ring: inout ByteRing, min: Int? = nil) -> RingPosition? {
    guard let room = ring.reserve(max: bytes.count, min: min) else { return nil }
    let count = Swift.min(room.count, bytes.count)
    room.copyBytes(from: bytes[..<count])
    return ring.commit(count)
}

@Suite struct ByteRingTests {
    @Test func commitPeekConsumeRelease() throws {
        var ring = ByteRing(capacity: 16)
        #expect(ring.isEmpty && ring.freeCount == 16)
        let first = try #require(put([1, 2, 3, 4], into: &ring))
        let second = try #require(put([5, 6], into: &ring))
        #expect(first == RingPosition(offset: 0))
        #expect(second == RingPosition(offset: 4))
        #expect(Array(ring.peek()) == [1, 2, 3, 4, 5, 6])
        #expect(ring.unconsumedCount == 6)

        ring.consume(4)
        #expect(Array(ring.peek()) == [5, 6])
        #expect(ring.heldCount == 4)
        // Consumed bytes are still there for whoever holds their position.
        #expect(ring.spans(at: first, count: 4).copyBytes() == [1, 2, 3, 4])
        #expect(ring.freeCount == 10)

        ring.release(upTo: second)
        #expect(ring.heldCount == 0)
        #expect(ring.freeCount == 14)
        // Releasing an older position again changes nothing.
        ring.release(upTo: first)
        #expect(ring.releasePosition == second)
    }

    @Test func exactCapacityFitsThenNothingMore() throws {
        var ring = ByteRing(capacity: 8)
        let all = Array(UInt8(0)..<8)
        #expect(put(all, into: &ring) == RingPosition(offset: 0))
        #expect(ring.freeCount == 0)
        #expect(ring.reserve(max: 1) == nil)
        ring.consume(8)
        // Consumed but not released: still no room, the bytes may be referenced.
        #expect(ring.reserve(max: 1) == nil)
        #expect(ring.spans(at: RingPosition(offset: 0), count: 8).copyBytes() == all)
        ring.release(upTo: ring.readPosition)
        let empty = ring.isEmpty
        #expect(empty)
        #expect(put(all, into: &ring) == RingPosition(offset: 8))
    }

    @Test func moreThanCapacityIsNeverReserved() {
        var ring = ByteRing(capacity: 8)
        #expect(ring.reserve(max: 9) == nil)
        #expect(ring.reserve(max: 100, min: 9) == nil)
        #expect(ring.reserve(max: 0) == nil)
        #expect(ring.reserve(max: 4, min: 5) == nil)
        #expect(ring.reserve(max: 100, min: 1)?.count == 8)
    }

    /// A packet that does not fit before the end of storage starts at the beginning; the
    /// skipped end bytes hold no data, and the bytes before it stay readable.
    @Test func packetWrapsToTheStartAroundHeldData() throws {
        var ring = ByteRing(capacity: 10)
        let a = try #require(put([1, 1, 1, 1], into: &ring))
        let b = try #require(put([2, 2, 2, 2], into: &ring))
        ring.consume(4)
        ring.release(upTo: b)   // a is gone; b (positions 4..<8) is unread
        _ = a
        // 2 bytes left at the end, 4 needed: skip them, start at 0 (positions 10..<14).
        let c = try #require(put([3, 3, 3, 3], into: &ring))
        #expect(c == RingPosition(offset: 10))
        #expect(ring.unconsumedCount == 8)
        #expect(ring.freeCount == 0)
        let spans = ring.readableSpans()
        #expect(spans.count == 2)
        #expect(Array(spans.first) == [2, 2, 2, 2])
        #expect(Array(spans.second) == [3, 3, 3, 3])
        #expect(Array(ring.peek()) == [2, 2, 2, 2])

        ring.consume(4)   // up to the skipped bytes: the read cursor jumps them
        #expect(ring.readPosition == c)
        #expect(Array(ring.peek()) == [3, 3, 3, 3])
        ring.release(upTo: ring.readPosition)
        #expect(ring.releasePosition == c)
        #expect(ring.freeCount == 6)
        ring.consume(4)
        ring.release(upTo: ring.readPosition)
        let empty = ring.isEmpty
        #expect(empty)
    }

    @Test func consumeAcrossTheSkippedBytesCountsOnlyData() throws {
        var ring = ByteRing(capacity: 10)
        try #require(put([0, 0, 0, 0, 0], into: &ring) != nil)
        ring.consume(5)
        ring.release(upTo: ring.readPosition)
        try #require(put([1, 2, 3], into: &ring) != nil)           // 5..<8
        try #require(put([4, 5, 6, 7], into: &ring) != nil)        // skips 8, 9 → 10..<14
        #expect(ring.readableSpans().copyBytes() == [1, 2, 3, 4, 5, 6, 7])
        ring.consume(5)
        #expect(Array(ring.peek()) == [6, 7])
        #expect(ring.heldCount == 5)
        #expect(ring.spans(at: RingPosition(offset: 5), count: 5).copyBytes() == [1, 2, 3, 4, 5])
    }

    /// An empty ring needs no skipped bytes: everything moves to the start.
    @Test func emptyRingRestartsAtTheBeginningForABigReservation() throws {
        var ring = ByteRing(capacity: 10)
        try #require(put(Array(repeating: 9, count: 7), into: &ring) != nil)
        ring.consume(7)
        ring.release(upTo: ring.readPosition)
        let whole = try #require(put(Array(0..<10), into: &ring))
        #expect(whole == RingPosition(offset: 10))
        #expect(ring.readableSpans().count == 1)
        #expect(Array(ring.peek()) == Array(0..<10))
    }

    /// A byte stream (the serial line) takes whatever room there is: its bytes wrap the
    /// end of storage without skipping, and are read back as two spans.
    @Test func streamBytesWrapWithoutSkipping() throws {
        var ring = ByteRing(capacity: 8)
        try #require(put(Array(0..<6), into: &ring) != nil)
        ring.consume(6)
        ring.release(upTo: ring.readPosition)
        let maybeTail = ring.reserve(max: 8, min: 1)
        let tail = try #require(maybeTail)
        #expect(tail.count == 2)
        tail.copyBytes(from: [10, 11])
        ring.commit(2)
        let maybeHead = ring.reserve(max: 8, min: 1)
        let head = try #require(maybeHead)
        #expect(head.count == 6)
        head.copyBytes(from: [12, 13, 14])
        ring.commit(3)
        let spans = ring.readableSpans()
        #expect(Array(spans.first) == [10, 11])
        #expect(Array(spans.second) == [12, 13, 14])
        #expect(spans.byte(at: 4) == 14)
        #expect(spans.byte(at: 5) == nil)
    }

    @Test func committingNothingWastesNothing() throws {
        var ring = ByteRing(capacity: 10)
        try #require(put([1, 2, 3, 4, 5, 6, 7], into: &ring) != nil)
        ring.consume(5)
        ring.release(upTo: ring.readPosition)
        // 3 bytes at the end, 4 wanted: the reservation skips to the start of storage...
        let room = ring.reserve(max: 4)
        #expect(room?.count == 4)
        // ...but the read returned nothing (EAGAIN): no skip happens.
        #expect(ring.commit(0) == RingPosition(offset: 7))
        #expect(ring.freeCount == 8)
        #expect(ring.reserve(max: 3)?.count == 3)   // the end bytes are still usable
        #expect(ring.commit(3) == RingPosition(offset: 7))
    }

    @Test func reservationNeverOverlapsHeldBytes() throws {
        var ring = ByteRing(capacity: 12)
        let held = try #require(put(Array(repeating: 0xAA, count: 6), into: &ring))
        ring.consume(6)   // consumed, not released: a flow still refers to it
        for round in 0..<3 {
            guard let room = ring.reserve(max: 6, min: 1) else { break }
            room.initializeMemory(as: UInt8.self, repeating: UInt8(round))
            ring.commit(room.count)
        }
        #expect(ring.reserve(max: 1, min: 1) == nil)
        #expect(ring.spans(at: held, count: 6).copyBytes() == Array(repeating: 0xAA, count: 6))
    }

    @Test func removeAllEmptiesTheRing() throws {
        var ring = ByteRing(capacity: 8)
        try #require(put([1, 2, 3], into: &ring) != nil)
        ring.consume(1)
        ring.removeAll()
        #expect(ring.isEmpty && ring.unconsumedCount == 0 && ring.heldCount == 0)
        #expect(ring.freeCount == 8)
    }

    /// Random reserve / commit / consume / release sequences against a model that keeps
    /// a copy of every byte still held: whatever the ring says, no held byte may change
    /// and the unread bytes must come out in order.
    @Test(arguments: [1, 2, 7, 64, 1500])
    func randomOperationsAgreeWithAModel(capacity: Int) {
        var skips = 0   // commits that started past skipped end bytes: the wrap is exercised
        var totalDrops = 0
        for seed in UInt64(1)...40 {
            var random = SeededGenerator(seed: seed &* 7919 &+ UInt64(capacity))
            var ring = ByteRing(capacity: capacity)
            var held: [(position: Int, bytes: [UInt8])] = []   // committed, not released
            var consumed = 0                                    // data bytes of `held` consumed
            var drops = 0
            var next: UInt8 = 0
            for step in 0..<600 {
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<4:
                    let maximum = Int.random(in: 0...(capacity + 2), using: &random)
                    let minimum: Int? = Bool.random(using: &random) ? nil : Int.random(in: 0...Swift.max(0, maximum), using: &random)
                    let freeBefore = ring.freeCount
                    guard let room = ring.reserve(max: maximum, min: minimum) else {
                        drops += 1
                        if ring.isEmpty && maximum >= 1 && maximum <= capacity && (minimum ?? maximum) <= maximum {
                            Issue.record("seed \(seed) step \(step): empty ring refused \(maximum)/\(String(describing: minimum))")
                            return
                        }
                        continue
                    }
                    let wanted = Swift.max(1, minimum ?? maximum)
                    if room.count < wanted || room.count > maximum || room.count > freeBefore {
                        Issue.record("seed \(seed) step \(step): reserved \(room.count) for \(maximum)/\(String(describing: minimum)), free \(freeBefore)")
                        return
                    }
                    let count = Int.random(in: 0...room.count, using: &random)
                    var bytes: [UInt8] = []
                    for _ in 0..<count { bytes.append(next); next &+= 1 }
                    room.copyBytes(from: bytes)
                    let writeBefore = ring.writePosition
                    let position = ring.commit(count)
                    if count > 0 {
                        held.append((position.offset, bytes))
                        if position != writeBefore { skips += 1 }
                    }
                case 4..<7:
                    let count = Int.random(in: 0...ring.unconsumedCount, using: &random)
                    ring.consume(count)
                    consumed += count
                default:
                    // Release up to the read position or to some chunk boundary before it.
                    let target: RingPosition
                    if Bool.random(using: &random) || held.isEmpty {
                        target = ring.readPosition
                    } else {
                        // The end of the last chunk whose bytes are all consumed.
                        var boundary = held[0].position
                        var remaining = consumed
                        for chunk in held {
                            guard remaining >= chunk.bytes.count else { break }
                            remaining -= chunk.bytes.count
                            boundary = chunk.position + chunk.bytes.count
                        }
                        target = RingPosition(offset: boundary)
                    }
                    ring.release(upTo: target)
                    // Model: drop or trim held chunks before the ring's release position.
                    let releasedTo = ring.releasePosition.offset
                    var newHeld: [(position: Int, bytes: [UInt8])] = []
                    for chunk in held {
                        let end = chunk.position + chunk.bytes.count
                        if end <= releasedTo {
                            consumed -= chunk.bytes.count
                        } else if chunk.position < releasedTo {
                            let cut = releasedTo - chunk.position
                            consumed -= cut
                            newHeld.append((releasedTo, Array(chunk.bytes[cut...])))
                        } else {
                            newHeld.append(chunk)
                        }
                    }
                    held = newHeld
                }
                // Invariants after every step.
                let all = held.flatMap(\.bytes)
                let unread = Array(all[consumed...])
                guard ring.readableSpans().copyBytes() == unread,
                      ring.unconsumedCount == unread.count,
                      ring.heldCount == consumed,
                      ring.freeCount >= 0, ring.freeCount <= capacity,
                      held.allSatisfy({ ring.spans(at: RingPosition(offset: $0.position), count: $0.bytes.count).copyBytes() == $0.bytes })
                else {
                    Issue.record("seed \(seed) step \(step): ring disagrees with the model")
                    return
                }
            }
            totalDrops += drops
        }
        #expect(totalDrops > 0, "the sequences never filled the ring")
        if capacity > 2 { #expect(skips > 0, "the sequences never wrapped a reservation") }
    }
}
