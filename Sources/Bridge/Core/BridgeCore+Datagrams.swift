import Buffers
import Flows
import Modems
import Wire

// DNS, ICMP echo and UDP: what their sans-I/O parts ask for, carried out.
extension BridgeCore {
    /// DNS goes to the modem's own resolver (never a socket: on NB-IoT a socket is scarce).
    func perform(_ action: DNSAction, now: Instant) {
        switch action {
        case .resolve(let host):
            do {
                try self.driver.resolve(host, now: now)
            } catch .busy {
                if self.resolvesDue.count < 64 { self.resolvesDue.append(host) }
            } catch {
                self.log.debug("dns", "cannot ask the modem to resolve '\(host)' (\(error))")
                for action in self.dns.resolved(hostname: host, .failure, now: now) { self.perform(action, now: now) }
            }
        case .reply(let packet):
            self.writeToApp(packet)
        }
    }

    /// Echo requests become the modem's ping; its result becomes the reply.
    func perform(_ action: ICMPEchoAction, now: Instant) {
        switch action {
        case .ping(let address, _):
            self.counters.pings += 1
            do {
                try self.driver.ping(address.description, count: 1, now: now)
            } catch .busy {
                if self.pingsDue.count < 32 { self.pingsDue.append(address) }
            } catch {
                for action in self.icmp.pinged(address, .failure, now: now) { self.perform(action, now: now) }
            }
        case .reply(let packet):
            self.writeToApp(packet)
        }
    }

    /// UDP sessions: the shared socket where the model allows and the remote is free on it,
    /// else a socket per session from the scheduler; datagrams queued per session until its
    /// socket's send is free.
    func perform(_ action: UDPAction, now: Instant, packet: IPPacket? = nil) {
        switch action {
        case .open(let id, let remote):
            self.counters.udpSessionsOpened += 1
            if let remote, self.joinSharedDatagramSocket(id, remote: remote, now: now) { return }
            self.admit(.udp(id), now: now)
        case .send(let id, _, let payload):
            let bytes: [UInt8]
            switch payload {
            case .owned(let owned):
                bytes = owned
            case .inPacket(let range):
                // The range is in the whole packet (`UDPPayload.inPacket`), IP header included.
                let whole: UnsafeRawBufferPointer
                switch packet {
                case .v4(let p)?: whole = p.bytes
                case .v6(let p)?: whole = p.bytes
                case nil: whole = UnsafeRawBufferPointer(start: nil, count: 0)
                }
                guard range.lowerBound >= 0, range.upperBound <= whole.count else {
                    self.counters.udpDatagramsDropped += 1
                    self.log.warning("udp", "\(id): datagram range \(range) outside its packet; dropped")
                    return
                }
                bytes = Array(whole[range])
            }
            var queue = self.udpQueues[id] ?? []
            guard queue.count < Self.maxQueuedDatagramsPerSession else {
                self.counters.udpDatagramsDropped += 1
                self.log.debug("udp", "\(id): queue full; datagram dropped")
                return
            }
            queue.append(bytes)
            self.udpQueues[id] = queue
            self.ring.markReady(.udp(id))
        case .close(let id):
            if self.leaveSharedDatagramSocket(id, now: now) { return }
            self.udpQueues[id] = nil
            self.ring.remove(.udp(id))
            self.detach(.udp(id), now: now)
        case .reply(let packet):
            self.writeToApp(packet)
        }
    }

    /// A datagram from the modem to the app: headers written in front of it, one writev.
    func deliverDatagram(_ id: UDPSessionID, _ bytes: [UInt8], now: Instant) {
        bytes.withUnsafeBytes { payload in
            let length = self.headerScratch.withUnsafeMutableBytes { header in
                self.udp.deliver(id, from: nil, payload: payload, header: header, now: now)
            }
            guard let length else {
                self.lose(bytes.count, "\(id) cannot take a datagram")
                return
            }
            let written = self.headerScratch.withUnsafeBytes { header in
                self.sink.writePacket([UnsafeRawBufferPointer(rebasing: header[0..<length]), payload])
            }
            self.countToApp(written, bytes: length + bytes.count)
        }
    }
}
