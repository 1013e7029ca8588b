import Testing
@testable import Wire

func ipv6Packet(_ bytes: [UInt8]) -> Result<(IPProtocol, Int, IPv6FragmentHeader?), WireError> {
    bytes.withUnsafeBytes { raw in
        Result { () throws(WireError) in
            let p = try IPv6Packet(validating: raw)
            return (p.upperLayerProtocol, p.upperLayerOffset, p.fragment)
        }
    }
}

/// An IPv6 packet fd00::1 -> fd00::2 whose payload is `payload`, first header `next`.
func ipv6(next: UInt8, payload: [UInt8]) -> [UInt8] {
    var h: [UInt8] = [0x60, 0, 0, 0, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF), next, 64]
    h += IPv6Address("fd00::1")!.bytes + IPv6Address("fd00::2")!.bytes
    return h + payload
}

@Suite("IPv6")
struct IPv6Tests {
    /// 6 00 ee57d 0028 06 40 fd00::1 fd00::2 (version, class, flow label, ...): by hand.
    @Test func capturedHeader() throws {
        try Captured.ipv6TcpSyn.withUnsafeBytes { raw in
            let p = try IPv6Packet(validating: raw)
            #expect(p.trafficClass == 0)
            #expect(p.flowLabel == 0xEE57D)
            #expect(p.payloadLength == 40)
            #expect(p.nextHeader == .tcp)
            #expect(p.upperLayerProtocol == .tcp)
            #expect(p.hopLimit == 64)
            #expect(p.source.description == "fd00::1")
            #expect(p.destination.description == "fd00::2")
            #expect(p.fragment == nil)
            let repr = IPv6Repr.parse(p)
            var out = [UInt8](repeating: 0, count: 40)
            out.withUnsafeMutableBytes { repr.emit(into: $0) }
            #expect(hex(out) == hex(Array(Captured.ipv6TcpSyn[0..<40])))
        }
    }

    /// The kernel's fragments: fragment header 11 00 0001 38cc4d84 (UDP, offset 0, M),
    /// then 11 00 05a8 38cc4d84 (offset 0x5a8 >> 3 = 181 units = 1448 bytes, last).
    @Test func capturedFragments() throws {
        let first = try ipv6Packet(Captured.ipv6UdpFrag1).get()
        #expect(first.0 == .udp)
        #expect(first.1 == 48)
        #expect(first.2 == IPv6FragmentHeader(offset: 0, moreFragments: true, identification: 0x38CC_4D84, nextHeader: .udp, headerOffset: 40, linkOffset: 6))
        let second = try ipv6Packet(Captured.ipv6UdpFrag2).get()
        #expect(second.1 == 48)
        #expect(second.2 == IPv6FragmentHeader(offset: 1448, moreFragments: false, identification: 0x38CC_4D84, nextHeader: .udp, headerOffset: 40, linkOffset: 6))
    }

    @Test func everyTruncation() {
        for packet in [Captured.ipv6TcpSyn, Captured.ipv6UdpFrag2, Captured.ipv6Icmpv6EchoRequest] {
            for length in 0..<packet.count {
                #expect(throws: WireError.truncated, "length \(length)") { try ipv6Packet(Array(packet[..<length])).get() }
            }
        }
    }

    /// Hop-by-hop, destination options, routing, then UDP: all skipped by their lengths.
    @Test func extensionHeadersSkipped() throws {
        let hopByHop: [UInt8] = [60, 0, 1, 4, 0, 0, 0, 0]                    // PadN
        let destination: [UInt8] = [43, 1] + [UInt8](repeating: 1, count: 14)  // 16 bytes
        let routing: [UInt8] = [17, 0, 0, 0, 0, 0, 0, 0]                     // segments left 0
        let udp: [UInt8] = [0, 53, 0, 53, 0, 8, 0, 0]
        let (proto, offset, fragment) = try ipv6Packet(ipv6(next: 0, payload: hopByHop + destination + routing + udp)).get()
        #expect(proto == .udp)
        #expect(offset == 40 + 8 + 16 + 8)
        #expect(fragment == nil)
    }

    /// RFC 6946: an atomic fragment (offset 0, M clear) is a whole packet.
    @Test func atomicFragmentIsWhole() throws {
        let fragment: [UInt8] = [58, 0, 0, 0, 0, 0, 0, 9]
        let (proto, offset, header) = try ipv6Packet(ipv6(next: 44, payload: fragment + [128, 0, 0, 0])).get()
        #expect(proto == .icmpv6)
        #expect(offset == 48)
        #expect(header == nil)
    }

    @Test func hopByHopNotFirstIsMalformed() {
        let destination: [UInt8] = [0, 0, 1, 4, 0, 0, 0, 0]
        let hopByHop: [UInt8] = [59, 0, 1, 4, 0, 0, 0, 0]
        #expect(throws: WireError.malformed) { try ipv6Packet(ipv6(next: 60, payload: destination + hopByHop)).get() }
    }

    @Test func twoFragmentHeadersAreMalformed() {
        let f1: [UInt8] = [44, 0, 0, 1, 0, 0, 0, 1]
        let f2: [UInt8] = [17, 0, 0, 1, 0, 0, 0, 1]
        #expect(throws: WireError.malformed) { try ipv6Packet(ipv6(next: 44, payload: f1 + f2)).get() }
    }

    @Test func extensionChainBounded() {
        let chain = (0..<20).flatMap { _ in [60, 0, 1, 4, 0, 0, 0, 0] as [UInt8] }
        #expect(throws: WireError.unsupported) { try ipv6Packet(ipv6(next: 60, payload: chain)).get() }
    }

    @Test func extensionLengthPastEndIsTruncated() {
        #expect(throws: WireError.truncated) { try ipv6Packet(ipv6(next: 60, payload: [17, 5, 0, 0, 0, 0, 0, 0])).get() }
    }

    @Test func versionAndJumbogram() {
        var p = Captured.ipv6TcpSyn
        p[0] = 0x40
        #expect(throws: WireError.badVersion) { try ipv6Packet(p).get() }
        #expect(throws: WireError.unsupported) { try ipv6Packet(ipv6(next: 0, payload: []) + [0xC2, 4, 0, 0]).get() }
    }

    @Test func noNextHeaderHasEmptyPayload() throws {
        let (proto, offset, _) = try ipv6Packet(ipv6(next: 59, payload: [])).get()
        #expect(proto == .ipv6NoNextHeader)
        #expect(offset == 40)
    }

    @Test func garbageNeverTraps() {
        var rng = SplitMix64(seed: 8200)
        var valid = 0
        let nexts: [UInt8] = [0, 43, 44, 51, 60, 6, 17, 58, 59]
        for _ in 0..<20_000 {
            let payload = randomBytes(count: Int.random(in: 0...64, using: &rng), using: &rng)
            var b = ipv6(next: nexts.randomElement(using: &rng)!, payload: payload)
            if Bool.random(using: &rng) { b = Array(b.prefix(Int.random(in: 0...b.count, using: &rng))) }
            if case .success(let (_, offset, _)) = ipv6Packet(b) {
                valid += 1
                #expect(offset >= 40 && offset <= b.count)
            }
        }
        #expect(valid > 0)
    }

    @Test func ipPacketDispatchesOnVersion() throws {
        try Captured.ipv6TcpSyn.withUnsafeBytes { raw in
            let p = try IPPacket(validating: raw)
            #expect(p.protocol == .tcp)
            #expect(p.source == host6a)
            #expect(p.payload.count == 40)
            #expect(!p.isFragment)
            let repr = try IPRepr.parse(p)
            #expect(repr.headerLength == 40)
        }
        #expect(throws: WireError.badVersion) { try [UInt8]([0x50]).withUnsafeBytes { try IPPacket(validating: $0) } }
        #expect(throws: WireError.truncated) { try [UInt8]().withUnsafeBytes { try IPPacket(validating: $0) } }
    }

    /// A full IP+TCP packet built from reprs equals the kernel's SYN byte for byte.
    @Test func buildsFullPacketFromReprs() throws {
        let tcp = try Array(Captured.ipv6TcpSyn[40...]).withUnsafeBytes { raw in
            try TCPRepr.parse(raw, source: host6a, destination: host6b)
        }
        var ip = IPRepr(source: host6a, destination: host6b, protocol: .tcp, payloadLength: tcp.bufferLength)
        if case .v6(var v6) = ip {
            v6.flowLabel = 0xEE57D
            ip = .v6(v6)
        }
        var out = [UInt8](repeating: 0, count: ip.bufferLength)
        out.withUnsafeMutableBytes { buf in
            ip.emit(into: buf)
            tcp.emit(into: UnsafeMutableRawBufferPointer(rebasing: buf[ip.headerLength...]),
                     source: host6a, destination: host6b, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        }
        #expect(hex(out) == hex(Captured.ipv6TcpSyn))
    }

    /// The same for IPv4: the kernel's SYN rebuilt from reprs, IP checksum c334 included.
    @Test func buildsFullIPv4PacketFromReprs() throws {
        let tcp = try Array(Captured.ipv4TcpSyn[20...]).withUnsafeBytes { raw in
            try TCPRepr.parse(raw, source: host1, destination: host2)
        }
        let ip = IPRepr.v4(IPv4Repr(source: IPv4Address(10, 9, 0, 1), destination: IPv4Address(10, 9, 0, 2),
                                    protocol: .tcp, payloadLength: tcp.bufferLength, identification: 0x6373))
        var out = [UInt8](repeating: 0, count: ip.bufferLength)
        out.withUnsafeMutableBytes { buf in
            ip.emit(into: buf)
            tcp.emit(into: UnsafeMutableRawBufferPointer(rebasing: buf[ip.headerLength...]), source: host1, destination: host2) { _ in }
        }
        #expect(hex(out) == hex(Captured.ipv4TcpSyn))
    }
}
