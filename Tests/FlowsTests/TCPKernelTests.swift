import Buffers
import Foundation
import Glibc
import Testing
@testable import Flows
import Wire

/// The endpoint against the real thing: a Linux TCP socket in a private network namespace
/// connects through a TUN device, and the "modem" behind the endpoint echoes what it gets.
@Suite(.enabled(if: TCPKernelLab.available, "needs root, /dev/net/tun and ip(8)"), .serialized)
struct TCPKernelTests {
    enum ModemBehaviour: Sendable {
        case echo
        case refuse
        /// No route: the bridge answers the SYN with ICMP host unreachable.
        case unreachable
        /// Echo, then reset the modem socket after this many bytes.
        case resetAfter(Int)
        /// Send this many bytes as soon as open, then close (the server speaks and hangs
        /// up first); the app sends nothing and closes after EOF.
        case greetAndClose(Int)
    }

    /// One connection's circumstances.
    struct Scenario: Sendable {
        var bytes: Int
        var modem: ModemBehaviour = .echo
        var appReceiveBuffer: Int32?
        var modemOpenDelay: Duration = .milliseconds(30)
        /// Packets lost each way between the app's kernel and the endpoint.
        var loss: Double = 0
        /// The app aborts (SO_LINGER 0) once it has received this many bytes.
        var appAbortsAfter: Int?
        /// The app connects, then stays silent this long before sending.
        var appIdle: Duration = .zero
        /// The most bytes the modem takes per 10 ms (nil: all at once).
        var modemRate: Int?
        /// Once this many bytes went through, the modem takes nothing for a while.
        var modemPause: (after: Int, duration: Duration)?
        /// Request/response: the app sends this many bytes, waits for their echo, repeats.
        var pingPong: Int?
        var config = TCPConfig()
    }

    struct Run: Sendable {
        var appConnected = false
        var appError: Int32 = 0
        var appReceived: [UInt8] = []
        var appSawEOF = false
        var closeReason: TCPCloseReason?
        var state: TCPState?
        var synOptions = ""
        var segmentsFromApp = 0
        var segmentsToApp = 0
        var zeroWindowsFromApp = 0
        var zeroWindowsToApp = 0
        var probesFromApp = 0
        var synsFromApp = 0
        var lost = 0
        var endpointRetransmits = 0
        /// The app kernel's own counters afterwards (its namespace holds only this flow).
        var kernelRetransmissions: Int?
        var kernelTimeouts: Int?
        /// The endpoint at the end, for failure messages.
        var endpointDescription = ""
        /// From connected to the app's EOF.
        var appElapsed: Duration?
        /// Keepalive probes the endpoint had sent when the app's idle time ended.
        var keepalivesDuringIdle: Int?
        var stateAfterIdle: TCPState?
    }

    /// Runs one connection of `bytes` bytes from the app, echoed back by the modem.
    static func run(_ scenario: Scenario) throws -> Run {
        try TCPKernelLab.run { tun in
            var run = Run()
            var random = SimulationRandom(seed: 0x5EED)
            let modem = scenario.modem
            let budget = TCPBufferBudget(limit: 8 << 20)
            let bytes: Int
            if case .greetAndClose = modem { bytes = 0 } else { bytes = scenario.bytes }
            let data = pattern(bytes, seed: 9)
            var greeted = 0
            var endpoint: TCPEndpoint?
            var modemOpenAt: Instant?
            var modemClosedSent = false
            var synPacket: [UInt8]?
            var modemRateSince = Instant.zero
            var modemRateLeft = 0
            var pausedAt: Instant?
            var echoed = 0

            let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard sock >= 0 else { throw TCPKernelLab.LabError("socket") }
            var sockClosed = false
            defer { if !sockClosed { close(sock) } }
            if var size = scenario.appReceiveBuffer {
                setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(80).bigEndian
            address.sin_addr.s_addr = UInt32(0x0A09_0002).bigEndian  // 10.9.0.2
            let started = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(sock, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard started == 0 || errno == EINPROGRESS else { throw TCPKernelLab.LabError("connect") }

            var appSent = 0
            var appShutdown = false
            var connectedAt: Instant?
            let deadline = TCPKernelLab.monotonicNow() + .seconds(10)
            var packet = [UInt8](repeating: 0, count: 65536)

            while TCPKernelLab.monotonicNow() < deadline {
                let now = TCPKernelLab.monotonicNow()
                // Packets from the app's kernel.
                while true {
                    let n = packet.withUnsafeMutableBytes { read(tun, $0.baseAddress, $0.count) }
                    guard n > 0 else { break }
                    guard let segment = TCPKernelCodec.parse(Array(packet[0 ..< n])) else { continue }
                    run.segmentsFromApp += 1
                    if segment.repr.flags.contains(.syn) { run.synsFromApp += 1 }
                    if Double.random(in: 0 ..< 1, using: &random) < scenario.loss {
                        run.lost += 1
                        continue
                    }
                    if segment.repr.windowLength == 0 && !segment.repr.flags.contains(.rst) { run.zeroWindowsFromApp += 1 }
                    if var e = endpoint.take() {  // take: no copy-on-write of its buffers
                        // Linux probes a zero window with SEG.SEQ = RCV.NXT − 1 and no data.
                        if segment.payload.isEmpty, e.state == .established, segment.repr.sequenceNumber == e.rcvNxt - 1 {
                            run.probesFromApp += 1
                        }
                        segment.payload.withUnsafeBytes { e.process(segment.repr, payload: $0, now: now) }
                        endpoint = e
                    } else if let e = TCPEndpoint(
                        syn: segment.repr, initialSequence: SeqNumber(rawValue: 0xFFFF_F000), now: now,
                        config: scenario.config, budget: budget
                    ) {
                        let r = segment.repr
                        run.synOptions = "mss=\(r.maxSegmentSize.map(String.init) ?? "-") ws=\(r.windowScale.map(String.init) ?? "-") sack=\(r.sackPermitted) ts=\(r.timestamp != nil)"
                        endpoint = e
                        synPacket = segment.packet
                        modemOpenAt = now + scenario.modemOpenDelay  // the modem takes a while
                    }
                }
                // The modem.
                if var e = endpoint.take() {  // take: no copy-on-write of its buffers
                    if let at = modemOpenAt, at <= now {
                        modemOpenAt = nil
                        switch modem {
                        case .refuse: e.modemRefused(now: now)
                        case .unreachable:
                            e.modemUnreachable(now: now)
                            if e.wantsUnreachable, let syn = synPacket, let icmp = TCPKernelCodec.unreachable(answering: syn) {
                                _ = icmp.withUnsafeBytes { write(tun, $0.baseAddress, $0.count) }
                            }
                        default: e.modemOpened(now: now)
                        }
                    }
                    var room = e.roomForModemData
                    if let rate = scenario.modemRate {
                        // A slow modem: a budget of `rate` bytes per 10 ms.
                        if now - modemRateSince >= .milliseconds(10) {
                            modemRateSince = now
                            modemRateLeft = rate
                        }
                        room = min(room, modemRateLeft)
                    }
                    if let pause = scenario.modemPause, echoed >= pause.after {
                        if pausedAt == nil { pausedAt = now }
                        if let since = pausedAt, now - since < pause.duration { room = 0 }
                    }
                    let echo = e.withPendingForModem { a, b in Array((Array(a) + Array(b)).prefix(room)) }
                    modemRateLeft -= echo.count
                    if !echo.isEmpty {
                        let taken = echo.withUnsafeBytes { e.deliverFromModem($0, now: now) }
                        e.modemAccepted(taken, now: now)
                        echoed += taken
                    }
                    if case .greetAndClose(let count) = modem, e.state != .awaitingModem, !modemClosedSent {
                        let greeting = pattern(count - greeted, from: greeted, seed: 9)
                        greeted += greeting.withUnsafeBytes { e.deliverFromModem($0, now: now) }
                        if greeted == count {
                            e.modemClosed(now: now)
                            modemClosedSent = true
                        }
                    }
                    if case .resetAfter(let limit) = modem, echoed >= limit, !e.isClosed {
                        e.modemReset(now: now)
                    }
                    if case .greetAndClose = modem {
                        // The server closes by itself, above.
                    } else if e.appFinished && e.pendingForModemCount == 0 && !modemClosedSent {
                        e.modemClosed(now: now)
                        modemClosedSent = true
                    }
                    while e.dispatch(now: now, emit: { repr, payload in
                        if repr.windowLength == 0 && !repr.flags.contains(.rst) { run.zeroWindowsToApp += 1 }
                        if Double.random(in: 0 ..< 1, using: &random) < scenario.loss {
                            run.lost += 1
                            return
                        }
                        TCPKernelCodec.write(repr, payload: payload, to: tun)
                        run.segmentsToApp += 1
                    }) {}
                    endpoint = e
                }
                // The app.
                if sockClosed {
                    // Let the RST reach the endpoint, then stop.
                    if let e = endpoint, e.isClosed { break }
                    _ = poll(nil, 0, 1)
                    continue
                }
                var pfd = pollfd(fd: sock, events: Int16(POLLOUT | POLLIN), revents: 0)
                _ = poll(&pfd, 1, 0)
                if !run.appConnected && pfd.revents & Int16(POLLOUT | POLLERR | POLLHUP) != 0 {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(sock, SOL_SOCKET, SO_ERROR, &error, &length)
                    if error != 0 {
                        run.appError = error
                        break
                    }
                    run.appConnected = true
                    connectedAt = now
                }
                if run.appConnected, let since = connectedAt, now - since >= scenario.appIdle {
                    if run.keepalivesDuringIdle == nil {
                        run.keepalivesDuringIdle = endpoint?.keepaliveProbesTotal ?? 0
                        run.stateAfterIdle = endpoint?.state
                    }
                    var sendLimit = data.count
                    if let size = scenario.pingPong {
                        sendLimit = run.appReceived.count == appSent ? min(data.count, appSent + size) : appSent
                    }
                    while appSent < sendLimit {
                        let n = data[appSent ..< sendLimit].withUnsafeBytes {
                            send(sock, $0.baseAddress, min($0.count, 16384), Int32(MSG_NOSIGNAL))
                        }
                        if n < 0 && errno != EAGAIN { run.appError = errno }
                        if n <= 0 { break }
                        appSent += n
                    }
                    if run.appError != 0 { break }
                    let answered = scenario.pingPong == nil || run.appReceived.count == data.count
                    if appSent == data.count && answered && !appShutdown {
                        shutdown(sock, Int32(SHUT_WR))
                        appShutdown = true
                    }
                    var chunk = [UInt8](repeating: 0, count: 4096)
                    while !run.appSawEOF {
                        let n = chunk.withUnsafeMutableBytes { recv(sock, $0.baseAddress, $0.count, 0) }
                        if n > 0 {
                            run.appReceived += chunk[0 ..< n]
                        } else if n == 0 {
                            run.appSawEOF = true
                            run.appElapsed = connectedAt.map { now - $0 }
                        } else {
                            if errno != EAGAIN { run.appError = errno }
                            break
                        }
                    }
                    if run.appError != 0 { break }
                    if let limit = scenario.appAbortsAfter, run.appReceived.count >= limit {
                        // close() with a zero linger time sends RST (socket(7), SO_LINGER).
                        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                        setsockopt(sock, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                        shutdown(sock, Int32(SHUT_RDWR))
                        close(sock)
                        sockClosed = true
                    }
                }
                if run.appSawEOF, let e = endpoint, e.isClosed || e.state == .timeWait { break }
                // Wait for the TUN, the app's socket, or the endpoint's next timer.
                var fds = [pollfd(fd: tun, events: Int16(POLLIN), revents: 0), pollfd(fd: sock, events: Int16(POLLIN), revents: 0)]
                var timeout: Int32 = 2
                if case .at(let t)? = endpoint?.pollAt() {
                    timeout = Int32(clamping: max(0, min(2, (t - TCPKernelLab.monotonicNow()).nanoseconds / 1_000_000)))
                }
                _ = poll(&fds, 2, timeout)
            }
            run.kernelRetransmissions = TCPKernelLab.kernelCounter("Tcp", "RetransSegs")
            run.kernelTimeouts = TCPKernelLab.kernelCounter("TcpExt", "TCPTimeouts")
            run.endpointDescription = endpoint.map { "\($0)" } ?? "no endpoint"
            run.closeReason = endpoint?.closeReason
            run.state = endpoint?.state
            run.endpointRetransmits = endpoint?.segmentsRetransmitted ?? 0
            return run
        }
    }

    @Test func echoOneMebibyteWithAHalfCloseFromTheApp() throws {
        let run = try Self.run(Scenario(bytes: 1 << 20))
        #expect(run.appError == 0)
        #expect(run.appConnected)
        #expect(run.appReceived.count == 1 << 20)
        let intact = run.appReceived == pattern(1 << 20, seed: 9)
        #expect(intact)
        #expect(run.appSawEOF)
        #expect(run.state == .timeWait || run.closeReason == .finished)
        // The kernel offered everything; its window scale depends on its rmem settings.
        #expect(run.synOptions.hasPrefix("mss=1460 ws="))
        #expect(run.synOptions.hasSuffix(" sack=true ts=true"))
        // Nothing was lost, so a kernel that is happy with us never retransmitted.
        #expect(run.kernelRetransmissions == 0)
        #expect(run.kernelTimeouts == 0)
    }

    @Test func tinyAppReceiveBufferForcesZeroWindows() throws {
        let run = try Self.run(Scenario(bytes: 200_000, appReceiveBuffer: 2048))
        #expect(run.appError == 0)
        let intact = run.appReceived == pattern(200_000, seed: 9)
        #expect(intact, "app got \(run.appReceived.count) bytes; endpoint: \(run.endpointDescription)")
        #expect(run.appSawEOF)
        #expect(run.zeroWindowsFromApp > 0)
    }

    @Test func refusedByTheModemIsConnectionRefused() throws {
        let run = try Self.run(Scenario(bytes: 10, modem: .refuse))
        #expect(!run.appConnected)
        #expect(run.appError == ECONNREFUSED)
        #expect(run.closeReason == .modemRefused)
    }

    @Test func modemResetReachesTheAppAsConnectionReset() throws {
        let run = try Self.run(Scenario(bytes: 1 << 20, modem: .resetAfter(100_000)))
        #expect(run.appConnected)
        #expect(run.appError == ECONNRESET)
        #expect(run.closeReason == .modemReset || run.closeReason == .undeliverable)
        let intact = run.appReceived == pattern(run.appReceived.count, seed: 9)
        #expect(intact)
    }

    @Test func slowModemOpenAbsorbsTheKernelsSynRetransmission() throws {
        // Linux retransmits its SYN after 1 s; the modem answers after 1.5 s.
        let run = try Self.run(Scenario(bytes: 1000, modemOpenDelay: .milliseconds(1500)))
        #expect(run.synsFromApp >= 2)
        #expect(run.appError == 0)
        let intact = run.appReceived == pattern(1000, seed: 9)
        #expect(intact)
        #expect(run.appSawEOF)
    }

    @Test func serverSpeaksAndClosesFirst() throws {
        let run = try Self.run(Scenario(bytes: 300_000, modem: .greetAndClose(300_000)))
        #expect(run.appError == 0)
        #expect(run.appReceived.count == 300_000)
        let intact = run.appReceived == pattern(300_000, seed: 9)
        #expect(intact)
        #expect(run.appSawEOF)
        #expect(run.state == .timeWait || run.closeReason == .finished)
    }

    @Test func appAbortIsSeenAsAppReset() throws {
        let run = try Self.run(Scenario(bytes: 1 << 20, appAbortsAfter: 50_000))
        #expect(run.closeReason == .appReset)
    }

    @Test func lossBothWaysIsRepaired() throws {
        let run = try Self.run(Scenario(bytes: 1 << 20, loss: 0.03))
        #expect(run.lost > 20)
        #expect(run.appError == 0)
        #expect(run.appReceived.count == 1 << 20)
        let intact = run.appReceived == pattern(1 << 20, seed: 9)
        #expect(intact)
        #expect(run.appSawEOF)
        #expect(run.endpointRetransmits > 0)
    }

    @Test func idleAppAnswersKeepalives() throws {
        // Linux answers a keepalive probe (an out-of-window segment) with an ACK, but at
        // most one such ACK per 500 ms (net.ipv4.tcp_invalid_ratelimit): probes here are
        // 600 ms apart, and two unanswered ones would reset the flow.
        var scenario = Scenario(bytes: 1000, appIdle: .milliseconds(2500))
        scenario.config.keepaliveIdle = .milliseconds(600)
        scenario.config.keepaliveInterval = .milliseconds(600)
        scenario.config.keepaliveProbes = 2
        let run = try Self.run(scenario)
        #expect((run.keepalivesDuringIdle ?? 0) >= 3)
        #expect(run.stateAfterIdle == .established)
        #expect(run.appError == 0)
        let intact = run.appReceived == pattern(1000, seed: 9)
        #expect(intact)
    }

    @Test func noRouteIsHostUnreachable() throws {
        let run = try Self.run(Scenario(bytes: 10, modem: .unreachable))
        #expect(!run.appConnected)
        #expect(run.appError == EHOSTUNREACH)
        #expect(run.closeReason == .noRoute)
    }

    @Test func stalledModemClosesOurWindowAndTheKernelProbesIt() throws {
        // A 16 KiB buffer toward a modem that stops for 1.5 s after 50 kB: our window
        // closes, Linux's persist timer probes it, and the transfer resumes when the modem
        // does.
        var scenario = Scenario(bytes: 200_000, modemPause: (after: 50_000, duration: .milliseconds(1500)))
        scenario.config.receiveBufferCapacity = 16384
        let run = try Self.run(scenario)
        #expect(run.zeroWindowsToApp > 0)
        #expect(run.probesFromApp > 0)
        #expect(run.appError == 0)
        #expect(run.appReceived.count == 200_000)
        let intact = run.appReceived == pattern(200_000, seed: 9)
        #expect(intact, "app got \(run.appReceived.count) bytes; endpoint: \(run.endpointDescription)")
        #expect(run.appSawEOF)
    }

    @Test func requestResponseHasNoDelayedAckStalls() throws {
        // 200 rounds of 100 bytes each way. Were an ACK to wait on a delayed ACK (40 ms in
        // Linux) once per round, this would take 8 s.
        let run = try Self.run(Scenario(bytes: 20_000, pingPong: 100))
        #expect(run.appError == 0)
        let intact = run.appReceived == pattern(20_000, seed: 9)
        #expect(intact, "app got \(run.appReceived.count) bytes; endpoint: \(run.endpointDescription)")
        #expect(run.appSawEOF)
        #expect((run.appElapsed ?? .seconds(99)) < .seconds(3))
    }
}
