import Foundation
import Testing
import Sys

/// The daemon as systemd runs it: notifications on $NOTIFY_SOCKET (READY=1 once the modem
/// is up, WATCHDOG=1 at half of $WATCHDOG_USEC, STOPPING=1 on SIGTERM), journald-style log
/// lines, and SIGHUP re-reading the config file and naming what it could not apply.
@Suite(.serialized) struct OpsLifecycleTests {
    /// A datagram socket standing in for systemd's notify socket.
    final class NotifySocket {
        let path: String
        let fd: Int32

        init() throws {
            self.path = "/tmp/t2mops-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            unlink(self.path)
            self.fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in self.path.utf8.enumerated() { raw[i] = b } }
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(self.fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { throw StatsSocket.Failure(description: "bind \(self.path): errno \(errno)") }
        }

        deinit {
            close(self.fd)
            unlink(self.path)
        }

        /// The next message and when it arrived, or nil after `timeout`.
        func next(timeout: Duration) -> (text: String, at: ContinuousClock.Instant)? {
            var request = [PollRequest(fd: self.fd, events: .readable)]
            guard (try? Poll.wait(&request, timeout: timeout)) == 1 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(self.fd, &buffer, buffer.count, 0)
            guard n > 0 else { return nil }
            return (String(decoding: buffer[0..<n], as: UTF8.self), ContinuousClock.now)
        }
    }

    @Test(.enabled(if: OpsStatsTests.daemonUnavailable == nil, "\(OpsStatsTests.daemonUnavailable ?? "")"))
    func notifiesReadyPingsTheWatchdogAndSaysStopping() throws {
        let notify = try NotifySocket()
        let lab = try Lab(prefix: OpsStatsTests.labPrefix(3))
        let log = "/tmp/\(lab.prefix).log"
        let socket = "/tmp/\(lab.prefix)/stats.sock"
        defer { unlink(log); rmdir("/tmp/\(lab.prefix)") }
        let daemon = try lab.spawn("app", ["env", "NOTIFY_SOCKET=\(notify.path)", "WATCHDOG_USEC=1000000", "INVOCATION_ID=\(lab.prefix)",
                                           OpsStatsTests.builtTun2modem(), "run", "--sim", "EC600E", "--sim-netns", lab.net,
                                           "--stats-socket", socket], log: log)
        var messages: [String] = []
        var pingTimes: [ContinuousClock.Instant] = []
        let started = ContinuousClock.now
        while let m = notify.next(timeout: .seconds(60)) {
            messages.append(m.text)
            if m.text == "WATCHDOG=1" { pingTimes.append(m.at) }
            if pingTimes.count == 5 || ContinuousClock.now - started > .seconds(90) { break }
        }
        try daemon.send(.terminate)
        while let m = notify.next(timeout: .seconds(10)) {
            messages.append(m.text)
            if m.text.hasPrefix("STOPPING=1") { break }
        }
        _ = try? daemon.wait()

        let ready = messages.firstIndex { $0.hasPrefix("READY=1") }
        #expect(ready != nil, "\(messages)")
        #expect(messages.first { $0.hasPrefix("READY=1") }?.contains("\nSTATUS=modem up") == true, "\(messages)")
        // No ping before READY: a daemon stuck in bring-up is not kept alive by its own timer.
        #expect(messages.firstIndex(of: "WATCHDOG=1").map { $0 > ready! } ?? false, "\(messages)")
        #expect(pingTimes.count == 5, "\(messages)")
        let gaps = zip(pingTimes, pingTimes.dropFirst()).map { $1 - $0 }
        print("watchdog pings every \(gaps) for WATCHDOG_USEC=1000000")
        // Half the interval, give or take the loop's wakeups on a busy machine; never the full second.
        #expect(gaps.allSatisfy { $0 > .milliseconds(350) && $0 < .milliseconds(900) }, "\(gaps)")
        #expect(messages.last == "STOPPING=1", "\(messages)")
        // Under systemd (INVOCATION_ID set) log lines carry a priority prefix and no timestamp.
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        let daemonLines = lines.filter { $0.hasPrefix("<") }
        #expect(!daemonLines.isEmpty, "\(lines)")
        #expect(daemonLines.allSatisfy { $0.range(of: #"^<[3-7]>[a-z]+: "#, options: .regularExpression) != nil }, "\(lines)")
        #expect(!lines.contains { $0.range(of: #"^\d{4}-\d\d-\d\dT"#, options: .regularExpression) != nil }, "\(lines)")
    }

    @Test(.enabled(if: OpsStatsTests.daemonUnavailable == nil, "\(OpsStatsTests.daemonUnavailable ?? "")"))
    func sighupAppliesTheLogLevelAndNamesWhatNeedsARestart() throws {
        let lab = try Lab(prefix: OpsStatsTests.labPrefix(4))
        let log = "/tmp/\(lab.prefix).log"
        let socket = "/tmp/\(lab.prefix)/stats.sock"
        let config = "/tmp/\(lab.prefix).conf"
        defer { unlink(log); rmdir("/tmp/\(lab.prefix)") }
        try "# test\nlog-level = notice\nmtu = 1500\n".write(toFile: config, atomically: true, encoding: .utf8)
        defer { unlink(config) }
        let daemon = try lab.spawn("app", [OpsStatsTests.builtTun2modem(), "run", "--config", config, "--sim", "EC600E",
                                           "--sim-netns", lab.net, "--stats-socket", socket], log: log)
        func logText() -> String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        let up = Lab.waitFor(.seconds(60)) {
            (try? StatsSocket.request(socket, "status")).flatMap { try? StatsSocket.json($0)["link"] as? String } == "up"
        }
        try #require(up, "\(logText())")
        #expect(!logText().contains(" debug "))         // notice: debug lines are not written
        try "# test\nlog-level = debug\nmtu = 1400\n".write(toFile: config, atomically: true, encoding: .utf8)
        try daemon.send(.hangup)
        #expect(Lab.waitFor(.seconds(10)) { logText().contains("not applied (needs a restart) --mtu") }, "\(logText())")
        #expect(logText().contains("applied --log-level"))
        // The new level is in force: debug lines appear once something happens.
        _ = try? StatsSocket.request(socket, "status")
        _ = try lab.exec("app", ["python3", "-c", "import socket; socket.create_connection(('192.0.2.10', 7), timeout=30).close()"])
        #expect(Lab.waitFor(.seconds(10)) { logText().contains(" debug ") }, "\(logText())")
        // A broken file: the daemon keeps running and says why.
        try "log-level debug\n".write(toFile: config, atomically: true, encoding: .utf8)
        try daemon.send(.hangup)
        #expect(Lab.waitFor(.seconds(10)) { logText().contains("\(config):1: expected 'key = value'") }, "\(logText())")
        #expect((try? StatsSocket.request(socket, "status")) != nil)
        try daemon.send(.terminate)
        let status = try daemon.wait()
        #expect(status == .exited(0), "\(logText())")
    }
}
