import Buffers
@testable import Flows
import Wire

/// A segment the endpoint sent to the app, with its payload copied out of the spans.
struct SentSegment: CustomStringConvertible {
    var repr: TCPRepr
    var payload: [UInt8]

    var seq: SeqNumber { repr.sequenceNumber }
    var ack: SeqNumber? { repr.ackNumber }
    var flags: TCPFlags { repr.flags }
    var window: Int { Int(repr.windowLength) }

    var description: String {
        var f = ""
        if flags.contains(.syn) { f += "S" }
        if flags.contains(.fin) { f += "F" }
        if flags.contains(.rst) { f += "R" }
        if repr.ackNumber != nil { f += "." }
        return "[\(f) seq=\(seq) ack=\(ack.map { "\($0)" } ?? "-") win=\(window) len=\(payload.count)]"
    }
}

/// The app's side of one connection, smoltcp-style: segment templates, `send` into the
/// endpoint, `recv` what it emits, and an injected clock.
struct TCPHarness {
    static let appPort: UInt16 = 49152
    static let ourPort: UInt16 = 80

    var endpoint: TCPEndpoint
    var now: Instant = .zero
    let budget: TCPBufferBudget
    let appISN: SeqNumber
    let ourISN: SeqNumber
    /// The app's next sequence number (after its SYN).
    var appNext: SeqNumber
    /// What the app acknowledges of our stream by default.
    var appAck: SeqNumber
    var appWindow: UInt16 = 65535

    /// The SYN of a plain app: MSS only, no scaling, timestamps or SACK.
    static func syn(seq: SeqNumber, mss: UInt16? = 1460) -> TCPRepr {
        TCPRepr(
            sourcePort: appPort, destinationPort: ourPort, sequenceNumber: seq, ackNumber: nil,
            flags: .syn, windowLength: 65535, maxSegmentSize: mss)
    }

    /// The SYN Linux sends: MSS, SACK-permitted, timestamps, window scale 7.
    static func linuxSYN(seq: SeqNumber, tsval: UInt32 = 7000) -> TCPRepr {
        TCPRepr(
            sourcePort: appPort, destinationPort: ourPort, sequenceNumber: seq, ackNumber: nil,
            flags: .syn, windowLength: 64240, maxSegmentSize: 1460, windowScale: 7,
            sackPermitted: true, timestamp: TCPTimestamp(value: tsval, echoReply: 0))
    }

    init(
        syn: TCPRepr? = nil, appISN: SeqNumber = SeqNumber(rawValue: 1000),
        ourISN: SeqNumber = SeqNumber(rawValue: 5000), config: TCPConfig = TCPConfig(),
        budget: TCPBufferBudget = TCPBufferBudget(limit: 64 << 20)
    ) {
        let syn = syn ?? Self.syn(seq: appISN)
        self.budget = budget
        self.appISN = syn.sequenceNumber
        self.ourISN = ourISN
        self.appNext = syn.sequenceNumber + 1
        self.appAck = ourISN + 1
        self.endpoint = TCPEndpoint(syn: syn, initialSequence: ourISN, now: .zero, config: config, budget: budget)!
    }

    /// A segment from the app; by default at the app's next sequence number, ACKing
    /// `appAck`, with `appWindow`.
    func segment(
        seq: SeqNumber? = nil, ack: SeqNumber?? = .some(nil), flags: TCPFlags = [],
        window: UInt16? = nil, payloadLength: Int = 0
    ) -> TCPRepr {
        let ackNumber: SeqNumber? = switch ack {
        case .none: nil
        case .some(.none): appAck
        case .some(.some(let value)): value
        }
        return TCPRepr(
            sourcePort: Self.appPort, destinationPort: Self.ourPort, sequenceNumber: seq ?? appNext,
            ackNumber: ackNumber, flags: flags, windowLength: window ?? appWindow,
            payloadLength: payloadLength)
    }

    /// Feeds a segment to the endpoint.
    mutating func send(_ repr: TCPRepr, _ payload: [UInt8] = []) {
        var repr = repr
        repr.payloadLength = payload.count
        endpoint.process(repr, payload: payload, now: now)
    }

    /// Sends `payload` as the app's next in-order data and advances `appNext`.
    mutating func sendData(_ payload: [UInt8], fin: Bool = false) {
        send(segment(flags: fin ? [.fin] : [], payloadLength: payload.count), payload)
        appNext = appNext + payload.count + (fin ? 1 : 0)
    }

    /// Every segment the endpoint emits now.
    mutating func recv() -> [SentSegment] {
        var out: [SentSegment] = []
        var guardCount = 0
        while guardCount < 10_000, endpoint.dispatch(now: now, emit: { repr, payload in
            out.append(SentSegment(repr: repr, payload: Array(payload)))
        }) {
            guardCount += 1
        }
        return out
    }

    /// Brings the endpoint to ESTABLISHED: SYN (in init), modem open, SYN-ACK, ACK.
    mutating func establish() {
        endpoint.modemOpened(now: now)
        _ = recv()
        send(segment())
    }

    mutating func advance(_ d: Duration) { now = now + d }

    /// Advances the clock to the endpoint's next deadline, if any.
    @discardableResult
    mutating func advanceToDeadline() -> Bool {
        guard case .at(let t) = endpoint.pollAt() else { return false }
        if t > now { now = t }
        return true
    }

    /// Pushes bytes from the "modem" into the endpoint.
    @discardableResult
    mutating func deliver(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { endpoint.deliverFromModem($0, now: now) }
    }

    /// Copies the bytes waiting for the modem.
    func pendingForModem() -> [UInt8] {
        endpoint.withPendingForModem { a, b in Array(a) + Array(b) }
    }

    /// The modem takes everything pending; returns it.
    @discardableResult
    mutating func modemTakesAll() -> [UInt8] {
        let bytes = pendingForModem()
        endpoint.modemAccepted(bytes.count, now: now)
        return bytes
    }
}

/// Deterministic bytes: byte `i` of stream `seed`.
func pattern(_ count: Int, from start: Int = 0, seed: UInt8 = 0) -> [UInt8] {
    (start ..< start + count).map { UInt8(truncatingIfNeeded: ($0 &* 31) ^ ($0 >> 8) &+ Int(seed)) }
}
