import Foundation
import Testing
import Sys

/// The benchmark's PPP baseline must itself carry every byte right, or the ratios it yields
/// mean nothing: its framing is checked offline, then kernel TCP runs across it in the lab.
@Suite(.serialized) struct PPPLinkTests {
    static let tool = Lab.repoRoot.appendingPathComponent("scripts/ppplink.py").path

    @Test func framingSelfTestPasses() throws {
        let r = try Lab.run(["python3", Self.tool, "--self-test"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("self-test passed"))
    }

    @Test(.enabled(if: Lab.available, "end-to-end needs root, /dev/net/tun and iproute2"))
    func kernelTCPCrossesTheLinkIntact() throws {
        let lab = try Lab(prefix: "e2eppp")
        let log = "/tmp/t2m-ppplink-\(getpid()).log"
        let link = try Lab.spawn(["python3", Self.tool, "--baud", "921600",
                                      "--a-name", "e2eppp-a", "--b-name", "e2eppp-b",
                                      "--a-netns", lab.app, "--a-addr", "198.51.100.1/30",
                                      "--b-netns", lab.net, "--b-addr", "198.51.100.2/30"], log: log)
        defer { try? link.send(.terminate); _ = try? link.wait() }
        #expect(Lab.waitFor(.seconds(10)) { (try? String(contentsOfFile: log, encoding: .utf8))?.contains("ppplink: up") == true })
        #expect(try lab.exec("app", ["ip", "route", "add", "192.0.2.0/24", "dev", "e2eppp-a"]).status == 0)
        // 64 KiB of seeded random data down; the server's X-SHA256 header must match the body.
        let r = try lab.exec("app", ["sh", "-c", "curl -sS -D /dev/stderr http://192.0.2.10/random/65536?seed=5 | sha256sum"], timeout: .seconds(30))
        #expect(r.status == 0, "\(r.output)")
        let lines = r.output.lowercased().split(whereSeparator: \.isNewline)
        let header = lines.first { $0.hasPrefix("x-sha256:") }.map { String($0.dropFirst("x-sha256:".count)).trimmingCharacters(in: .whitespaces) }
        let body = lines.last.map { String($0.prefix(64)) }
        #expect(header != nil && header == body, "\(r.output)")
    }
}

