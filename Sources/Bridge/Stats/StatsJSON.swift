import Buffers

/// The JSON answers to `stats`, `flows` and `status`: one compact object, no newline.
///
/// Keys are snake_case and stable (scripts and `jq` read them; man tun2modem.8 lists them).
/// Counters are integers; durations are seconds as numbers with millisecond precision.
public enum StatsJSON {
    public static func stats(_ s: DaemonStats, flows: [FlowRow], now: Instant) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("uptime_seconds", seconds(s.uptime(at: now)))

        w.key("tun"); w.beginObject()
        w.field("packets_in", s.tunPacketsIn)
        w.field("bytes_in", s.tunBytesIn)
        w.field("packets_out", s.tunPacketsOut)
        w.field("bytes_out", s.tunBytesOut)
        w.endObject()

        w.key("modem"); w.beginObject()
        w.field("bytes_sent", s.modemBytesSent)
        w.field("bytes_received", s.modemBytesReceived)
        w.field("send_fail", s.sendFail)
        w.field("send_retries", s.sendRetries)
        w.endObject()

        w.key("serial"); w.beginObject()
        w.field("baud", s.serialBaud)
        w.field("bytes_written", s.serialBytesWritten)
        w.field("bytes_read", s.serialBytesRead)
        let use = s.serialUtilisation(at: now)
        w.key("utilisation_write"); if let use { w.double(rounded(use.write, 4)) } else { w.null() }
        w.key("utilisation_read"); if let use { w.double(rounded(use.read, 4)) } else { w.null() }
        w.endObject()

        w.key("at"); w.beginObject()
        w.field("sent", s.at.totalSent)
        w.field("timeouts", s.at.totalTimeouts)
        w.key("commands"); w.beginArray()
        for e in s.at.entries {
            w.beginObject()
            w.field("name", e.name)
            w.field("sent", e.sent)
            w.field("ok", e.ok)
            w.field("errors", e.errors)
            w.field("timeouts", e.timeouts)
            w.key("latency_ms"); w.beginObject()
            w.field("count", e.latency.count)
            w.field("sum", rounded(e.latency.sum, 3))
            w.key("buckets"); w.beginArray()
            var cumulative: UInt64 = 0
            for (bound, count) in zip(e.latency.upperBounds, e.latency.counts) {
                cumulative += count
                w.beginArray(); w.double(bound); w.int(cumulative); w.endArray()
            }
            w.endArray()
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()

        w.key("urcs"); counters(s.urcs, &w)

        w.key("drops"); w.beginObject()
        for reason in DropReason.allCases { w.field(reason.name, s.drops[reason]) }
        w.field("total", s.drops.total)
        w.endObject()

        w.key("flows"); w.beginObject()
        w.field("open", flows.count)
        w.key("open_by_protocol"); w.beginObject()
        for p in FlowRow.Transport.allCases { w.field(p.name, flows.count { $0.proto == p }) }
        w.endObject()
        w.key("open_by_state"); w.beginArray()
        for group in openByState(flows) {
            w.beginObject()
            w.field("protocol", group.proto.name)
            w.field("state", group.state)
            w.field("count", group.count)
            w.endObject()
        }
        w.endArray()
        w.key("opened"); w.beginObject()
        for p in FlowRow.Transport.allCases { w.field(p.name, s.flowsOpened[p]) }
        w.endObject()
        w.key("closed"); counters(s.flowCloses, &w)
        w.endObject()

        w.key("admission"); w.beginObject()
        w.field("queue_length", s.admissionQueueLength)
        w.field("waits", s.admissionWaits)
        w.field("timeouts", s.admissionTimeouts)
        w.field("rejects", s.admissionRejects)
        w.endObject()

        w.key("modem_sockets"); w.beginObject()
        w.field("count", s.modemSockets.count)
        w.field("in_use", s.modemSockets.usedCount)
        w.field("shared_udp_sessions", s.sharedUDPSessions)
        w.field("shared_udp_collisions", s.sharedUDPCollisions)
        w.key("ids"); w.beginArray()
        for id in 0..<s.modemSockets.count {
            w.beginObject()
            w.field("id", id)
            w.field("in_use", s.modemSockets.inUse[id])
            w.field("opens", s.modemSockets.opens[id])
            w.endObject()
        }
        w.endArray()
        w.endObject()

        w.key("dns"); w.beginObject()
        w.field("queries", s.dnsQueries)
        w.field("cache_hits", s.dnsCacheHits)
        w.field("failures", s.dnsFailures)
        w.endObject()

        w.key("icmp_echo"); w.beginObject()
        w.field("requests", s.icmpEchoRequests)
        w.field("replies", s.icmpEchoReplies)
        w.field("failures", s.icmpEchoFailures)
        w.endObject()

        w.endObject()
        return w.output
    }

    public static func flows(_ rows: [FlowRow], now: Instant) -> String {
        var w = JSONWriter()
        w.beginObject()
        w.key("flows"); w.beginArray()
        for r in rows {
            w.beginObject()
            w.field("protocol", r.proto.name)
            w.field("app", r.app)
            w.field("remote", r.remote)
            w.field("modem_socket", r.modemSocket)
            w.field("state", r.state)
            w.field("bytes_from_app", r.bytesFromApp)
            w.field("bytes_to_app", r.bytesToApp)
            w.field("age_seconds", seconds(now < r.openedAt ? .zero : now - r.openedAt))
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.output
    }

    public static func status(_ s: DaemonStats, flows: [FlowRow], now: Instant) -> String {
        let m = s.modem
        var w = JSONWriter()
        w.beginObject()
        w.field("link", m.link.rawValue)
        w.key("link_since_seconds")
        if let since = m.linkSince { w.double(seconds(now < since ? .zero : now - since)) } else { w.null() }
        w.field("uptime_seconds", seconds(s.uptime(at: now)))
        w.field("device", m.device)
        w.field("model", m.model)
        w.field("firmware", m.firmware)
        w.field("imei", m.imei)
        w.field("registration", m.registration)
        w.field("signal_dbm", m.signalDBm)
        w.field("ip", m.ip)
        w.field("apn", m.apn)
        w.field("interface", m.interface)
        w.field("mtu", m.mtu)
        w.field("baud", s.serialBaud)
        w.field("reboots", m.reboots)
        w.field("network_losses", m.networkLosses)
        w.field("last_error", m.lastError)
        w.key("last_error_age_seconds")
        if let at = m.lastErrorAt { w.double(seconds(now < at ? .zero : now - at)) } else { w.null() }
        w.field("flows_open", flows.count)
        w.field("modem_sockets", s.modemSockets.count)
        w.field("modem_sockets_in_use", s.modemSockets.usedCount)
        w.field("admission_queue_length", s.admissionQueueLength)
        w.endObject()
        return w.output
    }

    /// Open flows grouped by protocol and state, in a stable order (protocol, then state).
    static func openByState(_ flows: [FlowRow]) -> [(proto: FlowRow.Transport, state: String, count: Int)] {
        var groups: [(proto: FlowRow.Transport, state: String, count: Int)] = []
        for f in flows {
            if let i = groups.firstIndex(where: { $0.proto == f.proto && $0.state == f.state }) {
                groups[i].count += 1
            } else {
                groups.append((f.proto, f.state, 1))
            }
        }
        return groups.sorted { ($0.proto.rawValue, $0.state) < ($1.proto.rawValue, $1.state) }
    }

    private static func counters(_ c: NamedCounters, _ w: inout JSONWriter) {
        w.beginObject()
        for e in c.entries { w.field(e.name, e.count) }
        w.endObject()
    }

    static func seconds(_ d: Duration) -> Double { rounded(DurationSeconds.of(d), 3) }

    static func rounded(_ x: Double, _ places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (x * scale).rounded() / scale
    }
}
