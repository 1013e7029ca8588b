import Testing
@testable import Wire

func parseICMP(_ message: [UInt8], _ src: IPAddress = host1, _ dst: IPAddress = host2) throws(WireError) -> ICMPRepr {
    let r: Result<ICMPRepr, WireError> = message.withUnsafeBytes { raw in
        Result { () throws(WireError) in try ICMPRepr.parse(raw, source: src, destination: dst) }
    }
    return try r.get()
}

func emitICMP(_ repr: ICMPRepr, payload: [UInt8], _ src: IPAddress = host2, _ dst: IPAddress = host1) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: repr.headerLength)
    out.withUnsafeMutableBytes { h in
        payload.withUnsafeBytes { p in repr.emit(into: h, source: src, destination: dst, payload: p) }
    }
    return out + payload
}

@Suite("ICMP")
struct ICMPTests {
    /// ping's request: 08 00 e919 | id 23a3 seq 0001 | 16 bytes (timestamp, zeros).
    @Test func capturedEchoRequestV4() throws {
        let message = Array(Captured.ipv4IcmpEchoRequest[20...])
        let repr = try parseICMP(message)
        #expect(repr.message == .echoRequest(identifier: 0x23A3, sequence: 1))
        #expect(repr.payloadLength == 16)
        #expect(!repr.message.isError)
        #expect(hex(emitICMP(repr, payload: Array(message[8...]), host1, host2)) == hex(message))
    }

    /// ping -6's request: 80 00 34b2 | id 23a5 seq 0001, checksummed with the pseudo-header.
    @Test func capturedEchoRequestV6() throws {
        let message = Array(Captured.ipv6Icmpv6EchoRequest[40...])
        let repr = try parseICMP(message, host6a, host6b)
        #expect(repr.message == .echoRequest(identifier: 0x23A5, sequence: 1))
        #expect(hex(emitICMP(repr, payload: Array(message[8...]), host6a, host6b)) == hex(message))
        // Without the right pseudo-header, the checksum fails. (Swapping the two addresses
        // would not show it: the sum is commutative.)
        #expect(throws: WireError.badChecksum) { try parseICMP(message, host6a, .v6(IPv6Address("fd00::3")!)) }
    }

    /// An echo reply built for the request parses back with the same id, sequence and data.
    @Test(arguments: [false, true])
    func echoReplyRoundTrip(v6: Bool) throws {
        let (a, b) = v6 ? (host6b, host6a) : (host2, host1)
        let repr = ICMPRepr(message: .echoReply(identifier: 7, sequence: 9), payloadLength: 5)
        let wire = emitICMP(repr, payload: [1, 2, 3, 4, 5], a, b)
        #expect(wire[0] == (v6 ? 129 : 0))
        #expect(try parseICMP(wire, a, b) == repr)
    }

    @Test(arguments: [
        (ICMPMessage.destinationUnreachable(.network), false, 3, 0),
        (.destinationUnreachable(.host), false, 3, 1),
        (.destinationUnreachable(.protocol), false, 3, 2),
        (.destinationUnreachable(.port), false, 3, 3),
        (.destinationUnreachable(.administrativelyProhibited), false, 3, 13),
        (.packetTooBig(mtu: 1400), false, 3, 4),
        (.timeExceeded(code: 1), false, 11, 1),
        (.destinationUnreachable(.network), true, 1, 0),
        (.destinationUnreachable(.administrativelyProhibited), true, 1, 1),
        (.destinationUnreachable(.host), true, 1, 3),
        (.destinationUnreachable(.port), true, 1, 4),
        (.packetTooBig(mtu: 1280), true, 2, 0),
        (.timeExceeded(code: 0), true, 3, 0),
        (.parameterProblem(code: 0, pointer: 40), true, 4, 0),
    ] as [(ICMPMessage, Bool, UInt8, UInt8)])
    func errorTypesAndCodes(message: ICMPMessage, v6: Bool, type: UInt8, code: UInt8) throws {
        let (a, b) = v6 ? (host6b, host6a) : (host2, host1)
        let quote = Array(v6 ? Captured.ipv6TcpSyn.prefix(48) : Captured.ipv4TcpSyn.prefix(28))
        let repr = ICMPRepr(message: message, payloadLength: quote.count)
        let wire = emitICMP(repr, payload: quote, a, b)
        #expect(wire[0] == type)
        #expect(wire[1] == code)
        let back = try parseICMP(wire, a, b)
        #expect(back == repr)
        #expect(back.message.isError)
        if case .packetTooBig(let mtu) = message {
            let field = v6 ? Int(wire[4]) << 24 | Int(wire[5]) << 16 | Int(wire[6]) << 8 | Int(wire[7])
                           : Int(wire[6]) << 8 | Int(wire[7])
            #expect(field == mtu)  // RFC 1191 §4: v4 MTU in bytes 6-7; RFC 4443 §3.2: 4-7
        }
        let parsedQuote = try wire.withUnsafeBytes { try ICMPQuote(parsing: UnsafeRawBufferPointer(rebasing: $0[8...])) }
        #expect(parsedQuote.source == (v6 ? host6a : host1))
        #expect(parsedQuote.destination == (v6 ? host6b : host2))
        #expect(parsedQuote.protocol == .tcp)
        #expect(parsedQuote.sourcePort == (v6 ? 0xA152 : 0x9E8A))
        #expect(parsedQuote.destinationPort == 8080)
    }

    /// IPv6 has no "protocol unreachable": it goes out as parameter problem code 1, pointer 6.
    @Test func protocolUnreachableOverIPv6() throws {
        let repr = ICMPRepr(message: .destinationUnreachable(.protocol), payloadLength: 0)
        let wire = emitICMP(repr, payload: [], host6b, host6a)
        #expect(Array(wire[0..<2]) == [4, 1])
        #expect(try parseICMP(wire, host6b, host6a).message == .parameterProblem(code: 1, pointer: 6))
    }

    @Test func quoteLengths() {
        #expect(ICMPRepr.quoteLength(of: 1500, for: host1) == 548)
        #expect(ICMPRepr.quoteLength(of: 60, for: host1) == 60)
        #expect(ICMPRepr.quoteLength(of: 1500, for: host6a) == 1232)
        #expect(ICMPRepr.quoteLength(of: -3, for: host6a) == 0)
    }

    @Test func unsupportedTypes() {
        // Router solicitation (133) and a v4 timestamp request (13).
        var rs: [UInt8] = [133, 0, 0, 0, 0, 0, 0, 0]
        var sum = Checksum.pseudoHeader(source: host6a, destination: host6b, protocol: .icmpv6, length: 8)
        sum.add(rs)
        rs[2] = UInt8(sum.value >> 8)
        rs[3] = UInt8(sum.value & 0xFF)
        #expect(throws: WireError.unsupported) { try parseICMP(rs, host6a, host6b) }
        var ts: [UInt8] = [13, 0, 0, 0, 0, 0, 0, 0]
        let v = Checksum.of(ts.withUnsafeBytes { $0 })
        ts[2] = UInt8(v >> 8)
        ts[3] = UInt8(v & 0xFF)
        #expect(throws: WireError.unsupported) { try parseICMP(ts) }
    }

    /// Cut inside the header: truncated. Cut in the data: the checksum fails, except where
    /// only trailing zero bytes were cut, which an ICMPv4 sum cannot see (it has no length
    /// of its own; the IP header's total length is what guards it).
    @Test func everyTruncation() {
        let message = Array(Captured.ipv4IcmpEchoRequest[20...])
        for length in 0..<message.count {
            let result = Result { () throws(WireError) in try parseICMP(Array(message[..<length])) }
            if length < 8 {
                #expect(throws: WireError.truncated) { try result.get() }
            } else if message[length...].allSatisfy({ $0 == 0 }) {
                #expect((try? result.get())?.payloadLength == length - 8)
            } else {
                #expect(throws: WireError.badChecksum, "length \(length)") { try result.get() }
            }
        }
    }

    @Test func quoteTruncations() {
        let quote = Array(Captured.ipv4TcpSyn.prefix(28))
        for length in 0..<20 {
            #expect(throws: WireError.truncated) {
                try Array(quote[..<length]).withUnsafeBytes { try ICMPQuote(parsing: $0) }
            }
        }
        // Header present, ports cut: still a quote, without ports.
        let short = try? Array(quote[..<22]).withUnsafeBytes { try ICMPQuote(parsing: $0) }
        #expect(short?.protocol == .tcp)
        #expect(short?.sourcePort == nil)
        #expect(throws: WireError.badVersion) { try [UInt8](repeating: 0x50, count: 40).withUnsafeBytes { try ICMPQuote(parsing: $0) } }
    }

    @Test func garbageNeverTraps() {
        var rng = SplitMix64(seed: 792)
        var parsed = 0
        for round in 0..<20_000 {
            var m = randomBytes(count: Int.random(in: 0...40, using: &rng), using: &rng)
            let v6 = round % 2 == 0
            let (a, b) = v6 ? (host6a, host6b) : (host1, host2)
            if m.count >= 8 {
                m[0] = [0, 3, 8, 11, 12, 1, 2, 4, 128, 129].randomElement(using: &rng)!
                m[2] = 0
                m[3] = 0
                var sum = v6 ? Checksum.pseudoHeader(source: a, destination: b, protocol: .icmpv6, length: m.count) : Checksum()
                sum.add(m)
                m[2] = UInt8(sum.value >> 8)
                m[3] = UInt8(sum.value & 0xFF)
            }
            if let r = try? parseICMP(m, a, b) {
                parsed += 1
                #expect(r.payloadLength == m.count - 8)
                _ = m.withUnsafeBytes { try? ICMPQuote(parsing: UnsafeRawBufferPointer(rebasing: $0[8...])) }
            }
        }
        #expect(parsed > 0)
    }
}
