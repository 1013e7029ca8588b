/// What the bridge core counts, for the stats socket and the log. Every byte or packet the
/// bridge could not carry lands in one of the `lost`/`dropped` counters.
public struct BridgeCounters: Sendable, Equatable {
    public var packetsFromApp = 0
    public var bytesFromApp = 0
    public var packetsToApp = 0
    public var bytesToApp = 0
    /// Packets from the TUN that did not parse (bad header, checksum, length).
    public var malformedPackets = 0
    /// Packets of a protocol the bridge does not carry (not TCP, UDP or ICMP echo).
    public var unsupportedPackets = 0
    /// Packets for the app the TUN refused (queue full).
    public var packetsToAppDropped = 0
    /// Bytes the modem delivered that no flow could take (the flow had ended, or had no room).
    public var modemBytesLost = 0
    /// Payload bytes sent to / received from modem sockets.
    public var bytesToModem = 0
    public var bytesFromModem = 0
    /// Modem socket opens asked, refused or failed.
    public var socketOpens = 0
    public var socketOpenFailures = 0
    /// SYNs that waited for a socket, and those that gave up waiting (reset).
    public var admissionWaits = 0
    public var admissionTimeouts = 0
    public var admissionRejects = 0
    /// Flows reset because the modem lost the network, rebooted, the serial line went away,
    /// or the modem gave a socket up with bytes it had taken undelivered.
    public var flowsResetByModem = 0
    /// `SEND FAIL` answers (the modem's buffer was full).
    public var sendBusy = 0
    /// Failed sends tried again before giving up on the flow.
    public var sendRetries = 0
    /// Requests the driver's queue could not take at once (retried later).
    public var driverBusy = 0
    public var bringUps = 0
    public var bringUpFailures = 0
    public var modemReboots = 0
    public var networkLosses = 0
    public var serialLosses = 0
    /// Sockets found open on the modem that no flow owned (left by a previous run, lost URCs).
    public var leftoverSocketsClosed = 0
    /// Sockets the modem reported closed while a flow still used them.
    public var socketsLostByReconcile = 0
    /// Opens the modem never answered, found connected by a reconcile and taken as opened.
    public var openAnswersLost = 0
    /// Reads tried without a data-ready notice, in case the modem held it back.
    public var dataProbes = 0
    public var dnsQueries = 0
    public var pings = 0
    public var udpSessionsOpened = 0
    public var udpDatagramsToModem = 0
    public var udpDatagramsFromModem = 0
    /// Datagrams from the app dropped because their session's queue toward the modem was full
    /// (or, on the shared UDP socket, the driver refused the datagram).
    public var udpDatagramsDropped = 0
    /// Datagrams read from the shared UDP socket whose sender is no session's remote (dropped).
    public var udpDatagramsFromUnknownSenders = 0
    /// UDP sessions that could not ride the shared UDP socket because another session there
    /// talks to the same remote endpoint (they took a socket of their own).
    public var udpSharedSocketCollisions = 0

    public init() {}
}
