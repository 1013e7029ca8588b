import AT
import Buffers

/// Quectel's TCP/IP AT dialect: EC600E/EC800E (Cat-1, "EC": TCP/IP 应用指导 V1.0) and
/// BC26/BC20 (NB-IoT, "BC": TCP/IP AT 命令手册 V1.0). Section numbers below are theirs.
///
/// Sockets are always opened in buffer mode (access_mode 0): the modem keeps received data
/// and says `+QIURC: "recv",<id>`; we read it with `AT+QIRD` sized by the caller, so the
/// app's window, not the modem, sets the pace, and the only payload on the wire is the
/// counted one after `+QIRD: <n>`.
final class QuectelDialect: ModemDialect {
    enum SocketState: Equatable {
        case free, opening(deadline: Instant), open, peerClosed, closing
    }

    struct Socket {
        var state: SocketState = .free
        var proto: SocketProtocol = .tcp
        /// An EC "UDP SERVICE" socket: sends name the peer, reads name the sender.
        var isService = false
        var sendPending = false
        var readPending = false
    }

    struct PendingDNS {
        var host: String
        var deadline: Instant
        var expected: Int?
        var addresses: [String] = []
    }

    struct PendingPing {
        var host: String
        var rtts: [Int] = []
    }

    let model: ModemModel
    unowned let driver: ATModemDriver
    private var sockets: SocketTable<Socket>
    private var dns: [PendingDNS] = []
    private var pings: [PendingPing] = []
    /// BC: the address of the last `+IP:` URC (BC §2.3.1 note 4).
    private var announcedIP: String?
    private var waitingForIP = false
    private var activated = false
    /// The APN context 1 holds, read with `AT+QICSGP=1` when none was given.
    private var modemAPN: String?

    /// The NB variant: `OK` before `SEND OK`, `CLOSE OK`, no PDP commands, 300 ms answers.
    var isNB: Bool { self.model.dialect == .quectelNB }

    init(model: ModemModel, driver: ATModemDriver) {
        self.model = model
        self.driver = driver
        self.sockets = SocketTable(count: model.capabilities.socketCount, empty: Socket())
    }

    /// EC gives most commands no maximum ("/"); BC gives 300 ms. A few seconds cover a
    /// busy UART without hiding a dead modem.
    private var quick: Duration { self.isNB ? .seconds(3) : .seconds(5) }

    // MARK: bring-up

    func bringUpCommand(_ index: Int, apn: String, limits: BringUpLimits) -> ATCommand<DriverOp>? {
        let tag = DriverOp.bringUp(.dialect(index))
        let quick = min(self.quick, limits.commandCeiling)
        func setting(_ line: StaticString) -> ATCommand<DriverOp> {
            ATCommand(ATCommandLine(line), tag: tag, timeout: quick)
        }
        if self.isNB {
            // BC documents no PDP command: the address comes as `+IP:` after attach (BC §2.3.1
            // note 4), which a host that starts later has missed. The TS 27.007 commands
            // (CGDCONT, CGPADDR, CGACT) cover that case.
            switch index {
            case 0: return PDPContext.apnCommand(apn, tag: tag, timeout: quick)
            case 1, 3: return ATCommand(ATCommandLine("AT+CGPADDR=1"), tag: tag, timeout: quick,
                                        infoPrefixes: ["+CGPADDR:"])
            case 2: return ATCommand(ATCommandLine("AT+CGACT=1,1"), tag: tag, timeout: min(limits.dataContext, .seconds(150)))
            case 4: return setting("AT+QICFG=\"dataformat\",0,0")
            case 5: return setting("AT+QICFG=\"viewmode\",0")
            // BC §2.3.12: echomode exists from BC26NxR01A07; older firmware says ERROR.
            case 6: return setting("AT+QICFG=\"echomode\",0")
            default: return nil
            }
        }
        switch index {
        case 0:
            // EC §2.4.2: set the APN of context 1, or read it when none was given.
            if apn.isEmpty {
                return ATCommand(ATCommandLine("AT+QICSGP=1"), tag: tag, timeout: quick, infoPrefixes: ["+QICSGP:"])
            }
            guard let line = try? ATCommandLine("AT+QICSGP", [.int(1), .int(1), .quoted(apn), .quoted(""),
                                                              .quoted(""), .int(0)]) else { return nil }
            return ATCommand(line, tag: tag, timeout: quick)
        case 1:
            return ATCommand(ATCommandLine("AT+QIACT?"), tag: tag, timeout: quick, infoPrefixes: ["+QIACT:"])
        case 2:
            // EC §2.4.3: up to 150 s, and nothing else may be sent meanwhile.
            return ATCommand(ATCommandLine("AT+QIACT=1"), tag: tag,
                             timeout: min(limits.dataContext, .seconds(150)))
        case 3: return setting("AT+QICFG=\"dataformat\",0,0")
        case 4: return setting("AT+QICFG=\"viewmode\",0")
        // EC §2.4.18: no echo of the payload typed after `>`.
        case 5: return setting("AT+QISDE=0")
        default: return nil
        }
    }

    func handleBringUp(_ index: Int, _ response: ATResponse<DriverOp>, apn: String,
                       limits: BringUpLimits) -> BringUpNext {
        if self.isNB {
            switch index {
            case 0:
                let (next, modemAPN) = PDPContext.apnResult(response, apn: apn)
                self.modemAPN = modemAPN
                return next
            case 1, 3:
                if let ip = PDPContext.address(in: response.info) ?? self.announcedIP {
                    self.announcedIP = ip
                    return .goto(.dialect(4))
                }
                if index == 1 { return .next }
                self.waitingForIP = true
                return .wait(timeout: limits.dataContext,
                             failure: BringUpFailure(step: .localIP, reason: "no +IP: address from the network",
                                                     hint: "registration and the operator's APN for this SIM"))
            case 2:
                // A refusal is not final: the network may still attach and say `+IP:`.
                return .next
            case 4, 5: return .next
            default: return .done(localIP: self.announcedIP ?? "", apn: self.modemAPN)
            }
        }
        switch index {
        case 0:
            // Reading the APN is a courtesy: a modem that will not tell still has one.
            guard response.result.isSuccess || apn.isEmpty else {
                return .fail(BringUpFailure(step: .dataContext, reason: "the modem refused the APN (AT+QICSGP)",
                                            hint: "--apn"))
            }
            // EC §2.4.2: `+QICSGP: <context_type>,"<APN>","<user>","<pass>",<auth>`.
            if let line = response.info.first?.line {
                var f = ATFields(line)
                _ = f.next()
                self.modemAPN = f.string()
            }
            return .next
        case 1:
            // EC §2.4.3: `+QIACT: <cid>,<state>,<type>[,"<ip>"]` per active context.
            for info in response.info {
                var f = ATFields(info.line)
                if f.int() == 1, f.int() == 1, f.int() != nil, let ip = f.string(), !ip.isEmpty {
                    self.announcedIP = ip
                    return .goto(.dialect(3))
                }
            }
            if self.activated {
                return .fail(BringUpFailure(step: .localIP, reason: "context 1 is active but has no IP address",
                                            hint: "--apn and the SIM's data plan"))
            }
            return .next
        case 2:
            guard response.result == .ok else {
                let why = response.result == .timedOut ? "no answer to AT+QIACT=1" : "PDP context activation failed"
                return .fail(BringUpFailure(step: .dataContext, reason: why,
                                            hint: "--apn and the SIM's data plan"))
            }
            self.activated = true
            return .goto(.dialect(1))
        case 3, 4: return .next
        default: return .done(localIP: self.announcedIP ?? "", apn: self.modemAPN)
        }
    }

    // MARK: requests

    func open(_ id: ModemSocketID, _ proto: SocketProtocol, host: String, port: UInt16,
              now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state == .free else { throw .wrongState }
        let service: ATCommandLine.Argument = proto == .tcp ? .quoted("TCP") : .quoted("UDP")
        // EC §2.4.7 / BC §2.3.1: context 1, local port 0 (auto), access mode 0 (buffer).
        let line: ATCommandLine
        do {
            line = try ATCommandLine("AT+QIOPEN", [.int(1), .int(id.rawValue), service, .quoted(host),
                                                  .int(Int(port)), .int(0), .int(0)])
        } catch { throw .unsafeArgument }
        try self.driver.enqueue(ATCommand(line, tag: .open(id), timeout: self.quick), now: now)
        // EC: wait 150 s for +QIOPEN, BC: 60 s (BC §2.3.1 note 2).
        let wait: Duration = self.isNB ? .seconds(60) : .seconds(150)
        self.sockets.update(id) {
            $0.state = .opening(deadline: now + wait)
            $0.proto = proto
            $0.isService = false
            $0.sendPending = false
            $0.readPending = false
        }
    }

    /// EC §2.4.7 "UDP SERVICE": `AT+QIOPEN=1,<id>,"UDP SERVICE","127.0.0.1",0,<local_port>,0`
    /// (the address must be 127.0.0.1 and the local port given; buffer mode as for every
    /// socket), answered like any open: `OK`, then `+QIOPEN: <id>,<err>`. BC has no service.
    func openDatagramService(_ id: ModemSocketID, localPort: UInt16, now: Instant) throws(ModemError) {
        guard !self.isNB else { throw .unsupported }
        guard let s = self.sockets[id], s.state == .free else { throw .wrongState }
        let line: ATCommandLine
        do {
            line = try ATCommandLine("AT+QIOPEN", [.int(1), .int(id.rawValue), .quoted("UDP SERVICE"),
                                                  .quoted("127.0.0.1"), .int(0), .int(Int(localPort)), .int(0)])
        } catch { throw .unsafeArgument }
        try self.driver.enqueue(ATCommand(line, tag: .open(id), timeout: self.quick), now: now)
        self.sockets.update(id) {
            $0.state = .opening(deadline: now + .seconds(150))
            $0.proto = .udp
            $0.isService = true
            $0.sendPending = false
            $0.readPending = false
        }
    }

    /// EC §2.4.10: `AT+QISEND=<id>,<len>,"<ip>",<port>`, then exactly `len` bytes after `>`;
    /// `SEND OK` / `SEND FAIL` / `ERROR` as for a fixed-length send ("result B").
    func sendDatagram(_ id: ModemSocketID, to host: String, port: UInt16, _ bytes: ArraySlice<UInt8>,
                      now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state == .open, s.isService, !s.sendPending else { throw .wrongState }
        guard let line = try? ATCommandLine("AT+QISEND", [.int(id.rawValue), .int(bytes.count), .quoted(host),
                                                          .int(Int(port))]) else { throw .unsafeArgument }
        try self.driver.enqueue(ATCommand(line, tag: .send(id, bytes.count), timeout: .seconds(15),
                                          finals: Self.sendFinals, payload: [bytes]), now: now)
        self.sockets.update(id) { $0.sendPending = true }
    }

    /// EC: SEND OK / SEND FAIL / ERROR with no OK; BC: OK, then SEND OK / SEND FAIL.
    private static let sendFinals: [ATFinalRule] = [
        .exact("SEND OK", .sendOK), .exact("SEND FAIL", .sendFail),
        .exact("OK", .ok, terminal: false), .exact("ERROR", .error),
        .prefix("+CME ERROR:", .cmeError(-1)),
    ]

    func send(_ id: ModemSocketID, _ bytes: ArraySlice<UInt8>, now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state == .open else { throw .wrongState }
        // A service socket's send must name the peer (sendDatagram).
        guard !s.sendPending, !s.isService else { throw .wrongState }
        let chunk = bytes.prefix(self.model.capabilities.maxSend)
        // Fixed-length data mode: exactly `len` bytes after `>`, no terminator, so the payload
        // may hold 0x1A/0x1B (EC §2.4.10, BC §2.3.4).
        guard let line = try? ATCommandLine("AT+QISEND", [.int(id.rawValue), .int(chunk.count)]) else {
            throw .unsafeArgument
        }
        try self.driver.enqueue(ATCommand(line, tag: .send(id, chunk.count), timeout: .seconds(15),
                                          finals: Self.sendFinals, payload: [chunk]), now: now)
        self.sockets.update(id) { $0.sendPending = true }
    }

    func read(_ id: ModemSocketID, max: Int, now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state == .open || s.state == .peerClosed else { throw .wrongState }
        guard !s.readPending else { throw .wrongState }
        // A service socket is read without a length: "AT+QIRD=2 outputs a whole UDP datagram;
        // no read length needs to be given" (EC §3.6.3). What a shorter length would do to a
        // longer datagram is not documented.
        let arguments: [ATCommandLine.Argument] = s.isService ? [.int(id.rawValue)] : [.int(id.rawValue), .int(max)]
        guard let line = try? ATCommandLine("AT+QIRD", arguments) else { throw .unsafeArgument }
        try self.driver.enqueue(ATCommand(line, tag: .read(id, max), timeout: self.quick,
                                          infoPrefixes: ["+QIRD:"]), now: now)
        self.sockets.update(id) { $0.readPending = true }
    }

    func close(_ id: ModemSocketID, now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state != .free, s.state != .closing else { throw .wrongState }
        guard let line = try? ATCommandLine("AT+QICLOSE", [.int(id.rawValue)]) else { throw .unsafeArgument }
        // EC §2.4.8: up to 10 s (the FIN wait); BC §2.3.2: OK, then CLOSE OK.
        let finals: [ATFinalRule] = self.isNB
            ? [.exact("CLOSE OK", .closeOK), .exact("OK", .ok, terminal: false), .exact("ERROR", .error),
               .prefix("+CME ERROR:", .cmeError(-1))]
            : ATFinalRule.standard
        try self.driver.enqueue(ATCommand(line, tag: .close(id), timeout: .seconds(12), finals: finals), now: now)
        self.sockets.update(id) { $0.state = .closing }
    }

    func resolve(_ host: String, now: Instant) throws(ModemError) {
        guard let line = try? ATCommandLine("AT+QIDNSGIP", [.int(1), .quoted(host)]) else { throw .unsafeArgument }
        try self.driver.enqueue(ATCommand(line, tag: .resolve(host), timeout: self.quick), now: now)
        // EC §2.4.17: the result URC within 60 s.
        self.dns.append(PendingDNS(host: host, deadline: now + .seconds(60)))
    }

    func ping(_ host: String, count: Int, now: Instant) throws(ModemError) {
        // EC §2.4.14: <timeout> per request 1–255 s (4 s here), <pingnum> 1–10.
        guard let line = try? ATCommandLine("AT+QPING", [.int(1), .quoted(host), .int(4), .int(count)]) else {
            throw .unsafeArgument
        }
        try self.driver.enqueue(ATCommand(line, tag: .ping(host), timeout: self.quick), now: now)
        self.pings.append(PendingPing(host: host))
    }

    func reconcile(now: Instant) throws(ModemError) {
        try self.driver.enqueue(ATCommand(ATCommandLine("AT+QISTATE?"), tag: .reconcile, timeout: self.quick,
                                          infoPrefixes: ["+QISTATE:"]), now: now)
    }

    // MARK: answers

    func handle(_ response: ATResponse<DriverOp>, now: Instant) {
        switch response.tag {
        case .open(let id):
            if !response.result.isSuccess {
                self.sockets.update(id) { $0.state = .free }
                self.driver.emit(.opened(id, ModemError(response.result)))
            }
        case .send(let id, let count):
            self.sockets.update(id) { $0.sendPending = false }
            switch response.result {
            case .sendOK: self.driver.emit(.sendAccepted(id, count))
            // EC §2.4.10: SEND FAIL = the send buffer is full; retrying is allowed.
            case .sendFail: self.driver.emit(.sendBusy(id))
            default: self.driver.emit(.sendFailed(id, ModemError(response.result)))
            }
        case .read(let id, _):
            self.sockets.update(id) { $0.readPending = false }
            let info = response.result == .ok ? response.info.first(where: { $0.payload != nil }) : nil
            let data = info?.payload ?? []
            if self.sockets[id]?.isService == true, !data.isEmpty, let line = info?.line,
               let sender = Self.serviceSender(line) {
                self.driver.emit(.datagramReceived(id, from: sender.host, port: sender.port, data))
            } else {
                self.driver.emit(.received(id, data))
            }
            // No new "recv" URC until the buffer is read empty (EC §2.4.11): ask again.
            if !data.isEmpty { self.driver.emit(.dataReady(id)) }
        case .close(let id):
            self.sockets.update(id) { $0.state = .free; $0.sendPending = false; $0.readPending = false }
            self.driver.emit(.closed(id))
        case .resolve(let host):
            if !response.result.isSuccess, let i = self.dns.firstIndex(where: { $0.host == host }) {
                self.dns.remove(at: i)
                self.driver.emit(.dnsResult(host: host, addresses: [], error: ModemError(response.result)))
            }
        case .ping(let host):
            if !response.result.isSuccess, let i = self.pings.firstIndex(where: { $0.host == host }) {
                self.pings.remove(at: i)
                self.driver.emit(.pingResult(PingResult(host: host, sent: 0, received: 0, rttMilliseconds: [],
                                                        error: -1)))
            }
        case .reconcile:
            var states: [ModemSocketID: ModemSocketState] = [:]
            for info in response.info {
                var f = ATFields(info.line)
                guard let id = f.int() else { continue }
                _ = f.next(); _ = f.next(); _ = f.next(); _ = f.next()
                guard let state = f.int() else { continue }
                states[ModemSocketID(id)] = self.socketState(state)
            }
            self.driver.emit(.socketStates(states))
        default:
            break
        }
    }

    /// The sender in a UDP SERVICE read header, `+QIRD: <n>,"<ip>",<port>` (EC §2.4.11;
    /// the example quotes the address: `+QIRD: 4,"10.7.76.34",7687`), or nil if it names none.
    static func serviceSender(_ line: [UInt8]) -> (host: String, port: UInt16)? {
        var f = ATFields(line)
        guard f.int() != nil, let host = f.string(), IPv4Dotted.isValid(host),
              let port = f.int(), (1...65535).contains(port) else { return nil }
        return (host, UInt16(port))
    }

    /// EC §2.4.9: 0 Initial, 1 Opening, 2 Connected, 3 Listening, 4 Closing;
    /// BC §2.3.3: 0 Initial, 1 Connecting, 2 Connected, 3 Closing, 4 Remote Closing.
    private func socketState(_ n: Int) -> ModemSocketState {
        switch n {
        case 1: return .opening
        case 2: return .connected
        case 3: return self.isNB ? .closing : .connected
        case 4: return .closing
        default: return .closed
        }
    }

    func handleURC(_ urc: ATInfo, now: Instant) -> Bool {
        let line = urc.line
        if line.hasPrefix("+QIURC:") {
            var f = ATFields(line)
            guard let kind = f.string() else { return false }
            switch kind {
            case "recv":
                // Buffer mode: `"recv",<id>[,<len>]` or BC `"recv",<id>,"buff full"`: all
                // mean "read me" (BC §2.4.3).
                guard let id = f.int() else { return false }
                self.driver.emit(.dataReady(ModemSocketID(id)))
            case "closed":
                guard let id = f.int() else { return false }
                let sid = ModemSocketID(id)
                // EC close/mode 1 also reports our own close this way (EC §2.4.8).
                guard let s = self.sockets[sid], s.state == .open || s.state == .peerClosed else { return true }
                self.sockets.update(sid) { $0.state = .peerClosed }
                self.driver.emit(.closedByPeer(sid))
            case "pdpdeact":
                // EC §2.5.5: the network deactivated the context; all its sockets are gone.
                self.driver.lost()
            case "dnsgip":
                self.dnsLine(&f)
            default:
                return false
            }
            return true
        }
        if line.hasPrefix("+QIOPEN:") {
            var f = ATFields(line)
            guard let id = f.int(), let err = f.int() else { return false }
            let sid = ModemSocketID(id)
            guard let s = self.sockets[sid], case .opening = s.state else { return true }
            if err == 0 {
                self.sockets.update(sid) { $0.state = .open }
                self.driver.emit(.opened(sid, nil))
            } else {
                // BC §2.3.1 note 3: a failed open must still be closed.
                self.sockets.update(sid) { $0.state = .free }
                self.closeQuietly(sid, now: now)
                self.driver.emit(.opened(sid, .failed(err)))
            }
            return true
        }
        if line.hasPrefix("+QPING:") {
            self.pingLine(line)
            return true
        }
        if line.hasPrefix("+IP:") {
            // BC §2.3.1 note 4: `+IP: 10.18.237.42`, unquoted.
            let ip = ATModemDriver.stripPrefix(String(decoding: line, as: UTF8.self))
            self.announcedIP = ip
            if self.waitingForIP {
                self.waitingForIP = false
                self.driver.resumeBringUp(.goto(.dialect(4)), now: now)
            }
            return true
        }
        return false
    }

    private func closeQuietly(_ id: ModemSocketID, now: Instant) {
        guard let line = try? ATCommandLine("AT+QICLOSE", [.int(id.rawValue)]) else { return }
        let finals: [ATFinalRule] = self.isNB
            ? [.exact("CLOSE OK", .closeOK), .exact("OK", .ok, terminal: false), .exact("ERROR", .error)]
            : ATFinalRule.standard
        try? self.driver.enqueue(ATCommand(line, tag: .setting("QICLOSE after failed open"), timeout: .seconds(12),
                                           finals: finals), now: now)
    }

    /// `+QIURC: "dnsgip",<err>[,<count>,<ttl>]` then `<count>` lines `+QIURC: "dnsgip","<ip>"`.
    private func dnsLine(_ f: inout ATFields) {
        guard !self.dns.isEmpty, let first = f.next() else { return }
        var p = self.dns[0]
        if p.expected == nil {
            let err = ATFields.parseInt(first) ?? -1
            let count = f.int() ?? 0
            if err != 0 || count <= 0 {
                self.dns.removeFirst()
                self.driver.emit(.dnsResult(host: p.host, addresses: [], error: err == 0 ? nil : .failed(err)))
                return
            }
            p.expected = count
            self.dns[0] = p
            return
        }
        p.addresses.append(String(decoding: first, as: UTF8.self))
        if p.addresses.count >= (p.expected ?? 0) {
            self.dns.removeFirst()
            self.driver.emit(.dnsResult(host: p.host, addresses: p.addresses, error: nil))
        } else {
            self.dns[0] = p
        }
    }

    /// `+QPING: 0,"ip",<bytes>,<time>,<ttl>` per reply, then
    /// `+QPING: <finresult>,<sent>,<rcvd>,<lost>,<min>,<max>,<avg>` (EC §2.4.14).
    private func pingLine(_ line: [UInt8]) {
        guard !self.pings.isEmpty else { return }
        var f = ATFields(line)
        var fields: [ArraySlice<UInt8>] = []
        while let x = f.next() { fields.append(x) }
        guard let result = fields.first.flatMap({ ATFields.parseInt($0) }) else { return }
        let quotedIP = line.contains(UInt8(ascii: "\""))
        if quotedIP && fields.count >= 5 {
            if result == 0, let t = ATFields.parseInt(fields[3]) { self.pings[0].rtts.append(t) }
            return
        }
        let p = self.pings.removeFirst()
        if fields.count >= 4, result == 0 {
            self.driver.emit(.pingResult(PingResult(host: p.host, sent: ATFields.parseInt(fields[1]) ?? 0,
                                                    received: ATFields.parseInt(fields[2]) ?? 0,
                                                    rttMilliseconds: p.rtts, error: 0)))
        } else {
            self.driver.emit(.pingResult(PingResult(host: p.host, sent: 0, received: 0, rttMilliseconds: p.rtts,
                                                    error: result)))
        }
    }

    // MARK: timers

    var nextDeadline: Instant? {
        var earliest = Earliest()
        for query in self.dns { earliest.consider(query.deadline) }
        for id in self.sockets.ids { if case .opening(let d) = self.sockets[id]?.state { earliest.consider(d) } }
        return earliest.instant
    }

    func tick(now: Instant) {
        for id in self.sockets.ids {
            if case .opening(let d) = self.sockets[id]?.state, now >= d {
                // EC §2.4.7: no +QIOPEN within 150 s → close it.
                self.sockets.reset(id)
                self.closeQuietly(id, now: now)
                self.driver.emit(.opened(id, .timedOut))
            }
        }
        while let p = self.dns.first, now >= p.deadline {
            self.dns.removeFirst()
            self.driver.emit(.dnsResult(host: p.host, addresses: [], error: .timedOut))
        }
    }

    func resetSockets() {
        self.sockets.resetAll()
        for p in self.dns { self.driver.emit(.dnsResult(host: p.host, addresses: [], error: .aborted)) }
        self.dns.removeAll()
        self.pings.removeAll()
        self.activated = false
    }

    // MARK: framing

    func payloadLength(afterInfo line: [UInt8], of command: ATCommand<DriverOp>) -> Int? {
        // `+QIRD: <n>[,...]` then n bytes (EC §2.4.11, BC §2.3.5); n = 0 carries none.
        guard case .read = command.tag, line.hasPrefix("+QIRD:") else { return nil }
        var f = ATFields(line)
        guard let n = f.int(), n > 0 else { return nil }
        return n
    }

    func payloadLength(afterURC line: [UInt8]) -> Int? {
        // Sockets are opened in buffer mode only, so no URC carries data.
        nil
    }
}
