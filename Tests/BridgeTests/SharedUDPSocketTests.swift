import Buffers
import Testing
import Wire
@testable import Bridge
@testable import Flows
@testable import Modems

/// UDP sessions on one shared modem socket (EC600E "UDP SERVICE"), driven through the core
/// with the scripted modem: sharing, demultiplexing by sender, the same-remote collision,
/// unknown senders, and the modem going away.
@Suite struct SharedUDPSocketTests {
    /// A datagram from the app's port `appPort` to `host`:`port`.
    static func datagram(appPort: UInt16, to host: String = "192.0.2.10", port: UInt16 = 7, _ payload: [UInt8]) -> [UInt8] {
        UDPDatagram.packet(source: appAddress, sourcePort: appPort, destination: IPAddress(host)!,
                           destinationPort: port, payloadLength: payload.count) { $0.copyBytes(from: payload) }!
    }

    /// A UDP packet the app received: (source, source port, destination port, payload).
    static func decode(_ bytes: [UInt8]) throws -> (source: String, sourcePort: UInt16, appPort: UInt16, payload: [UInt8]) {
        try bytes.withUnsafeBytes { raw in
            let ip = try IPPacket(validating: raw)
            let u = try UDPRepr.parse(ip.payload, source: ip.source, destination: ip.destination)
            #expect(ip.destination == appAddress)
            return (ip.source.description, u.sourcePort, u.destinationPort, Array(ip.payload[UDPRepr.headerLength...]))
        }
    }

    /// The shared socket opened for the first datagram; returns its socket number.
    static func openShared(_ h: BridgeCoreHarness, appPort: UInt16 = 5000, to host: String = "192.0.2.10",
                           port: UInt16 = 7, _ payload: [UInt8] = [1]) throws -> Int {
        h.fromApp(Self.datagram(appPort: appPort, to: host, port: port, payload))
        let requests = h.modem.takeRequests()
        guard case .openService(let socket, let localPort)? = requests.first, requests.count == 1 else {
            Issue.record("expected one UDP SERVICE open, got \(requests)")
            throw CancellationError()
        }
        // RFC 6335 §6 dynamic range; the manual requires a local port for UDP SERVICE.
        #expect(localPort >= 49152)
        h.modem.push(.opened(ModemSocketID(socket), nil))
        h.turn()
        #expect(h.modem.takeRequests() == [.sendTo(socket, host, port, payload)])
        h.modem.push(.sendAccepted(ModemSocketID(socket), payload.count))
        h.turn()
        return socket
    }

    /// `tun2modem flows` lists UDP sessions beside TCP flows, each with the modem socket it
    /// rides: the shared one for both sessions here.
    @Test func udpSessionsAreListedWithTheirSocket() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let shared = try Self.openShared(h)
        h.fromApp(Self.datagram(appPort: 5001, to: "192.0.2.11", port: 123, [2, 2]))
        h.modem.push(.sendAccepted(ModemSocketID(shared), 2))
        h.turn()
        let udp = h.core.flowRows(now: h.now).filter { $0.proto == .udp }
        #expect(udp.count == 2 && Set(udp.map(\.app)) == ["198.18.0.1:5000", "198.18.0.1:5001"], "\(udp)")
        #expect(Set(udp.map(\.remote)) == ["192.0.2.10:7", "192.0.2.11:123"], "\(udp)")
        #expect(udp.allSatisfy { $0.modemSocket == shared && $0.state == "open" }, "\(udp)")
        #expect(udp.map(\.bytesFromApp).sorted() == [1, 2], "\(udp)")
    }

    @Test func sessionsToDifferentRemotesShareOneSocket() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let shared = try Self.openShared(h)
        // Two more sessions (other app ports, other remotes): no new socket, sends name the peer.
        h.fromApp(Self.datagram(appPort: 5001, to: "192.0.2.10", port: 8, [2, 2]))
        h.fromApp(Self.datagram(appPort: 5002, to: "192.0.2.11", port: 7, [3, 3, 3]))
        #expect(h.modem.takeRequests() == [.sendTo(shared, "192.0.2.10", 8, [2, 2])])
        h.modem.push(.sendAccepted(ModemSocketID(shared), 2))
        h.turn()
        #expect(h.modem.takeRequests() == [.sendTo(shared, "192.0.2.11", 7, [3, 3, 3])])
        h.modem.push(.sendAccepted(ModemSocketID(shared), 3))
        h.turn()
        #expect(h.modem.takeRequests().isEmpty)
        #expect(h.core.socketsInUse == 1 && h.core.socketsHeld == [shared])
        #expect(h.core.sharedUDPSessions == 3)
        #expect(h.core.counters.udpSessionsOpened == 3 && h.core.counters.socketOpens == 1)
        #expect(h.core.counters.udpDatagramsToModem == 3 && h.core.counters.bytesToModem == 6)
    }

    /// Later datagrams of an open session are sent from the packet itself (not the queue the
    /// first one waited in), with their own bytes.
    @Test(arguments: [ModemModel.ec600e, .sim7028])
    func laterDatagramsOfAnOpenSessionGoOut(_ model: ModemModel) throws {
        let h = BridgeCoreHarness(model: model)
        h.bringUp()
        h.fromApp(Self.datagram(appPort: 5000, [1]))
        let socket: Int
        switch h.modem.takeRequests().first {
        case .openService(let s, _)?: socket = s
        case .open(let s, .udp, _, _)?: socket = s
        default: Issue.record("no open"); return
        }
        h.modem.push(.opened(ModemSocketID(socket), nil))
        h.turn()
        _ = h.modem.takeRequests()
        h.modem.push(.sendAccepted(ModemSocketID(socket), 1))
        h.turn()
        for payload: [UInt8] in [[2, 3], Array(repeating: 0xAB, count: 1400)] {
            h.fromApp(Self.datagram(appPort: 5000, payload))
            let sent = h.modem.takeRequests()
            let expected: FakeModemDriver.Request = model == .ec600e
                ? .sendTo(socket, "192.0.2.10", 7, payload) : .send(socket, payload)
            #expect(sent == [expected])
            h.modem.push(.sendAccepted(ModemSocketID(socket), payload.count))
            h.turn()
        }
        #expect(h.core.counters.udpDatagramsToModem == 3 && h.core.counters.udpDatagramsDropped == 0)
    }

    @Test func datagramsGoToTheSessionOfTheirSender() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let shared = try Self.openShared(h)
        h.fromApp(Self.datagram(appPort: 5001, to: "192.0.2.10", port: 8, [2]))
        h.modem.push(.sendAccepted(ModemSocketID(shared), 1))
        h.turn()
        _ = h.modem.takeRequests()
        // Replies in the opposite order of the sends; each read returns one datagram.
        for (host, port, payload, appPort) in [("192.0.2.10", UInt16(8), [UInt8](repeating: 8, count: 5), UInt16(5001)),
                                               ("192.0.2.10", 7, [7, 7], 5000)] {
            h.modem.push(.dataReady(ModemSocketID(shared)))
            h.turn()
            #expect(h.modem.takeRequests() == [.read(shared, max: 1500)])
            h.modem.push(.datagramReceived(ModemSocketID(shared), from: host, port: port, payload))
            h.turn()
            let packets = h.sink.take()
            #expect(packets.count == 1)
            let got = try Self.decode(try #require(packets.first))
            #expect(got.source == host && got.sourcePort == port && got.appPort == appPort && got.payload == payload)
        }
        #expect(h.core.counters.udpDatagramsFromModem == 2 && h.core.counters.udpDatagramsFromUnknownSenders == 0)
    }

    @Test func aSecondSessionToTheSameRemoteGetsItsOwnSocket() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let shared = try Self.openShared(h, appPort: 5000)
        // Same remote endpoint, another app port: replies could not be told apart on one
        // local port, so it opens a connected socket of its own.
        h.fromApp(Self.datagram(appPort: 5001, [9]))
        let requests = h.modem.takeRequests()
        guard case .open(let own, .udp, "192.0.2.10", 7)? = requests.first, requests.count == 1 else {
            Issue.record("expected an own UDP socket, got \(requests)")
            return
        }
        #expect(own != shared)
        #expect(h.core.counters.udpSharedSocketCollisions == 1 && h.core.sharedUDPSessions == 1)
        h.modem.push(.opened(ModemSocketID(own), nil))
        h.turn()
        #expect(h.modem.takeRequests() == [.send(own, [9])])
        h.modem.push(.sendAccepted(ModemSocketID(own), 1))
        // A reply on its own socket goes to app port 5001, one on the shared socket to 5000.
        h.modem.push(.dataReady(ModemSocketID(own)))
        h.modem.push(.dataReady(ModemSocketID(shared)))
        h.turn()
        let reads = h.modem.takeRequests()
        #expect(reads.contains(.read(own, max: 1500)) && reads.contains(.read(shared, max: 1500)))
        h.modem.push(.received(ModemSocketID(own), [1, 1]))
        h.modem.push(.datagramReceived(ModemSocketID(shared), from: "192.0.2.10", port: 7, [0, 0]))
        h.turn()
        let got = try h.sink.take().map(Self.decode)
        #expect(got.map(\.appPort) == [5001, 5000])
        #expect(got.map(\.payload) == [[1, 1], [0, 0]])
        #expect(h.core.socketsInUse == 2)
    }

    @Test func aDatagramFromAnUnknownSenderIsCountedAndDropped() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let shared = try Self.openShared(h)
        h.modem.push(.dataReady(ModemSocketID(shared)))
        h.turn()
        #expect(h.modem.takeRequests() == [.read(shared, max: 1500)])
        // Same address, another port: not the session's remote endpoint.
        h.modem.push(.datagramReceived(ModemSocketID(shared), from: "192.0.2.10", port: 9, [1, 2, 3]))
        h.turn()
        #expect(h.sink.take().isEmpty)
        #expect(h.core.counters.udpDatagramsFromUnknownSenders == 1)
        #expect(h.lines.all.contains { $0.contains("192.0.2.10:9 matches no session") })
        // A datagram the modem did not attribute is counted the same way.
        h.modem.push(.dataReady(ModemSocketID(shared)))
        h.turn()
        _ = h.modem.takeRequests()
        h.modem.push(.received(ModemSocketID(shared), [4, 5]))
        h.turn()
        #expect(h.sink.take().isEmpty)
        #expect(h.core.counters.udpDatagramsFromUnknownSenders == 2)
        #expect(h.core.counters.bytesFromModem == 5 && h.core.counters.udpDatagramsFromModem == 0)
    }

    static let modemLosses: [ModemEvent] = [.modemRebooted, .networkLost]

    @Test(arguments: Self.modemLosses)
    func losingTheModemEndsTheSharedSessions(_ loss: ModemEvent) throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let shared = try Self.openShared(h, appPort: 5000)
        h.fromApp(Self.datagram(appPort: 5001, port: 8, [2]))
        #expect(h.core.sharedUDPSessions == 2)
        h.modem.push(loss)
        h.turn()
        // As for flows on any socket: the sessions end (counted as reset by the modem).
        #expect(h.core.sharedUDPSessions == 0 && h.core.socketsInUse == 0)
        #expect(h.core.counters.flowsResetByModem == 2)
        #expect(h.core.udp.count == 0)
        // The modem comes back; the app's next datagram starts a new session and a new socket.
        h.advance(.seconds(2))
        _ = h.modem.takeRequests()
        h.modem.push(.dataConnectionUp(FakeModemDriver.connection(.ec600e)))
        h.turn()
        #expect(h.modem.takeRequests() == [.reconcile])
        h.modem.push(.socketStates([:]))
        h.turn()
        h.fromApp(Self.datagram(appPort: 5000, [3]))
        let again = h.modem.takeRequests()
        #expect(again.count == 1)
        if case .openService(let socket, _)? = again.first { #expect(socket == shared) } else {
            Issue.record("no new UDP SERVICE open: \(again)")
        }
    }

    @Test func aSharedSocketStillOpeningEndsItsSessionsWithTheSerialLine() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        h.fromApp(Self.datagram(appPort: 5000, [1]))
        guard case .openService? = h.modem.takeRequests().first else { Issue.record("no open"); return }
        h.core.serialLost(now: h.now)
        // The open was asked: its session ends like a flow whose socket was opening.
        #expect(h.core.udp.count == 0 && h.core.socketsInUse == 0 && h.core.sharedUDPSessions == 0)
        #expect(h.core.counters.flowsResetByModem == 1)
    }

    @Test func sessionsWaitingForTheFirstOpenWaitThroughAReboot() throws {
        let h = BridgeCoreHarness()
        h.core.start(now: h.now)
        _ = h.modem.takeRequests()
        h.modem.push(.dataConnectionUp(FakeModemDriver.connection(.ec600e)))
        h.turn()
        #expect(h.modem.takeRequests() == [.reconcile])
        // No socket is opened before the leftover check is answered: the session waits.
        h.fromApp(Self.datagram(appPort: 5000, [1]))
        #expect(h.modem.takeRequests().isEmpty && h.core.sharedUDPSessions == 1)
        h.modem.push(.modemRebooted)
        h.turn()
        #expect(h.core.sharedUDPSessions == 1 && h.core.counters.flowsResetByModem == 0)
        _ = h.modem.takeRequests()
        h.modem.push(.dataConnectionUp(FakeModemDriver.connection(.ec600e)))
        h.turn()
        #expect(h.modem.takeRequests() == [.reconcile])
        h.modem.push(.socketStates([:]))
        h.turn()
        let requests = h.modem.takeRequests()
        guard case .openService(let shared, _)? = requests.first, requests.count == 1 else {
            Issue.record("expected the UDP SERVICE open, got \(requests)")
            return
        }
        h.modem.push(.opened(ModemSocketID(shared), nil))
        h.turn()
        #expect(h.modem.takeRequests() == [.sendTo(shared, "192.0.2.10", 7, [1])])
    }

    @Test func theSharedSocketClosesWhenItsLastSessionIdlesOut() throws {
        let h = BridgeCoreHarness(socketCount: 1)
        h.bringUp()
        let shared = try Self.openShared(h)
        #expect(h.core.socketsInUse == 1)
        // 295 s later a connection finds the only socket taken by the shared one and waits.
        h.advance(.seconds(295))
        _ = h.modem.takeRequests()
        #expect(h.syn(appPort: 40000) == nil)
        #expect(h.core.admissionQueueLength == 1)
        // The UDP session idles out at 300 s: the socket is closed like any whose flow ended.
        h.advance(.seconds(6))
        #expect(h.modem.takeRequests().contains(.close(shared)))
        h.modem.push(.closed(ModemSocketID(shared)))
        h.turn()
        #expect(h.core.sharedUDPSessions == 0 && h.core.admissionQueueLength == 0)
        // ... and the waiting connection gets it.
        #expect(h.modem.takeRequests() == [.open(shared, .tcp, "192.0.2.10", 80)])
    }

    @Test func aFailedOpenSendsItsSessionsToSocketsOfTheirOwn() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        h.fromApp(Self.datagram(appPort: 5000, [1]))
        h.fromApp(Self.datagram(appPort: 5001, port: 8, [2]))
        guard case .openService(let shared, _)? = h.modem.takeRequests().first else { Issue.record("no open"); return }
        // EC error 556: the local port could not be bound.
        h.modem.push(.opened(ModemSocketID(shared), .failed(556)))
        h.turn()
        let opens = Set(h.modem.takeRequests())
        #expect(opens == [.open(0, .udp, "192.0.2.10", 7), .open(1, .udp, "192.0.2.10", 8)])
        #expect(h.core.sharedUDPSessions == 0 && h.core.counters.socketOpenFailures == 1)
        // For a while new sessions do not try the shared socket again.
        h.fromApp(Self.datagram(appPort: 5002, port: 9, [3]))
        #expect(h.modem.takeRequests() == [.open(2, .udp, "192.0.2.10", 9)])
    }

    @Test func aReconcileKeepsTheSharedSocketAndNoticesItsLoss() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let shared = try Self.openShared(h)
        h.advance(.seconds(30))
        #expect(h.modem.takeRequests() == [.reconcile])
        // Open on the modem and owned by no slot: not a leftover to close.
        h.modem.push(.socketStates([ModemSocketID(shared): .connected]))
        h.turn()
        #expect(h.modem.takeRequests().isEmpty && h.core.sharedUDPSessions == 1)
        h.advance(.seconds(30))
        #expect(h.modem.takeRequests() == [.reconcile])
        h.modem.push(.socketStates([ModemSocketID(shared): .closed]))
        h.turn()
        #expect(h.core.sharedUDPSessions == 0 && h.core.socketsInUse == 0)
        #expect(h.core.counters.socketsLostByReconcile == 1)
    }

    @Test func tcpAndTheSharedSocketSendInTheSameTurn() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let shared = try Self.openShared(h)
        let c = try h.connect(appPort: 40000)
        _ = try h.segmentsToApp()
        _ = h.modem.takeRequests()
        // Bytes from a TCP app and two UDP sessions at once: one send each for the TCP
        // socket and the shared socket (one pending per socket), then the next datagram.
        h.fromApp(h.tcp([.ack, .psh], seq: 1001, ack: c.iss &+ 1, payload: [0x41, 0x42], appPort: 40000))
        h.fromApp(Self.datagram(appPort: 5001, port: 8, [8]))
        h.fromApp(Self.datagram(appPort: 5002, port: 9, [9]))
        let sends = h.modem.takeRequests()
        #expect(sends.contains(.send(c.socket, [0x41, 0x42])))
        #expect(sends.filter { if case .sendTo = $0 { true } else { false } } == [.sendTo(shared, "192.0.2.10", 8, [8])])
        h.modem.push(.sendAccepted(ModemSocketID(shared), 1))
        h.turn()
        #expect(h.modem.takeRequests() == [.sendTo(shared, "192.0.2.10", 9, [9])])
    }

    @Test func aFullSendBufferDelaysTheSameDatagram() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let shared = try Self.openShared(h)
        h.fromApp(Self.datagram(appPort: 5000, [4, 4]))
        #expect(h.modem.takeRequests() == [.sendTo(shared, "192.0.2.10", 7, [4, 4])])
        h.modem.push(.sendBusy(ModemSocketID(shared)))
        h.turn()
        #expect(h.modem.takeRequests().isEmpty)
        // After the busy pause (100 ms) the same datagram goes again.
        h.advance(.milliseconds(100))
        #expect(h.modem.takeRequests() == [.sendTo(shared, "192.0.2.10", 7, [4, 4])])
        h.modem.push(.sendAccepted(ModemSocketID(shared), 2))
        h.turn()
        #expect(h.core.counters.sendBusy == 1 && h.core.counters.udpDatagramsToModem == 2)
        #expect(h.core.nextDeadline(now: h.now).map { $0 > h.now } ?? true, "a past deadline would spin the loop")
    }

    @Test func sendsThatKeepFailingEndTheSessionsAndCloseTheSocket() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let shared = try Self.openShared(h)
        h.fromApp(Self.datagram(appPort: 5001, port: 8, [8]))
        h.fromApp(Self.datagram(appPort: 5000, [5]))
        var attempts = 0
        var requests: [FakeModemDriver.Request] = []
        for _ in 0..<10 {
            h.advance(.seconds(1))
            let batch = h.modem.takeRequests()
            requests += batch
            let sends = batch.filter { if case .sendTo = $0 { true } else { false } }
            guard !sends.isEmpty else { break }
            attempts += sends.count
            h.modem.push(.sendFailed(ModemSocketID(shared), .modemError(-1)))
            h.turn()
        }
        // Retried three times (as on any socket), then the socket is taken as gone.
        #expect(attempts == 4)
        #expect(h.core.counters.sendRetries == 3)
        // Both sessions' datagrams were still queued when the socket was given up.
        #expect(h.core.counters.udpDatagramsDropped == 2)
        #expect(h.core.sharedUDPSessions == 0 && h.core.udp.count == 0)
        #expect(requests.contains(.close(shared)))
        h.modem.push(.closed(ModemSocketID(shared)))
        h.turn()
        #expect(h.core.socketsInUse == 0)
    }

    @Test func aSessionThatComesWhileTheIdleSocketClosesReopensIt() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let shared = try Self.openShared(h)
        h.advance(.seconds(301))
        #expect(h.modem.takeRequests().contains(.close(shared)))
        h.fromApp(Self.datagram(appPort: 6000, port: 123, [0x1B]))
        #expect(h.modem.takeRequests().isEmpty && h.core.sharedUDPSessions == 1)
        h.modem.push(.closed(ModemSocketID(shared)))
        h.turn()
        let requests = h.modem.takeRequests()
        guard case .openService(shared, _)? = requests.first, requests.count == 1 else {
            Issue.record("expected the shared socket opened again, got \(requests)")
            return
        }
        h.modem.push(.opened(ModemSocketID(shared), nil))
        h.turn()
        #expect(h.modem.takeRequests() == [.sendTo(shared, "192.0.2.10", 123, [0x1B])])
    }

    @Test func anIPv6RemoteGetsItsOwnSocket() throws {
        let h = BridgeCoreHarness()
        h.bringUp()
        let app6 = IPAddress("fd00::2")!
        let packet = UDPDatagram.packet(source: app6, sourcePort: 5000, destination: IPAddress("2001:db8::1")!,
                                        destinationPort: 7, payloadLength: 1) { $0.copyBytes(from: [1]) }!
        h.fromApp(packet)
        // UDP SERVICE sends take a dotted IPv4 address only (EC §2.4.10).
        #expect(h.modem.takeRequests() == [.open(0, .udp, "2001:db8::1", 7)])
        #expect(h.core.sharedUDPSessions == 0)
    }

    @Test func aModelWithoutTheServiceGivesEachSessionItsOwnSocket() throws {
        let h = BridgeCoreHarness(model: .sim7028)
        h.bringUp()
        h.fromApp(Self.datagram(appPort: 5000, [1]))
        h.fromApp(Self.datagram(appPort: 5001, port: 8, [2]))
        #expect(Set(h.modem.takeRequests()) == [.open(0, .udp, "192.0.2.10", 7), .open(1, .udp, "192.0.2.10", 8)])
        #expect(h.core.sharedUDPSessions == 0)
    }
}
