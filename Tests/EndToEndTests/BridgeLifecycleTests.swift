import Foundation
import Testing
import Buffers
import Sys

/// The daemon outlives whatever the modem does: network loss, a vanished serial line (the
/// emulator killed), and it refuses to start with a clear exit code when it cannot.
@Suite struct BridgeLifecycleTests {
    @Test(.enabled(if: Lab.available, "end-to-end needs root, /dev/net/tun and iproute2"), .timeLimit(.minutes(3)))
    func networkLossAndAVanishedSerialLineAreSurvived() throws {
        let lab = try Lab(prefix: "b-life")
        let daemon = try BridgeDaemon(lab: lab, model: "EC600E")
        defer { daemon.stop() }
        try #require(daemon.waitForBringUp(), "no bring-up:\n\(daemon.log)")

        // The network drops the data connection: the daemon says so and comes back with it.
        #expect(try daemon.control("netloss").hasPrefix("ok"))
        #expect(Lab.waitFor(.seconds(10)) { daemon.log.contains("the network dropped the data connection") },
                "\(daemon.log)")
        #expect(try daemon.control("netback").hasPrefix("ok"))
        #expect(daemon.waitForBringUp(2, within: .seconds(30)), "no bring-up after netback:\n\(daemon.log)")
        let afterNetback = Self.downloadWorks(lab, within: .seconds(10))
        #expect(afterNetback, "no download after the network came back")

        // The serial line vanishes (the emulator dies): flows reset, the line is reopened
        // (a fresh emulator), the modem brought up, traffic flows again.
        let emulator = try #require(Self.childEmulator(of: daemon.pid), "no emulator child of \(daemon.pid)")
        kill(emulator, SIGKILL)
        #expect(Lab.waitFor(.seconds(10)) { daemon.log.contains("serial device reopened") }, "\(daemon.log)")
        #expect(daemon.waitForBringUp(3, within: .seconds(30)), "no bring-up after the emulator died:\n\(daemon.log)")
        let afterReopen = Self.downloadWorks(lab, within: .seconds(10))
        #expect(afterReopen, "no download after the serial line came back")
        #expect(kill(daemon.pid, 0) == 0, "the daemon exited")
        #expect(daemon.stop() == .exited(0), "\(daemon.log)")
    }

    @Test(.enabled(if: Lab.available, "end-to-end needs root, /dev/net/tun and iproute2"))
    func runExplainsWhyItCannotStart() throws {
        let lab = try Lab(prefix: "b-cli")
        let daemon = BridgeDaemon.daemonPath
        // Usage errors: 64 and the cause.
        let noModem = try lab.exec("app", [daemon, "run"])
        #expect(noModem.status == 64 && noModem.output.contains("--device PATH"), "\(noModem.output)")
        let badModel = try lab.exec("app", [daemon, "run", "--sim", "NOKIA3310"])
        #expect(badModel.status == 64 && badModel.output.contains("unknown model"), "\(badModel.output)")
        let badRoute = try lab.exec("app", [daemon, "run", "--sim", "EC600E", "--route", "nowhere"])
        #expect(badRoute.status == 64 && badRoute.output.contains("--route"), "\(badRoute.output)")
        // Unavailable: a device that is not there is 69, with the fix.
        let missing = try lab.exec("app", [daemon, "run", "--device", "/dev/ttyT2M-missing"])
        #expect(missing.status == 69 && missing.output.contains("fix:"), "\(missing.output)")
        // And the TUN it made for that attempt is gone again.
        let links = try lab.exec("app", ["ip", "link", "show"])
        #expect(!links.output.contains("tun2modem0"), "\(links.output)")
        let help = try lab.exec("app", [daemon, "run", "--help"])
        #expect(help.status == 0 && help.output.contains("--sim MODEL") && help.output.contains("198.18.0.1/30"))
    }

    /// `--user`: the daemon (and the emulator it starts after the drop) run unprivileged,
    /// still stop cleanly, and the TUN goes with them.
    @Test(.enabled(if: Lab.available, "end-to-end needs root, /dev/net/tun and iproute2"))
    func dropsToUserAndStillStopsCleanly() throws {
        let lab = try Lab(prefix: "b-user")
        let log = "/tmp/t2m-e2e-b-user-\(getpid()).log"
        let daemon = try lab.spawn("app", [BridgeDaemon.daemonPath, "run", "--sim", "EC600E", "--user", "nobody",
                                           "--stats-socket", "/tmp/t2m-e2e-b-user-\(getpid()).sock"], log: log)
        let pid = daemon.pid
        let text = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(Lab.waitFor(.seconds(20)) { text().contains("data connection up:") }, "\(text())")
        #expect(text().contains("running as nobody"), "\(text())")
        let owner = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("Uid:") }
        #expect(owner?.contains("65534") == true, "\(owner.map(String.init) ?? "no status")")
        let emulator = BridgeLifecycleTests.childEmulator(of: pid)
        #expect(emulator != nil)
        try daemon.send(.terminate)
        let deadline = MonotonicClock.now() + .seconds(10)
        var status: Sys.ExitStatus?
        while status == nil, MonotonicClock.now() < deadline {
            status = try daemon.tryWait()
            if status == nil { usleep(20_000) }
        }
        if status == nil { try? daemon.send(.kill); _ = try? daemon.wait() }
        #expect(status == .exited(0), "\(text())")
        if let emulator { #expect(kill(emulator, 0) != 0, "the emulator outlived the daemon") }
        #expect(try lab.exec("app", ["ip", "link", "show"]).output.contains("tun2modem0") == false)
    }

    static func downloadWorks(_ lab: borrowing Lab, within limit: Duration) -> Bool {
        let deadline = MonotonicClock.now() + limit
        while MonotonicClock.now() < deadline {
            let r = try? lab.exec("app", ["curl", "-sS", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}",
                                          "http://192.0.2.10/random/65536?seed=9"], timeout: .seconds(5))
            if r?.status == 0 && r?.output.hasSuffix("200") == true { return true }
        }
        return false
    }

    /// The emulator the daemon started: its child named tun2modem-sim.
    static func childEmulator(of pid: pid_t) -> pid_t? {
        guard let list = try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8) else { return nil }
        for child in list.split(separator: " ").compactMap({ pid_t($0) }) {
            let comm = (try? String(contentsOfFile: "/proc/\(child)/comm", encoding: .utf8)) ?? ""
            if comm.hasPrefix("tun2modem-sim") { return child }
        }
        return nil
    }
}
