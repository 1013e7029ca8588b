import Buffers
import Flows
import Modems
import Wire

// The shared UDP socket (`SharedDatagramSocket`): on a model with `udpSharedSocket`, UDP
// sessions ride one modem "UDP SERVICE" socket instead of taking one each. Its life is that
// of any socket (reserved from the scheduler, opened, read when the modem has data, closed
// when no session is left, lost with the modem), kept apart from `slots` because it carries
// many flows; the generic code calls in here at a few hooks.
extension BridgeCore {
    /// How long new sessions take their own sockets after the shared one failed to open.
    static let sharedDatagramPause: Duration = .seconds(10)

    // MARK: Sessions

    /// Puts a new session on the shared socket if the model allows, the remote is IPv4 (the
    /// service's send takes a dotted address only, EC §2.4.10), no member talks to the same
    /// remote already, and a socket is held or can be reserved. False: it takes its own.
    func joinSharedDatagramSocket(_ id: UDPSessionID, remote: UDPEndpoint, now: Instant) -> Bool {
        guard self.driver.capabilities.udpSharedSocket, case .v4 = remote.address else { return false }
        if let until = self.sharedDatagrams.pausedUntil {
            guard now >= until else { return false }
            self.sharedDatagrams.pausedUntil = nil
        }
        if self.sharedDatagrams.session(from: remote) != nil {
            self.counters.udpSharedSocketCollisions += 1
            self.log.debug("udp", "\(id): another session talks to \(remote) on the shared UDP socket; "
                           + "it gets its own socket")
            return false
        }
        if self.sharedDatagrams.slot.wantsClose || self.sharedDatagrams.slot.peerClosed {
            // Closing because it idled: it serves again. Closing because it failed: not this one.
            guard self.sharedDatagrams.closingIdle, !self.sharedDatagrams.slot.peerClosed else { return false }
            self.sharedDatagrams.slot.wantsClose = false
            self.sharedDatagrams.closingIdle = false
        }
        if self.sharedDatagrams.socket == nil {
            guard let socket = self.scheduler.reserve() else { return false }
            self.sharedDatagrams.socket = socket
        }
        guard self.sharedDatagrams.add(id, remote: remote) else { return false }
        self.log.debug("udp", "\(id) to \(remote) rides the shared UDP socket "
                       + "\(self.sharedDatagrams.socket.map(String.init) ?? "?") (\(self.sharedDatagrams.count) session(s))")
        if self.sharedDatagrams.slot.phase == .open {
            for action in self.udp.opened(id, now: now) { self.perform(action, now: now) }
        }
        self.anotherRound = true
        return true
    }

    /// The session ended (idle, or its socket failed): it leaves, and the socket closes when
    /// no session is left. False if it was not on the shared socket.
    func leaveSharedDatagramSocket(_ id: UDPSessionID, now: Instant) -> Bool {
        guard self.sharedDatagrams.carries(id) else { return false }
        self.sharedDatagrams.remove(id)
        self.udpQueues[id] = nil
        self.ring.remove(.udp(id))
        if self.sharedDatagrams.isEmpty { self.closeIdleSharedDatagramSocket() }
        self.anotherRound = true
        return true
    }

    /// No session is left: close it like any socket whose flow ended.
    func closeIdleSharedDatagramSocket() {
        guard !self.sharedDatagrams.slot.wantsClose else { return }
        self.sharedDatagrams.slot.wantsClose = true
        self.sharedDatagrams.closingIdle = true
    }

    /// Every member's session ends: the app's next datagram starts a new one.
    func failSharedDatagramSessions(_ reason: String, countAsReset: Bool) {
        let members = self.sharedDatagrams.removeAll()
        if !members.isEmpty {
            self.log.info("udp", "\(members.count) session(s) on the shared UDP socket end (\(reason))")
        }
        for id in members {
            if countAsReset { self.counters.flowsResetByModem += 1 }
            // Datagrams still waiting for the modem go with the session: counted, not lost quietly.
            self.counters.udpDatagramsDropped += self.udpQueues[id]?.count ?? 0
            self.udpQueues[id] = nil
            self.ring.remove(.udp(id))
            self.udp.closed(id)
        }
    }

    /// The shared socket cannot serve its members: each asks for a socket of its own.
    func moveSharedDatagramSessionsToOwnSockets(now: Instant) {
        for id in self.sharedDatagrams.removeAll() where self.udp[id] != nil {
            self.ring.remove(.udp(id))
            self.admit(.udp(id), now: now)
        }
    }

    // MARK: Requests

    /// The shared socket's open, close and read, in the pump's first pass. False when the
    /// driver's queue is full (the pump stops).
    func pumpSharedDatagramSocket(now: Instant) -> Bool {
        if let t = self.sharedDatagrams.slot.sendRetryAt, now >= t { self.sharedDatagrams.slot.sendRetryAt = nil }
        if self.sharedDatagrams.slot.phase == .granted {
            // Nothing asked of the modem yet. Sessions that idled out meanwhile are gone.
            for id in self.sharedDatagrams.members where self.udp[id] == nil { self.sharedDatagrams.remove(id) }
            if self.sharedDatagrams.isEmpty {
                self.releaseSharedDatagramSocket(now: now)
                return true
            }
            guard self.driver.capabilities.udpSharedSocket else {
                // The model, detected late, has no such service.
                self.releaseSharedDatagramSocket(now: now)
                self.moveSharedDatagramSessionsToOwnSockets(now: now)
                return true
            }
            if self.sharedDatagrams.socket == nil {
                guard let socket = self.scheduler.reserve() else {
                    self.moveSharedDatagramSessionsToOwnSockets(now: now)
                    return true
                }
                self.sharedDatagrams.socket = socket
            }
        }
        guard let socket = self.sharedDatagrams.socket else { return true }
        let slot = self.sharedDatagrams.slot
        let id = ModemSocketID(socket)
        do {
            if slot.phase == .granted, self.modemPhase == .up, !self.leftoverCheckPending {
                let port = self.sharedDatagrams.nextLocalPort(now: now)
                try self.driver.openDatagramService(id, localPort: port, now: now)
                self.sharedDatagrams.localPort = port
                self.sharedDatagrams.slot.phase = .opening
                self.counters.socketOpens += 1
                self.log.debug("udp", "opening the shared UDP socket \(socket) on local port \(port)")
            } else if slot.phase == .open, slot.wantsClose, slot.sending == nil, !slot.reading {
                try self.driver.close(id, now: now)
                self.sharedDatagrams.slot.phase = .closing
            } else if slot.phase == .open, self.modemPhase == .up, slot.dataReady, !slot.reading {
                // A datagram service read returns one whole datagram whatever the size asked.
                try self.driver.read(id, max: self.driver.capabilities.maxRead, now: now)
                self.sharedDatagrams.slot.reading = true
                self.sharedDatagrams.slot.dataReady = false
            }
        } catch .busy {
            self.counters.driverBusy += 1
            return false
        } catch {
            self.log.warning("modem", "\(id): request for the shared UDP socket refused (\(error))")
            if slot.phase == .granted {
                self.counters.socketOpenFailures += 1
                self.sharedOpenFailed(now: now)
            }
        }
        return true
    }

    /// One datagram of session `id` to its remote, in the send ring's turn. False when the
    /// driver's queue is full (the pump stops); `later` gets the session back when it must
    /// wait (a send pending, the socket not open yet, a busy pause).
    func sendSharedDatagram(_ id: UDPSessionID, now: Instant, later: inout [FlowRef]) -> Bool {
        guard let socket = self.sharedDatagrams.socket, let remote = self.sharedDatagrams.remote(of: id) else { return true }
        var slot = self.sharedDatagrams.slot
        guard slot.phase == .open, slot.sending == nil, !slot.wantsClose else {
            if slot.phase != .closing { later.append(.udp(id)) }
            return true
        }
        if let t = slot.sendRetryAt, t > now {
            later.append(.udp(id))
            return true
        }
        guard let bytes = self.udpQueues[id]?.first else { return true }
        do {
            try self.driver.sendDatagram(ModemSocketID(socket), to: remote.address.description, port: remote.port,
                                         bytes[...], now: now)
            slot.sending = bytes.count
            self.sharedDatagrams.sendingFor = id
            self.sharedDatagrams.slot = slot
        } catch .busy {
            self.counters.driverBusy += 1
            later.append(.udp(id))
            return false
        } catch {
            // Not this socket's fault (a datagram the command cannot carry): drop it, counted.
            self.counters.udpDatagramsDropped += 1
            self.log.debug("udp", "\(id): datagram to \(remote) refused by the driver (\(error)); dropped")
            self.popSharedDatagram(of: id)
        }
        return true
    }

    /// The head datagram of `id` is done with (sent or dropped); the session waits its next turn.
    func popSharedDatagram(of id: UDPSessionID) {
        guard var queue = self.udpQueues[id], !queue.isEmpty else { return }
        queue.removeFirst()
        self.udpQueues[id] = queue.isEmpty ? nil : queue
        if !queue.isEmpty { self.ring.markReady(.udp(id)) }
    }

    // MARK: Events

    /// Handles an event about the shared socket; false when it is about another socket.
    func handleSharedDatagramEvent(_ event: ModemEvent, now: Instant) -> Bool {
        if case .datagramReceived(let id, let host, let port, let bytes) = event {
            self.receivedSharedDatagram(id.rawValue, from: host, port: port, bytes, now: now)
            return true
        }
        guard let socket = self.sharedDatagrams.socket else { return false }
        let mine = ModemSocketID(socket)
        switch event {
        case .opened(mine, let error):
            guard self.sharedDatagrams.slot.phase == .opening else { return true }
            if let error {
                self.counters.socketOpenFailures += 1
                self.log.info("udp", "the shared UDP socket \(socket) did not open (\(error)); "
                              + "its \(self.sharedDatagrams.count) session(s) take sockets of their own")
                self.sharedDatagrams.slot = SocketSlot(flow: nil)
                self.sharedOpenFailed(now: now)
                return true
            }
            self.sharedDatagrams.slot.phase = .open
            for id in self.sharedDatagrams.members {
                guard self.udp[id] != nil else {
                    self.sharedDatagrams.remove(id)
                    continue
                }
                for action in self.udp.opened(id, now: now) { self.perform(action, now: now) }
            }
            if self.sharedDatagrams.isEmpty { self.closeIdleSharedDatagramSocket() }
        case .dataReady(mine):
            self.sharedDatagrams.slot.dataReady = true
        case .received(mine, let bytes):
            self.sharedDatagrams.slot.reading = false
            if bytes.isEmpty {
                if self.sharedDatagrams.slot.peerClosed { self.sharedDatagramSocketEnded("closed by the network") }
            } else {
                // The modem named no sender: no session can be told.
                self.counters.bytesFromModem += bytes.count
                self.countUnmatchedDatagram(bytes.count, from: "an unnamed sender")
                if self.sharedDatagrams.slot.peerClosed { self.sharedDatagrams.slot.dataReady = true }
            }
        case .sendAccepted(mine, let n):
            self.sharedDatagrams.slot.sending = nil
            self.sharedDatagrams.slot.sendFailures = 0
            self.counters.bytesToModem += n
            self.counters.udpDatagramsToModem += 1
            if let id = self.sharedDatagrams.sendingFor { self.popSharedDatagram(of: id) }
            self.sharedDatagrams.sendingFor = nil
        case .sendBusy(mine):
            self.counters.sendBusy += 1
            self.sharedDatagrams.slot.sending = nil
            self.sharedDatagrams.slot.sendRetryAt = now + self.config.sendBusyPause
            if let id = self.sharedDatagrams.sendingFor { self.ring.markReady(.udp(id)) }
            self.sharedDatagrams.sendingFor = nil
        case .sendFailed(mine, let error):
            var slot = self.sharedDatagrams.slot
            slot.sending = nil
            let id = self.sharedDatagrams.sendingFor
            self.sharedDatagrams.sendingFor = nil
            if slot.sendFailures < Self.sendRetries, Self.mayRetry(error) {
                slot.sendFailures += 1
                slot.sendRetryAt = now + self.config.sendBusyPause * (1 << slot.sendFailures)
                self.counters.sendRetries += 1
                self.sharedDatagrams.slot = slot
                if let id { self.ring.markReady(.udp(id)) }
                return true
            }
            slot.wantsClose = true
            self.sharedDatagrams.slot = slot
            self.log.info("modem", "\(mine): send on the shared UDP socket failed (\(error))")
            self.failSharedDatagramSessions("send failed", countAsReset: false)
        case .broken(mine, let error):
            self.sharedDatagrams.slot.sending = nil
            self.sharedDatagrams.slot.wantsClose = true
            self.failSharedDatagramSessions("the modem gave the socket up: \(error)", countAsReset: true)
        case .closedByPeer(mine):
            // Read what is left, then the sessions end and the socket is closed.
            self.sharedDatagrams.slot.peerClosed = true
            self.sharedDatagrams.slot.dataReady = true
        case .closed(mine):
            guard self.sharedDatagrams.slot.phase == .closing else { return true }
            self.sharedDatagramSocketClosed(now: now)
        default:
            return false
        }
        self.anotherRound = true
        return true
    }

    /// A datagram with its sender: to the member session whose remote sent it.
    func receivedSharedDatagram(_ socket: Int, from host: String, port: UInt16, _ bytes: [UInt8], now: Instant) {
        guard socket == self.sharedDatagrams.socket else {
            self.lose(bytes.count, "a datagram came on socket \(socket), which is not the shared UDP socket")
            return
        }
        self.sharedDatagrams.slot.reading = false
        if self.sharedDatagrams.slot.peerClosed { self.sharedDatagrams.slot.dataReady = true }
        self.counters.bytesFromModem += bytes.count
        guard let address = IPAddress(host),
              let id = self.sharedDatagrams.session(from: UDPEndpoint(address: address, port: port)),
              self.udp[id] != nil else {
            self.countUnmatchedDatagram(bytes.count, from: "\(host):\(port)")
            return
        }
        self.counters.udpDatagramsFromModem += 1
        self.deliverDatagram(id, bytes, now: now)
    }

    func countUnmatchedDatagram(_ count: Int, from sender: String) {
        self.counters.udpDatagramsFromUnknownSenders += 1
        self.log.debug("udp", "a datagram of \(count) byte(s) from \(sender) matches no session on the shared "
                       + "UDP socket; dropped")
    }

    // MARK: Life

    /// The open failed (or could not be asked): the members take sockets of their own and
    /// new sessions do so for a while; the next open tries another local port.
    func sharedOpenFailed(now: Instant) {
        self.sharedDatagrams.pausedUntil = now + Self.sharedDatagramPause
        self.releaseSharedDatagramSocket(now: now)
        self.moveSharedDatagramSessionsToOwnSockets(now: now)
    }

    /// The shared socket stopped working (network close, after reading what was left).
    func sharedDatagramSocketEnded(_ reason: String) {
        self.sharedDatagrams.slot.peerClosed = false
        self.sharedDatagrams.slot.dataReady = false
        self.sharedDatagrams.slot.wantsClose = true
        self.failSharedDatagramSessions(reason, countAsReset: false)
    }

    /// Our close was answered: the socket goes back to the scheduler, unless sessions joined
    /// meanwhile; then it is opened again for them.
    func sharedDatagramSocketClosed(now: Instant) {
        if self.sharedDatagrams.isEmpty {
            self.releaseSharedDatagramSocket(now: now)
        } else {
            self.sharedDatagrams.slot = SocketSlot(flow: nil)
            self.sharedDatagrams.closingIdle = false
        }
    }

    /// Gives the reserved socket back to the scheduler (which may grant it to a waiting flow).
    func releaseSharedDatagramSocket(now: Instant) {
        guard let socket = self.sharedDatagrams.socket else { return }
        self.sharedDatagrams.forgetSocket()
        self.freeSocket(socket, now: now)
    }

    /// The modem went away (reboot, network loss, serial loss): the scheduler forgot every
    /// socket. Sessions on a socket that was asked to open end, as flows on any socket do;
    /// those still waiting for the first open keep waiting for the modem's return.
    func resetSharedDatagramSocket(reason: String) {
        let asked = self.sharedDatagrams.slot.phase != .granted
        self.sharedDatagrams.forgetSocket()
        if asked { self.failSharedDatagramSessions(reason, countAsReset: true) }
    }

    /// The scheduler was rebuilt or emptied while nothing was open (a reconcile's first check,
    /// a late model detection): the socket is reserved again at the next pump.
    func sharedDatagramReservationLost() {
        guard self.sharedDatagrams.slot.phase == .granted else { return }
        self.sharedDatagrams.socket = nil
    }

    /// The modem's view of the shared socket at a reconcile. True when `socket` is it.
    func reconcileSharedDatagramSocket(_ socket: Int, _ state: ModemSocketState, now: Instant) -> Bool {
        guard socket == self.sharedDatagrams.socket else { return false }
        let slot = self.sharedDatagrams.slot
        switch (slot.phase, state) {
        case (.closing, .closed):
            self.sharedDatagramSocketClosed(now: now)
        case (.opening, .connected):
            // Its open's answer was lost (see `reconcile`): take it as opened.
            self.counters.openAnswersLost += 1
            _ = self.handleSharedDatagramEvent(.opened(ModemSocketID(socket), nil), now: now)
        case (.open, .closed) where slot.sending == nil && !slot.reading:
            self.counters.socketsLostByReconcile += 1
            self.log.warning("modem", "the shared UDP socket \(socket) is gone on the modem")
            self.failSharedDatagramSessions("socket lost", countAsReset: false)
            self.releaseSharedDatagramSocket(now: now)
        default:
            break
        }
        return true
    }

    /// Shutdown: close it if it is open or opening.
    func closeSharedDatagramSocket(now: Instant) {
        guard let socket = self.sharedDatagrams.socket else { return }
        let phase = self.sharedDatagrams.slot.phase
        if phase == .open || phase == .opening {
            try? self.driver.close(ModemSocketID(socket), now: now)
            self.sharedDatagrams.slot.phase = .closing
        }
        _ = self.sharedDatagrams.removeAll()
    }

    /// The shared socket's own timer: the end of a busy pause.
    var sharedDatagramDeadline: Instant? { self.sharedDatagrams.slot.sendRetryAt }
}
