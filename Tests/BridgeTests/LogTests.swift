import Testing
import Synchronization
@testable import Bridge

final class LineCollector: Sendable {
    let lines = Mutex<[String]>([])
    func append(_ s: String) { self.lines.withLock { $0.append(s) } }
    var all: [String] { self.lines.withLock { $0 } }
}

@Suite struct LogTests {
    @Test func timestampedLinesCarryTimeLevelAndSubsystem() {
        let c = LineCollector()
        let log = Log(threshold: .info, style: .timestamped, now: { "2026-11-21T16:00:00.000Z" }, sink: c.append)
        log.info("modem", "registered on home network")
        log.debug("modem", "not shown")
        #expect(c.all == ["2026-11-21T16:00:00.000Z info modem: registered on home network\n"])
    }

    @Test func journaldLinesHavePriorityPrefixAndNoTime() {
        let c = LineCollector()
        let log = Log(threshold: .debug, style: .journald, now: { "never" }, sink: c.append)
        log.error("serial", "device vanished")
        log.debug("at", "tx AT+QISTATE")
        #expect(c.all == ["<3>serial: device vanished\n", "<7>at: tx AT+QISTATE\n"])
    }

    @Test func controlBytesCannotForgeLines() {
        let c = LineCollector()
        let log = Log(style: .journald, now: { "" }, sink: c.append)
        log.warning("modem", "garbage\r\nOK\r\n\u{1}\u{7f}")
        #expect(c.all == ["<4>modem: garbage\\r\\nOK\\r\\n\\x01\\x7f\n"])
    }

    @Test func styleFollowsSystemdsEnvironment() {
        #expect(Log.style(environment: { $0 == "JOURNAL_STREAM" ? "8:123" : nil }) == .journald)
        #expect(Log.style(environment: { $0 == "INVOCATION_ID" ? "abc" : nil }) == .journald)
        #expect(Log.style(environment: { _ in nil }) == .timestamped)
    }

    @Test func levelsOrderBySeverity() {
        #expect(Log.Level.error > .warning && Log.Level.info > .debug)
        #expect(Log.Level(name: "notice") == .notice && Log.Level(name: "loud") == nil)
    }
}
