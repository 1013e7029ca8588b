import Testing
@testable import AT
@testable import Bridge
import Sys

/// The serial side of the event loop never blocks: a write the fd cannot take whole is
/// resumed later from where it stopped, pieces in order, nothing lost or doubled.
@Suite struct SerialLinkTests {
    @Test func partialWritesResumeInOrder() throws {
        let pipe = try Pipe(nonblocking: true)
        let reader = pipe.readEnd
        let link = SerialLink(port: pipe.writeEnd, path: "pipe")
        // Three writes of a command and a payload, together far more than a pipe holds (64 KiB).
        var writes: [ATWrite] = []
        var expected: [UInt8] = []
        for i in 0..<3 {
            let command = Array("AT+QISEND=\(i),50000\r".utf8)
            let payload = (0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            writes.append(ATWrite(parts: [command[...], payload[...]]))
            expected += command + payload
        }
        var queue = writes[...]
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        var rounds = 0
        while received.count < expected.count, rounds < 10_000 {
            rounds += 1
            try link.flush { queue.popFirst() }
            // Drain a little, as a slow line would.
            if case .processed(let n) = try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }) {
                received += buffer[0..<n]
            }
        }
        #expect(rounds > 1, "the pipe never filled: the test did not exercise a partial write")
        #expect(received == expected)
        #expect(link.bytesWritten == expected.count)
        #expect(!link.isBlocked)
    }
}
