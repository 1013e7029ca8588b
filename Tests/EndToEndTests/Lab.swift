import Foundation
import Testing
import Sys
import Buffers

/// The netns lab of ARCHITECTURE.md, driven through `scripts/lab`, for end-to-end tests.
///
/// Each test gets its own prefix, so suites can run side by side and a crashed run leaves
/// namespaces that the next `up` of the same prefix removes. Traffic stays inside them.
struct Lab: ~Copyable {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repoRoot.appendingPathComponent("scripts/lab").path

    /// Why end-to-end tests cannot run here, or nil when they can. Printed by every skip,
    /// so a run without root says so instead of passing silently.
    static let unavailableReason: String? = {
        if getuid() != 0 { return "not root: network namespaces and TUN need root" }
        if !FileManager.default.fileExists(atPath: "/dev/net/tun") { return "no /dev/net/tun" }
        if (try? run(["/bin/sh", "-c", "command -v ip"]).status) != 0 { return "iproute2 (ip) is not installed: run scripts/deps" }
        return nil
    }()

    static var available: Bool {
        if let reason = unavailableReason {
            print("SKIP end-to-end: \(reason)")
            return false
        }
        return true
    }

    let prefix: String
    var app: String { "\(prefix)-app" }
    var net: String { "\(prefix)-net" }

    init(prefix: String) throws {
        self.prefix = prefix
        let r = try Self.run([Self.script, "up", "--prefix", prefix])
        guard r.status == 0 else { throw LabError.command("lab up", r.output) }
    }

    deinit { _ = try? Self.run([Self.script, "down", "--prefix", self.prefix]) }

    /// Runs `argv` in a namespace to completion.
    func exec(_ side: String, _ argv: [String], timeout: Duration = .seconds(60)) throws -> (status: Int32, output: String) {
        try Self.run(["ip", "netns", "exec", side == "app" ? self.app : self.net] + argv, timeout: timeout)
    }

    /// Starts `argv` in a namespace and leaves it running; the caller stops it.
    func spawn(_ side: String, _ argv: [String], log: String) throws -> ChildProcess {
        try Self.spawn(["ip", "netns", "exec", side == "app" ? self.app : self.net] + argv, log: log)
    }

    /// Starts `argv` (looked up in PATH) with stdout and stderr going to `log`.
    static func spawn(_ argv: [String], log: String) throws -> ChildProcess {
        try ChildProcess.spawn("/bin/sh", arguments: ["-c", #"log=$1; shift; exec "$@" >"$log" 2>&1"#, "sh", log] + argv,
                               captureStandardOutput: false)
    }

    /// Runs a command (looked up in PATH) to completion with a deadline; the output is
    /// stdout and stderr together. A command past its deadline is killed and reported.
    @discardableResult
    static func run(_ argv: [String], timeout: Duration = .seconds(60)) throws -> (status: Int32, output: String) {
        var child = try ChildProcess.spawn("/usr/bin/env", arguments: argv, mergeStandardError: true)
        let deadline = MonotonicClock.now() + timeout
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var timedOut = false
        if let out = child.standardOutput.take() {
            reading: while true {
                let left = deadline - MonotonicClock.now()
                if left <= .zero { timedOut = true; break }
                var requests = [PollRequest(fd: out.rawValue, events: .readable)]
                guard try Poll.wait(&requests, timeout: left) > 0 else { continue }
                switch try buffer.withUnsafeMutableBytes({ try out.read(into: $0) }) {
                case .processed(0): break reading
                case .processed(let n): output += buffer[0..<n]
                case .wouldBlock: continue
                }
            }
        }
        if timedOut { try? child.send(.kill) }
        let status = try child.wait()
        let text = String(decoding: output, as: UTF8.self)
        if timedOut { throw LabError.timeout(argv.joined(separator: " "), text) }
        switch status {
        case .exited(let code): return (code, text)
        case .signalled(let signal): return (128 + signal.rawValue, text)
        }
    }

    /// Waits until `condition` holds, polling, for at most `timeout`. Used only to wait for
    /// real processes outside the test's control (a server's first log line), never to pace
    /// protocol logic.
    static func waitFor(_ timeout: Duration, _ condition: () -> Bool) -> Bool {
        let deadline = MonotonicClock.now() + timeout
        while MonotonicClock.now() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}

enum LabError: Error, CustomStringConvertible {
    case command(String, String)
    case timeout(String, String)
    var description: String {
        switch self {
        case .command(let what, let out): "\(what) failed: \(out)"
        case .timeout(let what, let out): "timed out: \(what): \(out)"
        }
    }
}
