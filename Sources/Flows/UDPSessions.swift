import Buffers
import Wire

/// The UDP side of the daemon: app datagrams grouped into sessions, each carried by one
/// modem socket, expired when idle. Sans-I/O: it returns `UDPAction`s and is told the time.
///
/// Port 53 is not handled here: the bridge hands those datagrams to `DNSInterceptor`.
public struct UDPSessions {
    public struct Config: Hashable, Sendable {
        public var mapping: UDPMapping
        /// RFC 4787 REQ-5: at least 2 minutes, 5 recommended.
        public var idleTimeout: Duration
        public var maximumSessions: Int
        /// The largest payload one modem send carries; the bridge sets it from the modem's
        /// capabilities. Quectel QISEND takes 1460 bytes; SIMCom's SIM7028 manual allows 1500
        /// per CIPSEND but asks UDP to stay within 1400; OneMO MN316A/MN319 refuse more than
        /// 1232 over IPv6. The default is the smallest IPv4 figure of the three.
        public var maximumPayloadLength: Int
        /// Datagrams (and bytes) copied per session while its modem socket opens.
        public var maximumQueuedDatagrams: Int
        public var maximumQueuedBytes: Int

        public init(mapping: UDPMapping = .endpointIndependent, idleTimeout: Duration = .seconds(300),
                    maximumSessions: Int = 64, maximumPayloadLength: Int = 1400,
                    maximumQueuedDatagrams: Int = 8, maximumQueuedBytes: Int = 16 * 1024) {
            self.mapping = mapping
            self.idleTimeout = idleTimeout
            self.maximumSessions = maximumSessions
            self.maximumPayloadLength = maximumPayloadLength
            self.maximumQueuedDatagrams = maximumQueuedDatagrams
            self.maximumQueuedBytes = maximumQueuedBytes
        }
    }

    /// Why a datagram went nowhere; the stats socket shows these.
    public struct Drops: Hashable, Sendable {
        /// Refused by the packet layer (bad checksum, truncated, port 0...).
        public internal(set) var wire = DropCounter()
        /// No room for another session.
        public internal(set) var sessionLimit = 0
        /// Over the modem's payload limit (answered with ICMP where allowed).
        public internal(set) var tooBig = 0
        /// The opening socket's queue was full.
        public internal(set) var queueFull = 0
        /// The modem could not open a socket (answered with ICMP unreachable).
        public internal(set) var openFailed = 0
        /// Modem data for a session that no longer exists, or not fitting one packet.
        public internal(set) var undeliverable = 0
    }

    public let config: Config
    public private(set) var drops = Drops()
    private var sessions: [UDPSessionID: UDPSession] = [:]
    private var idsByKey: [UDPSessionKey: UDPSessionID] = [:]
    private var nextID: UInt64 = 1

    public init(config: Config = Config()) {
        self.config = config
    }

    public var count: Int { self.sessions.count }
    public subscript(id: UDPSessionID) -> UDPSession? { self.sessions[id] }
    public var all: [UDPSession] { self.sessions.values.sorted { $0.id < $1.id } }
    /// Bytes copied into opening sessions' queues.
    public var queuedBytes: Int { self.sessions.values.reduce(0) { $0 + $1.queuedBytes } }

    /// When the next session idles out.
    public var nextDeadline: Instant? {
        guard !self.sessions.isEmpty else { return nil }
        return self.sessions.values.lazy.map { $0.lastActivityAt }.min().map { $0 + self.config.idleTimeout }
    }

    // MARK: From the app

    /// Takes a UDP datagram from the app (a validated packet, not a fragment).
    public mutating func receive(_ packet: IPPacket, now: Instant) -> [UDPAction] {
        let repr: UDPRepr
        do throws(WireError) {
            _ = try IPRepr.parse(packet)
            guard packet.protocol == .udp else { throw .unsupported }
            repr = try UDPRepr.parse(packet.payload, source: packet.source, destination: packet.destination)
        } catch {
            self.drops.wire.record(error)
            return []
        }
        // Multicast and broadcast (mDNS, SSDP, DHCP) and link-local traffic end on the
        // local link: carrying them over the radio would spend a modem socket on nothing.
        guard Self.isCarriable(packet.destination) else {
            self.drops.wire.record(.unsupported)
            return []
        }
        if repr.payloadLength > self.config.maximumPayloadLength {
            self.drops.tooBig += 1
            return self.tooBig(packet).map { [.reply($0)] } ?? []
        }
        let app = UDPEndpoint(address: packet.source, port: repr.sourcePort)
        let remote = UDPEndpoint(address: packet.destination, port: repr.destinationPort)
        let key = UDPSessionKey(app: app, remote: self.config.mapping == .endpointIndependent ? nil : remote)
        let payload = Self.payloadRange(of: packet, length: repr.payloadLength)

        if let id = self.idsByKey[key], var session = self.sessions[id] {
            session.lastActivityAt = now
            session.datagramsFromApp += 1
            session.bytesFromApp += repr.payloadLength
            defer { self.sessions[id] = session }
            switch session.state {
            case .open:
                return [.send(id, to: remote, payload: .inPacket(payload))]
            case .opening:
                guard session.queue.count < self.config.maximumQueuedDatagrams,
                      session.queuedBytes + repr.payloadLength <= self.config.maximumQueuedBytes
                else {
                    self.drops.queueFull += 1
                    return []
                }
                session.queue.append(.init(remote: remote, payload: Array(packet.payload[UDPRepr.headerLength...])))
                session.queuedBytes += repr.payloadLength
                return []
            }
        }

        guard self.sessions.count < self.config.maximumSessions else {
            self.drops.sessionLimit += 1
            return []
        }
        let id = UDPSessionID(rawValue: self.nextID)
        self.nextID += 1
        var session = UDPSession(id: id, key: key, now: now, firstPacket: Self.bytes(of: packet))
        session.datagramsFromApp = 1
        session.bytesFromApp = repr.payloadLength
        session.queue = [.init(remote: remote, payload: Array(packet.payload[UDPRepr.headerLength...]))]
        session.queuedBytes = repr.payloadLength
        self.sessions[id] = session
        self.idsByKey[key] = id
        return [.open(id, remote: key.remote)]
    }

    // MARK: From the modem

    /// The modem socket is open: the datagrams queued meanwhile go out, in order.
    public mutating func opened(_ id: UDPSessionID, now: Instant) -> [UDPAction] {
        guard var session = self.sessions[id], session.state == .opening else { return [] }
        session.state = .open
        session.lastActivityAt = now
        let actions = session.queue.map { UDPAction.send(id, to: $0.remote, payload: .owned($0.payload)) }
        session.queue = []
        session.queuedBytes = 0
        session.firstPacket = []
        self.sessions[id] = session
        return actions
    }

    /// The modem could not open a socket: the session goes, and the app is told with
    /// "network unreachable" about its first datagram; the next one tries again.
    public mutating func openFailed(_ id: UDPSessionID) -> [UDPAction] {
        guard let session = self.remove(id) else { return [] }
        self.drops.openFailed += session.queue.count
        let reply = session.firstPacket.withUnsafeBytes { raw -> [UInt8]? in
            guard let original = try? IPPacket(validating: raw) else { return nil }
            return ICMPErrorReply.packet(answering: original, with: .destinationUnreachable(.network))
        }
        guard let reply else { return [] }
        return [.reply(reply)]
    }

    /// The modem closed the socket on its own: forget the session.
    public mutating func closed(_ id: UDPSessionID) {
        _ = self.remove(id)
    }

    /// A datagram from the modem for session `id`: writes the IP+UDP headers that carry
    /// `payload` (where it lies, in the serial ring) to the app into `header`, and returns
    /// their length; nil when it cannot be delivered (counted).
    ///
    /// `from` is the sender the modem reported; a connected session uses its own remote.
    public mutating func deliver(
        _ id: UDPSessionID, from sender: UDPEndpoint?, payload: UnsafeRawBufferPointer,
        header: UnsafeMutableRawBufferPointer, now: Instant
    ) -> Int? {
        guard var session = self.sessions[id], let remote = session.key.remote ?? sender,
              let length = UDPDatagram.emitHeaders(
                  into: header, source: remote.address, sourcePort: remote.port,
                  destination: session.key.app.address, destinationPort: session.key.app.port,
                  payload: payload)
        else {
            self.drops.undeliverable += 1
            return nil
        }
        // RFC 4787 REQ-6 allows inbound traffic to refresh the mapping; a reply stream
        // (video, a game) would otherwise be cut after five minutes of app silence.
        session.lastActivityAt = now
        session.datagramsToApp += 1
        session.bytesToApp += payload.count
        self.sessions[id] = session
        return length
    }

    // MARK: Time

    /// Closes the sessions idle for `idleTimeout`.
    public mutating func expire(now: Instant) -> [UDPAction] {
        let idle = self.sessions.values.filter { now - $0.lastActivityAt >= self.config.idleTimeout }
        return idle.sorted { $0.id < $1.id }.compactMap { session in
            _ = self.remove(session.id)
            // One still opening has no modem socket to close yet; the bridge's late
            // `opened` finds nothing and closes what it got.
            return session.state == .open ? .close(session.id) : nil
        }
    }

    // MARK: Helpers

    private mutating func remove(_ id: UDPSessionID) -> UDPSession? {
        guard let session = self.sessions.removeValue(forKey: id) else { return nil }
        self.idsByKey[session.key] = nil
        return session
    }

    /// RFC 1191 / RFC 8201: tell the app the size that fits, as a path MTU.
    private func tooBig(_ packet: IPPacket) -> [UInt8]? {
        let headers = UDPDatagram.headerLength(for: packet.source)
        var mtu = self.config.maximumPayloadLength + headers
        // RFC 8200 §5: no IPv6 link is below 1280; a smaller figure would be ignored.
        if case .v6 = packet.source { mtu = max(mtu, 1280) }
        return ICMPErrorReply.packet(answering: packet, with: .packetTooBig(mtu: mtu))
    }

    /// True for a unicast address beyond the local link.
    static func isCarriable(_ address: IPAddress) -> Bool {
        if ICMPErrorReply.isGroupOrUnspecified(address) { return false }
        switch address {
        case .v4(let a):
            // 169.254.0.0/16 (RFC 3927) and the subnet-directed form of broadcast the
            // daemon cannot know; only the link-local block is refused.
            return a.rawValue >> 16 != 0xA9FE
        case .v6(let a):
            // fe80::/10 (RFC 4291 §2.5.6).
            return a.high >> 54 != 0x3FA
        }
    }

    private static func payloadRange(of packet: IPPacket, length: Int) -> Range<Int> {
        let end: Int
        switch packet {
        case .v4(let p): end = p.bytes.count
        case .v6(let p): end = p.bytes.count
        }
        // The UDP length field may stop short of the IP payload's end (padding).
        let start = end - packet.payload.count + UDPRepr.headerLength
        return start..<(start + length)
    }

    private static func bytes(of packet: IPPacket) -> [UInt8] {
        switch packet {
        case .v4(let p): Array(p.bytes)
        case .v6(let p): Array(p.bytes)
        }
    }
}
