import Testing
@testable import Bridge

@Suite struct StatsTextTests {
    @Test func statsTableShowsTheFigures() throws {
        let t = StatsText.stats(try JSONValue.parse(StatsJSON.stats(StatsFixture.stats(), flows: StatsFixture.flows(), now: StatsFixture.now)))
        #expect(t.contains("uptime         10s\n"))
        #expect(t.contains("tun in         10 packets, 1040 B\n"))
        #expect(t.contains("serial         115200 bit/s; written 11.3 KiB (10.0 %), read 5760 B (5.0 %)\n"))
        #expect(t.contains("  +QISEND      sent 1, ok 1, error 0, timeout 0, avg 12.0 ms\n"))
        #expect(t.contains("drops          3: bad_checksum 1, no_socket 2\n"))
        #expect(t.contains("modem sockets  2 of 4 in use: ids 1 3\n"))
        #expect(t.contains("shared UDP     5 sessions on one socket, 1 given their own\n"))
        #expect(t.contains("flows open     3 (tcp 2, udp 1, icmp 0); tcp/AWAITING-MODEM 1, tcp/ESTABLISHED 1, udp/open 1\n"))
    }

    @Test func flowsTableHasOneAlignedLinePerFlow() throws {
        let t = StatsText.flows(try JSONValue.parse(StatsJSON.flows(StatsFixture.flows(), now: StatsFixture.now)))
        let lines = t.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("PROTO  APP"))
        #expect(lines[1] == "tcp    10.0.0.2:43512  192.0.2.1:80      1       ESTABLISHED     600 B     3000 B  7s")
        #expect(lines[2].contains(" -       AWAITING-MODEM"))
        #expect(StatsText.flows(try JSONValue.parse(#"{"flows":[]}"#)).hasSuffix("(no open flows)\n"))
    }

    @Test func statusTableNamesLinkSignalAndLastError() throws {
        let t = StatsText.status(try JSONValue.parse(StatsJSON.status(StatsFixture.stats(), flows: StatsFixture.flows(), now: StatsFixture.now)))
        #expect(t.contains("link           up for 8s\n"))
        #expect(t.contains("signal         -67 dBm\n"))
        #expect(t.contains("ip             10.7.157.1, apn cmnet\n"))
        #expect(t.contains("last error     QIOPEN 1: 566 (socket open failed) (5s ago)\n"))
    }

    @Test func missingKeysShowADashNotACrash() throws {
        #expect(StatsText.stats(try JSONValue.parse("{}")).contains("tun in         - packets, -\n"))
        #expect(StatsText.status(try JSONValue.parse("[]")).contains("signal         unknown\n"))
    }

    @Test(arguments: [(0.0, "0s"), (59.9, "59s"), (187, "3m07s"), (7500, "2h05m"), (277_200, "3d05h"), (1e300, "-"), (-1, "-")])
    func durations(seconds: Double, text: String) { #expect(StatsText.duration(seconds) == text) }

    @Test func byteSizesAreExactBelowTenKiB() {
        #expect(StatsText.bytes(.number("10239")) == "10239 B")
        #expect(StatsText.bytes(.number("10240")) == "10.0 KiB")
        #expect(StatsText.bytes(.number("5242880")) == "5120.0 KiB")
        #expect(StatsText.bytes(.number("10485760")) == "10.00 MiB")
        #expect(StatsText.bytes(.string("x")) == "-")
        #expect(StatsText.fixed(1.25, 1) == "1.3")
        #expect(StatsText.fixed(-1.5, 1) == "-1.5")
        #expect(StatsText.fixed(0.05, 2) == "0.05")
        #expect(StatsText.fixed(7, 0) == "7")
    }
}
