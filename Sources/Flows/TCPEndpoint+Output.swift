import Buffers
import Wire

extension TCPEndpoint {
    /// Emits at most one segment to the app through `emit`, after running the timers due at
    /// `now`; returns whether it emitted one. The bridge calls it until it returns false.
    ///
    /// `emit` gets the header and the payload, one span of the send buffer valid only during
    /// the call. If it throws (the TUN is full), the endpoint's state is left as if nothing
    /// had been sent.
    @discardableResult
    public mutating func dispatch<E: Error>(
        now: Instant, emit: (TCPRepr, UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) -> Bool {
        runTimers(now: now)
        defer { updateTimers(now: now) }

        if let reset = resetDue {
            try emit(reset, Self.noPayload)
            resetDue = nil
            return true
        }

        switch state {
        case .closed, .awaitingModem:
            return false
        case .synReceived:
            guard synAckDue || ackDue else { return false }
            // RFC 9293 §3.10.7.2: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, with our options
            // only where the app's SYN offered them (RFC 7323 §2.2, §3.2; RFC 2018 §2).
            var header = self.header(seq: iss, flags: .syn, now: now)
            header.maxSegmentSize = UInt16(clamping: config.maxSegmentSize)
            if windowScaling {
                header.windowScale = UInt8(rcvShift)
            }
            header.sackPermitted = sackPermitted
            // RFC 7323 §2.2: the window in a SYN segment is never scaled.
            let window = min(0xFFFF, windowOffer())
            header.windowLength = UInt16(window)
            try emit(header, Self.noPayload)
            rcvRight = rcvNxt + window
            lastAckSent = rcvNxt
            synAckDue = false
            ackDue = false
            // Time the first transmission only (Karn's rule, RFC 6298 §3): an ACK after a
            // retransmitted SYN-ACK could answer either copy.
            timed = sndMax == iss ? (iss, now) : nil
            sndNxt = iss + 1
            if sndMax < sndNxt { sndMax = sndNxt }
            if retransmitAt == nil { retransmitAt = now + rto.timeout }
            return true
        default:
            break
        }

        if fastRetransmitDue {
            // RFC 5681 §3.2 step 4, RFC 6582 partial ACK, RFC 6675 NextSeg: resend the next
            // hole without moving SND.NXT.
            if let seq = nextHole() {
                var length = min(segmentSize, max(0, min(sndMax, finSeq) - seq), tx.contiguousLength(from: seq - txBase))
                if let sacked = scoreboard.start(ofRangeAfter: seq) { length = min(length, sacked - seq) }
                let fin = finQueued && seq + length == finSeq && finSeq < sndMax
                if length > 0 || fin {
                    try sendSegment(seq: seq, length: length, fin: fin, now: now, emit: emit)
                    fastRetransmitDue = false
                    segmentsRetransmitted += 1
                    highRetransmitted = seq + length + (fin ? 1 : 0)
                    // Karn's rule (RFC 6298 §3): an ACK after a retransmission is ambiguous.
                    timed = nil
                    return true
                }
            }
            fastRetransmitDue = false  // nothing left to resend
        }

        if let (seq, length, fin) = nextSegment() {
            try sendSegment(seq: seq, length: length, fin: fin, now: now, emit: emit)
            let isNew = !(seq < sndMax)
            if !isNew {
                segmentsRetransmitted += 1
                timed = nil  // Karn's rule, as above
            }
            if isNew, timed == nil, length > 0 || fin {
                timed = (seq, now)
            }
            sndNxt = seq + length + (fin ? 1 : 0)
            if sndMax < sndNxt { sndMax = sndNxt }
            if retransmitAt == nil { retransmitAt = now + rto.timeout }
            probeDue = false
            if fin {
                // Our FIN is out (RFC 9293 §3.10.4, CLOSE).
                switch state {
                case .established: state = .finWait1
                case .closeWait: state = .lastAck
                default: break
                }
            }
            return true
        }

        if keepaliveDue {
            // RFC 1122 §4.2.3.6: a probe is an ACK with SEG.SEQ = SND.NXT − 1 and no data,
            // which the app's TCP must answer with an ACK.
            try sendSegment(seq: sndNxt - 1, length: 0, fin: false, now: now, emit: emit)
            keepaliveDue = false
            keepaliveProbesTotal += 1
            return true
        }

        if ackDue {
            try sendSegment(seq: sndNxt, length: 0, fin: false, now: now, emit: emit)
            return true
        }
        return false
    }

    /// The next new (or, after a timeout, re-sent) segment from SND.NXT: where it starts
    /// (past anything the app has SACKed), its data length and whether it carries our FIN;
    /// nil if nothing may be sent now.
    func nextSegment() -> (seq: SeqNumber, length: Int, fin: Bool)? {
        switch state {
        case .established, .closeWait, .finWait1, .closing, .lastAck:
            break
        default:
            return nil
        }
        var seq = sndNxt
        if seq < sndMax {
            // Going back after a timeout: skip what the app holds already (RFC 6675 §5.1).
            while let end = scoreboard.end(ofRangeHolding: seq) { seq = end }
        }
        let dataEnd = finSeq
        let unsent = max(0, dataEnd - seq)
        // RFC 9293 §3.8.6.1: with a zero window, one byte may be sent as a probe.
        let window = max(sndWnd, probeDue ? 1 : 0)
        let congestion = cwnd + limitedTransmit * segmentSize
        let usable = min(sndUna + window - seq, sndUna + congestion - seq)
        var length = max(0, min(unsent, usable, segmentSize))
        // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a short segment only if it empties
        // the buffer, is a probe, fills half the largest window the app offered, or nothing
        // is in flight. While earlier segments are out, their ACK will open the window
        // further; when none are, waiting gains nothing, and an app with a tiny receive
        // buffer may never offer more (Linux then keeps advertising a few hundred bytes).
        // Nagle is off: the modem delivers in bursts, and latency matters more than headers.
        if length > 0, length < segmentSize, length < unsent, !probeDue, length < maxSndWnd / 2, sndUna < seq {
            return nil
        }
        // One payload span: a segment stops where the ring wraps (once per lap of the
        // buffer; the next segment starts at the beginning of storage).
        if length > 0 {
            length = min(length, tx.contiguousLength(from: seq - txBase))
        }
        // A re-sent segment stops where SACKed data begins.
        if seq < sndMax, let sacked = scoreboard.start(ofRangeAfter: seq) {
            length = min(length, max(0, sacked - seq))
        }
        let finUnsent = finQueued && !(finSeq < seq)
        let fin = finUnsent && seq + length == dataEnd
        if length == 0 && !fin { return nil }
        return (seq, length, fin)
    }

    /// Where fast recovery retransmits next: the first hole the SACK scoreboard shows above
    /// what this recovery already resent (RFC 6675 §4 NextSeg, rule 1); without SACK
    /// information, SND.UNA once per partial ACK (RFC 6582 §3.2).
    func nextHole() -> SeqNumber? {
        guard sndUna < sndMax else { return nil }
        var from = sndUna
        if let high = highRetransmitted, sndUna < high { from = high }
        if let hole = scoreboard.firstHole(from: from) { return hole }
        return from == sndUna ? sndUna : nil
    }

    /// Emits a segment carrying `tx` bytes from `seq` on; bookkeeping of what was
    /// acknowledged to the app happens only after `emit` returned.
    private mutating func sendSegment<E: Error>(
        seq: SeqNumber, length: Int, fin: Bool, now: Instant,
        emit: (TCPRepr, UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(E) {
        var header = self.header(seq: seq, flags: fin ? [.fin] : [], now: now)
        let window = advertisedWindow()
        header.windowLength = window.field
        header.payloadLength = length
        if length > 0 { header.flags.insert(.psh) }
        let offset = max(0, seq - txBase)
        try tx.withSpans(offset: offset, length: length) { (span, _) throws(E) in
            // `length` never crosses the ring's wrap (see `nextSegment`): one span.
            try emit(header, span)
        }
        rcvRight = window.right
        lastAckSent = rcvNxt
        ackDue = false
        duplicateRange = nil  // a D-SACK block is reported once (RFC 2883 §4)
    }

    /// The common header: ports, ACK of RCV.NXT, timestamps and SACK blocks; the caller
    /// sets the window (and records the edge it advertises).
    private func header(seq: SeqNumber, flags: TCPFlags, now: Instant) -> TCPRepr {
        var header = TCPRepr(
            sourcePort: localPort, destinationPort: remotePort, sequenceNumber: seq,
            ackNumber: rcvNxt, flags: flags, windowLength: 0)
        if timestamps {
            // RFC 7323 §4.3 (1): TSecr echoes TS.Recent.
            header.timestamp = TCPTimestamp(value: timestampValue(now), echoReply: tsRecent)
        }
        if sackPermitted, !reassembly.isEmpty || duplicateRange != nil {
            header.sackRanges = sackBlocks()
        }
        return header
    }

    /// RFC 2018 §4: up to three blocks (room left next to timestamps), a D-SACK block first
    /// if any (RFC 2883 §4), then the one holding the latest out-of-order arrival.
    private func sackBlocks() -> SACKBlocks {
        var ranges = reassembly.ranges
        if let last = lastOutOfOrder, let i = ranges.firstIndex(where: { $0.contains(last) }), i > 0 {
            let r = ranges.remove(at: i)
            ranges.insert(r, at: 0)
        }
        var blocks = SACKBlocks()
        if let duplicate = duplicateRange { blocks.append(duplicate) }
        for range in ranges.prefix((timestamps ? 3 : 4) - blocks.count) {
            blocks.append(SACKBlocks.Block(left: rcvNxt + range.lowerBound, right: rcvNxt + range.upperBound))
        }
        return blocks
    }

    /// The window field to send and the right edge it stands for. The edge never moves
    /// left (RFC 9293 §3.8.6.2.2; with scaling, rounding up as RFC 7323 §2.4 permits), and
    /// moves right only by a worthwhile step (receiver SWS avoidance, same section).
    func advertisedWindow() -> (field: UInt16, right: SeqNumber) {
        let current = max(0, rcvRight - rcvNxt)
        var offer = windowOffer()
        if offer < current + windowUpdateThreshold && offer > current {
            offer = current
        }
        let unit = 1 << rcvShift
        let floorField = offer >> rcvShift
        let keepField = (current + unit - 1) >> rcvShift
        let field = min(0xFFFF, max(floorField, keepField))
        return (UInt16(field), rcvNxt + (field << rcvShift))
    }

    /// The payload of a segment without data.
    static var noPayload: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    // MARK: - Timers

    /// When `dispatch` next has work: now, at a timer, or never.
    public func pollAt() -> TCPPollAt {
        if resetDue != nil { return .now }
        switch state {
        case .closed:
            return .never
        case .awaitingModem:
            return .at(openedAt + config.modemOpenTimeout)
        case .synReceived:
            if synAckDue || ackDue { return .now }
        default:
            if ackDue || fastRetransmitDue || keepaliveDue || nextSegment() != nil { return .now }
        }
        var earliest = Earliest()
        earliest.consider(retransmitAt)
        earliest.consider(persistAt)
        earliest.consider(closeAt)
        earliest.consider(keepaliveDeadline)
        earliest.consider(modemStallDeadline)
        return earliest.instant.map { .at($0) } ?? .never
    }

    /// Keepalive (RFC 1122 §4.2.3.6): only when the app has been silent, nothing is in
    /// flight and nothing waits to be sent.
    var keepaliveDeadline: Instant? {
        switch state {
        case .established, .closeWait, .finWait2: break
        default: return nil
        }
        guard sndUna == sndMax, retransmitAt == nil, persistAt == nil else { return nil }
        let idle = lastHeardAt + config.keepaliveIdle
        return keepaliveProbesSent == 0 ? idle : idle + config.keepaliveInterval.scaled(by: keepaliveProbesSent)
    }

    /// Bytes ACKed to the app may not wait for the modem forever.
    var modemStallDeadline: Instant? {
        guard rx.count > 0 else { return nil }
        return modemProgressAt + config.modemStallTimeout
    }

    /// Fires the timers due at `now`.
    mutating func runTimers(now: Instant) {
        if state == .awaitingModem {
            if now - openedAt >= config.modemOpenTimeout {
                // The modem never answered: the app gets RST rather than a hang.
                abort(.handshakeTimeout, now: now)
            }
            return
        }
        if let at = modemStallDeadline, at <= now {
            // Issue 4: a flow that cannot deliver data it has ACKed is reset, and counted.
            abort(.undeliverable, now: now)
            return
        }
        if let at = closeAt, at <= now {
            if rx.count > 0 {
                // TIME-WAIT lingers while bytes still wait for the modem (the stall timer
                // bounds it).
                closeAt = now + config.timeWait
            } else {
                enterClosed(.finished)
                return
            }
        }
        if let at = retransmitAt, at <= now {
            retransmitExpired(now: now)
            if state == .closed { return }
        }
        if let at = persistAt, at <= now {
            // RFC 9293 §3.8.6.1: the persist timer sends a probe; backoff as RTO does.
            persistAt = nil
            probeDue = true
            persistBackoff = min(persistBackoff + 1, 16)
        }
        if let at = keepaliveDeadline, at <= now {
            if keepaliveProbesSent >= config.keepaliveProbes {
                abort(.keepaliveTimeout, now: now)
                return
            }
            keepaliveProbesSent += 1
            keepaliveDue = true
        }
    }

    /// RFC 6298 §5.4–5.6, RFC 5681 §3.1 (loss window), RFC 9293 §3.8.3 (R2).
    private mutating func retransmitExpired(now: Instant) {
        guard state == .synReceived || sndUna < sndMax else {
            // Nothing in flight any more: a stale timer.
            retransmitAt = nil
            retransmissions = 0
            return
        }
        retransmissions += 1
        timed = nil
        rto.backOff()
        retransmitAt = now + rto.timeout
        if state == .synReceived {
            if retransmissions > config.maxSynAckRetransmissions {
                enterClosed(.handshakeTimeout)
                return
            }
            synAckDue = true
            segmentsRetransmitted += 1
            return
        }
        if retransmissions > config.maxRetransmissions {
            abort(.retransmitTimeout, now: now)
            return
        }
        ssthresh = max(flightSize / 2, 2 * segmentSize)
        cwnd = segmentSize
        recover = nil
        highRetransmitted = nil
        dupAcks = 0
        limitedTransmit = 0
        if retransmissions > 1 {
            // A second timeout in a row: the app may have dropped what it SACKed (RFC 2018
            // §8, reneging), so resend everything.
            scoreboard.removeAll()
        }
        fastRetransmitDue = false
        // Go back: everything from SND.UNA is sent again as the window allows.
        sndNxt = sndUna
        if sndWnd == 0 { probeDue = true }
    }

    /// Arms or disarms the persist timer after anything that changed the windows.
    mutating func updateTimers(now: Instant) {
        guard state.isSynchronized, state != .synReceived else { return }
        let unsent = finSeq - sndNxt
        if sndWnd == 0 && unsent > 0 && sndUna == sndMax && retransmitAt == nil && !probeDue {
            if persistAt == nil {
                let base = rto.timeout.scaled(by: 1 << min(persistBackoff, 16))
                persistAt = now + min(max(base, config.minimumRTO), config.maximumRTO)
            }
        } else if sndWnd > 0 {
            persistAt = nil
        }
    }
}
