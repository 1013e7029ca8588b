import Wire

/// What the app's SACK blocks say it holds above SND.UNA (RFC 2018, RFC 6675 §3): sorted,
/// disjoint ranges of our sequence space, at most `maxRanges` of them.
///
/// Used to retransmit holes rather than bytes the app already has. The app may still
/// discard SACKed data (RFC 2018 §8, "reneging"), so the data stays in the send buffer
/// until it is cumulatively acknowledged, and a second timeout in a row forgets the board.
struct TCPSACKScoreboard {
    private(set) var ranges: [SACKBlocks.Block] = []
    let maxRanges = 16

    var isEmpty: Bool { ranges.isEmpty }

    /// The right edge of the highest SACKed byte, if any (RFC 6675 "HighSACK" + 1).
    var highest: SeqNumber? { ranges.last?.right }

    /// Takes the blocks of one ACK, keeping only what lies in `floor ..< ceiling` (above the
    /// cumulative ACK, below what was sent); a D-SACK block falls below and is ignored.
    mutating func record(_ blocks: SACKBlocks, floor: SeqNumber, ceiling: SeqNumber) {
        for block in blocks {
            let left = floor < block.left ? block.left : floor
            let right = block.right < ceiling ? block.right : ceiling
            guard left < right else { continue }
            insert(SACKBlocks.Block(left: left, right: right))
        }
    }

    private mutating func insert(_ block: SACKBlocks.Block) {
        var merged = block
        var kept: [SACKBlocks.Block] = []
        var placed = false
        for r in ranges {
            if r.right < merged.left {
                kept.append(r)
            } else if merged.right < r.left {
                if !placed { kept.append(merged); placed = true }
                kept.append(r)
            } else {
                merged = SACKBlocks.Block(
                    left: r.left < merged.left ? r.left : merged.left,
                    right: merged.right < r.right ? r.right : merged.right)
            }
        }
        if !placed { kept.append(merged) }
        // Past the cap, the highest ranges go: holes low in the window matter most.
        ranges = Array(kept.prefix(maxRanges))
    }

    /// Forgets everything below `una` (cumulatively acknowledged now).
    mutating func prune(below una: SeqNumber) {
        ranges = ranges.compactMap { r in
            if !(una < r.right) { return nil }
            return r.left < una ? SACKBlocks.Block(left: una, right: r.right) : r
        }
    }

    /// The end of the SACKed range holding `seq`, if it is held.
    func end(ofRangeHolding seq: SeqNumber) -> SeqNumber? {
        ranges.first { !(seq < $0.left) && seq < $0.right }?.right
    }

    /// The start of the first SACKed range above `seq`.
    func start(ofRangeAfter seq: SeqNumber) -> SeqNumber? {
        ranges.first { seq < $0.left }?.left
    }

    /// RFC 6675 §4 NextSeg(), rule 1, simplified: the lowest byte at or above `from` that
    /// is not SACKed and lies below the highest SACKed byte (so it is presumed lost).
    func firstHole(from: SeqNumber) -> SeqNumber? {
        guard let highest, from < highest else { return nil }
        var seq = from
        while let end = end(ofRangeHolding: seq) { seq = end }
        return seq < highest ? seq : nil
    }

    mutating func removeAll() { ranges = [] }
}
