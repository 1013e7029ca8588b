import Testing
@testable import Bridge

@Suite struct StatsRequestTests {
    @Test func wordsPerLineWithCRBlanksAndEmptyLines() {
        var r = StatsRequestReader()
        let items = r.feed(Array("stats\n  flows \r\n\n\r\nstatus\nmetrics\nhelp\n".utf8))
        #expect(items == [.request(.stats), .request(.flows), .request(.status), .request(.metrics), .request(.help)])
        #expect(r.pendingCount == 0)
    }

    /// The socket may deliver any split: every chunk size from 1 byte up gives the same items.
    @Test(arguments: 1...17)
    func anyChunkingGivesTheSameItems(chunk: Int) {
        let input = Array("stats\nbogus\nflows\n\(String(repeating: "x", count: 300))\nstatus\n".utf8)
        var r = StatsRequestReader()
        var items: [StatsRequestReader.Item] = []
        var i = 0
        while i < input.count {
            items += r.feed(Array(input[i..<min(input.count, i + chunk)]))
            i += chunk
        }
        #expect(items == [
            .request(.stats), .error("unknown request 'bogus'; send 'help'"), .request(.flows),
            .error("request longer than 256 bytes"), .request(.status),
        ])
    }

    @Test func oversizedLineGivesOneErrorAndTheNextLineWorks() {
        var r = StatsRequestReader()
        var items = r.feed(Array(repeating: UInt8(ascii: "a"), count: 10_000))
        #expect(items == [.error("request longer than 256 bytes")])
        #expect(r.pendingCount == 0)   // nothing of it is held: memory stays bounded
        items = r.feed(Array("still the same line\nstats\n".utf8))
        #expect(items == [.request(.stats)])
    }

    @Test func exactlyTheLimitIsAccepted() {
        var r = StatsRequestReader()
        let word = "stats" + String(repeating: " ", count: StatsRequestReader.maxLineLength - 5)
        #expect(r.feed(Array((word + "\n").utf8)) == [.request(.stats)])
    }

    @Test(arguments: [
        ("STATS\n", "unknown request 'STATS'; send 'help'"),
        ("stats extra\n", "unknown request 'stats extra'; send 'help'"),
        ("st\u{0}ats\n", "malformed request: not printable ASCII"),
        ("stäts\n", "malformed request: not printable ASCII"),
        (String(repeating: "q", count: 40) + "\n", "unknown request '" + String(repeating: "q", count: 32) + "...'; send 'help'"),
    ])
    func malformedRequestsAreNamedWithoutEchoingJunk(input: String, message: String) {
        var r = StatsRequestReader()
        #expect(r.feed(Array(input.utf8)) == [.error(message)])
    }

    @Test func unfinishedLineWaitsForItsNewline() {
        var r = StatsRequestReader()
        #expect(r.feed(Array("sta".utf8)).isEmpty)
        #expect(r.pendingCount == 3)
        #expect(r.feed(Array("ts\n".utf8)) == [.request(.stats)])
    }
}
