import Buffers

/// Where a TCP endpoint is in its life (RFC 9293 §3.3.2), seen from the daemon, which is
/// always the passive ("server") side of the app's connection.
///
/// There is no LISTEN or SYN-SENT: an endpoint is born from the app's SYN. `awaitingModem`
/// is SYN-RECEIVED before the SYN-ACK has gone out: the daemon holds the handshake until the
/// modem reports its socket open, so that an app never sees "connected" for a destination
/// the modem cannot reach (ARCHITECTURE.md, rules of the hot path).
public enum TCPState: Hashable, Sendable, CustomStringConvertible {
    case awaitingModem
    case synReceived
    case established
    case finWait1
    case finWait2
    case closeWait
    case closing
    case lastAck
    case timeWait
    case closed

    public var description: String {
        switch self {
        case .awaitingModem: "AWAITING-MODEM"
        case .synReceived: "SYN-RECEIVED"
        case .established: "ESTABLISHED"
        case .finWait1: "FIN-WAIT-1"
        case .finWait2: "FIN-WAIT-2"
        case .closeWait: "CLOSE-WAIT"
        case .closing: "CLOSING"
        case .lastAck: "LAST-ACK"
        case .timeWait: "TIME-WAIT"
        case .closed: "CLOSED"
        }
    }

    /// States in which both sequence spaces are known (RFC 9293 §3.3.2, after the
    /// handshake's first ACK; SYN-RECEIVED included as in §3.10.7.4).
    var isSynchronized: Bool {
        switch self {
        case .awaitingModem, .closed: false
        default: true
        }
    }
}

/// Why an endpoint reached CLOSED; the flow table counts resets by these reasons.
public enum TCPCloseReason: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Both FINs exchanged and acknowledged: the normal end.
    case finished
    /// The app sent an acceptable RST.
    case appReset
    /// The modem refused or failed to open its socket: the app got RST.
    case modemRefused
    /// The modem has no route to the destination: the bridge answers with ICMP unreachable.
    case noRoute
    /// The remote end reset the modem socket.
    case modemReset
    /// The modem socket failed (error, closed by the modem, serial trouble).
    case modemFailed
    /// Bytes already ACKed to the app could not be handed to the modem.
    case undeliverable
    /// The app stopped acknowledging retransmitted data (RFC 9293 §3.8.3, R2).
    case retransmitTimeout
    /// The app stopped answering keepalive probes (RFC 1122 §4.2.3.6).
    case keepaliveTimeout
    /// The app never acknowledged the SYN-ACK.
    case handshakeTimeout
    /// The daemon ended the flow (eviction, shutdown).
    case aborted

    public var description: String {
        switch self {
        case .finished: "finished"
        case .appReset: "app-reset"
        case .modemRefused: "modem-refused"
        case .noRoute: "no-route"
        case .modemReset: "modem-reset"
        case .modemFailed: "modem-failed"
        case .undeliverable: "undeliverable"
        case .retransmitTimeout: "retransmit-timeout"
        case .keepaliveTimeout: "keepalive-timeout"
        case .handshakeTimeout: "handshake-timeout"
        case .aborted: "aborted"
        }
    }
}

/// When an endpoint next needs `dispatch(now:emit:)`.
public enum TCPPollAt: Hashable, Sendable {
    /// A segment is ready now.
    case now
    /// A timer expires then.
    case at(Instant)
    /// Nothing to do until a segment or a modem event arrives.
    case never
}
