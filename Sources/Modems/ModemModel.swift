/// The modems this driver speaks to, grouped by AT dialect.
public enum ModemModel: String, CaseIterable, Sendable {
    case ec600e = "EC600E"
    case ec800e = "EC800E"
    case bc26 = "BC26"
    case bc20 = "BC20"
    case sim7028 = "SIM7028"
    case ml302a = "ML302A"
    case ml305a = "ML305A"
    case ml307a = "ML307A"
    case ml307r = "ML307R"
    case mn316 = "MN316"
    case mn316a = "MN316A"
    case mn319 = "MN319"
    case mn326 = "MN326"

    public enum Dialect: String, Sendable {
        /// Quectel LTE Cat-1: QICSGP/QIACT, QIOPEN/QISEND/QIRD (EC600E-CN TCP/IP guide V1.0).
        case quectelCat1
        /// Quectel NB-IoT: no PDP commands, `+IP:` URC, `OK` before `SEND OK` (BC26 manual V1.0).
        case quectelNB
        /// SIMCom SIM7028: NETOPEN, CIPOPEN/CIPSEND/CIPRXGET (TCP/IP application note V1.04).
        case simcom
        /// China Mobile OneMO: MIPOPEN/MIPSEND/MIPRD, `+MIPURC` (TCP/IP user manual V5.0.0).
        case onemo
    }

    public var dialect: Dialect {
        switch self {
        case .ec600e, .ec800e: return .quectelCat1
        case .bc26, .bc20: return .quectelNB
        case .sim7028: return .simcom
        case .ml302a, .ml305a, .ml307a, .ml307r, .mn316, .mn316a, .mn319, .mn326: return .onemo
        }
    }

    /// What the model can do, from the manuals' limit tables.
    public var capabilities: ModemCapabilities {
        switch self {
        case .ec600e, .ec800e:
            // EC §2.4.7 connectID 0–11; §2.4.10 send ≤ 1460; §2.4.11 read ≤ 1500;
            // "UDP SERVICE" names the peer on each send (§2.4.10) and the sender on each read
            // (§2.4.11, §3.6); access_mode 2 is transparent.
            return ModemCapabilities(socketCount: 12, maxSend: 1460, maxRead: 1500,
                                     udpSharedSocket: true, hexOnly: false, transparentMode: true)
        case .bc26, .bc20:
            // BC §2.3.1 connectID 0–4; §2.3.4 data mode ≤ 1460 text; §2.3.5 read 1–512.
            return ModemCapabilities(socketCount: 5, maxSend: 1460, maxRead: 512,
                                     udpSharedSocket: false, hexOnly: false, transparentMode: false)
        case .sim7028:
            // SIM7028 note §2.1: link_num 0–1; CIPSEND length 1–1500; CIPRXGET=2 ≤ 1500;
            // CIPMODE=1 transparent. No shared UDP socket: its UDP sends name the peer
            // (`AT+CIPSEND=<l>,<len>,"ip",port`), but the buffer-mode read the driver must use
            // (`+CIPRXGET: 2,<l>,<len>,<rest>`; direct-push `+IPD` names no link) does not
            // name the sender, so replies of different peers could not be told apart.
            return ModemCapabilities(socketCount: 2, maxSend: 1500, maxRead: 1500,
                                     udpSharedSocket: false, hexOnly: false, transparentMode: true,
                                     sendRefusalIsFatal: true)
        case .ml302a, .ml305a, .ml307a, .ml307r:
            // OneMO §3: connect_id 0–5; MIPSEND inline ≤ 1460 (prompt up to the sndbuf default
            // 1460); MIPRD ≤ 4096; transparent via access_mode 1.
            return ModemCapabilities(socketCount: 6, maxSend: 1460, maxRead: 4096,
                                     udpSharedSocket: false, hexOnly: false, transparentMode: true)
        case .mn316, .mn326:
            // NB models take no `>` prompt, only inline data: binary must go as HEX.
            return ModemCapabilities(socketCount: 5, maxSend: 1460, maxRead: 4096,
                                     udpSharedSocket: false, hexOnly: true, transparentMode: false)
        case .mn316a, .mn319:
            return ModemCapabilities(socketCount: 4, maxSend: 1460, maxRead: 1460,
                                     udpSharedSocket: false, hexOnly: true, transparentMode: false)
        }
    }

    /// Finds the model in ATI / AT+CGMM text ("Quectel\nEC600E", "ML307R-DC", "SIM7028").
    /// The longest matching name wins, so "MN316A-D" is MN316A, not MN316.
    public static func detect(in text: String) -> ModemModel? {
        let upper = text.uppercased()
        var best: ModemModel?
        for model in ModemModel.allCases where upper.contains(model.rawValue) {
            if let b = best, b.rawValue.count >= model.rawValue.count { continue }
            best = model
        }
        return best
    }

    /// Parses a `--model` value (case-insensitive).
    public init?(name: String) {
        guard let m = ModemModel.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            return nil
        }
        self = m
    }
}

/// What a model can do, as data the bridge plans with.
public struct ModemCapabilities: Sendable, Equatable {
    /// Sockets the modem's stack holds at once (ids 0..<socketCount).
    public var socketCount: Int
    /// Most payload bytes one send command takes.
    public var maxSend: Int
    /// Most payload bytes one buffer-mode read returns.
    public var maxRead: Int
    /// One UDP socket can carry many peers, both ways: each send names its peer and each
    /// read names the datagram's sender (`openDatagramService` / `sendDatagram` /
    /// `.datagramReceived`). Only Quectel EC600E/EC800E "UDP SERVICE" (EC §2.4.7, §3.6).
    /// A modem whose sends name the peer but whose reads do not (SIM7028) does not qualify:
    /// replies from different peers would be indistinguishable.
    public var udpSharedSocket: Bool
    /// Payload can only travel as hex text (OneMO NB models have no `>` prompt).
    public var hexOnly: Bool
    /// The modem has a transparent (data) mode; this driver does not use it.
    public var transparentMode: Bool
    /// A send the modem cannot take whole ends the socket instead of meaning "try later"
    /// (SIM7028: cnf ≠ req makes the socket unusable, note §2.1.4). The bridge must pace
    /// sends to what the peer acknowledges rather than probe with them.
    public var sendRefusalIsFatal: Bool = false
}
