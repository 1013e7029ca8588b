import Buffers
import Flows
import Modems

// What `tun2modem stats`, `flows` and `status` read: the core's counters copied into the
// stats socket's `DaemonStats` when a client asks (nothing is kept twice on the hot path).
extension Daemon {
    func statsSnapshot(now: Instant) -> DaemonStats {
        var s = self.stats
        let c = self.core.counters
        s.tunPacketsIn = UInt64(clamping: c.packetsFromApp)
        s.tunBytesIn = UInt64(clamping: c.bytesFromApp)
        s.tunPacketsOut = UInt64(clamping: c.packetsToApp)
        s.tunBytesOut = UInt64(clamping: c.bytesToApp)
        s.modemBytesSent = UInt64(clamping: c.bytesToModem)
        s.modemBytesReceived = UInt64(clamping: c.bytesFromModem)
        s.serialBytesRead &+= UInt64(clamping: self.serial?.bytesRead ?? 0)
        s.serialBytesWritten &+= UInt64(clamping: self.serial?.bytesWritten ?? 0)
        s.at = self.core.atCommands
        s.urcs = self.core.urcs
        s.sendFail = UInt64(clamping: c.sendBusy)
        s.sendRetries = UInt64(clamping: c.sendRetries)

        s.drops.add(.malformed, UInt64(clamping: c.malformedPackets))
        s.drops.add(.unsupported, UInt64(clamping: c.unsupportedPackets))
        s.drops.add(.tunWriteFailed, UInt64(clamping: c.packetsToAppDropped))
        s.drops.add(.undeliverable, UInt64(clamping: c.modemBytesLost))
        s.drops.add(.openFailed, UInt64(clamping: c.socketOpenFailures))
        s.drops.add(.udpQueueFull, UInt64(clamping: c.udpDatagramsDropped))
        s.drops.add(.udpUnknownSender, UInt64(clamping: c.udpDatagramsFromUnknownSenders))
        s.drops.add(.noSocket, UInt64(clamping: c.admissionTimeouts + c.admissionRejects))
        s.drops.add(self.core.fragmentDrops)
        s.addFlowTableCounters(self.core.flowCounters)
        s.addUDPDrops(self.core.udpDrops)

        s.flowsOpened.record(.tcp, UInt64(clamping: self.core.flowCounters.opened))
        s.flowsOpened.record(.udp, UInt64(clamping: c.udpSessionsOpened))
        s.flowsOpened.record(.icmp, UInt64(clamping: c.pings))
        s.admissionQueueLength = self.core.admissionQueueLength
        s.admissionWaits = UInt64(clamping: c.admissionWaits)
        s.admissionTimeouts = UInt64(clamping: c.admissionTimeouts)
        s.admissionRejects = UInt64(clamping: c.admissionRejects)
        s.modemSockets.configure(count: self.core.socketLimit)
        for socket in self.core.socketsHeld { s.modemSockets.setInUse(socket, true) }
        s.sharedUDPSessions = self.core.sharedUDPSessions
        s.sharedUDPCollisions = UInt64(clamping: c.udpSharedSocketCollisions)

        let dns = self.core.dnsCounters
        s.dnsQueries = UInt64(clamping: dns.queries)
        s.dnsCacheHits = UInt64(clamping: dns.answeredFromCache)
        s.dnsFailures = UInt64(clamping: (dns.responses[.serverFailure] ?? 0) + (dns.responses[.nameError] ?? 0))
        let echo = self.core.echoCounters
        s.icmpEchoRequests = UInt64(clamping: echo.requests)
        s.icmpEchoReplies = UInt64(clamping: echo.replies)
        s.icmpEchoFailures = UInt64(clamping: echo.unreachable + echo.timedOut)

        s.modem.interface = self.tun.name
        s.modem.mtu = self.settings.mtu
        s.modem.reboots = UInt64(clamping: c.modemReboots)
        s.modem.networkLosses = UInt64(clamping: c.networkLosses)
        if let conn = self.core.connection {
            s.modem.model = conn.identity.modelText
            s.modem.firmware = conn.identity.firmware
            s.modem.imei = conn.identity.imei
            s.modem.registration = conn.registration.name
            s.modem.signalDBm = conn.signal?.dBm
            s.modem.ip = conn.localIP
            s.modem.apn = conn.apn
        }
        return s
    }

    /// Follows the core's modem phase into the stats' link state and systemd's status.
    func noteModemPhase(now: Instant) {
        let link: LinkState
        switch self.core.modemPhase {
        case .bringingUp: link = .bringingUp
        case .up: link = .up
        case .down: link = .down
        case .serialLost: link = .recovering
        case .stopping: link = self.stats.modem.link
        }
        guard link != self.stats.modem.link else { return }
        self.stats.modem.setLink(link, at: now)
        if link == .up {
            let ip = self.core.connection?.localIP ?? "?"
            self.life.ready(now: now, status: "modem up, \(ip), on \(self.tun.name)")
        } else {
            if link == .down || link == .recovering { self.stats.modem.recordError("modem \(link.rawValue)", at: now) }
            self.life.status("modem \(link.rawValue)")
        }
    }
}
