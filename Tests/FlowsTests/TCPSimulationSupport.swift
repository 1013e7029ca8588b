import Buffers
@testable import Flows
import Wire

/// A seeded PRNG (SplitMix64), so every run of the simulation sees the same losses.
struct SimulationRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Byte `i` of test stream `seed`: position-dependent, so a lost, repeated or misplaced
/// byte shows.
@inline(__always)
func streamByte(_ i: Int, seed: UInt64) -> UInt8 {
    UInt8(truncatingIfNeeded: (UInt64(truncatingIfNeeded: i) &* 0x9E37_79B1 &+ seed) >> 11)
}

/// One direction of a lossy, reordering, duplicating link with per-packet random delay.
struct SimulationLink {
    struct Packet {
        var at: Instant
        var order: Int
        var repr: TCPRepr
        var payload: [UInt8]
    }
    var inFlight: [Packet] = []
    var lossRate: Double
    var duplicateRate: Double
    var baseDelay: Duration
    var jitter: Duration
    var sent = 0
    var lost = 0
    var order = 0

    mutating func send(_ repr: TCPRepr, _ payload: [UInt8], now: Instant, random: inout SimulationRandom) {
        sent += 1
        if Double.random(in: 0 ..< 1, using: &random) < lossRate {
            lost += 1
            return
        }
        let copies = Double.random(in: 0 ..< 1, using: &random) < duplicateRate ? 2 : 1
        for _ in 0 ..< copies {
            let jitterNs = Int64.random(in: 0 ... max(0, jitter.nanoseconds), using: &random)
            order += 1
            inFlight.append(Packet(at: now + baseDelay + .nanoseconds(jitterNs), order: order, repr: repr, payload: payload))
        }
    }

    /// Packets due by `now`, in arrival order.
    mutating func arrivals(now: Instant) -> [Packet] {
        guard inFlight.contains(where: { $0.at <= now }) else { return [] }
        let due = inFlight.filter { $0.at <= now }.sorted { ($0.at, $0.order) < ($1.at, $1.order) }
        inFlight.removeAll { $0.at <= now }
        return due
    }

    var nextArrival: Instant? { inFlight.map(\.at).min() }
}

/// The reference peer: the app's TCP in the simulation. Simple but correct: active open
/// with MSS, window scale and timestamps; a sender with a fixed-floor, doubling RTO,
/// go-back-N on timeout, fast retransmit on three duplicate ACKs with NewReno's partial-ACK
/// retransmissions (but no congestion control), and a one-byte probe into a zero window; a receiver that holds out-of-order segments (or, as the
/// harshest case, drops them), ACKs every segment, and whose application reads at a bounded
/// rate (so its window closes and reopens).
struct ReferencePeer {
    let port: UInt16 = 50000
    let serverPort: UInt16 = 443
    let mss = 1460
    let payloadSize = 1448  // MSS less the timestamps option
    let shift = 7
    let receiveCapacity = 96 * 1024
    let minimumRTO: Duration = .milliseconds(250)

    // Sender
    let iss: SeqNumber
    let total: Int
    let seed: UInt64
    var sndUna: SeqNumber
    var sndNxt: SeqNumber
    var sndWnd = 0
    var peerShift = 0
    var rto: Duration = .seconds(1)
    var rtoAt: Instant?
    var dupAcks = 0
    var fastRetransmit = false
    /// The highest byte sent when fast recovery began (RFC 6582), nil outside it.
    var recover: SeqNumber?
    var probe = false
    var synAt: Instant?

    // Receiver
    var established = false
    var irs = SeqNumber(rawValue: 0)
    var rcvNxt = SeqNumber(rawValue: 0)
    var unread = 0  // bytes received and not yet read by the peer's application
    var received = 0
    var mismatches = 0
    let receiveSeed: UInt64
    var finReceived = false
    var ackDue = false
    var tsRecent: UInt32 = 0
    var resets = 0
    /// Whether the receiver holds segments that arrive ahead of a hole (as Linux does)
    /// or drops them (the harshest legal receiver: every loss then costs a go-back).
    var keepsOutOfOrder = true
    var outOfOrder: [(seq: SeqNumber, payload: [UInt8], fin: Bool)] = []

    init(iss: SeqNumber, total: Int, seed: UInt64, receiveSeed: UInt64) {
        self.iss = iss
        self.total = total
        self.seed = seed
        self.receiveSeed = receiveSeed
        self.sndUna = iss
        self.sndNxt = iss
    }

    var finSeq: SeqNumber { iss + 1 + total }
    var finAcked: Bool { !(sndUna < finSeq + 1) }
    var done: Bool { finAcked && finReceived }

    func ts(_ now: Instant) -> TCPTimestamp {
        TCPTimestamp(value: UInt32(truncatingIfNeeded: now.nanoseconds / 1_000_000) &+ 1, echoReply: tsRecent)
    }

    var advertisedWindow: UInt16 {
        UInt16(clamping: max(0, receiveCapacity - unread) >> shift)
    }

    /// The peer's application reads up to `n` bytes.
    mutating func read(_ n: Int) {
        let before = advertisedWindow
        unread = max(0, unread - n)
        // Window update when it opened by at least a segment.
        if Int(advertisedWindow) - Int(before) >= (mss >> shift) + 1 { ackDue = true }
    }

    /// Handles one segment from the endpoint.
    mutating func receive(_ repr: TCPRepr, _ payload: [UInt8], now: Instant) {
        if repr.flags.contains(.rst) {
            resets += 1
            return
        }
        if let t = repr.timestamp, tsRecent == 0 || Int32(bitPattern: t.value &- tsRecent) > 0 {
            tsRecent = t.value  // newest, modulo 2^32
        }
        if !established {
            guard repr.flags.contains(.syn), repr.ackNumber == iss + 1 else { return }
            established = true
            irs = repr.sequenceNumber
            rcvNxt = irs + 1
            sndUna = iss + 1
            sndNxt = iss + 1
            peerShift = Int(repr.windowScale ?? 0)
            sndWnd = Int(repr.windowLength)
            rtoAt = nil
            rto = minimumRTO
            ackDue = true
            return
        }
        if repr.flags.contains(.syn) {
            ackDue = true  // our ACK of the SYN-ACK was lost
            return
        }
        if let ack = repr.ackNumber {
            let oldWindow = sndWnd
            sndWnd = Int(repr.windowLength) << peerShift
            if sndUna < ack && !(finSeq + 1 < ack) {
                sndUna = ack
                if sndNxt < sndUna { sndNxt = sndUna }
                dupAcks = 0
                if let point = recover {
                    // A partial ACK: the next hole is lost too; resend it now (NewReno).
                    if ack < point { fastRetransmit = true } else { recover = nil }
                }
                rto = minimumRTO
                rtoAt = sndUna == sndNxt ? nil : now + rto
            } else if ack == sndUna, payload.isEmpty, !repr.flags.contains(.fin), sndUna < sndNxt,
                      sndWnd == oldWindow, sndWnd > 0 {
                dupAcks += 1
                if dupAcks == 3 && recover == nil {
                    fastRetransmit = true
                    recover = sndNxt
                }
            }
        }
        if !payload.isEmpty || repr.flags.contains(.fin) { ackDue = true }
        takeText(seq: repr.sequenceNumber, payload: payload, fin: repr.flags.contains(.fin))
        // Held segments that now start at or before RCV.NXT.
        while let i = outOfOrder.firstIndex(where: { !(rcvNxt < $0.seq) }) {
            let held = outOfOrder.remove(at: i)
            takeText(seq: held.seq, payload: held.payload, fin: held.fin)
        }
    }

    /// Takes what of a segment's text starts at or before RCV.NXT; holds a later one if
    /// this peer keeps out-of-order segments, drops it otherwise.
    private mutating func takeText(seq: SeqNumber, payload: [UInt8], fin: Bool) {
        let offset = rcvNxt - seq
        let room = max(0, receiveCapacity - unread)
        if offset >= 0 && offset < payload.count {
            let fresh = min(payload.count - offset, room)
            for j in 0 ..< fresh where payload[offset + j] != streamByte(received + j, seed: receiveSeed) {
                mismatches += 1
            }
            received += fresh
            unread += fresh
            rcvNxt = rcvNxt + fresh
            if fresh == payload.count - offset, fin {
                rcvNxt = rcvNxt + 1
                finReceived = true
            }
        } else if offset == payload.count, fin, !finReceived {
            rcvNxt = rcvNxt + 1
            finReceived = true
        } else if offset < 0, keepsOutOfOrder, outOfOrder.count < 128, payload.count - offset <= room {
            outOfOrder.append((seq, payload, fin))
        }
    }

    /// The segments the peer sends now.
    mutating func output(now: Instant) -> [(TCPRepr, [UInt8])] {
        var out: [(TCPRepr, [UInt8])] = []
        if !established {
            if synAt == nil || (rtoAt.map { $0 <= now } ?? false) {
                synAt = now
                rtoAt = now + .seconds(1)
                var syn = segment(seq: iss, now: now)
                syn.ackNumber = nil
                syn.flags = .syn
                syn.maxSegmentSize = UInt16(mss)
                syn.windowScale = UInt8(shift)
                syn.sackPermitted = true
                syn.windowLength = UInt16(min(65535, receiveCapacity))
                out.append((syn, []))
            }
            return out
        }
        if let at = rtoAt, at <= now {
            // Go back to the first unacknowledged byte, doubling the timeout.
            sndNxt = sndUna
            recover = nil
            rto = min(rto * 2, .seconds(10))
            rtoAt = now + rto
            dupAcks = 0
            if sndWnd == 0 { probe = true }
        }
        if fastRetransmit {
            fastRetransmit = false
            let length = min(payloadSize, max(0, min(sndNxt, finSeq) - sndUna))
            if length > 0 { out.append(dataSegment(seq: sndUna, length: length, now: now)) }
        }
        var budget = 64
        while budget > 0 {
            budget -= 1
            let window = max(sndWnd, probe ? 1 : 0)
            let usable = sndUna + window - sndNxt
            let remaining = max(0, finSeq - sndNxt)
            let length = min(payloadSize, usable, remaining)
            if length > 0 {
                out.append(dataSegment(seq: sndNxt, length: length, now: now))
                sndNxt = sndNxt + length
                probe = false
            } else if remaining == 0 && sndNxt == finSeq {
                var fin = segment(seq: sndNxt, now: now)
                fin.flags = .fin
                out.append((fin, []))
                sndNxt = sndNxt + 1
            } else {
                break
            }
            if rtoAt == nil { rtoAt = now + rto }
        }
        // A zero window with data waiting: the timer doubles as the persist timer.
        if rtoAt == nil && sndWnd == 0 && sndNxt < finSeq + 1 { rtoAt = now + rto }
        if ackDue, out.isEmpty {
            out.append((segment(seq: sndNxt, now: now), []))
        }
        ackDue = false
        return out
    }

    func segment(seq: SeqNumber, now: Instant) -> TCPRepr {
        TCPRepr(
            sourcePort: port, destinationPort: serverPort, sequenceNumber: seq, ackNumber: rcvNxt,
            flags: [], windowLength: advertisedWindow, timestamp: ts(now))
    }

    func dataSegment(seq: SeqNumber, length: Int, now: Instant) -> (TCPRepr, [UInt8]) {
        let start = seq - (iss + 1)
        var repr = segment(seq: seq, now: now)
        repr.payloadLength = length
        return (repr, (start ..< start + length).map { streamByte($0, seed: seed) })
    }

    var nextTimer: Instant? { rtoAt }
}
