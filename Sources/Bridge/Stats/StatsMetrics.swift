import Buffers

/// The answer to `metrics`: the Prometheus text exposition format (0.0.4), then the line
/// `# EOF` so a line-reading client knows the reply is complete (a comment to Prometheus).
///
/// Every metric is named `tun2modem_...`; counters end in `_total`. Families without a
/// sample (no AT command sent yet) still carry their HELP and TYPE lines.
public enum StatsMetrics {
    public static func render(_ s: DaemonStats, flows: [FlowRow], now: Instant) -> String {
        var p = PrometheusWriter()

        p.family("tun2modem_uptime_seconds", .gauge, help: "Seconds since the daemon started.")
        p.sample("tun2modem_uptime_seconds", DurationSeconds.of(s.uptime(at: now)))

        p.family("tun2modem_tun_packets_total", .counter, help: "Packets read from (in) and written to (out) the TUN interface.")
        p.sample("tun2modem_tun_packets_total", labels: ["direction": "in"], s.tunPacketsIn)
        p.sample("tun2modem_tun_packets_total", labels: ["direction": "out"], s.tunPacketsOut)
        p.family("tun2modem_tun_bytes_total", .counter, help: "Bytes read from (in) and written to (out) the TUN interface.")
        p.sample("tun2modem_tun_bytes_total", labels: ["direction": "in"], s.tunBytesIn)
        p.sample("tun2modem_tun_bytes_total", labels: ["direction": "out"], s.tunBytesOut)

        p.family("tun2modem_modem_payload_bytes_total", .counter, help: "Payload bytes the modem accepted (sent) and delivered (received).")
        p.sample("tun2modem_modem_payload_bytes_total", labels: ["direction": "sent"], s.modemBytesSent)
        p.sample("tun2modem_modem_payload_bytes_total", labels: ["direction": "received"], s.modemBytesReceived)

        p.family("tun2modem_serial_bytes_total", .counter, help: "Bytes written to and read from the serial line, AT text included.")
        p.sample("tun2modem_serial_bytes_total", labels: ["direction": "write"], s.serialBytesWritten)
        p.sample("tun2modem_serial_bytes_total", labels: ["direction": "read"], s.serialBytesRead)
        p.family("tun2modem_serial_baud", .gauge, help: "Configured serial line speed in bit/s.")
        p.sample("tun2modem_serial_baud", s.serialBaud)
        p.family("tun2modem_serial_utilisation_ratio", .gauge, help: "Average share of the line's capacity used since start (8N1).")
        if let use = s.serialUtilisation(at: now) {
            p.sample("tun2modem_serial_utilisation_ratio", labels: ["direction": "write"], use.write)
            p.sample("tun2modem_serial_utilisation_ratio", labels: ["direction": "read"], use.read)
        }

        p.family("tun2modem_at_commands_total", .counter, help: "AT commands sent, by command.")
        for e in s.at.entries { p.sample("tun2modem_at_commands_total", labels: ["command": e.name], e.sent) }
        p.family("tun2modem_at_command_results_total", .counter, help: "AT command outcomes: ok, error or timeout.")
        for e in s.at.entries {
            p.sample("tun2modem_at_command_results_total", labels: ["command": e.name, "result": "ok"], e.ok)
            p.sample("tun2modem_at_command_results_total", labels: ["command": e.name, "result": "error"], e.errors)
            p.sample("tun2modem_at_command_results_total", labels: ["command": e.name, "result": "timeout"], e.timeouts)
        }
        p.family("tun2modem_at_command_latency_milliseconds", .histogram, help: "Time from command to final result.")
        for e in s.at.entries { p.histogram("tun2modem_at_command_latency_milliseconds", labels: ["command": e.name], e.latency) }

        p.family("tun2modem_urcs_total", .counter, help: "Unsolicited result codes, by kind.")
        for e in s.urcs.entries { p.sample("tun2modem_urcs_total", labels: ["kind": e.name], e.count) }

        p.family("tun2modem_send_fail_total", .counter, help: "Sends the modem refused (SEND FAIL, buffer full).")
        p.sample("tun2modem_send_fail_total", s.sendFail)
        p.family("tun2modem_send_retries_total", .counter, help: "Sends tried again after a refusal.")
        p.sample("tun2modem_send_retries_total", s.sendRetries)

        p.family("tun2modem_drops_total", .counter, help: "Packets dropped or flows refused, by reason.")
        for reason in DropReason.allCases { p.sample("tun2modem_drops_total", labels: ["reason": reason.name], s.drops[reason]) }

        p.family("tun2modem_flows_open", .gauge, help: "Open flows, by protocol and state.")
        for g in StatsJSON.openByState(flows) {
            p.sample("tun2modem_flows_open", labels: ["protocol": g.proto.name, "state": g.state], g.count)
        }
        p.family("tun2modem_flows_opened_total", .counter, help: "Flows opened since start, by protocol.")
        for proto in FlowRow.Transport.allCases { p.sample("tun2modem_flows_opened_total", labels: ["protocol": proto.name], s.flowsOpened[proto]) }
        p.family("tun2modem_flows_closed_total", .counter, help: "Flows closed, by reason.")
        for e in s.flowCloses.entries { p.sample("tun2modem_flows_closed_total", labels: ["reason": e.name], e.count) }

        p.family("tun2modem_admission_queue_length", .gauge, help: "Flows waiting for a modem socket.")
        p.sample("tun2modem_admission_queue_length", s.admissionQueueLength)
        p.family("tun2modem_admission_waits_total", .counter, help: "Flows that had to wait for a modem socket.")
        p.sample("tun2modem_admission_waits_total", s.admissionWaits)
        p.family("tun2modem_admission_timeouts_total", .counter, help: "Flows reset after waiting too long for a modem socket.")
        p.sample("tun2modem_admission_timeouts_total", s.admissionTimeouts)
        p.family("tun2modem_admission_rejects_total", .counter, help: "Flows reset because the admission queue was full.")
        p.sample("tun2modem_admission_rejects_total", s.admissionRejects)

        p.family("tun2modem_modem_socket_in_use", .gauge, help: "1 while the modem socket id carries a flow.")
        for id in 0..<s.modemSockets.count {
            p.sample("tun2modem_modem_socket_in_use", labels: ["id": String(id)], s.modemSockets.inUse[id] ? 1 : 0)
        }

        p.family("tun2modem_udp_shared_sessions", .gauge, help: "UDP sessions riding the one shared UDP socket.")
        p.sample("tun2modem_udp_shared_sessions", s.sharedUDPSessions)
        p.family("tun2modem_udp_shared_collisions_total", .counter,
                 help: "UDP sessions given their own socket: another session already used their remote endpoint.")
        p.sample("tun2modem_udp_shared_collisions_total", s.sharedUDPCollisions)

        p.family("tun2modem_dns_queries_total", .counter, help: "DNS queries answered through the modem or the cache.")
        p.sample("tun2modem_dns_queries_total", s.dnsQueries)
        p.family("tun2modem_dns_cache_hits_total", .counter, help: "DNS queries answered from the cache.")
        p.sample("tun2modem_dns_cache_hits_total", s.dnsCacheHits)
        p.family("tun2modem_dns_failures_total", .counter, help: "DNS queries that failed.")
        p.sample("tun2modem_dns_failures_total", s.dnsFailures)

        p.family("tun2modem_icmp_echo_total", .counter, help: "ICMP echo requests from apps, and their outcomes.")
        p.sample("tun2modem_icmp_echo_total", labels: ["result": "request"], s.icmpEchoRequests)
        p.sample("tun2modem_icmp_echo_total", labels: ["result": "reply"], s.icmpEchoReplies)
        p.sample("tun2modem_icmp_echo_total", labels: ["result": "failure"], s.icmpEchoFailures)

        let m = s.modem
        p.family("tun2modem_link_up", .gauge, help: "1 while the data connection through the modem is up.")
        p.sample("tun2modem_link_up", m.link == .up ? 1 : 0)
        p.family("tun2modem_modem_info", .gauge, help: "The modem's identity and state, as labels; always 1.")
        p.sample("tun2modem_modem_info", labels: ["model": m.model, "firmware": m.firmware, "link": m.link.rawValue,
                                                  "registration": m.registration, "ip": m.ip, "interface": m.interface], 1)
        p.family("tun2modem_modem_signal_dbm", .gauge, help: "Signal strength from AT+CSQ, in dBm (absent when unknown).")
        if let dbm = m.signalDBm { p.sample("tun2modem_modem_signal_dbm", dbm) }
        p.family("tun2modem_modem_reboots_total", .counter, help: "Modem restarts seen.")
        p.sample("tun2modem_modem_reboots_total", m.reboots)
        p.family("tun2modem_modem_network_losses_total", .counter, help: "Losses of the data connection.")
        p.sample("tun2modem_modem_network_losses_total", m.networkLosses)

        return p.output + StatsRequest.metricsTerminator + "\n"
    }
}
