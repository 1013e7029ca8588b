import Buffers

/// One open flow as `flows` lists it; the bridge builds these from its flow table when a
/// client asks, so nothing is kept up to date for it on the hot path.
public struct FlowRow: Sendable, Equatable {
    /// The transport protocol of a flow. Nested so it does not collide with the flow
    /// table's own `Flows.FlowRow.Transport` (wire numbers) where both modules are imported.
    public enum Transport: Int, CaseIterable, Sendable {
        case tcp, udp, icmp

        public var name: String {
            switch self {
            case .tcp: "tcp"
            case .udp: "udp"
            case .icmp: "icmp"
            }
        }
    }

    public var proto: Transport
    /// The app's side, `address:port` (`[v6]:port` for IPv6).
    public var app: String
    /// The remote side the app talks to, same form.
    public var remote: String
    /// The modem socket id carrying it; nil while waiting for one (admission queue).
    public var modemSocket: Int?
    /// The flow's state, e.g. `ESTABLISHED`, `AWAITING-MODEM`, `open`.
    public var state: String
    public var bytesFromApp: UInt64
    public var bytesToApp: UInt64
    public var openedAt: Instant

    public init(proto: Transport, app: String, remote: String, modemSocket: Int?, state: String,
                bytesFromApp: UInt64, bytesToApp: UInt64, openedAt: Instant) {
        self.proto = proto
        self.app = app
        self.remote = remote
        self.modemSocket = modemSocket
        self.state = state
        self.bytesFromApp = bytesFromApp
        self.bytesToApp = bytesToApp
        self.openedAt = openedAt
    }
}

/// Counters with one slot per `FlowRow.Transport`.
public struct PerProtocolCounts: Sendable, Equatable {
    private var counts = [UInt64](repeating: 0, count: FlowRow.Transport.allCases.count)
    public init() {}
    public mutating func record(_ proto: FlowRow.Transport, _ amount: UInt64 = 1) { self.counts[proto.rawValue] &+= amount }
    public subscript(proto: FlowRow.Transport) -> UInt64 { self.counts[proto.rawValue] }
}

/// Which modem socket ids are in use: one flag per id the model has.
public struct ModemSocketUse: Sendable, Equatable {
    public private(set) var inUse: [Bool] = []
    /// Sockets opened on each id since start.
    public private(set) var opens: [UInt64] = []

    public init() {}

    /// Sizes the table to the model's socket count (after bring-up); all ids free.
    public mutating func configure(count: Int) {
        let n = max(0, min(count, 64))
        self.inUse = Array(repeating: false, count: n)
        self.opens = Array(repeating: 0, count: n)
    }

    /// Marks `id` used or free; an id outside the table is ignored (the count is the model's).
    public mutating func setInUse(_ id: Int, _ used: Bool) {
        guard self.inUse.indices.contains(id) else { return }
        if used && !self.inUse[id] { self.opens[id] &+= 1 }
        self.inUse[id] = used
    }

    public var count: Int { self.inUse.count }
    public var usedCount: Int { self.inUse.reduce(0) { $0 + ($1 ? 1 : 0) } }
}
