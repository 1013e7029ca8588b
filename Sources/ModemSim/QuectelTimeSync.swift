import Buffers

/// `AT+QNTP` as both Quectel families answer it: `=<context>,"<server>"[,<port>[,<auto_set>]]`,
/// `OK`, then one URC `<prefix>: <err>[,"<time>"]` (EC §2.4.17, BC §2.3.9). One query at a
/// time. The families differ only in checking the context and in the time's year: EC prints
/// four digits, BC two.
struct QuectelTimeSync {
    /// The query in flight: the command's name is the URC's prefix (`+QNTP`).
    private(set) var pending: (query: Int, prefix: String, server: String, port: Int, autoSet: Bool)?

    /// Takes the optional `<port>` and `<auto_set>` (arguments 2 and 3, after the context and
    /// the server the family has checked) and starts the query; the error to answer otherwise.
    mutating func start(_ c: ATCommand, server: String, modem: SimModem) -> QuectelError? {
        let a = c.arguments
        var port = 123, autoSet = 1
        if a.count > 2 {
            guard let p = a[2].integer, (1...65535).contains(p) else { return .invalidParameters }
            port = p
        }
        if a.count > 3 {
            guard let v = a[3].integer, (0...1).contains(v) else { return .invalidParameters }
            autoSet = v
        }
        guard self.pending == nil else { return .busy }
        let q = modem.newQuery()
        self.pending = (q, c.name, server, port, autoSet == 1)
        modem.perform(.timeSync(query: q, server: server, port: port, timeoutSeconds: 20))
        return nil
    }

    /// The network's answer to query `q`: the URC, and the modem's clock set when asked.
    /// Returns the error to record (timeout), nil otherwise; another query's answer is ignored.
    mutating func synced(_ q: Int, unix: Int64?, modem: SimModem, now: Instant, fourDigitYear: Bool) -> QuectelError? {
        guard let pending = self.pending, pending.query == q else { return nil }
        self.pending = nil
        guard let unix else {
            modem.urc("\(pending.prefix): \(QuectelError.timeout.rawValue)")
            return .timeout
        }
        if pending.autoSet { modem.clock.set(unixSeconds: unix, at: now) }
        modem.urc("\(pending.prefix): 0,\"\(modem.clock.text(of: unix, fourDigitYear: fourDigitYear))\"")
        return nil
    }

    mutating func reset() { self.pending = nil }
}
