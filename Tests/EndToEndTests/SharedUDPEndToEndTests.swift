import Foundation
import Testing

/// EC600E's UDP SERVICE end to end: many app UDP sessions to distinct remote endpoints ride
/// one modem socket, every echo comes back to the right session, and a session to a remote
/// endpoint already on the shared socket takes a socket of its own (one local port cannot
/// tell two sessions' replies from one peer apart).
@Suite struct SharedUDPEndToEndTests {
    @Test(.enabled(if: Lab.available, "end-to-end needs root, /dev/net/tun and iproute2"), .timeLimit(.minutes(2)))
    func manyUDPSessionsShareOneModemSocket() throws {
        let lab = try Lab(prefix: BridgeDaemon.labPrefix("udps"))
        // A real UART's pace and a modem that takes its time over each command, so datagrams
        // queue up in the modem and are read back one after another.
        let daemon = try BridgeDaemon(lab: lab, model: "EC600E",
                                      extraArguments: ["--baud", "115200", "--sim-arg=--latency-ms=20"])
        defer { daemon.stop() }
        try #require(daemon.waitForBringUp(), "no bring-up:\n\(daemon.log)")
        let started = Date()

        // 20 sessions at once (20 app ports) to 20 remote endpoints (labsrv's UDP echo on
        // 7 and 7001-7019), three datagrams each.
        let ports = ["7"] + (7001...7019).map(String.init)
        let many = try lab.exec("app", ["python3", BridgeDaemon.client, "udp-many", "192.0.2.10", "3"] + ports,
                                timeout: .seconds(60))
        #expect(many.status == 0, "20 sessions: \(many.output)")
        print("EC600E shared UDP: \(many.output.trimmingCharacters(in: .whitespacesAndNewlines))")

        // The sessions live on (idle timeout 5 minutes): one modem socket holds all 20.
        let stats = try StatsSocket.json(try StatsSocket.request(daemon.statsPath, "stats"))
        let sockets = stats["modem_sockets"] as? [String: Any]
        let drops = stats["drops"] as? [String: Any]
        #expect(sockets?["in_use"] as? Int == 1, "modem sockets: \(String(describing: sockets))")
        #expect(sockets?["shared_udp_sessions"] as? Int == 20 && sockets?["shared_udp_collisions"] as? Int == 0,
                "modem sockets: \(String(describing: sockets))")
        #expect(drops?["udp_unknown_sender"] as? Int == 0, "drops: \(String(describing: drops))")

        // Two more sessions to port 7, already on the shared socket: each gets its own socket.
        let same = try lab.exec("app", ["python3", BridgeDaemon.client, "udp-many", "192.0.2.10", "2", "7", "7"],
                                timeout: .seconds(30))
        #expect(same.status == 0, "same remote: \(same.output)")
        let after = try StatsSocket.json(try StatsSocket.request(daemon.statsPath, "stats"))
        let socketsAfter = after["modem_sockets"] as? [String: Any]
        #expect(socketsAfter?["in_use"] as? Int == 3, "modem sockets: \(String(describing: socketsAfter))")
        #expect(socketsAfter?["shared_udp_sessions"] as? Int == 20 && socketsAfter?["shared_udp_collisions"] as? Int == 2,
                "modem sockets: \(String(describing: socketsAfter))")

        let seconds = Date().timeIntervalSince(started)
        print("EC600E shared UDP: \(String(format: "%.1f", seconds)) s after bring-up")
        #expect(!daemon.log.contains(" error "), "daemon logged errors:\n\(daemon.log)")
        #expect(daemon.stop() == .exited(0), "\(daemon.log.suffix(2000))")
    }
}
