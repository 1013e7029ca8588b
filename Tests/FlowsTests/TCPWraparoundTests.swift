import Buffers
import Testing
@testable import Flows
import Wire

/// Sequence numbers that wrap past 2^32 in both directions (RFC 9293 §3.4: arithmetic is
/// modulo 2^32).
@Suite struct TCPWraparoundTests {
    @Test(arguments: [UInt32.max - 1, UInt32.max - 1500, UInt32.max])
    func dataCrossesTheWrapBothWays(_ start: UInt32) {
        var h = TCPHarness(
            appISN: SeqNumber(rawValue: start), ourISN: SeqNumber(rawValue: start &- 700))
        h.establish()
        #expect(h.endpoint.state == .established)

        // App → modem: 4000 bytes across the wrap, the second segment first.
        let bytes = pattern(4000, seed: 1)
        let base = h.appNext
        h.send(h.segment(seq: base + 2000, payloadLength: 2000), Array(bytes[2000...]))
        #expect(h.recv().last?.ack == base)
        h.send(h.segment(seq: base, payloadLength: 2000), Array(bytes[..<2000]))
        #expect(h.recv().last?.ack == base + 4000)
        #expect(h.modemTakesAll() == bytes)
        h.appNext = base + 4000

        // Modem → app: 5000 bytes across our wrap, ACKed in pieces.
        let down = pattern(5000, seed: 2)
        h.deliver(down)
        let out = h.recv()
        #expect(out.flatMap(\.payload) == down)
        #expect(out.first?.seq == h.ourISN + 1)
        for segment in out {
            h.appAck = segment.seq + segment.payload.count
            h.send(h.segment())
        }
        #expect(h.endpoint.bytesToApp == 5000)
        #expect(h.endpoint.pollAt() != .now)

        // And a close across the wrap.
        h.endpoint.modemClosed(now: h.now)
        let fin = h.recv()
        #expect(fin.first?.flags == [.fin])
        h.appAck = h.ourISN + 5002
        h.sendData([], fin: true)
        #expect(h.endpoint.state == .timeWait)
    }

    @Test func sequenceComparisonsWrap() {
        let a = SeqNumber(rawValue: UInt32.max - 10)
        let b = a + 20
        #expect(b.rawValue == 9)
        #expect(a < b)
        #expect(b - a == 20)
        #expect(a - b == -20)
        #expect(TCPEndpoint.acceptable(seq: b, length: 10, rcvNxt: a, window: 30))
        #expect(!TCPEndpoint.acceptable(seq: b, length: 10, rcvNxt: a, window: 20))
        #expect(TCPEndpoint.acceptable(seq: a - 5, length: 10, rcvNxt: a, window: 20))
    }
}
