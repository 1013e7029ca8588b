import Testing
@testable import Bridge

@Suite struct PrometheusWriterTests {
    @Test func familiesSamplesAndEscaping() {
        var w = PrometheusWriter()
        w.family("tun2modem_drops_total", .counter, help: "Packets dropped, by reason.\nBackslash \\ too")
        w.sample("tun2modem_drops_total", labels: ["reason": "bad\"checksum\\\n"], 3 as UInt64)
        w.family("tun2modem_signal_dbm", .gauge, help: "Signal")
        w.sample("tun2modem_signal_dbm", -71)
        w.sample("tun2modem_signal_dbm", labels: ["x": "y"], Double.infinity)
        #expect(w.output == """
        # HELP tun2modem_drops_total Packets dropped, by reason.\\nBackslash \\\\ too
        # TYPE tun2modem_drops_total counter
        tun2modem_drops_total{reason="bad\\"checksum\\\\\\n"} 3
        # HELP tun2modem_signal_dbm Signal
        # TYPE tun2modem_signal_dbm gauge
        tun2modem_signal_dbm -71
        tun2modem_signal_dbm{x="y"} +Inf

        """)
    }

    @Test func histogramBucketsAreCumulativeAndEndInInf() {
        var h = Histogram(upperBounds: [1, 10, 100])
        for v in [0.5, 5, 5, 50, 500] { h.observe(v) }
        var w = PrometheusWriter()
        w.histogram("lat_ms", labels: ["cmd": "QISEND"], h)
        #expect(w.output == """
        lat_ms_bucket{cmd="QISEND",le="1.0"} 1
        lat_ms_bucket{cmd="QISEND",le="10.0"} 3
        lat_ms_bucket{cmd="QISEND",le="100.0"} 4
        lat_ms_bucket{cmd="QISEND",le="+Inf"} 5
        lat_ms_sum{cmd="QISEND"} 560.5
        lat_ms_count{cmd="QISEND"} 5

        """)
    }

    @Test(arguments: [("tun2modem_x", true), ("_a:b9", true), ("9abc", false), ("a-b", false), ("", false)])
    func metricNamesAreChecked(name: String, valid: Bool) {
        #expect(PrometheusWriter.isValidName(name) == valid)
    }
}
