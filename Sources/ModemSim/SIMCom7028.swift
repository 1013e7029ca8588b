import Buffers

/// SIMCom SIM7028 (NB-IoT): `AT+NETOPEN` / `AT+CIPOPEN` / `AT+CIPSEND` / `AT+CIPRXGET`
/// (simcom-sim7028.md, from the machine-translated application note, seed 001).
///
/// Links 0-1; direct push by default (`RECV FROM:<ip>:<port>` + `+IPD<len>` + data), buffer
/// mode with `AT+CIPRXGET=1`; `<ETX>` escaping in variable-length sends; TCP opens answer `OK`
/// then `+CIPOPEN:`, UDP opens `+CIPOPEN:` then `OK`; a send answers `OK` then
/// `+CIPSEND: <l>,<req>,<cnf>`, with `<cnf>` 0 when the send buffer is full, after which the
/// link refuses sends (§7.4: "the socket cannot be used any more").
/// Choices where the note is silent: ESC answers `OK` with no `+CIPSEND:`; a busy link
/// answers `+CIPOPEN: <l>,9` `ERROR`; sends on a link that is not up answer `+CIPERROR: 4`;
/// no CRLF follows direct-push data. Transparent mode (`AT+CIPMODE=1` before `AT+NETOPEN`,
/// link 0 or server 0 only) answers `CONNECT 115200`; `+++` needs > 1 s of quiet around it
/// and ≤ 900 ms between its characters (§1.3); a dropped link prints `CLOSED` (inferred).
final class SIMCom7028: Dialect {
    var netOpen = false
    /// AT+CIPRXGET mode: 0 direct push (default), 1 buffer.
    var rxGetMode = 0
    var cipHead = 1
    var cipSrip = 1
    var sendMode = 0
    /// AT+CIPCCFG: NmRetry, DelayTm, Ack, errMode, HeaderType, AsyncMode, TimeoutVal.
    var ccfg = [10, 0, 0, 1, 0, 0, 500]
    var timeouts = [120000, 120000, 120000]
    var socketFamily = 1
    var keepalive = [0, 1, 1, 1]
    var dns = ["183.230.126.224", "183.230.126.225"]
    /// Links whose send came back short: they refuse further sends (§7.4).
    var unusable: Set<Int> = []
    var dnsQuery: (query: Int, name: String)? = nil
    /// AT+CIPSENDMODE=1: `+CIPSEND:` reports waiting for their data to leave the module,
    /// per link in order: (total sent when confirmed, requested length).
    var awaitingConfirmation: [Int: [(until: Int, length: Int)]] = [:]
    /// AT+CIPMODE: 1 = transparent, only changeable while the network is closed (§7.10).
    var cipMode = 0
    /// Links opened in transparent mode.
    var transparentLinks: Set<Int> = []
    /// Server sockets live at link id 100 + <server_index>, outside the host's links.
    static let serverBase = 100

    init() {}

    func powerOnReset() {
        netOpen = false
        rxGetMode = 0
        cipHead = 1
        cipSrip = 1
        sendMode = 0
        ccfg = [10, 0, 0, 1, 0, 0, 500]
        timeouts = [120000, 120000, 120000]
        socketFamily = 1
        unusable = []
        dnsQuery = nil
        awaitingConfirmation = [:]
        cipMode = 0
        transparentLinks = []
    }

    private func transparentSettings(_ modem: SimModem) -> TransparentSettings {
        TransparentSettings(packetSize: 1460, packetWait: .milliseconds(100), connectText: "CONNECT \(modem.baudRate)",
                            escapeGap: .milliseconds(900), escapeWindow: .milliseconds(1800))
    }

    func bootURCs(modem: SimModem) -> [String] { ["+CPIN: READY"] }

    /// `+IP ERROR: <err_info>`, as a string or a number by `<errMode>` (§15.1).
    static let errorInfo = ["Connection time out", "Bind port failed", "Port overflow", "Create socket failed",
                            "Network is already opened", "Network is already closed", "No clients connected",
                            "No active client", "Network not opened", "Client index overflow",
                            "Connection is already created", "Connection is not created", "Invalid parameter",
                            "Operation not supported", "DNS query failed", "TCP busy", "Netclose failed for socket opened",
                            "Sending time out", "Sending failure for network error", "Open failure for network error",
                            "Server is already listening", "Operation failed", "No data"]

    private func ipError(_ code: Int, _ modem: SimModem) -> CommandReply {
        modem.respond("+IP ERROR: \(ccfg[3] == 1 ? Self.errorInfo[code] : String(code))")
        return .error
    }

    private var invalid: Int { 12 }

    func execute(_ c: ATCommand, modem: SimModem, now: Instant) -> CommandReply {
        switch c.name {
        case "+NETOPEN": return netopen(c, modem)
        case "+NETCLOSE": return netclose(c, modem)
        case "+CIPOPEN": return cipopen(c, modem)
        case "+CIPSEND": return cipsend(c, modem, now: now)
        case "+CIPRXGET": return ciprxget(c, modem)
        case "+CIPCLOSE": return cipclose(c, modem)
        case "+IPADDR":
            if c.form == .test { return .ok }
            guard c.form == .execute else { return .error }
            guard netOpen && modem.networkAvailable else { return ipError(8, modem) }
            modem.respond("+IPADDR: \(socketFamily == 6 ? modem.options.localIPv6Address : modem.options.localAddress)")
            return .ok
        case "+CIPHEAD": return flag(c, modem, &cipHead, default: 1)
        case "+CIPSRIP": return flag(c, modem, &cipSrip, default: 1)
        case "+CIPSENDMODE":
            var v = sendMode
            let r = flag(c, modem, &v, default: 0, allowExecute: false)
            sendMode = v
            return r
        case "+CIPMODE":
            switch c.form {
            case .test: modem.respond("+CIPMODE: (0-1)"); return .ok
            case .read: modem.respond("+CIPMODE: \(cipMode)"); return .ok
            case .execute:
                guard !netOpen else { return .error }
                cipMode = 0
                return .ok
            case .set:
                // Set it before AT+NETOPEN (§7.10).
                guard !netOpen, c.arguments.count == 1, let m = c.arguments[0].integer, (0...1).contains(m) else { return .error }
                cipMode = m
                return .ok
            }
        case "O":
            // ATO returns to data mode on the transparent link (§16.3).
            guard c.form == .execute, let id = modem.lastTransparentLink, transparentLinks.contains(id),
                  let s = modem.sockets[id], s.state == .connected else { return .error }
            return .connect(s, transparentSettings(modem))
        case "+CIPTIMEOUT": return ciptimeout(c, modem)
        case "+CIPCCFG": return cipccfg(c, modem)
        case "+SERVERSTART": return serverstart(c, modem)
        case "+SERVERSTOP": return serverstop(c, modem)
        case "+CIPACK":
            if c.form == .test { modem.respond("+CIPACK: (0-1)"); return .ok }
            guard c.form == .set, c.arguments.count == 1, let l = c.arguments[0].integer, modem.profile.socketIDs.contains(l) else { return ipError(invalid, modem) }
            guard netOpen else { return ipError(8, modem) }
            guard let s = modem.sockets[l], s.service != .udp, s.state == .connected else { return ipError(11, modem) }
            // <ack_data_size> is reserved: 0 (§7.16).
            modem.respond("+CIPACK: \(s.totalSent),0,\(s.totalReceived)")
            return .ok
        case "+CDNSGIP": return cdnsgip(c, modem)
        case "+CSOCKETPN":
            switch c.form {
            case .test: modem.respond("+CSOCKETPN: 1,(1,6)"); return .ok
            case .read: modem.respond("+CSOCKETPN: 1,\(socketFamily)"); return .ok
            case .set:
                guard !netOpen, c.arguments.count == 2, c.arguments[0].integer == 1,
                      let f = c.arguments[1].integer, f == 1 || f == 6 else { return .error }
                socketFamily = f
                return .ok
            case .execute: return .error
            }
        case "+CTCPKA":
            switch c.form {
            case .test: return .ok
            case .read: modem.respond("+CTCPKA: \(keepalive.map(String.init).joined(separator: ","))"); return .ok
            case .set:
                let v = c.arguments.compactMap(\.integer)
                guard netOpen, v.count == 4, c.arguments.count == 4, (0...1).contains(v[0]), (1...120).contains(v[1]),
                      (1...10).contains(v[2]), (1...120).contains(v[3]) else { return .error }
                keepalive = v
                return .ok
            case .execute: return .error
            }
        case "+CDNSCFG": return cdnscfg(c, modem)
        default:
            return .unknown
        }
    }

    private func flag(_ c: ATCommand, _ modem: SimModem, _ value: inout Int, default d: Int, allowExecute: Bool = true) -> CommandReply {
        switch c.form {
        case .test: modem.respond("\(c.name): (0-1)"); return .ok
        case .read: modem.respond("\(c.name): \(value)"); return .ok
        case .execute:
            guard allowExecute else { return .error }
            value = d
            return .ok
        case .set:
            guard c.arguments.count == 1, let v = c.arguments[0].integer, (0...1).contains(v) else { return .error }
            value = v
            return .ok
        }
    }

    // MARK: network (§7.1, §7.2, §7.7)

    private func netopen(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .read:
            modem.respond("+NETOPEN: \(netOpen ? 1 : 0)")
            return .ok
        case .test:
            return .ok
        case .execute:
            guard !netOpen else { return ipError(4, modem) }
            guard modem.isRegistered else {
                modem.urc("+NETOPEN: 1")
                return .ok
            }
            netOpen = true
            modem.activeContexts[1] = modem.options.localAddress
            modem.urc("+NETOPEN: 0")
            return .ok
        case .set:
            return .error
        }
    }

    private func netclose(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test: return .ok
        case .execute:
            guard netOpen else {
                modem.respond("+NETCLOSE: 2")
                return .error
            }
            let closedTransparent = transparentLinks.filter { modem.sockets[$0] != nil }.sorted()
            for s in modem.orderedSockets { modem.release(s) }
            for l in closedTransparent {
                modem.urc("CLOSED")
                modem.urc("+CIPCLOSE: \(l),0")
            }
            transparentLinks = []
            netOpen = false
            unusable = []
            modem.activeContexts[1] = nil
            modem.urc("+NETCLOSE: 0")
            return .ok
        default: return .error
        }
    }

    func networkLost(modem: SimModem, now: Instant) {
        guard netOpen else { return }
        if modem.transparentLinkID != nil { modem.leaveTransparent("CLOSED", now: now) }
        // §8: the host must close every socket, then AT+NETCLOSE (NETOPEN? still says 1).
        for s in modem.orderedSockets { s.state = .remoteClosed }
        modem.urc("+CIPEVENT: NETWORK CLOSED UNEXPECTEDLY")
    }

    // MARK: links (§7.3, §7.6)

    private func linkLine(_ l: Int, _ modem: SimModem) -> String {
        guard let s = modem.sockets[l], s.state == .connected || s.state == .opening else { return "+CIPOPEN: \(l)" }
        let type = s.isDatagram ? "UDP" : "TCP"
        let index = s.service == .tcpIncoming ? s.serverID - Self.serverBase : -1
        return "+CIPOPEN: \(l),\"\(type)\",\"\(s.remote?.host ?? "")\",\(s.remote?.port ?? 0),\(index)"
    }

    private func cipopen(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test:
            modem.respond("+CIPOPEN: (0-1),(\"TCP\",\"UDP\")")
            return .ok
        case .read:
            for l in modem.profile.socketIDs { modem.respond(linkLine(l, modem)) }
            return .ok
        case .execute:
            return .error
        case .set:
            break
        }
        let a = c.arguments
        guard a.count >= 2, let l = a[0].integer else { return ipError(invalid, modem) }
        guard modem.profile.socketIDs.contains(l) else { return ipError(invalid, modem) }
        guard let type = a[1].quotedText, type == "TCP" || type == "UDP" else {
            modem.respond("+CIPOPEN: \(l),3")
            return .error
        }
        guard netOpen && modem.networkAvailable else {
            modem.respond("+CIPOPEN: \(l),2")
            return .error
        }
        if let old = modem.sockets[l] {
            guard old.state == .remoteClosed else {
                modem.respond("+CIPOPEN: \(l),9")
                return .error
            }
            modem.release(old)
        }
        unusable.remove(l)
        if cipMode == 1 {
            // Transparent: link 0 only; TCP, or UDP with its peer named (§3.3.3).
            guard l == 0 else { modem.respond("+CIPOPEN: \(l),4"); return .error }
            guard (4...5).contains(a.count), let host = a[2].quotedText, !host.isEmpty, let port = a[3].integer,
                  (1...65535).contains(port) else { modem.respond("+CIPOPEN: \(l),3"); return .error }
            var local = 0
            if a.count == 5 { guard let p = a[4].integer, (0...65535).contains(p) else { modem.respond("+CIPOPEN: \(l),3"); return .error }; local = p }
            transparentLinks.insert(l)
            _ = modem.makeSocket(linkID: l, service: type == "TCP" ? .tcp : .udp, remote: RemoteEndpoint(host: host, port: port),
                                 localPort: local, accessMode: rxGetMode, contextID: 1)
            return .pending
        }
        if type == "TCP" {
            guard (4...5).contains(a.count), let host = a[2].quotedText, !host.isEmpty, host.utf8.count <= 254,
                  let port = a[3].integer, (1...65535).contains(port) else {
                modem.respond("+CIPOPEN: \(l),3")
                return .error
            }
            var local = 0
            if a.count == 5 {
                guard let p = a[4].integer, (0...65535).contains(p) else { modem.respond("+CIPOPEN: \(l),3"); return .error }
                local = p
            }
            _ = modem.makeSocket(linkID: l, service: .tcp, remote: RemoteEndpoint(host: host, port: port), localPort: local,
                                 accessMode: rxGetMode, contextID: 1)
            return .ok
        }
        // UDP: AT+CIPOPEN=<l>,"UDP",,,<localPort> — the local port is mandatory (§7.3).
        guard a.count == 5, a[2].isOmitted, a[3].isOmitted, let local = a[4].integer, (0...65535).contains(local) else {
            modem.respond("+CIPOPEN: \(l),3")
            return .error
        }
        _ = modem.makeSocket(linkID: l, service: .udpService, remote: nil, localPort: local, accessMode: rxGetMode, contextID: 1)
        // Synchronous: +CIPOPEN: <l>,0 comes before OK, once the socket exists.
        return .pending
    }

    func opened(_ s: SimSocket, modem: SimModem, now: Instant) {
        if transparentLinks.contains(s.linkID) && (s.service == .tcp || s.service == .udp) {
            modem.complete(.connect(s, transparentSettings(modem)), now: now)
            return
        }
        if s.service == .udpService && s.linkID < Self.serverBase {
            modem.respond("+CIPOPEN: \(s.linkID),0")
            modem.complete(.ok, now: now)
        } else if s.service == .tcp {
            modem.urc("+CIPOPEN: \(s.linkID),0")
        }
    }

    func openFailed(_ s: SimSocket, modem: SimModem, now: Instant) {
        modem.release(s)
        if transparentLinks.remove(s.linkID) != nil && s.linkID < Self.serverBase {
            modem.complete(.final("CONNECT FAIL"), now: now)
            return
        }
        if s.service == .udpService && s.linkID < Self.serverBase {
            modem.respond("+CIPOPEN: \(s.linkID),6")
            modem.complete(.error, now: now)
        } else if s.service == .tcp {
            modem.urc("+CIPOPEN: \(s.linkID),1")
        }
    }

    private func cipclose(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test: modem.respond("+CIPCLOSE: (0-1)"); return .ok
        case .read:
            let states = modem.profile.socketIDs.map { modem.sockets[$0]?.state == .connected ? "1" : "0" }
            modem.respond("+CIPCLOSE: \(states.joined(separator: ","))")
            return .ok
        case .execute: return .error
        case .set:
            guard c.arguments.count == 1, let l = c.arguments[0].integer, modem.profile.socketIDs.contains(l) else { return ipError(invalid, modem) }
            guard let s = modem.sockets[l] else {
                modem.respond("+CIPCLOSE: \(l),4")
                return .error
            }
            modem.release(s)
            unusable.remove(l)
            awaitingConfirmation[l] = nil
            if transparentLinks.remove(l) != nil {
                // A transparent link adds CLOSED (§7.6).
                if s.isDatagram {
                    modem.respond("CLOSED")
                    modem.respond("+CIPCLOSE: \(l),0")
                    return .ok
                }
                return .final("OK", then: ["CLOSED", "+CIPCLOSE: \(l),0"])
            }
            // TCP: OK, then the result; UDP: the result, then OK (§7.6, §17 #10).
            if s.isDatagram {
                modem.respond("+CIPCLOSE: \(l),0")
                return .ok
            }
            return .final("OK", then: ["+CIPCLOSE: \(l),0"])
        }
    }

    // MARK: sending (§7.4)

    private func cipsend(_ c: ATCommand, _ modem: SimModem, now: Instant) -> CommandReply {
        if c.form == .test {
            modem.respond("+CIPSEND: (0-1),(1-1500)")
            return .ok
        }
        let a = c.arguments
        guard c.form == .set, (1...4).contains(a.count), let l = a[0].integer, modem.profile.socketIDs.contains(l) else {
            return ipError(invalid, modem)
        }
        var length: Int? = nil
        if a.count >= 2 && !a[1].isOmitted {
            guard let n = a[1].integer, (1...modem.profile.maxSendLength).contains(n) else { return ipError(invalid, modem) }
            length = n
        }
        guard netOpen else {
            modem.respond("+CIPERROR: 2")
            return .error
        }
        guard let s = modem.sockets[l], s.state == .connected, !unusable.contains(l) else {
            modem.respond("+CIPERROR: 4")
            return .error
        }
        var destination: RemoteEndpoint? = nil
        if s.isDatagram {
            // UDP names the peer every time: =<l>,[<length>],"<ip>",<port>.
            guard a.count == 4, let ip = a[2].quotedText, !ip.isEmpty, let port = a[3].integer, (1...65535).contains(port) else {
                return ipError(invalid, modem)
            }
            destination = RemoteEndpoint(host: ip, port: port)
        } else {
            // TCP: a trailing empty field is tolerated (§7.4 note, §17 #16).
            guard a.count <= 2 || (a.count == 3 && a[2].isOmitted) else { return ipError(invalid, modem) }
            // Accepted sockets take fixed-length sends only (§3.4.2).
            if s.service == .tcpIncoming && length == nil { return ipError(13, modem) }
        }
        let entry = DataEntry(length: length.map { .fixed($0) } ?? .untilCtrlZ(max: modem.profile.maxSendLength),
                              echo: false, deadline: now + .milliseconds(Int64(timeouts[2])),
                              escapeByte: length == nil ? 0x03 : nil) { [weak self] modem, outcome, _ in
            guard let self else { return .error }
            switch outcome {
            case .cancelled: return .ok
            case .timedOut, .overflow: return .error
            case .data(let bytes):
                guard modem.sockets[l] === s, s.state == .connected else { return .final("OK", then: ["+CIPSEND: \(l),\(bytes.count),-1"]) }
                if modem.send(bytes, on: s, to: destination) {
                    if self.sendMode == 1 && !s.isDatagram {
                        // §7.11: report once the peer has the data; here, once the kernel has
                        // taken it from the module's buffer (the closest the emulator sees).
                        self.awaitingConfirmation[l, default: []].append((s.totalSent, bytes.count))
                        self.sendProgress(s, modem: modem, now: modem.currentTime)
                        return .ok
                    }
                    return .final("OK", then: ["+CIPSEND: \(l),\(bytes.count),\(bytes.count)"])
                }
                self.unusable.insert(l)
                return .final("OK", then: ["+CIPSEND: \(l),\(bytes.count),0"])
            }
        }
        modem.respondRaw([0x0D, 0x0A, 0x3E])
        return .dataEntry(entry)
    }

    // MARK: receiving (§7.5, §9)

    private func ciprxget(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test: modem.respond("+CIPRXGET: (0-4),(0-1),(1-1500)"); return .ok
        case .read: modem.respond("+CIPRXGET: \(rxGetMode)"); return .ok
        case .execute: return .error
        case .set: break
        }
        let a = c.arguments
        guard let mode = a.first?.integer else { return ipError(invalid, modem) }
        switch mode {
        case 0, 1:
            guard a.count == 1 else { return ipError(invalid, modem) }
            rxGetMode = mode
            for s in modem.orderedSockets where s.linkID < Self.serverBase {
                s.accessMode = mode
                if mode == 0 { push(s, modem) }
            }
            return .ok
        case 2, 3, 4:
            guard a.count >= 2, let l = a[1].integer, l >= 0 else { return ipError(invalid, modem) }
            guard let s = modem.sockets[l], modem.profile.socketIDs.contains(l) else { return ipError(22, modem) }
            if mode == 4 {
                guard a.count == 2 else { return ipError(invalid, modem) }
                modem.respond("+CIPRXGET: 4,\(l),\(s.receive.count)")
                return .ok
            }
            let maxLength = mode == 2 ? 1500 : 750
            var length = maxLength
            if a.count == 3 {
                guard let n = a[2].integer, (1...maxLength).contains(n) else { return ipError(invalid, modem) }
                length = n
            } else if a.count > 3 {
                return ipError(invalid, modem)
            }
            guard !s.receive.isEmpty else { return ipError(22, modem) }
            // UDP reads take part of a datagram and leave the rest (§16.5: 5 of 16, rest 11).
            var data = s.receive.readStream(max: length)
            s.totalRead += data.count
            if s.receive.isEmpty { s.notified = false }
            modem.respond("+CIPRXGET: \(mode),\(l),\(data.count),\(s.receive.count)")
            if mode == 3 { data = Hex.encode(data) }
            modem.respondRaw(data + [0x0D, 0x0A])
            return .ok
        default:
            return ipError(invalid, modem)
        }
    }

    func sendProgress(_ s: SimSocket, modem: SimModem, now: Instant) {
        guard var queue = awaitingConfirmation[s.linkID] else { return }
        while let first = queue.first, s.totalAcked >= first.until {
            queue.removeFirst()
            modem.urc("+CIPSEND: \(s.linkID),\(first.length),\(first.length)")
        }
        awaitingConfirmation[s.linkID] = queue.isEmpty ? nil : queue
    }

    func dataArrived(_ s: SimSocket, modem: SimModem, now: Instant) {
        if modem.transparentLinkID == s.linkID { modem.deliverTransparent(s); return }
        // A transparent link in command mode keeps its data for ATO.
        if transparentLinks.contains(s.linkID) { return }
        if s.accessMode == 0 { push(s, modem); return }
        guard !s.notified else { return }
        s.notified = true
        modem.urc("+CIPRXGET: 1,\(s.linkID)")
    }

    /// Direct push (§9): `RECV FROM:<ip>:<port>`, `+IPD<len>` (or `+RECEIVE,<l>,<len>`), data.
    private func push(_ s: SimSocket, _ modem: SimModem) {
        while !s.receive.isEmpty {
            let from = s.receive.headSender ?? s.remote ?? RemoteEndpoint(host: "0.0.0.0", port: 0)
            let data = s.isDatagram ? (s.receive.readDatagram(max: Int.max)?.bytes ?? []) : s.receive.readStream(max: modem.profile.maxPushLength)
            s.totalRead += data.count
            var bytes: [UInt8] = [0x0D, 0x0A]
            if cipSrip == 1 { bytes += Array("RECV FROM:\(from.host):\(from.port)\r\n".utf8) }
            if cipHead == 1 {
                bytes += Array((ccfg[4] == 1 ? "+RECEIVE,\(s.linkID),\(data.count)\r\n" : "+IPD\(data.count)\r\n").utf8)
            }
            modem.urcBytes(bytes + data)
        }
        s.notified = false
    }

    func peerClosed(_ s: SimSocket, modem: SimModem, now: Instant) {
        if modem.transparentLinkID == s.linkID {
            // How a remote close shows in data mode is not described: CLOSED (§11, inferred).
            modem.leaveTransparent("CLOSED", now: now)
            return
        }
        // <close_reason> 1: closed by the remote (§8).
        modem.urc("+IPCLOSE: \(s.linkID),1")
    }

    // MARK: servers (§7.14, §7.15)

    private func serverstart(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test: modem.respond("+SERVERSTART: (0-65535),(0-1)"); return .ok
        case .read:
            guard netOpen else { modem.respond("+CIPERROR: 2"); return .error }
            for i in 0...1 { if let s = modem.sockets[Self.serverBase + i] { modem.respond("+SERVERSTART: \(i),\(s.localPort)") } }
            return .ok
        case .execute: return .error
        case .set:
            let a = c.arguments
            guard (2...3).contains(a.count), let port = a[0].integer, (0...65535).contains(port),
                  let index = a[1].integer, (0...1).contains(index) else { modem.respond("+CIPERROR: 3"); return .error }
            if a.count == 3 { guard let b = a[2].integer, (1...3).contains(b) else { modem.respond("+CIPERROR: 3"); return .error } }
            guard netOpen else { modem.respond("+CIPERROR: 2"); return .error }
            guard cipMode == 0 || index == 0 else { modem.respond("+CIPERROR: 4"); return .error }
            guard modem.sockets[Self.serverBase + index] == nil else { modem.respond("+CIPERROR: 7"); return .error }
            _ = modem.makeSocket(linkID: Self.serverBase + index, service: .tcpListener, remote: nil, localPort: port,
                                     accessMode: rxGetMode, contextID: 1)
            return .ok
        }
    }

    private func serverstop(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        guard c.form == .set, c.arguments.count == 1, let index = c.arguments[0].integer, (0...1).contains(index) else { return .error }
        guard let server = modem.sockets[Self.serverBase + index] else {
            modem.respond("+SERVERSTOP: \(index),4")
            return .error
        }
        // Its accepted sockets must be closed first (§7.15).
        if modem.sockets.values.contains(where: { $0.service == .tcpIncoming && $0.serverID == server.linkID && $0.state == .connected }) {
            modem.respond("+SERVERSTOP: \(index),9")
            return .error
        }
        modem.release(server)
        modem.respond("+SERVERSTOP: \(index),0")
        return .ok
    }

    func accepted(listener: SimSocket, client: SocketHandle, from: RemoteEndpoint, localPort: Int,
                  modem: SimModem, now: Instant) -> SimSocket? {
        guard let l = modem.profile.socketIDs.first(where: { modem.sockets[$0] == nil }) else { return nil }
        let s = modem.adoptSocket(linkID: l, client: client, from: from, localPort: localPort, accessMode: rxGetMode,
                                  contextID: 1, serverID: listener.linkID)
        modem.urc("+CLIENT: \(l),\(listener.linkID - Self.serverBase),\(from.host):\(from.port)")
        if cipMode == 1 && l == 0 {
            // Transparent server: the accepted client takes the line (§16.7).
            transparentLinks.insert(l)
            modem.sockets[l] = s
            modem.enterTransparentWhenIdle(s, transparentSettings(modem), now: now)
        }
        return s
    }

    // MARK: DNS (§7.17, §7.20)

    private func cdnsgip(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test { return .ok }
        guard c.form == .set, c.arguments.count == 1, let name = c.arguments[0].quotedText, Self.isDomainName(name) else { return .error }
        guard netOpen && modem.networkAvailable else {
            modem.respond("+CDNSGIP: 0,10")
            return .error
        }
        let q = modem.newQuery()
        dnsQuery = (q, name)
        modem.perform(.resolve(query: q, name: name))
        // Synchronous (§7.17): the answer comes when the resolver does.
        return .pending
    }

    /// §7.17: ≤ 254 characters of a-z A-Z 0-9 - ., labels ≤ 63 starting alphanumeric.
    static func isDomainName(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 254 else { return false }
        for label in s.split(separator: ".", omittingEmptySubsequences: false) {
            guard let first = label.first, label.count <= 63, first.isLetter || first.isNumber,
                  label.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }) else { return false }
        }
        return true
    }

    func queryEvent(_ event: SocketEvent, modem: SimModem, now: Instant) {
        guard case .resolved(let q, let addresses) = event, let pending = dnsQuery, pending.query == q else { return }
        dnsQuery = nil
        if let first = addresses.first {
            modem.respond("+CDNSGIP: 1,\"\(pending.name)\",\"\(first)\"")
            modem.complete(.ok, now: now)
        } else {
            modem.respond("+CDNSGIP: 0,10")
            modem.complete(.error, now: now)
        }
    }

    private func cdnscfg(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test: modem.respond("+CDNSCFG: (\"<pri_dns>\"),(\"<sec_dns>\"),(0,1)"); return .ok
        case .read:
            // The labels are not recoverable from the translation (§7.20); these are the family's.
            modem.respond("PrimaryIPv4 DNS:\(dns[0]),SecondaryIPv4 DNS:\(dns.count > 1 ? dns[1] : "0.0.0.0")")
            modem.respond("PrimaryIPv6 DNS:::,SecondaryIPv6 DNS:::")
            return .ok
        case .execute: return .error
        case .set:
            let a = c.arguments
            guard (1...3).contains(a.count), !a[0].text.isEmpty else { return .error }
            dns = [a[0].text] + (a.count > 1 && !a[1].isOmitted ? [a[1].text] : [])
            return .ok
        }
    }

    private func ciptimeout(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .read: modem.respond("+CIPTIMEOUT: \(timeouts.map(String.init).joined(separator: ","))"); return .ok
        case .set:
            guard c.arguments.count <= 3 else { return .error }
            var next = timeouts
            for (i, a) in c.arguments.enumerated() where !a.isOmitted {
                guard let v = a.integer, (3000...120000).contains(v) else { return .error }
                next[i] = v
            }
            timeouts = next
            return .ok
        default: return .error
        }
    }

    private func cipccfg(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        let ranges = [0...10, 0...1000, 0...0, 0...1, 0...1, 0...1, 500...120000]
        switch c.form {
        case .test: modem.respond("+CIPCCFG: (0-10),(0-1000),(0),(0-1),(0-1),(0-1),(500-120000)"); return .ok
        case .read: modem.respond("+CIPCCFG: \(ccfg.map(String.init).joined(separator: ","))"); return .ok
        case .execute: ccfg = [10, 0, 0, 1, 0, 0, 500]; return .ok
        case .set:
            guard c.arguments.count <= 7 else { return .error }
            var next = ccfg
            for (i, a) in c.arguments.enumerated() where !a.isOmitted {
                guard let v = a.integer, ranges[i].contains(v) else { return .error }
                next[i] = v
            }
            ccfg = next
            return .ok
        }
    }
}
