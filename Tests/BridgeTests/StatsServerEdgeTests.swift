import Foundation
import Synchronization
import Testing
import Buffers
import Sys
@testable import Bridge

/// The ways a stats client can end or misbehave, one at a time, driven without threads:
/// the test is both the client (nonblocking sockets) and the daemon's loop (`service`).
@Suite struct StatsServerEdgeTests {
    func drive(_ server: StatsServer, turns: Int = 50) {
        for _ in 0..<turns { server.service(now: MonotonicClock.now(), stats: { StatsFixture.stats() }, flows: { StatsFixture.flows() }) }
    }

    func readAll(_ fd: borrowing FileDescriptor) -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let r = buffer.withUnsafeMutableBytes { b in Result { () throws(SysError) in try fd.read(into: b) } }
            guard case .success(.processed(let n)) = r, n > 0 else { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `echo status | socat - UNIX-CONNECT:...`: the request, then the write side shut.
    /// The reply still comes, then the server closes (read gives end of file).
    @Test func halfClosedClientGetsItsReplyThenEOF() throws {
        let path = temporarySocketPath("half")
        let server = try StatsServer(path: path)
        let c = try UnixStream.connect(path: path, nonblocking: true)
        _ = try c.write(Array("status\nhelp\n".utf8))
        #expect(shutdown(c.rawValue, Int32(SHUT_WR)) == 0)
        drive(server)
        let text = readAll(c)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3 && lines[2].isEmpty, "\(text)")
        #expect(try JSONValue.parse(String(lines[0]))["link"]?.string == "up")
        #expect(lines[1] == Substring(StatsRequest.helpLine))
        let r = buffer0(c)
        #expect(r == .processed(0))          // end of file: the server closed its side
        #expect(server.clientCount == 0)
    }

    func buffer0(_ fd: borrowing FileDescriptor) -> IOResult<Int>? {
        var b = [UInt8](repeating: 0, count: 16)
        let r = b.withUnsafeMutableBytes { raw in Result { () throws(SysError) in try fd.read(into: raw) } }
        return try? r.get()
    }

    /// A client that asks for a large reply and hangs up before reading it: the server's
    /// send fails with EPIPE/ECONNRESET (never SIGPIPE), the slot is freed, nothing leaks.
    @Test func clientGoneMidReplyIsClosedQuietly() throws {
        let path = temporarySocketPath("gone")
        let server = try StatsServer(path: path)
        for _ in 0..<20 {
            let c = try UnixStream.connect(path: path, nonblocking: true)
            _ = try c.write(Array(String(repeating: "metrics\n", count: 200).utf8))
            drive(server, turns: 3)
            try c.close()
            drive(server, turns: 5)
        }
        #expect(server.clientCount == 0)
        #expect(server.pendingOutputBytes == 0)
    }

    @Test func abstractSocketNameWorks() throws {
        let name = "@t2m-stats-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let server = try StatsServer(path: name)
        let c = try UnixStream.connect(path: name, nonblocking: true)
        _ = try c.write(Array("help\n".utf8))
        drive(server, turns: 5)
        #expect(readAll(c) == StatsRequest.helpLine + "\n")
    }

    /// Requests pipelined in one write are answered in order, each reply complete.
    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let path = temporarySocketPath("pipe")
        let server = try StatsServer(path: path)
        let c = try UnixStream.connect(path: path, nonblocking: true)
        let order: [StatsRequest] = [.status, .flows, .metrics, .stats, .help, .status]
        _ = try c.write(Array(order.map { $0.rawValue + "\n" }.joined().utf8))
        var text = ""
        for _ in 0..<50 {
            drive(server, turns: 1)
            text += readAll(c)
        }
        var lines = text.split(separator: "\n").map(String.init)[...]
        for r in order {
            switch r {
            case .metrics:
                var block: [String] = []
                while let l = lines.popFirst() { block.append(l); if l == "# EOF" { break } }
                #expect(try PrometheusText.parse(block.joined(separator: "\n") + "\n").types.count > 20)
            case .help: #expect(lines.popFirst() == StatsRequest.helpLine)
            default: #expect((try? JSONValue.parse(lines.popFirst() ?? "")) != nil, "\(r)")
            }
        }
        #expect(lines.isEmpty)
    }

    /// What a reply costs the daemon's loop: rendering with hundreds of flows open.
    @Test func renderingCostWithManyFlows() throws {
        let base = StatsFixture.flows()[0]
        let flows = (0..<500).map { i in
            var f = base
            f.app = "10.0.\(i / 256).\(i % 256):\(40000 + i)"
            f.state = ["ESTABLISHED", "FIN-WAIT-1", "CLOSE-WAIT", "AWAITING-MODEM"][i % 4]
            return f
        }
        let stats = StatsFixture.stats()
        let clock = ContinuousClock()
        var sizes: [String: Int] = [:]
        let rounds = 20
        let elapsed = clock.measure {
            for _ in 0..<rounds {
                sizes["stats"] = StatsJSON.stats(stats, flows: flows, now: StatsFixture.now).utf8.count
                sizes["flows"] = StatsJSON.flows(flows, now: StatsFixture.now).utf8.count
                sizes["metrics"] = StatsMetrics.render(stats, flows: flows, now: StatsFixture.now).utf8.count
            }
        }
        let perRound = elapsed / rounds
        print("render stats+flows+metrics with 500 flows: \(perRound) per round; sizes \(sizes)")
        #expect(sizes["flows"]! > 500 * 100)
        // A debug build on a shared 2-core machine: generous, but a regression to
        // quadratic rendering (seconds) would fail it.
        #expect(perRound < .milliseconds(250))
    }
}
