/// What the modem says it is (ATI / AT+CGMM, AT+CGMR, AT+CGSN, AT+CIMI).
public struct ModemIdentity: Sendable, Equatable {
    public var model: ModemModel?
    /// The model text as the modem printed it.
    public var modelText: String
    public var firmware: String
    public var imei: String
    public var imsi: String

    public init(model: ModemModel? = nil, modelText: String = "", firmware: String = "",
                imei: String = "", imsi: String = "") {
        self.model = model
        self.modelText = modelText
        self.firmware = firmware
        self.imei = imei
        self.imsi = imsi
    }
}

/// Network registration, from `+CEREG` / `+CGREG` / `+CREG` `<stat>` (3GPP TS 27.007 §7.2).
public enum RegistrationState: Int, Sendable, Equatable {
    case notRegistered = 0
    case home = 1
    case searching = 2
    case denied = 3
    case unknown = 4
    case roaming = 5

    public var isRegistered: Bool { self == .home || self == .roaming }

    /// The word `probe` prints.
    public var name: String {
        switch self {
        case .notRegistered: return "not-registered"
        case .home: return "home"
        case .searching: return "searching"
        case .denied: return "denied"
        case .unknown: return "unknown"
        case .roaming: return "roaming"
        }
    }
}

/// Signal quality from `+CSQ: <rssi>,<ber>` (3GPP TS 27.007 §8.5).
public struct SignalQuality: Sendable, Equatable {
    /// The raw `<rssi>`: 0–31, or 99 when unknown.
    public var rssi: Int
    public var ber: Int

    public init(rssi: Int, ber: Int) {
        self.rssi = rssi
        self.ber = ber
    }

    /// dBm per TS 27.007: 0 → −113 or less, 1 → −111, 2…30 → −109…−53, 31 → −51 or more;
    /// nil for 99 (not known or not detectable) and anything out of range.
    public var dBm: Int? {
        guard (0...31).contains(self.rssi) else { return nil }
        return -113 + 2 * self.rssi
    }
}
