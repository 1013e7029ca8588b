import Testing
@testable import Wire

func parseQuery(_ message: [UInt8]) throws(WireError) -> DNSQuery {
    let r: Result<DNSQuery, WireError> = message.withUnsafeBytes { raw in
        Result { () throws(WireError) in try DNSQuery.parse(raw) }
    }
    return try r.get()
}

/// A query for `name`/`type`, id 0x1234, RD set, with an optional OPT record.
func query(_ name: String, _ type: UInt16 = 1, edns: UInt16? = nil) -> [UInt8] {
    var m: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns == nil ? 0 : 1]
    m += DNSName(name)!.wire + [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
    if let size = edns { m += [0, 0, 41, UInt8(size >> 8), UInt8(size & 0xFF), 0, 0, 0x80, 0, 0, 0] }
    return m
}

@Suite("DNS")
struct DNSTests {
    /// The captured query: 1234 0100 0001 0000 0000 0000 | 07 example 03 com 00 | 0001 0001.
    @Test func capturedQuery() throws {
        let q = try parseQuery(Array(Captured.ipv4UdpDnsQuery[28...]))
        #expect(q.header.id == 0x1234)
        #expect(q.header.recursionDesired)
        #expect(q.question.name.description == "example.com")
        #expect(q.question.type == .a)
        #expect(q.question.class == .internet)
        #expect(q.edns == nil)
    }

    @Test func ednsQuery() throws {
        let q = try parseQuery(query("Example.COM", 28, edns: 1232))
        #expect(q.question.type == .aaaa)
        #expect(q.edns?.udpPayloadSize == 1232)
        #expect(q.edns?.dnssecOK == true)
        #expect(q.question.name.lowercased() == DNSName("example.com")!)
        #expect(q.question.name != DNSName("example.com")!)
        // §6.2.5: sizes under 512 count as 512.
        #expect(try parseQuery(query("a.b", edns: 100)).edns?.udpPayloadSize == 512)
    }

    /// A response to the captured query, decoded by hand.
    @Test func responseBytes() throws {
        let q = try parseQuery(Array(Captured.ipv4UdpDnsQuery[28...]))
        let response = DNSResponse(answering: q, responseCode: .noError, answers: [
            .init(address: IPAddress("93.184.215.14")!, ttl: 300),
        ])
        #expect(hex(response.bytes) == hex(bytes(
            "1234 8180 0001 0001 0000 0000",                  // QR RD RA, NOERROR, 1 question, 1 answer
            "076578616d706c6503636f6d00 0001 0001",           // example.com A IN
            "c00c 0001 0001 0000012c 0004 5db8d70e")))        // ptr, A, IN, TTL 300, 93.184.215.14
    }

    @Test func responseWithEDNSAndAAAA() throws {
        let q = try parseQuery(query("v6.test", 28, edns: 4096))
        let r = DNSResponse(answering: q, responseCode: .noError, answers: [.init(address: IPAddress("2001:db8::1")!, ttl: 60)])
        let b = r.bytes
        #expect(b.count == 12 + 13 + 28 + 11)
        #expect(Array(b[10..<12]) == [0, 1])                     // ARCOUNT 1: our OPT
        #expect(Array(b[b.count - 11..<b.count]) == [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0])  // 1232
        #expect(Array(b[(12 + 13 + 2)..<(12 + 13 + 4)]) == [0, 28])
    }

    @Test(arguments: [DNSResponseCode.serverFailure, .nameError, .formatError, .notImplemented, .refused])
    func errorResponses(code: DNSResponseCode) throws {
        let q = try parseQuery(query("nope.example"))
        let b = DNSResponse(answering: q, responseCode: code).bytes
        #expect(b[3] & 0x0F == code.rawValue)
        #expect(b[2] & 0x80 != 0)      // QR
        #expect(Array(b[6..<8]) == [0, 0])
        // The question is echoed exactly.
        #expect(Array(b[12...]) == Array(query("nope.example")[12...]))
    }

    @Test func rejectingWithHeaderOnly() throws {
        let h = try ([0xAB, 0xCD, 0x01, 0x00, 0, 2, 0, 0, 0, 0, 0, 0] as [UInt8]).withUnsafeBytes { try DNSHeader(parsing: $0) }
        let b = DNSResponse(rejecting: h, responseCode: .formatError).bytes
        #expect(b == [0xAB, 0xCD, 0x81, 0x81, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    /// Answers that would pass 512 bytes are left out and TC is set.
    @Test func truncatesToMaximumLength() throws {
        let q = try parseQuery(query("many.example"))
        let answers = (0..<40).map { DNSResponse.Answer(address: .v4(IPv4Address(10, 0, 0, UInt8($0))), ttl: 1) }
        let r = DNSResponse(answering: q, responseCode: .noError, answers: answers)
        #expect(r.isTruncated)
        #expect(r.bufferLength <= 512)
        let b = r.bytes
        #expect(b[2] & 0x02 != 0)
        #expect(Int(b[7]) == (512 - 12 - 18) / 16)
    }

    @Test func compressedNames() throws {
        // Question "www.example.com", then an answer-section record whose owner is
        // "mail" + pointer to "example.com" at offset 16.
        var m = query("www.example.com")
        m[7] = 1  // ANCOUNT 1
        m += [4] + Array("mail".utf8) + [0xC0, 16] + [0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]
        let q = try parseQuery(m)
        #expect(q.question.name.description == "www.example.com")
        let (name, end) = try m.withUnsafeBytes { try DNSName.parse($0, at: 12 + 17 + 4) }
        #expect(name.description == "mail.example.com")
        #expect(end == 12 + 17 + 4 + 7)
    }

    @Test func pointerLoopsRejected() {
        // A pointer to itself, and two pointers pointing at each other.
        var selfLoop = query("a")
        selfLoop.replaceSubrange(12..<15, with: [0xC0, 12, 0])
        #expect(throws: WireError.malformed) { try parseQuery(selfLoop) }
        var forward = query("a")
        forward.replaceSubrange(12..<15, with: [0xC0, 14, 0xC0, 12])
        #expect(throws: WireError.malformed) { try parseQuery(forward) }
    }

    @Test func labelAndNameLimits() {
        #expect(DNSName(String(repeating: "a", count: 63)) != nil)
        #expect(DNSName(String(repeating: "a", count: 64)) == nil)
        let long = Array(repeating: String(repeating: "b", count: 63), count: 4).joined(separator: ".")
        #expect(DNSName(long) == nil)  // 4 * 64 + 1 = 257 bytes
        // On the wire: a name of 256 bytes built from labels is refused.
        var m: [UInt8] = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for _ in 0..<4 { m += [63] + Array(repeating: 0x61, count: 63) }
        m += [0, 0, 1, 0, 1]
        #expect(throws: WireError.malformed) { try parseQuery(m) }
        // Label types 01 and 10 are retired.
        var ext = query("a")
        ext[12] = 0x41
        #expect(throws: WireError.malformed) { try parseQuery(ext) }
    }

    @Test func headerChecks() {
        var response = query("a")
        response[2] |= 0x80
        #expect(throws: WireError.malformed) { try parseQuery(response) }
        var notify = query("a")
        notify[2] = 0x20  // opcode 4 NOTIFY
        #expect(throws: WireError.unsupported) { try parseQuery(notify) }
        var two = query("a")
        two[5] = 2
        #expect(throws: WireError.malformed) { try parseQuery(two) }
        var none = query("a")
        none[5] = 0
        #expect(throws: WireError.malformed) { try parseQuery(none) }
    }

    @Test func optRules() {
        var twoOpt = query("a", edns: 1232)
        twoOpt[11] = 2
        twoOpt += [0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 0]
        #expect(throws: WireError.malformed) { try parseQuery(twoOpt) }
        var optInAnswer = query("a", edns: 1232)
        optInAnswer[7] = 1
        optInAnswer[11] = 0
        #expect(throws: WireError.malformed) { try parseQuery(optInAnswer) }
    }

    @Test func everyTruncation() {
        for message in [query("www.example.com", 1, edns: 1232), Array(Captured.ipv4UdpDnsQuery[28...])] {
            for length in 0..<message.count {
                #expect(throws: WireError.truncated, "length \(length)") { try parseQuery(Array(message[..<length])) }
            }
        }
    }

    @Test func hostnamesAndText() {
        #expect(DNSName("_dns._udp.example-1.com")!.isHostname)
        #expect(!DNSName("a\"b.com")!.isHostname)
        #expect(!DNSName.root.isHostname)
        #expect(DNSName.root.description == ".")
        #expect(DNSName("a\\b")!.description == "a\\092b")
        let withDot = [3, 0x61, 0x2E, 0x62, 0] as [UInt8]
        let (n, _) = try! withDot.withUnsafeBytes { try DNSName.parse($0, at: 0) }
        #expect(n.description == "a\\046b")
        #expect(!n.isHostname)
    }

    @Test func garbageNeverTraps() {
        var rng = SplitMix64(seed: 1035)
        var parsed = 0
        for _ in 0..<20_000 {
            var m = randomBytes(count: Int.random(in: 0...80, using: &rng), using: &rng)
            if m.count >= 12, Bool.random(using: &rng) {
                m[2] = 0x01
                m[4] = 0
                m[5] = 1
                for i in 6..<12 { m[i] = i % 2 == 0 ? 0 : m[i] & 3 }
                // Sprinkle pointers.
                for i in 12..<m.count where Int.random(in: 0..<6, using: &rng) == 0 { m[i] = 0xC0 }
            }
            if let q = try? parseQuery(m) {
                parsed += 1
                #expect(q.question.name.wire.count <= 255)
                let r = DNSResponse(answering: q, responseCode: .noError, answers: [.init(address: host1, ttl: 1)])
                #expect(r.bytes.count == r.bufferLength)
            }
        }
        #expect(parsed > 0)
    }
}
