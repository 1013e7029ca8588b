import Buffers
import Testing
@testable import Flows
import Wire

/// The flow table: routing segments to flows, limits, counters, and draining to zero.
@Suite struct FlowTableTests {
    static let app = IPAddress.v4(IPv4Address(10, 0, 0, 2))
    static let server = IPAddress.v4(IPv4Address(192, 0, 2, 1))

    static func key(_ port: UInt16, remotePort: UInt16 = 80) -> FlowKey {
        FlowKey(proto: .tcp, appAddress: app, appPort: port, remoteAddress: server, remotePort: remotePort)
    }

    static func segment(
        _ key: FlowKey, seq: SeqNumber, ack: SeqNumber?, flags: TCPFlags = [], window: UInt16 = 65535
    ) -> TCPRepr {
        TCPRepr(
            sourcePort: key.appPort, destinationPort: key.remotePort, sequenceNumber: seq,
            ackNumber: ack, flags: flags, windowLength: window, maxSegmentSize: flags.contains(.syn) ? 1460 : nil)
    }

    /// Hands a segment to the table.
    @discardableResult
    static func send(
        _ table: inout FlowTable, _ key: FlowKey, _ seg: TCPRepr, _ payload: [UInt8] = [], now: Instant
    ) -> FlowTableTCPArrival {
        var seg = seg
        seg.payloadLength = payload.count
        return payload.withUnsafeBytes { table.receiveTCP(seg, payload: $0, key: key, now: now) }
    }

    /// Everything the flow of `key` emits now.
    static func drain(_ table: inout FlowTable, _ key: FlowKey, now: Instant) -> [SentSegment] {
        var out: [SentSegment] = []
        _ = table.withTCP(key) { endpoint in
            var n = 0
            while n < 1000, endpoint.dispatch(now: now, emit: { repr, payload in
                out.append(SentSegment(repr: repr, payload: Array(payload)))
            }) { n += 1 }
        }
        return out
    }

    @Test func synOpensAFlowAndOtherSegmentsWithoutOneGetRST() {
        var table = FlowTable(budget: TCPBufferBudget(limit: 1 << 20), isnSecret: 1)
        let k = Self.key(40000)
        let arrival = Self.send(&table, k, Self.segment(k, seq: SeqNumber(rawValue: 10), ack: nil, flags: .syn), now: .zero)
        guard case .opened = arrival else {
            Issue.record("expected .opened, got \(arrival)")
            return
        }
        #expect(table.count == 1)
        #expect(table[k]?.stateName == "AWAITING-MODEM")
        table.setModemSocket(3, for: k)
        #expect(table[k]?.modemSocket == 3)

        // An ACK for a pair with no flow: RST <SEQ=SEG.ACK>.
        let other = Self.key(40001)
        let reply = Self.send(&table, other, Self.segment(other, seq: SeqNumber(rawValue: 5), ack: SeqNumber(rawValue: 99)), now: .zero)
        guard case .reset(let rst) = reply else {
            Issue.record("expected .reset, got \(reply)")
            return
        }
        #expect(rst.sequenceNumber == SeqNumber(rawValue: 99))
        #expect(rst.destinationPort == 40001)
        #expect(table.counters.resetsForUnknownFlows == 1)
        // A stray RST is never answered.
        let rstArrival = Self.send(&table, other, Self.segment(other, seq: SeqNumber(rawValue: 5), ack: nil, flags: .rst), now: .zero)
        guard case .dropped = rstArrival else {
            Issue.record("expected .dropped, got \(rstArrival)")
            return
        }
    }

    @Test func isnDependsOnTheFlowAndTheClock() {
        let table = FlowTable(budget: TCPBufferBudget(limit: 0), isnSecret: 42)
        let a = table.initialSequence(for: Self.key(1), now: .zero)
        let b = table.initialSequence(for: Self.key(2), now: .zero)
        let a4 = table.initialSequence(for: Self.key(1), now: Instant(nanoseconds: 4_000_000))
        #expect(a != b)
        #expect(a4 - a == 1000)  // M ticks every 4 µs (RFC 6528)
    }

    @Test func fullTableRefusesWithRSTButEvictsTimeWaitFirst() {
        var config = TCPConfig()
        config.timeWait = .seconds(30)
        var table = FlowTable(maxFlows: 2, tcpConfig: config, budget: TCPBufferBudget(limit: 1 << 20), isnSecret: 7)
        let a = Self.key(1), b = Self.key(2), c = Self.key(3)
        Self.send(&table, a, Self.segment(a, seq: SeqNumber(rawValue: 100), ack: nil, flags: .syn), now: .zero)
        Self.send(&table, b, Self.segment(b, seq: SeqNumber(rawValue: 100), ack: nil, flags: .syn), now: .zero)
        let refused = Self.send(&table, c, Self.segment(c, seq: SeqNumber(rawValue: 100), ack: nil, flags: .syn), now: .zero)
        guard case .refused(let rst) = refused else {
            Issue.record("expected .refused, got \(refused)")
            return
        }
        #expect(rst.flags == .rst)
        #expect(rst.ackNumber == SeqNumber(rawValue: 101))
        #expect(table.counters.refusedTableFull == 1)

        // Take a through a full close into TIME-WAIT: then c fits, evicting it.
        Self.closeThroughTimeWait(&table, a, appISN: SeqNumber(rawValue: 100), now: .zero)
        #expect(table[a]?.stateName == "TIME-WAIT")
        let opened = Self.send(&table, c, Self.segment(c, seq: SeqNumber(rawValue: 100), ack: nil, flags: .syn), now: .zero)
        guard case .opened = opened else {
            Issue.record("expected .opened, got \(opened)")
            return
        }
        #expect(table[a]?.key == nil)
        #expect(table.counters.evictedTimeWait == 1)
        #expect(table.count == 2)
    }

    /// Handshake, modem closes first, app FIN: the flow of `key` ends in TIME-WAIT.
    static func closeThroughTimeWait(_ table: inout FlowTable, _ key: FlowKey, appISN: SeqNumber, now: Instant) {
        _ = table.withTCP(key) { $0.modemOpened(now: now) }
        let synAck = drain(&table, key, now: now)
        guard let ours = synAck.first?.seq else { return }
        send(&table, key, segment(key, seq: appISN + 1, ack: ours + 1), now: now)
        _ = table.withTCP(key) { $0.modemClosed(now: now) }
        _ = drain(&table, key, now: now)
        send(&table, key, segment(key, seq: appISN + 1, ack: ours + 2, flags: .fin), now: now)
        _ = drain(&table, key, now: now)
    }

    @Test func synForAPairInTimeWaitStartsANewConnection() {
        var table = FlowTable(budget: TCPBufferBudget(limit: 1 << 20), isnSecret: 9)
        let k = Self.key(5)
        Self.send(&table, k, Self.segment(k, seq: SeqNumber(rawValue: 100), ack: nil, flags: .syn), now: .zero)
        Self.closeThroughTimeWait(&table, k, appISN: SeqNumber(rawValue: 100), now: .zero)
        #expect(table[k]?.stateName == "TIME-WAIT")
        let again = Self.send(&table, k, Self.segment(k, seq: SeqNumber(rawValue: 5000), ack: nil, flags: .syn), now: .milliseconds(10))
        guard case .opened = again else {
            Issue.record("expected .opened, got \(again)")
            return
        }
        #expect(table[k]?.stateName == "AWAITING-MODEM")
        #expect(table.counters.opened == 2)
        #expect(table.counters.closedByReason[.finished] == 1)
    }

    @Test func connectionlessFlowsAreCountedToo() {
        var table = FlowTable(maxFlows: 4, budget: TCPBufferBudget(limit: 0), isnSecret: 1)
        let u = FlowKey(proto: .udp, appAddress: Self.app, appPort: 5353, remoteAddress: Self.server, remotePort: 53)
        let inserted = table.insert(u, now: .zero)
        #expect(inserted)
        table.recordTraffic(u, fromApp: 40, toApp: 120, now: .milliseconds(5))
        let s = table.snapshot(now: .milliseconds(10))
        #expect(s.count == 1)
        #expect(s.first?.bytesFromApp == 40)
        #expect(s.first?.bytesToApp == 120)
        #expect(s.first?.age == .milliseconds(10))
        #expect(s.first?.idle == .milliseconds(5))
        #expect(s.first?.state == "OPEN")
        table.remove(u, now: .milliseconds(10))
        #expect(table.isEmpty)
        #expect(table.counters.otherClosed == 1)
    }

    /// Issue 4: after 10,000 short connections the table and its buffers are back to zero.
    /// Each connection: handshake, 100 bytes up and 200 down, both FINs. Every tenth is
    /// refused by the modem and every tenth (another) is reset by the app halfway. Ports
    /// repeat, so new SYNs also land on pairs still in TIME-WAIT.
    @Test func tenThousandShortConnectionsDrainToZero() {
        let budget = TCPBufferBudget(limit: 8 << 20)
        var config = TCPConfig()
        config.receiveBufferCapacity = 16384
        config.sendBufferCapacity = 16384
        var table = FlowTable(maxFlows: 2048, tcpConfig: config, budget: budget, isnSecret: 3)
        var now = Instant.zero
        var maxFlows = 0
        var maxReserved = 0
        var delivered = 0
        let up = pattern(100, seed: 1)
        let down = pattern(200, seed: 2)

        for i in 0 ..< 10_000 {
            let k = Self.key(UInt16(20000 + i % 1500))
            let isn = SeqNumber(rawValue: UInt32(truncatingIfNeeded: i &* 7919))
            let opened = Self.send(&table, k, Self.segment(k, seq: isn, ack: nil, flags: .syn), now: now)
            guard case .opened = opened else {
                Issue.record("connection \(i): \(opened)")
                break
            }
            if i % 10 == 3 {
                _ = table.withTCP(k) { $0.modemRefused(now: now) }
                let refusal = Self.drain(&table, k, now: now)
                #expect(refusal.first?.flags == .rst)
                continue
            }
            _ = table.withTCP(k) { $0.modemOpened(now: now) }
            guard let ours = Self.drain(&table, k, now: now).first?.seq else {
                Issue.record("connection \(i): no SYN-ACK")
                break
            }
            Self.send(&table, k, Self.segment(k, seq: isn + 1, ack: ours + 1), now: now)
            Self.send(&table, k, Self.segment(k, seq: isn + 1, ack: ours + 1, flags: .fin), up, now: now)
            if i % 10 == 7 {
                Self.send(&table, k, Self.segment(k, seq: isn + 102, ack: nil, flags: .rst), now: now)
                continue
            }
            let taken = table.withTCP(k) { endpoint -> [UInt8] in
                let bytes = endpoint.withPendingForModem { a, b in Array(a) + Array(b) }
                endpoint.modemAccepted(bytes.count, now: now)
                return bytes
            }
            if taken == up { delivered += 1 }
            _ = table.withTCP(k) { endpoint in
                _ = down.withUnsafeBytes { endpoint.deliverFromModem($0, now: now) }
                endpoint.modemClosed(now: now)
            }
            let out = Self.drain(&table, k, now: now)
            #expect(out.flatMap(\.payload) == down)
            #expect(out.last?.flags.contains(.fin) == true)
            Self.send(&table, k, Self.segment(k, seq: isn + 102, ack: ours + 202), now: now)

            maxFlows = max(maxFlows, table.count)
            maxReserved = max(maxReserved, budget.reserved)
            if i % 100 == 99 {
                now = now + .milliseconds(50)
                _ = table.sweep(now: now)
            }
        }
        now = now + .seconds(60)
        for k in table.dueTCPFlows(now: now) { _ = Self.drain(&table, k, now: now) }
        _ = table.sweep(now: now)

        #expect(table.isEmpty)
        #expect(budget.reserved == 0)
        #expect(table.counters.opened == 10_000)
        #expect(table.counters.closedByReason[.finished] == 8000)
        #expect(table.counters.closedByReason[.modemRefused] == 1000)
        #expect(table.counters.closedByReason[.appReset] == 1000)
        #expect(table.counters.resets == 2000)
        #expect(delivered == 8000)
        #expect(maxFlows <= 2048)
        #expect(maxReserved <= budget.limit)
        #expect(table.pollAt() == .never)
    }

    @Test func ipv6FlowsAnnounceAnMSSTwentyBytesSmaller() {
        var table = FlowTable(budget: TCPBufferBudget(limit: 1 << 20), isnSecret: 5)
        let v6 = FlowKey(
            proto: .tcp, appAddress: .v6(IPv6Address(high: 0xFD00 << 48, low: 2)), appPort: 4000,
            remoteAddress: .v6(IPv6Address(high: 0x2001_0DB8 << 32, low: 1)), remotePort: 443)
        Self.send(&table, v6, Self.segment(v6, seq: SeqNumber(rawValue: 1), ack: nil, flags: .syn), now: .zero)
        _ = table.withTCP(v6) { $0.modemOpened(now: .zero) }
        let v4 = Self.key(4000)
        Self.send(&table, v4, Self.segment(v4, seq: SeqNumber(rawValue: 1), ack: nil, flags: .syn), now: .zero)
        _ = table.withTCP(v4) { $0.modemOpened(now: .zero) }
        #expect(Self.drain(&table, v6, now: .zero).first?.repr.maxSegmentSize == 1440)
        #expect(Self.drain(&table, v4, now: .zero).first?.repr.maxSegmentSize == 1460)
    }
}

extension FlowTableTests {
    /// Random segments over a few hundred port pairs, random modem answers and clock jumps:
    /// the table never holds more than its limit, the budget never passes its own, and once
    /// every flow is closed and swept both are back to zero.
    @Test(arguments: 0 ..< 5)
    func randomTrafficKeepsTheLimits(_ seed: Int) {
        var random = SimulationRandom(seed: UInt64(seed) &+ 77)
        let budget = TCPBufferBudget(limit: 300_000)
        var config = TCPConfig()
        config.receiveBufferCapacity = 20_000
        config.sendBufferCapacity = 20_000
        var table = FlowTable(maxFlows: 50, tcpConfig: config, budget: budget, isnSecret: 11)
        var now = Instant.zero
        for _ in 0 ..< 5000 {
            let k = Self.key(UInt16.random(in: 1000 ... 1300, using: &random))
            let known = table[k]?.tcp
            switch Int.random(in: 0 ..< 10, using: &random) {
            case 0 ... 2:
                let syn = Self.segment(k, seq: SeqNumber(rawValue: UInt32.random(in: 0 ... .max, using: &random)), ack: nil, flags: .syn)
                if case .opened = Self.send(&table, k, syn, now: now), Int.random(in: 0 ..< 10, using: &random) < 7 {
                    _ = table.withTCP(k) { $0.modemOpened(now: now) }
                }
            case 3:
                _ = table.withTCP(k) { e in
                    switch Int.random(in: 0 ..< 4, using: &random) {
                    case 0: e.modemOpened(now: now)
                    case 1: e.modemRefused(now: now)
                    case 2: e.modemClosed(now: now)
                    default: _ = pattern(3000).withUnsafeBytes { e.deliverFromModem($0, now: now) }
                    }
                }
            case 4:
                now = now + .milliseconds(Int64.random(in: 0 ... 5000, using: &random))
                _ = table.sweep(now: now)
            default:
                // Data or an ACK from the app, in sequence if the flow is known.
                let seq = known.map { $0.rcvNxt } ?? SeqNumber(rawValue: UInt32.random(in: 0 ... .max, using: &random))
                let ack = known.map { $0.sndNxt } ?? SeqNumber(rawValue: 1)
                let flags: TCPFlags = Int.random(in: 0 ..< 30, using: &random) == 0 ? .fin : []
                Self.send(&table, k, Self.segment(k, seq: seq, ack: ack, flags: flags),
                          pattern(Int.random(in: 0 ... 1400, using: &random)), now: now)
            }
            for key in table.dueTCPFlows(now: now) { _ = Self.drain(&table, key, now: now) }
            #expect(table.count <= 50)
            #expect(budget.reserved <= budget.limit)
        }
        for key in Array(table.keys) { _ = table.withTCP(key) { $0.close(now: now) } }
        _ = table.sweep(now: now)
        #expect(table.isEmpty)
        #expect(budget.reserved == 0)
        #expect(table.counters.opened > 50)
    }
}

extension FlowTableTests {
    @Test func noRouteAnswersTheHeldSYNWithICMPUnreachable() throws {
        var table = FlowTable(budget: TCPBufferBudget(limit: 1 << 20), isnSecret: 3)
        let k = Self.key(41000)
        let syn = TCPRepr(
            sourcePort: 41000, destinationPort: 80, sequenceNumber: SeqNumber(rawValue: 77), ackNumber: nil,
            flags: .syn, windowLength: 64240, maxSegmentSize: 1460, windowScale: 7, sackPermitted: true,
            timestamp: TCPTimestamp(value: 1, echoReply: 0))
        let ip = IPRepr(source: Self.app, destination: Self.server, protocol: .tcp, payloadLength: syn.bufferLength)
        var packet = [UInt8](repeating: 0, count: ip.bufferLength)
        packet.withUnsafeMutableBytes { buffer in
            ip.emit(into: buffer)
            syn.emit(into: UnsafeMutableRawBufferPointer(rebasing: buffer[ip.headerLength...]),
                     source: Self.app, destination: Self.server, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        let arrival = packet.withUnsafeBytes {
            table.receiveTCP(syn, payload: UnsafeRawBufferPointer(start: nil, count: 0), key: k, now: .zero, packet: $0)
        }
        guard case .opened = arrival else {
            Issue.record("expected .opened, got \(arrival)")
            return
        }
        #expect(table.unreachableReply(for: k) == nil)  // the modem has not said so yet
        _ = table.withTCP(k) { $0.modemUnreachable(now: .zero) }
        let reply = try #require(table.unreachableReply(for: k))
        try reply.withUnsafeBytes { raw in
            let answer = try IPPacket(validating: raw)
            #expect(answer.source == Self.server)
            #expect(answer.destination == Self.app)
            let icmp = try ICMPRepr.parse(answer.payload, source: answer.source, destination: answer.destination)
            #expect(icmp.message == .destinationUnreachable(.host))
            // The quote starts with the SYN's IP header.
            #expect(Array(answer.payload[8 ..< 28]) == Array(packet[0 ..< 20]))
        }
        // A flow the modem opened lets its SYN go.
        let other = Self.key(41001)
        _ = packet.withUnsafeBytes {
            table.receiveTCP(syn, payload: UnsafeRawBufferPointer(start: nil, count: 0), key: other, now: .zero, packet: $0)
        }
        #expect(table[other]?.heldSYN?.count == packet.count)
        _ = table.withTCP(other) { $0.modemOpened(now: .zero) }
        #expect(table[other]?.heldSYN == nil)
    }
}
