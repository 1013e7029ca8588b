import Buffers
import Wire

extension TCPEndpoint {
    /// Takes one segment from the app. Replies (ACKs, RSTs, data) are not returned here:
    /// they come out of the next `dispatch`.
    ///
    /// The arms follow RFC 9293 §3.10.7.4 in order: sequence check (with PAWS, RFC 7323
    /// §5), RST, SYN, ACK, text, FIN. `payload` is the segment's data (its length is
    /// trusted over `segment.payloadLength`).
    public mutating func process(_ segment: TCPRepr, payload: UnsafeRawBufferPointer, now: Instant) {
        let flags = segment.flags
        switch (state, flags.contains(.syn), flags.contains(.rst), segment.ackNumber) {
        case (.closed, _, _, _):
            // RFC 9293 §3.10.7.1 (CLOSED): anything but a RST is answered with a RST. This
            // is also how an abort lands: Linux takes our RST at SND.NXT only if it equals
            // its RCV.NXT (RFC 5961 §3.2), else it sends a challenge ACK, which this answers
            // with a RST at exactly the number it acknowledges.
            resetDue = Self.resetReply(to: segment, payloadLength: payload.count)
            return
        case (.awaitingModem, true, false, nil):
            // A retransmitted SYN while the modem opens is absorbed; a SYN with a new ISN is
            // the app starting over on the same port pair (RFC 9293 §3.10.7.2), so take it.
            if segment.sequenceNumber != irs { negotiate(segment) }
            lastActivityAt = now
            return
        case (.awaitingModem, _, true, _):
            // RFC 9293 §3.10.7.4 (SYN-RECEIVED, RST): the app gave up before we answered.
            if segment.sequenceNumber == rcvNxt { enterClosed(.appReset) }
            return
        case (.awaitingModem, _, _, _):
            // Nothing was sent yet, so nothing can be acknowledged: drop.
            segmentsDropped += 1
            return
        case (.synReceived, true, false, nil) where segment.sequenceNumber == irs:
            // A retransmitted SYN: our SYN-ACK was lost; send it again (RFC 9293 §3.8.1).
            synAckDue = true
            lastActivityAt = now
            return
        default:
            processSynchronized(segment, payload: payload, now: now)
            updateTimers(now: now)
        }
    }

    /// Convenience for tests and callers holding an array.
    public mutating func process(_ segment: TCPRepr, payload: [UInt8] = [], now: Instant) {
        payload.withUnsafeBytes { process(segment, payload: $0, now: now) }
    }

    /// RFC 9293 §3.10.7.4, "Otherwise" (every synchronized state).
    private mutating func processSynchronized(_ segment: TCPRepr, payload: UnsafeRawBufferPointer, now: Instant) {
        let flags = segment.flags
        let isRST = flags.contains(.rst)
        let seq = segment.sequenceNumber
        var payload = payload
        let segmentLength = payload.count + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)

        // RFC 7323 §5.3 R1 (PAWS): an older timestamp marks an old duplicate; ACK and drop.
        // The check lapses after 24 days of idleness (§5.5), which no flow here reaches.
        if timestamps, !isRST, let ts = segment.timestamp,
           Int32(bitPattern: ts.value &- tsRecent) < 0, now - tsRecentAt < .seconds(24 * 86_400) {
            ackDue = true
            segmentsDropped += 1
            return
        }

        // RFC 9293 §3.10.7.4 first: is the segment in the window?
        let window = max(0, rcvRight - rcvNxt)
        if !Self.acceptable(seq: seq, length: segmentLength, rcvNxt: rcvNxt, window: window) {
            // An unacceptable RST is dropped silently; anything else is ACKed and dropped ...
            if isRST { segmentsDropped += 1; return }
            ackDue = true
            noteDuplicate(seq: seq, length: payload.count)
            if state == .timeWait && flags.contains(.fin) {
                // TIME-WAIT: the app's FIN came again (our ACK was lost); ACK it and restart
                // the wait (RFC 9293 §3.10.7.4 eighth).
                enterTimeWait(now: now)
                return
            }
            // ... except that with a zero window, valid ACKs must still be processed
            // (§3.10.7.4: "special allowance should be made to accept valid ACKs").
            guard window == 0, seq == rcvNxt, segment.ackNumber != nil, !flags.contains(.syn) else {
                segmentsDropped += 1
                return
            }
            if payload.count > 0 { segmentsDropped += 1 }
            payload = UnsafeRawBufferPointer(start: nil, count: 0)
            processAck(segment, payload: payload, now: now, withText: false)
            return
        }

        // The app is alive: keepalive restarts (RFC 1122 §4.2.3.6).
        lastHeardAt = now
        lastActivityAt = now
        keepaliveProbesSent = 0
        // RFC 7323 §4.3 (2): remember the timestamp of the segment that the next ACK covers.
        if timestamps, let ts = segment.timestamp, !(lastAckSent < seq),
           Int32(bitPattern: ts.value &- tsRecent) >= 0 {
            tsRecent = ts.value
            tsRecentAt = now
        }

        // RFC 9293 §3.10.7.4 second, with RFC 5961 §3.2: only an RST at exactly RCV.NXT
        // resets; one elsewhere in the window earns a challenge ACK.
        if isRST {
            if seq == rcvNxt {
                enterClosed(.appReset)
            } else {
                ackDue = true
            }
            return
        }

        // RFC 9293 §3.10.7.4 fourth, with RFC 5961 §4.2: a SYN in a synchronized state gets
        // a challenge ACK (in SYN-RECEIVED, the duplicate SYN was handled by the caller).
        if flags.contains(.syn) {
            ackDue = true
            segmentsDropped += 1
            return
        }

        processAck(segment, payload: payload, now: now, withText: true)
    }

    /// RFC 9293 §3.10.7.4 first: the four cases of segment acceptability.
    static func acceptable(seq: SeqNumber, length: Int, rcvNxt: SeqNumber, window: Int) -> Bool {
        let start = seq - rcvNxt
        switch (length, window) {
        case (0, 0): return start == 0
        case (0, _): return start >= 0 && start < window
        case (_, 0): return false
        default:
            let end = start + length - 1
            return (start >= 0 && start < window) || (end >= 0 && end < window)
        }
    }

    /// RFC 9293 §3.10.7.4 fifth (ACK) and onwards.
    private mutating func processAck(
        _ segment: TCPRepr, payload: UnsafeRawBufferPointer, now: Instant, withText: Bool
    ) {
        // Fifth: a segment without ACK is dropped.
        guard let ack = segment.ackNumber else {
            segmentsDropped += 1
            return
        }

        switch state {
        case .synReceived:
            // SYN-RECEIVED: an ACK of our SYN completes the handshake; any other ACK gets
            // <SEQ=SEG.ACK><CTL=RST>.
            guard sndUna < ack, !(sndNxt < ack) else {
                resetDue = TCPRepr(
                    sourcePort: localPort, destinationPort: remotePort, sequenceNumber: ack,
                    ackNumber: nil, flags: .rst, windowLength: 0)
                segmentsDropped += 1
                return
            }
            state = .established
            sndUna = ack
            if let t = timed, t.seq < ack {
                rto.sample(now - t.at)
            }
            timed = nil
            retransmissions = 0
            retransmitAt = nil
            sndWnd = Int(segment.windowLength) << sndShift
            maxSndWnd = max(maxSndWnd, sndWnd)
            sndWl1 = segment.sequenceNumber
            sndWl2 = ack
        default:
            if sndMax < ack {
                // An ACK for something not yet sent: ACK and drop.
                ackDue = true
                segmentsDropped += 1
                return
            }
            if !(ack < sndUna) {
                acknowledge(segment, ack: ack, dataLength: payload.count, now: now)
            }
            // An older ACK is a duplicate of something already processed: ignore it, but
            // keep the segment's text.
        }

        if case .closed = state { return }
        if withText { acceptText(segment, payload: payload, now: now) }
    }

    /// Our side of the ACK: send window (§3.10.7.4, SND.WL1/WL2 rule), RTT (RFC 6298),
    /// congestion control and duplicate ACKs (RFC 5681, RFC 6582), and the FIN states.
    private mutating func acknowledge(_ segment: TCPRepr, ack: SeqNumber, dataLength: Int, now: Instant) {
        let seq = segment.sequenceNumber
        let oldWindow = sndWnd
        let newWindow = Int(segment.windowLength) << sndShift
        if sndWl1 < seq || (sndWl1 == seq && !(ack < sndWl2)) {
            sndWnd = newWindow
            sndWl1 = seq
            sndWl2 = ack
            maxSndWnd = max(maxSndWnd, sndWnd)
        }
        if sndWnd > 0 {
            persistAt = nil
            persistBackoff = 0
        }
        if sackPermitted, !segment.sackRanges.isEmpty {
            scoreboard.record(segment.sackRanges, floor: ack, ceiling: sndMax)
        }

        let acked = ack - sndUna
        if acked == 0 {
            if sndWnd == 0 && sndMax != sndUna {
                // The app answers our zero-window probes: it is alive, however long its
                // window stays shut (RFC 9293 §3.8.6.1; RFC 1122 §4.2.2.17).
                retransmissions = 0
            }
            // RFC 5681 §2, DUPLICATE ACKNOWLEDGMENT: outstanding data, no text, no SYN/FIN,
            // same ACK, same window.
            let isDuplicate = sndMax != sndUna && dataLength == 0 && !segment.flags.contains(.fin)
                && newWindow == oldWindow && sndWnd > 0
            guard isDuplicate else { return }
            dupAcks += 1
            if dupAcks < 3 && recover == nil {
                // RFC 3042 (limited transmit): the first two duplicates each let one new
                // segment out beyond cwnd, so a short flight can still produce three.
                limitedTransmit = dupAcks
            } else if dupAcks == 3 && recover == nil {
                limitedTransmit = 0
                // RFC 5681 §3.2 steps 2–4 (fast retransmit), RFC 6582 §3.2 (recover).
                ssthresh = max(flightSize / 2, 2 * segmentSize)
                cwnd = ssthresh + 3 * segmentSize
                recover = sndMax
                highRetransmitted = nil
                fastRetransmitDue = true
                timed = nil
            } else if dupAcks > 3 && recover != nil {
                // RFC 5681 §3.2 step 5: each further duplicate means a segment left.
                cwnd = min(cwnd + segmentSize, Self.maxCongestionWindow)
                // RFC 6675 §5 (C): with SACK, each such ACK may release the next hole.
                if nextHole() != nil { fastRetransmitDue = true }
            }
            return
        }

        // New data acknowledged.
        if timestamps, let echo = segment.timestamp?.echoReply, echo != 0 {
            // RFC 7323 §4.1: with timestamps, every ACK of new data is an RTT sample, a
            // retransmitted segment's too (the echo tells which copy is answered).
            // An echo older than the connection is bogus (a broken or hostile app TCP).
            let elapsed = Int64(timestampValue(now) &- echo)
            if elapsed <= (now - openedAt).nanoseconds / 1_000_000 { rto.sample(.milliseconds(elapsed)) }
            timed = nil
        } else if let t = timed, t.seq < ack {
            // Karn's rule (RFC 6298 §3): `timed` is cleared whenever we retransmit.
            rto.sample(now - t.at)
            timed = nil
        }
        rto.forwardProgress()
        retransmissions = 0
        let dataAcked = min(max(0, ack - txBase), tx.count)
        tx.consume(dataAcked)
        txBase = txBase + dataAcked
        bytesToApp += dataAcked
        sndUna = ack
        if sndNxt < sndUna { sndNxt = sndUna }
        scoreboard.prune(below: sndUna)

        if let point = recover {
            if !(ack < point) {
                // RFC 6582 §3.2 step 3, full acknowledgment: leave fast recovery.
                cwnd = min(ssthresh, max(flightSize, segmentSize) + segmentSize)
                recover = nil
                highRetransmitted = nil
                dupAcks = 0
            } else {
                // RFC 6582 §3.2 step 3, partial acknowledgment: retransmit the next hole,
                // deflate by the amount acknowledged.
                fastRetransmitDue = true
                cwnd = max(segmentSize, cwnd - acked + segmentSize)
            }
        } else {
            dupAcks = 0
            limitedTransmit = 0
            if cwnd < ssthresh {
                // RFC 5681 §3.1, slow start.
                cwnd += min(acked, segmentSize)
            } else {
                // RFC 5681 §3.1, congestion avoidance.
                cwnd += max(1, segmentSize * segmentSize / max(1, cwnd))
            }
            cwnd = min(cwnd, Self.maxCongestionWindow)
        }

        // RFC 6298 §5.2/§5.3: stop the timer when all is acknowledged, else restart it.
        retransmitAt = sndUna == sndMax ? nil : now + rto.timeout

        if ourFinAcked {
            switch state {
            case .finWait1:
                // FIN-WAIT-1: our FIN is acknowledged.
                state = .finWait2
            case .closing:
                // CLOSING: our FIN is acknowledged; wait out stray duplicates.
                enterTimeWait(now: now)
            case .lastAck:
                // LAST-ACK: our FIN is acknowledged; the connection is done, unless bytes
                // the app sent still wait for the modem: then linger in TIME-WAIT for them.
                if rx.count > 0 { enterTimeWait(now: now) } else { enterClosed(.finished) }
            default:
                break
            }
        }
    }

    /// RFC 9293 §3.10.7.4 seventh (text) and eighth (FIN).
    private mutating func acceptText(_ segment: TCPRepr, payload: UnsafeRawBufferPointer, now: Instant) {
        switch state {
        case .established, .finWait1, .finWait2:
            break
        case .timeWait where segment.flags.contains(.fin):
            // TIME-WAIT: a retransmitted FIN is ACKed and the wait restarts.
            ackDue = true
            enterTimeWait(now: now)
            return
        default:
            // CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the app already sent FIN; text
            // "should not occur" and is ignored.
            return
        }

        let offset = segment.sequenceNumber - rcvNxt
        if offset < 0 { noteDuplicate(seq: segment.sequenceNumber, length: min(payload.count, -offset)) }
        var end = offset + payload.count
        var finAllowed = segment.flags.contains(.fin)
        // No byte beyond an earlier FIN counts.
        if let finSeq = appFinSeq {
            let limit = finSeq - rcvNxt
            if end > limit { end = limit; finAllowed = false }
        }
        let window = max(0, rcvRight - rcvNxt)
        if end > window {
            // The part beyond the advertised window is dropped, with any FIN after it.
            end = window
            finAllowed = false
        }
        let start = max(0, offset)
        if end > start {
            // Keep what fits in memory; the rest is dropped and retransmitted by the app.
            let fits = rx.ensure(rx.count + end, budget: budget) - rx.count
            if fits < end {
                end = max(start, fits)
                finAllowed = false
                segmentsDropped += 1
            }
        }
        if end > start {
            let slice = UnsafeRawBufferPointer(rebasing: payload[(start - offset) ..< (end - offset)])
            if start == 0 {
                let wasEmpty = rx.count == 0
                rx.write(slice, at: 0)
                let extra = reassembly.advance(by: end)
                let readable = end + extra
                rx.commit(readable)
                rcvNxt = rcvNxt + readable
                bytesFromApp += readable
                if let last = lastOutOfOrder {
                    lastOutOfOrder = last - readable > 0 ? last - readable : nil
                }
                if wasEmpty { modemProgressAt = now }
            } else if reassembly.insert(start ..< end) {
                // RFC 9293 §3.10.7.4 seventh: keep out-of-order text for later.
                rx.write(slice, at: start)
                lastOutOfOrder = start
            } else {
                segmentsDropped += 1
                finAllowed = false
            }
        }
        if payload.count > 0 || segment.flags.contains(.fin) {
            // RFC 5681 §4.2 / RFC 1122 §4.2.3.2: ACK every segment with text at once
            // (out-of-order ones must be ACKed immediately; the app is local, so no delay).
            ackDue = true
        }
        if finAllowed, appFinSeq == nil, offset + payload.count >= 0 {
            // The first FIN seen fixes the end of the app's stream.
            appFinSeq = segment.sequenceNumber + payload.count
        }
        takeFinIfInOrder(now: now)
    }

    /// RFC 9293 §3.10.7.4 eighth: the app's FIN counts once every byte before it arrived.
    private mutating func takeFinIfInOrder(now: Instant) {
        guard !appFinReceived, let finSeq = appFinSeq, finSeq == rcvNxt else { return }
        appFinReceived = true
        rcvNxt = rcvNxt + 1
        ackDue = true
        switch state {
        case .synReceived, .established:
            state = .closeWait
        case .finWait1:
            // Simultaneous close: CLOSING until our FIN is ACKed, or TIME-WAIT if it is.
            if ourFinAcked { enterTimeWait(now: now) } else { state = .closing }
        case .finWait2:
            enterTimeWait(now: now)
        default:
            break
        }
    }

    /// RFC 2883 (D-SACK): bytes the app sent again that we already had are reported in the
    /// first SACK block of the next ACK, so the app's TCP can tell a spurious retransmission
    /// (Linux then undoes its congestion response).
    private mutating func noteDuplicate(seq: SeqNumber, length: Int) {
        guard sackPermitted, length > 0, !(rcvNxt < seq + length) else { return }
        duplicateRange = SACKBlocks.Block(left: seq, right: seq + length)
    }

    mutating func enterTimeWait(now: Instant) {
        state = .timeWait
        closeAt = now + config.timeWait
        retransmitAt = nil
        persistAt = nil
        // Everything we sent is acknowledged: that memory goes back now; bytes for the
        // modem may still be waiting (TIME-WAIT then lasts until the modem took them).
        tx.release(to: budget)
        if rx.count == 0 { rx.release(to: budget) }
    }

    /// Bytes sent and not yet acknowledged, SYN and FIN excluded (RFC 5681 FlightSize).
    var flightSize: Int { max(0, sndMax - sndUna) }

    /// A bound that keeps the congestion window arithmetic far from overflow.
    static var maxCongestionWindow: Int { 1 << 30 }
}
