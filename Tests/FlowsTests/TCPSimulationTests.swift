import Buffers
import Testing
@testable import Flows
import Wire

/// The endpoint and the reference peer across a lossy, reordering, duplicating link, with
/// a modem that drains and feeds at a bounded rate: 10 MiB each way, every byte checked.
@Suite struct TCPSimulationTests {
    struct Outcome {
        var simulatedTime: Duration
        var toModem = 0
        var modemMismatches = 0
        var peer: ReferencePeer
        var endpointRetransmits = 0
        var endpointDrops = 0
        var linkLost = 0
        var closeReason: TCPCloseReason?
        var budgetLeft = 0
        var iterations = 0
        var upDoneAt: Instant?
        var downDoneAt: Instant?
    }

    static func run(
        seed: UInt64, bytes: Int, loss: Double, duplicates: Double = 0.01, jitter: Duration = .milliseconds(3),
        peerKeepsOutOfOrder: Bool = true
    ) -> Outcome {
        var random = SimulationRandom(seed: seed)
        let budget = TCPBufferBudget(limit: 4 << 20)
        var now = Instant.zero
        var toEndpoint = SimulationLink(lossRate: loss, duplicateRate: duplicates, baseDelay: .microseconds(500), jitter: jitter)
        var toPeer = SimulationLink(lossRate: loss, duplicateRate: duplicates, baseDelay: .microseconds(500), jitter: jitter)
        let upSeed: UInt64 = 0xA5A5, downSeed: UInt64 = 0x5A5A
        var peer = ReferencePeer(iss: SeqNumber(rawValue: UInt32.max - 5000), total: bytes, seed: upSeed, receiveSeed: downSeed)
        peer.keepsOutOfOrder = peerKeepsOutOfOrder
        var endpoint: TCPEndpoint?
        var toModem = 0, fromModem = 0, modemMismatches = 0
        var modemOpenAt: Instant?
        var modemFinished = false
        var iterations = 0
        let modemRatePerMs = 48 * 1024  // what the "modem" takes and gives per millisecond
        var upDoneAt: Instant?, downDoneAt: Instant?

        while iterations < 2_000_000 && now < .zero + .seconds(600) {
            iterations += 1
            // Packets arriving now.
            for p in toEndpoint.arrivals(now: now) {
                if var e = endpoint.take() {  // take: no copy-on-write of its buffers
                    p.payload.withUnsafeBytes { e.process(p.repr, payload: $0, now: now) }
                    endpoint = e
                } else if let e = TCPEndpoint(
                    syn: p.repr, initialSequence: SeqNumber(rawValue: 4_294_900_000), now: now, budget: budget) {
                    endpoint = e
                    modemOpenAt = now + .milliseconds(20)  // the modem takes a while to connect
                }
            }
            for p in toPeer.arrivals(now: now) { peer.receive(p.repr, p.payload, now: now) }

            if var e = endpoint.take() {  // take: no copy-on-write of its buffers
                if let at = modemOpenAt, at <= now {
                    e.modemOpened(now: now)
                    modemOpenAt = nil
                }
                // The modem drains what the app sent and feeds what the server sends.
                let take = min(e.pendingForModemCount, modemRatePerMs)
                if take > 0 {
                    e.withPendingForModem { a, b in
                        var i = 0
                        for span in [a, b] {
                            for byte in span where i < take {
                                if byte != streamByte(toModem + i, seed: upSeed) { modemMismatches += 1 }
                                i += 1
                            }
                        }
                    }
                    e.modemAccepted(take, now: now)
                    toModem += take
                }
                let give = min(bytes - fromModem, e.roomForModemData, modemRatePerMs)
                if give > 0 {
                    let chunk = (fromModem ..< fromModem + give).map { streamByte($0, seed: downSeed) }
                    fromModem += chunk.withUnsafeBytes { e.deliverFromModem($0, now: now) }
                }
                if fromModem == bytes && !modemFinished {
                    e.modemClosed(now: now)
                    modemFinished = true
                }
                while e.dispatch(now: now, emit: { repr, payload in
                    toPeer.send(repr, Array(payload), now: now, random: &random)
                }) {}
                endpoint = e
            }
            for (repr, payload) in peer.output(now: now) {
                toEndpoint.send(repr, payload, now: now, random: &random)
            }
            peer.read(64 * 1024)

            if upDoneAt == nil && toModem == bytes { upDoneAt = now }
            if downDoneAt == nil && peer.received == bytes { downDoneAt = now }
            if let e = endpoint, e.isClosed, peer.done { break }
            if peer.resets > 0 { break }

            // Next event: a packet, a timer, or the modem's next millisecond.
            var next = now + .milliseconds(1)
            for candidate in [toEndpoint.nextArrival, toPeer.nextArrival, peer.nextTimer] {
                if let c = candidate, c > now, c < next { next = c }
            }
            if case .at(let t)? = endpoint?.pollAt(), t > now, t < next { next = t }
            now = next
        }
        return Outcome(
            simulatedTime: now - .zero, toModem: toModem, modemMismatches: modemMismatches, peer: peer,
            endpointRetransmits: endpoint?.segmentsRetransmitted ?? 0, endpointDrops: endpoint?.segmentsDropped ?? 0,
            linkLost: toEndpoint.lost + toPeer.lost, closeReason: endpoint?.closeReason,
            budgetLeft: budget.reserved, iterations: iterations, upDoneAt: upDoneAt, downDoneAt: downDoneAt)
    }

    @Test func tenMebibytesEachWayAcrossALossyReorderingLink() {
        let total = 10 << 20
        // 2 % loss each way, 1 % duplicates, 0.5–2.5 ms one-way delay (so most segments
        // overtake or are overtaken), a 20 ms modem connect.
        let outcome = Self.run(seed: 0x7C9_2026, bytes: total, loss: 0.02, jitter: .milliseconds(2))
        #expect(outcome.toModem == total)
        #expect(outcome.modemMismatches == 0)
        #expect(outcome.peer.received == total)
        #expect(outcome.peer.mismatches == 0)
        #expect(outcome.peer.finReceived)
        #expect(outcome.peer.finAcked)
        #expect(outcome.peer.resets == 0)
        #expect(outcome.closeReason == .finished)
        #expect(outcome.budgetLeft == 0)
        // The link really lost segments and the endpoint really recovered from it.
        #expect(outcome.linkLost > 100)
        #expect(outcome.endpointRetransmits > 0)
        print("simulation: up done \(String(describing: outcome.upDoneAt)), down done \(String(describing: outcome.downDoneAt)), \(outcome.simulatedTime) simulated, \(outcome.iterations) steps, link lost \(outcome.linkLost), endpoint retransmitted \(outcome.endpointRetransmits), dropped \(outcome.endpointDrops)")
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func shorterTransfersUnderHeavierLoss(_ seed: UInt64) {
        let total = 300_000
        // The peer drops out-of-order segments here: every loss costs a go-back.
        let outcome = Self.run(seed: seed, bytes: total, loss: 0.08, peerKeepsOutOfOrder: false)
        #expect(outcome.toModem == total)
        #expect(outcome.modemMismatches == 0)
        #expect(outcome.peer.received == total)
        #expect(outcome.peer.mismatches == 0)
        #expect(outcome.peer.done)
        #expect(outcome.closeReason == .finished)
        #expect(outcome.budgetLeft == 0)
    }
}
