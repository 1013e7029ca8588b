import Testing
import Buffers
import Sys

@Suite struct PollTests {
    @Test func timesOutWhenNothingIsReady() throws {
        let pipe = try Pipe()
        var requests = [PollRequest(fd: pipe.readEnd.rawValue, events: .readable)]
        let start = MonotonicClock.now()
        #expect(try Poll.wait(&requests, timeout: .milliseconds(20)) == 0)
        #expect(requests[0].returned.isEmpty)
        #expect(MonotonicClock.now() - start >= .milliseconds(20))
    }

    @Test func reportsReadableAndWritable() throws {
        let pipe = try Pipe()
        try writeAll([1], to: pipe.writeEnd)
        var requests = [
            PollRequest(fd: pipe.readEnd.rawValue, events: .readable),
            PollRequest(fd: pipe.writeEnd.rawValue, events: .writable),
        ]
        #expect(try Poll.wait(&requests, timeout: .zero) == 2)
        #expect(requests[0].returned == .readable)
        #expect(requests[1].returned == .writable)
    }

    @Test func reportsHangupWhenTheWriterCloses() throws {
        let pipe = try Pipe()
        let readEnd = pipe.readEnd
        try pipe.writeEnd.close()
        var requests = [PollRequest(fd: readEnd.rawValue, events: .readable)]
        #expect(try Poll.wait(&requests, timeout: .seconds(1)) == 1)
        #expect(requests[0].returned.contains(.hangup))
    }
}
