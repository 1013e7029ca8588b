import Buffers
import Testing
@testable import Flows
import Wire

/// ESTABLISHED: data both ways, windows, retransmission, reordering.
@Suite struct TCPEstablishedTests {
    // MARK: App → modem

    @Test func dataFromAppIsAckedAndHeldForTheModem() {
        var h = TCPHarness()
        h.establish()
        let bytes = pattern(1000)
        h.sendData(bytes)
        let out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].ack == h.appNext)
        #expect(out[0].flags == [])
        // The right edge stays put: growing it by less than an MSS is not worth an update
        // (receiver SWS avoidance, RFC 9293 §3.8.6.2.2).
        #expect(out[0].window == 65535 - 1000)
        #expect(h.pendingForModem() == bytes)
        #expect(h.endpoint.bytesFromApp == 1000)
        // Taking part leaves the rest in order.
        h.endpoint.modemAccepted(400, now: h.now)
        #expect(h.pendingForModem() == Array(bytes[400...]))
    }

    @Test func windowFillsAndReopensAsTheModemDrains() {
        var config = TCPConfig()
        config.receiveBufferCapacity = 8192
        var h = TCPHarness(config: config)
        h.establish()
        // Fill the 8 KiB window in 1 KiB segments.
        for i in 0 ..< 8 { h.sendData(pattern(1024, from: i * 1024)) }
        var out = h.recv()
        #expect(out.last?.window == 0)
        #expect(out.last?.ack == h.appNext)
        // One more byte beyond the window is not accepted; the ACK repeats the window.
        h.send(h.segment(payloadLength: 1), [9])
        out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].ack == h.appNext)
        #expect(out[0].window == 0)
        #expect(h.endpoint.pendingForModemCount == 8192)
        // A small drain does not reopen the window (receiver SWS avoidance) ...
        h.endpoint.modemAccepted(100, now: h.now)
        #expect(h.recv().isEmpty)
        // ... a real one does, at once, with a window update.
        h.endpoint.modemAccepted(4000, now: h.now)
        out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].window == 4100)
        #expect(h.pendingForModem() == pattern(8192 - 4100, from: 4100))
    }

    @Test func outOfOrderAndOverlappingSegmentsAreReassembled() {
        var h = TCPHarness()
        h.establish()
        let bytes = pattern(5000)
        let base = h.appNext
        // 3000..<4000 first, then 1000..<2500, then 0..<1200 (overlapping), then
        // 2000..<3500 (overlapping both sides), then 3900..<5000.
        var acks: [Int] = []
        for r in [3000 ..< 4000, 1000 ..< 2500, 0 ..< 1200, 2000 ..< 3500, 3900 ..< 5000] {
            h.send(h.segment(seq: base + r.lowerBound, payloadLength: r.count), Array(bytes[r]))
            acks += h.recv().compactMap(\.ack).map { $0 - base }
        }
        #expect(acks == [0, 0, 2500, 4000, 5000])
        #expect(h.pendingForModem() == bytes)
        #expect(h.endpoint.bytesFromApp == 5000)
    }

    @Test func sackBlocksReportHeldRanges() {
        var h = TCPHarness(syn: TCPHarness.linuxSYN(seq: SeqNumber(rawValue: 1000)))
        h.establish()
        let base = h.appNext
        h.send(h.segment(seq: base + 2000, payloadLength: 500), pattern(500))
        var out = h.recv()
        h.send(h.segment(seq: base + 4000, payloadLength: 500), pattern(500))
        out += h.recv()
        #expect(out.count == 2)
        #expect(out[1].ack == base)
        // The block holding the latest arrival comes first (RFC 2018 §4).
        #expect(out[1].repr.sackRanges == [
            SACKBlocks.Block(left: base + 4000, right: base + 4500),
            SACKBlocks.Block(left: base + 2000, right: base + 2500),
        ])
    }

    @Test func segmentsOutsideTheWindowAreAckedAndDropped() {
        var h = TCPHarness()
        h.establish()
        h.sendData(pattern(100))
        _ = h.recv()
        // An old duplicate.
        h.send(h.segment(seq: h.appNext - 100, payloadLength: 100), pattern(100))
        var out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].ack == h.appNext)
        // Far beyond the window.
        h.send(h.segment(seq: h.appNext + 1_000_000, payloadLength: 10), pattern(10))
        out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].ack == h.appNext)
        #expect(h.endpoint.pendingForModemCount == 100)
    }

    // MARK: Modem → app

    @Test func dataToAppRespectsItsWindow() {
        var h = TCPHarness()
        h.appWindow = 3000
        h.establish()
        #expect(h.deliver(pattern(10_000)) == 3000)  // buffered up to the app's window
        let out = h.recv()
        #expect(out.map(\.payload.count) == [1460, 1460, 80])
        #expect(out.map { $0.seq - h.ourISN } == [1, 1461, 2921])
        #expect(out.flatMap(\.payload) == pattern(3000))
        // Nothing more until the app ACKs.
        #expect(h.deliver(pattern(10, from: 3000)) == 0)
        h.appAck = h.ourISN + 1 + 3000
        h.send(h.segment())
        #expect(h.endpoint.bytesToApp == 3000)
        #expect(h.deliver(pattern(10, from: 3000)) == 10)
        #expect(h.recv().first?.payload == pattern(10, from: 3000))
    }

    @Test func zeroWindowIsProbedUntilItReopens() {
        var h = TCPHarness()
        h.establish()
        h.appWindow = 0
        h.send(h.segment())
        // One segment's worth is buffered so a probe has a byte to carry.
        #expect(h.deliver(pattern(5000)) == 1460)
        #expect(h.recv().isEmpty)
        guard case .at(let first) = h.endpoint.pollAt() else {
            Issue.record("no persist timer")
            return
        }
        // Probes carry one byte; each is answered with the window still zero.
        var probeTimes: [Instant] = []
        for _ in 0 ..< 4 {
            h.advanceToDeadline()
            let out = h.recv()
            #expect(out.count == 1)
            #expect(out.first?.payload.count == 1)
            #expect(out.first?.seq == h.ourISN + 1)
            probeTimes.append(h.now)
            h.send(h.segment())  // ACK of nothing new, window 0
        }
        #expect(probeTimes.first == first)
        // Backoff: each interval at least as long as the one before.
        let gaps = zip(probeTimes.dropFirst(), probeTimes).map { $0 - $1 }
        #expect(gaps == gaps.sorted())
        #expect(gaps.last! > gaps.first!)
        #expect(!h.endpoint.isClosed)
        // The app opens its window: accepts the probe byte and the rest flows.
        h.appWindow = 65535
        h.appAck = h.ourISN + 2
        h.send(h.segment())
        let out = h.recv()
        #expect(out.flatMap(\.payload) == Array(pattern(1460)[1...]))
    }

    @Test func lostDataIsRetransmittedWithBackoff() {
        var h = TCPHarness()
        h.establish()
        h.deliver(pattern(1000))
        let first = h.recv()
        #expect(first.count == 1)
        // The app never answers. The handshake measured an RTT of 0, so RTO is the 200 ms
        // floor, doubled on each expiry (RFC 6298 §5.5): 200, 400, 800 ms apart.
        var times: [Instant] = []
        for _ in 0 ..< 3 {
            h.advanceToDeadline()
            let out = h.recv()
            #expect(out.count == 1)
            #expect(out.first?.payload == pattern(1000))
            #expect(out.first?.seq == h.ourISN + 1)
            times.append(h.now)
        }
        let expected: [Instant] = [.milliseconds(200), .milliseconds(600), .milliseconds(1400)]
        #expect(times == expected)
        #expect(h.endpoint.segmentsRetransmitted == 3)
        h.appAck = h.ourISN + 1001
        h.send(h.segment())
        #expect(h.endpoint.pollAt() == .at(h.now + .seconds(120)))  // only keepalive left
    }

    @Test func retransmissionsGiveUpWithReset() {
        var config = TCPConfig()
        config.maxRetransmissions = 3
        var h = TCPHarness(config: config)
        h.establish()
        h.deliver(pattern(10))
        _ = h.recv()
        var last: [SentSegment] = []
        for _ in 0 ..< 10 where !h.endpoint.isClosed {
            h.advanceToDeadline()
            last = h.recv()
        }
        #expect(h.endpoint.isClosed)
        #expect(h.endpoint.closeReason == .retransmitTimeout)
        #expect(last.last?.flags == [.rst])
    }

    @Test func rttSamplesShrinkTheTimeout() {
        var h = TCPHarness()
        h.establish()
        for i in 0 ..< 20 {
            h.deliver(pattern(100, from: i * 100))
            _ = h.recv()
            h.advance(.milliseconds(10))
            h.appAck = h.ourISN + 1 + (i + 1) * 100
            h.send(h.segment())
        }
        // SRTT ≈ 10 ms, so the RTO sits at the 200 ms floor.
        #expect(h.endpoint.rto.timeout == .milliseconds(200))
        let srtt = h.endpoint.rto.smoothedRTT ?? .zero
        #expect(srtt > .milliseconds(9) && srtt <= .milliseconds(10))
    }

    @Test func threeDuplicateAcksTriggerFastRetransmit() {
        var h = TCPHarness()
        h.establish()
        h.deliver(pattern(1460 * 6))
        let out = h.recv()
        #expect(out.count == 6)
        // Segment 0 lost: the app ACKs nothing new three times (once per later segment).
        for _ in 0 ..< 2 {
            h.send(h.segment())
            #expect(h.recv().isEmpty)
        }
        h.send(h.segment())
        let resent = h.recv()
        #expect(resent.count == 1)
        #expect(resent.first?.seq == h.ourISN + 1)
        #expect(resent.first?.payload == pattern(1460))
        // A partial ACK (segment 0 and 1 now held) retransmits the next hole (RFC 6582).
        h.appAck = h.ourISN + 1 + 2 * 1460
        h.send(h.segment())
        let next = h.recv()
        #expect(next.first?.seq == h.ourISN + 1 + 2 * 1460)
        // A full ACK ends recovery; nothing was retransmitted by timeout.
        h.appAck = h.ourISN + 1 + 6 * 1460
        h.send(h.segment())
        #expect(h.endpoint.recover == nil)
        #expect(h.endpoint.segmentsRetransmitted == 2)
        #expect(h.now == .zero)
    }

    @Test func keepaliveProbesAnIdleAppAndResetsASilentOne() {
        var h = TCPHarness()
        h.establish()
        h.advanceToDeadline()
        #expect(h.now == .zero + .seconds(120))
        var out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].seq == h.ourISN)  // SND.NXT − 1
        #expect(out[0].payload.isEmpty)
        // The app answers: the idle clock restarts.
        h.send(h.segment())
        h.advanceToDeadline()
        #expect(h.now == .zero + .seconds(240))
        _ = h.recv()
        // Now silence: 4 probes 15 s apart, then a reset.
        for _ in 0 ..< 10 where !h.endpoint.isClosed {
            h.advanceToDeadline()
            out = h.recv()
        }
        #expect(h.endpoint.closeReason == .keepaliveTimeout)
        #expect(out.last?.flags == [.rst])
        #expect(h.now == .zero + .seconds(240 + 4 * 15))
    }

    @Test func pawsDropsOldTimestamps() {
        var h = TCPHarness(syn: TCPHarness.linuxSYN(seq: SeqNumber(rawValue: 1), tsval: 500))
        h.establish()
        var seg = h.segment(payloadLength: 10)
        seg.timestamp = TCPTimestamp(value: 600, echoReply: 0)
        h.send(seg, pattern(10))
        h.appNext = h.appNext + 10
        _ = h.recv()
        // A segment with an older TSval is an old duplicate: ACKed, not taken.
        var old = h.segment(payloadLength: 10)
        old.timestamp = TCPTimestamp(value: 550, echoReply: 0)
        h.send(old, pattern(10, from: 10))
        let out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].ack == h.appNext)
        #expect(out[0].repr.timestamp?.echoReply == 600)
        #expect(h.endpoint.pendingForModemCount == 10)
    }

    // MARK: Limits

    @Test func sharedBudgetBoundsMemoryAndIsGivenBack() {
        let budget = TCPBufferBudget(limit: 16384)
        var a = TCPHarness(budget: budget)
        var b = TCPHarness(appISN: SeqNumber(rawValue: 3), budget: budget)
        a.establish()
        b.establish()
        a.sendData(pattern(1460 * 11))
        _ = a.recv()
        #expect(budget.reserved == 16384)
        // The budget is spent: b cannot hold the bytes, so it does not ACK them (the app
        // will retransmit) rather than grow past the limit.
        let before = b.appNext
        b.sendData(pattern(100))
        #expect(b.recv().last?.ack == before)
        #expect(b.endpoint.pendingForModemCount == 0)
        #expect(budget.reserved == 16384)
        #expect(budget.refusals > 0)
        // A flow opened now offers a zero window.
        var c = TCPHarness(appISN: SeqNumber(rawValue: 7), budget: budget)
        c.endpoint.modemOpened(now: c.now)
        #expect(c.recv().first?.window == 0)
        // a's modem drains and a closes: the memory is back, and b's retransmission fits.
        a.modemTakesAll()
        a.endpoint.close(now: a.now)
        #expect(budget.reserved == 0)
        b.send(b.segment(seq: before, payloadLength: 100), pattern(100))
        #expect(b.recv().last?.ack == before + 100)
        #expect(b.pendingForModem() == pattern(100))
        b.endpoint.close(now: b.now)
        c.endpoint.close(now: c.now)
        #expect(budget.reserved == 0)
    }

    @Test func modemThatNeverTakesAckedBytesResetsTheFlow() {
        var h = TCPHarness()
        h.establish()
        h.sendData(pattern(500))
        _ = h.recv()
        h.advance(.seconds(119))
        _ = h.recv()
        #expect(!h.endpoint.isClosed)
        h.advance(.seconds(1))
        let out = h.recv()
        #expect(out.last?.flags == [.rst])
        #expect(h.endpoint.closeReason == .undeliverable)
        #expect(h.endpoint.bytesUndelivered == 500)
    }

    @Test func modemFailureWithAckedBytesCountsThemUndelivered() {
        var h = TCPHarness()
        h.establish()
        h.sendData(pattern(300))
        _ = h.recv()
        h.endpoint.modemFailed(now: h.now)
        let out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].flags == [.rst])
        #expect(out[0].seq == h.ourISN + 1)
        #expect(h.endpoint.closeReason == .undeliverable)
        #expect(h.endpoint.bytesUndelivered == 300)
        #expect(h.budget.reserved == 0)
    }
}

extension TCPEstablishedTests {
    @Test func zeroWindowStillTakesTheAppsAcks() {
        var config = TCPConfig()
        config.receiveBufferCapacity = 4096
        var h = TCPHarness(config: config)
        h.establish()
        h.deliver(pattern(1000))
        _ = h.recv()
        h.sendData(pattern(4096))
        #expect(h.recv().last?.window == 0)
        // More data into the closed window, carrying a new ACK: the data is dropped, the
        // ACK counts (RFC 9293 §3.10.7.4: "special allowance ... to accept valid ACKs").
        h.appAck = h.ourISN + 1001
        h.send(h.segment(payloadLength: 100), pattern(100))
        #expect(h.endpoint.bytesToApp == 1000)
        #expect(h.endpoint.pendingForModemCount == 4096)
        let out = h.recv()
        #expect(out.count == 1)
        #expect(out.first?.ack == h.appNext)
        #expect(out.first?.window == 0)
    }

    @Test func noWindowUpdatesAfterTheAppsFin() {
        var config = TCPConfig()
        config.receiveBufferCapacity = 8192
        var h = TCPHarness(config: config)
        h.establish()
        h.sendData(pattern(8192), fin: true)
        _ = h.recv()
        h.modemTakesAll()
        #expect(h.recv().isEmpty)
        #expect(h.endpoint.appFinished)
    }

    @Test func dataBothWaysInterleaved() {
        var h = TCPHarness()
        h.establish()
        var up: [UInt8] = []
        var down: [UInt8] = []
        for i in 0 ..< 50 {
            h.deliver(pattern(700, from: i * 700, seed: 2))
            for segment in h.recv() {
                down += segment.payload
                h.appAck = segment.seq + segment.payload.count
            }
            h.sendData(pattern(900, from: i * 900, seed: 1))
            up += h.modemTakesAll()
        }
        #expect(up == pattern(50 * 900, seed: 1))
        #expect(down == pattern(50 * 700, seed: 2))
        #expect(h.endpoint.bytesToApp == 50 * 700)  // every ACK rode on the app's data
    }
}

extension TCPEstablishedTests {
    @Test func segmentsStopWhereTheSendRingWraps() {
        var config = TCPConfig()
        config.sendBufferCapacity = 8192
        var h = TCPHarness(config: config)
        h.establish()
        // A first lap moves the ring's head to 5000 ...
        h.deliver(pattern(5000))
        let first = h.recv()
        h.appAck = h.ourISN + 5001
        h.send(h.segment())
        // ... so the next 5000 bytes wrap after 3192 of them.
        h.deliver(pattern(5000, from: 5000))
        let second = h.recv()
        #expect(first.flatMap(\.payload) + second.flatMap(\.payload) == pattern(10_000))
        #expect(second.map(\.payload.count) == [1460, 1460, 272, 1460, 348])
    }
}

extension TCPEstablishedTests {
    @Test func smallModemDrainsAddUpToAWindowUpdate() {
        var config = TCPConfig()
        config.receiveBufferCapacity = 8192
        var h = TCPHarness(config: config)
        h.establish()
        h.sendData(pattern(8192))
        #expect(h.recv().last?.window == 0)
        // 500 bytes at a time: no update until the edge can move a full MSS (1460).
        var updates: [Int] = []
        for _ in 0 ..< 6 {
            h.endpoint.modemAccepted(500, now: h.now)
            updates += h.recv().map(\.window)
        }
        #expect(updates == [1500, 3000])  // after 1500 bytes drained, then after 3000
    }
}

extension TCPEstablishedTests {
    @Test func duplicateDataIsReportedWithDSACK() {
        var h = TCPHarness(syn: TCPHarness.linuxSYN(seq: SeqNumber(rawValue: 1000)))
        h.establish()
        let base = h.appNext
        h.sendData(pattern(3000))
        _ = h.recv()
        // The app retransmits 1000..<2000 (its ACK was late): D-SACK names those bytes.
        h.send(h.segment(seq: base + 1000, payloadLength: 1000), Array(pattern(3000)[1000 ..< 2000]))
        var out = h.recv()
        #expect(out.count == 1)
        #expect(out[0].ack == base + 3000)
        #expect(Array(out[0].repr.sackRanges) == [SACKBlocks.Block(left: base + 1000, right: base + 2000)])
        // Reported once only.
        h.sendData(pattern(10, from: 3000))
        out = h.recv()
        #expect(out.first?.repr.sackRanges.isEmpty == true)
        // A segment half old, half new: the old half is the D-SACK block, ahead of a hole's.
        h.send(h.segment(seq: base + 5000, payloadLength: 100), pattern(100))
        _ = h.recv()
        h.send(h.segment(seq: base + 3005, payloadLength: 20), pattern(20, from: 3005))
        out = h.recv()
        #expect(Array(out[0].repr.sackRanges) == [
            SACKBlocks.Block(left: base + 3005, right: base + 3010),
            SACKBlocks.Block(left: base + 5000, right: base + 5100),
        ])
        #expect(h.pendingForModem() == pattern(3025))
    }
}

/// The app's SACK blocks steer retransmissions (RFC 6675).
extension TCPEstablishedTests {
    /// A Linux-like app with SACK, established, with six segments from us in flight.
    static func sixInFlight() -> (TCPHarness, [SentSegment]) {
        var h = TCPHarness(syn: TCPHarness.linuxSYN(seq: SeqNumber(rawValue: 1000)))
        h.establish()
        h.deliver(pattern(1448 * 6))
        let sent = h.recv()
        return (h, sent)
    }

    /// A duplicate ACK from the app SACKing the given segments (indices into `sent`).
    static func dupAck(_ h: TCPHarness, _ sent: [SentSegment], sacking runs: [ClosedRange<Int>]) -> TCPRepr {
        var ack = h.segment()
        for run in runs {
            ack.sackRanges.append(SACKBlocks.Block(
                left: sent[run.lowerBound].seq, right: sent[run.upperBound].seq + sent[run.upperBound].payload.count))
        }
        return ack
    }

    @Test func sackedHolesAreRetransmittedWithoutWaitingForPartialAcks() {
        var (h, sent) = Self.sixInFlight()
        #expect(sent.count == 6)
        // Segments 0 and 3 are lost; 1, 2, 4, 5 arrive, each answered with a duplicate ACK.
        h.send(Self.dupAck(h, sent, sacking: [1 ... 1]))
        h.send(Self.dupAck(h, sent, sacking: [1 ... 2]))
        #expect(h.recv().isEmpty)  // limited transmit has no new data to send
        h.send(Self.dupAck(h, sent, sacking: [1 ... 2, 4 ... 4]))
        let first = h.recv()
        #expect(first.map(\.seq) == [sent[0].seq])  // fast retransmit of the first hole
        h.send(Self.dupAck(h, sent, sacking: [1 ... 2, 4 ... 5]))
        let second = h.recv()
        #expect(second.map(\.seq) == [sent[3].seq])  // the next hole, at once
        #expect(second.first?.payload == sent[3].payload)
        // Both holes filled: everything is acknowledged, recovery ends.
        h.appAck = sent[5].seq + sent[5].payload.count
        h.send(h.segment())
        #expect(h.endpoint.recover == nil)
        #expect(h.endpoint.segmentsRetransmitted == 2)
        #expect(h.recv().isEmpty)
    }

    @Test func timeoutResendsOnlyWhatWasNotSacked() {
        var (h, sent) = Self.sixInFlight()
        // Segment 0 lost; the app SACKs 1...5 in two duplicate ACKs (too few for fast
        // retransmit), then the timer runs out.
        h.send(Self.dupAck(h, sent, sacking: [1 ... 3]))
        h.send(Self.dupAck(h, sent, sacking: [1 ... 5]))
        _ = h.recv()
        h.advanceToDeadline()
        let resent = h.recv()
        #expect(resent.map(\.seq) == [sent[0].seq])
        // Nothing more goes out before the app answers.
        #expect(h.recv().isEmpty)
        // A second timeout in a row forgets the SACKs (the app may have reneged)...
        h.advanceToDeadline()
        #expect(h.recv().map(\.seq) == [sent[0].seq])
        #expect(h.endpoint.scoreboard.isEmpty)
    }
}

extension TCPEstablishedTests {
    struct TUNFull: Error {}

    @Test func aRefusedEmitLeavesTheSegmentToSendAgain() {
        var h = TCPHarness()
        h.establish()
        h.deliver(pattern(1000))
        // The TUN is full: emit throws, and nothing counts as sent.
        #expect(throws: TUNFull.self) {
            try h.endpoint.dispatch(now: h.now) { _, _ throws(TUNFull) in throw TUNFull() }
        }
        #expect(h.endpoint.sndNxt == h.ourISN + 1)
        let out = h.recv()
        #expect(out.map(\.payload.count) == [1000])
        #expect(out.first?.seq == h.ourISN + 1)
    }
}

extension TCPEstablishedTests {
    @Test func aWindowSmallerThanASegmentIsUsedWhenNothingIsInFlight() {
        var h = TCPHarness()
        h.establish()  // the app offered 65535 in its SYN and ACK
        // Its receive buffer is tiny now: 508 bytes of window, less than a segment.
        h.appWindow = 508
        h.send(h.segment())
        h.deliver(pattern(1460))
        // Nothing is in flight, so waiting for a wider window gains nothing: fill this one.
        #expect(h.recv().map(\.payload.count) == [508])
        // With those 508 bytes out, sender SWS avoidance waits for their ACK ...
        h.appWindow = 1000
        h.send(h.segment())
        #expect(h.recv().isEmpty)
        // ... which lets the next short segment go.
        h.appAck = h.ourISN + 509
        h.appWindow = 508
        h.send(h.segment())
        #expect(h.recv().map(\.payload.count) == [508])
    }
}
