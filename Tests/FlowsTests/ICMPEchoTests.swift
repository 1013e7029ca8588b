import Buffers
import Testing
import Wire
@testable import Flows

private func receive(_ e: inout ICMPEcho, _ packet: [UInt8], at now: Instant = .zero) -> [ICMPEchoAction] {
    withPacket(packet) { e.receive($0, now: now) }
}

private func replies(_ actions: [ICMPEchoAction]) throws -> [DecodedICMP] {
    try actions.map { action in
        guard case .reply(let packet) = action else { throw WireError.unsupported }
        return try decodeICMP(packet)
    }
}

/// An echo request from `app` to `destination` with `data`.
private func echoRequest(from app: IPAddress = app4, to destination: IPAddress, id: UInt16, seq: UInt16, data: [UInt8]) -> [UInt8] {
    let icmp = ICMPRepr(message: .echoRequest(identifier: id, sequence: seq), payloadLength: data.count)
    let ip = IPRepr(source: app, destination: destination, protocol: ICMPRepr.ipProtocol(for: app), payloadLength: icmp.bufferLength)
    var out = [UInt8](repeating: 0, count: ip.bufferLength)
    out.withUnsafeMutableBytes { buffer in
        ip.emit(into: buffer)
        icmp.emit(into: UnsafeMutableRawBufferPointer(rebasing: buffer[ip.headerLength...]), source: app, destination: destination) {
            $0.copyBytes(from: data)
        }
    }
    return out
}

@Suite("ICMP echo")
struct ICMPEchoTests {
    /// The kernel's ping: one modem ping, then an echo reply from the pinged address with
    /// the same identifier, sequence and data, and the TTL the modem saw.
    @Test(arguments: [false, true])
    func capturedPingAnswered(v6: Bool) throws {
        var e = ICMPEcho()
        let request = v6 ? capturedEcho6 : capturedEcho4
        let (app, remote) = v6 ? (app6, remote6) : (app4, remote4)
        #expect(receive(&e, request) == [.ping(remote, payloadLength: 16)])
        let reply = try replies(e.pinged(remote, .reply(rtt: .milliseconds(320), ttl: 51), now: .milliseconds(900)))
        #expect(reply.count == 1)
        #expect(reply[0].source == remote)
        #expect(reply[0].destination == app)
        #expect(reply[0].hopLimit == 51)
        #expect(reply[0].message == .echoReply(identifier: v6 ? 0x23A5 : 0x23A3, sequence: 1))
        #expect(reply[0].data == Array(request.suffix(16)))
        #expect(e.pendingCount == 0)
        #expect(e.waitingRequests == 0)
    }

    @Test func failedPingIsHostUnreachable() throws {
        var e = ICMPEcho()
        _ = receive(&e, capturedEcho4)
        let reply = try replies(e.pinged(remote4, .failure, now: .zero + .seconds(4)))
        #expect(reply.map(\.message) == [.destinationUnreachable(.host)])
        #expect(reply.first?.data == capturedEcho4)  // the whole request quoted (under 548)
        #expect(e.counters.unreachable == 1)
    }

    /// Requests to a destination already being pinged ride on that ping.
    @Test func concurrentRequestsCoalesce() throws {
        var e = ICMPEcho()
        #expect(receive(&e, echoRequest(to: other4, id: 1, seq: 1, data: [1])).count == 1)
        #expect(receive(&e, echoRequest(to: other4, id: 1, seq: 2, data: [2])).isEmpty)
        #expect(receive(&e, echoRequest(to: remote4, id: 1, seq: 3, data: [3])).count == 1)
        let r = try replies(e.pinged(other4, .reply(rtt: .milliseconds(50), ttl: nil), now: .zero))
        #expect(r.map(\.message) == [.echoReply(identifier: 1, sequence: 1), .echoReply(identifier: 1, sequence: 2)])
        #expect(r.map(\.data) == [[1], [2]])
        #expect(r.map(\.hopLimit) == [64, 64])
        #expect(e.pendingCount == 1)
    }

    /// No answer from the driver: after the timeout the requests are forgotten, like a
    /// lost ping, and a late result answers nobody.
    @Test func timeoutForgets() {
        var e = ICMPEcho(config: .init(timeout: .seconds(10)))
        _ = receive(&e, capturedEcho4)
        #expect(e.nextDeadline == .zero + .seconds(10))
        e.expire(now: .zero + .seconds(9))
        #expect(e.pendingCount == 1)
        e.expire(now: .zero + .seconds(10))
        #expect(e.pendingCount == 0)
        #expect(e.counters.timedOut == 1)
        #expect(e.pinged(remote4, .reply(rtt: .seconds(11), ttl: 50), now: .zero + .seconds(11)).isEmpty)
    }

    @Test func limits() {
        var e = ICMPEcho(config: .init(maximumWaiting: 3, maximumPings: 2, maximumDataLength: 100))
        #expect(receive(&e, echoRequest(to: other4, id: 1, seq: 1, data: Array(repeating: 0, count: 101))).isEmpty)
        #expect(receive(&e, echoRequest(to: IPAddress("192.0.2.1")!, id: 1, seq: 1, data: [])).count == 1)
        #expect(receive(&e, echoRequest(to: IPAddress("192.0.2.2")!, id: 1, seq: 1, data: [])).count == 1)
        #expect(receive(&e, echoRequest(to: IPAddress("192.0.2.3")!, id: 1, seq: 1, data: [])).isEmpty)  // pings full
        #expect(receive(&e, echoRequest(to: IPAddress("192.0.2.1")!, id: 1, seq: 2, data: [])).isEmpty)  // waits
        #expect(receive(&e, echoRequest(to: IPAddress("192.0.2.1")!, id: 1, seq: 3, data: [])).isEmpty)  // waiting full
        #expect(e.waitingRequests == 3)
        #expect(e.counters.overLimit == 3)
    }

    @Test func notEchoRequestsAreDropped() {
        var e = ICMPEcho()
        let reply = ICMPRepr(message: .echoReply(identifier: 1, sequence: 1), payloadLength: 0)
        let ip = IPRepr(source: app4, destination: remote4, protocol: .icmp, payloadLength: reply.bufferLength)
        var packet = [UInt8](repeating: 0, count: ip.bufferLength)
        packet.withUnsafeMutableBytes { b in
            ip.emit(into: b)
            reply.emit(into: UnsafeMutableRawBufferPointer(rebasing: b[20...]), source: app4, destination: remote4) { _ in }
        }
        #expect(receive(&e, packet).isEmpty)
        // A broadcast ping has no single host for the modem to ping.
        #expect(receive(&e, echoRequest(to: IPAddress("255.255.255.255")!, id: 1, seq: 1, data: [])).isEmpty)
        var corrupt = capturedEcho4
        corrupt[corrupt.count - 1] ^= 1
        #expect(receive(&e, corrupt).isEmpty)
        #expect(e.counters.dropped[.unsupported] == 2)
        #expect(e.counters.dropped[.badChecksum] == 1)
        #expect(e.pendingCount == 0)
    }
}
