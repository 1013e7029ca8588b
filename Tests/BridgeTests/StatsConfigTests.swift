import Foundation
import Testing
import Buffers
@testable import Bridge

@Suite struct StatsConfigTests {
    let table = OptionTable([
        OptionSpec("config", .value(placeholder: "PATH"), "config file", inConfigFile: false),
        OptionSpec("device", .value(placeholder: "PATH"), "serial device"),
        OptionSpec("baud", .value(placeholder: "N"), "line rate"),
        OptionSpec("route", .repeated(placeholder: "CIDR"), "route"),
        OptionSpec("log-level", .value(placeholder: "LEVEL"), "log level"),
        OptionSpec("rtscts", .flag, "flow control"),
    ])

    func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "t2m-conf-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func fileValuesUnderTheCommandLine() throws {
        let path = try write("# modem\ndevice = /dev/ttyUSB2\nbaud=9600   # slow\nroute = default\nroute = 10.0.0.0/8\nrtscts = yes\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cli = try table.parse(arguments: ["--config", path, "--baud", "921600"])
        let o = try ConfigFile.load(table: table, commandLine: cli)
        #expect(o.value("device") == "/dev/ttyUSB2")
        #expect(o.value("baud") == "921600")
        #expect(o.origin("baud") == "--baud")
        #expect(o.origin("device") == "\(path):2")
        #expect(o.all("route") == ["default", "10.0.0.0/8"])
        #expect(o.has("rtscts"))
    }

    @Test func missingDefaultFileIsFineMissingExplicitFileIsAnError() throws {
        let cli = try table.parse(arguments: ["--device", "/dev/ttyS1"])
        let o = try ConfigFile.load(table: table, commandLine: cli, defaultPath: "/nonexistent/tun2modem.conf")
        #expect(o.value("device") == "/dev/ttyS1")
        let explicit = try table.parse(arguments: ["--config", "/nonexistent/x.conf"])
        #expect(throws: UsageError("config file /nonexistent/x.conf: No such file or directory")) {
            try ConfigFile.load(table: table, commandLine: explicit)
        }
    }

    @Test func badLinesNameFileAndLine() throws {
        let path = try write("device = /dev/ttyS1\n\nspeed = 9600\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cli = try table.parse(arguments: ["--config", path])
        #expect(throws: UsageError("\(path):3: unknown key 'speed'; see --help")) { try ConfigFile.load(table: table, commandLine: cli) }
    }

    @Test func binaryOrHugeFilesAreRefused() throws {
        let big = try write(String(repeating: "# padding\n", count: 10_000))
        let binary = NSTemporaryDirectory() + "t2m-bin-\(getpid())"
        try Data([0x66, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: binary))
        defer { try? FileManager.default.removeItem(atPath: big); try? FileManager.default.removeItem(atPath: binary) }
        #expect(throws: UsageError("config file \(big): larger than 64 KiB; is it the right file?")) {
            try ConfigFile.load(table: table, commandLine: try table.parse(arguments: ["--config", big]))
        }
        #expect(throws: UsageError("config file \(binary): not UTF-8 text")) {
            try ConfigFile.load(table: table, commandLine: try table.parse(arguments: ["--config", binary]))
        }
    }

    @Test func reloadPlanSplitsLiveFromRestart() throws {
        let old = try table.parse(configText: "device = /dev/ttyS1\nlog-level = info\nroute = default\n", path: "a")
        let new = try table.parse(configText: "device = /dev/ttyS2\nlog-level = debug\nroute = default\nbaud = 9600\n", path: "b")
        let plan = ConfigReload.plan(old: old, new: new)
        #expect(plan.live == ["log-level"])
        #expect(plan.needsRestart == ["baud", "device"])
        #expect(plan.summary == "reload: applied --log-level; not applied (needs a restart) --baud, --device")
        #expect(ConfigReload.plan(old: old, new: old).summary == "reload: no changes")
        // A removed key is a change too.
        let fewer = try table.parse(configText: "device = /dev/ttyS1\nlog-level = info\n", path: "c")
        #expect(ConfigReload.plan(old: old, new: fewer).needsRestart == ["route"])
    }
}

extension StatsConfigTests {
    /// SIGHUP: the file edited between start and reload; the command line still wins.
    @Test func rereadAfterTheFileChanged() throws {
        let path = try write("device = /dev/ttyS1\nlog-level = info\nbaud = 9600\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cli = try table.parse(arguments: ["--config", path, "--baud", "115200"])
        let current = try ConfigFile.load(table: table, commandLine: cli)
        try "device = /dev/ttyS2\nlog-level = debug\nbaud = 19200\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (options, plan) = try ConfigReload.reread(table: table, commandLine: cli, current: current).get()
        #expect(options.value("log-level") == "debug")
        #expect(options.value("baud") == "115200")             // the command line still overrides
        #expect(plan.live == ["log-level"])
        #expect(plan.needsRestart == ["device"])               // baud did not change in effect
        try "device = /dev/ttyS2\nlog-level debug\n".write(toFile: path, atomically: true, encoding: .utf8)
        let broken = ConfigReload.reread(table: table, commandLine: cli, current: current)
        #expect(throws: UsageError("\(path):2: expected 'key = value', got 'log-level debug'")) { try broken.get() }
    }
}

@Suite struct StatsSystemdTests {
    final class Sent: @unchecked Sendable { var messages: [String] = [] }

    @Test func readyThenPingsAtHalfTheIntervalThenStopping() {
        let sent = Sent()
        var life = SystemdLifecycle(watchdogInterval: .seconds(20)) { sent.messages.append($0) }
        let t0 = Instant(nanoseconds: 5_000_000_000)
        #expect(life.nextPing == nil)            // no pings before ready: a stuck bring-up is not kept alive
        let sent1 = life.ping(now: t0 + .seconds(60))
        #expect(!sent1)
        life.ready(now: t0, status: "modem up\n10.7.157.1")
        #expect(life.nextPing == t0 + .seconds(10))
        let sent2 = life.ping(now: t0 + .seconds(9))
        #expect(!sent2)
        let sent3 = life.ping(now: t0 + .seconds(10))
        #expect(sent3)
        #expect(life.nextPing == t0 + .seconds(20))
        // A late loop sends one ping, not a burst, and counts from now.
        let sent4 = life.ping(now: t0 + .seconds(45))
        #expect(sent4)
        let sent5 = life.ping(now: t0 + .seconds(45))
        #expect(!sent5)
        #expect(life.nextPing == t0 + .seconds(55))
        life.reloading(now: t0 + .seconds(50))
        life.stopping()
        #expect(life.nextPing == nil)
        #expect(sent.messages == ["READY=1\nSTATUS=modem up 10.7.157.1", "WATCHDOG=1", "WATCHDOG=1",
                                  "RELOADING=1\nMONOTONIC_USEC=55000000", "STOPPING=1"])
    }

    @Test func withoutWatchdogNoPings() {
        let sent = Sent()
        var life = SystemdLifecycle(watchdogInterval: nil) { sent.messages.append($0) }
        life.ready(now: .zero)
        #expect(life.nextPing == nil)
        let sent6 = life.ping(now: .zero + .seconds(1000))
        #expect(!sent6)
        #expect(sent.messages == ["READY=1"])
    }

    /// The real path: messages reach a datagram socket named by $NOTIFY_SOCKET.
    @Test func sendsToTheNotifySocket() throws {
        let path = NSTemporaryDirectory() + "t2m-notify-\(getpid())"
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd); unlink(path) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        try #require(bound == 0)
        setenv("NOTIFY_SOCKET", path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        var life = SystemdLifecycle()
        life.ready(now: .zero, status: "up")
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(n > 0)
        #expect(String(decoding: buffer[0..<max(0, n)], as: UTF8.self) == "READY=1\nSTATUS=up")
    }
}
