import Buffers
import Testing
@testable import Flows
import Wire

/// FIN from either side, simultaneous close, TIME-WAIT, and RST in every state.
@Suite struct TCPCloseTests {
    @Test func appFinishesFirst() {
        var h = TCPHarness()
        h.establish()
        h.sendData(pattern(10), fin: true)
        var out = h.recv()
        #expect(out.last?.ack == h.appNext)  // data and FIN acknowledged
        #expect(h.endpoint.state == .closeWait)
        // The modem socket's sending side closes only after the bytes before the FIN.
        #expect(!h.endpoint.appFinished)
        #expect(h.modemTakesAll() == pattern(10))
        #expect(h.endpoint.appFinished)
        // Half-close: the modem can still send to the app.
        h.deliver(pattern(50))
        out = h.recv()
        #expect(out.first?.payload == pattern(50))
        h.appAck = h.ourISN + 51
        h.send(h.segment())
        // The remote end closes: our FIN.
        h.endpoint.modemClosed(now: h.now)
        out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].flags == [.fin])
        #expect(out[0].seq == h.ourISN + 51)
        #expect(h.endpoint.state == .lastAck)
        h.appAck = h.ourISN + 52
        h.send(h.segment())
        #expect(h.endpoint.isClosed)
        #expect(h.endpoint.closeReason == .finished)
        #expect(h.budget.reserved == 0)
    }

    @Test func modemFinishesFirst() {
        var h = TCPHarness()
        h.establish()
        h.deliver(pattern(20))
        h.endpoint.modemClosed(now: h.now)
        var out = h.recv()
        // Data and FIN in one segment.
        #expect(out.count == 1)
        #expect(out[0].flags == [.fin, .psh])
        #expect(out[0].payload == pattern(20))
        #expect(h.endpoint.state == .finWait1)
        h.appAck = h.ourISN + 22
        h.send(h.segment())
        #expect(h.endpoint.state == .finWait2)
        // Half-close the other way: the app still sends, we still take it.
        h.sendData(pattern(30))
        out = h.recv()
        #expect(out.last?.ack == h.appNext)
        #expect(h.modemTakesAll() == pattern(30))
        h.sendData([], fin: true)
        out = h.recv()
        #expect(out.last?.ack == h.appNext)
        #expect(h.endpoint.state == .timeWait)
        // A retransmitted FIN is ACKed again and restarts TIME-WAIT.
        h.advance(.seconds(1))
        h.send(h.segment(seq: h.appNext - 1, flags: .fin))
        out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].ack == h.appNext)
        #expect(h.endpoint.pollAt() == .at(h.now + .seconds(2)))
        h.advanceToDeadline()
        _ = h.recv()
        #expect(h.endpoint.isClosed)
        #expect(h.endpoint.closeReason == .finished)
    }

    @Test func simultaneousClose() {
        var h = TCPHarness()
        h.establish()
        h.endpoint.modemClosed(now: h.now)
        let ourFin = h.recv()
        #expect(ourFin.first?.flags == [.fin])
        #expect(h.endpoint.state == .finWait1)
        // The app's FIN crosses ours: it has not seen our FIN yet.
        h.sendData([], fin: true)
        #expect(h.endpoint.state == .closing)
        let out = h.recv()
        #expect(out.last?.ack == h.appNext)
        // Its ACK of our FIN.
        h.appAck = h.ourISN + 2
        h.send(h.segment())
        #expect(h.endpoint.state == .timeWait)
        h.advanceToDeadline()
        _ = h.recv()
        #expect(h.endpoint.isClosed)
    }

    @Test func finAheadOfMissingDataWaitsForIt() {
        var h = TCPHarness()
        h.establish()
        let base = h.appNext
        h.send(h.segment(seq: base + 100, flags: .fin, payloadLength: 50), pattern(50, from: 100))
        #expect(h.endpoint.state == .established)
        #expect(h.recv().last?.ack == base)
        h.send(h.segment(seq: base, payloadLength: 100), pattern(100))
        #expect(h.recv().last?.ack == base + 151)
        #expect(h.endpoint.state == .closeWait)
        #expect(h.pendingForModem() == pattern(150))
    }

    @Test func lostFinIsRetransmitted() {
        var h = TCPHarness()
        h.establish()
        h.endpoint.modemClosed(now: h.now)
        #expect(h.recv().first?.flags == [.fin])
        h.advanceToDeadline()
        let again = h.recv()
        #expect(again.first?.flags == [.fin])
        #expect(again.first?.seq == h.ourISN + 1)
        #expect(h.endpoint.state == .finWait1)
    }

    @Test func appBytesBeforeItsFinOutliveTheConnection() {
        var h = TCPHarness()
        h.establish()
        h.sendData(pattern(40), fin: true)
        h.endpoint.modemClosed(now: h.now)
        _ = h.recv()
        h.appAck = h.ourISN + 2
        h.send(h.segment())
        // Both FINs done, but the modem has not taken the app's bytes yet.
        #expect(h.endpoint.state == .timeWait)
        h.advance(.seconds(10))
        _ = h.recv()
        #expect(!h.endpoint.isClosed)
        #expect(h.modemTakesAll() == pattern(40))
        #expect(h.endpoint.appFinished)
        h.advanceToDeadline()
        _ = h.recv()
        #expect(h.endpoint.isClosed)
        #expect(h.endpoint.closeReason == .finished)
    }

    // MARK: RST

    /// Brings a harness to `state`.
    static func harness(in state: TCPState) -> TCPHarness {
        var h = TCPHarness()
        switch state {
        case .awaitingModem:
            return h
        case .synReceived:
            h.endpoint.modemOpened(now: h.now)
            _ = h.recv()
            return h
        default:
            h.establish()
        }
        switch state {
        case .finWait1:
            h.endpoint.modemClosed(now: h.now)
            _ = h.recv()
        case .finWait2:
            h.endpoint.modemClosed(now: h.now)
            _ = h.recv()
            h.appAck = h.ourISN + 2
            h.send(h.segment())
        case .closeWait:
            h.sendData([], fin: true)
            _ = h.recv()
        case .closing:
            h.endpoint.modemClosed(now: h.now)
            _ = h.recv()
            h.sendData([], fin: true)
            _ = h.recv()
        case .lastAck:
            h.sendData([], fin: true)
            h.endpoint.modemClosed(now: h.now)
            _ = h.recv()
        case .timeWait:
            h.endpoint.modemClosed(now: h.now)
            _ = h.recv()
            h.appAck = h.ourISN + 2
            h.send(h.segment())
            h.sendData([], fin: true)
            _ = h.recv()
        default:
            break
        }
        return h
    }

    static let states: [TCPState] = [
        .awaitingModem, .synReceived, .established, .finWait1, .finWait2, .closeWait, .closing,
        .lastAck, .timeWait,
    ]

    @Test(arguments: states)
    func harnessReachesState(_ state: TCPState) {
        #expect(Self.harness(in: state).endpoint.state == state)
    }

    @Test(arguments: states)
    func appResetInWindowCloses(_ state: TCPState) {
        var h = Self.harness(in: state)
        h.send(h.segment(flags: .rst))
        #expect(h.endpoint.isClosed)
        #expect(h.endpoint.closeReason == .appReset)
        #expect(h.recv().isEmpty)  // never answer a RST with a RST
        #expect(h.budget.reserved == 0)
    }

    @Test(arguments: states.filter { $0 != .awaitingModem })
    func resetNotAtTheNextSequenceNumberGetsAChallengeAck(_ state: TCPState) {
        var h = Self.harness(in: state)
        // In the window but not at RCV.NXT (RFC 5961 §3.2).
        h.send(h.segment(seq: h.appNext + 10, flags: .rst))
        #expect(h.endpoint.state == state)
        let out = h.recv()
        if state == .synReceived {
            #expect(out.first?.flags == [.syn])
        } else {
            #expect(out.count == 1)
            #expect(out.first?.ack == h.appNext)
            #expect(out.first?.flags == [])
        }
        // Outside the window: silently ignored.
        h.send(h.segment(seq: h.appNext + 10_000_000, flags: .rst))
        #expect(h.endpoint.state == state)
        #expect(h.recv().isEmpty)
    }

    @Test(arguments: states)
    func modemResetResetsTheApp(_ state: TCPState) {
        var h = Self.harness(in: state)
        h.endpoint.modemReset(now: h.now)
        #expect(h.endpoint.isClosed)
        let out = h.recv()
        if state == .timeWait {
            #expect(out.isEmpty)  // nothing left to reset
        } else {
            #expect(out.count == 1)
            #expect(out.first?.flags.contains(.rst) == true)
            #expect(out.first?.ack == h.appNext)
        }
        #expect(h.budget.reserved == 0)
    }

    @Test(arguments: states.filter { $0.isSynchronized && $0 != .synReceived })
    func synInSynchronizedStateGetsAChallengeAck(_ state: TCPState) {
        var h = Self.harness(in: state)
        h.send(TCPHarness.syn(seq: h.appNext + 5))
        #expect(h.endpoint.state == state)
        let out = h.recv()
        #expect(out.count == 1)
        #expect(out.first?.flags == [])
        #expect(out.first?.ack == h.appNext)
    }
}

extension TCPState: CustomTestStringConvertible {
    public var testDescription: String { description }
}

extension TCPCloseTests {
    @Test func closedEndpointAnswersWithReset() {
        var h = Self.harness(in: .established)
        h.deliver(pattern(3000))
        _ = h.recv()
        h.endpoint.modemReset(now: h.now)
        let rst = h.recv()
        #expect(rst.first?.seq == h.ourISN + 3001)  // SND.NXT: past what the app has seen
        // The app (as Linux does, RFC 5961 §3.2) answers an inexact RST with a challenge
        // ACK; CLOSED answers that with a RST at exactly the number it acknowledges.
        h.appAck = h.ourISN + 1461
        h.send(h.segment())
        let exact = h.recv()
        #expect(exact.count == 1)
        #expect(exact.first?.flags == [.rst])
        #expect(exact.first?.seq == h.ourISN + 1461)
        // A RST is never answered.
        h.send(h.segment(flags: .rst))
        #expect(h.recv().isEmpty)
    }
}
