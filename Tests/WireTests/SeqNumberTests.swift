import Testing
import Wire

@Suite("SeqNumber")
struct SeqNumberTests {
    @Test func addsAndWraps() {
        let top = SeqNumber(UInt32.max - 1)
        #expect((top + 3).rawValue == 1)
        #expect((SeqNumber(1) - 3).rawValue == UInt32.max - 1)
        #expect((SeqNumber(10) + -4).rawValue == 6)
        var s = SeqNumber(UInt32.max)
        s += 1
        #expect(s.rawValue == 0)
    }

    @Test func signedDistanceAcrossWrap() {
        let a = SeqNumber(UInt32.max - 9)
        let b = a + 20
        #expect(b - a == 20)
        #expect(a - b == -20)
        #expect(b.rawValue == 10)
    }

    @Test func comparesAcrossWrap() {
        let a = SeqNumber(UInt32.max - 5)
        let b = a + 100
        #expect(a < b)
        #expect(!(b < a))
        #expect(b > a)
        #expect(SeqNumber.max(a, b) == b)
        #expect(SeqNumber.min(a, b) == a)
        #expect(!(a < a))
    }

    /// Exactly half the space apart, the signed distance is -2^31 both ways: the one
    /// ambiguous point, where RFC 9293's comparisons are undefined too.
    @Test func halfSpaceApart() {
        let a = SeqNumber(0)
        let b = SeqNumber(1 << 31)
        #expect(b - a == Int(Int32.min))
        #expect(a - b == Int(Int32.min))
        // Just under half: unambiguous.
        #expect(a < a + Int(Int32.max))
    }

    /// Large Int offsets truncate to 32 bits, as sequence space does.
    @Test func hugeOffsetsTruncate() {
        #expect((SeqNumber(5) + (1 << 32)).rawValue == 5)
        #expect((SeqNumber(5) + Int.min).rawValue == 5)
    }
}
