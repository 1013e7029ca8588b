import Buffers
import Testing
import Wire
@testable import Bridge
@testable import Flows
@testable import Modems

/// BridgeCore against a scripted modem: every modem answer is pushed by the test and time
/// moves only when the test advances it.
@Suite struct BridgeCoreTests {
    @Test func synAckWaitsForTheModemSocket() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let socket = try #require(h.syn())
        #expect(socket == 0)
        // Nothing goes to the app while the modem is still opening.
        h.advance(.milliseconds(500))
        #expect(h.sink.packets.isEmpty)
        h.modem.push(.opened(ModemSocketID(socket), nil))
        h.turn()
        let out = try h.segmentsToApp()
        #expect(out.count == 1)
        #expect(out.first?.flags == .syn && out.first?.ack == 1001)
    }

    @Test func aRefusedOpenIsAResetToTheApp() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let socket = try #require(h.syn(serverPort: 81))
        h.modem.push(.opened(ModemSocketID(socket), .failed(566)))
        h.turn()
        let out = try h.segmentsToApp()
        #expect(out.count == 1)
        #expect(out.first?.flags.contains(.rst) == true && out.first?.ack == 1001)
        #expect(h.core.counters.socketOpenFailures == 1)
        // The socket went back to the pool: the next SYN gets the same one.
        #expect(h.syn(appPort: 40001) == socket)
    }

    @Test func anOpenThatTimesOutIsHostUnreachable() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let socket = try #require(h.syn())
        h.modem.push(.opened(ModemSocketID(socket), .timedOut))
        h.turn()
        let out = h.sink.take()
        #expect(out.count == 1)
        // ICMP type 3 (destination unreachable), code 1 (host), quoting the app's SYN.
        #expect(out.first.map { $0[9] == 1 && $0[20] == 3 && $0[21] == 1 } == true)
    }

    @Test func synsBeyondTheSocketLimitWaitForAFreeSocket() throws {
        let h = BridgeCoreHarness(model: .sim7028)
        h.bringUp()
        #expect(h.core.socketLimit == 2)
        let a = try h.connect(appPort: 40000)
        _ = try h.connect(appPort: 40001)
        // A third connection: no socket, no answer, no RST; it waits.
        #expect(h.syn(appPort: 40002) == nil)
        #expect(h.core.admissionQueueLength == 1)
        #expect(try h.segmentsToApp().isEmpty)
        // The first app resets its connection: its socket is closed, then handed on.
        h.fromApp(h.tcp(.rst, seq: 1001, appPort: 40000))
        #expect(h.modem.takeRequests() == [.close(a.socket)])
        h.modem.push(.closed(ModemSocketID(a.socket)))
        h.turn()
        #expect(h.modem.takeRequests() == [.open(a.socket, .tcp, "192.0.2.10", 80)])
        h.modem.push(.opened(ModemSocketID(a.socket), nil))
        h.turn()
        let out = try h.segmentsToApp()
        #expect(out.count == 1 && out.first?.flags == .syn && out.first?.destinationPort == 40002)
    }

    @Test func aWaitingSynIsResetWhenItsWaitTimesOut() throws {
        var config = BridgeConfig()
        config.admissionTimeout = .seconds(5)
        let h = BridgeCoreHarness(model: .sim7028, config: config)
        h.bringUp()
        _ = try h.connect(appPort: 40000)
        _ = try h.connect(appPort: 40001)
        #expect(h.syn(appPort: 40002) == nil)
        h.advance(.seconds(4))
        #expect(try h.segmentsToApp().isEmpty)
        h.advance(.seconds(2))
        let out = try h.segmentsToApp()
        #expect(out.count == 1 && out.first?.flags.contains(.rst) == true && out.first?.destinationPort == 40002)
        #expect(h.core.counters.admissionTimeouts == 1)
    }

    @Test func aFailedSendIsRetriedAFewTimesThenTheFlowIsReset() throws {
        let h = BridgeCoreHarness(model: .ml307a)
        h.bringUp()
        let c = try h.connect()
        _ = try h.segmentsToApp()
        let data = [UInt8](repeating: 0x5A, count: 100)
        h.fromApp(h.tcp([], seq: 1001, ack: c.iss &+ 1, payload: data))
        #expect(h.modem.takeRequests() == [.send(c.socket, data)])
        for attempt in 1...3 {
            h.modem.push(.sendFailed(ModemSocketID(c.socket), .modemError(560)))
            h.turn()
            #expect(h.modem.takeRequests().isEmpty, "attempt \(attempt) resent at once")
            h.advance(.milliseconds(100 << attempt))
            #expect(h.modem.takeRequests() == [.send(c.socket, data)], "attempt \(attempt)")
            #expect(try h.segmentsToApp().allSatisfy { !$0.flags.contains(.rst) })
        }
        h.modem.push(.sendFailed(ModemSocketID(c.socket), .modemError(560)))
        h.turn()
        #expect(try h.segmentsToApp().contains { $0.flags.contains(.rst) })
        #expect(h.modem.takeRequests() == [.close(c.socket)])
        #expect(h.core.counters.sendRetries == 3)
    }

    /// SIM7028: a send confirmed short after the modem took it. Those bytes will never
    /// arrive, so the app gets a reset (never a FIN that would pass the loss off as a clean
    /// end), the id is closed, and the loss is counted.
    @Test func aSocketTheModemBreaksResetsItsFlow() throws {
        let h = BridgeCoreHarness(model: .sim7028)
        h.bringUp()
        let c = try h.connect()
        _ = try h.segmentsToApp()
        let data = [UInt8](repeating: 0x33, count: 200)
        h.fromApp(h.tcp([], seq: 1001, ack: c.iss &+ 1, payload: data))
        #expect(h.modem.takeRequests() == [.send(c.socket, data)])
        h.modem.push(.sendAccepted(ModemSocketID(c.socket), 200))
        h.modem.push(.broken(ModemSocketID(c.socket), .failed(0)))
        h.turn()
        let out = try h.segmentsToApp()
        #expect(out.contains { $0.flags.contains(.rst) }, "\(out)")
        #expect(!out.contains { $0.flags.contains(.fin) }, "\(out)")
        #expect(h.modem.takeRequests() == [.close(c.socket)])
        #expect(h.core.counters.flowsResetByModem == 1)
    }

    @Test func appBytesLeaveOnlyAsTheModemAcceptsThem() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let c = try h.connect()
        _ = try h.segmentsToApp()
        let data = (0..<3000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        h.fromApp(h.tcp([], seq: 1001, ack: c.iss &+ 1, payload: Array(data[0..<1460])))
        h.fromApp(h.tcp([], seq: 2461, ack: c.iss &+ 1, payload: Array(data[1460...])))
        // One send per socket at a time, at most maxSend (1460) bytes, from the start.
        #expect(h.modem.takeRequests() == [.send(c.socket, Array(data[0..<1460]))])
        // The modem took 1000 of them: the next send starts at byte 1000.
        h.modem.push(.sendAccepted(ModemSocketID(c.socket), 1000))
        h.turn()
        #expect(h.modem.takeRequests() == [.send(c.socket, Array(data[1000..<2460]))])
        // Full buffer: the same bytes again after a pause, not before.
        h.modem.push(.sendBusy(ModemSocketID(c.socket)))
        h.turn()
        #expect(h.modem.takeRequests().isEmpty)
        h.advance(.milliseconds(150))
        #expect(h.modem.takeRequests() == [.send(c.socket, Array(data[1000..<2460]))])
        h.modem.push(.sendAccepted(ModemSocketID(c.socket), 1460))
        h.turn()
        #expect(h.modem.takeRequests() == [.send(c.socket, Array(data[2460...]))])
        h.modem.push(.sendAccepted(ModemSocketID(c.socket), 540))
        h.turn()
        #expect(h.modem.takeRequests().isEmpty)
        #expect(h.core.counters.bytesToModem == 3000)
    }

    @Test func theModemIsReadOnlyAsFastAsTheAppDrains() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        // The app offers a small window (no scaling on this SYN: 4000 bytes).
        let socket = try #require(h.syn())
        h.modem.push(.opened(ModemSocketID(socket), nil))
        h.turn()
        let synAck = try #require(try h.segmentsToApp().first)
        h.fromApp(h.tcp([], seq: 1001, ack: synAck.seq &+ 1, window: 4000))
        h.modem.push(.dataReady(ModemSocketID(socket)))
        h.turn()
        // Reads go out while the app's window has room, never beyond it.
        var total = 0
        var reads = 0
        while reads < 10, let max = Self.readSize(h.modem.takeRequests(), socket) {
            reads += 1
            total += max
            h.modem.push(.received(ModemSocketID(socket), (0..<max).map { UInt8(truncatingIfNeeded: $0) }))
            h.modem.push(.dataReady(ModemSocketID(socket)))
            h.turn()
        }
        #expect(total > 0 && total <= 4000, "read \(total) bytes for a 4000-byte window")
        let delivered = try h.segmentsToApp().flatMap(\.payload)
        #expect(delivered.count == total)
        // The app has not ACKed: no room, so no read although the modem holds data.
        h.advance(.milliseconds(100))
        #expect(Self.readSize(h.modem.takeRequests(), socket) == nil)
        // The app ACKs everything: reading resumes.
        h.fromApp(h.tcp([], seq: 1001, ack: synAck.seq &+ 1 &+ UInt32(delivered.count), window: 4000))
        #expect(Self.readSize(h.modem.takeRequests(), socket) != nil)
        #expect(h.core.counters.modemBytesLost == 0)
    }

    static func readSize(_ requests: [FakeModemDriver.Request], _ socket: Int) -> Int? {
        for r in requests { if case .read(socket, let max) = r { return max } }
        return nil
    }

    @Test func thePeersCloseBecomesFinAfterTheLastByte() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let c = try h.connect()
        _ = try h.segmentsToApp()
        h.modem.push(.closedByPeer(ModemSocketID(c.socket)))
        h.turn()
        #expect(h.modem.takeRequests().first == .read(c.socket, max: 1500))
        h.modem.push(.received(ModemSocketID(c.socket), Array("bye".utf8)))
        h.turn()
        #expect(h.modem.takeRequests().first == .read(c.socket, max: 1500))
        // Empty read: everything is in; FIN follows the data and the socket is closed.
        h.modem.push(.received(ModemSocketID(c.socket), []))
        h.turn()
        let out = try h.segmentsToApp()
        #expect(out.flatMap(\.payload) == Array("bye".utf8))
        #expect(out.last?.flags.contains(.fin) == true)
        #expect(h.modem.takeRequests() == [.close(c.socket)])
    }

    @Test func busyFlowsAreServedInTurn() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let a = try h.connect(appPort: 40000)
        let b = try h.connect(appPort: 40001)
        _ = try h.segmentsToApp()
        let chunk = [UInt8](repeating: 0xAA, count: 1460)
        for i in 0..<3 {
            h.fromApp(h.tcp([], seq: 1001 + UInt32(i * 1460), ack: a.iss &+ 1, payload: chunk, appPort: 40000))
        }
        h.fromApp(h.tcp([], seq: 1001, ack: b.iss &+ 1, payload: chunk, appPort: 40001))
        // Both flows get a send in flight at once: the bulk flow does not hold the line.
        let sends = h.modem.takeRequests().compactMap { r -> Int? in if case .send(let s, _) = r { return s } else { return nil } }
        #expect(Set(sends) == [a.socket, b.socket])
    }

    @Test func aModemRebootResetsItsFlowsAndBringsItBack() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        _ = try h.connect()
        _ = try h.segmentsToApp()
        h.modem.push(.modemRebooted)
        h.turn()
        let out = try h.segmentsToApp()
        #expect(out.count == 1 && out.first?.flags.contains(.rst) == true)
        #expect(h.core.counters.flowsResetByModem == 1)
        // Bring-up starts again at once.
        #expect(h.modem.takeRequests() == [.bringUp])
        // New flows wait for the modem instead of failing, then open once it is up.
        #expect(h.syn(appPort: 40005) == nil)
        h.modem.push(.dataConnectionUp(FakeModemDriver.connection(.ec600e)))
        h.turn()
        #expect(h.modem.takeRequests() == [.reconcile])
        h.modem.push(.socketStates([:]))
        h.turn()
        #expect(h.modem.takeRequests() == [.open(0, .tcp, "192.0.2.10", 80)])
    }

    @Test func aFailedBringUpIsRetriedWithBackoff() throws {
        let h = BridgeCoreHarness()
        h.core.start(now: h.now)
        #expect(h.modem.takeRequests() == [.bringUp])
        h.modem.push(.bringUpFailed(BringUpFailure(step: .registration, reason: "not registered", hint: "the antenna")))
        h.turn()
        #expect(h.modem.takeRequests().isEmpty)
        h.advance(.milliseconds(900))
        #expect(h.modem.takeRequests().isEmpty)
        h.advance(.milliseconds(200))
        #expect(h.modem.takeRequests() == [.bringUp])
        #expect(h.lines.all.contains { $0.contains("bring-up failed at registration") })
    }

    @Test func socketsLeftByAnEarlierRunAreClosedBeforeAnyOpen() throws {
        let h = BridgeCoreHarness()
        h.core.start(now: h.now)
        _ = h.modem.takeRequests()
        h.modem.push(.dataConnectionUp(FakeModemDriver.connection(.ec600e)))
        h.turn()
        #expect(h.modem.takeRequests() == [.reconcile])
        // A SYN while the answer is pending does not open yet.
        #expect(h.syn() == nil)
        h.modem.push(.socketStates([ModemSocketID(0): .connected, ModemSocketID(3): .closing, ModemSocketID(1): .closed]))
        h.turn()
        let requests = h.modem.takeRequests()
        #expect(requests.contains(.close(0)) && requests.contains(.close(3)))
        // The waiting flow gets a socket that is free on the modem, not one being closed.
        #expect(requests.contains(.open(1, .tcp, "192.0.2.10", 80)))
        #expect(h.core.counters.leftoverSocketsClosed == 2)
    }

    @Test func aPeriodicReconcileFindsASocketWhoseCloseNoticeWasLost() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let a = try h.connect(appPort: 40000)
        let b = try h.connect(appPort: 40001)
        _ = try h.segmentsToApp()
        h.advance(.seconds(29))
        #expect(!h.modem.takeRequests().contains(.reconcile))
        h.advance(.seconds(2))
        #expect(h.modem.takeRequests() == [.reconcile])
        // The modem lost socket a without a URC and has b half-closed by the peer.
        h.modem.push(.socketStates([ModemSocketID(a.socket): .closed, ModemSocketID(b.socket): .closing]))
        h.turn()
        let out = try h.segmentsToApp()
        #expect(out.contains { $0.flags.contains(.rst) && $0.destinationPort == 40000 })
        #expect(h.core.counters.socketsLostByReconcile == 1)
        // b: what is left is read before its FIN.
        #expect(h.modem.takeRequests().contains(.read(b.socket, max: 1500)))
    }

    @Test func aSocketWhoseCloseAnswerWasLostIsFreedByTheReconcile() throws {
        var config = BridgeConfig()
        config.reconcileInterval = .seconds(10)
        let h = BridgeCoreHarness(model: .sim7028, config: config)
        h.bringUp()
        let a = try h.connect(appPort: 40000)
        _ = try h.connect(appPort: 40001)
        h.fromApp(h.tcp(.rst, seq: 1001, appPort: 40000))
        #expect(h.modem.takeRequests() == [.close(a.socket)])
        // No `.closed` ever comes; a third flow waits meanwhile.
        #expect(h.syn(appPort: 40002) == nil)
        h.advance(.seconds(11))
        #expect(h.modem.takeRequests() == [.reconcile])
        h.modem.push(.socketStates([ModemSocketID(a.socket): .closed]))
        h.turn()
        #expect(h.modem.takeRequests() == [.open(a.socket, .tcp, "192.0.2.10", 80)])
        // A late answer to the old close does not touch the new flow.
        h.modem.push(.closed(ModemSocketID(a.socket)))
        h.modem.push(.opened(ModemSocketID(a.socket), nil))
        h.turn()
        let out = try h.segmentsToApp()
        #expect(out.count == 1 && out.first?.flags == .syn && out.first?.destinationPort == 40002)
    }

    @Test func bytesForAFlowThatIsGoneAreCountedAsLost() {
        let h = BridgeCoreHarness()
        h.bringUp()
        h.modem.push(.received(ModemSocketID(4), [1, 2, 3, 4, 5]))
        h.turn()
        #expect(h.core.counters.modemBytesLost == 5)
        #expect(h.lines.all.contains { $0.contains("lost 5 byte(s)") })
    }

    @Test func dnsGoesToTheModemsResolver() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        // The kernel's query for example.com A, 10.9.0.1:37610 → 10.9.0.2:53.
        h.fromApp(hexBytes("450000393e6040004011e83f0a0900010a09000292ea0035002576ce123401000001000000000000076578616d706c6503636f6d0000010001"))
        #expect(h.modem.takeRequests() == [.resolve("example.com")])
        h.modem.push(.dnsResult(host: "example.com", addresses: ["93.184.216.34"], error: nil))
        h.turn()
        let reply = try #require(h.sink.take().first)
        // The answer's address is in the reply, as bytes.
        #expect(reply.count > 40)
        #expect(reply.suffix(4) == [93, 184, 216, 34])
    }

    @Test func pingUsesTheModemsPing() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        // The kernel's echo request 10.9.0.1 → 10.9.0.2, id 23a3, seq 1.
        h.fromApp(hexBytes("4500002cd67d40004001503f0a0900010a0900020800e91923a3000108c9016b00000000d30d0e0000000000"))
        #expect(h.modem.takeRequests() == [.ping("10.9.0.2")])
        h.modem.push(.pingResult(Modems.PingResult(host: "10.9.0.2", sent: 1, received: 1, rttMilliseconds: [42], error: 0)))
        h.turn()
        let reply = try #require(h.sink.take().first)
        #expect(reply[9] == 1 && reply[20] == 0)  // ICMP, echo reply
    }

    /// On a model without a shared UDP socket (SharedUDPSocketTests has the EC600E's).
    @Test func udpDatagramsGoThroughTheirOwnSocket() throws {
        let h = BridgeCoreHarness(model: .sim7028)
        h.bringUp()
        let datagram = UDPDatagram.packet(source: appAddress, sourcePort: 5000, destination: serverAddress,
                                          destinationPort: 7, payloadLength: 4) { $0.copyBytes(from: [1, 2, 3, 4]) }!
        h.fromApp(datagram)
        #expect(h.modem.takeRequests() == [.open(0, .udp, "192.0.2.10", 7)])
        h.modem.push(.opened(ModemSocketID(0), nil))
        h.turn()
        #expect(h.modem.takeRequests() == [.send(0, [1, 2, 3, 4])])
        h.modem.push(.sendAccepted(ModemSocketID(0), 4))
        h.modem.push(.dataReady(ModemSocketID(0)))
        h.turn()
        #expect(h.modem.takeRequests().first == .read(0, max: 1500))
        h.modem.push(.received(ModemSocketID(0), [9, 8, 7]))
        h.turn()
        let reply = try #require(h.sink.take().first)
        #expect(reply.suffix(3) == [9, 8, 7])
        #expect(reply[9] == 17)
    }

    @Test func aUDPSessionThatExpiresWhileOpeningGivesItsSocketBack() throws {
        let h = BridgeCoreHarness(model: .sim7028)
        h.bringUp()
        let datagram = UDPDatagram.packet(source: appAddress, sourcePort: 5000, destination: serverAddress,
                                          destinationPort: 7, payloadLength: 1) { $0.copyBytes(from: [1]) }!
        h.fromApp(datagram)
        #expect(h.modem.takeRequests() == [.open(0, .udp, "192.0.2.10", 7)])
        // The modem takes longer than the session's idle timeout (5 minutes) to answer.
        h.advance(.seconds(301))
        _ = h.modem.takeRequests()  // the periodic reconciles meanwhile
        h.modem.push(.opened(ModemSocketID(0), nil))
        h.turn()
        #expect(h.modem.takeRequests() == [.close(0)])
        h.modem.push(.closed(ModemSocketID(0)))
        h.turn()
        #expect(h.core.socketsInUse == 0)
    }

    @Test func shutdownResetsFlowsAndClosesSockets() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let c = try h.connect()
        _ = try h.segmentsToApp()
        h.core.shutdown(now: h.now)
        let out = try h.segmentsToApp()
        #expect(out.count == 1 && out.first?.flags.contains(.rst) == true)
        #expect(h.modem.takeRequests().contains(.close(c.socket)))
    }

    @Test func aLostSerialLineResetsFlowsAndAFreshDriverBringsUp() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        _ = try h.connect()
        _ = try h.segmentsToApp()
        h.core.serialLost(now: h.now)
        #expect(try h.segmentsToApp().first?.flags.contains(.rst) == true)
        #expect(h.core.modemPhase == .serialLost)
        h.advance(.seconds(10))
        #expect(h.modem.takeRequests().isEmpty)
        h.core.serialRestored(now: h.now)
        #expect(h.modem.takeRequests() == [.bringUp])
    }
}

func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    return stride(from: 0, to: digits.count - 1, by: 2).compactMap { i in
        UInt8(String(decoding: digits[i...(i + 1)], as: UTF8.self), radix: 16)
    }
}
