import Testing
@testable import Flows
import Wire

/// The SACK scoreboard on its own, across the 2^32 wrap.
@Suite struct TCPSACKScoreboardTests {
    static let base = SeqNumber(rawValue: UInt32.max - 1000)

    static func block(_ a: Int, _ b: Int) -> SACKBlocks.Block {
        SACKBlocks.Block(left: base + a, right: base + b)
    }

    @Test func mergesClipsPrunesAndFindsHoles() {
        var board = TCPSACKScoreboard()
        // Blocks beyond what was sent are clipped; one below the ACK (a D-SACK) is ignored.
        board.record([Self.block(3000, 4000), Self.block(-500, -100), Self.block(6000, 9000)],
                     floor: Self.base, ceiling: Self.base + 8000)
        #expect(board.ranges == [Self.block(3000, 4000), Self.block(6000, 8000)])
        board.record([Self.block(3500, 6000)], floor: Self.base, ceiling: Self.base + 8000)
        #expect(board.ranges == [Self.block(3000, 8000)])
        #expect(board.firstHole(from: Self.base) == Self.base)
        #expect(board.firstHole(from: Self.base + 3000) == nil)  // nothing lost above
        #expect(board.end(ofRangeHolding: Self.base + 3100) == Self.base + 8000)
        #expect(board.start(ofRangeAfter: Self.base + 100) == Self.base + 3000)
        board.record([Self.block(1000, 2000)], floor: Self.base, ceiling: Self.base + 8000)
        #expect(board.firstHole(from: Self.base + 1000) == Self.base + 2000)
        board.prune(below: Self.base + 1500)
        #expect(board.ranges == [Self.block(1500, 2000), Self.block(3000, 8000)])
        board.prune(below: Self.base + 8000)
        #expect(board.isEmpty)
    }
}
