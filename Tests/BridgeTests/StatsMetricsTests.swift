import Testing
import Buffers
@testable import Bridge

@Suite struct StatsMetricsTests {
    @Test func metricsParseStrictlyAndCarryTheFigures() throws {
        let text = StatsMetrics.render(StatsFixture.stats(), flows: StatsFixture.flows(), now: StatsFixture.now)
        #expect(text.hasSuffix("\n# EOF\n"))
        let p = try PrometheusText.parse(text)
        #expect(p.value("tun2modem_uptime_seconds") == 10)
        #expect(p.value("tun2modem_tun_bytes_total", ["direction": "in"]) == 1_040)
        #expect(p.value("tun2modem_tun_packets_total", ["direction": "out"]) == 12)
        #expect(p.value("tun2modem_modem_payload_bytes_total", ["direction": "received"]) == 3_000)
        #expect(p.value("tun2modem_serial_utilisation_ratio", ["direction": "write"]) == 0.1)
        #expect(p.value("tun2modem_at_commands_total", ["command": "+QISEND"]) == 1)
        #expect(p.value("tun2modem_at_command_results_total", ["command": "+CSQ", "result": "timeout"]) == 1)
        #expect(p.value("tun2modem_at_command_latency_milliseconds_bucket", ["command": "+QISEND", "le": "10.0"]) == 0)
        #expect(p.value("tun2modem_at_command_latency_milliseconds_bucket", ["command": "+QISEND", "le": "20.0"]) == 1)
        #expect(p.value("tun2modem_drops_total", ["reason": "no_socket"]) == 2)
        #expect(p.value("tun2modem_flows_open", ["protocol": "tcp", "state": "ESTABLISHED"]) == 1)
        #expect(p.value("tun2modem_flows_opened_total", ["protocol": "udp"]) == 1)
        #expect(p.value("tun2modem_modem_socket_in_use", ["id": "3"]) == 1)
        #expect(p.value("tun2modem_modem_socket_in_use", ["id": "0"]) == 0)
        #expect(p.value("tun2modem_link_up") == 1)
        #expect(p.value("tun2modem_modem_signal_dbm") == -67)
        #expect(p.value("tun2modem_icmp_echo_total", ["result": "reply"]) == 3)
        #expect(p.types["tun2modem_at_command_latency_milliseconds"] == "histogram")
        for (name, type) in p.types where type == "counter" { #expect(name.hasSuffix("_total"), "\(name)") }
    }

    @Test func aFreshDaemonStillGivesEveryFamily() throws {
        let p = try PrometheusText.parse(StatsMetrics.render(DaemonStats(startedAt: .zero, baud: 115_200), flows: [], now: .zero))
        #expect(p.types.count >= 25)
        #expect(p.value("tun2modem_modem_signal_dbm") == nil)   // unknown: absent, not a made-up 0
        #expect(p.value("tun2modem_link_up") == 0)
    }

    @Test func labelValuesFromTheModemAreEscaped() throws {
        var s = DaemonStats(startedAt: .zero, baud: 9600)
        s.modem.model = "EC\"600\\E\nX"
        s.urcs.record("re\"cv")
        let p = try PrometheusText.parse(StatsMetrics.render(s, flows: [], now: .zero))
        #expect(p.samples.contains { $0.name == "tun2modem_modem_info" && $0.labels["model"] == "EC\"600\\E\nX" })
        #expect(p.value("tun2modem_urcs_total", ["kind": "re\"cv"]) == 1)
    }

    /// The parser in this test must itself refuse what a scraper refuses, or it proves nothing.
    @Test(arguments: [
        "x 1\n",                                           // undeclared family
        "# TYPE x counter\nx{a=\"b} 1\n",                  // unterminated label value
        "# TYPE x counter\nx 1\n# TYPE x counter\n",       // TYPE twice
        "# TYPE x counter\nx one\n",                       // bad value
        "# TYPE x counter\n9x 1\n",                        // bad name
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",   // not cumulative
        "# TYPE x counter\nx 1",                           // no final newline
    ])
    func strictParserRefusesBrokenText(text: String) {
        #expect(throws: (any Error).self) { try PrometheusText.parse(text) }
    }
}
