import Buffers
import Flows
import Modems
import Wire

// Flows from the app: TCP segments into the flow table, admission to modem sockets,
// segments back out, and the end of flows.
extension BridgeCore {
    func receiveTCP(_ packet: IPPacket, now: Instant) {
        let segment: TCPRepr
        do {
            segment = try TCPRepr.parse(packet.payload, source: packet.source, destination: packet.destination)
        } catch {
            self.counters.malformedPackets += 1
            self.log.debug("tun", "dropped a malformed TCP segment (\(error))")
            return
        }
        let all = packet.payload
        let start = all.count - segment.payloadLength
        guard start >= 0 else {
            self.counters.malformedPackets += 1
            return
        }
        let payload = UnsafeRawBufferPointer(rebasing: all[start...])
        let key = FlowKey(proto: .tcp, appAddress: packet.source, appPort: segment.sourcePort,
                          remoteAddress: packet.destination, remotePort: segment.destinationPort)
        // The whole packet: a new flow keeps its SYN to quote in an ICMP error.
        let whole: UnsafeRawBufferPointer
        switch packet {
        case .v4(let p): whole = p.bytes
        case .v6(let p): whole = p.bytes
        }
        switch self.table.receiveTCP(segment, payload: payload, key: key, now: now, packet: whole) {
        case .delivered:
            self.flowHasNews(.tcp(key), now: now)
        case .opened:
            self.log.debug("flows", "\(key): SYN; asking for a modem socket")
            self.admit(.tcp(key), now: now)
        case .reset(let reply), .refused(let reply):
            let empty = UnsafeRawBufferPointer(start: nil, count: 0)
            _ = self.emitTCP(reply, from: key.remoteAddress, to: key.appAddress, empty, empty)
        case .dropped:
            break
        }
    }

    /// Something happened to a flow from the app's side: it may have bytes for the modem,
    /// may have drained room for a read, or may have finished sending.
    func flowHasNews(_ flow: FlowRef, now: Instant) {
        guard case .tcp(let key) = flow, let endpoint = self.table[key]?.tcp else { return }
        if endpoint.pendingForModemCount > 0 { self.ring.markReady(flow) }
        if endpoint.appFinished, let socket = self.scheduler.socket(of: flow), var slot = self.slots[socket],
           slot.lingerUntil == nil, !slot.wantsClose, slot.phase == .open {
            // AT sockets cannot half-close: keep the socket for the peer's answer a while.
            slot.lingerUntil = now + self.config.halfCloseLinger
            self.slots[socket] = slot
        }
    }

    /// Asks the scheduler for a modem socket for a new flow.
    func admit(_ flow: FlowRef, now: Instant) {
        switch self.scheduler.request(flow, now: now) {
        case .granted(let socket):
            self.grant(socket, to: flow)
        case .queued(let position):
            self.counters.admissionWaits += 1
            self.log.debug("flows", "\(flow): all \(self.scheduler.socketCount) modem sockets busy; waiting (#\(position + 1))")
        case .rejected:
            self.counters.admissionRejects += 1
            self.log.info("flows", "\(flow): admission queue full; reset")
            self.refuse(flow, now: now)
        }
    }

    /// The flow gets no modem socket: TCP gets RST ("Connection refused"), or ICMP host
    /// unreachable when the modem's open timed out (nothing answered: no route, not a
    /// refusal); UDP gets an ICMP error.
    func refuse(_ flow: FlowRef, because error: ModemError? = nil, now: Instant) {
        switch flow {
        case .tcp(let key):
            if error == .timedOut {
                _ = self.table.withTCP(key) { $0.modemUnreachable(now: now) }
                if let reply = self.table.unreachableReply(for: key) { self.writeToApp(reply) }
                return
            }
            _ = self.table.withTCP(key) { $0.modemRefused(now: now) }
        case .udp(let id):
            self.udpQueues[id] = nil
            for action in self.udp.openFailed(id) { self.perform(action, now: now) }
        }
    }

    /// The modem socket of a flow failed (error, lost, reset): the app is told.
    func fail(_ flow: FlowRef, now: Instant) {
        self.ring.remove(flow)
        switch flow {
        case .tcp(let key):
            _ = self.table.withTCP(key) { $0.modemFailed(now: now) }
        case .udp(let id):
            self.udpQueues[id] = nil
            self.udp.closed(id)
        }
    }

    func dispatchDue(now: Instant) {
        for key in self.table.dueTCPFlows(now: now) { self.dispatch(key, now: now) }
    }

    /// Sends what the endpoint has for the app, segment by segment, until it has nothing or
    /// the TUN refuses one (that segment stays unsent).
    func dispatch(_ key: FlowKey, now: Instant) {
        let refused: Bool? = self.table.withTCP(key) { endpoint in
            do {
                while try endpoint.dispatch(now: now, emit: { (segment, payload) throws(SinkRefused) in
                    guard self.emitTCP(segment, from: key.remoteAddress, to: key.appAddress,
                                       payload, UnsafeRawBufferPointer(start: nil, count: 0)) else { throw SinkRefused() }
                }) {}
                return false
            } catch {
                return true
            }
        }
        if refused == true { self.log.debug("tun", "\(key): the TUN refused a segment; it stays queued") }
    }

    /// Removes the flows that reached CLOSED; their modem sockets are closed and freed.
    func sweep(now: Instant) {
        for record in self.table.sweep(now: now) {
            let flow = FlowRef.tcp(record.key)
            self.ring.remove(flow)
            self.log.debug("flows", "\(record.key): closed (\(record.tcp?.closeReason?.description ?? "?")), "
                           + "\(record.bytesFromApp) bytes up, \(record.bytesToApp) down")
            if let undelivered = record.tcp?.bytesUndelivered, undelivered > 0 {
                self.log.warning("flows", "\(record.key): \(undelivered) byte(s) the app sent never reached the modem")
            }
            self.detach(flow, now: now)
        }
    }

    /// The flow is over: its socket (if any) is closed once nothing is pending on it; a
    /// flow still waiting for a socket leaves the queue.
    func detach(_ flow: FlowRef, now: Instant) {
        if case .tcp(let key) = flow { self.table.setModemSocket(nil, for: key) }
        guard let socket = self.scheduler.socket(of: flow) else {
            _ = self.scheduler.finish(flow)
            return
        }
        guard var slot = self.slots[socket] else {
            self.freeSocket(socket, now: now)
            return
        }
        slot.flow = nil
        slot.wantsClose = true
        slot.lingerUntil = nil
        if slot.phase == .granted {
            // Never opened on the modem: free at once.
            self.slots[socket] = nil
            self.freeSocket(socket, now: now)
        } else {
            self.slots[socket] = slot
        }
        self.anotherRound = true
    }

    /// Gives `socket` to `flow` (the scheduler already did): a slot, and the flow table's
    /// record of it for `tun2modem flows`.
    func grant(_ socket: Int, to flow: FlowRef) {
        self.slots[socket] = SocketSlot(flow: flow)
        if case .tcp(let key) = flow { self.table.setModemSocket(socket, for: key) }
    }

    /// The socket is free on the modem: the scheduler hands it to the longest-waiting flow.
    func freeSocket(_ socket: Int, now: Instant) {
        self.slots[socket] = nil
        if let grant = self.scheduler.release(socket: socket) {
            self.grant(grant.socket, to: grant.flow)
            self.log.debug("flows", "\(grant.flow): admitted to modem socket \(grant.socket)")
        }
        self.anotherRound = true
    }

    /// Up to `max` bytes the flow has for the modem, copied out of its buffer: the driver
    /// keeps them until the modem answers (its `send` takes an array slice).
    func pendingBytes(_ flow: FlowRef, max: Int) -> [UInt8] {
        switch flow {
        case .tcp(let key):
            return self.table.withTCP(key) { endpoint -> [UInt8] in
                endpoint.withPendingForModem { first, second -> [UInt8] in
                    var out = [UInt8]()
                    let n = Swift.min(max, first.count + second.count)
                    out.reserveCapacity(n)
                    out.append(contentsOf: first.prefix(n))
                    if out.count < n { out.append(contentsOf: second.prefix(n - out.count)) }
                    return out
                }
            } ?? []
        case .udp(let id):
            return self.udpQueues[id]?.first ?? []
        }
    }

    /// How many bytes the flow can take from the modem now.
    func roomForModemData(_ flow: FlowRef) -> Int {
        switch flow {
        case .tcp(let key): return self.table[key]?.tcp?.roomForModemData ?? 0
        case .udp: return self.driver.capabilities.maxRead
        }
    }
}
