import Buffers

/// Where the daemon's link through the modem stands.
public enum LinkState: String, Sendable, CaseIterable {
    /// Started; the serial port is not open yet.
    case starting
    /// Running the bring-up steps (sync, SIM, registration, data context...).
    case bringingUp = "bringing-up"
    /// The data connection is up: flows are carried.
    case up
    /// The data connection is down and the daemon waits before trying again.
    case down
    /// After a reboot or network loss: sockets are gone and bring-up runs again.
    case recovering
}

/// What `status` reports about the modem: set by the bridge when the driver tells it.
public struct ModemStatus: Sendable, Equatable {
    /// Set with `setLink(_:at:)`, so `linkSince` always goes with it.
    public private(set) var link: LinkState = .starting
    public var device = ""
    public var model = ""
    public var firmware = ""
    public var imei = ""
    /// `home`, `roaming`, `searching`, `denied`, `not registered`, `unknown`.
    public var registration = "unknown"
    /// From `AT+CSQ`; nil when unknown (CSQ 99).
    public var signalDBm: Int?
    public var ip = ""
    public var apn = ""
    /// The TUN interface's name.
    public var interface = ""
    public var mtu = 0
    public var reboots: UInt64 = 0
    public var networkLosses: UInt64 = 0
    public private(set) var lastError: String?
    public private(set) var lastErrorAt: Instant?
    /// When `link` last changed (the bridge sets it with `setLink`).
    public private(set) var linkSince: Instant?

    public init() {}

    /// Records the latest error the daemon met with the modem (shown until replaced).
    public mutating func recordError(_ text: String, at now: Instant) {
        self.lastError = text
        self.lastErrorAt = now
    }

    /// Changes `link`, remembering when.
    public mutating func setLink(_ state: LinkState, at now: Instant) {
        if state != self.link || self.linkSince == nil { self.linkSince = now }
        self.link = state
    }
}
