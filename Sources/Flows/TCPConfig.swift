/// The tunables of every TCP endpoint; the defaults suit an app on the same host (TUN) and
/// a modem behind a serial line.
public struct TCPConfig: Hashable, Sendable {
    /// The MSS announced to the app: the TUN MTU minus IPv4 and TCP headers (RFC 9293
    /// §3.7.1). The flow table takes 20 more off for IPv6 flows.
    public var maxSegmentSize: Int = 1460
    /// The app's MSS when its SYN has none (RFC 9293 §3.7.1: 536).
    public var defaultPeerSegmentSize: Int = 536
    /// Bytes from the app held until the modem accepts them (per flow).
    public var receiveBufferCapacity: Int = 256 * 1024
    /// Bytes from the modem held until the app acknowledges them (per flow).
    public var sendBufferCapacity: Int = 256 * 1024
    /// RTO before any RTT sample (RFC 6298 §2.1).
    public var initialRTO: Duration = .seconds(1)
    /// The RTO floor; see `TCPRetransmissionTimer` for why it is below RFC 6298's 1 s.
    public var minimumRTO: Duration = .milliseconds(200)
    /// The RTO ceiling (RFC 6298 §2.5 allows one of at least 60 s).
    public var maximumRTO: Duration = .seconds(60)
    /// Retransmissions of the same data before the flow is reset (RFC 9293 §3.8.3, R2).
    public var maxRetransmissions: Int = 10
    /// SYN-ACK retransmissions before giving up on the handshake.
    public var maxSynAckRetransmissions: Int = 5
    /// TIME-WAIT: far shorter than 2·MSL, since the app's kernel is on this host and no old
    /// duplicate can wander a network for minutes; bounded so the table drains.
    public var timeWait: Duration = .seconds(2)
    /// Idle time before the first keepalive probe (RFC 1122 §4.2.3.6 allows a configurable
    /// interval; far below Linux's 2 h, because a vanished app pins memory and a modem socket).
    public var keepaliveIdle: Duration = .seconds(120)
    /// Between unanswered probes. Keep it above 0.5 s: Linux answers out-of-window
    /// segments (which probes are) at most once per net.ipv4.tcp_invalid_ratelimit (500 ms).
    public var keepaliveInterval: Duration = .seconds(15)
    /// Unanswered probes before the flow is reset.
    public var keepaliveProbes: Int = 4
    /// How long bytes ACKed to the app may wait for the modem before the flow is reset.
    public var modemStallTimeout: Duration = .seconds(120)
    /// How long the handshake may be held for the modem's socket to open before the app
    /// gets RST. The bridge normally answers sooner (its AT command has its own timeout);
    /// this bounds a flow whose answer never comes. Linux gives up on a SYN after ~127 s
    /// (tcp_syn_retries = 6).
    public var modemOpenTimeout: Duration = .seconds(130)
    /// Offer window scaling when the app does (RFC 7323 §2).
    public var windowScaling: Bool = true
    /// Use timestamps when the app does (RFC 7323 §3): RTT per ACK and PAWS.
    public var timestamps: Bool = true
    /// SACK when the app permits it: blocks (and D-SACK) to the app; the app's steer retransmission.
    public var selectiveAcknowledgements: Bool = true

    /// The defaults.
    public init() {}
}
