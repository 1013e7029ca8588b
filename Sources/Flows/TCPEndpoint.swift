import Buffers
import Wire

/// The daemon's end of one app TCP connection, sans-I/O: segments from the app go into
/// `process`; segments to the app come out of `dispatch` as a header and one payload span
/// (for `writev` without a copy); the bridge moves bytes between it and the modem socket
/// with `withPendingForModem`/`modemAccepted` and `deliverFromModem`; and time is only
/// ever the `now` it is given.
///
/// The daemon is the passive side. The SYN-ACK is held until `modemOpened`; bytes are ACKed
/// to the app as they enter the receive buffer, and stay there until the modem accepts
/// them, so the advertised window is the room left toward the modem (backpressure end to
/// end). Modelled on smoltcp's `socket/tcp.rs` (structure only).
///
/// Driving it (the bridge, once per event-loop turn):
/// 1. every segment read from the TUN for this flow: `process(_:payload:now:)` (batching a
///    read's segments before dispatching coalesces their ACKs);
/// 2. modem events: `modemOpened` / `modemRefused` / `modemUnreachable` while
///    `awaitingModem`; `modemAccepted(n)` after the modem took `n` bytes of
///    `withPendingForModem`; `deliverFromModem` with at most `roomForModemData` bytes read
///    from the modem socket; `modemClosed` (peer FIN), `modemReset`, `modemFailed`;
/// 3. `dispatch(now:emit:)` until it returns false, writing each segment to the TUN;
/// 4. sleep until `pollAt()`; when `isClosed`, remove the flow (answering with ICMP
///    unreachable first if `wantsUnreachable`), and close the modem socket's sending side
///    once `appFinished`.
public struct TCPEndpoint {
    /// The tunables this endpoint was made with.
    public let config: TCPConfig
    let budget: TCPBufferBudget
    /// Our port: the destination port of the app's SYN.
    public let localPort: UInt16
    /// The app's port.
    public let remotePort: UInt16

    /// Where the connection is (RFC 9293 §3.3.2).
    public internal(set) var state: TCPState = .awaitingModem
    /// Set once, when the endpoint reaches CLOSED.
    public internal(set) var closeReason: TCPCloseReason?
    /// When the app's SYN arrived.
    public let openedAt: Instant
    /// Last time a segment from the app or a modem event touched the flow.
    public internal(set) var lastActivityAt: Instant

    // MARK: Receive side (app → modem), RFC 9293 §3.3.1
    var irs: SeqNumber
    var rcvNxt: SeqNumber
    /// The right edge of the window last advertised; never moved left (RFC 9293 §3.8.6.2.2).
    var rcvRight: SeqNumber
    var rcvShift: Int = 0
    /// Both SYNs carry the window scale option (RFC 7323 §2.2), even with a shift of 0.
    var windowScaling = false
    var rx: TCPStreamBuffer
    var reassembly = TCPReassembly()
    /// The offset (from RCV.NXT) of the latest out-of-order arrival, for SACK ordering.
    var lastOutOfOrder: Int?
    /// Already-received bytes that arrived again, for a D-SACK block (RFC 2883).
    var duplicateRange: SACKBlocks.Block?
    /// The FIN's sequence number once seen within the window, maybe ahead of RCV.NXT.
    var appFinSeq: SeqNumber?
    /// The app's FIN has been received in order.
    public internal(set) var appFinReceived = false

    // MARK: Send side (modem → app)
    let iss: SeqNumber
    var sndUna: SeqNumber
    var sndNxt: SeqNumber
    /// The highest sequence number sent so far (SND.NXT moves back on retransmission).
    var sndMax: SeqNumber
    var sndWnd: Int
    var sndWl1: SeqNumber
    var sndWl2: SeqNumber
    var sndShift: Int = 0
    var maxSndWnd: Int
    /// Sequence number of the first byte in `tx`.
    var txBase: SeqNumber
    var tx: TCPStreamBuffer
    /// The modem side closed: a FIN follows the last byte of `tx`.
    var finQueued = false
    /// The MSS the app announced (bounded), before option space is subtracted.
    var peerMSS: Int
    var cwnd: Int
    var ssthresh: Int = .max
    var dupAcks = 0
    /// Segments RFC 3042 lets out beyond cwnd on the first duplicate ACKs.
    var limitedTransmit = 0
    /// RFC 6582 "recover": set during fast recovery.
    var recover: SeqNumber?
    /// What the app has SACKed above SND.UNA.
    var scoreboard = TCPSACKScoreboard()
    /// The end of the highest retransmission of this recovery (RFC 6675 "HighRxt").
    var highRetransmitted: SeqNumber?

    // MARK: Options (RFC 7323, RFC 2018)
    var timestamps = false
    var tsRecent: UInt32 = 0
    var tsRecentAt: Instant
    let tsOffset: UInt32
    var sackPermitted = false
    var lastAckSent: SeqNumber

    // MARK: Timers, as data
    var rto: TCPRetransmissionTimer
    var retransmitAt: Instant?
    var retransmissions = 0
    var timed: (seq: SeqNumber, at: Instant)?
    var persistAt: Instant?
    var persistBackoff = 0
    var lastHeardAt: Instant
    var keepaliveProbesSent = 0
    var closeAt: Instant?
    var modemProgressAt: Instant

    // MARK: Pending output
    var synAckDue = false
    var ackDue = false
    var fastRetransmitDue = false
    var probeDue = false
    var keepaliveDue = false
    var resetDue: TCPRepr?

    // MARK: Counters
    /// Bytes received in order from the app.
    public internal(set) var bytesFromApp = 0
    /// Bytes from the modem that the app has acknowledged.
    public internal(set) var bytesToApp = 0
    /// Segments (SYN-ACK, data, FIN) sent again after a timeout or duplicate ACKs.
    public internal(set) var segmentsRetransmitted = 0
    /// Keepalive probes sent over the flow's life.
    public internal(set) var keepaliveProbesTotal = 0
    /// Segments from the app dropped (out of window, bad ACK, PAWS, no room).
    public internal(set) var segmentsDropped = 0
    /// Bytes ACKed to the app that never reached the modem (the flow was reset).
    public internal(set) var bytesUndelivered = 0

    /// Creates the endpoint for an app's SYN, in `awaitingModem`: nothing is sent until
    /// `modemOpened`. Returns nil if `syn` is not a SYN without ACK and RST.
    ///
    /// `initialSequence` is our ISN (RFC 9293 §3.4.1; the flow table derives it per RFC
    /// 6528); `budget` is the memory shared by all flows.
    public init?(
        syn: TCPRepr, initialSequence: SeqNumber, now: Instant,
        config: TCPConfig = TCPConfig(), budget: TCPBufferBudget
    ) {
        guard syn.flags.contains(.syn), !syn.flags.contains(.rst), syn.ackNumber == nil else { return nil }
        self.config = config
        self.budget = budget
        self.localPort = syn.destinationPort
        self.remotePort = syn.sourcePort
        self.openedAt = now
        self.lastActivityAt = now
        self.irs = syn.sequenceNumber
        self.rcvNxt = syn.sequenceNumber + 1
        self.rcvRight = syn.sequenceNumber + 1
        self.rx = TCPStreamBuffer(capacity: config.receiveBufferCapacity)
        self.iss = initialSequence
        self.sndUna = initialSequence
        self.sndNxt = initialSequence
        self.sndMax = initialSequence
        self.sndWnd = Int(syn.windowLength)
        self.maxSndWnd = Int(syn.windowLength)
        self.sndWl1 = syn.sequenceNumber
        self.sndWl2 = initialSequence
        self.txBase = initialSequence + 1
        self.tx = TCPStreamBuffer(capacity: config.sendBufferCapacity)
        self.peerMSS = 0
        self.cwnd = 0
        self.tsRecentAt = now
        self.tsOffset = initialSequence.rawValue
        self.lastAckSent = syn.sequenceNumber + 1
        self.rto = TCPRetransmissionTimer(
            initial: config.initialRTO, minimum: config.minimumRTO, maximum: config.maximumRTO)
        self.lastHeardAt = now
        self.modemProgressAt = now
        self.negotiate(syn)
    }

    /// Takes the options of the app's SYN (again, if the app restarts the handshake).
    mutating func negotiate(_ syn: TCPRepr) {
        irs = syn.sequenceNumber
        rcvNxt = syn.sequenceNumber + 1
        rcvRight = rcvNxt
        lastAckSent = rcvNxt
        // RFC 9293 §3.7.1: absent MSS means 536. A tiny announced MSS would make us emit a
        // flood of tiny segments, so bound it below as Linux does (TCP_MIN_MSS 88).
        let announced = syn.maxSegmentSize.map(Int.init) ?? config.defaultPeerSegmentSize
        peerMSS = max(88, min(announced, config.maxSegmentSize))
        // RFC 7323 §2.2: scaling only if both SYNs carry the option; shifts above 14 are 14.
        if config.windowScaling, let shift = syn.windowScale {
            windowScaling = true
            sndShift = Int(min(shift, 14))
            rcvShift = Self.shift(for: config.receiveBufferCapacity)
        } else {
            windowScaling = false
            sndShift = 0
            rcvShift = 0
        }
        // RFC 7323 §3.2: timestamps only if the SYN has them.
        if config.timestamps, let ts = syn.timestamp {
            timestamps = true
            tsRecent = ts.value
        } else {
            timestamps = false
        }
        sackPermitted = config.selectiveAcknowledgements && syn.sackPermitted
        // RFC 7323 §2.2: the window of a SYN is never scaled.
        sndWnd = Int(syn.windowLength)
        maxSndWnd = sndWnd
        sndWl1 = syn.sequenceNumber
        // RFC 6928: initial window of ten segments (the app is on this host).
        cwnd = 10 * segmentSize
    }

    /// The smallest shift that lets a 16-bit window field cover `capacity` (RFC 7323 §2.3).
    static func shift(for capacity: Int) -> Int {
        var shift = 0
        while shift < 14 && (capacity >> shift) > 0xFFFF { shift += 1 }
        return shift
    }

    /// Payload bytes per segment to the app: its MSS less the timestamps option (RFC 6691).
    var segmentSize: Int { peerMSS - (timestamps ? 12 : 0) }

    /// The sequence number our FIN has (or will have) once the modem side closed.
    var finSeq: SeqNumber { txBase + tx.count }

    /// Our FIN has been sent and acknowledged.
    var ourFinAcked: Bool { finQueued && sndUna == finSeq + 1 }

    // MARK: - What the bridge reads

    /// True once the endpoint is CLOSED: the flow table removes it.
    public var isClosed: Bool { state == .closed }

    /// The bridge should answer the app's SYN with ICMP destination unreachable
    /// (`modemUnreachable` was called) instead of any TCP segment.
    public var wantsUnreachable: Bool { closeReason == .noRoute }

    /// The app sent FIN and every byte before it has been accepted by the modem: the
    /// bridge now closes the modem socket's sending side (half-close toward the network).
    public var appFinished: Bool { appFinReceived && rx.count == 0 }

    /// Bytes from the app waiting for the modem (ACKed to the app already).
    public var pendingForModemCount: Int { rx.count }

    /// Calls `body` with the bytes waiting for the modem as one or two contiguous spans, in
    /// order. They stay buffered until `modemAccepted` says the modem took them.
    public func withPendingForModem<R, E: Error>(
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        try rx.withSpans(offset: 0, length: rx.count, body)
    }

    /// How many bytes from the modem `deliverFromModem` would take now: bounded by the
    /// send buffer, the budget and the app's window (at least one segment, so that a
    /// zero-window probe has a byte to carry). The bridge reads no more than this from the
    /// modem socket.
    public var roomForModemData: Int {
        switch state {
        case .synReceived, .established, .closeWait: break
        default: return 0
        }
        guard !finQueued else { return 0 }
        let windowCap = min(tx.capacity, max(sndWnd, segmentSize))
        return max(0, min(tx.room(budget: budget), windowCap - tx.count))
    }

    /// Buffer memory the flow holds now (both directions), for the stats socket.
    public var bytesBuffered: Int { rx.allocated + tx.allocated }

    // MARK: - Modem events

    /// The modem socket is open: send the SYN-ACK (RFC 9293 §3.10.7.2, held until now).
    public mutating func modemOpened(now: Instant) {
        guard state == .awaitingModem else { return }
        state = .synReceived
        synAckDue = true
        lastActivityAt = now
    }

    /// The modem refused the connection or failed to open it: the app gets RST, as from a
    /// closed port (RFC 9293 §3.10.7.1, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>).
    public mutating func modemRefused(now: Instant) {
        guard state == .awaitingModem else {
            abort(.modemFailed, now: now)
            return
        }
        resetDue = TCPRepr(
            sourcePort: localPort, destinationPort: remotePort, sequenceNumber: SeqNumber(rawValue: 0),
            ackNumber: irs + 1, flags: .rst, windowLength: 0)
        enterClosed(.modemRefused)
    }

    /// The modem has no route to the destination: no TCP answer; the bridge sends ICMP
    /// destination unreachable (`wantsUnreachable`).
    public mutating func modemUnreachable(now: Instant) {
        guard state == .awaitingModem else {
            abort(.modemFailed, now: now)
            return
        }
        enterClosed(.noRoute)
    }

    /// The modem accepted `count` of the pending bytes (e.g. `SEND OK`): they leave the
    /// buffer and the window toward the app opens.
    public mutating func modemAccepted(_ count: Int, now: Instant) {
        let n = min(max(0, count), rx.count)
        guard n > 0 else { return }
        rx.consume(n)
        modemProgressAt = now
        lastActivityAt = now
        // Tell the app the window opened once the edge it knows can move right by a
        // worthwhile step (receiver SWS avoidance, RFC 9293 §3.8.6.2.2): the app may be
        // stalled on a zero window. Small drains add up against the advertised edge. After
        // the app's FIN it sends nothing more, so it needs no window.
        if state.isSynchronized, state != .synReceived, !appFinReceived,
           (rcvNxt + windowOffer()) - rcvRight >= windowUpdateThreshold {
            ackDue = true
        }
    }

    /// Bytes that arrived on the modem socket; returns how many were taken (at most
    /// `roomForModemData`). They go to the app as the app's window and our congestion
    /// window allow.
    @discardableResult
    public mutating func deliverFromModem(_ bytes: UnsafeRawBufferPointer, now: Instant) -> Int {
        let room = min(bytes.count, roomForModemData)
        guard room > 0 else { return 0 }
        let fits = tx.ensure(tx.count + room, budget: budget) - tx.count
        let n = tx.write(UnsafeRawBufferPointer(rebasing: bytes[0 ..< max(0, min(room, fits))]), at: 0)
        tx.commit(n)
        lastActivityAt = now
        return n
    }

    /// The remote end closed its sending side (peer FIN on the modem socket): our FIN goes
    /// to the app after the last byte (RFC 9293 §3.10.4, CLOSE).
    public mutating func modemClosed(now: Instant) {
        switch state {
        case .synReceived, .established, .closeWait:
            finQueued = true
            lastActivityAt = now
        case .awaitingModem:
            // Closed before it opened: as refused.
            modemRefused(now: now)
        default:
            break
        }
    }

    /// The remote end reset the connection: RST to the app (RFC 9293 §3.10.4, ABORT).
    public mutating func modemReset(now: Instant) { abort(.modemReset, now: now) }

    /// The modem socket failed: RST to the app.
    public mutating func modemFailed(now: Instant) { abort(.modemFailed, now: now) }

    /// The daemon ends the flow (eviction, shutdown): RST to the app.
    public mutating func close(now: Instant) { abort(.aborted, now: now) }

    // MARK: - Internals shared by input and output

    /// RFC 9293 §3.10.4 ABORT: <SEQ=SND.NXT><CTL=RST> to the app, then CLOSED. Bytes the
    /// app was told we have but the modem never took make the reason `undeliverable`.
    mutating func abort(_ reason: TCPCloseReason, now: Instant) {
        switch state {
        case .closed:
            return
        case .awaitingModem:
            resetDue = TCPRepr(
                sourcePort: localPort, destinationPort: remotePort, sequenceNumber: SeqNumber(rawValue: 0),
                ackNumber: irs + 1, flags: .rst, windowLength: 0)
        case .timeWait where rx.count == 0:
            // Both FINs are done: ending TIME-WAIT early is no reset, and nothing is sent.
            lastActivityAt = now
            enterClosed(.finished)
            return
        case .timeWait:
            // The app is done with the connection: no RST, but its bytes are lost (below).
            break
        default:
            resetDue = TCPRepr(
                sourcePort: localPort, destinationPort: remotePort, sequenceNumber: sndNxt,
                ackNumber: rcvNxt, flags: .rst, windowLength: 0)
        }
        var reason = reason
        if rx.count > 0 {
            bytesUndelivered += rx.count
            reason = .undeliverable
        }
        lastActivityAt = now
        enterClosed(reason)
    }

    /// CLOSED: buffers go back to the budget, timers stop. A queued RST still goes out.
    mutating func enterClosed(_ reason: TCPCloseReason) {
        state = .closed
        if closeReason == nil { closeReason = reason }
        rx.release(to: budget)
        tx.release(to: budget)
        reassembly.removeAll()
        scoreboard.removeAll()
        retransmitAt = nil
        persistAt = nil
        closeAt = nil
        timed = nil
        synAckDue = false
        ackDue = false
        fastRetransmitDue = false
        probeDue = false
        keepaliveDue = false
    }

    /// How far the receive window could reach now, from RCV.NXT.
    func windowOffer() -> Int {
        min(rx.room(budget: budget), 0xFFFF << rcvShift)
    }

    /// The growth of the window worth an update: min(half the buffer, one MSS).
    var windowUpdateThreshold: Int {
        max(1, min(config.receiveBufferCapacity / 2, config.maxSegmentSize))
    }

    /// Our timestamp clock: milliseconds (RFC 7323 §5.4 allows 1 ms..1 s per tick), offset
    /// per flow.
    func timestampValue(_ now: Instant) -> UInt32 {
        UInt32(truncatingIfNeeded: now.nanoseconds / 1_000_000) &+ tsOffset
    }

    /// The RST that answers a segment for which no flow exists (RFC 9293 §3.10.7.1), or nil
    /// if the segment is itself a RST (never answer a RST).
    public static func resetReply(to segment: TCPRepr, payloadLength: Int) -> TCPRepr? {
        guard !segment.flags.contains(.rst) else { return nil }
        if let ack = segment.ackNumber {
            return TCPRepr(
                sourcePort: segment.destinationPort, destinationPort: segment.sourcePort,
                sequenceNumber: ack, ackNumber: nil, flags: .rst, windowLength: 0)
        }
        var length = max(0, payloadLength)
        if segment.flags.contains(.syn) { length += 1 }
        if segment.flags.contains(.fin) { length += 1 }
        return TCPRepr(
            sourcePort: segment.destinationPort, destinationPort: segment.sourcePort,
            sequenceNumber: SeqNumber(rawValue: 0), ackNumber: segment.sequenceNumber + length,
            flags: .rst, windowLength: 0)
    }
}

extension TCPEndpoint: CustomStringConvertible {
    /// One line for logs: state, both sequence spaces, windows and buffers.
    public var description: String {
        "\(state) snd.una=\(sndUna) snd.nxt=\(sndNxt) snd.wnd=\(sndWnd) cwnd=\(cwnd) "
            + "rcv.nxt=\(rcvNxt) rcv.wnd=\(max(0, rcvRight - rcvNxt)) "
            + "toModem=\(rx.count) toApp=\(tx.count) rto=\(rto.timeout)"
    }
}
