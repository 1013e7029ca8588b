import Glibc
import Testing
import Buffers
@testable import Sys

@Suite struct StandardStreamTests {
    @Test func writesTheWholeText() throws {
        let pipe = try Pipe()
        let text = "2026-11-21T16:50:00.000Z info modem ready ✓\n"
        StandardStream(rawValue: pipe.writeEnd.rawValue).write(text)
        #expect(try readExactly(text.utf8.count, from: pipe.readEnd) == Array(text.utf8))
    }

    /// A log line to a full nonblocking pipe is dropped after a short wait, not written
    /// forever; what did fit is an intact prefix.
    @Test func fullNonblockingPipeDropsInsteadOfStalling() throws {
        let pipe = try Pipe(nonblocking: true)
        let text = String(repeating: "0123456789abcdef", count: 16384)   // 256 KiB > pipe capacity
        let start = MonotonicClock.now()
        StandardStream(rawValue: pipe.writeEnd.rawValue).write(text)
        #expect(MonotonicClock.now() - start < .seconds(2))
        let landed = try readExactly(text.utf8.count, from: pipe.readEnd, timeout: .milliseconds(200))
        #expect(landed.count > 0 && landed.count < text.utf8.count)
        #expect(landed == Array(text.utf8.prefix(landed.count)))
    }

    @Test func vanishedReaderIsIgnored() throws {
        try Signal.brokenPipe.ignore()   // as the daemon does; otherwise SIGPIPE would end the run
        let pipe = try Pipe()
        let writeEnd = pipe.writeEnd
        try pipe.readEnd.close()
        StandardStream(rawValue: writeEnd.rawValue).write("nobody reads this\n")
        #expect(try writeEnd.isCloseOnExec())   // still open: the stream never closes it
    }

    @Test func environmentValues() {
        #expect(Environment.value("PATH")?.isEmpty == false)
        #expect(Environment.value("T2M_SURELY_UNSET_VARIABLE") == nil)
    }

    @Test(.enabled(if: childTestName == nil, "runs in the parent only"))
    func exitEndsTheProcessWithTheCode() throws {
        let (status, output) = try runTestInChildProcess(suite: "StandardStreamTests", test: "exitWithCode42()")
        #expect(status == .exited(42), "\(output)")
    }

    @Test(.enabled(if: childTestName == "exitWithCode42()", "runs only as the child of exitEndsTheProcessWithTheCode"))
    func exitWithCode42() {
        CurrentProcess.exit(42)
    }
}
