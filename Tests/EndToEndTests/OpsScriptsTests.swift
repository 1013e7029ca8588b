import Foundation
import Testing
import Sys

/// scripts/install and scripts/policy-route, run for real: the install into a staging
/// prefix (its unit checked by systemd-analyze), the policy routing inside a network
/// namespace this test creates, checked with `ip route get` per uid and per mark.
@Suite(.serialized) struct OpsScriptsTests {
    static let root = Lab.repoRoot.path

    static func builtDirectory() -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("tun2modem").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.path
    }

    @Test func installStagesBinariesManPagesAndAUnitSystemdAccepts() throws {
        let prefix = NSTemporaryDirectory() + "t2m-install-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let r = try Lab.run([Self.root + "/scripts/install", "--no-build", "--from", Self.builtDirectory(), "--prefix", prefix])
        #expect(r.status == 0, "\(r.output)")
        for (file, mode) in [("bin/tun2modem", 0o755), ("bin/tun2modem-sim", 0o755), ("bin/tun2modem-policy-route", 0o755),
                             ("share/man/man8/tun2modem.8", 0o644), ("share/man/man5/tun2modem.conf.5", 0o644),
                             ("lib/systemd/system/tun2modem.service", 0o644),
                             ("share/doc/tun2modem/tun2modem.conf.example", 0o644)] {
            let attributes = try FileManager.default.attributesOfItem(atPath: prefix + "/" + file)
            #expect((attributes[.posixPermissions] as? Int) == mode, "\(file)")
        }
        let unit = try String(contentsOfFile: prefix + "/lib/systemd/system/tun2modem.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=\(prefix)/bin/tun2modem run\n"))
        #expect(unit.contains("Type=notify\n") && unit.contains("WatchdogSec=30\n"))
        #expect(!unit.contains("@BINDIR@"))
        // The installed binary runs.
        let help = try Lab.run([prefix + "/bin/tun2modem", "--help"])
        #expect(help.output.contains("stats"))
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            print("SKIP systemd-analyze verify: systemd-analyze is not installed")
            return
        }
        let verify = try Lab.run(["env", "MANPATH=\(prefix)/share/man", "systemd-analyze", "verify",
                                  prefix + "/lib/systemd/system/tun2modem.service"])
        #expect(verify.status == 0, "\(verify.output)")
    }

    @Test func installStagesUnderDestdirButNamesThePrefix() throws {
        let destdir = NSTemporaryDirectory() + "t2m-destdir-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: destdir) }
        let r = try Lab.run(["env", "DESTDIR=\(destdir)", Self.root + "/scripts/install", "--no-build", "--from", Self.builtDirectory(),
                             "--prefix", "/usr"])
        #expect(r.status == 0, "\(r.output)")
        let unit = try String(contentsOfFile: destdir + "/usr/lib/systemd/system/tun2modem.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/tun2modem run\n"))
        #expect(FileManager.default.isExecutableFile(atPath: destdir + "/usr/bin/tun2modem"))
    }

    @Test(arguments: [
        (["--prefix", "relative"], 64, "--prefix must be absolute, got 'relative'"),
        (["--bogus"], 64, "unknown argument '--bogus'"),
        (["--no-build", "--from", "/nonexistent"], 69, "/nonexistent/tun2modem is missing"),
    ])
    func installRefusesBadArguments(arguments: [String], status: Int32, message: String) throws {
        let r = try Lab.run([Self.root + "/scripts/install"] + arguments)
        #expect(r.status == status, "\(r.output)")
        #expect(r.output.contains(message), "\(r.output)")
    }

    @Test func policyRouteSendsOneUidAndOneMarkThroughTheInterface() throws {
        guard Lab.available else { return }
        let ns = "t2mops-\(getpid() % 100000)"
        _ = try? Lab.run(["ip", "netns", "del", ns])
        try #require(try Lab.run(["ip", "netns", "add", ns]).status == 0)
        defer { _ = try? Lab.run(["ip", "netns", "del", ns]) }
        func inNS(_ argv: [String]) throws -> (status: Int32, output: String) { try Lab.run(["ip", "netns", "exec", ns] + argv) }
        let script = Self.root + "/scripts/policy-route"

        // No interface yet: a clear refusal.
        let early = try inNS([script, "add", "--uid", "990"])
        #expect(early.status == 69)
        #expect(early.output.contains("no interface tun2modem0"))

        #expect(try inNS(["ip", "tuntap", "add", "mode", "tun", "name", "tun2modem0"]).status == 0)
        #expect(try inNS(["ip", "link", "set", "tun2modem0", "up"]).status == 0)
        #expect(try inNS([script, "add", "--uid", "990"]).status == 0)
        #expect(try inNS([script, "add", "--uid", "990"]).status == 0)   // twice: no error, no duplicate rule
        #expect(try inNS([script, "add", "--fwmark", "0x64", "--priority", "1001"]).status == 0)

        let rules = try inNS(["ip", "rule", "show"]).output
        #expect(rules.components(separatedBy: "uidrange 990-990 lookup 100").count == 2)
        #expect(rules.contains("1001:\tfrom all fwmark 0x64 lookup 100"))
        #expect(try inNS(["ip", "route", "get", "192.0.2.1", "uid", "990"]).output.contains("dev tun2modem0"))
        #expect(try inNS(["ip", "route", "get", "192.0.2.1", "mark", "0x64"]).output.contains("dev tun2modem0"))
        #expect(try inNS(["ip", "-6", "route", "get", "2001:db8::1", "uid", "990"]).output.contains("dev tun2modem0"))
        // Everyone else keeps the namespace's own routing (here: none at all).
        #expect(try inNS(["ip", "route", "get", "192.0.2.1", "uid", "991"]).status != 0)

        #expect(try inNS([script, "del", "--uid", "990"]).status == 0)
        #expect(try inNS(["ip", "route", "get", "192.0.2.1", "uid", "990"]).status != 0)
        // The mark's rule still uses table 100, so its route stays.
        #expect(try inNS(["ip", "route", "get", "192.0.2.1", "mark", "0x64"]).output.contains("dev tun2modem0"))
        #expect(try inNS([script, "del", "--fwmark", "0x64", "--priority", "1001"]).status == 0)
        #expect(try inNS(["ip", "route", "show", "table", "100"]).output.isEmpty)
        #expect(!(try inNS(["ip", "rule", "show"]).output.contains("lookup 100")))
    }

    @Test(arguments: [["add"], ["add", "--uid", "x"], ["add", "--table", "254", "--uid", "1"], ["frob"], ["add", "--fwmark", "0xZZ"]])
    func policyRouteRefusesBadArguments(arguments: [String]) throws {
        let r = try Lab.run([Self.root + "/scripts/policy-route"] + arguments)
        #expect(r.status == 64, "\(r.output)")
    }
}
