import Buffers

/// A socket in transparent (data) mode: the serial line carries only its payload.
///
/// Quectel EC §1.1 (quectel.md §4.6): bytes from the host are sent in packets of
/// `transpktsize`, or after `transwaittm` of quiet; network data goes to the host unframed;
/// `+++` leaves the mode only when framed by ≥ 1 s of silence on both sides and typed within
/// 1 s, and the modem then answers `OK`; a lost connection ends it with `NO CARRIER`.
/// How a dialect's transparent mode behaves.
struct TransparentSettings {
    /// Largest packet sent at once.
    var packetSize: Int
    /// Quiet time after which a short packet is sent.
    var packetWait: Duration
    /// The line that announces the mode (`CONNECT`, SIMCom `CONNECT 115200`).
    var connectText = "CONNECT"
    /// Longest gap between the three `+` characters (SIMCom: 900 ms).
    var escapeGap: Duration = .seconds(1)
    /// Longest time from the first `+` to the third (Quectel: within 1 s).
    var escapeWindow: Duration = .seconds(1)
}

struct TransparentLink {
    var linkID: Int
    var settings: TransparentSettings
    var packetSize: Int { settings.packetSize }
    var packetWait: Duration { settings.packetWait }
    /// Host bytes not yet sent.
    var pending: [UInt8] = []
    /// When the current short packet is due.
    var flushAt: Instant? = nil
    /// Time of the last host byte (the `+++` guard is measured from it).
    var lastInput: Instant
    /// `+` characters held back as a possible escape, and when the first came.
    var plusCount = 0
    var plusStart: Instant? = nil
    /// When the silence after `+++` completes the escape.
    var escapeAt: Instant? = nil

    static let guardTime: Duration = .seconds(1)
    /// Host bytes the modem holds while the network is slower than the line.
    static let maxPending = 64 * 1024
}

extension SimModem {
    /// Puts `socket` in transparent mode after `CONNECT` (written by the caller).
    func enterTransparent(_ socket: SimSocket, _ settings: TransparentSettings, now: Instant) {
        flushHeldURCs()
        var settings = settings
        settings.packetSize = max(1, settings.packetSize)
        mode = .transparent(TransparentLink(linkID: socket.linkID, settings: settings, lastInput: now))
        lastTransparentLink = socket.linkID
        // Data that arrived before goes out unframed at once.
        let waiting = socket.receive.readStream(max: Int.max)
        socket.totalRead += waiting.count
        output += waiting
    }

    /// The link in transparent mode, if any.
    var transparentLinkID: Int? {
        if case .transparent(let t) = mode { return t.linkID }
        return nil
    }

    /// Network data of a transparent socket: straight to the host.
    func deliverTransparent(_ socket: SimSocket) {
        let data = socket.receive.readStream(max: Int.max)
        socket.totalRead += data.count
        output += data
    }

    /// Ends transparent mode with `text` (`OK` after `+++`, `NO CARRIER` on loss; nil for
    /// no line at all).
    func leaveTransparent(_ text: String?, now: Instant) {
        guard case .transparent(var t) = mode else { return }
        if text == "OK", let s = sockets[t.linkID] { sendPending(&t, socket: s, force: true) }
        mode = .command
        if let text { output += Self.frame(text) }
        flushHeldURCs()
        if let s = sockets[t.linkID] { dialect.leftTransparent(s, modem: self, now: now) }
        resumeDeferred(now: now)
    }

    func feedTransparent(_ byte: UInt8, link: inout TransparentLink, now: Instant) {
        defer { link.lastInput = now; if case .transparent = mode { mode = .transparent(link) } }
        if byte == UInt8(ascii: "+") {
            let quietBefore = link.plusCount == 0 && now - link.lastInput >= TransparentLink.guardTime
            let continuing = link.plusCount > 0 && link.plusCount < 3 && now - link.lastInput <= link.settings.escapeGap
                && (link.plusStart.map { now - $0 <= link.settings.escapeWindow } ?? false)
            if quietBefore || continuing {
                if link.plusCount == 0 { link.plusStart = now }
                link.plusCount += 1
                link.escapeAt = link.plusCount == 3 ? now + TransparentLink.guardTime : nil
                return
            }
        }
        // Not an escape: held '+' characters were data after all.
        releasePluses(&link)
        link.pending.append(byte)
        queued(&link, now: now)
    }

    private func releasePluses(_ link: inout TransparentLink) {
        if link.plusCount > 0 { link.pending += [UInt8](repeating: UInt8(ascii: "+"), count: link.plusCount) }
        link.plusCount = 0
        link.plusStart = nil
        link.escapeAt = nil
    }

    private func queued(_ link: inout TransparentLink, now: Instant) {
        if link.pending.count > TransparentLink.maxPending { link.pending.removeFirst(link.pending.count - TransparentLink.maxPending) }
        if let s = sockets[link.linkID] { sendPending(&link, socket: s, force: false) }
        if !link.pending.isEmpty && link.flushAt == nil { link.flushAt = now + link.packetWait }
        if link.pending.isEmpty { link.flushAt = nil }
    }

    /// Sends whole packets (and, when `force`, the short rest) as far as the send buffer allows.
    private func sendPending(_ link: inout TransparentLink, socket: SimSocket, force: Bool) {
        while link.pending.count >= link.packetSize || (force && !link.pending.isEmpty) {
            let chunk = Array(link.pending.prefix(link.packetSize))
            guard socket.state == .connected, send(chunk, on: socket) else { return }
            link.pending.removeFirst(chunk.count)
        }
    }

    /// Timers of transparent mode: the short-packet wait and the `+++` guard.
    func advanceTransparent(now: Instant) {
        guard case .transparent(var t) = mode else { return }
        if let at = t.escapeAt, at <= now {
            mode = .transparent(t)
            leaveTransparent("OK", now: now)
            return
        }
        if let at = t.flushAt, at <= now {
            t.flushAt = nil
            if let s = sockets[t.linkID] { sendPending(&t, socket: s, force: true) }
            if !t.pending.isEmpty { t.flushAt = now + t.packetWait }
        }
        // A '+' run that did not become an escape within the guard time is data.
        if t.plusCount > 0 && t.plusCount < 3, let start = t.plusStart,
           now - start > t.settings.escapeWindow || now - t.lastInput > t.settings.escapeGap {
            releasePluses(&t)
            queued(&t, now: now)
        }
        mode = .transparent(t)
    }

    var transparentDeadline: Instant? {
        guard case .transparent(let t) = mode else { return nil }
        let plusExpiry = t.plusCount > 0 && t.plusCount < 3
            ? [t.plusStart.map { $0 + t.settings.escapeWindow + .nanoseconds(1) }, t.lastInput + t.settings.escapeGap + .nanoseconds(1)].compactMap { $0 }.min()
            : nil
        return [t.escapeAt, t.flushAt, plusExpiry].compactMap { $0 }.min()
    }

    /// Enters transparent mode outside any command (an accepted client on SIMCom, the
    /// `CONNECT` URC of OneMO): at once if the line is idle, else when it becomes idle.
    func enterTransparentWhenIdle(_ socket: SimSocket, _ settings: TransparentSettings, now: Instant, attempts: Int = 500) {
        guard case .command = mode, silentUntil == nil else {
            guard attempts > 0 else { return }
            schedule(at: now + .milliseconds(10)) { modem, t in
                guard modem.sockets[socket.linkID] === socket, socket.state == .connected else { return }
                modem.enterTransparentWhenIdle(socket, settings, now: t, attempts: attempts - 1)
            }
            return
        }
        flushHeldURCs()
        output += Self.frame(settings.connectText)
        enterTransparent(socket, settings, now: now)
    }
}
