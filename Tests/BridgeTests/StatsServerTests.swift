import Foundation
import Synchronization
import Testing
import Buffers
import Sys
@testable import Bridge

/// The stats socket with real Unix sockets: the server runs on the test's thread as the
/// daemon's loop would, clients on their own threads.
@Suite(.serialized) struct StatsServerTests {
    @Test func answersEveryRequestKind() throws {
        let path = temporarySocketPath("kinds")
        let server = try StatsServer(path: path)
        let results = Mutex<[String]>([])
        let done = Atomic<Bool>(false)
        Thread.detachNewThread {
            defer { done.store(true, ordering: .sequentiallyConsistent) }
            guard let c = try? StatsClient(path: path) else { return }
            var out: [String] = []
            for r in StatsRequest.allCases { out.append((try? c.send(r)) ?? "FAILED \(r)") }
            results.withLock { $0 = out }
        }
        #expect(serve(server, stats: StatsFixture.stats(), flows: StatsFixture.flows()) { done.load(ordering: .sequentiallyConsistent) })
        let replies = results.withLock { $0 }
        try #require(replies.count == 5)
        #expect(try JSONValue.parse(replies[0])["tun"]?["bytes_in"]?.uint64 == 1_040)
        #expect(try JSONValue.parse(replies[1])["flows"]?.array?.count == 3)
        #expect(try JSONValue.parse(replies[2])["link"]?.string == "up")
        #expect(try PrometheusText.parse(replies[3]).value("tun2modem_tun_bytes_total", ["direction": "in"]) == 1_040)
        #expect(replies[4] == StatsRequest.helpLine)
    }

    @Test func socketFileHasMode0660InACreatedDirectoryAndGoesAway() throws {
        // Two directory levels that do not exist yet: the server makes both.
        let top = "/tmp/t2m-stats-tests/mode-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let path = top + "/run/stats.sock"
        defer { try? FileManager.default.removeItem(atPath: top) }
        var status = stat()
        do {
            let server = try StatsServer(path: path)
            #expect(stat(path, &status) == 0)
            #expect(status.st_mode & 0o777 == 0o660)
            #expect(status.st_mode & S_IFMT == S_IFSOCK)
            #expect(stat(top + "/run", &status) == 0 && status.st_mode & S_IFMT == S_IFDIR)
            _ = server
        }
        #expect(stat(path, &status) == -1)
        // A second server on a live path is refused with EADDRINUSE, not a silent takeover.
        let first = try StatsServer(path: path)
        #expect(throws: SysError.failed(call: "bind", subject: path, errno: .addressInUse)) { _ = try StatsServer(path: path) }
        _ = first
    }

    /// 50 clients at once, each asking 20 times, and one client sending garbage: every good
    /// reply is complete and correct; the bad client gets its error lines and is cut off.
    @Test func fiftyParallelClientsAndOneMalformed() throws {
        let path = temporarySocketPath("fifty")
        let server = try StatsServer(path: path)
        let good = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        let badLines = Mutex<[String]>([])
        for i in 0..<50 {
            Thread.detachNewThread {
                defer { finished.add(1, ordering: .sequentiallyConsistent) }
                guard let c = try? StatsClient(path: path) else { return }
                for k in 0..<20 {
                    let r: StatsRequest = [.stats, .flows, .status, .metrics][(i + k) % 4]
                    guard let reply = try? c.send(r, timeout: .seconds(15)) else { return }
                    let ok: Bool
                    if r == .metrics { ok = (try? PrometheusText.parse(reply)) != nil } else { ok = (try? JSONValue.parse(reply)) != nil }
                    if ok { good.add(1, ordering: .sequentiallyConsistent) }
                }
            }
        }
        Thread.detachNewThread {
            defer { finished.add(1, ordering: .sequentiallyConsistent) }
            guard let c = try? StatsClient(path: path) else { return }
            let deadline = MonotonicClock.now() + .seconds(15)
            var junk: [UInt8] = []
            for n in 0..<10 { junk += Array("junk\(n)\n".utf8) }
            junk += [0, 1, 2, 0xFF, 10] + Array(repeating: UInt8(ascii: "z"), count: 5000) + [10]
            try? c.write(junk, deadline: deadline)
            var lines: [String] = []
            while let line = try? c.readLine(deadline: deadline) { lines.append(line) }
            badLines.withLock { $0 = lines }
        }
        let start = MonotonicClock.now()
        #expect(serve(server, stats: StatsFixture.stats(), flows: StatsFixture.flows(), for: .seconds(60)) {
            finished.load(ordering: .sequentiallyConsistent) == 51
        })
        let elapsed = MonotonicClock.now() - start
        print("stats server: 50 clients × 20 requests + 1 malformed in \(elapsed)")
        #expect(good.load(ordering: .sequentiallyConsistent) == 1000)
        let lines = badLines.withLock { $0 }
        #expect(lines.count == 9)
        #expect(lines.first == "error: unknown request 'junk0'; send 'help'")
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix("error: unknown request 'junk") })
        #expect(lines.last == "error: too many bad requests (8); closing")
        #expect(server.closedForErrors == 1)
        #expect(serve(server, stats: StatsFixture.stats(), flows: [], for: .seconds(5)) { server.clientCount == 0 })
    }

    @Test func oversizedRequestGetsAnErrorAndTheConnectionStaysUsable() throws {
        let path = temporarySocketPath("big")
        let server = try StatsServer(path: path)
        let lines = Mutex<[String]>([])
        let done = Atomic<Bool>(false)
        Thread.detachNewThread {
            defer { done.store(true, ordering: .sequentiallyConsistent) }
            guard let c = try? StatsClient(path: path) else { return }
            let deadline = MonotonicClock.now() + .seconds(10)
            try? c.write(Array(repeating: UInt8(ascii: "s"), count: 100_000) + [10], deadline: deadline)
            let first = (try? c.readLine(deadline: deadline)) ?? "none"
            let second = (try? c.send(.help)) ?? "none"
            lines.withLock { $0 = [first, second] }
        }
        #expect(serve(server, stats: StatsFixture.stats(), flows: []) { done.load(ordering: .sequentiallyConsistent) })
        #expect(lines.withLock { $0 } == ["error: request longer than 256 bytes", StatsRequest.helpLine])
    }

    /// A client that asks for a lot and never reads: the server stops reading it once its
    /// replies reach the limit, never blocks, keeps serving others, and its memory for that
    /// client stays under the limit plus one reply.
    @Test func clientThatNeverReadsIsBoundedAndHarmless() throws {
        let path = temporarySocketPath("slow")
        var limits = StatsServer.Limits()
        limits.maxPendingOutput = 64 * 1024
        let server = try StatsServer(path: path, limits: limits)
        let stalled = try UnixStream.connect(path: path, nonblocking: true)
        let flood = Array(String(repeating: "metrics\n", count: 200_000).utf8)
        var written = 0
        var maxPending = 0
        let stats = StatsFixture.stats()
        let flows = StatsFixture.flows()
        let replySize = StatsMetrics.render(stats, flows: flows, now: MonotonicClock.now()).utf8.count + 64
        for _ in 0..<2000 {
            if written < flood.count, case .processed(let n)? = try? flood.withUnsafeBytes({ try stalled.send(UnsafeRawBufferPointer(rebasing: $0[written...])) }) {
                written += n
            }
            server.service(now: MonotonicClock.now(), stats: { stats }, flows: { flows })
            maxPending = max(maxPending, server.pendingOutputBytes)
        }
        print("never-reading client: wrote \(written) request bytes, server held at most \(maxPending) reply bytes, \(server.repliesQueued) replies, \(server.clientCount) clients")
        // It stopped answering once the socket was full: a few dozen replies, not 200 000.
        #expect(server.repliesQueued > 0 && server.repliesQueued < 100)
        #expect(maxPending <= limits.maxPendingOutput + replySize)
        #expect(written < flood.count)   // the server stopped reading it: backpressure reached the client
        // Meanwhile another client is served at once.
        let answered = Atomic<Bool>(false)
        Thread.detachNewThread {
            if let c = try? StatsClient(path: path), (try? c.send(.status)) != nil { answered.store(true, ordering: .sequentiallyConsistent) }
        }
        #expect(serve(server, stats: stats, flows: flows, for: .seconds(10)) { answered.load(ordering: .sequentiallyConsistent) })
        #expect(server.clientCount >= 1)
        _ = stalled
    }

    /// With every slot taken a newcomer waits in the backlog (not refused); it is served
    /// as soon as a client leaves, or when a client stalled past the timeout is evicted.
    @Test func fullServerMakesNewcomersWaitThenServesThem() throws {
        let path = temporarySocketPath("full")
        var limits = StatsServer.Limits()
        limits.maxClients = 2
        limits.stallTimeout = .seconds(10)
        let server = try StatsServer(path: path, limits: limits)
        func turn(_ at: Instant) { server.service(now: at, stats: { StatsFixture.stats() }, flows: { [] }) }
        func reply(_ fd: borrowing FileDescriptor) -> String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let r = buffer.withUnsafeMutableBytes { b in Result { () throws(SysError) in try fd.read(into: b) } }
            guard case .success(.processed(let n)) = r else { return "" }
            return String(decoding: buffer[0..<n], as: UTF8.self)
        }
        let t0 = MonotonicClock.now()
        let a = try UnixStream.connect(path: path, nonblocking: true)
        let b = try UnixStream.connect(path: path, nonblocking: true)
        turn(t0)
        #expect(server.clientCount == 2)
        let c = try UnixStream.connect(path: path, nonblocking: true)   // succeeds: the backlog holds it
        _ = try c.write(Array("help\n".utf8))
        turn(t0 + .seconds(1)); turn(t0 + .seconds(1))
        #expect(server.acceptPauses == 1)
        #expect(reply(c).isEmpty)                                       // waiting, not refused
        try a.close()                                                   // a leaves: c gets its slot
        turn(t0 + .seconds(2)); turn(t0 + .seconds(2)); turn(t0 + .seconds(2))
        #expect(reply(c) == StatsRequest.helpLine + "\n")
        // Full again (b idle, c idle); d waits until b has stalled for 10 s, then b is evicted.
        let d = try UnixStream.connect(path: path, nonblocking: true)
        _ = try d.write(Array("help\n".utf8))
        turn(t0 + .seconds(5)); turn(t0 + .seconds(5))
        #expect(reply(d).isEmpty)
        #expect(server.evictedClients == 0)
        turn(t0 + .seconds(11)); turn(t0 + .seconds(11)); turn(t0 + .seconds(11))
        #expect(server.evictedClients == 1)
        #expect(reply(d) == StatsRequest.helpLine + "\n")
        var probe = [UInt8](repeating: 0, count: 16)
        let eof = probe.withUnsafeMutableBytes { raw in Result { () throws(SysError) in try b.read(into: raw) } }
        #expect((try? eof.get()) == .processed(0))                     // b was the one closed: end of file
        _ = b; _ = c; _ = d
    }
}
