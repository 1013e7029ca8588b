import Buffers

/// Which modem socket serves which flow, under the model's socket limit.
///
/// Modems have few sockets (2 on SIM7028, 5 on BC26, 6 on ML307A, 12 on EC600E) while apps
/// open connections freely. A SYN beyond the limit is not reset: its flow waits in a bounded
/// admission queue until a socket frees or its wait times out (then the bridge resets it and
/// counts an admission timeout). Sans-I/O: time is passed in, decisions come back as values.
public struct SocketScheduler<Flow: Hashable> {
    /// What became of a request for a socket.
    public enum Admission: Equatable {
        case granted(socket: Int)
        case queued(position: Int)
        /// The queue is full: the caller resets the flow and counts it.
        case rejected
    }

    public let socketCount: Int
    public let queueLimit: Int
    public let queueTimeout: Duration

    private var owner: [Flow?]
    private var socketOf: [Flow: Int] = [:]
    /// Waiting flows in arrival order with their deadlines. Bounded by `queueLimit`.
    private var waiting: [(flow: Flow, deadline: Instant)] = []
    /// Sockets held back from flows, e.g. a shared UDP socket; never granted by `request`.
    private var reserved: Set<Int> = []

    public private(set) var admissionWaits: UInt64 = 0
    public private(set) var admissionTimeouts: UInt64 = 0
    public private(set) var admissionRejects: UInt64 = 0

    public init(socketCount: Int, queueLimit: Int = 64, queueTimeout: Duration = .seconds(30)) {
        precondition(socketCount > 0 && queueLimit >= 0)
        self.socketCount = socketCount
        self.queueLimit = queueLimit
        self.queueTimeout = queueTimeout
        self.owner = Array(repeating: nil, count: socketCount)
    }

    public var socketsInUse: Int { self.socketOf.count + self.reserved.count }
    public var queueLength: Int { self.waiting.count }
    public func socket(of flow: Flow) -> Int? { self.socketOf[flow] }
    public func flow(on socket: Int) -> Flow? {
        self.owner.indices.contains(socket) ? self.owner[socket] : nil
    }
    public func isWaiting(_ flow: Flow) -> Bool { self.waiting.contains { $0.flow == flow } }

    /// The earliest queue deadline, for the event loop's timer.
    public var nextDeadline: Instant? { self.waiting.isEmpty ? nil : self.waiting.lazy.map { $0.deadline }.min() }

    /// Asks for a socket for `flow`. Asking again for a flow that already has one, or
    /// waits for one, answers the same without queueing twice (SYN retransmits land here).
    public mutating func request(_ flow: Flow, now: Instant) -> Admission {
        if let socket = self.socketOf[flow] { return .granted(socket: socket) }
        if let index = self.waiting.firstIndex(where: { $0.flow == flow }) { return .queued(position: index) }
        // Waiting flows go first: a newcomer must not overtake the queue.
        if self.waiting.isEmpty, let socket = self.freeSocket() {
            self.assign(socket, to: flow)
            return .granted(socket: socket)
        }
        guard self.waiting.count < self.queueLimit else {
            self.admissionRejects += 1
            return .rejected
        }
        self.waiting.append((flow, now + self.queueTimeout))
        self.admissionWaits += 1
        return .queued(position: self.waiting.count - 1)
    }

    /// Takes a free socket out of circulation for a purpose of the bridge's own (the shared
    /// UDP socket where the model names peers both ways, `udpSharedSocket`).
    public mutating func reserve() -> Int? {
        guard let socket = self.freeSocket() else { return nil }
        self.reserved.insert(socket)
        return socket
    }

    /// Takes the free socket `socket` out of circulation (one found open on the modem that
    /// no flow owns, until it is closed). False if a flow holds it.
    public mutating func hold(_ socket: Int) -> Bool {
        guard self.owner.indices.contains(socket), self.owner[socket] == nil else { return false }
        self.reserved.insert(socket)
        return true
    }

    /// The flows waiting for a socket, longest-waiting first.
    public var waitingFlows: [Flow] { self.waiting.map(\.flow) }

    /// Frees `socket`, whoever held it, and hands it to the longest-waiting flow.
    /// Returns that grant, if any, so the bridge opens the modem socket for it.
    public mutating func release(socket: Int) -> (flow: Flow, socket: Int)? {
        guard self.owner.indices.contains(socket) else { return nil }
        if let flow = self.owner[socket] { self.socketOf[flow] = nil }
        self.owner[socket] = nil
        self.reserved.remove(socket)
        guard !self.waiting.isEmpty else { return nil }
        let next = self.waiting.removeFirst().flow
        self.assign(socket, to: next)
        return (next, socket)
    }

    /// Frees whatever `flow` holds or waits for (the flow ended). Returns the grant its
    /// socket made to a waiting flow, if any.
    public mutating func finish(_ flow: Flow) -> (flow: Flow, socket: Int)? {
        if let index = self.waiting.firstIndex(where: { $0.flow == flow }) {
            self.waiting.remove(at: index)
            return nil
        }
        guard let socket = self.socketOf[flow] else { return nil }
        return self.release(socket: socket)
    }

    /// Every socket forgotten at once: the modem rebooted or lost the network. Waiting flows
    /// keep waiting; the flows that held sockets are returned for the bridge to reset.
    public mutating func releaseAll() -> [Flow] {
        let holders = Array(self.socketOf.keys)
        self.socketOf.removeAll()
        self.reserved.removeAll()
        self.owner = Array(repeating: nil, count: self.socketCount)
        return holders
    }

    /// Grants sockets to waiting flows while any are free (after `releaseAll` and the modem's
    /// return). Returns the grants.
    public mutating func admitWaiting() -> [(flow: Flow, socket: Int)] {
        var grants: [(flow: Flow, socket: Int)] = []
        while !self.waiting.isEmpty, let socket = self.freeSocket() {
            let next = self.waiting.removeFirst().flow
            self.assign(socket, to: next)
            grants.append((next, socket))
        }
        return grants
    }

    /// Removes and returns the waiting flows whose deadline has passed.
    public mutating func expire(now: Instant) -> [Flow] {
        var expired: [Flow] = []
        self.waiting.removeAll { entry in
            guard entry.deadline <= now else { return false }
            expired.append(entry.flow)
            return true
        }
        self.admissionTimeouts += UInt64(expired.count)
        return expired
    }

    private func freeSocket() -> Int? {
        self.owner.indices.first { self.owner[$0] == nil && !self.reserved.contains($0) }
    }

    private mutating func assign(_ socket: Int, to flow: Flow) {
        self.owner[socket] = flow
        self.socketOf[flow] = socket
    }
}
