import Buffers

/// The one place that says which flows exist (TCP, UDP, ICMP): keyed by `FlowKey`,
/// bounded in count, with per-flow state and counters and the aggregate counters the stats
/// socket reads. TCP endpoints live inside it; their buffers come from one shared
/// `TCPBufferBudget`.
///
/// Closed TCP flows stay until `sweep`, so the bridge can see why they closed (and release
/// their modem sockets) first.
public struct FlowTable {
    /// The most flows held at once (each may hold a modem socket and buffers).
    public let maxFlows: Int
    /// The tunables of every TCP endpoint the table creates.
    public let tcpConfig: TCPConfig
    /// The buffer memory shared by all its TCP flows.
    public let budget: TCPBufferBudget
    /// What the table has seen since it was made.
    public internal(set) var counters = FlowTableCounters()
    var records: [FlowKey: FlowRecord] = [:]
    let isnSecret: UInt64

    /// A table of at most `maxFlows` flows. `isnSecret` keys the RFC 6528 ISN hash.
    public init(
        maxFlows: Int = 1024, tcpConfig: TCPConfig = TCPConfig(), budget: TCPBufferBudget,
        isnSecret: UInt64 = UInt64.random(in: .min ... .max)
    ) {
        self.maxFlows = max(1, maxFlows)
        self.tcpConfig = tcpConfig
        self.budget = budget
        self.isnSecret = isnSecret
    }

    /// Flows in the table now.
    public var count: Int { records.count }
    /// No flow at all.
    public var isEmpty: Bool { records.isEmpty }
    /// The flows' keys, in no particular order.
    public var keys: Dictionary<FlowKey, FlowRecord>.Keys { records.keys }
    /// The flow of `key`, if any.
    public subscript(key: FlowKey) -> FlowRecord? { records[key] }

    /// Sets (or clears) the modem socket carrying a flow.
    public mutating func setModemSocket(_ socket: Int?, for key: FlowKey) {
        records[key]?.modemSocket = socket
    }

    /// Adds a connectionless flow (UDP session, ICMP echo); false if the table is full.
    public mutating func insert(_ key: FlowKey, now: Instant) -> Bool {
        if records[key] != nil { return true }
        guard makeRoom(now: now) else {
            counters.refusedTableFull += 1
            return false
        }
        records[key] = FlowRecord(key: key, openedAt: now, otherLastActivityAt: now)
        counters.opened += 1
        return true
    }

    /// Counts traffic of a connectionless flow.
    public mutating func recordTraffic(_ key: FlowKey, fromApp: Int = 0, toApp: Int = 0, now: Instant) {
        guard var record = records[key], record.tcp == nil else { return }
        record.otherBytesFromApp += max(0, fromApp)
        record.otherBytesToApp += max(0, toApp)
        record.otherLastActivityAt = now
        records[key] = record
    }

    /// Removes a flow. A TCP flow that is not yet closed is aborted first (RST to the app
    /// is then lost: use `withTCP { $0.close(now:) }` and dispatch to send it).
    @discardableResult
    public mutating func remove(_ key: FlowKey, now: Instant) -> FlowRecord? {
        guard var record = records.removeValue(forKey: key) else { return nil }
        if var endpoint = record.tcp {
            if !endpoint.isClosed { endpoint.close(now: now) }
            let reason = endpoint.closeReason ?? .aborted
            counters.closedByReason[reason, default: 0] += 1
            counters.bytesUndelivered += endpoint.bytesUndelivered
            record.tcp = endpoint
        } else {
            counters.otherClosed += 1
        }
        return record
    }

    /// Removes every closed TCP flow, counting why each closed; returns them so the bridge
    /// can release their modem sockets.
    public mutating func sweep(now: Instant) -> [FlowRecord] {
        var closed: [FlowKey] = []
        for index in records.indices where records.values[index].tcp?.isClosed == true {
            closed.append(records.keys[index])
        }
        return closed.compactMap { remove($0, now: now) }
    }

    /// The TCP flows whose endpoints want `dispatch` at `now`.
    public func dueTCPFlows(now: Instant) -> [FlowKey] {
        var due: [FlowKey] = []
        // By index, and from each record's cached `poll`: `for record in records.values`
        // would copy every record, and asking each endpoint would copy it too, on each turn
        // of the event loop.
        for index in records.indices {
            switch records.values[index].poll {
            case .now: due.append(records.keys[index])
            case .at(let t) where t <= now: due.append(records.keys[index])
            default: break
            }
        }
        return due
    }

    /// The earliest time any TCP endpoint needs `dispatch` (a linear scan: the table is
    /// bounded by `maxFlows`).
    public func pollAt() -> TCPPollAt {
        // Debug builds (the whole test suite, end-to-end daemons included) check the cache
        // against the endpoints on every call.
        assert(records.values.allSatisfy { $0.poll == ($0.tcp?.pollAt() ?? .never) }, "a flow's cached poll is stale")
        var earliest = Earliest()
        for index in records.indices {
            switch records.values[index].poll {
            case .now: return .now
            case .at(let t): earliest.consider(t)
            case .never: break
            }
        }
        return earliest.instant.map { .at($0) } ?? .never
    }

    /// Frees a slot if the table is full, by evicting the oldest flow in TIME-WAIT (the
    /// one whose loss costs nothing). False if no slot can be found.
    mutating func makeRoom(now: Instant) -> Bool {
        if records.count < maxFlows { return true }
        let waiting = records.values.filter { $0.tcp?.state == .timeWait || $0.tcp?.isClosed == true }
        guard let victim = waiting.min(by: { $0.lastActivityAt < $1.lastActivityAt }) else { return false }
        if victim.tcp?.state == .timeWait { counters.evictedTimeWait += 1 }
        remove(victim.key, now: now)
        return true
    }

    /// One line per flow for the stats socket.
    public func snapshot(now: Instant) -> [FlowSummary] {
        records.values.map { record in
            FlowSummary(
                key: record.key, state: record.stateName, bytesFromApp: record.bytesFromApp,
                bytesToApp: record.bytesToApp, age: now - record.openedAt,
                idle: now - record.lastActivityAt, modemSocket: record.modemSocket,
                bufferedBytes: record.bufferedBytes)
        }
    }
}
