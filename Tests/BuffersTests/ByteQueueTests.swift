import Testing
import Buffers

@Suite struct ByteQueueTests {
    @Test func appendTakesOnlyWhatFits() {
        var queue = ByteQueue(capacity: 5)
        #expect(queue.append(contentsOf: [1, 2, 3]) == 3)
        #expect(queue.append(contentsOf: [4, 5, 6, 7]) == 2)
        let full = queue.isFull
        #expect(full)
        #expect(queue.append(contentsOf: [8]) == 0)
        #expect(queue.spans().copyBytes() == [1, 2, 3, 4, 5])
    }

    @Test func wrappedBytesComeBackAsTwoSpansInOrder() {
        var queue = ByteQueue(capacity: 6)
        queue.append(contentsOf: [1, 2, 3, 4])
        queue.consume(3)
        queue.append(contentsOf: [5, 6, 7, 8])   // 4 at index 3; 5, 6 at 4, 5; 7, 8 at 0, 1
        let spans = queue.spans()
        #expect(spans.count == 2)
        #expect(Array(spans.first) == [4, 5, 6])
        #expect(Array(spans.second) == [7, 8])
        #expect(queue.count == 5)
        #expect(queue.freeCount == 1)
    }

    @Test func spansFromAnOffsetForRetransmission() {
        var queue = ByteQueue(capacity: 6)
        queue.append(contentsOf: [0, 0, 0, 0])
        queue.consume(3)
        queue.append(contentsOf: [10, 11, 12, 13, 14])
        // Storage: 12 13 14 | 0 10 11  (the oldest byte, 0, at index 3)
        #expect(queue.spans().copyBytes() == [0, 10, 11, 12, 13, 14])
        #expect(queue.spans(from: 1, count: 3).copyBytes() == [10, 11, 12])
        #expect(queue.spans(from: 1, count: 3).count == 2)
        #expect(queue.spans(from: 3).copyBytes() == [12, 13, 14])
        #expect(queue.spans(from: 3).count == 1)
        #expect(queue.spans(from: 0, count: 3).count == 1)
        #expect(queue.spans(from: 6).byteCount == 0)
        #expect(queue.spans(from: -1).byteCount == 0)
        #expect(queue.spans(from: 0, count: 0).byteCount == 0)
    }

    @Test func fillInPlaceThenCommit() {
        var queue = ByteQueue(capacity: 4)
        queue.append(contentsOf: [1, 2, 3])
        queue.consume(2)
        let room = queue.writableSpans()
        #expect(room.byteCount == 3)
        #expect(room.count == 2)
        room.first.copyBytes(from: [4])
        room.second.copyBytes(from: [5, 6])
        queue.commitAppend(3)
        #expect(queue.spans().copyBytes() == [3, 4, 5, 6])
        #expect(queue.writableSpans().byteCount == 0)
        #expect(queue.writableSpans(max: -3).byteCount == 0)
    }

    @Test func emptyQueueStartsOverAtTheBeginning() {
        var queue = ByteQueue(capacity: 4)
        queue.append(contentsOf: [1, 2, 3])
        queue.consume(3)
        queue.append(contentsOf: [4, 5, 6, 7])
        #expect(queue.spans().count == 1)
        queue.removeAll()
        let empty = queue.isEmpty
        #expect(empty)
    }

    @Test(arguments: [1, 3, 16, 1000])
    func randomOperationsAgreeWithAnArray(capacity: Int) {
        for seed in UInt64(1)...30 {
            var random = SeededGenerator(seed: seed &* 104_729 &+ UInt64(capacity))
            var queue = ByteQueue(capacity: capacity)
            var model: [UInt8] = []
            var next: UInt8 = 0
            for step in 0..<500 {
                switch Int.random(in: 0..<3, using: &random) {
                case 0:
                    let length = Int.random(in: 0...(capacity + 3), using: &random)
                    var bytes: [UInt8] = []
                    for _ in 0..<length { bytes.append(next); next &+= 1 }
                    let taken = queue.append(contentsOf: bytes)
                    if taken != min(length, capacity - model.count) {
                        Issue.record("seed \(seed) step \(step): took \(taken) of \(length)")
                        return
                    }
                    model += bytes[..<taken]
                    next = next &- UInt8(truncatingIfNeeded: length - taken)
                case 1:
                    let room = queue.writableSpans(max: Int.random(in: 0...capacity, using: &random))
                    let fill = Int.random(in: 0...room.byteCount, using: &random)
                    var written = 0
                    for span in room where written < fill {
                        let here = min(span.count, fill - written)
                        for index in 0..<here { span[index] = next; model.append(next); next &+= 1 }
                        written += here
                    }
                    queue.commitAppend(fill)
                default:
                    let count = Int.random(in: 0...model.count, using: &random)
                    queue.consume(count)
                    model.removeFirst(count)
                }
                let offset = Int.random(in: 0...max(0, model.count), using: &random)
                guard queue.spans().copyBytes() == model,
                      queue.spans(from: offset).copyBytes() == Array(model.dropFirst(offset)),
                      queue.count == model.count,
                      queue.freeCount == capacity - model.count
                else {
                    Issue.record("seed \(seed) step \(step): queue disagrees with the model")
                    return
                }
            }
        }
    }
}
