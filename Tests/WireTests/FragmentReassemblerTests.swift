import Buffers
import Testing
@testable import Wire

/// Feeds a raw packet (IPv4 or IPv6 fragment) to the reassembler.
func feed(_ r: inout FragmentReassembler, _ packet: [UInt8], at now: Instant = .zero) -> FragmentReassembler.Outcome {
    packet.withUnsafeBytes { raw in
        switch try! IPPacket(validating: raw) {
        case .v4(let p): r.add(p, now: now)
        case .v6(let p): r.add(p, now: now)
        }
    }
}

/// Splits a UDP payload into IPv4 fragments of `size` data bytes (a multiple of 8).
func ipv4Fragments(of data: [UInt8], size: Int, id: UInt16 = 0x1234, proto: UInt8 = 17) -> [[UInt8]] {
    stride(from: 0, to: data.count, by: size).map { offset in
        let chunk = Array(data[offset..<min(offset + size, data.count)])
        let more = offset + size < data.count
        let word = UInt16(offset / 8) | (more ? 0x2000 : 0)
        var h: [UInt8] = [0x45, 0, UInt8((20 + chunk.count) >> 8), UInt8((20 + chunk.count) & 0xFF),
                          UInt8(id >> 8), UInt8(id & 0xFF), UInt8(word >> 8), UInt8(word & 0xFF),
                          64, proto, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2]
        let v = Checksum.of(h.withUnsafeBytes { $0 })
        h[10] = UInt8(v >> 8)
        h[11] = UInt8(v & 0xFF)
        return h + chunk
    }
}

private func reassembled(_ outcome: FragmentReassembler.Outcome) -> [UInt8]? {
    if case .reassembled(let bytes) = outcome { return bytes }
    return nil
}

@Suite("Fragment reassembly")
struct FragmentReassemblerTests {
    /// The kernel's two IPv4 fragments, in either order, give back a 2028-byte datagram whose
    /// UDP checksum (computed by the kernel over the whole) verifies.
    @Test(arguments: [false, true])
    func capturedIPv4(reversed: Bool) throws {
        var r = FragmentReassembler()
        var frags = [Captured.ipv4UdpFrag1, Captured.ipv4UdpFrag2]
        if reversed { frags.reverse() }
        #expect(feed(&r, frags[0]) == .held)
        #expect(r.heldBytes > 0)
        let whole = try #require(reassembled(feed(&r, frags[1])))
        #expect(whole.count == 20 + 8 + 2000)
        try whole.withUnsafeBytes { raw in
            let p = try IPv4Packet(validating: raw)
            #expect(!p.isFragment)
            #expect(p.dontFragment == false)
            _ = try IPv4Repr.parse(p)  // header checksum recomputed
            let udp = try UDPRepr.parse(p.payload, source: host1, destination: host2)
            #expect(udp.payloadLength == 2000)
            #expect(Array(p.payload[8...]) == (0..<2000).map { UInt8($0 % 251) })
        }
        #expect(r.heldBytes == 0)
        #expect(r.datagramCount == 0)
        #expect(r.reassembledCount == 1)
    }

    @Test(arguments: [false, true])
    func capturedIPv6(reversed: Bool) throws {
        var r = FragmentReassembler()
        var frags = [Captured.ipv6UdpFrag1, Captured.ipv6UdpFrag2]
        if reversed { frags.reverse() }
        #expect(feed(&r, frags[0]) == .held)
        let whole = try #require(reassembled(feed(&r, frags[1])))
        #expect(whole.count == 40 + 8 + 2000)
        try whole.withUnsafeBytes { raw in
            let p = try IPv6Packet(validating: raw)
            #expect(p.fragment == nil)
            #expect(p.upperLayerProtocol == .udp)
            let udp = try UDPRepr.parse(p.payload, source: host6a, destination: host6b)
            #expect(udp.payloadLength == 2000)
        }
        #expect(r.heldBytes == 0)
    }

    /// Headers before the fragment header (hop-by-hop, destination options) are the
    /// unfragmentable part: kept from the first fragment, and the byte that named the
    /// fragment header now names what followed it (RFC 8200 §4.5).
    @Test func ipv6UnfragmentablePartKept() throws {
        let data = (0..<40).map { UInt8($0) }
        func fragment(_ offset: Int, more: Bool, _ chunk: ArraySlice<UInt8>) -> [UInt8] {
            let hopByHop: [UInt8] = [60, 0, 1, 4, 0, 0, 0, 0]
            let destination: [UInt8] = [44, 0, 1, 4, 0, 0, 0, 0]
            let word = UInt16(offset / 8) << 3 | (more ? 1 : 0)
            let fragmentHeader: [UInt8] = [17, 0, UInt8(word >> 8), UInt8(word & 0xFF), 0xDE, 0xAD, 0xBE, 0xEF]
            return ipv6(next: 0, payload: hopByHop + destination + fragmentHeader + Array(chunk))
        }
        var r = FragmentReassembler()
        #expect(feed(&r, fragment(24, more: false, data[24...])) == .held)
        let whole = try #require(reassembled(feed(&r, fragment(0, more: true, data[..<24]))))
        #expect(whole.count == 40 + 16 + 40)
        #expect(whole[6] == 0)             // fixed header still names hop-by-hop
        #expect(whole[40 + 8] == 17)       // destination options now names UDP
        #expect(Int(whole[4]) << 8 | Int(whole[5]) == 56)
        let (proto, offset, fragmentHeader) = try ipv6Packet(whole).get()
        #expect(proto == .udp)
        #expect(offset == 56)
        #expect(fragmentHeader == nil)
        #expect(Array(whole[56...]) == data)
    }

    /// An IPv4 first fragment with options: the reassembled header keeps them.
    @Test func ipv4OptionsKeptFromFirstFragment() throws {
        var frags = ipv4Fragments(of: (0..<32).map { UInt8($0) }, size: 16)
        var first = frags[0]
        first.insert(contentsOf: [1, 1, 1, 0], at: 20)  // NOP NOP NOP EOL
        first[0] = 0x46
        first[3] += 4
        first[10] = 0
        first[11] = 0
        let v = Checksum.of(first.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[0..<24]) })
        first[10] = UInt8(v >> 8)
        first[11] = UInt8(v & 0xFF)
        frags[0] = first
        var r = FragmentReassembler()
        #expect(feed(&r, frags[1]) == .held)
        let whole = try #require(reassembled(feed(&r, frags[0])))
        try whole.withUnsafeBytes { raw in
            let p = try IPv4Packet(validating: raw)
            #expect(p.headerLength == 24)
            #expect(Array(p.options) == [1, 1, 1, 0])
            #expect(Array(p.payload) == (0..<32).map { UInt8($0) })
            #expect(p.verifyChecksum())
        }
    }

    /// Many small fragments in a shuffled order still assemble exactly.
    @Test func shuffledSmallFragments() throws {
        var rng = SplitMix64(seed: 815)
        let data = randomBytes(count: 1000, using: &rng)
        var frags = ipv4Fragments(of: data, size: 64)
        frags.shuffle(using: &rng)
        var r = FragmentReassembler()
        var result: [UInt8]?
        for (i, f) in frags.enumerated() {
            let outcome = feed(&r, f)
            if i < frags.count - 1 { #expect(outcome == .held) } else { result = reassembled(outcome) }
        }
        #expect(Array(try #require(result)[20...]) == data)
    }

    /// An exact duplicate is ignored; the datagram still completes.
    @Test func exactDuplicateIgnored() throws {
        let frags = ipv4Fragments(of: Array(repeating: 7, count: 48), size: 24)
        var r = FragmentReassembler()
        #expect(feed(&r, frags[0]) == .held)
        #expect(feed(&r, frags[0]) == .held)
        #expect(reassembled(feed(&r, frags[1])) != nil)
        #expect(r.drops.total == 0)
    }

    /// RFC 5722: an overlap discards the datagram, and its later fragments too.
    @Test func overlapDiscardsWholeDatagram() {
        let data = Array(repeating: UInt8(1), count: 48)
        let a = ipv4Fragments(of: data, size: 16)  // 0-16, 16-32, 32-48
        let b = ipv4Fragments(of: data, size: 24)  // 0-24 overlaps 16-32
        var r = FragmentReassembler()
        #expect(feed(&r, a[1]) == .held)
        #expect(feed(&r, b[0]) == .dropped(.fragmentOverlap))
        #expect(r.heldBytes == 0)
        #expect(feed(&r, a[0]) == .dropped(.fragmentOverlap))
        #expect(feed(&r, a[2]) == .dropped(.fragmentOverlap))
        #expect(r.drops[.fragmentOverlap] == 3)
        // After the timeout the key is forgotten and a fresh datagram can use it.
        r.expire(now: .zero + .seconds(31))
        #expect(r.datagramCount == 0)
        #expect(r.drops[.fragmentTimeout] == 0)  // the discarded one held nothing
    }

    /// A second last fragment ending elsewhere, or data past the end, contradicts.
    @Test func contradictoryEnds() {
        let short = ipv4Fragments(of: Array(repeating: 1, count: 32), size: 16)
        let long = ipv4Fragments(of: Array(repeating: 1, count: 64), size: 16)
        var r = FragmentReassembler()
        #expect(feed(&r, short[1]) == .held)        // last: ends at 32
        #expect(feed(&r, long[2]) == .dropped(.fragmentOverlap))  // data at 32-48 past the end
        var r2 = FragmentReassembler()
        #expect(feed(&r2, long[2]) == .held)        // 32-48, more
        #expect(feed(&r2, short[1]) == .dropped(.fragmentOverlap))  // last at 32, but data beyond
    }

    @Test func timeoutDropsAndCounts() {
        let frags = ipv4Fragments(of: Array(repeating: 1, count: 32), size: 16)
        var r = FragmentReassembler(limits: .init(timeout: .seconds(30)))
        #expect(feed(&r, frags[0], at: .zero) == .held)
        #expect(r.nextDeadline == .zero + .seconds(30))
        r.expire(now: .zero + .seconds(29))
        #expect(r.datagramCount == 1)
        r.expire(now: .zero + .seconds(30))
        #expect(r.datagramCount == 0)
        #expect(r.heldBytes == 0)
        #expect(r.drops[.fragmentTimeout] == 1)
        // The second half alone, late, starts a new datagram that never completes.
        #expect(feed(&r, frags[1], at: .zero + .seconds(31)) == .held)
    }

    @Test func datagramLimit() {
        var r = FragmentReassembler(limits: .init(maximumDatagrams: 2))
        for id in 0..<2 {
            #expect(feed(&r, ipv4Fragments(of: Array(repeating: 1, count: 32), size: 16, id: UInt16(id))[0]) == .held)
        }
        #expect(feed(&r, ipv4Fragments(of: Array(repeating: 1, count: 32), size: 16, id: 9)[0]) == .dropped(.fragmentLimit))
        #expect(r.datagramCount == 2)
    }

    @Test func fragmentsPerDatagramLimit() {
        let frags = ipv4Fragments(of: Array(repeating: 1, count: 80), size: 8)
        var r = FragmentReassembler(limits: .init(maximumFragmentsPerDatagram: 4))
        for f in frags[0..<4] { #expect(feed(&r, f) == .held) }
        #expect(feed(&r, frags[4]) == .dropped(.fragmentLimit))
        #expect(r.heldBytes == 0)
    }

    @Test func totalBytesLimit() {
        var r = FragmentReassembler(limits: .init(maximumTotalBytes: 100))
        let a = ipv4Fragments(of: Array(repeating: 1, count: 160), size: 64, id: 1)
        #expect(feed(&r, a[0]) == .held)
        #expect(feed(&r, ipv4Fragments(of: Array(repeating: 2, count: 160), size: 64, id: 2)[0]) == .dropped(.fragmentLimit))
        #expect(r.heldBytes == 64)
    }

    @Test func nonMultipleOfEightIsMalformed() {
        var frag = ipv4Fragments(of: Array(repeating: 1, count: 48), size: 24)[0]
        frag.removeLast()
        frag[3] -= 1
        frag[10] = 0
        frag[11] = 0
        let v = Checksum.of(frag.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[0..<20]) })
        frag[10] = UInt8(v >> 8)
        frag[11] = UInt8(v & 0xFF)
        var r = FragmentReassembler()
        #expect(feed(&r, frag) == .dropped(.malformed))
    }

    /// An offset near 65528 plus data past 65535 cannot form a datagram.
    @Test func oversizedDatagramIsMalformed() {
        var h: [UInt8] = [0x45, 0, 0, 36, 0, 1, 0x1F, 0xFF, 64, 17, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2]
        let v = Checksum.of(h.withUnsafeBytes { $0 })
        h[10] = UInt8(v >> 8)
        h[11] = UInt8(v & 0xFF)
        var r = FragmentReassembler()
        #expect(feed(&r, h + Array(repeating: 0, count: 16)) == .dropped(.malformed))
    }

    /// A storm of random fragments never holds more than the limits, and expiry empties it.
    @Test func randomStormStaysBounded() {
        var rng = SplitMix64(seed: 5722)
        let limits = FragmentReassembler.Limits(maximumDatagrams: 8, maximumFragmentsPerDatagram: 16,
                                                maximumTotalBytes: 4096, timeout: .seconds(5))
        var r = FragmentReassembler(limits: limits)
        var completed = 0
        for step in 0..<5_000 {
            let id = UInt16.random(in: 0..<12, using: &rng)
            let size = 8 * Int.random(in: 1...8, using: &rng)
            let total = size * Int.random(in: 1...6, using: &rng)
            let frags = ipv4Fragments(of: randomBytes(count: total, using: &rng), size: size, id: id)
            let now = Instant.milliseconds(Int64(step) * 10)
            if case .reassembled = feed(&r, frags.randomElement(using: &rng)!, at: now) { completed += 1 }
            #expect(r.heldBytes <= limits.maximumTotalBytes)
            #expect(r.datagramCount <= limits.maximumDatagrams)
        }
        r.expire(now: .milliseconds(50_000 * 10 + 10_000))
        #expect(r.datagramCount == 0)
        #expect(r.heldBytes == 0)
        #expect(r.drops.total > 0)
        _ = completed
    }
}
