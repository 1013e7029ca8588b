import Bridge
import Modems

/// What `probe` prints, as text or as one JSON object with the keys of issue 3.
struct ProbeReport {
    var connection: DataConnection
    var capabilities: ModemCapabilities
    var model: ModemModel?

    var modelName: String { self.model?.rawValue ?? self.connection.identity.modelText }

    func json() -> String {
        var w = JSONWriter()
        w.beginObject()
        w.field("model", self.modelName)
        w.field("firmware", self.connection.identity.firmware)
        w.field("imei", self.connection.identity.imei)
        w.field("imsi", self.connection.identity.imsi)
        w.field("rssi_dbm", self.connection.signal?.dBm)
        w.field("registration", self.connection.registration.name)
        w.field("apn", self.connection.apn)
        w.field("ip", self.connection.localIP)
        w.field("sockets", self.capabilities.socketCount)
        w.field("max_send", self.capabilities.maxSend)
        w.field("max_read", self.capabilities.maxRead)
        w.endObject()
        return w.output + "\n"
    }

    func text() -> String {
        let c = self.connection
        let signal = c.signal.map { s in s.dBm.map { "\($0) dBm (CSQ \(s.rssi))" } ?? "unknown (CSQ \(s.rssi))" } ?? "unknown"
        let rows: [(String, String)] = [
            ("model", self.modelName + (c.identity.modelText.isEmpty || c.identity.modelText == self.modelName
                                        ? "" : " (\(c.identity.modelText))")),
            ("firmware", c.identity.firmware),
            ("imei", c.identity.imei),
            ("imsi", c.identity.imsi),
            ("signal", signal),
            ("registration", c.registration.name),
            ("apn", c.apn.isEmpty ? "(modem default)" : c.apn),
            ("ip", c.localIP),
            ("sockets", String(self.capabilities.socketCount)),
            ("max send", "\(self.capabilities.maxSend) bytes"),
            ("max read", "\(self.capabilities.maxRead) bytes"),
        ]
        return rows.map { $0.0 + String(repeating: " ", count: 14 - $0.0.count) + $0.1 }.joined(separator: "\n") + "\n"
    }
}
