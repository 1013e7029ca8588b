import Buffers
import Sys

/// The stats socket: a Unix stream listener that answers `stats`, `flows`, `status`,
/// `metrics` and `help` (see `StatsRequest`), serving many clients without ever blocking
/// the daemon.
///
/// The server keeps its listener and clients in an epoll of its own, and the daemon's loop
/// watches only that epoll's descriptor (`pollDescriptor`, readable while any client or
/// the listener needs attention): no tokens of ours mix with the daemon's. When it is
/// readable the daemon calls `service`, which handles at most `Limits.eventsPerService`
/// ready descriptors and returns; anything left keeps the descriptor readable
/// (level-triggered), so the data path gets its turn between batches.
///
/// Memory is bounded: at most `maxClients` clients, each with a request line of at most
/// `StatsRequestReader.maxLineLength` bytes and replies of at most `maxPendingOutput`
/// bytes plus one reply; a client that does not read its replies stops being read, so it
/// cannot make the daemon queue more. A client that keeps sending bad requests is closed
/// after `maxErrors`. When all slots are taken the server stops accepting, so newcomers
/// wait in the listen backlog (their `connect` still succeeds) instead of being refused,
/// and accepting resumes as soon as a client leaves; a client that made no progress for
/// `stallTimeout` is closed to make room (a timer of the server's own epoll wakes it for
/// that, so idle slots cannot be held forever).
public final class StatsServer {
    public struct Limits: Sendable {
        public var maxClients = 64
        public var maxPendingOutput = 1 << 20
        public var maxErrors = 8
        public var stallTimeout: Duration = .seconds(10)
        public var eventsPerService = 64
        /// Replies rendered for one client per `service` call: a client that pipelines
        /// thousands of requests is answered over many turns of the daemon's loop.
        public var repliesPerService = 16
        /// Bytes read from one client per readable event.
        public var readChunk = 4096
        public init() {}
    }

    /// The default socket path (the `--stats-socket` option's default).
    public static let defaultPath = "/run/tun2modem/tun2modem.sock"

    public let limits: Limits
    private let listener: UnixListener
    private let epoll: Epoll
    /// Armed while accepting is paused: when the longest-stalled client may be evicted.
    private let stallTimer: TimerFD
    /// Whether the listener is in the epoll (false while every slot is taken).
    private var accepting = true
    private var events: EpollEventBuffer
    private var slots: [StatsConnection?]
    private var generation: UInt64 = 0
    private var readBuffer: [UInt8]

    /// Times every slot was taken and accepting paused.
    public private(set) var acceptPauses: UInt64 = 0
    /// Clients closed to make room after stalling.
    public private(set) var evictedClients: UInt64 = 0
    /// Clients closed after too many bad requests.
    public private(set) var closedForErrors: UInt64 = 0
    /// Requests answered, errors included.
    public private(set) var repliesQueued: UInt64 = 0

    private static let listenerToken = UInt64.max
    private static let stallTimerToken = UInt64.max - 1

    /// Listens at `path` (`@name` for the abstract namespace) with mode `permissions`,
    /// creating missing directories.
    /// - Throws: `SysError` from socket, bind (`EADDRINUSE`: a daemon already listens there),
    ///   chmod or epoll.
    public init(path: String = StatsServer.defaultPath, permissions: UInt32 = 0o660, limits: Limits = Limits()) throws(SysError) {
        self.limits = limits
        self.listener = try UnixListener(path: path, permissions: permissions, backlog: 64)
        self.epoll = try Epoll()
        self.stallTimer = try TimerFD()
        self.events = EpollEventBuffer(capacity: max(1, limits.eventsPerService))
        self.slots = Array(repeating: nil, count: max(1, limits.maxClients))
        self.readBuffer = Array(repeating: 0, count: max(64, limits.readChunk))
        try self.epoll.add(self.listener.descriptor.rawValue, events: .readable, token: Self.listenerToken)
        try self.epoll.add(self.stallTimer.descriptor.rawValue, events: .readable, token: Self.stallTimerToken)
    }

    /// Where the server listens.
    public var path: String { self.listener.path }

    /// The descriptor to watch for `.readable` in the daemon's epoll (the server's own
    /// epoll). Borrowed: the server owns it.
    public var pollDescriptor: CInt { self.epoll.descriptor.rawValue }

    public var clientCount: Int { self.slots.count { $0 != nil } }

    /// Reply bytes queued for all clients and not yet written.
    public var pendingOutputBytes: Int { self.slots.reduce(0) { $0 + ($1?.pendingOutputCount ?? 0) } }

    /// Accepts, reads, answers and writes whatever is ready, without waiting.
    ///
    /// `stats` and `flows` are asked at most once per call, and only if a request needs
    /// them. Returns the number of descriptors handled (0: nothing was ready).
    @discardableResult
    public func service(now: Instant, stats: () -> DaemonStats, flows: () -> [FlowRow]) -> Int {
        let ready: Int
        do {
            ready = try self.epoll.wait(into: &self.events, timeout: .zero)
        } catch {
            return 0
        }
        var snapshot = LazySnapshot()
        var listenerReady = false
        for i in 0..<ready {
            let (token, events) = self.events[i]
            if token == Self.listenerToken {
                // Accepted after the clients: closes seen in this batch free their slots first.
                listenerReady = true
                continue
            }
            if token == Self.stallTimerToken {
                _ = try? self.stallTimer.readExpirations()
                continue
            }
            guard let slot = self.slot(of: token), let client = self.slots[slot], client.token == token else { continue }
            if events.contains(.error) || events.contains(.hangup) {
                self.close(slot)
                continue
            }
            if events.contains(.readable) {
                self.read(client, slot: slot, now: now, snapshot: &snapshot, stats: stats, flows: flows)
            }
            guard self.slots[slot] != nil else { continue }
            if client.pendingOutputCount > 0 && !client.flush(now: now) {
                self.close(slot)
                continue
            }
            if !client.deferred.isEmpty {
                self.answerDeferred(client, now: now, snapshot: &snapshot, stats: stats, flows: flows)
                if client.pendingOutputCount > 0 && !client.flush(now: now) {
                    self.close(slot)
                    continue
                }
            }
            self.updateInterest(client, slot: slot)
        }
        if !self.accepting { self.evictStalled(now: now) }
        if listenerReady && self.accepting { self.acceptWaiting(now: now) }
        return ready
    }

    // MARK: - clients

    private func acceptWaiting(now: Instant) {
        // A bounded number per call: a connect storm must not monopolise the loop.
        for _ in 0..<16 {
            guard let slot = self.slots.firstIndex(where: { $0 == nil }) else {
                self.pauseAccepting(now: now)
                return
            }
            let accepted: FileDescriptor?
            do {
                accepted = try self.listener.accept()
            } catch {
                return   // EMFILE, ECONNABORTED...: try again on the next readable
            }
            guard let fd = accepted else { return }
            self.generation &+= 1
            let token = (self.generation << 16) | UInt64(slot)
            let client = StatsConnection(fd: fd, token: token, now: now)
            do {
                try self.epoll.add(client.fd.rawValue, events: .readable, token: token)
            } catch {
                continue
            }
            self.slots[slot] = client
        }
    }

    /// Every slot is taken: stop watching the listener (newcomers wait in the backlog) and
    /// wake when the longest-stalled client may be evicted.
    private func pauseAccepting(now: Instant) {
        guard self.accepting else { return }
        if self.evictStalled(now: now) { return }
        try? self.epoll.delete(self.listener.descriptor.rawValue)
        self.accepting = false
        self.acceptPauses &+= 1
        if let oldest = self.slots.compactMap({ $0?.lastProgress }).min() {
            try? self.stallTimer.schedule(at: oldest + self.limits.stallTimeout)
        }
    }

    private func resumeAccepting() {
        guard !self.accepting else { return }
        do {
            try self.epoll.add(self.listener.descriptor.rawValue, events: .readable, token: Self.listenerToken)
            self.accepting = true
            try? self.stallTimer.cancel()
        } catch {
            // Stay paused; the next close tries again.
        }
    }

    /// Closes the client that has made no progress for longest, if that is at least
    /// `stallTimeout`. Returns whether a slot was freed.
    @discardableResult
    private func evictStalled(now: Instant) -> Bool {
        var oldest: (slot: Int, since: Instant)?
        for (i, c) in self.slots.enumerated() {
            guard let c, now - c.lastProgress >= self.limits.stallTimeout else { continue }
            if let o = oldest, o.since <= c.lastProgress { continue }
            oldest = (i, c.lastProgress)
        }
        guard let victim = oldest else {
            if !self.accepting, let next = self.slots.compactMap({ $0?.lastProgress }).min() {
                try? self.stallTimer.schedule(at: max(next + self.limits.stallTimeout, now + .milliseconds(1)))
            }
            return false
        }
        self.evictedClients &+= 1
        self.close(victim.slot)
        return true
    }

    private func read(_ client: StatsConnection, slot: Int, now: Instant, snapshot: inout LazySnapshot,
                      stats: () -> DaemonStats, flows: () -> [FlowRow]) {
        let result = self.readBuffer.withUnsafeMutableBytes { buffer in
            Result { () throws(SysError) in try client.fd.read(into: buffer) }
        }
        let count: Int
        switch result {
        case .failure:
            self.close(slot)
            return
        case .success(.wouldBlock): return
        case .success(.processed(let n)): count = n
        }
        if count == 0 {
            client.inputClosed = true
            return
        }
        client.lastProgress = now
        let items = self.readBuffer.withUnsafeBytes { client.reader.feed(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        client.deferred += items
        self.answerDeferred(client, now: now, snapshot: &snapshot, stats: stats, flows: flows)
    }

    /// Answers the client's waiting requests while its unsent replies are under the limit.
    private func answerDeferred(_ client: StatsConnection, now: Instant, snapshot: inout LazySnapshot,
                                stats: () -> DaemonStats, flows: () -> [FlowRow]) {
        var answered = 0
        while let item = client.deferred.first, !client.closeAfterFlush, answered < self.limits.repliesPerService,
              client.pendingOutputCount < self.limits.maxPendingOutput {
            answered += 1
            client.deferred.removeFirst()
            switch item {
            case .request(let request):
                client.append(self.reply(to: request, now: now, snapshot: &snapshot, stats: stats, flows: flows))
            case .error(let text):
                client.errors += 1
                client.append("error: \(text)\n")
                if client.errors >= self.limits.maxErrors {
                    client.append("error: too many bad requests (\(self.limits.maxErrors)); closing\n")
                    client.closeAfterFlush = true
                    client.deferred = []
                    self.closedForErrors &+= 1
                }
            }
            self.repliesQueued &+= 1
        }
        if client.deferred.isEmpty { client.deferred = [] }   // drop the slice's old storage
    }

    private func reply(to request: StatsRequest, now: Instant, snapshot: inout LazySnapshot,
                       stats: () -> DaemonStats, flows: () -> [FlowRow]) -> String {
        switch request {
        case .help: return StatsRequest.helpLine + "\n"
        case .flows: return StatsJSON.flows(snapshot.flows(flows), now: now) + "\n"
        case .stats: return StatsJSON.stats(snapshot.stats(stats), flows: snapshot.flows(flows), now: now) + "\n"
        case .status: return StatsJSON.status(snapshot.stats(stats), flows: snapshot.flows(flows), now: now) + "\n"
        case .metrics: return StatsMetrics.render(snapshot.stats(stats), flows: snapshot.flows(flows), now: now)
        }
    }

    /// Watches for reading while the client may still send, nothing waits and its replies
    /// are under the limit; for writing while replies or requests wait; a client wanting
    /// neither is done.
    private func updateInterest(_ client: StatsConnection, slot: Int) {
        var wanted: EpollEvents = []
        let pending = client.pendingOutputCount
        if !client.inputClosed && !client.closeAfterFlush && client.deferred.isEmpty && pending < self.limits.maxPendingOutput {
            wanted.insert(.readable)
        }
        // Requests still waiting are answered on the next writable event, when the socket
        // has room again: the same level-triggered wakeup that drains the replies.
        if pending > 0 || !client.deferred.isEmpty { wanted.insert(.writable) }
        if wanted.isEmpty {
            self.close(slot)
            return
        }
        guard wanted != client.interest else { return }
        do {
            try self.epoll.modify(client.fd.rawValue, events: wanted, token: client.token)
            client.interest = wanted
        } catch {
            self.close(slot)
        }
    }

    private func slot(of token: UInt64) -> Int? {
        let slot = Int(token & 0xFFFF)
        return self.slots.indices.contains(slot) ? slot : nil
    }

    private func close(_ slot: Int) {
        guard let client = self.slots[slot] else { return }
        try? self.epoll.delete(client.fd.rawValue)
        self.slots[slot] = nil   // the connection's descriptor closes with it
        self.resumeAccepting()
    }
}

/// The daemon's figures, asked for at most once per `service` call.
private struct LazySnapshot {
    private var cachedStats: DaemonStats?
    private var cachedFlows: [FlowRow]?

    mutating func stats(_ make: () -> DaemonStats) -> DaemonStats {
        if let s = self.cachedStats { return s }
        let s = make()
        self.cachedStats = s
        return s
    }

    mutating func flows(_ make: () -> [FlowRow]) -> [FlowRow] {
        if let f = self.cachedFlows { return f }
        let f = make()
        self.cachedFlows = f
        return f
    }
}
