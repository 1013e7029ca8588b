import Testing
@testable import Wire

func withIPv4<R>(_ bytes: [UInt8], _ body: (IPv4Packet) throws -> R) throws -> R {
    try bytes.withUnsafeBytes { raw in try body(try IPv4Packet(validating: raw)) }
}

func ipv4Error(_ bytes: [UInt8]) -> WireError? {
    bytes.withUnsafeBytes { raw in
        do throws(WireError) {
            _ = try IPv4Repr.parse(try IPv4Packet(validating: raw))
            return nil
        } catch {
            return error
        }
    }
}

@Suite("IPv4")
struct IPv4Tests {
    /// 45 00 003c 6373 4000 40 06 c334 0a090001 0a090002: the SYN's header, by hand.
    @Test func capturedHeader() throws {
        try withIPv4(Captured.ipv4TcpSyn) { p in
            #expect(p.headerLength == 20)
            #expect(p.totalLength == 60)
            #expect(p.identification == 0x6373)
            #expect(p.dontFragment)
            #expect(!p.moreFragments)
            #expect(!p.isFragment)
            #expect(p.timeToLive == 64)
            #expect(p.protocol == .tcp)
            #expect(p.headerChecksum == 0xC334)
            #expect(p.source == IPv4Address(10, 9, 0, 1))
            #expect(p.destination == IPv4Address(10, 9, 0, 2))
            #expect(p.payload.count == 40)
            #expect(p.verifyChecksum())
            let repr = try IPv4Repr.parse(p)
            #expect(repr.payloadLength == 40)
            // Emitting the same values reproduces the kernel's header, checksum c334 included.
            var out = [UInt8](repeating: 0, count: 20)
            out.withUnsafeMutableBytes { repr.emit(into: $0) }
            #expect(hex(out) == hex(Array(Captured.ipv4TcpSyn[0..<20])))
        }
    }

    /// The kernel's fragments: id 3e62, first with MF at offset 0, second at 0xb9 * 8 = 1480.
    @Test func capturedFragments() throws {
        try withIPv4(Captured.ipv4UdpFrag1) { p in
            #expect(p.moreFragments)
            #expect(p.fragmentOffset == 0)
            #expect(p.isFragment)
            #expect(p.payload.count == 1480)
        }
        try withIPv4(Captured.ipv4UdpFrag2) { p in
            #expect(!p.moreFragments)
            #expect(p.fragmentOffset == 1480)
            #expect(p.isFragment)
            #expect(p.identification == 0x3E62)
            #expect(p.payload.count == 528)
        }
    }

    /// Every prefix shorter than the total length is truncated.
    @Test func everyTruncation() {
        for packet in [Captured.ipv4TcpSyn, Captured.ipv4UdpDnsQuery, Captured.ipv4IcmpEchoRequest] {
            for length in 0..<packet.count {
                #expect(ipv4Error(Array(packet[..<length])) == .truncated, "length \(length)")
            }
            #expect(ipv4Error(packet) == nil)
        }
    }

    /// Link padding after the total length is ignored, not treated as payload.
    @Test func trailingBytesTrimmed() throws {
        try withIPv4(Captured.ipv4TcpSyn + [0, 0, 0, 0]) { p in
            #expect(p.bytes.count == 60)
            #expect(p.payload.count == 40)
        }
    }

    @Test func options() throws {
        // IHL 6: a 4-byte option (NOP NOP NOP EOL); total 24, no payload.
        var h: [UInt8] = [0x46, 0, 0, 24, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 1, 1, 1, 0]
        var sum = Checksum()
        sum.add(h)
        h[10] = UInt8(sum.value >> 8)
        h[11] = UInt8(sum.value & 0xFF)
        try withIPv4(h) { p in
            #expect(p.headerLength == 24)
            #expect(Array(p.options) == [1, 1, 1, 0])
            #expect(p.payload.isEmpty)
            let repr = try IPv4Repr.parse(p)
            #expect(repr.payloadLength == 0)
        }
    }

    @Test func badFields() {
        var p = Captured.ipv4TcpSyn
        p[0] = 0x65
        #expect(ipv4Error(p) == .badVersion)
        p = Captured.ipv4TcpSyn
        p[0] = 0x44
        #expect(ipv4Error(p) == .malformed)  // IHL 4
        p = Captured.ipv4TcpSyn
        p[0] = 0x4F
        p[2] = 0
        p[3] = 40
        #expect(ipv4Error(p) == .malformed)  // IHL 60 > total length 40
        p = Captured.ipv4TcpSyn
        p[3] = 19
        #expect(ipv4Error(p) == .malformed)  // total length below the header
        p = Captured.ipv4TcpSyn
        p[2] = 0xFF
        p[3] = 0xFF
        #expect(ipv4Error(p) == .truncated)  // total length 65535 on 60 bytes
        p = Captured.ipv4TcpSyn
        p[11] ^= 1
        #expect(ipv4Error(p) == .badChecksum)
    }

    @Test func reservedFlagIsMalformed() {
        var p = Captured.ipv4TcpSyn
        p[6] |= 0x80
        // Keep the checksum right so only the flag is wrong.
        p[10] = 0
        p[11] = 0
        let value = Checksum.of(p.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[0..<20]) })
        p[10] = UInt8(value >> 8)
        p[11] = UInt8(value & 0xFF)
        #expect(ipv4Error(p) == .malformed)
    }

    @Test func garbageNeverTraps() {
        var rng = SplitMix64(seed: 791)
        var valid = 0
        for _ in 0..<20_000 {
            var b = randomBytes(count: Int.random(in: 0...80, using: &rng), using: &rng)
            if b.count >= 20, Bool.random(using: &rng) {
                b[0] = 0x40 | (b[0] & 0x0F)
                b[2] = 0
                b[3] = UInt8(Int.random(in: 0...b.count, using: &rng))
            }
            let ok: Bool = b.withUnsafeBytes { raw in
                guard let p = try? IPv4Packet(validating: raw) else { return false }
                #expect(p.headerLength >= 20 && p.headerLength <= p.bytes.count)
                #expect(p.payload.count == p.totalLength - p.headerLength)
                _ = (p.options.count, p.source, p.destination, p.fragmentOffset, p.verifyChecksum())
                return true
            }
            if ok { valid += 1 }
        }
        #expect(valid > 0)
    }
}
