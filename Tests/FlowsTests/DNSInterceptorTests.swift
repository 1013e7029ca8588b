import Buffers
import Testing
import Wire
@testable import Flows

private func receive(_ d: inout DNSInterceptor, _ packet: [UInt8], at now: Instant = .zero) -> [DNSAction] {
    withPacket(packet) { d.receive($0, now: now) }
}

/// A DNS query packet from `app`:`port` to `server`:53.
private func dnsQuery(_ name: String, type: UInt16 = 1, id: UInt16 = 0x4242, from app: IPAddress = app4,
                      port: UInt16 = 40000, to server: IPAddress = IPAddress("8.8.8.8")!,
                      flags: UInt16 = 0x0100, qclass: UInt16 = 1, edns: Bool = false) -> [UInt8] {
    var m: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF), 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0]
    m += DNSName(name)!.wire + [UInt8(type >> 8), UInt8(type & 0xFF), UInt8(qclass >> 8), UInt8(qclass & 0xFF)]
    if edns { m += [0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0] }
    return udpPacket(from: app, port, to: server, 53, payload: m)
}

/// A response for the app, decoded: where it goes, its rcode and answers.
private struct DecodedResponse {
    var udp: DecodedUDP
    var id: UInt16
    var rcode: UInt8
    var question: DNSName?
    var answers: [(type: UInt16, ttl: UInt32, address: IPAddress)]
    var hasOPT: Bool
}

private func decodeResponse(_ action: DNSAction?) throws -> DecodedResponse {
    guard case .reply(let packet)? = action else { throw WireError.unsupported }
    let udp = try decodeUDP(packet)
    let m = udp.payload
    let header = try m.withUnsafeBytes { try DNSHeader(parsing: $0) }
    #expect(header.isResponse)
    var offset = 12
    var question: DNSName?
    if header.questionCount == 1 {
        let (name, end) = try m.withUnsafeBytes { try DNSName.parse($0, at: 12) }
        question = name
        offset = end + 4
    }
    var answers: [(UInt16, UInt32, IPAddress)] = []
    for _ in 0..<header.answerCount {
        #expect(Array(m[offset..<(offset + 2)]) == [0xC0, 12])
        let type = UInt16(m[offset + 2]) << 8 | UInt16(m[offset + 3])
        let ttl = m[(offset + 6)..<(offset + 10)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let length = Int(m[offset + 11])
        let rdata = Array(m[(offset + 12)..<(offset + 12 + length)])
        let address: IPAddress = length == 4
            ? .v4(IPv4Address(rdata[0], rdata[1], rdata[2], rdata[3]))
            : .v6(IPv6Address(groups: stride(from: 0, to: 16, by: 2).map { UInt16(rdata[$0]) << 8 | UInt16(rdata[$0 + 1]) }))
        answers.append((type, ttl, address))
        offset += 12 + length
    }
    return DecodedResponse(udp: udp, id: header.id, rcode: header.responseCode, question: question,
                           answers: answers, hasOPT: header.additionalCount == 1)
}

private let exampleAddresses: [IPAddress] = [IPAddress("93.184.215.14")!, IPAddress("2606:2800:21f:cb07:6820:80da:af6b:8b2c")!]

@Suite("DNS interception")
struct DNSInterceptorTests {
    /// The kernel's query goes to the modem; the answer comes back from the server address
    /// it was sent to, with the A record only, the configured TTL, and the question echoed.
    @Test func capturedQueryResolvedAndAnswered() throws {
        var d = DNSInterceptor()
        #expect(receive(&d, capturedDNSQuery4) == [.resolve(hostname: "example.com")])
        #expect(d.pendingCount == 1)
        let actions = d.resolved(hostname: "example.com", .addresses(exampleAddresses), now: .milliseconds(800))
        #expect(actions.count == 1)
        let r = try decodeResponse(actions.first)
        #expect(r.udp.source == remote4)
        #expect(r.udp.sourcePort == 53)
        #expect(r.udp.destination == app4)
        #expect(r.udp.destinationPort == 37610)
        #expect(r.id == 0x1234)
        #expect(r.rcode == 0)
        #expect(r.question?.description == "example.com")
        #expect(r.answers.map(\.address) == [exampleAddresses[0]])
        #expect(r.answers.map(\.type) == [1])
        #expect(r.answers.map(\.ttl) == [120])
        #expect(d.pendingCount == 0)
    }

    @Test func capturedIPv6QueryAnsweredOverIPv6() throws {
        var d = DNSInterceptor()
        #expect(receive(&d, capturedDNSQuery6) == [.resolve(hostname: "example.com")])
        let r = try decodeResponse(d.resolved(hostname: "example.com", .addresses(exampleAddresses), now: .zero).first)
        #expect(r.udp.source == remote6)
        #expect(r.udp.destination == app6)
        #expect(r.udp.destinationPort == 46151)
    }

    /// AAAA from the cache, with the TTL counting down; A and AAAA share one lookup.
    @Test func cacheServesBothFamiliesWithRemainingTTL() throws {
        var d = DNSInterceptor()
        _ = receive(&d, dnsQuery("example.com"))
        _ = d.resolved(hostname: "example.com", .addresses(exampleAddresses), now: .zero)
        let actions = receive(&d, dnsQuery("example.com", type: 28), at: .zero + .seconds(20))
        let r = try decodeResponse(actions.first)
        #expect(r.answers.map(\.address) == [exampleAddresses[1]])
        #expect(r.answers.map(\.type) == [28])
        #expect(r.answers.map(\.ttl) == [100])
        #expect(d.counters.answeredFromCache == 1)
        #expect(d.counters.lookups == 1)
        // After the TTL the name is looked up again.
        #expect(receive(&d, dnsQuery("example.com"), at: .zero + .seconds(120)) == [.resolve(hostname: "example.com")])
    }

    /// No IPv6 address: AAAA gets NOERROR with no answer (NODATA), never an error.
    @Test func aaaaWithoutIPv6IsNoData() throws {
        var d = DNSInterceptor()
        _ = receive(&d, dnsQuery("v4only.example", type: 28))
        let r = try decodeResponse(d.resolved(hostname: "v4only.example", .addresses([remote4]), now: .zero).first)
        #expect(r.rcode == 0)
        #expect(r.answers.isEmpty)
    }

    @Test func anyGetsBoth() throws {
        var d = DNSInterceptor()
        _ = receive(&d, dnsQuery("example.com", type: 255))
        let r = try decodeResponse(d.resolved(hostname: "example.com", .addresses(exampleAddresses), now: .zero).first)
        #expect(r.answers.map(\.address) == exampleAddresses)
    }

    /// Queries for one name (any case) coalesce into one lookup; each gets its own reply,
    /// with its own id and its own spelling of the name.
    @Test func duplicateQueriesCoalesce() throws {
        var d = DNSInterceptor()
        #expect(receive(&d, dnsQuery("example.com", id: 1, port: 40001)) == [.resolve(hostname: "example.com")])
        #expect(receive(&d, dnsQuery("EXAMPLE.com", type: 28, id: 2, port: 40002)).isEmpty)
        #expect(receive(&d, dnsQuery("example.com", id: 3, from: app6, to: remote6)).isEmpty)
        // A retransmission of query 1 does not wait twice.
        #expect(receive(&d, dnsQuery("example.com", id: 1, port: 40001)).isEmpty)
        #expect(d.counters.coalesced == 2)
        let replies = try d.resolved(hostname: "example.com", .addresses(exampleAddresses), now: .zero).map { try decodeResponse($0) }
        #expect(replies.map(\.id) == [1, 2, 3])
        #expect(replies[1].question?.description == "EXAMPLE.com")
        #expect(replies[1].answers.map(\.address) == [exampleAddresses[1]])
        #expect(replies[2].udp.destination == app6)
    }

    @Test func failureIsServfailAndNotCached() throws {
        var d = DNSInterceptor()
        _ = receive(&d, dnsQuery("flaky.example"))
        #expect(try decodeResponse(d.resolved(hostname: "flaky.example", .failure, now: .zero).first).rcode == 2)
        #expect(receive(&d, dnsQuery("flaky.example")) == [.resolve(hostname: "flaky.example")])
    }

    @Test func nameNotFoundIsNXDomainAndCachedBriefly() throws {
        var d = DNSInterceptor()
        _ = receive(&d, dnsQuery("nope.example"))
        #expect(try decodeResponse(d.resolved(hostname: "nope.example", .nameNotFound, now: .zero).first).rcode == 3)
        #expect(try decodeResponse(receive(&d, dnsQuery("nope.example", type: 28), at: .zero + .seconds(10)).first).rcode == 3)
        #expect(receive(&d, dnsQuery("nope.example"), at: .zero + .seconds(30)) == [.resolve(hostname: "nope.example")])
    }

    /// The driver never answers: SERVFAIL at the timeout, never silence.
    @Test func lookupTimeoutIsServfail() throws {
        var d = DNSInterceptor(config: .init(resolveTimeout: .seconds(20)))
        _ = receive(&d, dnsQuery("slow.example", id: 1))
        _ = receive(&d, dnsQuery("slow.example", id: 2, port: 40001), at: .zero + .seconds(5))
        #expect(d.nextDeadline == .zero + .seconds(20))
        #expect(d.expire(now: .zero + .seconds(19)).isEmpty)
        let late = try d.expire(now: .zero + .seconds(20)).map { try decodeResponse($0) }
        #expect(late.map(\.rcode) == [2, 2])
        #expect(d.pendingCount == 0)
        // A result arriving afterwards answers nobody but fills the cache.
        #expect(d.resolved(hostname: "slow.example", .addresses([remote4]), now: .zero + .seconds(21)).isEmpty)
        #expect(try decodeResponse(receive(&d, dnsQuery("slow.example"), at: .zero + .seconds(22)).first).answers.count == 1)
    }

    @Test func malformedQueryIsFormerr() throws {
        var d = DNSInterceptor()
        // Header says one question, but the name runs off the end.
        let m: [UInt8] = [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, 0x65, 0x78]
        let r = try decodeResponse(receive(&d, udpPacket(from: app4, 40000, to: remote4, 53, payload: m)).first)
        #expect(r.rcode == 1)
        #expect(r.id == 0xABCD)
        #expect(r.question == nil)
    }

    @Test func otherOpcodeIsNotImp() throws {
        var d = DNSInterceptor()
        let r = try decodeResponse(receive(&d, dnsQuery("a.example", flags: 0x2100)).first)  // opcode 4 NOTIFY
        #expect(r.rcode == 4)
    }

    @Test func responsesAndRuntsAreDropped() {
        var d = DNSInterceptor()
        #expect(receive(&d, dnsQuery("a.example", flags: 0x8180)).isEmpty)
        #expect(receive(&d, udpPacket(from: app4, 40000, to: remote4, 53, payload: [1, 2, 3])).isEmpty)
        #expect(d.counters.dropped.total == 2)
    }

    @Test func unanswerableKinds() throws {
        var d = DNSInterceptor()
        // HTTPS (65): NODATA at once, no lookup.
        let https = try decodeResponse(receive(&d, dnsQuery("example.com", type: 65)).first)
        #expect(https.rcode == 0)
        #expect(https.answers.isEmpty)
        // CHAOS class: REFUSED.
        #expect(try decodeResponse(receive(&d, dnsQuery("version.bind", type: 16, qclass: 3)).first).rcode == 5)
        // A name no resolver command can carry: SERVFAIL.
        #expect(try decodeResponse(receive(&d, dnsQuery("a\"b.example")).first).rcode == 2)
        #expect(d.counters.lookups == 0)
    }

    @Test func ednsQueryGetsOPT() throws {
        var d = DNSInterceptor()
        _ = receive(&d, dnsQuery("example.com", edns: true))
        let r = try decodeResponse(d.resolved(hostname: "example.com", .addresses(exampleAddresses), now: .zero).first)
        #expect(r.hasOPT)
    }

    /// Past the pending limits queries get SERVFAIL at once.
    @Test func pendingLimits() throws {
        var d = DNSInterceptor(config: .init(maximumPendingNames: 2, maximumWaitingQueries: 3))
        #expect(receive(&d, dnsQuery("a.example")).count == 1)
        #expect(receive(&d, dnsQuery("b.example")).count == 1)
        #expect(try decodeResponse(receive(&d, dnsQuery("c.example")).first).rcode == 2)
        #expect(receive(&d, dnsQuery("a.example", id: 9)).isEmpty)
        #expect(try decodeResponse(receive(&d, dnsQuery("a.example", id: 10)).first).rcode == 2)
        #expect(d.pendingCount == 2)
    }

    @Test func cacheIsBounded() {
        var d = DNSInterceptor(config: .init(cacheCapacity: 4))
        for i in 0..<20 {
            let name = "host\(i).example"
            _ = receive(&d, dnsQuery(name), at: .milliseconds(Int64(i)))
            _ = d.resolved(hostname: name, .addresses([remote4]), now: .milliseconds(Int64(i)))
            #expect(d.cache.count <= 4)
        }
        // The most recent names are the ones kept.
        #expect(d.cache.lookup(DNSName("host19.example")!, now: .milliseconds(20)) != nil)
        #expect(d.cache.lookup(DNSName("host0.example")!, now: .milliseconds(20)) == nil)
    }

    /// Every query, good or bad, gets exactly one response or is counted as dropped.
    @Test func neverSilent() {
        var rng = SeededRandom(seed: 53)
        var d = DNSInterceptor(config: .init(maximumPendingNames: 4, maximumWaitingQueries: 8, resolveTimeout: .seconds(5)))
        var responses = 0
        var queries = 0
        var now = Instant.zero
        var outstanding: [String] = []
        for i in 0..<2_000 {
            now = now + .milliseconds(100)
            let name = "n\(Int.random(in: 0..<10, using: &rng)).example"
            queries += 1
            for action in receive(&d, dnsQuery(name, type: [1, 28, 65].randomElement(using: &rng)!, id: UInt16(i), port: UInt16(30000 + i % 1000)), at: now) {
                switch action {
                case .reply: responses += 1
                case .resolve(let host): outstanding.append(host)
                }
            }
            if i % 3 == 0, !outstanding.isEmpty {
                let host = outstanding.removeFirst()
                let result: DNSResolution = [.addresses([remote4]), .failure, .nameNotFound].randomElement(using: &rng)!
                responses += d.resolved(hostname: host, result, now: now).count
            }
            responses += d.expire(now: now).count
        }
        responses += d.expire(now: now + .seconds(5)).count
        #expect(d.pendingCount == 0)
        #expect(responses + d.counters.dropped.total == queries)
    }
}
