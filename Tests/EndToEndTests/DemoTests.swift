import Foundation
import Testing

/// The README's quick start is `scripts/demo`: it must work as written, so CI runs it.
@Suite struct DemoTests {
    @Test(.enabled(if: Lab.available, "end-to-end needs root, /dev/net/tun and iproute2"))
    func readmeQuickStartRunsTheDaemonOnTheEmulator() throws {
        let script = Lab.repoRoot.appendingPathComponent("scripts/demo").path
        // --no-build: `swift test` has built the binaries and holds the build folder.
        let r = try Lab.run([script, "--no-build"], timeout: .seconds(240))
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("data connection up"))
        #expect(r.output.contains("demo: sha256 ok"))
        #expect(r.output.contains("3 received"))
        #expect(r.output.contains("\n192.0.2.10\n"))
    }
}
