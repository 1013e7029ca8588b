import Buffers
import Wire

/// Answers every DNS query sent over UDP to port 53, on any address, from the modem's
/// resolver: apps keep whatever resolv.conf says, and no DNS packet crosses the radio
/// except the modem's own.
///
/// Sans-I/O: queries come in as packets, `.resolve` goes out to the bridge (which calls the
/// driver's DNS command), results come back through `resolved`, and every query gets a
/// response: answers, NODATA, NXDOMAIN, SERVFAIL, FORMERR, NOTIMP or REFUSED. Queries for
/// a name already being resolved wait for that lookup instead of starting another.
public struct DNSInterceptor {
    public struct Config: Hashable, Sendable {
        /// The modem gives no TTL: this one is put on answers and bounds the cache.
        public var answerTTL: Duration
        /// How long "no such name" is remembered (RFC 2308 §5 caching of NXDOMAIN).
        public var negativeTTL: Duration
        public var cacheCapacity: Int
        /// Names being resolved at once, and queries waiting on them in total.
        public var maximumPendingNames: Int
        public var maximumWaitingQueries: Int
        /// After this, waiting queries get SERVFAIL even if the driver never answers.
        public var resolveTimeout: Duration

        public init(answerTTL: Duration = .seconds(120), negativeTTL: Duration = .seconds(30),
                    cacheCapacity: Int = 128, maximumPendingNames: Int = 16,
                    maximumWaitingQueries: Int = 64, resolveTimeout: Duration = .seconds(20)) {
            self.answerTTL = answerTTL
            self.negativeTTL = negativeTTL
            self.cacheCapacity = cacheCapacity
            self.maximumPendingNames = maximumPendingNames
            self.maximumWaitingQueries = maximumWaitingQueries
            self.resolveTimeout = resolveTimeout
        }
    }

    /// What happened to queries, for the stats socket.
    public struct Counters: Hashable, Sendable {
        public internal(set) var queries = 0
        public internal(set) var answeredFromCache = 0
        public internal(set) var lookups = 0
        public internal(set) var coalesced = 0
        public internal(set) var responses: [DNSResponseCode: Int] = [:]
        /// Packets that were not answerable queries (bad UDP, DNS responses, under 12 bytes).
        public internal(set) var dropped = DropCounter()
    }

    /// One query waiting for a lookup: enough to build its response later.
    struct Waiter: Hashable, Sendable {
        var query: DNSQuery
        var app: UDPEndpoint
        var server: UDPEndpoint
    }

    struct Pending: Sendable {
        var hostname: String
        var startedAt: Instant
        var waiters: [Waiter]
    }

    public let config: Config
    public private(set) var counters = Counters()
    public private(set) var cache: DNSCache
    private var pending: [DNSName: Pending] = [:]
    private var waitingCount = 0

    public init(config: Config = Config()) {
        self.config = config
        self.cache = DNSCache(capacity: config.cacheCapacity)
    }

    /// Names being resolved now.
    public var pendingCount: Int { self.pending.count }

    /// When the oldest lookup times out.
    public var nextDeadline: Instant? {
        // Asked on every turn of the event loop: no key path (a generic projection), no work when idle.
        guard !self.pending.isEmpty else { return nil }
        return self.pending.values.lazy.map { $0.startedAt }.min().map { $0 + self.config.resolveTimeout }
    }

    // MARK: Queries from apps

    /// Takes a UDP datagram to port 53 (a validated packet, not a fragment).
    public mutating func receive(_ packet: IPPacket, now: Instant) -> [DNSAction] {
        let udp: UDPRepr
        do throws(WireError) {
            _ = try IPRepr.parse(packet)
            guard packet.protocol == .udp else { throw .unsupported }
            udp = try UDPRepr.parse(packet.payload, source: packet.source, destination: packet.destination)
        } catch {
            self.counters.dropped.record(error)
            return []
        }
        let app = UDPEndpoint(address: packet.source, port: udp.sourcePort)
        let server = UDPEndpoint(address: packet.destination, port: udp.destinationPort)
        let message = UnsafeRawBufferPointer(
            rebasing: packet.payload[UDPRepr.headerLength..<(UDPRepr.headerLength + udp.payloadLength)])

        // Without a header there is no id to answer with; a response is not ours to answer.
        guard let header = try? DNSHeader(parsing: message) else {
            self.counters.dropped.record(.truncated)
            return []
        }
        guard !header.isResponse else {
            self.counters.dropped.record(.malformed)
            return []
        }
        self.counters.queries += 1
        let query: DNSQuery
        do throws(WireError) {
            query = try DNSQuery.parse(message)
        } catch {
            // RFC 1035 §4.1.1: FORMERR for what cannot be read, NOTIMP for other opcodes.
            let code: DNSResponseCode = error == .unsupported ? .notImplemented : .formatError
            return self.reply(DNSResponse(rejecting: header, responseCode: code), app: app, server: server)
        }
        let waiter = Waiter(query: query, app: app, server: server)
        return self.answer(waiter, now: now)
    }

    private mutating func answer(_ waiter: Waiter, now: Instant) -> [DNSAction] {
        let question = waiter.query.question
        // Only IN: CHAOS "version.bind" and the like are not the modem's to answer.
        guard question.class == .internet else { return self.reply(waiter, .refused) }
        // The modem resolves host names to addresses and nothing else. Other types get an
        // empty NOERROR (RFC 2308 §2.2 NODATA), so an HTTPS/SVCB lookup falls back to A and
        // AAAA at once (RFC 9460 §3) instead of waiting out a SERVFAIL.
        guard [.a, .aaaa, .any].contains(question.type) else { return self.reply(waiter, .noError) }
        // A name the resolver command cannot carry cannot be resolved.
        guard question.name.isHostname else { return self.reply(waiter, .serverFailure) }

        if let (entry, remaining) = self.cache.lookup(question.name, now: now) {
            self.counters.answeredFromCache += 1
            return self.reply(waiter, entry: entry, ttl: remaining)
        }

        let key = question.name.lowercased()
        if var lookup = self.pending[key] {
            // A client retransmission (same client, id and question) waits only once.
            if lookup.waiters.contains(waiter) { return [] }
            guard self.waitingCount < self.config.maximumWaitingQueries else {
                return self.reply(waiter, .serverFailure)
            }
            lookup.waiters.append(waiter)
            self.pending[key] = lookup
            self.waitingCount += 1
            self.counters.coalesced += 1
            return []
        }
        guard self.pending.count < self.config.maximumPendingNames,
              self.waitingCount < self.config.maximumWaitingQueries
        else { return self.reply(waiter, .serverFailure) }
        let hostname = key.description
        self.pending[key] = Pending(hostname: hostname, startedAt: now, waiters: [waiter])
        self.waitingCount += 1
        self.counters.lookups += 1
        return [.resolve(hostname: hostname)]
    }

    // MARK: Results from the modem

    /// The modem's answer for `hostname` (as sent in `.resolve`): responses for every query
    /// waiting on it. A result after the timeout still fills the cache.
    public mutating func resolved(hostname: String, _ resolution: DNSResolution, now: Instant) -> [DNSAction] {
        guard let name = DNSName(hostname)?.lowercased() else { return [] }
        let entry: DNSCache.Entry?
        switch resolution {
        case .addresses(let list):
            entry = .addresses(list)
            self.cache.insert(.addresses(list), for: name, ttl: self.config.answerTTL, now: now)
        case .nameNotFound:
            entry = .nameNotFound
            self.cache.insert(.nameNotFound, for: name, ttl: self.config.negativeTTL, now: now)
        case .failure:
            entry = nil
        }
        guard let lookup = self.pending.removeValue(forKey: name) else { return [] }
        self.waitingCount -= lookup.waiters.count
        return lookup.waiters.flatMap { waiter in
            if let entry {
                let ttl: Duration = entry == .nameNotFound ? self.config.negativeTTL : self.config.answerTTL
                return self.reply(waiter, entry: entry, ttl: ttl)
            }
            return self.reply(waiter, .serverFailure)
        }
    }

    /// SERVFAIL for every query whose lookup has taken longer than `resolveTimeout`.
    public mutating func expire(now: Instant) -> [DNSAction] {
        let late = self.pending.filter { now - $0.value.startedAt >= self.config.resolveTimeout }
        var actions: [DNSAction] = []
        for (name, lookup) in late.sorted(by: { $0.value.startedAt < $1.value.startedAt }) {
            self.pending[name] = nil
            self.waitingCount -= lookup.waiters.count
            for waiter in lookup.waiters { actions += self.reply(waiter, .serverFailure) }
        }
        self.cache.removeExpired(now: now)
        return actions
    }

    // MARK: Responses

    private mutating func reply(_ waiter: Waiter, entry: DNSCache.Entry, ttl: Duration) -> [DNSAction] {
        switch entry {
        case .nameNotFound:
            return self.reply(waiter, .nameError)
        case .addresses(let list):
            let type = waiter.query.question.type
            let matching = list.filter { address in
                switch address {
                case .v4: type == .a || type == .any
                case .v6: type == .aaaa || type == .any
                }
            }
            // Whole seconds, at least 1: a zero TTL would make the app ask again at once.
            let seconds = UInt32(clamping: max(1, ttl.nanoseconds / 1_000_000_000))
            let answers = matching.map { DNSResponse.Answer(address: $0, ttl: seconds) }
            // No address of the asked family is NODATA (RFC 2308 §2.2), not an error.
            return self.reply(waiter, .noError, answers: answers)
        }
    }

    private mutating func reply(
        _ waiter: Waiter, _ code: DNSResponseCode, answers: [DNSResponse.Answer] = []
    ) -> [DNSAction] {
        self.reply(DNSResponse(answering: waiter.query, responseCode: code, answers: answers),
                   app: waiter.app, server: waiter.server)
    }

    private mutating func reply(_ response: DNSResponse, app: UDPEndpoint, server: UDPEndpoint) -> [DNSAction] {
        self.counters.responses[response.responseCode, default: 0] += 1
        let packet = UDPDatagram.packet(
            source: server.address, sourcePort: server.port,
            destination: app.address, destinationPort: app.port,
            payloadLength: response.bufferLength
        ) { response.emit(into: $0) }
        guard let packet else { return [] }
        return [.reply(packet)]
    }
}
