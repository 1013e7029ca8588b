import Foundation
import Testing
import Sys
@testable import Bridge

/// `tun2modem stats|flows|status` as a user runs them: the built binary against a real
/// stats socket served by this test, and against none.
@Suite(.serialized) struct StatsCLITests {
    @Test(arguments: ["stats", "flows", "status"])
    func daemonNotRunningExits69NamingTheSocket(command: String) throws {
        let path = temporarySocketPath("none")
        let r = try runProgram(builtExecutable("tun2modem"), [command, "--socket", path])
        #expect(r.status == 69)
        #expect(r.out.isEmpty)
        #expect(r.err == "tun2modem \(command): the daemon is not running: cannot connect to \(path) (No such file or directory); "
                + "start it with 'tun2modem run' or 'systemctl start tun2modem', or name its socket with --socket PATH\n")
    }

    /// A socket file left by a crashed daemon refuses connections: also "not running".
    @Test func staleSocketFileIsNotRunningToo() throws {
        let path = temporarySocketPath("stale")
        do { _ = try StatsServer(path: path) }   // gone again: its socket file is removed...
        // ...so make a stale one by hand: bind and close without unlinking.
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        close(fd)
        defer { unlink(path) }
        let r = try runProgram(builtExecutable("tun2modem"), ["status", "--socket", path])
        #expect(r.status == 69)
        #expect(r.err.contains("the daemon is not running: cannot connect to \(path) (Connection refused)"))
    }

    @Test(arguments: [["--watch", "0"], ["--json", "--prometheus"], ["extra"], ["--bogus"]])
    func usageErrorsExit64(arguments: [String]) throws {
        let r = try runProgram(builtExecutable("tun2modem"), ["stats", "--socket", "/nonexistent"] + arguments)
        #expect(r.status == 64)
        #expect(r.err.hasPrefix("tun2modem stats: "))
    }

    @Test func tablesJSONAndPrometheusFromARunningServer() throws {
        let path = temporarySocketPath("cli")
        let server = try StatsServer(path: path)
        func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: builtExecutable("tun2modem"))
            p.arguments = args + ["--socket", path]
            let outFile = NSTemporaryDirectory() + "cli-out-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            _ = FileManager.default.createFile(atPath: outFile, contents: nil)
            defer { try? FileManager.default.removeItem(atPath: outFile) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: outFile))
            p.standardOutput = handle
            p.standardError = handle
            try p.run()
            _ = serve(server, stats: StatsFixture.stats(), flows: StatsFixture.flows()) { !p.isRunning }
            p.waitUntilExit()
            try handle.close()
            return (p.terminationStatus, try String(contentsOfFile: outFile, encoding: .utf8), "")
        }
        let table = try run(["stats"])
        #expect(table.status == 0)
        #expect(table.out.contains("tun in         10 packets, 1040 B\n"))
        let json = try run(["flows", "--json"])
        #expect(json.status == 0)
        #expect(try JSONValue.parse(String(json.out.dropLast()))["flows"]?.array?.count == 3)
        let prom = try run(["stats", "--prometheus"])
        #expect(prom.status == 0)
        #expect(try PrometheusText.parse(prom.out).value("tun2modem_drops_total", ["reason": "no_socket"]) == 2)
        let status = try run(["status"])
        #expect(status.out.contains("signal         -67 dBm\n"))
        let flows = try run(["flows"])
        #expect(flows.out.split(separator: "\n").count == 4)
    }

    /// `--watch 1 --json`: one line per second while the daemon answers; when the daemon
    /// goes away the CLI says so and exits 69.
    @Test func watchRepeatsUntilTheDaemonGoes() throws {
        let path = temporarySocketPath("watch")
        var server: StatsServer? = try StatsServer(path: path)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: builtExecutable("tun2modem"))
        p.arguments = ["status", "--json", "--watch", "1", "--socket", path]
        let outFile = NSTemporaryDirectory() + "watch-out-\(getpid())", errFile = outFile + ".err"
        _ = FileManager.default.createFile(atPath: outFile, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outFile); try? FileManager.default.removeItem(atPath: errFile) }
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outFile))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
        try p.run()
        func lines() -> [String] { ((try? String(contentsOfFile: outFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        // Serve until three answers arrived (about two seconds: the CLI waits 1 s between).
        #expect(serve(server!, stats: StatsFixture.stats(), flows: [], for: .seconds(10)) { lines().count >= 3 })
        server = nil   // the daemon goes away: its socket closes and its file is removed
        p.waitUntilExit()
        #expect(p.terminationStatus == 69)
        #expect(lines().allSatisfy { (try? JSONValue.parse($0))?["link"]?.string == "up" })
        let err = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
        #expect(err.hasPrefix("tun2modem status: the daemon at \(path) closed the connection"), "\(err)")
    }
}
