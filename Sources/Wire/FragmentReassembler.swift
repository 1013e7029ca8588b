import Buffers

/// Reassembles fragmented IPv4 and IPv6 datagrams, within hard limits.
///
/// Fragments are copied out of the ring (they are rare on a TUN: only a sender that
/// ignores the path MTU, or a UDP datagram above it, produces them), and the whole
/// datagram comes back as one ordinary packet, header rewritten, to be parsed again like
/// any other. Limits bound what an attacker (or a broken sender) can make the daemon hold:
/// fragments and bytes per datagram, datagrams and bytes in total, and time.
///
/// Overlaps follow RFC 5722 for both families: an exact duplicate is ignored, any other
/// overlap discards the datagram and every fragment of it that arrives until it expires.
public struct FragmentReassembler {
    public struct Limits: Hashable, Sendable {
        /// Datagrams being reassembled at once (discarded ones still waiting out their
        /// timeout count too).
        public var maximumDatagrams: Int
        public var maximumFragmentsPerDatagram: Int
        /// Bytes of fragment data held across all datagrams.
        public var maximumTotalBytes: Int
        /// From the first fragment; RFC 8200 §4.5 says 60 s, Linux uses 30 s for both.
        public var timeout: Duration

        public init(maximumDatagrams: Int = 32, maximumFragmentsPerDatagram: Int = 64,
                    maximumTotalBytes: Int = 256 * 1024, timeout: Duration = .seconds(30)) {
            self.maximumDatagrams = maximumDatagrams
            self.maximumFragmentsPerDatagram = maximumFragmentsPerDatagram
            self.maximumTotalBytes = maximumTotalBytes
            self.timeout = timeout
        }
    }

    /// What became of one fragment.
    public enum Outcome: Hashable, Sendable {
        /// Held until the rest arrive (or ignored as an exact duplicate).
        case held
        /// This fragment completed a datagram: the whole packet, ready to parse.
        case reassembled([UInt8])
        /// Refused; the reason is also counted in `drops`.
        case dropped(WireError)
    }

    /// RFC 791 §3.2 and RFC 8200 §4.5: addresses, identification and (IPv4) protocol.
    struct Key: Hashable {
        var source: IPAddress
        var destination: IPAddress
        var identification: UInt32
        var proto: UInt8
    }

    struct Piece {
        var offset: Int
        var data: [UInt8]
        var end: Int { self.offset + self.data.count }
    }

    struct Datagram {
        var started: Instant
        /// Sorted by offset, never overlapping.
        var pieces: [Piece] = []
        /// Known once the last fragment (more-fragments clear) has arrived.
        var dataLength: Int?
        /// The first fragment's header (IPv4) or unfragmentable part (IPv6).
        var header: [UInt8]?
        /// For IPv6: where in `header` the byte naming the fragment header is, and what the
        /// fragment header said comes next.
        var link: (offset: Int, next: UInt8)?
        /// Discarded after an overlap or a limit: later fragments are dropped unseen.
        var discarded = false
        /// The most data the reassembled packet's length field can describe; exact once
        /// the first fragment (and so the header length) is known.
        var room = Int.max

        var heldBytes: Int { self.pieces.reduce(0) { $0 + $1.data.count } }
    }

    public let limits: Limits
    public private(set) var drops = DropCounter()
    /// Datagrams completed.
    public private(set) var reassembledCount = 0
    private var datagrams: [Key: Datagram] = [:]
    /// Bytes of fragment data held now.
    public private(set) var heldBytes = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Datagrams in progress (or discarded and waiting out their timeout).
    public var datagramCount: Int { self.datagrams.count }

    /// When the oldest datagram expires; the caller's timer should fire then.
    public var nextDeadline: Instant? {
        // Asked on every turn of the event loop: no key path (a generic projection), no work when idle.
        guard !self.datagrams.isEmpty else { return nil }
        return self.datagrams.values.lazy.map { $0.started }.min().map { $0 + self.limits.timeout }
    }

    /// Drops every datagram whose time is up (counted as `fragmentTimeout` when it still
    /// held data; a discarded one just goes).
    public mutating func expire(now: Instant) {
        for (key, datagram) in self.datagrams where now - datagram.started >= self.limits.timeout {
            if !datagram.discarded { self.drops.record(.fragmentTimeout) }
            self.remove(key)
        }
    }

    // MARK: Feeding fragments

    /// Adds an IPv4 fragment (`packet.isFragment`); header checksum already verified.
    public mutating func add(_ packet: IPv4Packet, now: Instant) -> Outcome {
        let key = Key(source: .v4(packet.source), destination: .v4(packet.destination),
                      identification: UInt32(packet.identification), proto: packet.protocol.rawValue)
        let header = packet.fragmentOffset == 0 ? Array(packet.header) : nil
        // RFC 791: 16-bit total length bounds header plus data.
        let room = 65_535 - (header?.count ?? IPv4Packet.minimumHeaderLength)
        return self.add(key: key, offset: packet.fragmentOffset, more: packet.moreFragments,
                        data: packet.payload, header: header, link: nil, room: room, now: now)
    }

    /// Adds an IPv6 fragment (`packet.fragment != nil`).
    public mutating func add(_ packet: IPv6Packet, now: Instant) -> Outcome {
        guard let fragment = packet.fragment else { return self.drop(.malformed) }
        let key = Key(source: .v6(packet.source), destination: .v6(packet.destination),
                      identification: fragment.identification, proto: 0)
        let first = fragment.offset == 0
        let header = first ? Array(packet.bytes[0..<fragment.headerOffset]) : nil
        let data = packet.bytes.slice(from: fragment.dataOffset)
        // The payload length field covers the unfragmentable part after the fixed header.
        let room = 65_535 - ((header?.count ?? IPv6Packet.headerLength) - IPv6Packet.headerLength)
        return self.add(key: key, offset: fragment.offset, more: fragment.moreFragments, data: data,
                        header: header, link: first ? (fragment.linkOffset, fragment.nextHeader.rawValue) : nil,
                        room: room, now: now)
    }

    private mutating func add(
        key: Key, offset: Int, more: Bool, data: UnsafeRawBufferPointer,
        header: [UInt8]?, link: (offset: Int, next: UInt8)?, room: Int, now: Instant
    ) -> Outcome {
        self.expire(now: now)
        // RFC 791 §3.2 / RFC 8200 §4.5: every fragment but the last carries a multiple of 8.
        if more, data.count % 8 != 0 { return self.drop(.malformed) }
        if data.isEmpty, more { return self.drop(.malformed) }

        var datagram: Datagram
        if let existing = self.datagrams[key] {
            datagram = existing
        } else {
            guard self.datagrams.count < self.limits.maximumDatagrams else { return self.drop(.fragmentLimit) }
            datagram = Datagram(started: now)
        }
        if datagram.discarded { return self.drop(.fragmentOverlap) }
        datagram.room = min(datagram.room, room)
        if offset + data.count > datagram.room || (datagram.pieces.last?.end ?? 0) > datagram.room {
            return self.discard(key, &datagram, reason: .malformed)
        }

        // A second "last" fragment, or data past the known end, contradicts what came before.
        let end = offset + data.count
        if let known = datagram.dataLength, (!more && end != known) || end > known {
            return self.discard(key, &datagram, reason: .fragmentOverlap)
        }
        if !more, datagram.pieces.contains(where: { $0.end > end }) {
            return self.discard(key, &datagram, reason: .fragmentOverlap)
        }

        let index = datagram.pieces.firstIndex { $0.offset >= offset } ?? datagram.pieces.count
        let candidates = [index - 1, index].filter { $0 >= 0 && $0 < datagram.pieces.count }
        for i in candidates {
            let piece = datagram.pieces[i]
            guard piece.offset < end, offset < piece.end else { continue }
            if piece.offset == offset, piece.data.count == data.count, piece.data.elementsEqual(data) {
                self.datagrams[key] = datagram
                return .held
            }
            return self.discard(key, &datagram, reason: .fragmentOverlap)
        }

        guard datagram.pieces.count < self.limits.maximumFragmentsPerDatagram,
              self.heldBytes + data.count <= self.limits.maximumTotalBytes
        else { return self.discard(key, &datagram, reason: .fragmentLimit) }

        datagram.pieces.insert(Piece(offset: offset, data: Array(data)), at: index)
        self.heldBytes += data.count
        if !more { datagram.dataLength = end }
        if let header {
            datagram.header = header
            datagram.link = link
        }

        if let whole = Self.assemble(datagram) {
            self.remove(key, datagram)
            self.reassembledCount += 1
            return .reassembled(whole)
        }
        self.datagrams[key] = datagram
        return .held
    }

    private mutating func drop(_ reason: WireError) -> Outcome {
        self.drops.record(reason)
        return .dropped(reason)
    }

    /// Frees a datagram's data but remembers its key until the timeout, so the fragments
    /// still on their way are discarded too (RFC 5722 §4).
    private mutating func discard(_ key: Key, _ datagram: inout Datagram, reason: WireError) -> Outcome {
        self.heldBytes -= datagram.heldBytes
        datagram.pieces = []
        datagram.header = nil
        datagram.discarded = true
        self.datagrams[key] = datagram
        return self.drop(reason)
    }

    private mutating func remove(_ key: Key, _ datagram: Datagram? = nil) {
        if let gone = datagram ?? self.datagrams[key] { self.heldBytes -= gone.heldBytes }
        self.datagrams[key] = nil
    }

    /// The whole packet when every byte from 0 to the end is present, else nil.
    private static func assemble(_ datagram: Datagram) -> [UInt8]? {
        guard let length = datagram.dataLength, let header = datagram.header else { return nil }
        var next = 0
        for piece in datagram.pieces {
            guard piece.offset == next else { return nil }
            next = piece.end
        }
        guard next == length else { return nil }
        var packet = header
        packet.reserveCapacity(header.count + length)
        for piece in datagram.pieces { packet += piece.data }
        packet.withUnsafeMutableBytes { p in
            if let link = datagram.link {
                // IPv6: drop the fragment header by naming its successor, fix the length.
                p[link.offset] = link.next
                p.write(UInt16(truncatingIfNeeded: p.count - IPv6Packet.headerLength), at: IPv6Packet.Field.payloadLength)
            } else {
                typealias F = IPv4Packet.Field
                p.write(UInt16(truncatingIfNeeded: p.count), at: F.totalLength)
                let dontFragment = UnsafeRawBufferPointer(p).readUInt16(at: F.flagsAndFragmentOffset) & 0x4000
                p.write(dontFragment, at: F.flagsAndFragmentOffset)
                p.write(0 as UInt16, at: F.checksum)
                let headerLength = Int(p[0] & 0x0F) * 4
                p.write(Checksum.of(UnsafeRawBufferPointer(p.slice(0..<headerLength))), at: F.checksum)
            }
        }
        return packet
    }
}
