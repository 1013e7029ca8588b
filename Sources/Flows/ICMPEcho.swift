import Buffers
import Wire

/// What the modem's ping answered (Quectel `AT+QPING`, SIMCom `AT+CIPPING`/`AT+SNPING4`,
/// OneMO `AT+MPING`).
public enum PingResult: Hashable, Sendable {
    /// An echo reply came back: the modem's round-trip time and, if it gives one, the TTL.
    case reply(rtt: Duration, ttl: UInt8?)
    /// No reply, or the modem could not send: the app gets "host unreachable".
    case failure
}

/// What ICMP echo asks the bridge to do.
public enum ICMPEchoAction: Hashable, Sendable {
    /// Ping this address once with the modem; answer with `ICMPEcho.pinged`.
    case ping(IPAddress, payloadLength: Int)
    /// Write this packet to the TUN: an echo reply or an unreachable error.
    case reply([UInt8])
}

/// Answers the apps' echo requests, to any destination, with the modem's own ping: the
/// reply leaves when the modem's does, so the app sees the real round trip (plus the
/// serial line's share). Requests to an address already being pinged wait for that ping.
public struct ICMPEcho {
    public struct Config: Hashable, Sendable {
        /// Echo requests waiting in total.
        public var maximumWaiting: Int
        /// Destinations being pinged at once.
        public var maximumPings: Int
        /// Echo data kept per request; longer requests are dropped (ping -s 65000 is not a
        /// modem's business: their ping takes at most 1400 bytes or so).
        public var maximumDataLength: Int
        /// After this, waiting requests are forgotten: the app sees a lost ping, as it would.
        public var timeout: Duration

        public init(maximumWaiting: Int = 32, maximumPings: Int = 8,
                    maximumDataLength: Int = 1472, timeout: Duration = .seconds(10)) {
            self.maximumWaiting = maximumWaiting
            self.maximumPings = maximumPings
            self.maximumDataLength = maximumDataLength
            self.timeout = timeout
        }
    }

    public struct Counters: Hashable, Sendable {
        public internal(set) var requests = 0
        public internal(set) var pings = 0
        public internal(set) var replies = 0
        public internal(set) var unreachable = 0
        public internal(set) var timedOut = 0
        /// Refused by the packet layer, or ICMP other than an echo request.
        public internal(set) var dropped = DropCounter()
        /// Over the waiting or data limits.
        public internal(set) var overLimit = 0
    }

    /// One echo request waiting for the modem's ping: the whole packet, to echo its data
    /// or to quote it in an unreachable error.
    struct Waiter: Sendable {
        var packet: [UInt8]
        var receivedAt: Instant
    }

    struct Ping: Sendable {
        var startedAt: Instant
        var waiters: [Waiter]
    }

    public let config: Config
    public private(set) var counters = Counters()
    private var pings: [IPAddress: Ping] = [:]
    private var waitingCount = 0

    public init(config: Config = Config()) {
        self.config = config
    }

    public var pendingCount: Int { self.pings.count }
    public var waitingRequests: Int { self.waitingCount }

    /// When the oldest ping times out.
    public var nextDeadline: Instant? {
        // Asked on every turn of the event loop: no key path (a generic projection), no work when idle.
        guard !self.pings.isEmpty else { return nil }
        return self.pings.values.lazy.map { $0.startedAt }.min().map { $0 + self.config.timeout }
    }

    /// Takes an ICMP or ICMPv6 packet from the app (validated, not a fragment).
    public mutating func receive(_ packet: IPPacket, now: Instant) -> [ICMPEchoAction] {
        let repr: ICMPRepr
        do throws(WireError) {
            _ = try IPRepr.parse(packet)
            guard packet.protocol == ICMPRepr.ipProtocol(for: packet.source) else { throw .unsupported }
            repr = try ICMPRepr.parse(packet.payload, source: packet.source, destination: packet.destination)
        } catch {
            self.counters.dropped.record(error)
            return []
        }
        guard case .echoRequest = repr.message else {
            // Replies and errors from the app's kernel are about traffic the modem carries
            // for it; nothing here acts on them.
            self.counters.dropped.record(.unsupported)
            return []
        }
        // A modem pings one host: a broadcast or multicast "ping" has no one answer to give.
        guard !ICMPErrorReply.isGroupOrUnspecified(packet.destination) else {
            self.counters.dropped.record(.unsupported)
            return []
        }
        self.counters.requests += 1
        guard repr.payloadLength <= self.config.maximumDataLength,
              self.waitingCount < self.config.maximumWaiting else {
            self.counters.overLimit += 1
            return []
        }
        let destination = packet.destination
        let waiter = Waiter(packet: Self.bytes(of: packet), receivedAt: now)
        if var ping = self.pings[destination] {
            ping.waiters.append(waiter)
            self.pings[destination] = ping
            self.waitingCount += 1
            return []
        }
        guard self.pings.count < self.config.maximumPings else {
            self.counters.overLimit += 1
            return []
        }
        self.pings[destination] = Ping(startedAt: now, waiters: [waiter])
        self.waitingCount += 1
        self.counters.pings += 1
        return [.ping(destination, payloadLength: repr.payloadLength)]
    }

    /// The modem's ping of `address` finished: every request waiting on it is answered.
    public mutating func pinged(_ address: IPAddress, _ result: PingResult, now: Instant) -> [ICMPEchoAction] {
        guard let ping = self.pings.removeValue(forKey: address) else { return [] }
        self.waitingCount -= ping.waiters.count
        return ping.waiters.compactMap { waiter in
            let packet = waiter.packet.withUnsafeBytes { raw -> [UInt8]? in
                guard let request = try? IPPacket(validating: raw) else { return nil }
                switch result {
                case .reply(_, let ttl):
                    self.counters.replies += 1
                    return Self.echoReply(to: request, hopLimit: ttl ?? 64)
                case .failure:
                    self.counters.unreachable += 1
                    return ICMPErrorReply.packet(answering: request, with: .destinationUnreachable(.host))
                }
            }
            return packet.map { .reply($0) }
        }
    }

    /// Forgets pings that took longer than `timeout`: their requests go unanswered, which
    /// is what a lost ping looks like.
    public mutating func expire(now: Instant) {
        for (address, ping) in self.pings where now - ping.startedAt >= self.config.timeout {
            self.pings[address] = nil
            self.waitingCount -= ping.waiters.count
            self.counters.timedOut += ping.waiters.count
        }
    }

    /// RFC 792 / RFC 4443 §4.2: the reply swaps the addresses and returns identifier,
    /// sequence number and data unchanged.
    static func echoReply(to request: IPPacket, hopLimit: UInt8) -> [UInt8]? {
        guard let icmp = try? ICMPRepr.parse(request.payload, source: request.source, destination: request.destination),
              case .echoRequest(let id, let seq) = icmp.message else { return nil }
        let reply = ICMPRepr(message: .echoReply(identifier: id, sequence: seq), payloadLength: icmp.payloadLength)
        let ip = IPRepr(source: request.destination, destination: request.source,
                        protocol: ICMPRepr.ipProtocol(for: request.source), payloadLength: reply.bufferLength,
                        hopLimit: hopLimit)
        var out = [UInt8](repeating: 0, count: ip.bufferLength)
        out.withUnsafeMutableBytes { buffer in
            ip.emit(into: buffer)
            reply.emit(into: UnsafeMutableRawBufferPointer(rebasing: buffer[ip.headerLength...]),
                       source: request.destination, destination: request.source) { data in
                data.copyMemory(from: UnsafeRawBufferPointer(rebasing: request.payload[ICMPRepr.headerLength...]))
            }
        }
        return out
    }

    private static func bytes(of packet: IPPacket) -> [UInt8] {
        switch packet {
        case .v4(let p): Array(p.bytes)
        case .v6(let p): Array(p.bytes)
        }
    }
}
