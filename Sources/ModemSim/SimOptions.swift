/// Settings of one emulated modem that are not the model's own.
public struct SimOptions: Sendable {
    /// Seeds every random choice (URC timing, garbage bytes), so runs repeat.
    public var seed: UInt64 = 1
    /// Probability that a URC is held back and delivered between the next command's
    /// response lines and its final result code, as happens on real modems when a URC is
    /// raised while a command runs. 0 disables.
    public var urcDelayRate: Double = 0.05
    /// Processing time added to every command line.
    public var latency: Duration = .zero
    /// `AT+CGSN`.
    public var imei: String = "866123045678912"
    /// `AT+CIMI`.
    public var imsi: String = "460001234567890"
    /// The address the network gives the modem.
    public var localAddress: String = "10.7.157.1"
    /// The IPv6 address shown for IPv6 / IPv4v6 contexts.
    public var localIPv6Address: String = "240E:459:40D:A39::1"

    /// Unix time when the modem starts (the network gives a module its time); the I/O
    /// shell passes the host's clock. Tests keep the fixed default, 2019-01-01T00:00:00Z.
    public var wallClock: Int64 = 1_546_300_800

    public init() {}
}

