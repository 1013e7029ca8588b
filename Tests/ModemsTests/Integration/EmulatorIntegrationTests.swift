import Bridge
import Buffers
import Foundation
import Modems
import Sys
import Testing

/// The models issue 3 names, one per dialect family member the emulator may support.
let integrationModels = ["EC600E", "EC800E", "BC26", "BC20", "SIM7028", "ML302A", "ML305A", "ML307A", "ML307R",
                         "MN316", "MN316A", "MN319", "MN326"]
let supportedModels = integrationModels.filter { EmulatorBinary.skipReason($0) == nil }

/// A driver brought up against a fresh emulator over a real pty.
struct Session {
    let modem: EmulatedModem
    let driver: any ModemDriver
    let runner: ModemRunner
    let traffic: Traffic
    let connection: DataConnection

    init(model: String) throws {
        self.modem = try EmulatedModem(model: model)
        let port = try SerialPort.open(path: self.modem.ptyPath, baud: 921_600, rtscts: false)
        let driver = ATModemDriver(model: nil)
        // Network loss on models without a URC for it is seen by this poll.
        driver.healthPollInterval = .seconds(1)
        self.driver = driver
        self.runner = ModemRunner(driver: driver, port: port)
        self.traffic = Traffic(driver: driver, runner: self.runner)
        try driver.bringUp(apn: nil, limits: BringUpLimits(registration: .seconds(30)), now: MonotonicClock.now())
        var up: DataConnection?
        var failure: BringUpFailure?
        _ = try self.traffic.wait(for: 60) { e in
            if case .dataConnectionUp(let c) = e { up = c; return true }
            if case .bringUpFailed(let f) = e { failure = f; return true }
            return false
        }
        guard let up else { throw SessionError.bringUp(failure.map { "\($0)" } ?? "timed out") }
        self.connection = up
    }

    /// Opens `ids` as TCP to 127.0.0.1:`port`, waiting for every result.
    func open(_ ids: [ModemSocketID], port: UInt16) throws {
        var pending = Set(ids)
        for id in ids { try self.driver.open(id, .tcp, host: "127.0.0.1", port: port, now: MonotonicClock.now()) }
        var errors: [String] = []
        _ = try self.traffic.wait(for: 60) { e in
            if case .opened(let s, let err) = e, pending.contains(s) {
                pending.remove(s)
                if let err { errors.append("\(s): \(err)") }
            }
            return pending.isEmpty
        }
        guard pending.isEmpty, errors.isEmpty else { throw SessionError.open("\(errors) pending \(pending)") }
    }
}

enum SessionError: Error { case bringUp(String), open(String) }

func randomBytes(_ n: Int, seed: UInt64) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<n).map { _ in
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

/// Models run concurrently (one emulator each); every wait is on an event with a deadline.
@Suite struct EmulatorIntegrationTests {
    /// Models the emulator does not (yet) speak are reported, not silently passed.
    @Test func reportsWhichModelsAreSkipped() {
        for m in integrationModels {
            if let why = EmulatorBinary.skipReason(m) { print("SKIP integration \(m): \(why)") }
        }
        #expect(supportedModels.count + integrationModels.filter { EmulatorBinary.skipReason($0) != nil }.count
                == integrationModels.count)
    }

    @Test(arguments: supportedModels)
    func bringUpIdentifiesTheModel(_ model: String) throws {
        let s = try Session(model: model)
        #expect(s.driver.model?.rawValue == model)
        #expect(!s.connection.localIP.isEmpty)
        #expect(s.connection.registration.isRegistered)
    }

    /// 1 MiB up and the same 1 MiB back down through one socket (echo server), sha256 equal.
    @Test(arguments: supportedModels)
    func oneMebibyteEachWayThroughOneSocket(_ model: String) throws {
        let server = try LoopbackServer(.echo)
        defer { server.stop() }
        let s = try Session(model: model)
        let id = ModemSocketID(0)
        try s.open([id], port: server.port)
        let data = randomBytes(1 << 20, seed: 1)
        s.traffic.toSend[id] = data
        let started = MonotonicClock.now()
        let done = try s.traffic.run(until: started + .seconds(60)) {
            s.traffic.allSent && (s.traffic.received[id]?.count ?? 0) >= data.count || !s.traffic.failures.isEmpty
        }
        print("\(model): 1 MiB each way through one socket in \(MonotonicClock.now() - started), busy \(s.traffic.busyEvents)")
        #expect(done)
        #expect(s.traffic.failures.isEmpty, "\(s.traffic.failures)")
        #expect(SHA256.hex(server.bytes(of: 0)) == SHA256.hex(data))
        #expect(SHA256.hex(s.traffic.received[id] ?? []) == SHA256.hex(data))
    }

    /// 1 MiB in total, split over every socket the model has, all at once, each way.
    @Test(arguments: supportedModels)
    func oneMebibyteAcrossAllSocketsAtOnce(_ model: String) throws {
        let server = try LoopbackServer(.echo)
        defer { server.stop() }
        let s = try Session(model: model)
        let ids = (0..<s.driver.capabilities.socketCount).map(ModemSocketID.init)
        try s.open(ids, port: server.port)
        let share = (1 << 20) / ids.count
        for id in ids { s.traffic.toSend[id] = randomBytes(share, seed: UInt64(id.rawValue + 10)) }
        let started = MonotonicClock.now()
        let done = try s.traffic.run(until: started + .seconds(60)) {
            (s.traffic.allSent && ids.allSatisfy { (s.traffic.received[$0]?.count ?? 0) >= share }) || !s.traffic.failures.isEmpty
        }
        print("\(model): 1 MiB over \(ids.count) sockets in \(MonotonicClock.now() - started)")
        #expect(done)
        #expect(s.traffic.failures.isEmpty, "\(s.traffic.failures)")
        // The server numbers connections by accept order, which need not follow socket ids:
        // compare the sets of digests.
        let sentDigests = Set(ids.map { SHA256.hex(s.traffic.toSend[$0] ?? []) })
        let serverDigests = Set((0..<ids.count).map { SHA256.hex(server.bytes(of: $0)) })
        #expect(serverDigests == sentDigests)
        for id in ids {
            #expect(SHA256.hex(s.traffic.received[id] ?? []) == SHA256.hex(s.traffic.toSend[id] ?? []), "\(id)")
        }
    }

    /// While the emulator's send buffer is full every send is refused (SEND FAIL / 0 / busy);
    /// the same bytes go again later and the peer gets each byte exactly once. On a model
    /// where a refused send ends the socket (SIM7028), the socket is reported broken (bytes the
    /// modem took are lost: the flow must be reset), and the peer has an exact prefix of the
    /// bytes reported accepted, short of them by at most the sends still unconfirmed.
    @Test(arguments: supportedModels)
    func sendFailStormLosesNothing(_ model: String) throws {
        let server = try LoopbackServer(.sink)
        defer { server.stop() }
        let s = try Session(model: model)
        let id = ModemSocketID(0)
        try s.open([id], port: server.port)
        let data = randomBytes(64 * 1024, seed: 7)
        if s.driver.capabilities.sendRefusalIsFatal {
            s.traffic.toSend[id] = data
            _ = try s.traffic.run(until: MonotonicClock.now() + .seconds(10)) { s.traffic.sent[id, default: 0] >= 4096 }
            try s.modem.control("sendfull on")
            let broken = try s.traffic.wait(for: 30) { if case .broken(id, _) = $0 { return true } else { return false } }
            #expect(broken)
            let accepted = s.traffic.sent[id, default: 0]
            let unconfirmedAtMost = 2 * s.driver.capabilities.maxSend
            _ = try s.traffic.run(until: MonotonicClock.now() + .seconds(10)) {
                server.bytes(of: 0).count >= accepted - unconfirmedAtMost
            }
            let delivered = server.bytes(of: 0)
            #expect(accepted > 0 && accepted < data.count)
            #expect(delivered.count <= accepted && delivered.count >= accepted - unconfirmedAtMost,
                    "delivered \(delivered.count) of \(accepted) accepted")
            #expect(SHA256.hex(delivered) == SHA256.hex(Array(data.prefix(delivered.count))))
            return
        }
        try s.modem.control("sendfull on")
        s.traffic.toSend[id] = data
        _ = try s.traffic.run(until: MonotonicClock.now() + .seconds(10)) { s.traffic.busyEvents >= 20 }
        #expect(s.traffic.busyEvents >= 20, "no SEND FAIL storm: \(s.traffic.busyEvents) busy")
        try s.modem.control("sendfull off")
        let done = try s.traffic.run(until: MonotonicClock.now() + .seconds(60)) {
            s.traffic.allSent && server.bytes(of: 0).count >= data.count
        }
        #expect(done)
        #expect(s.traffic.failures.isEmpty, "\(s.traffic.failures)")
        #expect(SHA256.hex(server.bytes(of: 0)) == SHA256.hex(data))
    }

    /// The peer sends 48 KiB and closes before we read any of it: every byte is still read.
    @Test(arguments: supportedModels)
    func remoteCloseWithUnreadDataLosesNothing(_ model: String) throws {
        // Small enough for every model's receive buffer, so the modem sees the FIN while the
        // data is still unread (a modem whose buffer is full does not read on to the FIN).
        let blob = randomBytes(3000, seed: 3)
        let server = try LoopbackServer(.blob(blob))
        defer { server.stop() }
        let s = try Session(model: model)
        let id = ModemSocketID(1)
        s.traffic.reading = false
        try s.open([id], port: server.port)
        let closed = try s.traffic.wait(for: 30) { if case .closedByPeer(id) = $0 { return true } else { return false } }
        #expect(closed)
        s.traffic.reading = true
        // Read until the modem has nothing left: one more read after data stops.
        _ = try s.traffic.run(until: MonotonicClock.now() + .seconds(60)) {
            (s.traffic.received[id]?.count ?? 0) >= blob.count
        }
        #expect(SHA256.hex(s.traffic.received[id] ?? []) == SHA256.hex(blob))
        try s.driver.close(id, now: MonotonicClock.now())
        #expect(try s.traffic.wait(for: 30) { if case .closed(id) = $0 { return true } else { return false } })
    }

    /// UDP datagrams out and back through a UDP socket: every byte comes back, in order.
    /// (Datagram boundaries on the read side depend on the dialect's buffer mode; the
    /// bytes and their order do not.)
    @Test(arguments: supportedModels)
    func udpDatagramsEchoed(_ model: String) throws {
        let server = try UDPEchoServer()
        defer { server.stop() }
        let s = try Session(model: model)
        let id = ModemSocketID(0)
        try s.driver.open(id, .udp, host: "127.0.0.1", port: server.port, now: MonotonicClock.now())
        var openError: ModemError??
        _ = try s.traffic.wait(for: 30) { e in
            if case .opened(id, let err) = e { openError = .some(err); return true }
            return false
        }
        #expect(openError == .some(nil), "open: \(String(describing: openError))")
        var sent: [UInt8] = []
        for i in 0..<20 {
            let datagram = randomBytes(200, seed: UInt64(100 + i))
            sent += datagram
            s.traffic.toSend[id] = datagram
            s.traffic.sent[id] = 0
            _ = try s.traffic.run(until: MonotonicClock.now() + .seconds(10)) {
                s.traffic.sent[id, default: 0] >= datagram.count || !s.traffic.failures.isEmpty
            }
            // One datagram in flight at a time, so loopback UDP does not drop any.
            _ = try s.traffic.run(until: MonotonicClock.now() + .seconds(10)) {
                (s.traffic.received[id]?.count ?? 0) >= sent.count
            }
        }
        #expect(s.traffic.failures.isEmpty, "\(s.traffic.failures)")
        #expect(SHA256.hex(s.traffic.received[id] ?? []) == SHA256.hex(sent))
    }

    /// One UDP SERVICE socket, two UDP echo peers on loopback: every datagram goes to the
    /// peer its send named, and every reply comes back named with the peer that sent it.
    @Test(arguments: supportedModels.filter { ModemModel(name: $0)?.capabilities.udpSharedSocket == true })
    func oneDatagramServiceSocketTalksToTwoPeers(_ model: String) throws {
        let peers = [try UDPEchoServer(), try UDPEchoServer()]
        defer { for p in peers { p.stop() } }
        let s = try Session(model: model)
        let id = ModemSocketID(3)
        try s.driver.openDatagramService(id, localPort: try freeUDPPort(), now: MonotonicClock.now())
        var openError: ModemError??
        _ = try s.traffic.wait(for: 30) { e in
            if case .opened(id, let err) = e { openError = .some(err); return true }
            return false
        }
        try #require(openError == .some(nil), "open: \(String(describing: openError))")
        // A service socket's send must name its peer.
        #expect(throws: ModemError.wrongState) { try s.driver.send(id, [1][...], now: MonotonicClock.now()) }
        var expected: [(port: UInt16, bytes: [UInt8])] = []
        for i in 0..<10 {
            for (k, peer) in peers.enumerated() {
                let datagram = [UInt8(k)] + randomBytes(100 + 37 * i, seed: UInt64(200 + 2 * i + k))
                expected.append((peer.port, datagram))
                try s.driver.sendDatagram(id, to: "127.0.0.1", port: peer.port, datagram[...], now: MonotonicClock.now())
                let accepted = try s.traffic.wait(for: 10) { e in
                    if case .sendAccepted(id, datagram.count) = e { return true }
                    if case .sendBusy(id) = e { return true }
                    if case .sendFailed(id, _) = e { return true }
                    return false
                }
                #expect(accepted)
                #expect(s.traffic.events.last == .sendAccepted(id, datagram.count), "\(String(describing: s.traffic.events.last))")
                // One datagram in flight at a time, so loopback UDP does not drop any.
                _ = try s.traffic.run(until: MonotonicClock.now() + .seconds(10)) { s.traffic.datagrams.count >= expected.count }
            }
        }
        let got = s.traffic.datagrams
        #expect(got.count == expected.count)
        for (g, e) in zip(got, expected) {
            #expect(g.socket == id && g.host == "127.0.0.1" && g.port == e.port && g.bytes == e.bytes,
                    "\(g.host):\(g.port) \(g.bytes.count) bytes, expected :\(e.port) \(e.bytes.count) bytes")
        }
        #expect(Set(got.map(\.port)) == Set(peers.map(\.port)))
        try s.driver.close(id, now: MonotonicClock.now())
        #expect(try s.traffic.wait(for: 30) { if case .closed(id) = $0 { return true } else { return false } })
    }

    @Test(arguments: supportedModels)
    func networkLossAndRebootAreReported(_ model: String) throws {
        let s = try Session(model: model)
        try s.modem.control("netloss")
        #expect(try s.traffic.wait(for: 30) { $0 == .networkLost })
        try s.modem.control("reboot")
        #expect(try s.traffic.wait(for: 60) { $0 == .modemRebooted })
    }

    /// `tun2modem probe --json` against the emulator: exit 0 and the keys of issue 3.
    @Test(arguments: supportedModels)
    func probeExitsZeroWithJSON(_ model: String) throws {
        let modem = try EmulatedModem(model: model)
        let (status, out, err) = try runCLI(["probe", "--device", modem.ptyPath, "--baud", "921600", "--json", "--timeout", "60"])
        #expect(status == 0, "stderr: \(err)")
        let object = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        let keys = ["model", "firmware", "imei", "imsi", "rssi_dbm", "registration", "apn", "ip", "sockets", "max_send", "max_read"]
        #expect(Set(object?.keys.map { $0 } ?? []) == Set(keys))
        #expect(object?["model"] as? String == model)
        #expect((object?["sockets"] as? Int) == ModemModel(name: model)?.capabilities.socketCount)
        let ip = object?["ip"] as? String ?? ""
        #expect(ip.split(separator: ".").count == 4 || ip.contains(":"), "ip \(ip)")
    }
}

/// Runs the built `tun2modem` and returns (exit status, stdout, stderr).
func runCLI(_ arguments: [String]) throws -> (Int32, String, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: EmulatorBinary.cliPath)
    p.arguments = arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Probe ends within its --timeout; 90 s bounds a CLI that would not.
    let o = EmulatorBinary.readAll(out.fileHandleForReading.fileDescriptor, seconds: 90)
    let e = EmulatorBinary.readAll(err.fileHandleForReading.fileDescriptor, seconds: 5)
    // Both pipes are at EOF, so the CLI has exited or closed them; bounded, not waitUntilExit.
    let deadline = Date().addingTimeInterval(10)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL); return (-1, "", "still running") }
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

@Suite struct ProbeCLITests {
    /// A pty with nothing behind it: the modem never answers. Probe must name the step
    /// (sync), exit 69, and do so within its --timeout.
    @Test func silentPtyFailsWithSyncWithinTimeout() throws {
        let pty = try PseudoTerminal.open()
        let started = Date()
        let (status, out, err) = try runCLI(["probe", "--device", pty.slavePath, "--timeout", "3"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(status == 69)
        #expect(out.isEmpty)
        #expect(err.hasPrefix("tun2modem probe: sync failed: the modem does not answer AT"), "\(err)")
        #expect(err.filter { $0 == "\n" }.count == 1)
        #expect(elapsed < 4.0, "took \(elapsed) s")
        _ = pty
    }

    @Test func missingDeviceIsUnavailable() throws {
        let (status, _, err) = try runCLI(["probe", "--device", "/dev/does-not-exist-t2m"])
        #expect(status == 69)
        #expect(err.contains("serial port failed"), "\(err)")
    }

    @Test(arguments: [["probe"], ["probe", "--device"], ["probe", "--device", "x", "--baud", "12345"],
                      ["probe", "--device", "x", "--model", "NOPE"], ["probe", "--device", "x", "--apn", "a\"b"],
                      ["probe", "--device", "x", "--bogus"], ["nosuchcommand"]])
    func usageErrorsExit64(_ args: [String]) throws {
        let (status, _, err) = try runCLI(args)
        #expect(status == 64)
        #expect(err.hasPrefix("tun2modem"), "\(err)")
    }

    @Test func helpExitsZero() throws {
        let (status, out, _) = try runCLI(["probe", "--help"])
        #expect(status == 0)
        #expect(out.contains("--device PATH"))
    }
}
