import Buffers
import Testing
@testable import AT

/// Rules for tests: `+QIRD: <n>` carries n bytes after it; `+QIURC: "recv",<id>,<n>` too.
struct TestRules: ATPayloadRules {
    typealias Tag = String
    func payloadLength(afterInfo line: [UInt8], of command: ATCommand<String>) -> Int? {
        guard line.hasPrefix("+QIRD:") else { return nil }
        var f = ATFields(line)
        return f.int().flatMap { $0 > 0 ? $0 : nil }
    }
    func payloadLength(afterURC line: [UInt8]) -> Int? {
        guard line.hasPrefix("+QIURC: \"recv\"") else { return nil }
        var f = ATFields(line)
        _ = f.next(); _ = f.next()
        return f.int()
    }
    func inlinePayloadLength(_ partialLine: ArraySlice<UInt8>, inFlight: String?) -> Int? { nil }
}

extension ATEngine where Tag == String {
    mutating func feed(_ s: String, at now: Instant = .zero) { self.feed(Array(s.utf8), at: now) }
    mutating func feed(_ bytes: [UInt8], at now: Instant = .zero) {
        bytes.withUnsafeBytes { self.receive($0, now: now, rules: TestRules()) }
    }

    mutating func allEvents() -> [ATEvent<String>] {
        var out: [ATEvent<String>] = []
        while let e = self.nextEvent() { out.append(e) }
        return out
    }

    mutating func written() -> String {
        var out: [UInt8] = []
        while let w = self.nextWrite() { for p in w.parts { out += p } }
        return String(decoding: out, as: UTF8.self)
    }
}

func response(_ events: [ATEvent<String>]) -> ATResponse<String>? {
    for e in events { if case .completed(let r) = e { return r } }
    return nil
}

func urcs(_ events: [ATEvent<String>]) -> [String] {
    events.compactMap { if case .urc(let u) = $0 { return u.text + (u.payload.map { "|" + String(decoding: $0, as: UTF8.self) } ?? "") } else { return nil } }
}

@Suite struct EngineTests {
    func command(_ text: StaticString, tag: String, prefixes: [String] = [], finals: [ATFinalRule] = ATFinalRule.standard,
                 payload: [UInt8]? = nil) -> ATCommand<String> {
        ATCommand(ATCommandLine(text), tag: tag, timeout: .seconds(5), infoPrefixes: prefixes, finals: finals,
                  payload: payload.map { [$0[...]] })
    }

    @Test(arguments: [false, true])
    func echoOnOrOffWithURCBetweenEchoAndResult(echo: Bool) throws {
        var e = ATEngine<String>()
        try e.enqueue(self.command("AT+QIRD=0,1500", tag: "read", prefixes: ["+QIRD:"]), now: .zero)
        #expect(e.written() == "AT+QIRD=0,1500\r")
        if echo { e.feed("AT+QIRD=0,1500\r") }
        e.feed("\r\n+QIURC: \"closed\",1\r\n\r\n+QIRD: 5\r\nOK\r\n\r\n\r\nOK\r\n")
        let events = e.allEvents()
        #expect(urcs(events) == ["+QIURC: \"closed\",1"])
        let r = try #require(response(events))
        #expect(r.result == .ok)
        #expect(r.info == [ATInfo(line: Array("+QIRD: 5".utf8), payload: Array("OK\r\n\r".utf8))])
        #expect(e.isIdle)
    }

    @Test func urcBetweenPromptAndSendOKAndDataURCWithPayload() throws {
        var e = ATEngine<String>()
        let finals: [ATFinalRule] = [.exact("SEND OK", .sendOK), .exact("SEND FAIL", .sendFail),
                                     .exact("OK", .ok, terminal: false), .exact("ERROR", .error)]
        try e.enqueue(self.command("AT+QISEND=0,4", tag: "send", finals: finals, payload: Array("te\r\n".utf8)), now: .zero)
        #expect(e.written() == "AT+QISEND=0,4\r")
        e.feed("\r\n+QIURC: \"recv\",1,3\r\nOK\r\n\r\n> ")
        #expect(e.written() == "te\r\n")
        e.feed("\r\n+QIURC: \"closed\",2\r\n\r\nOK\r\n\r\nSEND OK\r\n")
        let events = e.allEvents()
        #expect(urcs(events) == ["+QIURC: \"recv\",1,3|OK\r", "+QIURC: \"closed\",2"])
        let r = try #require(response(events))
        #expect(r.result == .sendOK)
        #expect(r.intermediates == [.ok])
        #expect(r.prompted)
    }

    @Test func errorInsteadOfPromptEndsTheCommandAndPromptModeEnds() throws {
        var e = ATEngine<String>()
        try e.enqueue(self.command("AT+QISEND=3,4", tag: "send", payload: Array("data".utf8)), now: .zero)
        _ = e.written()
        e.feed("\r\nERROR\r\n\r\n>x\r\n")
        let events = e.allEvents()
        #expect(response(events)?.result == .error)
        #expect(urcs(events) == [">x"])
        #expect(e.written() == "")
    }

    @Test func cmeErrorCarriesItsNumber() throws {
        var e = ATEngine<String>()
        try e.enqueue(self.command("AT+CPIN?", tag: "sim", prefixes: ["+CPIN:"]), now: .zero)
        e.feed("\r\n+CME ERROR: 10\r\n")
        let r = try #require(response(e.allEvents()))
        #expect(r.result == .cmeError(10))
    }

    @Test func timeoutEndsTheCommandAndStartsTheNext() throws {
        var e = ATEngine<String>()
        try e.enqueue(self.command("AT", tag: "a"), now: .zero)
        try e.enqueue(self.command("ATE0", tag: "b"), now: .zero)
        #expect(e.written() == "AT\r")
        #expect(e.nextDeadline == Instant.zero + .seconds(5))
        e.tick(now: .milliseconds(4_999))
        #expect(e.allEvents().isEmpty)
        e.tick(now: .milliseconds(5_000))
        #expect(response(e.allEvents())?.result == .timedOut)
        #expect(e.written() == "ATE0\r")
        #expect(e.inFlightTag == "b")
    }

    @Test func queueIsBounded() throws {
        var e = ATEngine<String>(maxQueued: 2)
        try e.enqueue(self.command("AT", tag: "1"), now: .zero)   // in flight
        try e.enqueue(self.command("AT", tag: "2"), now: .zero)
        try e.enqueue(self.command("AT", tag: "3"), now: .zero)
        #expect(throws: ATError.queueFull) { try e.enqueue(self.command("AT", tag: "4"), now: .zero) }
    }

    @Test func abandonAllReportsEveryCommand() throws {
        var e = ATEngine<String>()
        try e.enqueue(self.command("AT", tag: "1"), now: .zero)
        try e.enqueue(self.command("AT", tag: "2"), now: .zero)
        e.abandonAll(.error)
        let tags = e.allEvents().compactMap { if case .completed(let r) = $0 { return r.tag } else { return nil } }
        #expect(tags == ["1", "2"])
        #expect(e.isIdle)
    }

    @Test func urcPayloadIsTakenByCountAtEveryChunkSize() throws {
        let payload: [UInt8] = Array("\r\nSEND OK\r\n".utf8) + [0x1A, 0x1B, 0x03]
        let stream = Array("\r\n+QIURC: \"recv\",0,\(payload.count)\r\n".utf8) + payload + Array("\r\n+QIURC: \"closed\",0\r\n".utf8)
        for chunk in 1...stream.count {
            var e = ATEngine<String>()
            var i = 0
            while i < stream.count {
                e.feed(Array(stream[i..<min(i + chunk, stream.count)]))
                i += chunk
            }
            let events = e.allEvents()
            #expect(events.count == 2, "chunk \(chunk)")
            if case .urc(let u) = events.first {
                #expect(u.payload == payload, "chunk \(chunk)")
            } else {
                Issue.record("no URC at chunk \(chunk)")
            }
        }
    }
}

@Suite struct CommandLineTests {
    @Test(arguments: ["a\rAT+CFUN=0", "a\nb", "x\"y", "semi;colon", "back\\slash", "\u{01}", "né", String(repeating: "a", count: 151)])
    func unsafeTextIsRefused(_ text: String) {
        #expect(throws: ATError.unsafeArgument) { try ATCommandLine("AT+QIDNSGIP", [.int(1), .quoted(text)]) }
    }

    @Test func quotedArgumentsAndInts() throws {
        let l = try ATCommandLine("AT+QIOPEN", [.int(1), .int(0), .quoted("TCP"), .quoted("1.2.3.4"), .int(80), .empty])
        #expect(l.description == "AT+QIOPEN=1,0,\"TCP\",\"1.2.3.4\",80,")
    }

    /// Numbers are written digit by digit in place: the same text as Swift's own.
    @Test(arguments: [0, 7, 10, 1500, 65535, -1, -560, Int.max, Int.min])
    func intsAreDecimal(_ n: Int) throws {
        let l = try ATCommandLine("AT+X", [.int(n), .int(n)])
        #expect(l.description == "AT+X=\(n),\(n)")
    }

    @Test(arguments: ["example.com", "10.0.0.1", "fe80::1", "a-b_c.d"])
    func hostsAccepted(_ h: String) throws { try ATCommandLine.validateHost(h) }

    @Test(arguments: ["", "a b", "a,b", "x\r", "a\"", String(repeating: "h", count: 151)])
    func hostsRefused(_ h: String) {
        #expect(throws: ATError.unsafeArgument) { try ATCommandLine.validateHost(h) }
    }

    @Test func fieldsParseQuotedCommasAndNumbers() {
        var f = ATFields(Array("+QIRD: 4,\"10.7.76.34\",7687".utf8))
        #expect(f.int() == 4)
        #expect(f.string() == "10.7.76.34")
        #expect(f.int() == 7687)
        #expect(f.next() == nil)
        var g = ATFields(Array("+X: 99999999999999999999,-3,\"a,b\"".utf8))
        #expect(g.int() == nil)
        #expect(g.int() == -3)
        #expect(g.string() == "a,b")
    }
}

@Suite struct FieldsTests {
    func all(_ s: String) -> [String] {
        var f = ATFields(Array(s.utf8))
        var out: [String] = []
        while let x = f.next() { out.append(String(decoding: x, as: UTF8.self)) }
        return out
    }

    @Test func emptyAndTrailingFields() {
        #expect(self.all("+CIPOPEN: 1,,,5000") == ["1", "", "", "5000"])
        #expect(self.all("+X: a,") == ["a", ""])
        #expect(self.all("+X:") == [])
        #expect(self.all("+X: ") == [])
        #expect(self.all("+MIPSTATE: 2,,,\"INITIAL\"") == ["2", "", "", "INITIAL"])
        #expect(self.all("+MIPURC:\"rtcp\",0,10,10") == ["rtcp", "0", "10", "10"])
        #expect(self.all("+QIRD: 4 , \"a,b\" ,7") == ["4", "a,b", "7"])
    }
}
