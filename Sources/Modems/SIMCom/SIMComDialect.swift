import AT
import Buffers

/// SIMCom SIM7028 (NB-IoT): `AT+NETOPEN`, `AT+CIPOPEN/CIPSEND/CIPRXGET/CIPCLOSE`
/// (SIM7028 TCP/IP application note V1.04; the note is a machine translation, so `OK`,
/// `+NETOPEN:` etc. are the SIMCom tokens the translation replaced, see simcom-sim7028.md §1).
///
/// Receive is buffer-access mode (`AT+CIPRXGET=1`, note §1.3): the direct-push header
/// `+IPD<len>` names no link, so with two links open the data could not be told apart.
final class SIMComDialect: ModemDialect {
    enum SocketState: Equatable { case free, opening, open, peerClosed, closing }

    struct Socket {
        var state: SocketState = .free
        var proto: SocketProtocol = .tcp
        /// UDP names its peer on every send (note §2.1.4).
        var peerHost = ""
        var peerPort: UInt16 = 0
        /// From `send` until its `.sendAccepted`/`.sendFailed` is emitted (the bridge's
        /// one pending send).
        var sendPending = false
        var readPending = false
        /// Requested lengths of sends the modem took (`OK`) whose `+CIPSEND: l,req,cnf` has
        /// not come yet, oldest first; never more than `unconfirmedLimit`.
        var unconfirmed: [Int] = []
        /// Bytes of a send the modem took whose `.sendAccepted` waits for an older send's
        /// confirmation, so that no more than `unconfirmedLimit` sends are unconfirmed.
        var heldAcceptance: Int?
        /// When the oldest unconfirmed send must have been confirmed.
        var confirmDeadline: Instant?
    }

    /// Sends the modem has taken but not yet confirmed, per link. `+CIPSEND: l,req,cnf` comes
    /// after `OK` (note §2 table: the asynchronous part), and with `AT+CIPSENDMODE=1` only
    /// once the peer ACKed the data, so waiting for it before the next send would make every
    /// link stop-and-wait: 1500 bytes per round trip. Two in flight keep the link busy while
    /// bounding what sits in the module's buffer to 2 × 1500 bytes, well under any buffer a
    /// module that takes 1500-byte sends must have; a full buffer (cnf 0) would end the link.
    static let unconfirmedLimit = 2

    let model: ModemModel
    unowned let driver: ATModemDriver
    private var sockets: SocketTable<Socket>
    private var waitingForNetopen = false
    private var localIP = ""
    private var modemAPN: String?

    init(model: ModemModel, driver: ATModemDriver) {
        self.model = model
        self.driver = driver
        self.sockets = SocketTable(count: model.capabilities.socketCount, empty: Socket())
    }

    /// Note §2: 9000 ms for the commands without their own limit.
    private let quick: Duration = .seconds(9)
    /// Note §2: NETOPEN, CIPOPEN, CIPSEND, CIPCLOSE default to 120000 ms (AT+CIPTIMEOUT).
    private let slow: Duration = .seconds(120)

    // MARK: bring-up (note §3.1)

    func bringUpCommand(_ index: Int, apn: String, limits: BringUpLimits) -> ATCommand<DriverOp>? {
        let tag = DriverOp.bringUp(.dialect(index))
        let quick = min(self.quick, limits.commandCeiling)
        switch index {
        case 0:
            return PDPContext.apnCommand(apn, tag: tag, timeout: quick)
        case 1:
            return ATCommand(ATCommandLine("AT+NETOPEN?"), tag: tag, timeout: quick, infoPrefixes: ["+NETOPEN:"])
        case 2:
            // `OK` now, `+NETOPEN: <err>` later; "already opened" comes as +IP ERROR + ERROR.
            return ATCommand(ATCommandLine("AT+NETOPEN"), tag: tag, timeout: min(self.slow, limits.dataContext),
                             infoPrefixes: ["+IP ERROR:"])
        case 3:
            // Buffer-access receive (note §2.1.5), set after NETOPEN as in the examples.
            return ATCommand(ATCommandLine("AT+CIPRXGET=1"), tag: tag, timeout: quick)
        case 4:
            // Note §2.1.11: `+CIPSEND:` only once the peer ACKed the data. The module's buffer
            // then never fills, and a full buffer would end the socket (cnf ≠ req, §2.1.4).
            return ATCommand(ATCommandLine("AT+CIPSENDMODE=1"), tag: tag, timeout: quick)
        case 5:
            return ATCommand(ATCommandLine("AT+IPADDR"), tag: tag, timeout: quick, infoPrefixes: ["+IPADDR:"])
        default:
            return nil
        }
    }

    func handleBringUp(_ index: Int, _ response: ATResponse<DriverOp>, apn: String,
                       limits: BringUpLimits) -> BringUpNext {
        switch index {
        case 0:
            let (next, modemAPN) = PDPContext.apnResult(response, apn: apn)
            self.modemAPN = modemAPN
            return next
        case 1:
            for info in response.info {
                var f = ATFields(info.line)
                if f.int() == 1 { return .goto(.dialect(3)) }
            }
            return .next
        case 2:
            if response.result == .ok {
                self.waitingForNetopen = true
                return .wait(timeout: min(self.slow, limits.dataContext),
                             failure: BringUpFailure(step: .dataContext, reason: "no +NETOPEN result",
                                                     hint: "registration and --apn"))
            }
            if response.info.contains(where: { $0.text.contains("already opened") }) { return .next }
            return .fail(BringUpFailure(step: .dataContext, reason: "AT+NETOPEN failed", hint: "--apn and AT+CEREG?"))
        case 3:
            return response.result.isSuccess ? .next
                : .fail(BringUpFailure(step: .socketConfig, reason: "AT+CIPRXGET=1 refused", hint: "the firmware"))
        case 4:
            // Tolerated: without it sends are still correct, only riskier when the peer is slow.
            return .next
        default:
            // `+IPADDR: 10.148.0.17`, unquoted (note §2.1.7).
            if let line = response.info.first?.line {
                self.localIP = ATModemDriver.stripPrefix(String(decoding: line, as: UTF8.self))
            }
            guard !self.localIP.isEmpty else {
                return .fail(BringUpFailure(step: .localIP, reason: "AT+IPADDR gave no address", hint: "--apn"))
            }
            return .done(localIP: self.localIP, apn: self.modemAPN)
        }
    }

    // MARK: requests

    func open(_ id: ModemSocketID, _ proto: SocketProtocol, host: String, port: UInt16,
              now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state == .free else { throw .wrongState }
        let line: ATCommandLine
        do {
            switch proto {
            case .tcp:
                line = try ATCommandLine("AT+CIPOPEN", [.int(id.rawValue), .quoted("TCP"), .quoted(host), .int(Int(port))])
            case .udp:
                // Note §2.1.3: UDP names no peer at open, only a local port (0: any).
                line = try ATCommandLine("AT+CIPOPEN", [.int(id.rawValue), .quoted("UDP"), .empty, .empty, .int(0)])
            }
        } catch { throw .unsafeArgument }
        // TCP: OK now, +CIPOPEN: <l>,<err> later. UDP: +CIPOPEN: <l>,0 then OK. Failure:
        // +CIPOPEN: <l>,<err> then ERROR, or +IP ERROR: ... ERROR.
        try self.driver.enqueue(ATCommand(line, tag: .open(id), timeout: self.slow,
                                          infoPrefixes: ["+CIPOPEN:", "+IP ERROR:"]), now: now)
        self.sockets.update(id) {
            $0 = Socket()
            $0.state = .opening
            $0.proto = proto
            $0.peerHost = host
            $0.peerPort = port
        }
    }

    func send(_ id: ModemSocketID, _ bytes: ArraySlice<UInt8>, now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state == .open, !s.sendPending else { throw .wrongState }
        let chunk = bytes.prefix(self.model.capabilities.maxSend)
        let line: ATCommandLine
        do {
            // Fixed length: no <ETX> escaping, the payload is taken as is (note §2.1.4).
            line = s.proto == .tcp
                ? try ATCommandLine("AT+CIPSEND", [.int(id.rawValue), .int(chunk.count)])
                : try ATCommandLine("AT+CIPSEND", [.int(id.rawValue), .int(chunk.count), .quoted(s.peerHost),
                                                   .int(Int(s.peerPort))])
        } catch { throw .unsafeArgument }
        // `OK` ends the command: the modem has the bytes. `+CIPSEND: l,req,cnf` follows as a
        // URC (see `confirmed`), and the line is free for other commands meanwhile.
        try self.driver.enqueue(ATCommand(line, tag: .send(id, chunk.count), timeout: self.slow,
                                          infoPrefixes: ["+CIPERROR:", "+IP ERROR:"], payload: [chunk]), now: now)
        self.sockets.update(id) { $0.sendPending = true }
    }

    func read(_ id: ModemSocketID, max: Int, now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state == .open || s.state == .peerClosed, !s.readPending else {
            throw .wrongState
        }
        guard let line = try? ATCommandLine("AT+CIPRXGET", [.int(2), .int(id.rawValue), .int(max)]) else {
            throw .unsafeArgument
        }
        // Note §2.1.5: 8 s.
        try self.driver.enqueue(ATCommand(line, tag: .read(id, max), timeout: .seconds(8),
                                          infoPrefixes: ["+CIPRXGET:", "+IP ERROR:"]), now: now)
        self.sockets.update(id) { $0.readPending = true }
    }

    func close(_ id: ModemSocketID, now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state != .free, s.state != .closing else { throw .wrongState }
        guard let line = try? ATCommandLine("AT+CIPCLOSE", [.int(id.rawValue)]) else { throw .unsafeArgument }
        // Note §2.1.6: TCP `OK` then `+CIPCLOSE: <l>,<err>`; UDP `+CIPCLOSE: <l>,0` then `OK`;
        // failure `+CIPCLOSE: <l>,<err>` then `ERROR`.
        let finals: [ATFinalRule] = s.proto == .tcp
            ? [.exact("OK", .ok, terminal: false),
               .prefix("+CIPCLOSE:", .custom("CIPCLOSE"), onlyAfterIntermediate: true),
               .exact("ERROR", .error), .prefix("+CME ERROR:", .cmeError(-1))]
            : ATFinalRule.standard
        try self.driver.enqueue(ATCommand(line, tag: .close(id), timeout: self.slow, infoPrefixes: ["+CIPCLOSE:"],
                                          finals: finals), now: now)
        self.sockets.update(id) { $0.state = .closing }
    }

    func resolve(_ host: String, now: Instant) throws(ModemError) {
        guard let line = try? ATCommandLine("AT+CDNSGIP", [.quoted(host)]) else { throw .unsafeArgument }
        // Synchronous, 6 s (note §2.1.17).
        try self.driver.enqueue(ATCommand(line, tag: .resolve(host), timeout: .seconds(8),
                                          infoPrefixes: ["+CDNSGIP:"]), now: now)
    }

    func ping(_ host: String, count: Int, now: Instant) throws(ModemError) {
        // The SIM7028 TCP/IP note has no ping command.
        throw .unsupported
    }

    func reconcile(now: Instant) throws(ModemError) {
        try self.driver.enqueue(ATCommand(ATCommandLine("AT+CIPCLOSE?"), tag: .reconcile, timeout: self.quick,
                                          infoPrefixes: ["+CIPCLOSE:"]), now: now)
    }

    // MARK: answers

    func handle(_ response: ATResponse<DriverOp>, now: Instant) {
        switch response.tag {
        case .open(let id):
            guard response.result == .ok else {
                var own: Int?
                for (link, err) in response.info.compactMap({ Self.linkResult($0.line, prefix: "+CIPOPEN:") }) {
                    if link == id.rawValue { own = err } else { self.openResult(ModemSocketID(link), err) }
                }
                self.sockets.update(id) { $0.state = .free }
                self.driver.emit(.opened(id, own.map { ModemError.failed($0) } ?? ModemError(response.result)))
                return
            }
            // UDP answers before OK; TCP's result is a URC still to come. A `+CIPOPEN:` line
            // seen while this command was in flight may also be another link's URC: each
            // line goes to the link it names.
            for (link, err) in response.info.compactMap({ Self.linkResult($0.line, prefix: "+CIPOPEN:") }) {
                self.openResult(ModemSocketID(link), err)
            }
        case .send(let id, let count):
            guard response.result == .ok else {
                self.sockets.update(id) { $0.sendPending = false }
                self.driver.emit(.sendFailed(id, ModemError(response.result)))
                return
            }
            guard let s = self.sockets[id], s.state == .open || s.state == .peerClosed else {
                // Closing already: the modem took the bytes; no confirmation to wait for.
                self.sockets.update(id) { $0.sendPending = false }
                self.driver.emit(.sendAccepted(id, count))
                return
            }
            self.sockets.update(id) {
                $0.unconfirmed.append(count)
                if $0.confirmDeadline == nil { $0.confirmDeadline = now + self.slow }
            }
            self.releaseAcceptance(id, count)
        case .read(let id, _):
            self.sockets.update(id) { $0.readPending = false }
            var data: [UInt8] = []
            var more = false
            for info in response.info where info.line.hasPrefix("+CIPRXGET:") {
                var f = ATFields(info.line)
                let mode = f.int()
                if mode == 1 {
                    // A data notice (for any link) that arrived during the read.
                    if let l = f.int() { self.driver.emit(.dataReady(ModemSocketID(l))) }
                    continue
                }
                guard mode == 2 else { continue }
                _ = f.int()
                _ = f.int()
                let rest = f.int() ?? 0
                if let payload = info.payload { data += payload }
                more = more || rest > 0
            }
            // `+IP ERROR: No data` then ERROR is an empty read.
            self.driver.emit(.received(id, data))
            if more { self.driver.emit(.dataReady(id)) }
        case .close(let id):
            self.sockets.reset(id)
            self.driver.emit(.closed(id))
        case .resolve(let host):
            // `+CDNSGIP: 1,"<name>","<ip>"` or `+CDNSGIP: 0,<code>` then ERROR.
            var addresses: [String] = []
            var code: Int?
            for info in response.info {
                var f = ATFields(info.line)
                if f.int() == 1 {
                    _ = f.next()
                    while let ip = f.string(), !ip.isEmpty { addresses.append(ip) }
                } else if let c = f.int() {
                    code = c
                }
            }
            if response.result == .ok && !addresses.isEmpty {
                self.driver.emit(.dnsResult(host: host, addresses: addresses, error: nil))
            } else {
                self.driver.emit(.dnsResult(host: host, addresses: [],
                                            error: code.map { .failed($0) } ?? ModemError(response.result)))
            }
        case .reconcile:
            // `+CIPCLOSE: <link0_state>,<link1_state>`: 0 disconnected, 1 connected.
            var states: [ModemSocketID: ModemSocketState] = [:]
            if let line = response.info.first?.line {
                var f = ATFields(line)
                var i = 0
                while let v = f.int() {
                    states[ModemSocketID(i)] = v == 1 ? .connected : .closed
                    i += 1
                }
            }
            self.driver.emit(.socketStates(states))
        default:
            break
        }
    }

    /// `<prefix> <link>,<err>`.
    static func linkResult(_ line: [UInt8], prefix: StaticString) -> (Int, Int)? {
        guard line.hasPrefix(prefix) else { return nil }
        var f = ATFields(line)
        guard let l = f.int(), let e = f.int() else { return nil }
        return (l, e)
    }

    private func openResult(_ id: ModemSocketID, _ err: Int) {
        guard let s = self.sockets[id], s.state == .opening else { return }
        if err == 0 {
            self.sockets.update(id) { $0.state = .open }
            self.driver.emit(.opened(id, nil))
        } else {
            self.sockets.update(id) { $0.state = .free }
            self.driver.emit(.opened(id, .failed(err)))
        }
    }

    func handleURC(_ urc: ATInfo, now: Instant) -> Bool {
        let line = urc.line
        if let (l, err) = Self.linkResult(line, prefix: "+CIPOPEN:") {
            self.openResult(ModemSocketID(l), err)
            return true
        }
        if line.hasPrefix("+CIPRXGET:") {
            var f = ATFields(line)
            guard f.int() == 1, let l = f.int() else { return false }
            self.driver.emit(.dataReady(ModemSocketID(l)))
            return true
        }
        if line.hasPrefix("+IPCLOSE:") {
            // `+IPCLOSE: <link>,<reason>`: 0 closed locally, 1 by the remote, 2 send timeout.
            var f = ATFields(line)
            guard let l = f.int() else { return false }
            let id = ModemSocketID(l)
            if let s = self.sockets[id], s.state == .open {
                self.sockets.update(id) { $0.state = .peerClosed }
                self.driver.emit(.closedByPeer(id))
            }
            return true
        }
        if line.hasPrefix("+CIPEVENT:") {
            // `+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY` (note §2.2).
            self.driver.lost()
            return true
        }
        if line.hasPrefix("+NETOPEN:") {
            var f = ATFields(line)
            let err = f.int() ?? -1
            if self.waitingForNetopen {
                self.waitingForNetopen = false
                self.driver.resumeBringUp(err == 0 ? .next
                    : .fail(BringUpFailure(step: .dataContext, reason: "+NETOPEN: \(err)",
                                           hint: "--apn, registration and the SIM's data plan")), now: now)
            }
            return true
        }
        if line.hasPrefix("+CIPSEND:") {
            var f = ATFields(line)
            guard let l = f.int(), let requested = f.int(), let confirmed = f.int() else { return false }
            self.confirmed(ModemSocketID(l), requested: requested, confirmed: confirmed, now: now)
            return true
        }
        if line.hasPrefix("+CIPCLOSE:") || line == Array("CLOSED".utf8) {
            return true   // late halves of answers already handled
        }
        if urc.payload != nil { return true }   // +IPD data in direct mode: not used, dropped
        return false
    }

    // MARK: send confirmations

    /// Emits `.sendAccepted` for a send the modem took, unless that would put more than
    /// `unconfirmedLimit` sends in flight: then it waits for the oldest one's confirmation.
    private func releaseAcceptance(_ id: ModemSocketID, _ count: Int) {
        guard let s = self.sockets[id] else { return }
        if s.unconfirmed.count < Self.unconfirmedLimit {
            self.sockets.update(id) { $0.sendPending = false; $0.heldAcceptance = nil }
            self.driver.emit(.sendAccepted(id, count))
        } else {
            self.sockets.update(id) { $0.heldAcceptance = count }
        }
    }

    /// `+CIPSEND: <l>,<req>,<cnf>` (note §2.1.4): cnf = req, the data reached the stack (or,
    /// with CIPSENDMODE=1, the peer); 0, the module's buffer or the peer's window was full;
    /// -1, the link broke. "If cnf ≠ req the socket cannot be used any more", and bytes the
    /// modem took were not delivered: that is a broken link, never a quiet close.
    private func confirmed(_ id: ModemSocketID, requested: Int, confirmed: Int, now: Instant) {
        guard let s = self.sockets[id], !s.unconfirmed.isEmpty else { return }   // a stray or late report
        self.sockets.update(id) {
            $0.unconfirmed.removeFirst()
            $0.confirmDeadline = $0.unconfirmed.isEmpty ? nil : now + self.slow
        }
        guard confirmed == requested else {
            self.broken(id, .failed(confirmed))
            return
        }
        if let held = self.sockets[id]?.heldAcceptance { self.releaseAcceptance(id, held) }
    }

    /// The modem gave the link up holding bytes it had taken: the flow must be reset.
    private func broken(_ id: ModemSocketID, _ error: ModemError) {
        guard let s = self.sockets[id] else { return }
        let held = s.heldAcceptance != nil
        self.sockets.update(id) {
            $0.unconfirmed = []
            $0.heldAcceptance = nil
            $0.confirmDeadline = nil
            if held { $0.sendPending = false }
            if $0.state == .open { $0.state = .peerClosed }
        }
        if held { self.driver.emit(.sendFailed(id, error)) }
        if s.state == .open || s.state == .peerClosed { self.driver.emit(.broken(id, error)) }
    }

    var nextDeadline: Instant? {
        self.sockets.ids.lazy.compactMap { self.sockets[$0]?.confirmDeadline }.min()
    }

    /// A send never confirmed within the command's own limit (120 s, note §2) is a link the
    /// modem lost track of.
    func tick(now: Instant) {
        for id in self.sockets.ids {
            if let due = self.sockets[id]?.confirmDeadline, due <= now { self.broken(id, .timedOut) }
        }
    }

    func resetSockets() {
        self.sockets.resetAll()
        self.waitingForNetopen = false
    }

    // MARK: framing

    func payloadLength(afterInfo line: [UInt8], of command: ATCommand<DriverOp>) -> Int? {
        // `+CIPRXGET: 2,<link>,<read_len>,<rest_len>` then read_len raw bytes.
        guard case .read = command.tag, line.hasPrefix("+CIPRXGET:") else { return nil }
        var f = ATFields(line)
        guard f.int() == 2, f.int() != nil, let n = f.int(), n > 0 else { return nil }
        return n
    }

    func payloadLength(afterURC line: [UInt8]) -> Int? {
        // Direct push, should it ever be on: `+IPD<len>` / `+RECEIVE,<link>,<len>`.
        if line.hasPrefix("+IPD") {
            return ATFields.parseInt(line.dropFirst(4)).flatMap { $0 > 0 ? $0 : nil }
        }
        if line.hasPrefix("+RECEIVE,") {
            var f = ATFields(line, from: 9)
            _ = f.int()
            return f.int().flatMap { $0 > 0 ? $0 : nil }
        }
        return nil
    }
}
