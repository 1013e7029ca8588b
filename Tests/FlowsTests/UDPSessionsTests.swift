import Buffers
import Testing
import Wire
@testable import Flows

private func receive(_ s: inout UDPSessions, _ packet: [UInt8], at now: Instant = .zero) -> [UDPAction] {
    withPacket(packet) { s.receive($0, now: now) }
}

private func sessionID(_ actions: [UDPAction]) -> UDPSessionID? {
    for case .open(let id, _) in actions { return id }
    return nil
}

/// Delivers `payload` from the modem and returns the whole packet the app would read.
private func deliver(_ s: inout UDPSessions, _ id: UDPSessionID, from sender: UDPEndpoint?,
                     _ payload: [UInt8], at now: Instant = .zero) -> [UInt8]? {
    var header = [UInt8](repeating: 0, count: 48)
    let length = header.withUnsafeMutableBytes { h in
        payload.withUnsafeBytes { p in s.deliver(id, from: sender, payload: p, header: h, now: now) }
    }
    return length.map { Array(header[..<$0]) + payload }
}

@Suite("UDP sessions")
struct UDPSessionsTests {
    @Test func firstDatagramOpensThenSends() throws {
        var s = UDPSessions()
        let first = udpPacket(from: app4, 5000, to: remote4, 7000, payload: [1, 2, 3])
        let opening = receive(&s, first)
        let id = try #require(sessionID(opening))
        #expect(opening == [.open(id, remote: nil)])  // endpoint-independent by default
        #expect(s[id]?.state == .opening)

        // Datagrams while the socket opens are queued, then flushed in order.
        _ = receive(&s, udpPacket(from: app4, 5000, to: other4, 53000, payload: [4]))
        let flushed = s.opened(id, now: .milliseconds(300))
        #expect(flushed == [
            .send(id, to: UDPEndpoint(address: remote4, port: 7000), payload: .owned([1, 2, 3])),
            .send(id, to: UDPEndpoint(address: other4, port: 53000), payload: .owned([4])),
        ])
        #expect(s.queuedBytes == 0)

        // Once open, the payload is sent from where it lies in the packet.
        let later = udpPacket(from: app4, 5000, to: remote4, 7000, payload: Array("hello".utf8))
        let actions = receive(&s, later)
        guard case .send(id, let to, .inPacket(let range))? = actions.first else {
            Issue.record("expected an in-place send, got \(actions)")
            return
        }
        #expect(to == UDPEndpoint(address: remote4, port: 7000))
        #expect(Array(later[range]) == Array("hello".utf8))
        #expect(s[id]?.datagramsFromApp == 3)
        #expect(s[id]?.bytesFromApp == 9)
    }

    @Test func addressAndPortDependentMappingSplitsByDestination() throws {
        var s = UDPSessions(config: .init(mapping: .addressAndPortDependent))
        let a = try #require(sessionID(receive(&s, udpPacket(from: app4, 5000, to: remote4, 7000, payload: [1]))))
        let b = try #require(sessionID(receive(&s, udpPacket(from: app4, 5000, to: other4, 7000, payload: [1]))))
        #expect(a != b)
        #expect(s[a]?.key.remote == UDPEndpoint(address: remote4, port: 7000))
        #expect(s.count == 2)

        var eim = UDPSessions(config: .init(mapping: .endpointIndependent))
        _ = receive(&eim, udpPacket(from: app4, 5000, to: remote4, 7000, payload: [1]))
        #expect(receive(&eim, udpPacket(from: app4, 5000, to: other4, 7000, payload: [1])).isEmpty)  // queued
        #expect(eim.count == 1)
    }

    /// RFC 4787 REQ-5: five minutes idle by default; traffic either way refreshes it.
    @Test func idleTimeout() throws {
        var s = UDPSessions()
        let id = try #require(sessionID(receive(&s, udpPacket(from: app4, 5000, to: remote4, 7000, payload: [1]))))
        _ = s.opened(id, now: .zero)
        #expect(s.nextDeadline == .zero + .seconds(300))
        #expect(s.expire(now: .zero + .seconds(299)).isEmpty)
        // A reply from the remote at 200 s pushes the deadline to 500 s.
        #expect(deliver(&s, id, from: UDPEndpoint(address: remote4, port: 7000), [9], at: .zero + .seconds(200)) != nil)
        #expect(s.expire(now: .zero + .seconds(499)).isEmpty)
        #expect(s.expire(now: .zero + .seconds(500)) == [.close(id)])
        #expect(s.count == 0)
        // The next datagram opens a new session with a new id.
        let again = try #require(sessionID(receive(&s, udpPacket(from: app4, 5000, to: remote4, 7000, payload: [1]))))
        #expect(again != id)
    }

    @Test func sessionCountIsBounded() {
        var s = UDPSessions(config: .init(maximumSessions: 2))
        for port in UInt16(1000)..<1002 {
            #expect(sessionID(receive(&s, udpPacket(from: app4, port, to: remote4, 7000, payload: [1]))) != nil)
        }
        #expect(receive(&s, udpPacket(from: app4, 1002, to: remote4, 7000, payload: [1])).isEmpty)
        #expect(s.drops.sessionLimit == 1)
        #expect(s.count == 2)
    }

    @Test func openingQueueIsBounded() throws {
        var s = UDPSessions(config: .init(maximumQueuedDatagrams: 2))
        let id = try #require(sessionID(receive(&s, udpPacket(from: app4, 5000, to: remote4, 7000, payload: [1]))))
        _ = receive(&s, udpPacket(from: app4, 5000, to: remote4, 7000, payload: [2]))
        _ = receive(&s, udpPacket(from: app4, 5000, to: remote4, 7000, payload: [3]))
        #expect(s.drops.queueFull == 1)
        #expect(s.opened(id, now: .zero).count == 2)
    }

    /// Over the modem's limit: "fragmentation needed" with the MTU that fits, quoting the
    /// datagram (RFC 1191 §4), and nothing sent.
    @Test func tooBigAnsweredWithFragmentationNeeded() throws {
        var s = UDPSessions(config: .init(maximumPayloadLength: 1460))
        let big = udpPacket(from: app4, 5000, to: remote4, 7000, payload: Array(repeating: 7, count: 1461))
        let actions = receive(&s, big)
        guard case .reply(let packet)? = actions.first, actions.count == 1 else {
            Issue.record("expected one ICMP reply, got \(actions)")
            return
        }
        let icmp = try decodeICMP(packet)
        #expect(icmp.message == .packetTooBig(mtu: 1488))
        #expect(icmp.source == remote4)
        #expect(icmp.destination == app4)
        #expect(icmp.data.count == 548)          // RFC 1812: within 576 bytes
        #expect(Array(icmp.data.prefix(28)) == Array(big.prefix(28)))
        #expect(s.drops.tooBig == 1)
        #expect(s.count == 0)
        // Exactly the limit passes.
        #expect(sessionID(receive(&s, udpPacket(from: app4, 5000, to: remote4, 7000, payload: Array(repeating: 7, count: 1460)))) != nil)
    }

    @Test func tooBigOverIPv6IsPacketTooBigNotBelow1280() throws {
        var s = UDPSessions(config: .init(maximumPayloadLength: 1000))
        let actions = receive(&s, udpPacket(from: app6, 5000, to: remote6, 7000, payload: Array(repeating: 7, count: 1100)))
        guard case .reply(let packet)? = actions.first else {
            Issue.record("expected an ICMPv6 reply")
            return
        }
        #expect(try decodeICMP(packet).message == .packetTooBig(mtu: 1280))
    }

    /// Multicast, broadcast and link-local datagrams stay on the link: no session, no
    /// modem socket, and no ICMP error about them (RFC 1122 §3.2.2).
    @Test(arguments: ["255.255.255.255", "224.0.0.251", "239.255.255.250", "169.254.1.1", "0.0.0.0",
                      "ff02::fb", "fe80::1", "febf::1"])
    func localLinkTrafficNotCarried(destination: String) {
        var s = UDPSessions(config: .init(maximumPayloadLength: 10))
        let source = destination.contains(":") ? app6 : app4
        let to = IPAddress(destination)!
        #expect(receive(&s, udpPacket(from: source, 5353, to: to, 5353, payload: [1])).isEmpty)
        #expect(receive(&s, udpPacket(from: source, 5353, to: to, 5353, payload: Array(repeating: 1, count: 20))).isEmpty)
        #expect(s.count == 0)
        #expect(s.drops.wire[.unsupported] == 2)
        #expect(s.drops.tooBig == 0)
    }

    @Test func globalAddressesNextToLinkLocalAreCarried() {
        var s = UDPSessions()
        for (i, destination) in ["169.253.255.255", "169.255.0.1", "fec0::1", "fe7f::1", "2001:db8::1"].enumerated() {
            let to = IPAddress(destination)!
            let source = destination.contains(":") ? app6 : app4
            let port = UInt16(5000 + i)  // one app socket each: a new session each
            #expect(sessionID(receive(&s, udpPacket(from: source, port, to: to, 7000, payload: [1]))) != nil, "\(destination)")
        }
    }

    @Test func deliverBuildsPacketForApp() throws {
        var s = UDPSessions()
        let id = try #require(sessionID(receive(&s, udpPacket(from: app6, 5000, to: remote6, 7000, payload: [1]))))
        _ = s.opened(id, now: .zero)
        let packet = try #require(deliver(&s, id, from: UDPEndpoint(address: remote6, port: 7000), Array("pong".utf8)))
        let udp = try decodeUDP(packet)
        #expect(udp.source == remote6)
        #expect(udp.destination == app6)
        #expect(udp.sourcePort == 7000)
        #expect(udp.destinationPort == 5000)
        #expect(udp.payload == Array("pong".utf8))
        #expect(s[id]?.datagramsToApp == 1)
        #expect(s[id]?.bytesToApp == 4)
    }

    @Test func undeliverable() throws {
        var s = UDPSessions()
        let id = try #require(sessionID(receive(&s, udpPacket(from: app4, 5000, to: remote4, 7000, payload: [1]))))
        _ = s.opened(id, now: .zero)
        // An IPv6 sender for an IPv4 app, no sender at all on an unconnected session,
        // and an unknown session.
        #expect(deliver(&s, id, from: UDPEndpoint(address: remote6, port: 1), [1]) == nil)
        #expect(deliver(&s, id, from: nil, [1]) == nil)
        #expect(deliver(&s, UDPSessionID(rawValue: 999), from: UDPEndpoint(address: remote4, port: 1), [1]) == nil)
        #expect(s.drops.undeliverable == 3)
    }

    @Test func connectedSessionUsesItsRemote() throws {
        var s = UDPSessions(config: .init(mapping: .addressAndPortDependent))
        let id = try #require(sessionID(receive(&s, udpPacket(from: app4, 5000, to: remote4, 7000, payload: [1]))))
        _ = s.opened(id, now: .zero)
        let udp = try decodeUDP(try #require(deliver(&s, id, from: nil, [5])))
        #expect(udp.source == remote4)
        #expect(udp.sourcePort == 7000)
    }

    /// The modem could not open a socket: "network unreachable" about the first datagram.
    @Test func openFailureAnsweredWithUnreachable() throws {
        var s = UDPSessions()
        let first = udpPacket(from: app4, 5000, to: remote4, 7000, payload: [1, 2])
        let id = try #require(sessionID(receive(&s, first)))
        let actions = s.openFailed(id)
        guard case .reply(let packet)? = actions.first else {
            Issue.record("expected an ICMP reply")
            return
        }
        let icmp = try decodeICMP(packet)
        #expect(icmp.message == .destinationUnreachable(.network))
        #expect(icmp.data == first)
        #expect(s.count == 0)
        #expect(s.drops.openFailed == 1)
        #expect(s.opened(id, now: .zero).isEmpty)  // a late "opened" finds nothing
    }

    @Test func badPacketsCounted() {
        var s = UDPSessions()
        var bad = udpPacket(from: app4, 5000, to: remote4, 7000, payload: [1, 2, 3])
        bad[bad.count - 1] ^= 0xFF
        #expect(receive(&s, bad).isEmpty)
        #expect(s.drops.wire[.badChecksum] == 1)
        #expect(s.count == 0)
    }

    /// 10,000 short sessions: the table never passes its bound and empties on expiry.
    @Test func churnReturnsToZero() {
        var s = UDPSessions(config: .init(mapping: .addressAndPortDependent, idleTimeout: .seconds(120), maximumSessions: 64))
        var now = Instant.zero
        var opened = 0
        for i in 0..<10_000 {
            now = now + .milliseconds(50)
            let actions = receive(&s, udpPacket(from: app4, UInt16(1024 + i % 5000), to: remote4, 7000, payload: [UInt8(i & 0xFF)]), at: now)
            if let id = sessionID(actions) {
                opened += 1
                _ = i % 3 == 0 ? s.openFailed(id) : s.opened(id, now: now)
            }
            _ = s.expire(now: now)
            #expect(s.count <= 64)
        }
        _ = s.expire(now: now + .seconds(120))
        #expect(s.count == 0)
        #expect(s.queuedBytes == 0)
        #expect(opened > 64)
    }
}
