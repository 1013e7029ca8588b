import Testing
@testable import Wire

/// Runs `body` on the TCP part of a captured IPv4 packet (header length from IHL).
private func withTCP<R>(_ packet: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try packet.withUnsafeBytes { raw in
        let ihl = Int(raw[0] & 0x0F) * 4
        return try body(UnsafeRawBufferPointer(rebasing: raw[ihl...]))
    }
}

private func parseTCP(_ segment: [UInt8], _ src: IPAddress = host1, _ dst: IPAddress = host2) throws(WireError) -> TCPRepr {
    let r: Result<TCPRepr, WireError> = segment.withUnsafeBytes { raw in
        Result { () throws(WireError) in try TCPRepr.parse(raw, source: src, destination: dst) }
    }
    return try r.get()
}

/// Emits `repr` with `payload` into a fresh array, header and payload side by side.
func emitTCP(_ repr: TCPRepr, payload: [UInt8] = [], _ src: IPAddress = host1, _ dst: IPAddress = host2) -> [UInt8] {
    var out = [UInt8](repeating: 0xEE, count: repr.headerLength)
    out.withUnsafeMutableBytes { h in
        payload.withUnsafeBytes { p in repr.emit(into: h, source: src, destination: dst, payload: p) }
    }
    return out + payload
}

/// A segment with the given raw options, checksummed for host1 -> host2.
private func segment(options: [UInt8], flags: UInt8 = 0x02, payload: [UInt8] = []) -> [UInt8] {
    precondition(options.count % 4 == 0)
    var s: [UInt8] = [0x9E, 0x8A, 0x1F, 0x90, 0, 0, 0, 1, 0, 0, 0, 0,
                      UInt8((20 + options.count) / 4) << 4, flags, 0xFA, 0xF0, 0, 0, 0, 0]
    s += options + payload
    var sum = Checksum.pseudoHeader(source: host1, destination: host2, protocol: .tcp, length: s.count)
    sum.add(s)
    s[16] = UInt8(sum.value >> 8)
    s[17] = UInt8(sum.value & 0xFF)
    return s
}

@Suite("TCP golden bytes")
struct TCPGoldenTests {
    /// Linux's SYN, decoded by hand: 9e8a 1f90 | df84428d | 00000000 | a0 02 faf0 | 953a 0000 |
    /// 020405b4 (MSS 1460) 0402 (SACK-permitted) 080a d1f1f19e 00000000 (TS) 01 (NOP) 03030a (WS 10).
    @Test func linuxSYN() throws {
        let repr = try parseTCP(Array(Captured.ipv4TcpSyn[20...]))
        #expect(repr.sourcePort == 40586)
        #expect(repr.destinationPort == 8080)
        #expect(repr.sequenceNumber == SeqNumber(0xDF84_428D))
        #expect(repr.ackNumber == nil)
        #expect(repr.flags == .syn)
        #expect(repr.windowLength == 64240)
        #expect(repr.maxSegmentSize == 1460)
        #expect(repr.sackPermitted)
        #expect(repr.timestamp == TCPTimestamp(value: 0xD1F1_F19E, echoReply: 0))
        #expect(repr.windowScale == 10)
        #expect(repr.sackRanges.isEmpty)
        #expect(repr.payloadLength == 0)
        #expect(repr.segmentLength == 1)
        #expect(repr.headerLength == 40)
    }

    /// Emitting the parsed SYN gives back Linux's bytes exactly, checksum 953a included:
    /// the option layout is Linux's own.
    @Test func linuxSYNRoundTrips() throws {
        let captured = Array(Captured.ipv4TcpSyn[20...])
        let repr = try parseTCP(captured)
        #expect(hex(emitTCP(repr)) == hex(captured))
    }

    /// Linux's SYN-ACK to our SYN (seq 1000, TSval 1): ack 1001 (0x3e9), TSecr echoes 1.
    @Test func linuxSYNACK() throws {
        let captured = Array(Captured.ipv4TcpSynack[20...])
        let repr = try parseTCP(captured, host1, host2)
        #expect(repr.sourcePort == 7777)
        #expect(repr.destinationPort == 40000)
        #expect(repr.sequenceNumber == SeqNumber(0xDADA_F29C))
        #expect(repr.ackNumber == SeqNumber(1001))
        #expect(repr.flags == .syn)
        #expect(repr.windowLength == 65160)
        #expect(repr.maxSegmentSize == 1460)
        #expect(repr.timestamp == TCPTimestamp(value: 0xFDD7_A26E, echoReply: 1))
        #expect(repr.windowScale == 10)
        #expect(hex(emitTCP(repr)) == hex(captured))
    }

    /// The IPv6 SYN checks against the IPv6 pseudo-header, and fails against IPv4's.
    @Test func linuxIPv6SYN() throws {
        let captured = Array(Captured.ipv6TcpSyn[40...])
        let repr = try parseTCP(captured, host6a, host6b)
        #expect(repr.maxSegmentSize == 1440)
        #expect(repr.windowLength == 64800)
        #expect(hex(emitTCP(repr, payload: [], host6a, host6b)) == hex(captured))
        #expect(throws: WireError.badChecksum) { try parseTCP(captured, host1, host2) }
    }

    /// The view reads the same fields the repr holds.
    @Test func viewAccessors() throws {
        try withTCP(Captured.ipv4TcpSyn) { raw in
            let p = try TCPPacket(validating: raw)
            #expect(p.headerLength == 40)
            #expect(p.flags == .syn)
            #expect(p.checksum == 0x953A)
            #expect(p.urgentPointer == 0)
            #expect(p.options.count == 20)
            #expect(p.payload.isEmpty)
            #expect(p.verifyChecksum(source: host1, destination: host2))
            #expect(!p.verifyChecksum(source: host2, destination: .v4(IPv4Address(10, 9, 0, 3))))
        }
    }
}

@Suite("TCP emit")
struct TCPEmitTests {
    private let base = TCPRepr(
        sourcePort: 8080, destinationPort: 40586, sequenceNumber: SeqNumber(UInt32.max - 2),
        ackNumber: SeqNumber(7), flags: [.psh], windowLength: 502)

    @Test func dataSegmentRoundTrips() throws {
        var repr = self.base
        let payload = Array("hello, modem".utf8)
        repr.payloadLength = payload.count
        repr.timestamp = TCPTimestamp(value: 5, echoReply: 6)
        let wire = emitTCP(repr, payload: payload)
        #expect(wire.count == 20 + 12 + payload.count)
        #expect(wire[13] == 0x18)  // PSH|ACK
        let back = try parseTCP(wire)
        #expect(back == repr)
        #expect(back.segmentLength == payload.count)
    }

    /// The closure form writes the payload in place and checksums it the same.
    @Test func closureFormMatchesBufferForm() {
        var repr = self.base
        repr.payloadLength = 5
        let expected = emitTCP(repr, payload: [1, 2, 3, 4, 5])
        var out = [UInt8](repeating: 0, count: repr.bufferLength)
        out.withUnsafeMutableBytes { buf in
            repr.emit(into: buf, source: host1, destination: host2) { p in
                for i in 0..<p.count { p[i] = UInt8(i + 1) }
            }
        }
        #expect(out == expected)
    }

    /// SACK blocks fill what the other options leave of 40 bytes: 4 alone, 3 with timestamps.
    @Test func sackBlocksLimitedByOptionSpace() throws {
        var repr = self.base
        let blocks: SACKBlocks = [
            .init(left: SeqNumber(100), right: SeqNumber(200)), .init(left: SeqNumber(300), right: SeqNumber(400)),
            .init(left: SeqNumber(500), right: SeqNumber(600)), .init(left: SeqNumber(700), right: SeqNumber(800)),
        ]
        repr.sackRanges = blocks
        #expect(repr.headerLength == 20 + 4 + 32)
        #expect(try parseTCP(emitTCP(repr)).sackRanges == blocks)

        repr.timestamp = TCPTimestamp(value: 1, echoReply: 2)
        #expect(repr.headerLength == 20 + 12 + 4 + 24)
        let back = try parseTCP(emitTCP(repr))
        #expect(Array(back.sackRanges) == Array(blocks.prefix(3)))
        #expect(back.timestamp == repr.timestamp)
    }

    @Test(arguments: [
        (nil, nil, false, false, 20), (1460, nil, false, false, 24), (nil, 7, false, false, 24),
        (nil, nil, true, false, 24), (nil, nil, false, true, 32), (nil, nil, true, true, 32),
        (1460, 7, true, true, 40),
    ] as [(UInt16?, UInt8?, Bool, Bool, Int)])
    func everyOptionCombinationRoundTrips(mss: UInt16?, scale: UInt8?, sackOK: Bool, ts: Bool, length: Int) throws {
        var repr = self.base
        repr.ackNumber = nil
        repr.flags = .syn
        repr.maxSegmentSize = mss
        repr.windowScale = scale
        repr.sackPermitted = sackOK
        repr.timestamp = ts ? TCPTimestamp(value: 9, echoReply: 0) : nil
        #expect(repr.headerLength == length)
        let wire = emitTCP(repr)
        #expect(wire.count == length)
        #expect(try parseTCP(wire) == repr)
    }

    /// A scale above 14 is emitted as 14 (RFC 7323 §2.3).
    @Test func windowScaleClampedOnEmit() throws {
        var repr = self.base
        repr.windowScale = 20
        #expect(try parseTCP(emitTCP(repr)).windowScale == 14)
    }

    /// Flags outside SYN/FIN/RST/PSH never reach the wire from a repr.
    @Test func onlyControlFlagsEmitted() {
        var repr = self.base
        repr.flags = [.urg, .ece, .cwr, .fin]
        repr.ackNumber = nil
        #expect(emitTCP(repr)[13] == TCPFlags.fin.rawValue)
    }
}

@Suite("TCP bad input")
struct TCPBadInputTests {
    /// Every prefix of a valid segment is refused: truncated while the header is cut,
    /// bad checksum once only payload is missing.
    @Test func everyTruncation() {
        let full = Array(Captured.ipv4TcpSyn[20...]) // 40-byte header, no payload
        var repr = TCPRepr(sourcePort: 1, destinationPort: 2, sequenceNumber: SeqNumber(3),
                           ackNumber: SeqNumber(4), flags: [], windowLength: 5, payloadLength: 10)
        repr.timestamp = TCPTimestamp(value: 1, echoReply: 1)
        let withPayload = emitTCP(repr, payload: Array(0..<10))
        for (segment, header) in [(full, 40), (withPayload, 32)] {
            for length in 0..<segment.count {
                let expected: WireError = length < header ? .truncated : .badChecksum
                #expect(throws: expected, "length \(length)") { try parseTCP(Array(segment[..<length])) }
            }
        }
    }

    @Test func dataOffsetBelowMinimumIsMalformed() {
        var s = segment(options: [])
        s[12] = 0x40
        #expect(throws: WireError.malformed) { try parseTCP(s) }
    }

    /// A data offset of 15 words on a 20-byte segment claims bytes that are not there.
    @Test func dataOffsetBeyondBufferIsTruncated() {
        var s = segment(options: [])
        s[12] = 0xF0
        #expect(throws: WireError.truncated) { try parseTCP(s) }
    }

    @Test func corruptedPayloadFailsChecksum() {
        var s = segment(options: [], flags: 0x18, payload: [1, 2, 3])
        s[21] ^= 0x80
        #expect(throws: WireError.badChecksum) { try parseTCP(s) }
    }

    @Test(arguments: [
        [0x02, 0x00, 0x01, 0x01],             // length 0
        [0x02, 0x01, 0x01, 0x01],             // length 1
        [0x01, 0x01, 0x01, 0x02],             // kind with no length byte
        [0x02, 0x05, 0x05, 0xB4],             // length past the end
        [0x02, 0x03, 0x05, 0x01],             // MSS of 3 bytes
        [0x03, 0x04, 0x07, 0x01],             // window scale of 4 bytes
        [0x04, 0x03, 0x00, 0x01],             // SACK-permitted with data
        [0x05, 0x02, 0x01, 0x01],             // SACK with no blocks
        [0x05, 0x06, 0, 0, 0, 0, 1, 1],       // SACK of 4 bytes
        [0x08, 0x06, 0, 0, 0, 0, 1, 1],       // timestamps of 4 bytes
    ] as [[UInt8]])
    func malformedOptions(options: [UInt8]) {
        #expect(throws: WireError.malformed) { try parseTCP(segment(options: options)) }
    }

    @Test func unknownOptionsSkippedAndEndOfListStops() throws {
        // Kind 30 (MPTCP) of 4 bytes, then MSS, then EOL and junk that is never read.
        let s = segment(options: [30, 4, 0xAA, 0xBB, 2, 4, 0x05, 0x78, 0, 0xFF, 0x00, 0x17])
        let repr = try parseTCP(s)
        #expect(repr.maxSegmentSize == 1400)
        #expect(repr.windowScale == nil)
    }

    @Test func oversizedWindowScaleClampedOnParse() throws {
        #expect(try parseTCP(segment(options: [1, 3, 3, 200])).windowScale == 14)
    }

    @Test(arguments: [0x03, 0x06, 0x07] as [UInt8])  // SYN+FIN, SYN+RST, SYN+FIN+RST
    func synWithFinOrRstIsMalformed(flags: UInt8) {
        #expect(throws: WireError.malformed) { try parseTCP(segment(options: [], flags: flags)) }
    }

    @Test func finWithRstIsKept() throws {
        #expect(try parseTCP(segment(options: [], flags: 0x15)).flags == [.fin, .rst])
    }

    @Test func portZeroIsMalformed() {
        var repr = TCPRepr(sourcePort: 0, destinationPort: 80, sequenceNumber: SeqNumber(1),
                           ackNumber: nil, flags: .syn, windowLength: 1)
        #expect(throws: WireError.malformed) { try parseTCP(emitTCP(repr)) }
        repr.sourcePort = 80
        repr.destinationPort = 0
        #expect(throws: WireError.malformed) { try parseTCP(emitTCP(repr)) }
    }

    /// Random bytes never trap; whatever parses is self-consistent.
    @Test func garbageNeverTraps() {
        var rng = SplitMix64(seed: 9293)
        var parsed = 0
        for round in 0..<20_000 {
            var s = randomBytes(count: Int.random(in: 0...80, using: &rng), using: &rng)
            if s.count >= 20, round % 2 == 0 {
                // Half the rounds get a plausible offset and a right checksum, to get past
                // the cheap checks into the option parser.
                s[12] = UInt8(Int.random(in: 5...min(15, s.count / 4), using: &rng)) << 4
                s[13] &= 0xF9
                s[16] = 0
                s[17] = 0
                var sum = Checksum.pseudoHeader(source: host1, destination: host2, protocol: .tcp, length: s.count)
                sum.add(s)
                s[16] = UInt8(sum.value >> 8)
                s[17] = UInt8(sum.value & 0xFF)
            }
            if let repr = try? parseTCP(s) {
                parsed += 1
                #expect(repr.payloadLength <= s.count - 20)
                #expect(repr.sackRanges.count <= 4)
                #expect((repr.windowScale ?? 0) <= 14)
                #expect(repr.flags.isSubset(of: .control))
            }
        }
        #expect(parsed > 0)
    }
}
