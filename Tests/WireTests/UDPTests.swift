import Testing
@testable import Wire

func parseUDP(_ datagram: [UInt8], _ src: IPAddress = host1, _ dst: IPAddress = host2) throws(WireError) -> UDPRepr {
    let r: Result<UDPRepr, WireError> = datagram.withUnsafeBytes { raw in
        Result { () throws(WireError) in try UDPRepr.parse(raw, source: src, destination: dst) }
    }
    return try r.get()
}

func emitUDP(_ repr: UDPRepr, payload: [UInt8], _ src: IPAddress = host1, _ dst: IPAddress = host2) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: repr.headerLength)
    out.withUnsafeMutableBytes { h in
        payload.withUnsafeBytes { p in repr.emit(into: h, source: src, destination: dst, payload: p) }
    }
    return out + payload
}

@Suite("UDP")
struct UDPTests {
    /// 92ea 0035 0025 76ce: port 37610 to 53, length 37, then the 29-byte query.
    @Test func capturedDNSQuery() throws {
        let datagram = Array(Captured.ipv4UdpDnsQuery[20...])
        let repr = try parseUDP(datagram)
        #expect(repr == UDPRepr(sourcePort: 37610, destinationPort: 53, payloadLength: 29))
        #expect(hex(emitUDP(repr, payload: Array(datagram[8...]))) == hex(datagram))

        let datagram6 = Array(Captured.ipv6UdpDnsQuery[40...])
        let repr6 = try parseUDP(datagram6, host6a, host6b)
        #expect(repr6.destinationPort == 53)
        #expect(hex(emitUDP(repr6, payload: Array(datagram6[8...]), host6a, host6b)) == hex(datagram6))
    }

    @Test func everyTruncation() {
        let datagram = Array(Captured.ipv4UdpDnsQuery[20...])
        for length in 0..<datagram.count {
            #expect(throws: WireError.truncated, "length \(length)") { try parseUDP(Array(datagram[..<length])) }
        }
    }

    /// RFC 768: zero means no checksum over IPv4; RFC 8200 §8.1: not allowed over IPv6.
    @Test func zeroChecksum() throws {
        var datagram = Array(Captured.ipv4UdpDnsQuery[20...])
        datagram[6] = 0
        datagram[7] = 0
        #expect(try parseUDP(datagram).payloadLength == 29)
        var datagram6 = Array(Captured.ipv6UdpDnsQuery[40...])
        datagram6[6] = 0
        datagram6[7] = 0
        #expect(throws: WireError.badChecksum) { try parseUDP(datagram6, host6a, host6b) }
    }

    /// A sum that comes to zero is sent as ffff, never as "no checksum".
    @Test func computedZeroSentAsAllOnes() throws {
        // Find a payload word that makes the sum zero, then check the field.
        let repr = UDPRepr(sourcePort: 1000, destinationPort: 2000, payloadLength: 2)
        let probe = emitUDP(repr, payload: [0, 0])
        let probeValue = UInt16(probe[6]) << 8 | UInt16(probe[7])
        // Adding the probe's checksum as payload makes the new sum all ones: value 0.
        let payload = [UInt8(probeValue >> 8), UInt8(probeValue & 0xFF)]
        let wire = emitUDP(repr, payload: payload)
        #expect(wire[6] == 0xFF && wire[7] == 0xFF)
        #expect(try parseUDP(wire).payloadLength == 2)
    }

    @Test func badFields() {
        var d = Array(Captured.ipv4UdpDnsQuery[20...])
        d[4] = 0
        d[5] = 7
        #expect(throws: WireError.malformed) { try parseUDP(d) }  // length below 8
        d = Array(Captured.ipv4UdpDnsQuery[20...])
        d[5] = 0xFF
        #expect(throws: WireError.truncated) { try parseUDP(d) }  // length past the end
        d = Array(Captured.ipv4UdpDnsQuery[20...])
        d[30] ^= 1
        #expect(throws: WireError.badChecksum) { try parseUDP(d) }
        let zeroPort = emitUDP(UDPRepr(sourcePort: 0, destinationPort: 53, payloadLength: 0), payload: [])
        #expect(throws: WireError.malformed) { try parseUDP(zeroPort) }
    }

    /// Bytes past the length field (padding) are not payload.
    @Test func trailingBytesIgnored() throws {
        let d = Array(Captured.ipv4UdpDnsQuery[20...]) + [1, 2, 3]
        #expect(try parseUDP(d).payloadLength == 29)
    }

    @Test func closureForm() {
        let repr = UDPRepr(sourcePort: 53, destinationPort: 4000, payloadLength: 3)
        var out = [UInt8](repeating: 0, count: repr.bufferLength)
        out.withUnsafeMutableBytes { buf in
            repr.emit(into: buf, source: host2, destination: host1) { p in p.copyBytes(from: [7, 8, 9]) }
        }
        #expect(out == emitUDP(repr, payload: [7, 8, 9], host2, host1))
    }

    @Test func garbageNeverTraps() {
        var rng = SplitMix64(seed: 768)
        var parsed = 0
        for _ in 0..<20_000 {
            var d = randomBytes(count: Int.random(in: 0...40, using: &rng), using: &rng)
            if d.count >= 8, Bool.random(using: &rng) {
                d[4] = 0
                d[5] = UInt8(Int.random(in: 0...d.count, using: &rng))
                d[6] = 0
                d[7] = 0
            }
            if let r = try? parseUDP(d) {
                parsed += 1
                #expect(r.payloadLength + 8 <= d.count)
            }
        }
        #expect(parsed > 0)
    }
}
