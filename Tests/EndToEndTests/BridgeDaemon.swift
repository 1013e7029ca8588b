import Foundation
import Buffers
import Sys

/// `tun2modem run --sim MODEL` in a lab's app namespace, with its emulator in the net
/// namespace, a hosts table for the emulator's DNS and a control socket for faults.
final class BridgeDaemon {
    static let buildDirectory: String = {
        // The test binary lives in .build/debug (or a bundle inside it): the daemon is there too.
        var url = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "")
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("tun2modem").path) { return url.path }
        }
        return Lab.repoRoot.appendingPathComponent(".build/debug").path
    }()
    static let daemonPath = buildDirectory + "/tun2modem"
    static let client = Lab.repoRoot.appendingPathComponent("scripts/labclient.py").path
    /// A lab prefix of `stem` (≤ 4 characters) and this test process's id, so two test runs
    /// on one machine (a helper's branch and main, say) never tear down each other's lab.
    static func labPrefix(_ stem: String) -> String {
        let tag = String(UInt32(getpid()) % (36 * 36 * 36 * 36), radix: 36)
        return String(stem.lowercased().prefix(4)) + "-" + tag
    }

    /// A name only the emulator's hosts table knows.
    static let labHostName = "server.t2m.lab"

    let model: String
    let logPath: String
    let controlPath: String
    let hostsPath: String
    /// The daemon's stats socket (`tun2modem stats --socket`).
    let statsPath: String
    var process: ChildProcess?
    let pid: pid_t

    init(lab: borrowing Lab, model: String, extraArguments: [String] = []) throws {
        self.model = model
        let base = "/tmp/t2m-e2e-\(lab.prefix)-\(getpid())"
        self.logPath = base + ".log"
        self.controlPath = base + ".ctl"
        self.hostsPath = base + ".hosts"
        self.statsPath = base + ".stats"
        try "192.0.2.10 \(Self.labHostName)\n".write(toFile: self.hostsPath, atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: self.controlPath)
        let child = try lab.spawn("app", [Self.daemonPath, "run", "--sim", model, "--sim-netns", lab.net,
                                             "--sim-arg=--hosts=\(self.hostsPath)", "--sim-arg=--control=\(self.controlPath)",
                                             "--route", "default", "--stats-socket", self.statsPath,
                                             "--log-level", "info"] + extraArguments, log: self.logPath)
        self.pid = child.pid
        self.process = consume child
    }

    deinit { self.stop() }

    var log: String { (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "" }

    /// How many times the modem's data connection came up so far.
    var bringUps: Int { self.log.components(separatedBy: "data connection up:").count - 1 }

    /// Waits for the `n`th bring-up (the daemon is a real process: this polls its log).
    func waitForBringUp(_ n: Int = 1, within timeout: Duration = .seconds(30)) -> Bool {
        Lab.waitFor(timeout) { self.bringUps >= n }
    }

    /// Resident set size in KiB, from /proc.
    var rssKiB: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// Sends one line to the emulator's control socket; returns its answer.
    func control(_ line: String) throws -> String {
        let fd = try UnixStream.connect(path: self.controlPath, nonblocking: false)
        _ = try Array((line + "\n").utf8).withUnsafeBytes { try fd.write($0) }
        var buffer = [UInt8](repeating: 0, count: 256)
        var requests = [PollRequest(fd: fd.rawValue, events: .readable)]
        _ = try Poll.wait(&requests, timeout: .seconds(5))
        guard case .processed(let n) = try buffer.withUnsafeMutableBytes({ try fd.read(into: $0) }) else { return "" }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }

    /// SIGTERM and wait: the daemon resets its flows, closes the modem's sockets, stops the
    /// emulator and removes the TUN. Returns its exit status.
    @discardableResult
    func stop() -> Sys.ExitStatus? {
        guard let p = self.process.take() else { return nil }
        try? p.send(.terminate)
        let deadline = MonotonicClock.now() + .seconds(10)
        while MonotonicClock.now() < deadline {
            if let status = try? p.tryWait() { return status }
            usleep(20_000)
        }
        try? p.send(.kill)
        return try? p.wait()
    }
}
