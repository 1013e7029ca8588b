import Testing
@testable import Bridge

/// Bad input of every kind, seeded so a failure replays: the request reader and the JSON
/// parser never crash, and the reader never holds more than one line's limit.
@Suite struct StatsRobustnessTests {
    /// SplitMix64: small, seeded, good enough to spread bytes.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    @Test(arguments: 0..<8)
    func readerStaysBoundedOnRandomBytes(seed: Int) {
        var rng = Random(state: UInt64(seed))
        var reader = StatsRequestReader()
        var items = 0
        let words = Array("stats\nflows\nmetrics\nhelp\n\r\n".utf8)
        for _ in 0..<2000 {
            let count = rng.below(600)
            var chunk = [UInt8]()
            for _ in 0..<count {
                // Mostly protocol-looking bytes, with newlines and junk mixed in.
                chunk.append(rng.below(4) == 0 ? UInt8(truncatingIfNeeded: rng.next()) : words[rng.below(words.count)])
            }
            for item in reader.feed(chunk) {
                items += 1
                if case .error(let text) = item { #expect(text.utf8.count < 120) }   // never echoes a whole line back
            }
            #expect(reader.pendingCount <= StatsRequestReader.maxLineLength)
        }
        #expect(items > 0)
    }

    @Test(arguments: 0..<8)
    func jsonParserNeverCrashesOnMutatedReplies(seed: Int) {
        var rng = Random(state: UInt64(seed) &+ 1000)
        let valid = Array(StatsJSON.stats(StatsFixture.stats(), flows: StatsFixture.flows(), now: StatsFixture.now).utf8)
        var accepted = 0
        for _ in 0..<300 {
            var bytes = valid
            for _ in 0..<(1 + rng.below(4)) {
                switch rng.below(3) {
                case 0: bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.remove(at: rng.below(bytes.count))
                default: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.below(bytes.count))
                }
            }
            if (try? JSONValue.parse(String(decoding: bytes, as: UTF8.self))) != nil { accepted += 1 }
        }
        // Most mutations break the document; a few land inside a string or number and keep it valid.
        #expect(accepted < 300)
    }

    /// The table renderers take whatever JSON arrives and never trap.
    @Test func renderersTakeAnyShape() throws {
        for text in ["null", "[]", "{\"tun\":5}", "{\"at\":{\"commands\":[1,null,{\"latency_ms\":{\"count\":0}}]}}",
                     "{\"flows\":[{\"modem_socket\":\"x\",\"age_seconds\":-1}]}", "{\"uptime_seconds\":1e308}",
                     "{\"drops\":{\"x\":18446744073709551616}}"] {
            let j = try JSONValue.parse(text)
            #expect(!StatsText.stats(j).isEmpty)
            #expect(!StatsText.flows(j).isEmpty)
            #expect(!StatsText.status(j).isEmpty)
        }
    }
}
