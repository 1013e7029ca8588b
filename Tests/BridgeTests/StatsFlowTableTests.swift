import Testing
import Buffers
import Flows
import Wire
@testable import Bridge

/// The flow table's snapshot and counters as the stats socket shows them.
@Suite struct StatsFlowTableTests {
    let t0 = Instant(nanoseconds: 100_000_000_000)

    func key(_ proto: Flows.FlowProtocol, _ app: String, _ appPort: UInt16, _ remote: String, _ remotePort: UInt16) -> FlowKey {
        FlowKey(proto: proto, appAddress: Wire.IPAddress(app)!, appPort: appPort, remoteAddress: Wire.IPAddress(remote)!, remotePort: remotePort)
    }

    @Test func snapshotRowsCarryEndpointsBytesSocketAndAgeOldestFirst() {
        var table = FlowTable(maxFlows: 8, budget: TCPBufferBudget(limit: 1 << 20))
        let udp6 = key(.udp, "fd00::2", 5353, "2001:db8::1", 53)
        let udp4 = key(.udp, "198.18.0.1", 40000, "192.0.2.10", 7)
        let echo = key(.icmp, "198.18.0.1", 77, "192.0.2.10", 0)
        let inserted = [table.insert(udp4, now: t0), table.insert(udp6, now: t0 + .seconds(1)), table.insert(echo, now: t0 + .seconds(2))]
        #expect(inserted == [true, true, true])
        table.recordTraffic(udp4, fromApp: 300, toApp: 120, now: t0 + .seconds(3))
        table.setModemSocket(4, for: udp4)
        let rows = FlowRow.rows(table.snapshot(now: t0 + .seconds(10)), now: t0 + .seconds(10))
        #expect(rows.map(\.app) == ["198.18.0.1:40000", "[fd00::2]:5353", "198.18.0.1 id 77"])
        #expect(rows.map(\.remote) == ["192.0.2.10:7", "[2001:db8::1]:53", "192.0.2.10"])
        #expect(rows.map(\.proto) == [.udp, .udp, .icmp])
        #expect(rows[0].modemSocket == 4 && rows[1].modemSocket == nil)
        #expect(rows[0].bytesFromApp == 300 && rows[0].bytesToApp == 120)
        #expect(rows[0].state == "OPEN")
        // Ages survive the Instant round trip: 10 s, 9 s, 8 s.
        let j = try? JSONValue.parse(StatsJSON.flows(rows, now: t0 + .seconds(10)))
        #expect(j?["flows"]?.array?.compactMap { $0["age_seconds"]?.double } == [10, 9, 8])
    }

    @Test func counterTotalsAddOntoTheSnapshotCopy() {
        var table = FlowTable(maxFlows: 1, budget: TCPBufferBudget(limit: 1 << 20))
        let a = key(.udp, "198.18.0.1", 1, "192.0.2.10", 7)
        let b = key(.udp, "198.18.0.1", 2, "192.0.2.10", 7)
        let first = table.insert(a, now: t0)
        let second = table.insert(b, now: t0)    // full: refused and counted
        #expect(first && !second)
        _ = table.remove(a, now: t0 + .seconds(1))
        var running = DaemonStats(startedAt: t0, baud: 115_200)
        running.drops.record(DropReason.unknownFlow)   // one the bridge counted itself
        var copy = running
        copy.addFlowTableCounters(table.counters)
        #expect(copy.drops[.flowTableFull] == 1)
        #expect(copy.drops[.unknownFlow] == 1)
        #expect(copy.flowCloses["connectionless"] == 1)
        #expect(running.flowCloses.total == 0)     // the running stats are untouched
    }

    @Test func udpDropsLandUnderTheirReasons() {
        var sessions = UDPSessions(config: .init(maximumSessions: 1))
        for port in UInt16(1000)..<1003 {
            let packet = UDPDatagram.packet(source: Wire.IPAddress("198.18.0.1")!, sourcePort: port,
                                            destination: Wire.IPAddress("192.0.2.10")!, destinationPort: 7,
                                            payloadLength: 1) { $0.copyBytes(from: [0x41]) }!
            _ = packet.withUnsafeBytes { raw in (try? IPPacket(validating: raw)).map { sessions.receive($0, now: t0) } }
        }
        #expect(sessions.drops.sessionLimit == 2)
        var copy = DaemonStats(startedAt: t0, baud: 9600)
        copy.addUDPDrops(sessions.drops)
        #expect(copy.drops[.udpSessionLimit] == 2)
        #expect(copy.drops.total == 2)
    }
}
