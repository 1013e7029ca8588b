import Buffers
import Testing
@testable import Flows
import Wire

/// AWAITING-MODEM and SYN-RECEIVED: the handshake is held until the modem socket is open.
@Suite struct TCPHandshakeTests {
    @Test func synIsHeldUntilTheModemOpens() {
        var h = TCPHarness()
        #expect(h.endpoint.state == .awaitingModem)
        #expect(h.recv().isEmpty)
        #expect(h.endpoint.pollAt() == .at(.zero + .seconds(130)))  // only the open timeout
        // The app's kernel retransmits its SYN after 1 s: absorbed, still nothing sent.
        h.advance(.seconds(1))
        h.send(TCPHarness.syn(seq: h.appISN))
        #expect(h.recv().isEmpty)
        #expect(h.endpoint.state == .awaitingModem)

        h.endpoint.modemOpened(now: h.now)
        let out = h.recv()
        #expect(out.count == 1)
        let synAck = out[0]
        #expect(synAck.flags == [.syn])
        #expect(synAck.seq == h.ourISN)
        #expect(synAck.ack == h.appISN + 1)
        #expect(synAck.repr.maxSegmentSize == 1460)
        // The plain SYN offered no scaling, timestamps or SACK: none in the answer.
        #expect(synAck.repr.windowScale == nil)
        #expect(synAck.repr.timestamp == nil)
        #expect(synAck.repr.sackPermitted == false)
        #expect(synAck.window == 65535)
        #expect(h.endpoint.state == .synReceived)
    }

    @Test func linuxOptionsAreNegotiated() {
        var h = TCPHarness(syn: TCPHarness.linuxSYN(seq: SeqNumber(rawValue: 77), tsval: 123_456))
        h.now = .milliseconds(5)
        h.endpoint.modemOpened(now: h.now)
        let synAck = h.recv()[0]
        #expect(synAck.repr.windowScale == 3)  // 256 KiB buffer: 65535 << 2 falls 4 bytes short
        #expect(synAck.repr.sackPermitted)
        #expect(synAck.repr.timestamp?.echoReply == 123_456)
        #expect(synAck.repr.maxSegmentSize == 1460)
        // The SYN-ACK's window is never scaled (RFC 7323 §2.2).
        #expect(synAck.window == 65535)

        // The app's ACK carries its scaled window (field 502 << 7 = 64256).
        var ack = h.segment(window: 502)
        ack.timestamp = TCPTimestamp(value: 123_457, echoReply: synAck.repr.timestamp!.value)
        h.send(ack)
        #expect(h.endpoint.state == .established)
        #expect(h.endpoint.sndWnd == 502 << 7)
        // Data segments carry 1460 − 12 bytes: the timestamps option takes 12 (RFC 6691).
        h.deliver(pattern(4000))
        let data = h.recv()
        #expect(data.first?.payload.count == 1448)
        #expect(data.first?.repr.timestamp?.echoReply == 123_457)
        // Our window is scaled by 3 from now on: 256 KiB >> 3.
        #expect(data.first?.window == (256 * 1024) >> 3)
    }

    @Test func modemRefusalResetsLikeAClosedPort() {
        var h = TCPHarness()
        h.endpoint.modemRefused(now: h.now)
        let out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].flags == [.rst])
        #expect(out[0].seq == SeqNumber(rawValue: 0))
        #expect(out[0].ack == h.appISN + 1)
        #expect(h.endpoint.isClosed)
        #expect(h.endpoint.closeReason == .modemRefused)
        #expect(!h.endpoint.wantsUnreachable)
    }

    @Test func noRouteAsksForICMPAndSendsNoSegment() {
        var h = TCPHarness()
        h.endpoint.modemUnreachable(now: h.now)
        #expect(h.recv().isEmpty)
        #expect(h.endpoint.isClosed)
        #expect(h.endpoint.wantsUnreachable)
    }

    @Test func appResetWhileWaitingForTheModem() {
        var h = TCPHarness()
        h.send(h.segment(ack: .none, flags: .rst))
        #expect(h.endpoint.isClosed)
        #expect(h.endpoint.closeReason == .appReset)
        #expect(h.recv().isEmpty)
    }

    @Test func ackBeforeSynAckIsDropped() {
        var h = TCPHarness()
        h.send(h.segment())
        #expect(h.endpoint.state == .awaitingModem)
        #expect(h.recv().isEmpty)
    }

    @Test func handshakeCompletes() {
        var h = TCPHarness()
        h.establish()
        #expect(h.endpoint.state == .established)
        #expect(h.endpoint.pollAt() == .never || {
            if case .at = h.endpoint.pollAt() { return true } else { return false }
        }())
        #expect(h.recv().isEmpty)
    }

    @Test func duplicateSynInSynReceivedResendsSynAck() {
        var h = TCPHarness()
        h.endpoint.modemOpened(now: h.now)
        #expect(h.recv().count == 1)
        h.send(TCPHarness.syn(seq: h.appISN))
        let again = h.recv()
        #expect(again.count == 1)
        #expect(again.first?.flags == [.syn])
        #expect(again.first?.seq == h.ourISN)
    }

    @Test func badAckInSynReceivedIsAnsweredWithReset() {
        var h = TCPHarness()
        h.endpoint.modemOpened(now: h.now)
        _ = h.recv()
        h.send(h.segment(ack: .some(h.ourISN + 100)))
        let out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].flags == [.rst])
        #expect(out[0].seq == h.ourISN + 100)
        #expect(out[0].ack == nil)
        #expect(h.endpoint.state == .synReceived)
    }

    @Test func synAckIsRetransmittedThenGivenUp() {
        var h = TCPHarness()
        h.endpoint.modemOpened(now: h.now)
        _ = h.recv()
        var times: [Instant] = []
        for _ in 0 ..< 20 {
            guard h.advanceToDeadline() else { break }
            let out = h.recv()
            if out.first?.flags == [.syn] { times.append(h.now) }
            if h.endpoint.isClosed { break }
        }
        // Five retransmissions 1, 2, 4, 8, 16 s apart, then the handshake is abandoned.
        #expect(times.count == 5)
        #expect(times.first == .zero + .seconds(1))
        #expect(times.last == .zero + .seconds(31))
        #expect(h.endpoint.isClosed)
        #expect(h.endpoint.closeReason == .handshakeTimeout)
    }

    @Test func missingMSSMeans536() {
        var h = TCPHarness(syn: TCPHarness.syn(seq: SeqNumber(rawValue: 9), mss: nil))
        h.establish()
        h.deliver(pattern(2000))
        #expect(h.recv().map(\.payload.count) == [536, 536, 536, 392])
    }

    @Test func resetReplyForUnknownFlows() {
        let syn = TCPHarness.syn(seq: SeqNumber(rawValue: 41))
        let r1 = TCPEndpoint.resetReply(to: syn, payloadLength: 0)
        #expect(r1?.flags == [.rst])
        #expect(r1?.ackNumber == SeqNumber(rawValue: 42))
        #expect(r1?.sequenceNumber == SeqNumber(rawValue: 0))
        #expect(r1?.destinationPort == TCPHarness.appPort)
        var ackSeg = syn
        ackSeg.flags = []
        ackSeg.ackNumber = SeqNumber(rawValue: 900)
        let r2 = TCPEndpoint.resetReply(to: ackSeg, payloadLength: 10)
        #expect(r2?.sequenceNumber == SeqNumber(rawValue: 900))
        #expect(r2?.ackNumber == nil)
        var rst = syn
        rst.flags = .rst
        #expect(TCPEndpoint.resetReply(to: rst, payloadLength: 0) == nil)
    }
}

extension TCPHandshakeTests {
    @Test func modemThatNeverAnswersEndsInReset() {
        var h = TCPHarness()
        h.advance(.seconds(129))
        #expect(h.recv().isEmpty)
        h.advanceToDeadline()
        let out = h.recv()
        #expect(out.first?.flags == [.rst])
        #expect(out.first?.ack == h.appISN + 1)
        #expect(h.endpoint.closeReason == .handshakeTimeout)
    }

    @Test func ackWithFinRightAfterTheHandshake() {
        var h = TCPHarness()
        h.endpoint.modemOpened(now: h.now)
        _ = h.recv()
        // The app's first segment after the SYN-ACK carries data and FIN (a short request).
        h.sendData(pattern(20), fin: true)
        #expect(h.endpoint.state == .closeWait)
        #expect(h.recv().last?.ack == h.appNext)
        #expect(h.pendingForModem() == pattern(20))
    }

    @Test func windowScaleZeroFromTheAppStillGetsOurScale() {
        var syn = TCPHarness.syn(seq: SeqNumber(rawValue: 50))
        syn.windowScale = 0
        var h = TCPHarness(syn: syn)
        h.endpoint.modemOpened(now: h.now)
        let synAck = h.recv().first
        #expect(synAck?.repr.windowScale == 3)
        h.send(h.segment(window: 1000))
        #expect(h.endpoint.sndWnd == 1000)  // the app's shift is 0
    }

    @Test func scalingOffWhenTheAppDoesNotOfferIt() {
        var h = TCPHarness()
        h.establish()
        h.sendData(pattern(10))
        // Unscaled: 16 bits cap the window even though the buffer is 256 KiB.
        #expect(h.recv().first?.window == 65535 - 10)
    }
}
