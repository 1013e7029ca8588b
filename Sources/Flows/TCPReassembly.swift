/// Which out-of-order byte ranges have arrived ahead of the next expected byte (RFC 9293
/// §3.10.7.4, "segment text": a TCP "should" keep out-of-order segments for later).
///
/// Offsets are relative to the next expected byte (RCV.NXT). At most `maxRanges` holes are
/// tracked: a segment that would need more is dropped and the app retransmits it.
struct TCPReassembly {
    /// Half-open ranges, sorted, non-overlapping, non-adjacent, all starting above 0.
    private(set) var ranges: [Range<Int>] = []
    let maxRanges: Int

    init(maxRanges: Int = 8) {
        self.maxRanges = maxRanges
    }

    var isEmpty: Bool { ranges.isEmpty }

    /// The end of the furthest byte held, relative to RCV.NXT (0 if none).
    var extent: Int { ranges.last?.upperBound ?? 0 }

    /// Records `range` (offset > 0) as held. Returns false, recording nothing, if it would
    /// need more than `maxRanges` ranges.
    mutating func insert(_ range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return true }
        var merged = range
        var kept: [Range<Int>] = []
        kept.reserveCapacity(ranges.count + 1)
        var placed = false
        for r in ranges {
            if r.upperBound < merged.lowerBound {
                kept.append(r)
            } else if merged.upperBound < r.lowerBound {
                if !placed { kept.append(merged); placed = true }
                kept.append(r)
            } else {
                merged = min(r.lowerBound, merged.lowerBound) ..< max(r.upperBound, merged.upperBound)
            }
        }
        if !placed { kept.append(merged) }
        guard kept.count <= maxRanges else { return false }
        ranges = kept
        return true
    }

    /// RCV.NXT moved forward by `n` in-order bytes; returns how many more bytes beyond
    /// them became contiguous (and so readable), and rebases the rest.
    mutating func advance(by n: Int) -> Int {
        var shifted: [Range<Int>] = []
        var extra = 0
        for r in ranges {
            let lower = r.lowerBound - n
            let upper = r.upperBound - n
            if upper <= 0 { continue }
            if lower <= 0 {
                extra = max(extra, upper)
            } else {
                shifted.append(lower ..< upper)
            }
        }
        ranges = shifted.map { ($0.lowerBound - extra) ..< ($0.upperBound - extra) }.filter { $0.upperBound > 0 }
        if let first = ranges.first, first.lowerBound <= 0 {
            // Cannot happen with non-adjacent ranges, but keep the invariant anyway.
            ranges.removeFirst()
            return extra + max(0, first.upperBound)
        }
        return extra
    }

    mutating func removeAll() { ranges = [] }
}
