import AT

/// The TS 27.007 steps of a data context that several dialects share: the APN of context 1
/// (`+CGDCONT`, §10.1.1) and its address (`+CGPADDR`, §10.1.14).
enum PDPContext {
    /// `AT+CGDCONT=1,"IP","<apn>"`, or `AT+CGDCONT?` to read the APN when none was given.
    static func apnCommand(_ apn: String, tag: DriverOp, timeout: Duration) -> ATCommand<DriverOp>? {
        if apn.isEmpty {
            return ATCommand(ATCommandLine("AT+CGDCONT?"), tag: tag, timeout: timeout, infoPrefixes: ["+CGDCONT:"])
        }
        guard let line = try? ATCommandLine("AT+CGDCONT", [.int(1), .quoted("IP"), .quoted(apn)]) else { return nil }
        return ATCommand(line, tag: tag, timeout: timeout)
    }

    /// What `apnCommand`'s answer leads to, and the APN the modem holds when it was read.
    static func apnResult(_ response: ATResponse<DriverOp>, apn: String) -> (BringUpNext, String?) {
        if apn.isEmpty {
            // Reading the APN is a courtesy: a modem that will not tell still has one.
            return (.next, Self.apn(in: response.info))
        }
        guard response.result.isSuccess else {
            return (.fail(BringUpFailure(step: .dataContext, reason: "the modem refused the APN (AT+CGDCONT)",
                                         hint: "--apn")), nil)
        }
        return (.next, nil)
    }

    /// The APN of context 1 in `+CGDCONT: 1,"IP","<apn>",...` lines.
    static func apn(in info: [ATInfo]) -> String? {
        for i in info {
            var f = ATFields(i.line)
            if f.int() == 1 {
                _ = f.next()
                return f.string()
            }
        }
        return nil
    }

    /// The address in `+CGPADDR: 1,"10.1.2.3"` (quoted or not); nil when none is assigned.
    static func address(in info: [ATInfo]) -> String? {
        for i in info {
            var f = ATFields(i.line)
            _ = f.int()
            if let ip = f.string(), !ip.isEmpty, ip != "0.0.0.0" { return ip }
        }
        return nil
    }
}
