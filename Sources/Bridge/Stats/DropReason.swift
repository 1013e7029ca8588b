import Wire

/// Why the daemon dropped a packet or refused a flow: one counter each in `DropCounts`.
///
/// The first cases are the packet layer's `WireError` reasons, the rest are the bridge's
/// and the flow table's own. `name` is the label value in `metrics` and the key in `stats`.
public enum DropReason: Int, CaseIterable, Sendable {
    case truncated, malformed, badChecksum, badVersion, unsupported
    case fragmentLimit, fragmentOverlap, fragmentTimeout
    /// No modem socket for a new flow: the admission queue was full or the wait timed out.
    case noSocket
    /// A buffer budget (TCP ring, UDP queue) was exhausted.
    case bufferLimit
    /// The flow table is at its `maxFlows`.
    case flowTableFull
    /// A segment for a flow the table does not know (answered with RST).
    case unknownFlow
    /// More UDP sessions than allowed.
    case udpSessionLimit
    /// A UDP datagram larger than the modem can send in one piece.
    case udpTooBig
    /// A UDP session's queue toward the modem was full.
    case udpQueueFull
    /// A datagram on the shared UDP socket from a sender that is no session's remote.
    case udpUnknownSender
    /// The modem refused to open a socket for the flow.
    case openFailed
    /// Data from the modem for a flow that is gone.
    case undeliverable
    /// The kernel refused a packet written to the TUN.
    case tunWriteFailed
    case other

    public init(_ wire: WireError) {
        switch wire {
        case .truncated: self = .truncated
        case .malformed: self = .malformed
        case .badChecksum: self = .badChecksum
        case .badVersion: self = .badVersion
        case .unsupported: self = .unsupported
        case .fragmentLimit: self = .fragmentLimit
        case .fragmentOverlap: self = .fragmentOverlap
        case .fragmentTimeout: self = .fragmentTimeout
        }
    }

    /// snake_case, for JSON keys and Prometheus label values.
    public var name: String {
        switch self {
        case .truncated: "truncated"
        case .malformed: "malformed"
        case .badChecksum: "bad_checksum"
        case .badVersion: "bad_version"
        case .unsupported: "unsupported_protocol"
        case .fragmentLimit: "fragment_limit"
        case .fragmentOverlap: "fragment_overlap"
        case .fragmentTimeout: "fragment_timeout"
        case .noSocket: "no_socket"
        case .bufferLimit: "buffer_limit"
        case .flowTableFull: "flow_table_full"
        case .unknownFlow: "unknown_flow"
        case .udpSessionLimit: "udp_session_limit"
        case .udpTooBig: "udp_too_big"
        case .udpQueueFull: "udp_queue_full"
        case .udpUnknownSender: "udp_unknown_sender"
        case .openFailed: "open_failed"
        case .undeliverable: "undeliverable"
        case .tunWriteFailed: "tun_write_failed"
        case .other: "other"
        }
    }
}

/// One counter per `DropReason`, in a fixed array: `record` is an index and an add.
public struct DropCounts: Sendable, Equatable {
    private var counts = [UInt64](repeating: 0, count: DropReason.allCases.count)

    public init() {}

    public mutating func record(_ reason: DropReason) { self.counts[reason.rawValue] &+= 1 }
    public mutating func record(_ wire: WireError) { self.record(DropReason(wire)) }
    /// Adds a count kept elsewhere (a component's own counter), e.g. at snapshot time.
    public mutating func add(_ reason: DropReason, _ amount: UInt64) { self.counts[reason.rawValue] &+= amount }
    /// Adds every reason of the packet layer's `DropCounter`.
    public mutating func add(_ wire: DropCounter) {
        for reason in WireError.allCases { self.add(DropReason(reason), UInt64(clamping: wire[reason])) }
    }

    public subscript(reason: DropReason) -> UInt64 { self.counts[reason.rawValue] }
    public var total: UInt64 { self.counts.reduce(0, &+) }
}
