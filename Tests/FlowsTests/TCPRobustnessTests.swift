import Buffers
import Testing
@testable import Flows
import Wire

/// Arbitrary segments and modem events in any order: the endpoint never traps, never holds
/// more than its caps, and gives its memory back when it closes.
@Suite struct TCPRobustnessTests {
    @Test(arguments: 0 ..< 40)
    func randomSegmentsAndEvents(_ seed: Int) {
        var random = SimulationRandom(seed: UInt64(seed) &* 0x9E37_79B9 &+ 1)
        let budget = TCPBufferBudget(limit: 200_000)
        var config = TCPConfig()
        config.receiveBufferCapacity = 32768
        config.sendBufferCapacity = 32768
        let syn = seed % 2 == 0
            ? TCPHarness.linuxSYN(seq: SeqNumber(rawValue: UInt32.random(in: 0 ... .max, using: &random)))
            : TCPHarness.syn(seq: SeqNumber(rawValue: UInt32.random(in: 0 ... .max, using: &random)), mss: UInt16.random(in: 0 ... 2000, using: &random))
        var h = TCPHarness(
            syn: syn, ourISN: SeqNumber(rawValue: UInt32.random(in: 0 ... .max, using: &random)),
            config: config, budget: budget)
        var sent = 0
        var statesSeen: Set<TCPState> = []

        for _ in 0 ..< 1500 {
            switch Int.random(in: 0 ..< 12, using: &random) {
            case 0: h.endpoint.modemOpened(now: h.now)
            case 1: h.deliver(pattern(Int.random(in: 0 ... 5000, using: &random)))
            case 2: h.endpoint.modemAccepted(Int.random(in: -10 ... 40000, using: &random), now: h.now)
            case 3: h.advance(.milliseconds(Int64.random(in: 0 ... 3000, using: &random)))
            case 4 where Int.random(in: 0 ..< 50, using: &random) == 0:
                switch Int.random(in: 0 ..< 5, using: &random) {
                case 0: h.endpoint.modemClosed(now: h.now)
                case 1: h.endpoint.modemReset(now: h.now)
                case 2: h.endpoint.modemRefused(now: h.now)
                case 3: h.endpoint.modemUnreachable(now: h.now)
                default: h.endpoint.modemFailed(now: h.now)
                }
            default:
                // A segment near the app's expected numbers, or anywhere at all.
                let near = Bool.random(using: &random)
                let seq = near
                    ? h.endpoint.rcvNxt + Int.random(in: -3000 ... 40000, using: &random)
                    : SeqNumber(rawValue: UInt32.random(in: 0 ... .max, using: &random))
                // Mostly ACKs of something we sent (so the handshake completes and data
                // flows), sometimes of nothing sensible, sometimes none.
                let sentUpTo = max(1, h.endpoint.sndMax - h.ourISN)
                let ack: SeqNumber? = switch Int.random(in: 0 ..< 8, using: &random) {
                case 0: nil
                case 1: SeqNumber(rawValue: UInt32.random(in: 0 ... .max, using: &random))
                case 2: h.ourISN + Int.random(in: -70000 ... 70000, using: &random)
                default: h.ourISN + Int.random(in: 1 ... sentUpTo, using: &random)
                }
                // Control bits now and then, so the walk gets somewhere before a RST ends it.
                var flags: TCPFlags = []
                if Int.random(in: 0 ..< 40, using: &random) == 0 { flags.insert(.rst) }
                if Int.random(in: 0 ..< 20, using: &random) == 0 { flags.insert(.syn) }
                if Int.random(in: 0 ..< 15, using: &random) == 0 { flags.insert(.fin) }
                if Bool.random(using: &random) { flags.insert(.psh) }
                var repr = h.segment(
                    seq: seq, ack: .some(ack), flags: flags,
                    window: UInt16.random(in: 0 ... .max, using: &random))
                if Bool.random(using: &random) {
                    repr.timestamp = TCPTimestamp(
                        value: UInt32.random(in: 0 ... .max, using: &random),
                        echoReply: UInt32.random(in: 0 ... .max, using: &random))
                }
                h.send(repr, pattern(Int.random(in: 0 ... 3000, using: &random)))
            }
            let out = h.recv()
            sent += out.count
            statesSeen.insert(h.endpoint.state)
            for segment in out {
                #expect(segment.payload.count <= 1460)
                #expect(segment.payload.count == segment.repr.payloadLength || segment.flags.contains(.rst))
            }
            #expect(h.endpoint.pendingForModemCount <= config.receiveBufferCapacity)
            #expect(budget.reserved <= budget.limit)
            #expect(h.endpoint.bytesBuffered <= config.receiveBufferCapacity + config.sendBufferCapacity)
            if h.endpoint.isClosed {
                #expect(budget.reserved == 0)
                break
            }
        }
        // The random walk must get past the handshake, or it tests little.
        #expect(statesSeen.contains(.established) || statesSeen.contains(.closeWait))
        h.endpoint.close(now: h.now)
        _ = h.recv()
        #expect(budget.reserved == 0)
        #expect(h.endpoint.isClosed)
    }
}
