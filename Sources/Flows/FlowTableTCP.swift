import Buffers
import Wire

/// What became of a TCP segment handed to the flow table.
public enum FlowTableTCPArrival: Sendable {
    /// It went to the flow's endpoint: dispatch that flow.
    case delivered
    /// A SYN created a flow: the bridge opens a modem socket for it, then calls
    /// `modemOpened` (or `modemRefused` / `modemUnreachable`) on its endpoint.
    case opened
    /// No flow for it: send this RST to the app (RFC 9293 §3.10.7.1).
    case reset(TCPRepr)
    /// A SYN arrived with the table full: send this RST to the app.
    case refused(TCPRepr)
    /// Dropped without answer (a stray RST, or a non-SYN with no flow and no reply due).
    case dropped
}

extension FlowTable {
    /// Routes a TCP segment from the app: to its flow, or creating one for a SYN, or
    /// answering with RST when there is no flow. `packet` is the whole IP packet; a new
    /// flow keeps a copy of its SYN for `unreachableReply(for:)`.
    public mutating func receiveTCP(
        _ segment: TCPRepr, payload: UnsafeRawBufferPointer, key: FlowKey, now: Instant,
        packet: UnsafeRawBufferPointer? = nil
    ) -> FlowTableTCPArrival {
        let isPureSYN = segment.flags.contains(.syn) && !segment.flags.contains(.rst) && segment.ackNumber == nil
        if let state = records[key]?.tcp?.state {
            // A new SYN for a pair in TIME-WAIT (or already closed) starts a new connection
            // (RFC 9293 §3.6.1 / RFC 6191: the old incarnation is over).
            if isPureSYN, state == .timeWait || state == .closed {
                remove(key, now: now)
            } else {
                withTCP(key) { $0.process(segment, payload: payload, now: now) }
                return .delivered
            }
        }
        guard isPureSYN else {
            guard let reply = TCPEndpoint.resetReply(to: segment, payloadLength: payload.count) else { return .dropped }
            counters.resetsForUnknownFlows += 1
            return .reset(reply)
        }
        guard makeRoom(now: now) else {
            counters.refusedTableFull += 1
            return TCPEndpoint.resetReply(to: segment, payloadLength: payload.count).map { .refused($0) } ?? .dropped
        }
        guard let endpoint = TCPEndpoint(
            syn: segment, initialSequence: initialSequence(for: key, now: now), now: now,
            config: tcpConfig(for: key), budget: budget)
        else { return .dropped }
        var record = FlowRecord(key: key, openedAt: now, tcp: endpoint, otherLastActivityAt: now)
        record.refreshPoll()
        if let packet, packet.count <= Self.heldSYNLimit { record.heldSYN = Array(packet) }
        records[key] = record
        counters.opened += 1
        return .opened
    }

    /// A SYN with every option is 60 bytes of TCP after 20 (IPv4) or 40 (IPv6) of IP, plus
    /// any IPv6 extension headers: this bounds what a waiting flow keeps.
    static var heldSYNLimit: Int { 160 }

    /// The ICMP destination unreachable (whole IP packet) that answers the SYN of a flow the
    /// modem has no route for (`TCPEndpoint.wantsUnreachable`), quoting the SYN as RFC 792
    /// and RFC 4443 ask; nil if there is no such flow, or its SYN was not kept.
    public func unreachableReply(for key: FlowKey, reason: ICMPUnreachable = .host) -> [UInt8]? {
        guard let record = records[key], record.tcp?.wantsUnreachable == true, let syn = record.heldSYN else {
            return nil
        }
        return syn.withUnsafeBytes { raw in
            guard let packet = try? IPPacket(validating: raw) else { return nil }
            return ICMPErrorReply.packet(answering: packet, with: .destinationUnreachable(reason))
        }
    }

    /// Runs `body` on the endpoint of `key` (modem events, `dispatch`); nil if there is
    /// no such TCP flow.
    public mutating func withTCP<R, E: Error>(
        _ key: FlowKey, _ body: (inout TCPEndpoint) throws(E) -> R
    ) throws(E) -> R? {
        // In place, through the dictionary's modify accessor: one hash lookup, and the
        // endpoint and its buffers are neither copied nor left shared (no copy-on-write of
        // payload bytes). Taking it out and putting it back cost three lookups and four
        // copies of the record on every packet.
        guard let index = records.index(forKey: key) else { return nil }
        return try records.values[index].withEndpoint(body)
    }

    /// `tcpConfig` states the MSS for IPv4; an IPv6 header is 20 bytes longer, so the same
    /// MTU leaves 20 bytes less for the segment (RFC 8200 §5, RFC 9293 §3.7.1).
    func tcpConfig(for key: FlowKey) -> TCPConfig {
        var config = tcpConfig
        if case .v6 = key.appAddress {
            config.maxSegmentSize = max(0, config.maxSegmentSize - 20)
        }
        return config
    }

    /// RFC 6528: ISN = M + F(4-tuple, secret), M a 4 µs clock. F is the standard
    /// library's keyed SipHash (`Hasher`, seeded randomly per process).
    func initialSequence(for key: FlowKey, now: Instant) -> SeqNumber {
        var hasher = Hasher()
        hasher.combine(key)
        hasher.combine(isnSecret)
        let f = UInt32(truncatingIfNeeded: hasher.finalize())
        let m = UInt32(truncatingIfNeeded: now.nanoseconds / 4_000)
        return SeqNumber(rawValue: m &+ f)
    }
}
