/// The readable tables `tun2modem stats`, `flows` and `status` print, made from the JSON
/// the daemon sent (so the CLI needs nothing but the socket). A key the daemon did not
/// send shows as `-` rather than failing: an older daemon still gets a table.
public enum StatsText {
    public static func stats(_ j: JSONValue) -> String {
        var rows: [(String, String)] = []
        rows.append(("uptime", duration(j["uptime_seconds"]?.double)))
        let tun = j["tun"]
        rows.append(("tun in", "\(n(tun?["packets_in"])) packets, \(bytes(tun?["bytes_in"]))"))
        rows.append(("tun out", "\(n(tun?["packets_out"])) packets, \(bytes(tun?["bytes_out"]))"))
        let m = j["modem"]
        rows.append(("modem payload", "sent \(bytes(m?["bytes_sent"])), received \(bytes(m?["bytes_received"]))"))
        rows.append(("send fail", "\(n(m?["send_fail"])), retries \(n(m?["send_retries"]))"))
        let s = j["serial"]
        rows.append(("serial", "\(n(s?["baud"])) bit/s; written \(bytes(s?["bytes_written"])) (\(percent(s?["utilisation_write"]))), "
                     + "read \(bytes(s?["bytes_read"])) (\(percent(s?["utilisation_read"])))"))
        let at = j["at"]
        rows.append(("AT commands", "\(n(at?["sent"])) sent, \(n(at?["timeouts"])) timed out"))
        for c in at?["commands"]?.array ?? [] {
            let latency = c["latency_ms"]
            var avg = "-"
            if let count = latency?["count"]?.double, count > 0, let sum = latency?["sum"]?.double {
                avg = fixed(sum / count, 1) + " ms"
            }
            rows.append(("  " + (c["name"]?.string ?? "?"),
                         "sent \(n(c["sent"])), ok \(n(c["ok"])), error \(n(c["errors"])), timeout \(n(c["timeouts"])), avg \(avg)"))
        }
        rows.append(("URCs", list(j["urcs"])))
        let drops = j["drops"]
        let dropList = (drops?.members ?? []).filter { $0.0 != "total" && ($0.1.uint64 ?? 0) > 0 }
        rows.append(("drops", n(drops?["total"]) + (dropList.isEmpty ? "" : ": " + dropList.map { "\($0.0) \(n($0.1))" }.joined(separator: ", "))))
        let f = j["flows"]
        let byState = (f?["open_by_state"]?.array ?? []).map {
            ($0["protocol"]?.string ?? "?") + "/" + ($0["state"]?.string ?? "?") + " " + n($0["count"])
        }
        rows.append(("flows open", "\(n(f?["open"])) (\(list(f?["open_by_protocol"], all: true)))"
                     + (byState.isEmpty ? "" : "; " + byState.joined(separator: ", "))))
        rows.append(("flows opened", list(f?["opened"], all: true)))
        rows.append(("flows closed", list(f?["closed"])))
        let a = j["admission"]
        rows.append(("admission", "queue \(n(a?["queue_length"])), waits \(n(a?["waits"])), timeouts \(n(a?["timeouts"])), rejects \(n(a?["rejects"]))"))
        let ms = j["modem_sockets"]
        let used = (ms?["ids"]?.array ?? []).filter { $0["in_use"]?.bool == true }.map { n($0["id"]) }
        rows.append(("modem sockets", "\(n(ms?["in_use"])) of \(n(ms?["count"])) in use" + (used.isEmpty ? "" : ": ids " + used.joined(separator: " "))))
        if let shared = ms?["shared_udp_sessions"] {
            rows.append(("shared UDP", "\(n(shared)) sessions on one socket, \(n(ms?["shared_udp_collisions"])) given their own"))
        }
        let d = j["dns"]
        rows.append(("DNS", "\(n(d?["queries"])) queries, \(n(d?["cache_hits"])) cache hits, \(n(d?["failures"])) failures"))
        let e = j["icmp_echo"]
        rows.append(("ICMP echo", "\(n(e?["requests"])) requests, \(n(e?["replies"])) replies, \(n(e?["failures"])) failures"))
        return table(rows)
    }

    public static func status(_ j: JSONValue) -> String {
        var rows: [(String, String)] = []
        let since = j["link_since_seconds"]?.double.map { " for " + duration($0) } ?? ""
        rows.append(("link", (j["link"]?.string ?? "-") + since))
        let model = [j["model"]?.string, j["firmware"]?.string.map { $0.isEmpty ? "" : "firmware " + $0 }]
            .compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
        rows.append(("modem", model.isEmpty ? "-" : model))
        rows.append(("imei", text(j["imei"])))
        rows.append(("device", "\(text(j["device"])) at \(n(j["baud"])) bit/s"))
        rows.append(("registration", text(j["registration"])))
        rows.append(("signal", j["signal_dbm"]?.int.map { "\($0) dBm" } ?? "unknown"))
        rows.append(("ip", text(j["ip"]) + (j["apn"]?.string.map { $0.isEmpty ? "" : ", apn " + $0 } ?? "")))
        rows.append(("interface", "\(text(j["interface"])), mtu \(n(j["mtu"]))"))
        rows.append(("flows", "\(n(j["flows_open"])) open; modem sockets \(n(j["modem_sockets_in_use"])) of \(n(j["modem_sockets"])) in use; "
                     + "\(n(j["admission_queue_length"])) waiting"))
        rows.append(("reboots", "\(n(j["reboots"])), network losses \(n(j["network_losses"]))"))
        if let err = j["last_error"]?.string {
            rows.append(("last error", err + (j["last_error_age_seconds"]?.double.map { " (" + duration($0) + " ago)" } ?? "")))
        } else {
            rows.append(("last error", "none"))
        }
        rows.append(("uptime", duration(j["uptime_seconds"]?.double)))
        return table(rows)
    }

    public static func flows(_ j: JSONValue) -> String {
        let header = ["PROTO", "APP", "REMOTE", "SOCKET", "STATE", "FROM-APP", "TO-APP", "AGE"]
        var lines = [header]
        for f in j["flows"]?.array ?? [] {
            lines.append([
                f["protocol"]?.string ?? "?", text(f["app"]), text(f["remote"]),
                f["modem_socket"]?.int.map(String.init) ?? "-", text(f["state"]),
                bytes(f["bytes_from_app"]), bytes(f["bytes_to_app"]), duration(f["age_seconds"]?.double),
            ])
        }
        let widths = header.indices.map { c in lines.map { $0[c].count }.max() ?? 0 }
        var out = ""
        for line in lines {
            var row = ""
            for (c, cell) in line.enumerated() {
                row += cell
                if c < line.count - 1 { row += String(repeating: " ", count: widths[c] - cell.count + 2) }
            }
            out += row + "\n"
        }
        if lines.count == 1 { out += "(no open flows)\n" }
        return out
    }

    // MARK: - cells

    /// Labels in a column of 15; a longer label (a long AT command name) pushes its value right.
    static func table(_ rows: [(String, String)]) -> String {
        rows.map { $0.0 + String(repeating: " ", count: max(2, 15 - $0.0.count)) + $0.1 }.joined(separator: "\n") + "\n"
    }

    static func n(_ v: JSONValue?) -> String {
        guard let v, case .number(let text) = v else { return "-" }
        return text
    }

    static func text(_ v: JSONValue?) -> String {
        guard let s = v?.string, !s.isEmpty else { return "-" }
        return s
    }

    /// `1234 B`, `12.1 KiB`, `3.40 MiB`: exact below 10 KiB, so small counts stay checkable.
    static func bytes(_ v: JSONValue?) -> String {
        guard let count = v?.uint64 else { return n(v) }
        if count < 10 * 1024 { return "\(count) B" }
        let kib = Double(count) / 1024
        if kib < 10 * 1024 { return fixed(kib, 1) + " KiB" }
        return fixed(kib / 1024, 2) + " MiB"
    }

    static func percent(_ v: JSONValue?) -> String {
        guard let x = v?.double else { return "-" }
        return fixed(x * 100, 1) + " %"
    }

    /// `42s`, `3m07s`, `2h05m`, `3d04h`.
    static func duration(_ seconds: Double?) -> String {
        // Above ~31 000 years the number is nonsense from a broken reply, and Int(_:) would trap.
        guard let seconds, seconds.isFinite, seconds >= 0, seconds < 1e12 else { return "-" }
        let s = Int(seconds)
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + two(s % 60) + "s" }
        if s < 86400 { return "\(s / 3600)h" + two(s % 3600 / 60) + "m" }
        return "\(s / 86400)d" + two(s % 86400 / 3600) + "h"
    }

    static func list(_ v: JSONValue?, all: Bool = false) -> String {
        let members = (v?.members ?? []).filter { all || ($0.1.uint64 ?? 0) > 0 }
        return members.isEmpty ? "none" : members.map { "\($0.0) \(n($0.1))" }.joined(separator: ", ")
    }

    private static func two(_ x: Int) -> String { x < 10 ? "0\(x)" : "\(x)" }

    /// `x` with `places` decimals, without Foundation's formatting.
    static func fixed(_ x: Double, _ places: Int) -> String {
        var scale = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = (x * Double(scale)).rounded()
        guard scaled.magnitude < 1e17 else { return String(x) }
        let value = Int(scaled)
        let sign = value < 0 ? "-" : ""
        let whole = value.magnitude / UInt(scale)
        guard places > 0 else { return sign + String(whole) }
        let frac = String(value.magnitude % UInt(scale))
        return sign + String(whole) + "." + String(repeating: "0", count: places - frac.count) + frac
    }
}
