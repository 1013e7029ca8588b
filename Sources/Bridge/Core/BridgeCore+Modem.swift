import Buffers
import Flows
import Modems
import Wire

// The modem side: requests to the driver (`pump`), its events, and its life (bring-up,
// reconcile, loss, reboot).
extension BridgeCore {
    // MARK: Requests

    /// Issues what is due to the driver: opens and closes first (they free or fill sockets),
    /// then reads for flows with room, then one send per busy flow in ring order. A full
    /// command queue (`.busy`) stops the pump; the next event resumes it.
    func pump(now: Instant) {
        guard self.modemPhase == .up || self.modemPhase == .stopping else { return }
        let caps = self.driver.capabilities
        for socket in self.slots.indices {
            guard var slot = self.slots[socket] else { continue }
            let id = ModemSocketID(socket)
            do {
                if slot.phase == .granted, let flow = slot.flow, !self.leftoverCheckPending, self.modemPhase == .up {
                    let (proto, host, port) = self.destination(of: flow)
                    try self.driver.open(id, proto, host: host, port: port, now: now)
                    slot.phase = .opening
                    self.counters.socketOpens += 1
                } else if slot.phase == .open, slot.wantsClose, slot.sending == nil, !slot.reading {
                    try self.driver.close(id, now: now)
                    slot.phase = .closing
                }
            } catch .busy {
                self.counters.driverBusy += 1
                return
            } catch {
                self.log.warning("modem", "\(id): request refused (\(error))")
                if slot.phase == .granted, let flow = slot.flow {
                    // Cannot even ask (e.g. a host the driver will not put on a command line).
                    self.slots[socket] = nil
                    self.freeSocket(socket, now: now)
                    self.refuse(flow, now: now)
                    continue
                }
            }
            self.slots[socket] = slot
        }
        guard self.pumpSharedDatagramSocket(now: now), self.modemPhase == .up else { return }
        // Reads: only as much as the flow can take now (backpressure toward the modem).
        for socket in self.slots.indices {
            guard var slot = self.slots[socket], slot.phase == .open, slot.dataReady, !slot.reading,
                  let flow = slot.flow else { continue }
            let room = min(self.roomForModemData(flow), caps.maxRead)
            guard room > 0 else { continue }
            do {
                try self.driver.read(ModemSocketID(socket), max: room, now: now)
                slot.reading = true
                slot.dataReady = false
                self.slots[socket] = slot
            } catch .busy {
                self.counters.driverBusy += 1
                return
            } catch {
                self.log.warning("modem", "socket \(socket): read refused (\(error))")
            }
        }
        // Sends: one per flow in turn; a flow with more goes to the back of the ring.
        var later: [FlowRef] = []
        defer { for flow in later { self.ring.markReady(flow) } }
        while let flow = self.ring.next() {
            if case .udp(let id) = flow, self.sharedDatagrams.carries(id) {
                guard self.sendSharedDatagram(id, now: now, later: &later) else { break }
                continue
            }
            guard let socket = self.scheduler.socket(of: flow), var slot = self.slots[socket] else { continue }
            guard slot.phase == .open, slot.sending == nil, !slot.wantsClose else {
                if slot.phase != .closing, !slot.wantsClose { later.append(flow) }
                continue
            }
            if let t = slot.sendRetryAt, t > now {
                later.append(flow)
                continue
            }
            let bytes = self.pendingBytes(flow, max: caps.maxSend)
            guard !bytes.isEmpty else { continue }
            do {
                try self.driver.send(ModemSocketID(socket), bytes[...], now: now)
                slot.sending = bytes.count
                self.slots[socket] = slot
            } catch .busy {
                self.counters.driverBusy += 1
                later.append(flow)
                break
            } catch {
                self.log.warning("modem", "socket \(socket): send refused (\(error)); resetting \(flow)")
                self.fail(flow, now: now)
                slot.wantsClose = true
                self.slots[socket] = slot
            }
        }
        while let host = self.resolvesDue.first {
            do { try self.driver.resolve(host, now: now) } catch .busy { return } catch {
                for action in self.dns.resolved(hostname: host, .failure, now: now) { self.perform(action, now: now) }
            }
            self.resolvesDue.removeFirst()
        }
        while let address = self.pingsDue.first {
            do { try self.driver.ping(address.description, count: 1, now: now) } catch .busy { return } catch {
                for action in self.icmp.pinged(address, .failure, now: now) { self.perform(action, now: now) }
            }
            self.pingsDue.removeFirst()
        }
    }

    func destination(of flow: FlowRef) -> (SocketProtocol, String, UInt16) {
        switch flow {
        case .tcp(let key):
            return (.tcp, key.remoteAddress.description, key.remotePort)
        case .udp(let id):
            let remote = self.udp[id]?.key.remote
            return (.udp, remote?.address.description ?? "0.0.0.0", remote?.port ?? 0)
        }
    }

    // MARK: Events

    func drainModemEvents(now: Instant) {
        while let event = self.driver.nextEvent() {
            self.handle(event, now: now)
        }
    }

    func handle(_ event: ModemEvent, now: Instant) {
        if self.handleSharedDatagramEvent(event, now: now) { return }
        switch event {
        case .identified(let identity):
            self.log.info("modem", "identified: \(identity.modelText) firmware \(identity.firmware), IMEI \(identity.imei)")
        case .bringUpProgress(let step):
            self.log.info("modem", "bring-up: \(step.rawValue) done")
        case .dataConnectionUp(let connection):
            self.modemUp(connection, now: now)
        case .bringUpFailed(let failure):
            self.counters.bringUpFailures += 1
            guard self.modemPhase == .bringingUp else { return }
            let backoff = self.config.bringUpBackoff
            let pause = backoff.isEmpty ? .seconds(5) : backoff[min(self.bringUpFailuresInARow, backoff.count - 1)]
            self.bringUpFailuresInARow += 1
            self.log.warning("modem", "bring-up failed at \(failure); retrying in \(pause)")
            self.modemPhase = .down(retryAt: now + pause)
        case .opened(let id, let error):
            self.opened(id.rawValue, error: error, now: now)
        case .dataReady(let id):
            self.slots[id.rawValue]?.dataReady = true
            self.slots[id.rawValue]?.probeAt = nil
        case .received(let id, let bytes):
            self.received(id.rawValue, bytes, now: now)
        case .datagramReceived:
            break  // handleSharedDatagramEvent took it
        case .sendAccepted(let id, let n):
            self.sendFinished(id.rawValue, accepted: n, now: now)
        case .sendBusy(let id):
            self.counters.sendBusy += 1
            guard var slot = self.slots[id.rawValue] else { return }
            slot.sending = nil
            slot.sendRetryAt = now + self.config.sendBusyPause
            self.slots[id.rawValue] = slot
        case .sendFailed(let id, let error):
            guard var slot = self.slots[id.rawValue] else { return }
            slot.sending = nil
            // "Probably gone" (ModemDriver): some modems also refuse a send their buffer
            // cannot take right now (OneMO 560 "socket write error"). A few paced retries
            // cost little; a socket that is really gone fails them too, or is reported closed.
            if slot.sendFailures < Self.sendRetries, slot.flow != nil, Self.mayRetry(error) {
                slot.sendFailures += 1
                slot.sendRetryAt = now + self.config.sendBusyPause * (1 << slot.sendFailures)
                self.counters.sendRetries += 1
                self.slots[id.rawValue] = slot
                return
            }
            if let flow = slot.flow {
                self.log.info("modem", "\(id): send failed (\(error)); resetting \(flow)")
                self.fail(flow, now: now)
            }
            slot.flow = nil
            slot.wantsClose = true
            self.slots[id.rawValue] = slot
            self.anotherRound = true
        case .broken(let id, let error):
            // Bytes the modem had taken will not arrive: the app must see a reset, never a
            // clean end of stream.
            guard var slot = self.slots[id.rawValue] else { return }
            if let flow = slot.flow {
                self.counters.flowsResetByModem += 1
                self.log.warning("modem", "\(id): the modem gave the socket up with data undelivered (\(error)); "
                                 + "resetting \(flow)")
                self.fail(flow, now: now)
            }
            slot.flow = nil
            slot.sending = nil
            slot.wantsClose = true
            self.slots[id.rawValue] = slot
            self.anotherRound = true
        case .closed(let id):
            // The answer to our close. A slot in another phase was freed already (a
            // reconcile found the socket closed) and granted again: the stale answer is not its.
            guard let slot = self.slots[id.rawValue], slot.phase == .closing else {
                self.log.debug("modem", "\(id): close answered for a socket not being closed; ignored")
                return
            }
            if let flow = slot.flow { self.fail(flow, now: now) }
            self.freeSocket(id.rawValue, now: now)
        case .closedByPeer(let id):
            guard var slot = self.slots[id.rawValue] else { return }
            slot.peerClosed = true
            slot.dataReady = true
            self.slots[id.rawValue] = slot
        case .dnsResult(let host, let addresses, let error):
            let resolution: DNSResolution
            if error != nil {
                resolution = .failure
            } else {
                let parsed = addresses.compactMap { IPAddress($0) }
                resolution = parsed.isEmpty ? .nameNotFound : .addresses(parsed)
            }
            for action in self.dns.resolved(hostname: host, resolution, now: now) { self.perform(action, now: now) }
        case .pingResult(let result):
            guard let address = IPAddress(result.host) else { return }
            let outcome: Flows.PingResult = result.received > 0 && result.error == 0
                ? .reply(rtt: .milliseconds(result.rttMilliseconds.first ?? 0), ttl: nil) : .failure
            for action in self.icmp.pinged(address, outcome, now: now) { self.perform(action, now: now) }
        case .registration(let state):
            self.log.debug("modem", "registration: \(state)")
        case .signal(let signal):
            self.log.debug("modem", "signal: \(signal)")
        case .socketStates(let states):
            self.reconcile(states, now: now)
        case .networkLost:
            self.counters.networkLosses += 1
            self.log.warning("modem", "the network dropped the data connection; resetting \(self.slots.count) flow(s)")
            self.modemDown(reason: "network lost", retryIn: self.config.bringUpBackoff.first ?? .seconds(1), now: now)
        case .modemRebooted:
            self.counters.modemReboots += 1
            self.log.warning("modem", "the modem restarted; resetting \(self.slots.count) flow(s) and bringing it up again")
            self.modemDown(reason: "modem rebooted", retryIn: .zero, now: now)
        case .commandTimedOut(let command):
            self.log.warning("modem", "no answer to \(command) in time")
        case .commandCompleted(let command, let elapsed, let outcome):
            self.atCommands.sent(command: command)
            self.atCommands.completed(command: command, latency: elapsed, outcome: ATCommandStats.Outcome(outcome))
        case .urcReceived(let kind):
            self.urcs.record(kind)
        }
    }

    func opened(_ socket: Int, error: ModemError?, now: Instant) {
        guard var slot = self.slots[socket], slot.phase == .opening else { return }
        if let error {
            self.counters.socketOpenFailures += 1
            self.log.info("modem", "socket \(socket): open failed (\(error))\(slot.flow.map { "; refusing \($0)" } ?? "")")
            let flow = slot.flow
            self.freeSocket(socket, now: now)
            if let flow { self.refuse(flow, because: error, now: now) }
            return
        }
        slot.phase = .open
        self.slots[socket] = slot
        switch slot.flow {
        case nil:
            self.slots[socket]?.wantsClose = true
        case .tcp(let key)?:
            _ = self.table.withTCP(key) { $0.modemOpened(now: now) }
            self.log.debug("flows", "\(key): modem socket \(socket) open")
            self.flowHasNews(.tcp(key), now: now)
        case .udp(let id)?:
            guard self.udp[id] != nil else {
                // The session expired while its socket was opening: close what we got.
                self.detach(.udp(id), now: now)
                return
            }
            for action in self.udp.opened(id, now: now) { self.perform(action, now: now) }
        }
    }

    func received(_ socket: Int, _ bytes: [UInt8], now: Instant) {
        guard var slot = self.slots[socket] else {
            self.lose(bytes.count, "socket \(socket) is not in use")
            return
        }
        slot.reading = false
        if bytes.isEmpty {
            if slot.peerClosed { self.peerFinished(socket, &slot, now: now) }
            self.slots[socket] = slot
            return
        }
        self.counters.bytesFromModem += bytes.count
        if slot.peerClosed { slot.dataReady = true }
        slot.probeAt = nil
        self.slots[socket] = slot
        switch slot.flow {
        case nil:
            self.lose(bytes.count, "socket \(socket)'s flow has ended")
        case .tcp(let key)?:
            let taken = bytes.withUnsafeBytes { raw in
                self.table.withTCP(key) { $0.deliverFromModem(raw, now: now) } ?? 0
            }
            if taken < bytes.count { self.lose(bytes.count - taken, "\(key) had no room") }
        case .udp(let id)?:
            self.counters.udpDatagramsFromModem += 1
            self.deliverDatagram(id, bytes, now: now)
        }
    }

    /// The peer closed and every byte has been read: the app gets FIN (TCP) and the socket
    /// is closed.
    func peerFinished(_ socket: Int, _ slot: inout SocketSlot, now: Instant) {
        slot.peerClosed = false
        slot.dataReady = false
        slot.wantsClose = true
        slot.lingerUntil = nil
        switch slot.flow {
        case .tcp(let key)?:
            _ = self.table.withTCP(key) { $0.modemClosed(now: now) }
        case .udp(let id)?:
            self.udpQueues[id] = nil
            self.udp.closed(id)
            slot.flow = nil
        case nil:
            break
        }
    }

    static let sendRetries = 3

    static func mayRetry(_ error: ModemError) -> Bool {
        switch error {
        case .modemError, .failed, .timedOut: true
        default: false
        }
    }

    func sendFinished(_ socket: Int, accepted n: Int, now: Instant) {
        guard var slot = self.slots[socket] else { return }
        slot.sending = nil
        slot.sendFailures = 0
        self.slots[socket] = slot
        self.counters.bytesToModem += n
        switch slot.flow {
        case .tcp(let key)?:
            _ = self.table.withTCP(key) { $0.modemAccepted(n, now: now) }
            self.flowHasNews(.tcp(key), now: now)
            self.expectAnswer(socket, now: now)
        case .udp(let id)?:
            self.counters.udpDatagramsToModem += 1
            if var queue = self.udpQueues[id], !queue.isEmpty {
                queue.removeFirst()
                self.udpQueues[id] = queue.isEmpty ? nil : queue
                if !queue.isEmpty { self.ring.markReady(.udp(id)) }
            }
        case nil:
            break
        }
    }

    /// The flow's bytes went out: an answer may follow. If its data-ready notice does not
    /// come (held back by the modem), reads are tried at growing gaps, a few times only.
    func expectAnswer(_ socket: Int, now: Instant) {
        guard self.config.dataProbes > 0, var slot = self.slots[socket], slot.probeAt == nil else { return }
        slot.probesLeft = self.config.dataProbes
        slot.probeGap = self.config.dataProbeDelay
        slot.probeAt = now + slot.probeGap
        self.slots[socket] = slot
    }

    /// A probe is due: read if the socket is idle (nothing being sent or read, no notice
    /// already pending, nothing more from the app); a busy socket needs no probe, since
    /// the commands it runs bring any held notice out.
    func probeIfIdle(_ slot: inout SocketSlot, now: Instant) {
        guard let t = slot.probeAt, now >= t else { return }
        slot.probeAt = nil
        guard slot.phase == .open, slot.sending == nil, !slot.reading, !slot.dataReady, !slot.wantsClose,
              let flow = slot.flow, case .tcp(let key) = flow,
              let endpoint = self.table[key]?.tcp, endpoint.pendingForModemCount == 0 else { return }
        self.counters.dataProbes += 1
        slot.dataReady = true
        slot.probesLeft -= 1
        if slot.probesLeft > 0 {
            slot.probeGap = slot.probeGap * 2
            slot.probeAt = now + slot.probeGap
        }
    }

    /// Counts and logs bytes the modem delivered that no flow could take.
    func lose(_ count: Int, _ why: String) {
        guard count > 0 else { return }
        self.counters.modemBytesLost += count
        self.log.warning("flows", "lost \(count) byte(s) from the modem: \(why)")
    }

    // MARK: Life

    func startBringUp(now: Instant) {
        do {
            try self.driver.bringUp(apn: self.config.apn, limits: self.config.bringUpLimits, now: now)
            self.modemPhase = .bringingUp
            self.log.info("modem", "bring-up: starting (SIM, registration, data context)")
        } catch {
            self.log.warning("modem", "cannot start bring-up (\(error)); retrying")
            self.modemPhase = .down(retryAt: now + .seconds(1))
        }
    }

    func modemUp(_ connection: DataConnection, now: Instant) {
        self.connection = connection
        self.counters.bringUps += 1
        self.bringUpFailuresInARow = 0
        let signal = connection.signal.map { " CSQ \($0.rssi)," } ?? ""
        self.log.notice("modem", "data connection up: \(connection.identity.model?.rawValue ?? "modem"), "
                        + "APN '\(connection.apn)', IP \(connection.localIP),\(signal) "
                        + "\(self.driver.capabilities.socketCount) sockets")
        let count = self.driver.capabilities.socketCount
        if count != self.scheduler.socketCount { self.resizeScheduler(count, now: now) }
        self.modemPhase = .up
        // Sockets of an earlier run may still be open on the modem: ask before opening any.
        do {
            try self.driver.reconcile(now: now)
            self.leftoverCheckPending = true
            self.leftoverCheckDeadline = now + .seconds(5)
        } catch {
            self.leftoverCheckPending = false
        }
        self.reconcileAt = now + self.config.reconcileInterval
        for grant in self.scheduler.admitWaiting() {
            self.grant(grant.socket, to: grant.flow)
        }
    }

    /// The model turned out to have a different socket count than assumed before it was
    /// identified: the flows granted meanwhile (none opened yet) are granted again.
    func resizeScheduler(_ count: Int, now: Instant) {
        let granted = self.slots.sorted { $0.key < $1.key }.compactMap { $0.value.flow }
        let waiting = self.scheduler.waitingFlows
        self.slots.removeAll()
        self.scheduler = SocketScheduler(socketCount: count, queueLimit: self.config.admissionQueueLimit,
                                         queueTimeout: self.config.admissionTimeout)
        self.sharedDatagramReservationLost()
        for flow in granted + waiting { self.admit(flow, now: now) }
    }

    /// The network or the modem went away: every flow on a modem socket is reset; flows
    /// granted a socket but not yet opened wait for the modem's return instead.
    func modemDown(reason: String, retryIn pause: Duration, now: Instant) {
        self.resetModemFlows(reason: reason, now: now)
        self.modemPhase = .down(retryAt: now + pause)
        if pause <= .zero { self.startBringUp(now: now) }
    }

    func resetModemFlows(reason: String, now: Instant) {
        var regrant: [FlowRef] = []
        for (_, slot) in self.slots.sorted(by: { $0.key < $1.key }) {
            guard let flow = slot.flow else { continue }
            if slot.phase == .granted {
                regrant.append(flow)
            } else {
                self.counters.flowsResetByModem += 1
                self.log.info("flows", "\(flow): reset (\(reason))")
                self.fail(flow, now: now)
            }
        }
        self.slots.removeAll()
        _ = self.scheduler.releaseAll()
        self.resetSharedDatagramSocket(reason: reason)
        self.leftoverCheckPending = false
        self.reconcileAt = nil
        for flow in regrant { self.admit(flow, now: now) }
        for host in self.resolvesDue {
            for action in self.dns.resolved(hostname: host, .failure, now: now) { self.perform(action, now: now) }
        }
        self.resolvesDue.removeAll()
        self.anotherRound = true
    }

    /// The modem's list of sockets against ours: leftovers are closed, sockets it lost
    /// under a flow reset that flow.
    func reconcile(_ states: [ModemSocketID: ModemSocketState], now: Instant) {
        let firstCheck = self.leftoverCheckPending
        self.leftoverCheckPending = false
        var regrant: [FlowRef] = []
        if firstCheck {
            // Nothing was opened while the answer was pending, so every slot is a grant only:
            // take them back, set the leftovers aside, then grant again around them.
            regrant = self.slots.sorted { $0.key < $1.key }.compactMap { $0.value.flow }
            self.slots.removeAll()
            _ = self.scheduler.releaseAll()
            self.sharedDatagramReservationLost()
        }
        defer { for flow in regrant { self.admit(flow, now: now) } }
        for (id, state) in states.sorted(by: { $0.key < $1.key }) {
            let socket = id.rawValue
            guard socket >= 0, socket < self.scheduler.socketCount else { continue }
            if !firstCheck, self.reconcileSharedDatagramSocket(socket, state, now: now) { continue }
            if var slot = self.slots[socket] {
                if slot.phase == .closing, state == .closed, !firstCheck {
                    // Our close's answer was lost; the modem has it closed: the socket is free.
                    self.freeSocket(socket, now: now)
                    continue
                }
                if slot.phase == .opening, state == .connected, !firstCheck {
                    // The open's answer was lost (a SIM7028 +CIPOPEN URC once went to the
                    // wrong link): only our open can have connected it, since a socket is
                    // granted again only after its close was answered. Without this the
                    // app's SYN waits for the endpoint's 130 s open timeout and the socket
                    // stays 'opening' for the daemon's life.
                    self.counters.openAnswersLost += 1
                    self.log.warning("modem", "socket \(socket) is connected but its open was never answered; taking it as opened")
                    self.opened(socket, error: nil, now: now)
                    continue
                }
                guard slot.phase == .open, slot.sending == nil, !slot.reading else { continue }
                switch state {
                case .closed:
                    self.counters.socketsLostByReconcile += 1
                    if let flow = slot.flow {
                        self.log.warning("modem", "socket \(socket) is gone on the modem; resetting \(flow)")
                        self.fail(flow, now: now)
                    }
                    self.freeSocket(socket, now: now)
                case .closing where !slot.peerClosed:
                    // The peer's close notice was lost: read what is left, then close.
                    slot.peerClosed = true
                    slot.dataReady = true
                    self.slots[socket] = slot
                default:
                    break
                }
            } else if state != .closed, self.scheduler.hold(socket) {
                self.counters.leftoverSocketsClosed += 1
                self.log.info("modem", "socket \(socket) is open on the modem but unused\(firstCheck ? " (left by an earlier run)" : ""); closing it")
                var slot = SocketSlot(flow: nil)
                slot.phase = .open
                slot.wantsClose = true
                self.slots[socket] = slot
            }
        }
        self.anotherRound = true
    }
}
