import Foundation
import Testing
@testable import ModemSim

/// The built `tun2modem-sim` over a real pty, per model: bring-up, TCP and UDP to servers on
/// 127.0.0.1, 1 MiB of hostile binary each way (sha256-checked), the socket limit, SEND FAIL,
/// and a close from either side.
@Suite(.serialized) struct PtyIntegrationTests {
    static let clients: [any DialectClient] = [QuectelCat1Client(), QuectelNBClient(), SIMCom7028Client(), OneMOClient.cat1, OneMOClient.nb]

    /// 1 MiB of seeded random bytes with the byte strings a line-based parser trips over.
    static func hostilePayload(seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        var bytes = (0..<(1 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let traps: [[UInt8]] = [Array("\r\nOK\r\n".utf8), Array("+QIURC: \"recv\",0".utf8), Array("SEND OK".utf8),
                                [0x1A], [0x1B], [0x03], Array("\r\nERROR\r\n".utf8), Array("+MIPURC: \"recv\",0,10\r\n".utf8),
                                Array("RECV FROM:127.0.0.1:80\r\n+IPD10\r\n".utf8)]
        var offset = 0
        var i = 0
        while offset + 40 < bytes.count {
            let t = traps[i % traps.count]
            bytes.replaceSubrange(offset..<(offset + t.count), with: t)
            offset += 997 + Int(rng.next() % 3000)
            i += 1
        }
        return bytes
    }

    @Test(arguments: clients.map(\.model))
    func tcpMegabyteEachWay(model: String) throws {
        let client = try #require(Self.clients.first { $0.model == model })
        let e = try EmulatorProcess(model: model)
        defer { #expect(e.stop() == 0) }
        try client.bringUp(e)
        let server = LoopbackTCPServer()
        defer { server.close() }
        let id = client.socketIDs.lowerBound
        try client.openTCP(e, id: id, port: server.port)
        let peer = try #require(server.accept())

        // Up: the host sends 1 MiB; the server checks it.
        let up = Self.hostilePayload(seed: 1)
        let received = LockedBytes()
        let reader = Thread { received.set(LoopbackTCPServer.readExactly(peer, up.count)) }
        reader.start()
        var offset = 0
        var fails = 0
        while offset < up.count && fails < 10_000 {
            let chunk = Array(up[offset..<min(up.count, offset + client.sendChunk)])
            if try client.send(e, id: id, chunk) { offset += chunk.count } else { fails += 1 }
        }
        #expect(offset == up.count)
        #expect(received.wait(seconds: 30))
        #expect(SHA256.hex(received.value) == SHA256.hex(up))

        // Down: the server sends 1 MiB; the host reads it by count.
        let down = Self.hostilePayload(seed: 2)
        let writer = Thread { _ = LoopbackTCPServer.writeAll(peer, down) }
        writer.start()
        var got: [UInt8] = []
        let deadline = Date().addingTimeInterval(60)
        while got.count < down.count && Date() < deadline {
            let chunk = try client.read(e, id: id)
            if chunk.isEmpty { _ = e.sees("recv", ms: 100) } else { got += chunk }
        }
        #expect(got.count == down.count)
        #expect(SHA256.hex(got) == SHA256.hex(down))

        // The host closes: the server sees EOF.
        try client.close(e, id: id)
        #expect(LoopbackTCPServer.seesEOF(peer))
    }

    @Test(arguments: clients.map(\.model))
    func udpEchoAndRemoteClose(model: String) throws {
        let client = try #require(Self.clients.first { $0.model == model })
        let e = try EmulatorProcess(model: model)
        defer { #expect(e.stop() == 0) }
        try client.bringUp(e)
        let echo = LoopbackUDPEcho()
        defer { echo.close() }
        let id = client.socketIDs.lowerBound
        try client.openUDP(e, id: id, port: echo.port)
        var rng = SeededRandom(seed: 3)
        for size in [1, 17, 512, min(1000, client.sendChunk), 3] {
            let datagram = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            #expect(try client.send(e, id: id, datagram))
            var back: [UInt8] = []
            let deadline = Date().addingTimeInterval(5)
            // BC reads a datagram in 512-byte pieces of its node; the others in one read.
            while back.count < datagram.count && Date() < deadline {
                let piece = try client.read(e, id: id)
                if piece.isEmpty { _ = e.sees("recv", ms: 50) } else { back += piece }
            }
            #expect(back.count == datagram.count && back == datagram, "datagram of \(size): got \(back.count) bytes")
        }
        try client.close(e, id: id)

        // The peer closes a TCP socket: the modem says so.
        let server = LoopbackTCPServer()
        defer { server.close() }
        try client.openTCP(e, id: id, port: server.port)
        let peer = try #require(server.accept())
        Glibc.close(peer)
        try e.expect(client.remoteCloseURC(id: id))
        if client.closeAfterRemoteClose { try client.close(e, id: id) }
        // The id is free again: it opens anew.
        try client.openTCP(e, id: id, port: server.port)
        #expect(server.accept() != nil)
        try client.close(e, id: id)
    }

    @Test(arguments: clients.map(\.model))
    func socketLimitAndSendFail(model: String) throws {
        let client = try #require(Self.clients.first { $0.model == model })
        let e = try EmulatorProcess(model: model)
        defer { #expect(e.stop() == 0) }
        try client.bringUp(e)
        let echo = LoopbackUDPEcho()
        defer { echo.close() }
        for id in client.socketIDs { try client.openUDP(e, id: id, port: echo.port) }
        // Every id is taken: the next open is refused, in range or beyond it.
        #expect(try client.openIsRefused(e, id: client.socketIDs.lowerBound, port: echo.port))
        #expect(try client.openIsRefused(e, id: client.socketIDs.upperBound + 1, port: echo.port))

        // A send-buffer-full storm (control socket): sends fail, then work again.
        let id = client.socketIDs.lowerBound
        #expect(e.control("sendfull on") == "ok\n")
        #expect(try client.send(e, id: id, Array("x".utf8)) == false)
        #expect(e.control("sendfull off") == "ok\n")
        // SIM7028 refuses further sends on a link after a short one (simcom-sim7028.md §7.4),
        // so every dialect gets a fresh socket here.
        try client.close(e, id: id)
        try client.openUDP(e, id: id, port: echo.port)
        #expect(try client.send(e, id: id, Array("x".utf8)) == true)
        #expect(e.control("explode").hasPrefix("error: "))
        for id in client.socketIDs { try client.close(e, id: id) }
    }

    /// What each model prints when the network drops (the fault list).
    static let networkLossURC = [
        "EC600E": "+QIURC: \"pdpdeact\",1\r\n", "BC26": "+QIURC: \"closed\",0\r\n",
        "SIM7028": "+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY\r\n", "ML307A": "+MIPURC: \"disconn\",0,3\r\n",
        "MN316": "+MIPURC: \"disconn\",0,3\r\n",
    ]

    /// Faults through the control socket: network loss closes the real socket; a reboot
    /// loses everything and the modem comes back with RDY, ready for a new bring-up.
    @Test(arguments: clients.map(\.model))
    func controlSocketFaults(model: String) throws {
        let client = try #require(Self.clients.first { $0.model == model })
        let e = try EmulatorProcess(model: model)
        defer { #expect(e.stop() == 0) }
        try client.bringUp(e)
        let server = LoopbackTCPServer()
        defer { server.close() }
        try client.openTCP(e, id: 0, port: server.port)
        let peer = try #require(server.accept())
        #expect(e.control("netloss") == "ok\n")
        try e.expect(try #require(Self.networkLossURC[model]))
        #expect(LoopbackTCPServer.seesEOF(peer))
        #expect(e.control("netback") == "ok\n")
        // BC26 announces the network again with +IP:; the bring-up below must see the reboot's.
        _ = e.drain(ms: 200)
        #expect(e.control("reboot") == "ok\n")
        try client.bringUp(e)
        try client.openTCP(e, id: 0, port: server.port)
        #expect(server.accept() != nil)
        #expect(e.control("silence 1") == "ok\n")
        e.command("AT")
        #expect(!e.sees("OK\r\n", ms: 500))
    }

    /// EC600E transparent mode over the pty: raw bytes both ways, then +++ with its guard times.
    @Test func quectelTransparentMode() throws {
        let client = QuectelCat1Client()
        let e = try EmulatorProcess(model: "EC600E")
        defer { #expect(e.stop() == 0) }
        try client.bringUp(e)
        let server = LoopbackTCPServer()
        defer { server.close() }
        e.command("AT+QIOPEN=1,0,\"TCP\",\"127.0.0.1\",\(server.port),0,2")
        try e.expect("CONNECT\r\n")
        let peer = try #require(server.accept())
        let up = Array(Self.hostilePayload(seed: 5).prefix(256 * 1024))
        let received = LockedBytes()
        let reader = Thread { received.set(LoopbackTCPServer.readExactly(peer, up.count)) }
        reader.start()
        e.write(up)
        #expect(received.wait(seconds: 30))
        #expect(SHA256.hex(received.value) == SHA256.hex(up))
        let down = Array(Self.hostilePayload(seed: 6).prefix(256 * 1024))
        let writer = Thread { _ = LoopbackTCPServer.writeAll(peer, down) }
        writer.start()
        #expect(SHA256.hex(try e.take(down.count, seconds: 30)) == SHA256.hex(down))
        // +++ framed by a second of quiet: back in command mode.
        _ = e.sees("never", ms: 1100)
        e.write(Array("+++".utf8))
        try e.expect("\r\nOK\r\n", seconds: 5)
        e.command("AT+QICLOSE=0")
        try e.expect("OK\r\n")
        #expect(LoopbackTCPServer.seesEOF(peer))
    }
}

/// Bytes handed from a server thread to the test.
final class LockedBytes: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var bytes: [UInt8] = []
    func set(_ b: [UInt8]) { lock.lock(); bytes = b; lock.unlock(); done.signal() }
    var value: [UInt8] { lock.lock(); defer { lock.unlock() }; return bytes }
    func wait(seconds: Double) -> Bool { done.wait(timeout: .now() + seconds) == .success }
}
