/// A TCP segment header as values: what the endpoint reasons about and what it emits.
///
/// Parsed from a `TCPPacket` (checksum verified against the pseudo-header), and emitted in
/// place in front of a payload that stays wherever it already is.
public struct TCPRepr: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: SeqNumber
    /// The acknowledgment number; present exactly when the segment has the ACK flag.
    public var ackNumber: SeqNumber?
    /// SYN, FIN, RST and PSH only (`TCPFlags.control`): ACK is `ackNumber != nil`.
    public var flags: TCPFlags
    /// The window field, raw: the receiver applies the scale negotiated on the SYN.
    public var windowLength: UInt16
    public var maxSegmentSize: UInt16?
    /// The shift count offered on a SYN, already clamped to 14 (RFC 7323 §2.3).
    public var windowScale: UInt8?
    public var sackPermitted: Bool
    public var sackRanges: SACKBlocks
    public var timestamp: TCPTimestamp?
    /// Bytes of payload that follow the header.
    public var payloadLength: Int

    public init(
        sourcePort: UInt16, destinationPort: UInt16,
        sequenceNumber: SeqNumber, ackNumber: SeqNumber?,
        flags: TCPFlags, windowLength: UInt16,
        maxSegmentSize: UInt16? = nil, windowScale: UInt8? = nil,
        sackPermitted: Bool = false, sackRanges: SACKBlocks = [],
        timestamp: TCPTimestamp? = nil, payloadLength: Int = 0
    ) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.ackNumber = ackNumber
        self.flags = flags.intersection(.control)
        self.windowLength = windowLength
        self.maxSegmentSize = maxSegmentSize
        self.windowScale = windowScale
        self.sackPermitted = sackPermitted
        self.sackRanges = sackRanges
        self.timestamp = timestamp
        self.payloadLength = payloadLength
    }

    /// RFC 7323 §2.3: a larger shift is logged and treated as 14.
    public static let maximumWindowScale: UInt8 = 14

    /// The room sequence space this segment takes: payload, plus one each for SYN and FIN.
    public var segmentLength: Int {
        self.payloadLength + (self.flags.contains(.syn) ? 1 : 0) + (self.flags.contains(.fin) ? 1 : 0)
    }

    // MARK: Parsing

    /// Parses a segment that arrived from `source` to `destination`.
    ///
    /// Throws `.badChecksum` when the checksum over pseudo-header and segment is wrong,
    /// `.malformed` for SYN combined with RST or FIN (no RFC 9293 state accepts either and
    /// they are scanner probes) and for options whose length is impossible.
    public static func parse(
        _ packet: TCPPacket, source: IPAddress, destination: IPAddress
    ) throws(WireError) -> TCPRepr {
        guard packet.verifyChecksum(source: source, destination: destination) else { throw .badChecksum }
        let raw = packet.flags
        if raw.contains(.syn), !raw.isDisjoint(with: [.rst, .fin]) { throw .malformed }
        // Port 0 is reserved (RFC 6335 §6) and cannot name either end of a connection.
        if packet.sourcePort == 0 || packet.destinationPort == 0 { throw .malformed }
        var repr = TCPRepr(
            sourcePort: packet.sourcePort, destinationPort: packet.destinationPort,
            sequenceNumber: packet.sequenceNumber,
            ackNumber: raw.contains(.ack) ? packet.ackNumber : nil,
            flags: raw, windowLength: packet.windowLength,
            payloadLength: packet.payload.count)
        try repr.parseOptions(packet.options)
        return repr
    }

    /// Validates `bytes` as a segment and parses it.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, source: IPAddress, destination: IPAddress
    ) throws(WireError) -> TCPRepr {
        try parse(TCPPacket(validating: bytes), source: source, destination: destination)
    }

    /// RFC 9293 §3.2: kinds 0 and 1 are one byte, every other option is kind, length
    /// (counting both), data. Unknown kinds are skipped by their length.
    private mutating func parseOptions(_ options: UnsafeRawBufferPointer) throws(WireError) {
        var i = 0
        while i < options.count {
            let kind = options[i]
            if kind == TCPOptionKind.endOfList { return }
            if kind == TCPOptionKind.noOperation {
                i += 1
                continue
            }
            guard i + 1 < options.count else { throw .malformed }
            let length = Int(options[i + 1])
            guard length >= 2, i + length <= options.count else { throw .malformed }
            let data = options.slice((i + 2)..<(i + length))
            switch kind {
            case TCPOptionKind.maxSegmentSize:
                guard data.count == 2 else { throw .malformed }
                self.maxSegmentSize = data.readUInt16(at: 0)
            case TCPOptionKind.windowScale:
                guard data.count == 1 else { throw .malformed }
                self.windowScale = Swift.min(data[0], Self.maximumWindowScale)
            case TCPOptionKind.sackPermitted:
                guard data.isEmpty else { throw .malformed }
                self.sackPermitted = true
            case TCPOptionKind.sack:
                guard data.count % 8 == 0, data.count >= 8, data.count <= 8 * SACKBlocks.capacity
                else { throw .malformed }
                var blocks = SACKBlocks()
                for offset in stride(from: 0, to: data.count, by: 8) {
                    blocks.append(.init(left: SeqNumber(data.readUInt32(at: offset)),
                                        right: SeqNumber(data.readUInt32(at: offset + 4))))
                }
                self.sackRanges = blocks
            case TCPOptionKind.timestamp:
                guard data.count == 8 else { throw .malformed }
                self.timestamp = TCPTimestamp(value: data.readUInt32(at: 0), echoReply: data.readUInt32(at: 4))
            default:
                break
            }
            i += length
        }
    }

    // MARK: Emitting

    /// How many SACK blocks fit after the other options (40 option bytes at most).
    private var emittedSACKCount: Int {
        guard !self.sackRanges.isEmpty else { return 0 }
        let room = 40 - self.optionsLengthWithoutSACK - 4  // NOP, NOP, kind, length
        return Swift.max(0, Swift.min(self.sackRanges.count, room / 8))
    }

    /// Options laid out as Linux does, each padded to a 4-byte boundary with NOPs:
    /// MSS (4) · SACK-permitted + timestamps (12) or NOP NOP + timestamps (12) or
    /// NOP NOP + SACK-permitted (4) · NOP + window scale (4) · NOP NOP + SACK blocks.
    private var optionsLengthWithoutSACK: Int {
        var length = 0
        if self.maxSegmentSize != nil { length += 4 }
        if self.timestamp != nil { length += 12 } else if self.sackPermitted { length += 4 }
        if self.windowScale != nil { length += 4 }
        return length
    }

    /// The header length this repr emits: 20 bytes plus options, a multiple of 4.
    public var headerLength: Int {
        let sack = self.emittedSACKCount
        return 20 + self.optionsLengthWithoutSACK + (sack > 0 ? 4 + 8 * sack : 0)
    }

    /// Header plus payload.
    public var bufferLength: Int { self.headerLength + self.payloadLength }

    /// Writes the header into the first `headerLength` bytes of `header`, its checksum
    /// covering `payload` where it lies (a slot of the ring, a modem read span).
    ///
    /// - Precondition: `header.count >= headerLength` and `payload.count == payloadLength`
    ///   (both are the caller's arithmetic, never input).
    public func emit(
        into header: UnsafeMutableRawBufferPointer,
        source: IPAddress, destination: IPAddress,
        payload: UnsafeRawBufferPointer
    ) {
        precondition(payload.count == self.payloadLength, "payload length differs from the repr's")
        let length = self.headerLength
        precondition(header.count >= length, "header buffer too small")
        let h = header.slice(0..<length)
        self.writeHeader(h)
        var sum = Checksum.pseudoHeader(
            source: source, destination: destination, protocol: .tcp, length: length + payload.count)
        sum.add(UnsafeRawBufferPointer(h))
        sum.add(payload)
        h.write(sum.value, at: TCPPacket.Field.checksum)
    }

    /// Writes a whole segment into `buffer` (at least `bufferLength` bytes): the header,
    /// then `writePayload` fills the `payloadLength` bytes after it, then the checksum.
    public func emit(
        into buffer: UnsafeMutableRawBufferPointer,
        source: IPAddress, destination: IPAddress,
        writePayload: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        let length = self.headerLength
        precondition(buffer.count >= length + self.payloadLength, "segment buffer too small")
        let payload = buffer.slice(length..<(length + self.payloadLength))
        writePayload(payload)
        self.emit(into: buffer.slice(0..<length), source: source, destination: destination,
                  payload: UnsafeRawBufferPointer(payload))
    }

    private func writeHeader(_ h: UnsafeMutableRawBufferPointer) {
        typealias F = TCPPacket.Field
        h.write(self.sourcePort, at: F.sourcePort)
        h.write(self.destinationPort, at: F.destinationPort)
        h.write(self.sequenceNumber.rawValue, at: F.sequenceNumber)
        h.write(self.ackNumber?.rawValue ?? 0, at: F.ackNumber)
        h[F.dataOffset] = UInt8(truncatingIfNeeded: h.count / 4) << 4
        var flags = self.flags.intersection(.control)
        if self.ackNumber != nil { flags.insert(.ack) }
        h[F.flags] = flags.rawValue
        h.write(self.windowLength, at: F.window)
        h.write(0 as UInt16, at: F.checksum)
        h.write(0 as UInt16, at: F.urgentPointer)

        var i = F.options
        func byte(_ b: UInt8) { h[i] = b; i += 1 }
        if let mss = self.maxSegmentSize {
            byte(TCPOptionKind.maxSegmentSize); byte(4)
            h.write(mss, at: i); i += 2
        }
        if let ts = self.timestamp {
            if self.sackPermitted {
                byte(TCPOptionKind.sackPermitted); byte(2)
            } else {
                byte(TCPOptionKind.noOperation); byte(TCPOptionKind.noOperation)
            }
            byte(TCPOptionKind.timestamp); byte(10)
            h.write(ts.value, at: i); i += 4
            h.write(ts.echoReply, at: i); i += 4
        } else if self.sackPermitted {
            byte(TCPOptionKind.noOperation); byte(TCPOptionKind.noOperation)
            byte(TCPOptionKind.sackPermitted); byte(2)
        }
        if let scale = self.windowScale {
            byte(TCPOptionKind.noOperation)
            byte(TCPOptionKind.windowScale); byte(3)
            byte(Swift.min(scale, Self.maximumWindowScale))
        }
        let sackCount = self.emittedSACKCount
        if sackCount > 0 {
            byte(TCPOptionKind.noOperation); byte(TCPOptionKind.noOperation)
            byte(TCPOptionKind.sack); byte(UInt8(2 + 8 * sackCount))
            for block in self.sackRanges.prefix(sackCount) {
                h.write(block.left.rawValue, at: i); i += 4
                h.write(block.right.rawValue, at: i); i += 4
            }
        }
    }
}

extension TCPRepr: CustomStringConvertible {
    public var description: String {
        var s = "TCP \(self.sourcePort)>\(self.destinationPort) seq=\(self.sequenceNumber)"
        if let ack = self.ackNumber { s += " ack=\(ack)" }
        s += " \(self.flags) win=\(self.windowLength) len=\(self.payloadLength)"
        if let mss = self.maxSegmentSize { s += " mss=\(mss)" }
        if let ws = self.windowScale { s += " ws=\(ws)" }
        if self.sackPermitted { s += " sackOK" }
        if !self.sackRanges.isEmpty {
            s += " sack=" + self.sackRanges.map { "\($0.left)-\($0.right)" }.joined(separator: ",")
        }
        if let ts = self.timestamp { s += " ts=\(ts.value)/\(ts.echoReply)" }
        return s
    }
}
