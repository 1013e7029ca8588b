import Testing
import AT
import Buffers
@testable import Modems

/// The driver reports every command's time and outcome and every URC's kind, which the
/// daemon's `stats` shows per command and per kind (issue 6).
@Suite struct StatisticsEventTests {
    @Test(arguments: [
        (#"+QIURC: "recv",0"#, "+QIURC recv"),
        (#"+MIPURC: "disconn",1,3"#, "+MIPURC disconn"),
        ("+CEREG: 1", "+CEREG"),
        ("RDY", "RDY"),
        ("+IP: 10.0.0.1", "+IP"),
        ("RECV FROM:1.2.3.4:5", "RECVFROM"),
        ("\u{1}\u{2}", "?"),
        (#"+QIURC: "\#(String(repeating: "x", count: 40))""#, "+QIURC xxxxxxxxxxxx"),
    ])
    func urcKindsAreShortAndSafe(line: String, kind: String) {
        #expect(ModemEvent.urcKind(of: Array(line.utf8)) == kind)
    }

    @Test func aCommandIsTimedFromDispatchToItsFinalLine() throws {
        let driver = ATModemDriver(model: .ec600e)
        try driver.querySignal(now: .milliseconds(100))
        let write = try #require(driver.nextWrite())
        #expect(String(decoding: write.parts.flatMap { Array($0) }, as: UTF8.self) == "AT+CSQ\r")
        driver.received(Array("\r\n+QIURC: \"recv\",3\r\n\r\n+CSQ: 23,99\r\n\r\nOK\r\n".utf8), now: .milliseconds(130))
        var events: [ModemEvent] = []
        while let e = driver.nextEvent() { events.append(e) }
        #expect(events.contains(.commandCompleted(command: "AT+CSQ", elapsed: .milliseconds(30), outcome: .answered)))
        #expect(events.contains(.urcReceived(kind: "+QIURC recv")))
    }

    @Test(arguments: [
        (ATResult.ok, CommandOutcome.answered), (.sendOK, .answered), (.custom("x"), .answered),
        (.error, .refused), (.cmeError(10), .refused), (.sendFail, .refused), (.timedOut, .timedOut),
    ])
    func resultsMapToOutcomes(result: ATResult, outcome: CommandOutcome) {
        #expect(CommandOutcome(result) == outcome)
    }
}
