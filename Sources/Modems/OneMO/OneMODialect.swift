import AT
import Buffers

/// China Mobile OneMO TCP/IP: `AT+MIPOPEN/MIPSEND/MIPRD/MIPCLOSE`, `+MIPURC`
/// (TCP/IP 用户手册 V5.0.0, ML302A/ML305A/ML307A/ML307R Cat-1 and the MN316 NB family).
///
/// Sockets open in the buffer modes (access_mode 2 stream buffer for TCP, 3 packet buffer
/// for UDP, manual §3.3) so the caller sizes reads; `+MIPRD:` then carries its data on the
/// same line after the third comma, taken by count (the framer's inline header). Each socket
/// gets `"autofree",1` first (§3.1) so that after a peer close its unread data stays readable
/// until we `AT+MIPCLOSE` it.
final class OneMODialect: ModemDialect {
    enum SocketState: Equatable { case free, opening(deadline: Instant), open, peerClosed, closing(deadline: Instant) }

    struct Socket {
        var state: SocketState = .free
        var proto: SocketProtocol = .tcp
        var sendPending = false
        var readPending = false
    }

    struct PendingPing {
        var host: String
        var expected: Int
        var rtts: [Int] = []
        var replies = 0
    }

    let model: ModemModel
    unowned let driver: ATModemDriver
    private var sockets: SocketTable<Socket>
    private var dns: [(host: String, deadline: Instant)] = []
    private var pings: [PendingPing] = []
    private var modemAPN: String?
    private var activated = false

    /// NB models take no `>` prompt: payload goes inline as HEX (manual §3.5 footnote).
    var hexSend: Bool { self.model.capabilities.hexOnly }
    private let quick: Duration = .seconds(5)

    init(model: ModemModel, driver: ATModemDriver) {
        self.model = model
        self.driver = driver
        self.sockets = SocketTable(count: model.capabilities.socketCount, empty: Socket())
    }

    // MARK: bring-up: the manual has none; TS 27.007 CGDCONT / CGACT / CGPADDR (manual §4 note)

    func bringUpCommand(_ index: Int, apn: String, limits: BringUpLimits) -> ATCommand<DriverOp>? {
        let tag = DriverOp.bringUp(.dialect(index))
        let quick = min(self.quick, limits.commandCeiling)
        switch index {
        case 0:
            return PDPContext.apnCommand(apn, tag: tag, timeout: quick)
        case 1:
            return ATCommand(ATCommandLine("AT+CGACT?"), tag: tag, timeout: quick, infoPrefixes: ["+CGACT:"])
        case 2:
            return ATCommand(ATCommandLine("AT+CGACT=1,1"), tag: tag, timeout: min(.seconds(150), limits.dataContext))
        case 3:
            return ATCommand(ATCommandLine("AT+CGPADDR=1"), tag: tag, timeout: quick, infoPrefixes: ["+CGPADDR:"])
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
            // `+CGACT: <cid>,<state>` per context.
            for info in response.info {
                var f = ATFields(info.line)
                if f.int() == 1, f.int() == 1 { return .goto(.dialect(3)) }
            }
            return self.activated
                ? .fail(BringUpFailure(step: .dataContext, reason: "context 1 stays inactive", hint: "--apn"))
                : .next
        case 2:
            guard response.result == .ok else {
                return .fail(BringUpFailure(step: .dataContext,
                                            reason: response.result == .timedOut ? "no answer to AT+CGACT=1,1" : "PDP context activation failed",
                                            hint: "--apn and the SIM's data plan"))
            }
            self.activated = true
            return .goto(.dialect(1))
        default:
            guard let ip = PDPContext.address(in: response.info) else {
                return .fail(BringUpFailure(step: .localIP, reason: "AT+CGPADDR=1 gave no address", hint: "--apn"))
            }
            return .done(localIP: ip, apn: self.modemAPN)
        }
    }

    // MARK: requests

    func open(_ id: ModemSocketID, _ proto: SocketProtocol, host: String, port: UInt16,
              now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state == .free else { throw .wrongState }
        let mode = proto == .tcp ? 2 : 3
        let setup: [ATCommandLine]
        let line: ATCommandLine
        do {
            var lines = [try ATCommandLine("AT+MIPCFG", [.quoted("autofree"), .int(id.rawValue), .int(1)])]
            if self.hexSend {
                lines.append(try ATCommandLine("AT+MIPCFG", [.quoted("encoding"), .int(id.rawValue), .int(1), .int(0)]))
            }
            setup = lines
            // Connect timeout 60 s (the default), access mode 2/3 (manual §3.3).
            line = try ATCommandLine("AT+MIPOPEN", [.int(id.rawValue), .quoted(proto.rawValue), .quoted(host),
                                                   .int(Int(port)), .int(60), .int(mode)])
        } catch { throw .unsafeArgument }
        for l in setup {
            try self.driver.enqueue(ATCommand(l, tag: .setting("MIPCFG"), timeout: self.quick), now: now)
        }
        try self.driver.enqueue(ATCommand(line, tag: .open(id), timeout: self.quick), now: now)
        self.sockets.update(id) {
            $0 = Socket()
            $0.state = .opening(deadline: now + .seconds(75))
            $0.proto = proto
        }
    }

    func send(_ id: ModemSocketID, _ bytes: ArraySlice<UInt8>, now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state == .open, !s.sendPending else { throw .wrongState }
        let chunk = bytes.prefix(self.model.capabilities.maxSend)
        let command: ATCommand<DriverOp>
        if self.hexSend {
            // Inline HEX: `AT+MIPSEND=<id>,<len>,"<2·len hex digits>"` (manual §3.5 variant D).
            var hex = ""
            hex.reserveCapacity(chunk.count * 2)
            let digits = Array("0123456789ABCDEF".utf8)
            var bytesOut: [UInt8] = []
            bytesOut.reserveCapacity(chunk.count * 2)
            for b in chunk {
                bytesOut.append(digits[Int(b >> 4)])
                bytesOut.append(digits[Int(b & 0x0F)])
            }
            hex = String(decoding: bytesOut, as: UTF8.self)
            guard let line = try? ATCommandLine("AT+MIPSEND", [.int(id.rawValue), .int(chunk.count), .quoted(hex)],
                                                maxArgumentLength: 2 * 1460) else { throw .unsafeArgument }
            command = ATCommand(line, tag: .send(id, chunk.count), timeout: .seconds(15), infoPrefixes: ["+MIPSEND:"])
        } else {
            // Prompt, fixed length: exactly len raw bytes after `>`, then OK (variant B).
            guard let line = try? ATCommandLine("AT+MIPSEND", [.int(id.rawValue), .int(chunk.count)]) else {
                throw .unsafeArgument
            }
            command = ATCommand(line, tag: .send(id, chunk.count), timeout: .seconds(15), infoPrefixes: ["+MIPSEND:"],
                                payload: [chunk])
        }
        try self.driver.enqueue(command, now: now)
        self.sockets.update(id) { $0.sendPending = true }
    }

    func read(_ id: ModemSocketID, max: Int, now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state == .open || s.state == .peerClosed, !s.readPending else {
            throw .wrongState
        }
        // TCP reads bytes; UDP reads packets (one datagram per read keeps its boundary).
        let amount = s.proto == .tcp ? max : 1
        guard let line = try? ATCommandLine("AT+MIPRD", [.int(id.rawValue), .int(amount)]) else { throw .unsafeArgument }
        try self.driver.enqueue(ATCommand(line, tag: .read(id, max), timeout: self.quick, infoPrefixes: ["+MIPRD:"]),
                                now: now)
        self.sockets.update(id) { $0.readPending = true }
    }

    func close(_ id: ModemSocketID, now: Instant) throws(ModemError) {
        guard let s = self.sockets[id], s.state != .free else { throw .wrongState }
        if case .closing = s.state { throw .wrongState }
        guard let line = try? ATCommandLine("AT+MIPCLOSE", [.int(id.rawValue)]) else { throw .unsafeArgument }
        try self.driver.enqueue(ATCommand(line, tag: .close(id), timeout: self.quick), now: now)
        // `OK` now, `+MIPCLOSE: <id>[,<ret>]` when done (manual §3.4); MSL is 5.5 s on NB.
        self.sockets.update(id) { $0.state = .closing(deadline: now + .seconds(15)) }
    }

    func resolve(_ host: String, now: Instant) throws(ModemError) {
        guard let line = try? ATCommandLine("AT+MDNSGIP", [.quoted(host)]) else { throw .unsafeArgument }
        try self.driver.enqueue(ATCommand(line, tag: .resolve(host), timeout: self.quick), now: now)
        self.dns.append((host, now + .seconds(60)))
    }

    func ping(_ host: String, count: Int, now: Instant) throws(ModemError) {
        // `AT+MPING=<host>[,<timeout>[,<ping_num>]]` (manual §3.12): 4 s per echo.
        guard let line = try? ATCommandLine("AT+MPING", [.quoted(host), .int(4), .int(count)]) else {
            throw .unsafeArgument
        }
        try self.driver.enqueue(ATCommand(line, tag: .ping(host), timeout: self.quick), now: now)
        self.pings.append(PendingPing(host: host, expected: count))
    }

    func reconcile(now: Instant) throws(ModemError) {
        try self.driver.enqueue(ATCommand(ATCommandLine("AT+MIPSTATE?"), tag: .reconcile, timeout: self.quick,
                                          infoPrefixes: ["+MIPSTATE:"]), now: now)
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
            // The manual defines no "buffer full" answer for MIPSEND; a full stack buffer
            // shows as `+CME ERROR: 560` (SOCKET write error, manual §12) with the socket
            // still up (no "disconn"): the bytes were not taken, so it is "try later".
            if response.result == .cmeError(560) {
                self.driver.emit(.sendBusy(id))
                return
            }
            guard response.result == .ok else {
                self.driver.emit(.sendFailed(id, ModemError(response.result)))
                return
            }
            // `+MIPSEND: <id>,<len>` when printed is what reached the stack (manual §3.5).
            var accepted = count
            if let line = response.info.first?.line {
                var f = ATFields(line)
                _ = f.int()
                accepted = min(count, f.int() ?? count)
            }
            self.driver.emit(accepted > 0 ? .sendAccepted(id, accepted) : .sendBusy(id))
        case .read(let id, _):
            self.sockets.update(id) { $0.readPending = false }
            // `+MIPRD: <id>,<unread>,<data_len>,<data>`; only OK when nothing is buffered.
            var data: [UInt8] = []
            var more = false
            if response.result == .ok {
                for info in response.info {
                    var f = ATFields(info.line)
                    _ = f.int()
                    more = more || (f.int() ?? 0) > 0
                    if let payload = info.payload { data += payload }
                }
            }
            self.driver.emit(.received(id, data))
            if more { self.driver.emit(.dataReady(id)) }
        case .close(let id):
            if !response.result.isSuccess {
                // Refused (already released): the id is free either way.
                self.sockets.reset(id)
                self.driver.emit(.closed(id))
            }
        case .resolve(let host):
            if !response.result.isSuccess, let i = self.dns.firstIndex(where: { $0.host == host }) {
                self.dns.remove(at: i)
                self.driver.emit(.dnsResult(host: host, addresses: [], error: ModemError(response.result)))
            }
        case .ping(let host):
            if !response.result.isSuccess, let i = self.pings.firstIndex(where: { $0.host == host }) {
                self.pings.remove(at: i)
                self.driver.emit(.pingResult(PingResult(host: host, sent: 0, received: 0, rttMilliseconds: [], error: -1)))
            }
        case .reconcile:
            // `+MIPSTATE: <id>,<type>,<address>,<port>,"<state>"`; the state is the last field.
            var states: [ModemSocketID: ModemSocketState] = [:]
            for info in response.info {
                var f = ATFields(info.line)
                guard let id = f.int() else { continue }
                var last = ""
                while let x = f.string() { last = x }
                switch last {
                case "CONNECTED": states[ModemSocketID(id)] = .connected
                case "CONNECTING": states[ModemSocketID(id)] = .opening
                case "CLOSING": states[ModemSocketID(id)] = .closing
                default: states[ModemSocketID(id)] = .closed
                }
            }
            self.driver.emit(.socketStates(states))
        default:
            break
        }
    }

    func handleURC(_ urc: ATInfo, now: Instant) -> Bool {
        let line = urc.line
        if line.hasPrefix("+MIPOPEN:") || line.hasPrefix("+MIOPEN:") {
            var f = ATFields(line)
            guard let n = f.int(), let result = f.int() else { return false }
            let id = ModemSocketID(n)
            guard let s = self.sockets[id], case .opening = s.state else { return true }
            if result == 0 {
                self.sockets.update(id) { $0.state = .open }
                self.driver.emit(.opened(id, nil))
            } else {
                // NB models say 1, Cat-1 a 55x code (manual §3.3). With autofree 1 the id
                // must still be released.
                self.sockets.update(id) { $0.state = .free }
                if let l = try? ATCommandLine("AT+MIPCLOSE", [.int(n)]) {
                    try? self.driver.enqueue(ATCommand(l, tag: .setting("MIPCLOSE after failed open"),
                                                       timeout: self.quick), now: now)
                }
                self.driver.emit(.opened(id, .failed(result)))
            }
            return true
        }
        if line.hasPrefix("+MIPCLOSE:") {
            var f = ATFields(line)
            guard let n = f.int() else { return false }
            let id = ModemSocketID(n)
            if let s = self.sockets[id], case .closing = s.state {
                self.sockets.reset(id)
                self.driver.emit(.closed(id))
            }
            return true
        }
        if line.hasPrefix("+MIPURC:") {
            var f = ATFields(line)
            guard let kind = f.string(), let n = f.int() else { return false }
            let id = ModemSocketID(n)
            switch kind {
            case "rtcp", "tcp", "rudp", "udp":
                // Buffer modes: a notice only (`"rtcp",<id>,<len>,<total>` / `"rudp",<id>,<count>`).
                self.driver.emit(.dataReady(id))
            case "disconn":
                // `<connect_state>` 1 server closed, 2 error, 3 PDP deactivated.
                let state = f.int() ?? 2
                if let s = self.sockets[id], s.state == .open {
                    self.sockets.update(id) { $0.state = .peerClosed }
                    self.driver.emit(.closedByPeer(id))
                }
                if state == 3 { self.driver.lost() }
            case "drop":
                // Data the modem discarded (buffer full): counted by the caller as loss.
                break
            default:
                break
            }
            return true
        }
        if line.hasPrefix("+MDNSGIP:") {
            guard !self.dns.isEmpty else { return true }
            let p = self.dns.removeFirst()
            var f = ATFields(line)
            _ = f.next()
            var addresses: [String] = []
            while let a = f.string(), !a.isEmpty { addresses.append(a) }
            self.driver.emit(.dnsResult(host: p.host, addresses: addresses, error: addresses.isEmpty ? .failed(580) : nil))
            return true
        }
        if line.hasPrefix("+MPING:") {
            self.pingLine(line)
            return true
        }
        return false
    }

    /// `+MPING: 0,"ip",len,time,ttl` per echo, `+MPING: "statistics",sent,lost,min,max,avg`
    /// after several, `+MPING: <n≠0>` on failure (manual §3.12).
    private func pingLine(_ line: [UInt8]) {
        guard !self.pings.isEmpty else { return }
        var f = ATFields(line)
        guard let first = f.string() else { return }
        if first == "statistics" {
            let sent = f.int() ?? 0
            let lost = f.int() ?? 0
            let p = self.pings.removeFirst()
            self.driver.emit(.pingResult(PingResult(host: p.host, sent: sent, received: sent - lost,
                                                    rttMilliseconds: p.rtts, error: 0)))
            return
        }
        let result = ATFields.parseInt(Array(first.utf8)) ?? -1
        if result != 0 {
            let p = self.pings.removeFirst()
            self.driver.emit(.pingResult(PingResult(host: p.host, sent: p.replies + 1, received: p.replies,
                                                    rttMilliseconds: p.rtts, error: result)))
            return
        }
        _ = f.next(); _ = f.next()
        if let t = f.int() { self.pings[0].rtts.append(t) }
        self.pings[0].replies += 1
        if self.pings[0].expected == 1 {
            let p = self.pings.removeFirst()
            self.driver.emit(.pingResult(PingResult(host: p.host, sent: 1, received: 1, rttMilliseconds: p.rtts, error: 0)))
        }
    }

    // MARK: timers

    var nextDeadline: Instant? {
        var earliest = Earliest()
        for query in self.dns { earliest.consider(query.deadline) }
        for id in self.sockets.ids {
            switch self.sockets[id]?.state {
            case .opening(let d)?, .closing(let d)?: earliest.consider(d)
            default: break
            }
        }
        return earliest.instant
    }

    func tick(now: Instant) {
        for id in self.sockets.ids {
            switch self.sockets[id]?.state {
            case .opening(let d)? where now >= d:
                self.sockets.reset(id)
                self.driver.emit(.opened(id, .timedOut))
            case .closing(let d)? where now >= d:
                // No +MIPCLOSE: the manual does not promise one after every close (§15 #21).
                self.sockets.reset(id)
                self.driver.emit(.closed(id))
            default:
                break
            }
        }
        while let p = self.dns.first, now >= p.deadline {
            self.dns.removeFirst()
            self.driver.emit(.dnsResult(host: p.host, addresses: [], error: .timedOut))
        }
    }

    func resetSockets() {
        self.sockets.resetAll()
        self.dns.removeAll()
        self.pings.removeAll()
        self.activated = false
    }

    // MARK: framing

    func payloadLength(afterInfo line: [UInt8], of command: ATCommand<DriverOp>) -> Int? { nil }
    func payloadLength(afterURC line: [UInt8]) -> Int? { nil }

    /// `+MIPRD: <id>,<unread>,<data_len>,` — the data follows the third comma (manual §3.6).
    func inlinePayloadLength(_ partialLine: ArraySlice<UInt8>, inFlight: DriverOp?) -> Int? {
        guard case .read? = inFlight, partialLine.hasPrefix("+MIPRD:") else { return nil }
        var commas = 0
        for b in partialLine where b == UInt8(ascii: ",") { commas += 1 }
        guard commas == 3 else { return nil }
        var f = ATFields(Array(partialLine))
        _ = f.int()
        _ = f.int()
        guard let n = f.int(), n >= 0 else { return nil }
        return n
    }
}
