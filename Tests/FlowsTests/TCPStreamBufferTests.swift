import Testing
@testable import Flows
import Wire

/// The per-flow byte ring and the reassembly ranges under it.
@Suite struct TCPStreamBufferTests {
    @Test func wrapsAroundAndHandsOutTwoSpans() {
        let budget = TCPBufferBudget(limit: 1 << 20)
        var ring = TCPStreamBuffer(capacity: 4096)
        let fitted = ring.ensure(4096, budget: budget)
        #expect(fitted == 4096)
        let a = pattern(3000)
        a.withUnsafeBytes { _ = ring.write($0, at: 0) }
        ring.commit(3000)
        ring.consume(2500)
        let b = pattern(2000, from: 3000)
        b.withUnsafeBytes { _ = ring.write($0, at: 0) }
        ring.commit(2000)
        let spans = ring.withSpans(offset: 0, length: ring.count) { x, y in (Array(x), Array(y)) }
        #expect(spans.0.count == 1596)  // up to the end of storage
        #expect(spans.1.count == 904)
        #expect(spans.0 + spans.1 == pattern(2500, from: 2500))
        ring.release(to: budget)
        #expect(budget.reserved == 0)
        #expect(ring.allocated == 0)
    }

    @Test func growsByDoublingWithinTheBudget() {
        let budget = TCPBufferBudget(limit: 10_000)
        var ring = TCPStreamBuffer(capacity: 65536)
        let small = ring.ensure(100, budget: budget)
        #expect(small == 100)
        #expect(ring.allocated == 4096)
        let doubled = ring.ensure(5000, budget: budget)
        #expect(doubled == 5000)
        #expect(ring.allocated == 8192)
        // Doubling to 16 KiB would pass the budget: only what is left is taken.
        let capped = ring.ensure(20_000, budget: budget)
        #expect(capped == 10_000)
        #expect(ring.allocated == 10_000)
        #expect(budget.reserved == 10_000)
        #expect(ring.room(budget: budget) == 10_000)
    }

    @Test func outOfOrderBytesSurviveTheBufferEmptying() {
        // Regression: the ring used to reset its head when the readable bytes ran out,
        // moving bytes already written ahead of them.
        let budget = TCPBufferBudget(limit: 1 << 20)
        var ring = TCPStreamBuffer(capacity: 8192)
        _ = ring.ensure(8192, budget: budget)
        pattern(100).withUnsafeBytes { _ = ring.write($0, at: 0) }
        ring.commit(100)
        pattern(50, from: 300).withUnsafeBytes { _ = ring.write($0, at: 200) }  // ahead
        ring.consume(100)  // empty now
        pattern(200, from: 100).withUnsafeBytes { _ = ring.write($0, at: 0) }
        ring.commit(250)
        #expect(ring.withSpans(offset: 0, length: 250) { Array($0) + Array($1) } == pattern(250, from: 100))
    }

    @Test func growthKeepsOutOfOrderBytesInPlace() {
        let budget = TCPBufferBudget(limit: 1 << 20)
        var ring = TCPStreamBuffer(capacity: 65536)
        _ = ring.ensure(4096, budget: budget)
        pattern(4000).withUnsafeBytes { _ = ring.write($0, at: 0) }
        ring.commit(4000)
        ring.consume(3900)
        // 100 readable bytes; 4010..<4100 arrive ahead (offsets are past the readable
        // ones) and wrap around the end of storage.
        pattern(90, from: 4010).withUnsafeBytes { _ = ring.write($0, at: 10) }
        _ = ring.ensure(9000, budget: budget)  // linearises
        pattern(10, from: 4000).withUnsafeBytes { _ = ring.write($0, at: 0) }
        ring.commit(100)
        #expect(ring.withSpans(offset: 0, length: 200) { Array($0) + Array($1) } == pattern(200, from: 3900))
    }

    @Test func reassemblyMergesAndReleasesInOrder() {
        var r = TCPReassembly(maxRanges: 3)
        var taken = [r.insert(10 ..< 20), r.insert(30 ..< 40), r.insert(15 ..< 32)]  // the third bridges both
        #expect(taken == [true, true, true])
        #expect(r.ranges == [10 ..< 40])
        taken = [r.insert(50 ..< 60), r.insert(70 ..< 80), r.insert(90 ..< 95)]  // a fourth hole is refused
        #expect(taken == [true, true, false])
        #expect(r.ranges == [10 ..< 40, 50 ..< 60, 70 ..< 80])
        // 10 in-order bytes arrive: 10..<40 joins them.
        var joined = r.advance(by: 10)
        #expect(joined == 30)
        #expect(r.ranges == [10 ..< 20, 30 ..< 40])
        // 25 in-order bytes cover the first range and half the gap after it.
        joined = r.advance(by: 25)
        #expect(joined == 0)
        #expect(r.ranges == [5 ..< 15])
        joined = r.advance(by: 5)
        #expect(joined == 10)
        #expect(r.isEmpty)
    }
}
