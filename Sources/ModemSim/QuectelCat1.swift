import Buffers

/// Quectel EC600E-CN / EC800E-CN (LTE Cat-1): the "EC" dialect of quectel.md.
///
/// Transparent mode (access_mode 2, `AT+QISWTMD=<id>,2`, `ATO`, `+++`) is emulated with the
/// guard times of EC §1.1; DTR (`AT&D1`) is not.
/// Choices where the manual is silent (quectel.md §11), each documented in tun2modem-sim(1):
/// access_mode defaults to 0 (buffer); the prompt is `<CR><LF>>` (`formatcfg` 0, "S3S4>");
/// typed data is echoed when ATE1 and `AT+QISDE` 1 (the default); ESC after the prompt
/// answers `ERROR` (QIGETERROR 571); a data-entry timeout (`qisend/timeout`, default 5 s)
/// answers `ERROR` and sends nothing; a failed open frees the connectID.
final class QuectelCat1: Dialect {
    /// AT+QICSGP per context: type 1 IPv4 / 2 IPv6 / 3 IPv4v6, APN, user, password, auth.
    struct ContextConfig { var type = 1; var apn = ""; var user = ""; var password = ""; var auth = 0 }

    var contexts: [Int: ContextConfig] = [:]
    var lastError = QuectelError.success
    /// AT+QISDE (EC §2.4.18).
    var dataEcho = 1
    /// AT+QICFG values by option name (EC §2.4.1), every value an integer.
    var config: [String: [Int]] = [:]
    var dnsServers: [Int: [String]] = [:]
    var pings: [Int: PingRun] = [:]
    var dnsQueries: [Int: Int] = [:]

    struct PingRun { var remaining: Int; var sent = 0; var times: [Int] = [] }

    /// `AT+QICFG="send/auto"` per connectID: a message sent every `period` seconds.
    struct AutoSend { var period = 0; var message: [UInt8] = []; var firstSend = 0; var generation = 0 }
    var autoSends: [Int: AutoSend] = [:]
    /// A running NTP query: the prefix it was asked with, its server, and auto-set.
    var ntp = QuectelTimeSync()

    /// `AT+QICFG=?` order, ranges and defaults (EC §2.4.1; lost defaults are 0, quectel.md X6).
    static let configOptions: [(name: String, ranges: [ClosedRange<Int>], defaults: [Int])] = [
        ("transpktsize", [1...1460], [1024]),
        ("transwaittm", [0...20], [2]),
        ("dataformat", [0...1, 0...1], [0, 0]),
        ("viewmode", [0...1], [0]),
        ("udp/sendmode", [0...1], [0]),
        ("udp/readmode", [0...1], [0]),
        ("tcp/accept", [0...1], [1]),
        ("passiveclosed", [0...1], [0]),
        ("close/mode", [0...1], [0]),
        ("recvind", [0...1], [0]),
        ("tcp/keepalive", [0...1, 1...1800, 25...100, 3...10], [0, 60, 25, 3]),
        ("tcp/retranscfg", [3...12, 1...60], [5, 3]),
        ("formatcfg", [0...1], [0]),
        ("qisend/timeout", [0...120], [5]),
        ("tcp/delay_ack", [0...1], [0]),
        ("dns/cache", [0...1], [1]),
        ("tcp/twrecycle", [2...60000], [2]),
        ("dns/retry", [1...4, 100...2000], [2, 200]),
    ]

    init() { powerOnReset() }

    func powerOnReset() {
        // AT+QICSGP "is saved automatically" (EC §2.4.2), so it survives a reboot.
        if contexts.isEmpty { contexts[1] = ContextConfig() }
        lastError = .success
        dataEcho = 1
        config = Dictionary(uniqueKeysWithValues: Self.configOptions.map { ($0.name, $0.defaults) })
        dnsServers = [:]
        pings = [:]
        dnsQueries = [:]
        autoSends = [:]
        ntp.reset()
    }

    func bootURCs(modem: SimModem) -> [String] { ["+CFUN: 1", "+CPIN: READY"] }

    private func option(_ name: String) -> Int { config[name]?.first ?? 0 }

    private func fail(_ error: QuectelError) -> CommandReply {
        lastError = error
        return .error
    }

    // MARK: - dispatch

    func execute(_ c: ATCommand, modem: SimModem, now: Instant) -> CommandReply {
        switch c.name {
        case "+QICSGP": return qicsgp(c, modem)
        case "+QIACT": return qiact(c, modem, async: false)
        case "+QIACTEX": return qiact(c, modem, async: true)
        case "+QIDEACT": return qideact(c, modem, async: false)
        case "+QIDEACTEX": return qideact(c, modem, async: true)
        case "+QIOPEN": return qiopen(c, modem)
        case "+QICLOSE": return qiclose(c, modem)
        case "+QISTATE": return qistate(c, modem)
        case "+QISEND": return qisend(c, modem, now: now)
        case "+QISENDEX": return qisendex(c, modem)
        case "+QIRD": return qird(c, modem)
        case "+QISWTMD": return qiswtmd(c, modem, now: now)
        case "+QICFG": return qicfg(c, modem)
        case "+QISDE": return qisde(c, modem)
        case "+QIDNSCFG": return qidnscfg(c, modem)
        case "+QIDNSGIP": return qidnsgip(c, modem)
        case "+QPING": return qping(c, modem)
        // The manual spells it AT+QNTP (contents), AT+QNTPT (section) and AT+QNTTP (example):
        // all three work and answer with their own prefix (quectel.md X12).
        case "+QNTP", "+QNTPT", "+QNTTP": return qntp(c, modem)
        case "+QIGETERROR":
            if c.form == .test { return .ok }
            guard c.form == .execute else { return .error }
            modem.respond("+QIGETERROR: \(lastError.rawValue),\(lastError.description(nbIoT: false))")
            return .ok
        case "O":
            // EC §1.1: ATO goes back to the last transparent socket; without one, NO CARRIER.
            guard c.form == .execute, let id = modem.lastTransparentLink, let s = modem.sockets[id], s.state == .connected else {
                return .final("NO CARRIER")
            }
            return connect(s)
        default:
            return .unknown
        }
    }

    // MARK: - contexts (EC §2.4.2-§2.4.6)

    private func qicsgp(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test:
            modem.respond("+QICSGP: (1-15),(1-3),<APN>,<username>,<password>,(0-3)")
            return .ok
        case .set:
            guard let cid = c.arguments[0].integer, (1...15).contains(cid) else { return fail(.invalidParameters) }
            if c.arguments.count == 1 {
                let ctx = contexts[cid] ?? ContextConfig()
                modem.respond("+QICSGP: \(ctx.type),\"\(ctx.apn)\",\"\(ctx.user)\",\"\(ctx.password)\",\(ctx.auth)")
                return .ok
            }
            // <contextID>,<type>,<APN>[,<user>,<password>][,<auth>]: 3, 4 (the §3.1.1 form
            // with one credential, quectel.md E4, accepted as user), 5 or 6 parameters.
            let a = c.arguments
            guard (3...6).contains(a.count), let type = a[1].integer, (1...3).contains(type),
                  let apn = a[2].quotedText else { return fail(.invalidParameters) }
            var ctx = ContextConfig(type: type, apn: apn)
            var rest = Array(a[3...])
            if let last = rest.last, case .bare = last {
                guard let auth = last.integer, (0...3).contains(auth) else { return fail(.invalidParameters) }
                ctx.auth = auth
                rest.removeLast()
            }
            // What is left is <user>[,<password>]; AT+QICSGP=1,1,"UNINET","",1 gives a user and
            // no password (EC §3.1.1, quectel.md E4) and is accepted.
            guard rest.count <= 2 else { return fail(.invalidParameters) }
            let credentials = rest.compactMap(\.quotedText)
            guard credentials.count == rest.count, credentials.allSatisfy({ $0.utf8.count <= 127 }) else {
                return fail(.invalidParameters)
            }
            ctx.user = credentials.first ?? ""
            ctx.password = credentials.count > 1 ? credentials[1] : ""
            contexts[cid] = ctx
            modem.pdpContexts[cid] = (["IP", "IPV6", "IPV4V6"][type - 1], apn)
            return .ok
        default:
            return .error
        }
    }

    private func qiact(_ c: ATCommand, _ modem: SimModem, async: Bool) -> CommandReply {
        let name = async ? "+QIACTEX" : "+QIACT"
        switch c.form {
        case .test:
            modem.respond(async ? "+QIACTEX: (1-15),(0,1)" : "+QIACT: (1-15)")
            return .ok
        case .read:
            for cid in modem.activeContexts.keys.sorted() {
                let address = modem.activeContexts[cid] ?? ""
                switch contexts[cid]?.type ?? 1 {
                case 2: modem.respond("\(name): \(cid),1,2,\"\(modem.options.localIPv6Address)\"")
                // An IPv4v6 context shows type 1 and both addresses (EC §3.1.4, quectel.md E6).
                case 3: modem.respond("\(name): \(cid),1,1,\"\(address)\",\"\(modem.options.localIPv6Address)\"")
                default: modem.respond("\(name): \(cid),1,1,\"\(address)\"")
                }
            }
            return .ok
        case .set:
            guard (1...(async ? 2 : 1)).contains(c.arguments.count),
                  let cid = c.arguments[0].integer, (1...15).contains(cid) else { return fail(.invalidParameters) }
            var viewMode = 0
            if c.arguments.count == 2 {
                guard let v = c.arguments[1].integer, (0...1).contains(v) else { return fail(.invalidParameters) }
                viewMode = v
            }
            let result: QuectelError
            if modem.activeContexts[cid] != nil {
                result = .notAllowed
            } else if !modem.isRegistered {
                result = .pdpOpen
            } else {
                result = .success
                modem.activeContexts[cid] = modem.options.localAddress
                modem.pdpContexts[cid] = modem.pdpContexts[cid] ?? ("IP", contexts[cid]?.apn ?? "")
            }
            lastError = result
            if !async { return result == .success ? .ok : .error }
            if result == .success && viewMode == 1 {
                let type = contexts[cid]?.type ?? 1
                modem.urc("+QIACTEX: \(cid),0,\(type),\"\(modem.activeContexts[cid] ?? "")\"")
            } else {
                modem.urc("+QIACTEX: \(cid),\(result.rawValue)")
            }
            return .ok
        default:
            return .error
        }
    }

    private func qideact(_ c: ATCommand, _ modem: SimModem, async: Bool) -> CommandReply {
        switch c.form {
        case .test:
            modem.respond("\(async ? "+QIDEACTEX" : "+QIDEACT"): (1-15)")
            return .ok
        case .set:
            guard c.arguments.count == 1, let cid = c.arguments[0].integer, (1...15).contains(cid) else {
                return fail(.invalidParameters)
            }
            // EC §2.4.4: deactivation closes every connection of the context.
            for s in modem.orderedSockets where s.contextID == cid { modem.release(s) }
            modem.activeContexts[cid] = nil
            lastError = .success
            if async { modem.urc("+QIDEACTEX: \(cid),0") }
            return .ok
        default:
            return .error
        }
    }

    // MARK: - sockets (EC §2.4.7-§2.4.13)

    private static let serviceNames: [(String, SimSocket.Service)] = [
        ("TCP", .tcp), ("UDP", .udp), ("TCP LISTENER", .tcpListener), ("UDP SERVICE", .udpService),
    ]

    static func serviceName(_ s: SimSocket.Service) -> String {
        switch s {
        case .tcp: return "TCP"
        case .udp: return "UDP"
        case .tcpListener: return "TCP LISTENER"
        case .tcpIncoming: return "TCP INCOMING"
        case .udpService: return "UDP SERVICE"
        }
    }

    private func qiopen(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QIOPEN: (1-15),(0-11),\"TCP/UDP/TCP LISTENER/UDP SERVICE\",\"<IP_address>/<domain_name>\",<remote_port>,<local_port>,(0-2),(0-12)")
            return .ok
        }
        guard c.form == .set else { return .error }
        let a = c.arguments
        guard (5...8).contains(a.count),
              let cid = a[0].integer, (1...15).contains(cid),
              let id = a[1].integer, modem.profile.socketIDs.contains(id),
              let typeName = a[2].quotedText,
              let service = Self.serviceNames.first(where: { $0.0 == typeName })?.1,
              let host = a[3].quotedText, !host.isEmpty, host.utf8.count <= 150,
              let remotePort = a[4].integer, (0...65535).contains(remotePort)
        else { return fail(.invalidParameters) }
        var localPort = 0
        if a.count > 5 {
            guard let p = a[5].integer, (0...65535).contains(p) else { return fail(.invalidParameters) }
            localPort = p
        }
        var accessMode = 0
        if a.count > 6 {
            guard let m = a[6].integer, (0...2).contains(m) else { return fail(.invalidParameters) }
            // Transparent mode is for clients (EC §3.3).
            guard m != 2 || service == .tcp || service == .udp else { return fail(.invalidParameters) }
            accessMode = m
        }
        var maxClients = 12
        if a.count > 7 {
            guard service == .tcpListener, let n = a[7].integer, (0...12).contains(n) else { return fail(.invalidParameters) }
            maxClients = n
        }
        // LISTENER and SERVICE need a local port (EC §2.4.7 <local_port>).
        if service == .tcpListener || service == .udpService { guard localPort != 0 else { return fail(.invalidParameters) } }
        guard modem.sockets[id] == nil else { return fail(.identityUsed) }
        lastError = .success
        let remote: RemoteEndpoint? = (service == .tcp || service == .udp) ? RemoteEndpoint(host: host, port: remotePort) : nil
        if modem.activeContexts[cid] == nil || !modem.networkAvailable {
            // Opening without an active context: OK, then the failure in the URC; in
            // transparent mode there is no URC, only ERROR (EC §2.4.7).
            if accessMode == 2 { return fail(.pdpBroken) }
            modem.urc("+QIOPEN: \(id),\(QuectelError.pdpBroken.rawValue)")
            return .ok
        }
        let s = modem.makeSocket(linkID: id, service: service, remote: remote, localPort: localPort,
                                 accessMode: accessMode, contextID: cid)
        s.serverID = (service == .tcpListener || service == .udpService) ? id : 0
        s.maxClients = maxClients
        // Transparent: CONNECT (or ERROR) once the connection is up, no OK first (quectel.md E27).
        return accessMode == 2 ? .pending : .ok
    }

    func opened(_ s: SimSocket, modem: SimModem, now: Instant) {
        if s.accessMode == 2 {
            modem.complete(connect(s), now: now)
            return
        }
        modem.urc("+QIOPEN: \(s.linkID),0")
    }

    func openFailed(_ s: SimSocket, modem: SimModem, now: Instant) {
        let code: QuectelError = s.service == .tcpListener ? .listen : (s.service == .udpService ? .bind : .connect)
        modem.release(s)
        if s.accessMode == 2 {
            lastError = code
            modem.complete(.error, now: now)
            return
        }
        modem.urc("+QIOPEN: \(s.linkID),\(code.rawValue)")
    }

    /// `CONNECT` into transparent mode with the `transpktsize`/`transwaittm` settings (EC §2.4.1).
    private func connect(_ s: SimSocket) -> CommandReply {
        s.accessMode = 2
        return .connect(s, TransparentSettings(packetSize: option("transpktsize"),
                                               packetWait: .milliseconds(Int64(option("transwaittm")) * 100)))
    }

    func leftTransparent(_ s: SimSocket, modem: SimModem, now: Instant) {
        // After +++ the socket is in buffer mode (EC §1.1); AT+QISWTMD=<id>,2 or ATO go back.
        s.accessMode = 0
        s.notified = false
        if !s.receive.isEmpty { dataArrived(s, modem: modem, now: now) }
    }

    private func qiclose(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QICLOSE: (0-11),(0-65535)")
            return .ok
        }
        guard c.form == .set, (1...2).contains(c.arguments.count),
              let id = c.arguments[0].integer, modem.profile.socketIDs.contains(id) else { return fail(.invalidParameters) }
        if c.arguments.count == 2 {
            guard let t = c.arguments[1].integer, (0...65535).contains(t) else { return fail(.invalidParameters) }
        }
        lastError = .success
        if let s = modem.sockets[id] {
            modem.release(s)
            if option("close/mode") == 1 { modem.urc("+QIURC: \"closed\",\(id)") }
        }
        return .ok
    }

    private func stateLine(_ s: SimSocket, _ modem: SimModem) -> String {
        // EC §2.4.9 <socket_state>: 0 Initial, 1 Opening, 2 Connected, 3 Listening, 4 Closing.
        let state: Int
        switch s.state {
        case .opening: state = 1
        case .connected: state = 2
        case .listening: state = 3
        case .remoteClosed: state = 4
        }
        // LISTENER / SERVICE show the local address and remote port 0 (quectel.md E36).
        let local = s.service == .tcpListener || s.service == .udpService
        let ip = local ? (modem.activeContexts[s.contextID] ?? modem.options.localAddress) : (s.remote?.host ?? "")
        let rport = local ? 0 : (s.remote?.port ?? 0)
        return "+QISTATE: \(s.linkID),\"\(Self.serviceName(s.service))\",\"\(ip)\",\(rport),\(s.localPort),\(state),\(s.contextID),\(s.serverID),\(s.accessMode),\"usbmodem\""
    }

    private func qistate(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        let ordered = modem.sockets.keys.sorted().compactMap { modem.sockets[$0] }
        switch c.form {
        case .test:
            return .ok
        case .read, .execute:
            for s in ordered { modem.respond(stateLine(s, modem)) }
            return .ok
        case .set:
            guard c.arguments.count == 2, let type = c.arguments[0].integer, let value = c.arguments[1].integer else {
                return fail(.invalidParameters)
            }
            if type == 0 {
                guard (1...15).contains(value) else { return fail(.invalidParameters) }
                for s in ordered where s.contextID == value { modem.respond(stateLine(s, modem)) }
            } else if type == 1 {
                guard modem.profile.socketIDs.contains(value) else { return fail(.invalidParameters) }
                if let s = modem.sockets[value] { modem.respond(stateLine(s, modem)) }
            } else {
                return fail(.invalidParameters)
            }
            return .ok
        }
    }

    /// The socket a send may use: it exists, is connected and not a listener (EC §2.4.10:
    /// otherwise `ERROR`).
    private func sendable(_ id: Int?, _ modem: SimModem) -> SimSocket? {
        guard let id, let s = modem.sockets[id], s.state == .connected, s.service != .tcpListener else { return nil }
        return s
    }

    private func qisend(_ c: ATCommand, _ modem: SimModem, now: Instant) -> CommandReply {
        if c.form == .test {
            modem.respond("+QISEND: (0-11),(0-1460)")
            return .ok
        }
        guard c.form == .set, (1...4).contains(c.arguments.count), c.arguments.count != 3,
              let id = c.arguments[0].integer, modem.profile.socketIDs.contains(id) else { return fail(.invalidParameters) }
        var length: Int? = nil
        if c.arguments.count >= 2 {
            guard let n = c.arguments[1].integer, (0...modem.profile.maxSendLength).contains(n) else { return fail(.invalidParameters) }
            length = n
        }
        if length == 0 {
            // AT+QISEND=<id>,0: <total_send_length>,<ackedbytes>,<unackedbytes>.
            guard c.arguments.count == 2, let s = modem.sockets[id], s.service != .tcpListener else { return fail(.closed) }
            modem.respond("+QISEND: \(s.totalSent),\(s.totalAcked),\(s.totalSent - s.totalAcked)")
            return .ok
        }
        guard let s = sendable(id, modem) else { return fail(.closed) }
        var destination: RemoteEndpoint? = nil
        if c.arguments.count == 4 {
            // UDP SERVICE only, dotted-decimal address required (EC §2.4.10).
            guard s.service == .udpService, let ip = c.arguments[2].quotedText, IPv4Text.isValid(ip),
                  let port = c.arguments[3].integer, (1...65535).contains(port) else { return fail(.invalidParameters) }
            destination = RemoteEndpoint(host: ip, port: port)
        } else if s.service == .udpService {
            return fail(.invalidParameters)
        }
        let hexSend = (config["dataformat"]?.first ?? 0) == 1
        let entryLength: DataEntry.Length = length.map { .fixed(hexSend ? $0 * 2 : $0) }
            ?? .untilCtrlZ(max: hexSend ? modem.profile.maxSendLength * 2 : modem.profile.maxSendLength)
        let timeout = option("qisend/timeout")
        let entry = DataEntry(length: entryLength, echo: modem.echo && dataEcho == 1,
                              deadline: timeout > 0 ? now + .seconds(timeout) : nil) { [weak self] modem, outcome, _ in
            guard let self else { return .error }
            return self.finishSend(outcome, socket: s, to: destination, hex: hexSend, modem: modem)
        }
        modem.respondRaw(option("formatcfg") == 1 ? [0x0D, 0x0A, 0x3E, 0x0D, 0x0A] : [0x0D, 0x0A, 0x3E])
        return .dataEntry(entry)
    }

    private func finishSend(_ outcome: DataEntry.Outcome, socket s: SimSocket, to: RemoteEndpoint?, hex: Bool,
                            modem: SimModem) -> CommandReply {
        switch outcome {
        case .cancelled: return fail(.cancelSend)
        case .timedOut: return fail(.timeout)
        case .overflow: return fail(.invalidParameters)
        case .data(var bytes):
            if hex {
                guard let decoded = Hex.decode(bytes) else { return fail(.invalidParameters) }
                bytes = decoded
            }
            // The socket may have died while the host typed.
            guard modem.sockets[s.linkID] === s, s.state == .connected else { return fail(.closed) }
            return modem.send(bytes, on: s, to: to) ? .final("SEND OK") : .final("SEND FAIL")
        }
    }

    private func qisendex(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QISENDEX: (0-11),<hex_string>")
            return .ok
        }
        guard c.form == .set, c.arguments.count == 2, let id = c.arguments[0].integer,
              modem.profile.socketIDs.contains(id), let hex = c.arguments[1].quotedText,
              !hex.isEmpty, hex.utf8.count <= 512, let bytes = Hex.decode(hex.utf8) else { return fail(.invalidParameters) }
        // Not for UDP SERVICE or TCP LISTENER (EC §2.4.12).
        guard let s = sendable(id, modem), s.service != .udpService else { return fail(.closed) }
        return modem.send(bytes, on: s) ? .final("SEND OK") : .final("SEND FAIL")
    }

    private func qird(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QIRD: (0-11),(0-1500)")
            return .ok
        }
        guard c.form == .set, (1...2).contains(c.arguments.count), let id = c.arguments[0].integer,
              modem.profile.socketIDs.contains(id) else { return fail(.invalidParameters) }
        var length = modem.profile.maxReadLength
        if c.arguments.count == 2 {
            guard let n = c.arguments[1].integer, (0...modem.profile.maxReadLength).contains(n) else { return fail(.invalidParameters) }
            length = n
        }
        guard let s = modem.sockets[id], s.service != .tcpListener else { return fail(.closed) }
        if length == 0 {
            modem.respond("+QIRD: \(s.totalReceived),\(s.totalRead),\(s.totalReceived - s.totalRead)")
            return .ok
        }
        var header: String
        var data: [UInt8]
        if s.service == .udpService {
            guard let d = s.receive.readDatagram(max: length) else { return readEmpty(s, modem) }
            data = d.bytes
            header = "+QIRD: \(data.count),\"\(d.from.host)\",\(d.from.port)"
        } else if s.isDatagram {
            guard let d = s.receive.readDatagram(max: length) else { return readEmpty(s, modem) }
            data = d.bytes
            header = "+QIRD: \(data.count)"
        } else {
            data = s.receive.readStream(max: length)
            if data.isEmpty { return readEmpty(s, modem) }
            header = "+QIRD: \(data.count)"
        }
        s.totalRead += data.count
        if s.receive.isEmpty { s.notified = false }
        if (config["dataformat"]?.last ?? 0) == 1 { data = Hex.encode(data) }
        if option("viewmode") == 1 {
            modem.respondRaw(Array("\r\n\(header),".utf8) + data + [0x0D, 0x0A])
        } else {
            modem.respond(header)
            modem.respondRaw(data + [0x0D, 0x0A])
        }
        return .ok
    }

    private func readEmpty(_ s: SimSocket, _ modem: SimModem) -> CommandReply {
        s.notified = false
        modem.respond("+QIRD: 0")
        return .ok
    }

    private func qiswtmd(_ c: ATCommand, _ modem: SimModem, now: Instant) -> CommandReply {
        if c.form == .test {
            modem.respond("+QISWTMD: (0-11),(0-2)")
            return .ok
        }
        guard c.form == .set, c.arguments.count == 2, let id = c.arguments[0].integer,
              modem.profile.socketIDs.contains(id), let mode = c.arguments[1].integer, (0...2).contains(mode)
        else { return fail(.invalidParameters) }
        guard let s = modem.sockets[id], s.service != .tcpListener else { return fail(.closed) }
        if mode == 2 {
            guard s.state == .connected, s.service == .tcp || s.service == .udp else { return fail(.closed) }
            return connect(s)
        }
        s.accessMode = mode
        if mode == 1 { push(s, modem) }
        return .ok
    }

    private func qicfg(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            for o in Self.configOptions {
                let ranges = o.ranges.map { r in r.count == 2 ? "(\(r.lowerBound),\(r.upperBound))" : "(\(r.lowerBound)-\(r.upperBound))" }
                modem.respond("+QICFG: \"\(o.name)\",\(ranges.joined(separator: ","))")
                // The manual lists "send/auto" between "tcp/retranscfg" and "formatcfg".
                if o.name == "tcp/retranscfg" { modem.respond("+QICFG: \"send/auto\",(0-11),(0,20-65535),<msg_auto>,(0,1)") }
            }
            return .ok
        }
        if c.form == .set, c.arguments.first?.quotedText?.lowercased() == "send/auto" { return sendAuto(c, modem) }
        guard c.form == .set, let name = c.arguments.first?.quotedText,
              let spec = Self.configOptions.first(where: { $0.name == name.lowercased() }) else { return fail(.invalidParameters) }
        let values = Array(c.arguments.dropFirst())
        if values.isEmpty {
            let current = config[spec.name] ?? spec.defaults
            modem.respond("+QICFG: \"\(spec.name)\",\(current.map(String.init).joined(separator: ","))")
            return .ok
        }
        guard values.count == spec.ranges.count else { return fail(.invalidParameters) }
        var parsed: [Int] = []
        for (v, r) in zip(values, spec.ranges) {
            guard let n = v.integer, r.contains(n) else { return fail(.invalidParameters) }
            parsed.append(n)
        }
        config[spec.name] = parsed
        return .ok
    }

    /// `AT+QICFG="send/auto",<connectID>[,<period>[,<msg_auto>[,<first_send>]]]` (EC §2.4.1):
    /// period 0 (off) or 20-65535 s, a hex message of at most 400 bytes, and `<first_send>` 1
    /// read as "send once at once" (the manual's sentence is ambiguous, quectel.md E20).
    private func sendAuto(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        let a = c.arguments
        guard (2...5).contains(a.count), let id = a[1].integer, modem.profile.socketIDs.contains(id) else { return fail(.invalidParameters) }
        var auto = autoSends[id] ?? AutoSend()
        if a.count == 2 {
            modem.respond("+QICFG: \"send/auto\",\(id),\(auto.period),\"\(Hex.encodeString(auto.message))\",\(auto.firstSend)")
            return .ok
        }
        guard let period = a[2].integer, period == 0 || (20...65535).contains(period) else { return fail(.invalidParameters) }
        auto.period = period
        if a.count > 3 {
            guard let hex = a[3].quotedText, let bytes = Hex.decode(hex.utf8), bytes.count <= 400 else { return fail(.invalidParameters) }
            auto.message = bytes
        }
        if a.count > 4 {
            guard let f = a[4].integer, (0...1).contains(f) else { return fail(.invalidParameters) }
            auto.firstSend = f
        }
        auto.generation += 1
        autoSends[id] = auto
        guard period > 0, !auto.message.isEmpty else { return .ok }
        if auto.firstSend == 1 { autoSend(id, generation: auto.generation, modem) }
        scheduleAutoSend(id, auto, at: modem.currentTime + .seconds(period), modem)
        return .ok
    }

    /// Due times follow the period exactly, however late the clock is advanced.
    private func scheduleAutoSend(_ id: Int, _ auto: AutoSend, at due: Instant, _ modem: SimModem) {
        let generation = auto.generation
        modem.schedule(at: due) { [weak self] modem, _ in
            guard let self, let current = self.autoSends[id], current.generation == generation else { return }
            self.autoSend(id, generation: generation, modem)
            self.scheduleAutoSend(id, current, at: due + .seconds(current.period), modem)
        }
    }

    private func autoSend(_ id: Int, generation: Int, _ modem: SimModem) {
        guard let auto = autoSends[id], auto.generation == generation,
              let s = modem.sockets[id], s.state == .connected, s.service != .tcpListener else { return }
        _ = modem.send(auto.message, on: s)
    }

    private func qisde(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test: modem.respond("+QISDE: (0,1)"); return .ok
        case .read: modem.respond("+QISDE: \(dataEcho)"); return .ok
        case .set:
            guard c.arguments.count == 1, let v = c.arguments[0].integer, (0...1).contains(v) else { return fail(.invalidParameters) }
            dataEcho = v
            return .ok
        case .execute: return .error
        }
    }

    // MARK: - DNS, ping (EC §2.4.14, §2.4.16, §2.4.17)

    private func qidnscfg(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QIDNSCFG: (1-15),<pridnsaddr>,<secdnsaddr>")
            return .ok
        }
        guard c.form == .set, (1...3).contains(c.arguments.count), let cid = c.arguments[0].integer,
              (1...15).contains(cid) else { return fail(.invalidParameters) }
        guard modem.activeContexts[cid] != nil else { return fail(.pdpBroken) }
        if c.arguments.count == 1 {
            let servers = dnsServers[cid] ?? ["8.8.8.8", "114.114.114.114"]
            modem.respond("+QIDNSCFG: \(cid),\(servers.map { "\"\($0)\"" }.joined(separator: ","))")
            return .ok
        }
        var servers: [String] = []
        for a in c.arguments.dropFirst() {
            guard let s = a.quotedText, s.utf8.count <= 64 else { return fail(.invalidParameters) }
            servers.append(s)
        }
        dnsServers[cid] = servers
        return .ok
    }

    private func qidnsgip(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QIDNSGIP: (1-15),<hostname>")
            return .ok
        }
        guard c.form == .set, c.arguments.count == 2, let cid = c.arguments[0].integer, (1...15).contains(cid),
              let name = c.arguments[1].quotedText, !name.isEmpty, name.utf8.count <= 150 else { return fail(.invalidParameters) }
        guard modem.activeContexts[cid] != nil else { return fail(.pdpBroken) }
        let q = modem.newQuery()
        dnsQueries[q] = cid
        modem.perform(.resolve(query: q, name: name))
        lastError = .success
        return .ok
    }

    private func qping(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QPING: (1-15),<host>,(1-255),(1-10)")
            return .ok
        }
        guard c.form == .set, (2...4).contains(c.arguments.count), let cid = c.arguments[0].integer, (1...15).contains(cid),
              let host = c.arguments[1].quotedText, !host.isEmpty else { return fail(.invalidParameters) }
        var timeout = 4, count = 4
        if c.arguments.count > 2 {
            guard let t = c.arguments[2].integer, (1...255).contains(t) else { return fail(.invalidParameters) }
            timeout = t
        }
        if c.arguments.count > 3 {
            guard let n = c.arguments[3].integer, (1...10).contains(n) else { return fail(.invalidParameters) }
            count = n
        }
        guard modem.activeContexts[cid] != nil else { return fail(.pdpBroken) }
        let q = modem.newQuery()
        pings[q] = PingRun(remaining: count)
        modem.perform(.ping(query: q, host: host, count: count, timeoutSeconds: timeout, size: 32))
        lastError = .success
        return .ok
    }

    /// EC §2.4.15: `=<contextID>,<server>[,<port>[,<autosettime>]]`, `OK`, then
    /// `+QNTP…: <err>,"YYYY/MM/DD,hh:mm:ss±zz"`.
    private func qntp(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test:
            modem.respond("\(c.name): (1-15),<server>,(1-65535),(0,1)")
            return .ok
        case .read:
            if let q = ntp.pending { modem.respond("\(q.prefix): \"\(q.server)\",\(q.port)") }
            return .ok
        case .execute:
            return fail(.invalidParameters)
        case .set:
            let a = c.arguments
            guard (2...4).contains(a.count), let cid = a[0].integer, (1...15).contains(cid),
                  let server = a[1].quotedText, !server.isEmpty else { return fail(.invalidParameters) }
            guard modem.activeContexts[cid] != nil else { return fail(.pdpBroken) }
            if let error = ntp.start(c, server: server, modem: modem) { return fail(error) }
            lastError = .success
            return .ok
        }
    }

    func queryEvent(_ event: SocketEvent, modem: SimModem, now: Instant) {
        switch event {
        case .timeSynced(let q, let unix):
            if let error = ntp.synced(q, unix: unix, modem: modem, now: now, fourDigitYear: true) { lastError = error }
        case .resolved(let q, let addresses):
            guard dnsQueries.removeValue(forKey: q) != nil else { return }
            if addresses.isEmpty {
                lastError = .dnsFailed
                modem.urc("+QIURC: \"dnsgip\",\(QuectelError.dnsFailed.rawValue)")
                return
            }
            // First line <err>,<IP_count>,<DNS_ttl>, then one line per address (quectel.md §6.2).
            modem.urc("+QIURC: \"dnsgip\",0,\(addresses.count),600")
            for a in addresses { modem.urc("+QIURC: \"dnsgip\",\"\(a)\"") }
        case .pingReply(let q, let address, let bytes, let ms, let ttl):
            guard var run = pings[q] else { return }
            run.sent += 1
            run.remaining -= 1
            run.times.append(ms)
            modem.urc("+QPING: 0,\"\(address)\",\(bytes),\(ms),\(ttl)")
            finishPing(q, run, modem)
        case .pingTimeout(let q, let address):
            guard var run = pings[q] else { return }
            if address == nil {
                // The host did not resolve: one error line ends the run (quectel.md X14).
                pings[q] = nil
                modem.urc("+QPING: \(QuectelError.dnsFailed.rawValue)")
                return
            }
            run.sent += 1
            run.remaining -= 1
            modem.urc("+QPING: \(QuectelError.timeout.rawValue)")
            finishPing(q, run, modem)
        default:
            return
        }
    }

    private func finishPing(_ q: Int, _ run: PingRun, _ modem: SimModem) {
        guard run.remaining <= 0 else { pings[q] = run; return }
        pings[q] = nil
        let rcvd = run.times.count
        let minT = run.times.min() ?? 0, maxT = run.times.max() ?? 0
        let avg = rcvd > 0 ? run.times.reduce(0, +) / rcvd : 0
        modem.urc("+QPING: 0,\(run.sent),\(rcvd),\(run.sent - rcvd),\(minT),\(maxT),\(avg)")
    }

    // MARK: - network events (EC §2.5)

    func dataArrived(_ s: SimSocket, modem: SimModem, now: Instant) {
        if modem.transparentLinkID == s.linkID { modem.deliverTransparent(s); return }
        if s.accessMode == 1 { push(s, modem); return }
        guard !s.notified else { return }
        s.notified = true
        // recvind=1 adds the length (EC §2.4.1; format as BC showlength, quectel.md E21).
        if option("recvind") == 1 {
            modem.urc("+QIURC: \"recv\",\(s.linkID),\(s.receive.count)")
        } else {
            modem.urc("+QIURC: \"recv\",\(s.linkID)")
        }
    }

    /// Direct push: everything buffered goes out now, ≤ 1500 bytes per URC (EC §2.5.2).
    private func push(_ s: SimSocket, _ modem: SimModem) {
        let hex = (config["dataformat"]?.last ?? 0) == 1
        while !s.receive.isEmpty {
            var header = "+QIURC: \"recv\",\(s.linkID)"
            var data: [UInt8]
            if s.isDatagram {
                guard let d = s.receive.readDatagram(max: modem.profile.maxPushLength) else { break }
                data = d.bytes
                header += ",\(data.count)"
                if s.service == .udpService { header += ",\"\(d.from.host)\",\(d.from.port)" }
            } else {
                data = s.receive.readStream(max: modem.profile.maxPushLength)
                header += ",\(data.count)"
            }
            s.totalRead += data.count
            if hex { data = Hex.encode(data) }
            if option("viewmode") == 1 {
                modem.urcBytes(Array("\r\n\(header),".utf8) + data + [0x0D, 0x0A])
            } else {
                modem.urcBytes(SimModem.frame(header) + data + [0x0D, 0x0A])
            }
        }
        s.notified = false
    }

    func peerClosed(_ s: SimSocket, modem: SimModem, now: Instant) {
        // A transparent socket that drops ends the mode with NO CARRIER (EC §1.1).
        if modem.transparentLinkID == s.linkID {
            modem.leaveTransparent("NO CARRIER", now: now)
            return
        }
        modem.urc("+QIURC: \"closed\",\(s.linkID)")
    }

    func accepted(listener: SimSocket, client: SocketHandle, from: RemoteEndpoint, localPort: Int,
                  modem: SimModem, now: Instant) -> SimSocket? {
        // The module picks a free connectID; the example (EC §3.5.2) got 11, the highest.
        let clients = modem.sockets.values.filter { $0.service == .tcpIncoming && $0.serverID == listener.linkID }.count
        guard clients < listener.maxClients,
              let id = modem.profile.socketIDs.reversed().first(where: { modem.sockets[$0] == nil }) else {
            modem.urc("+QIURC: \"incoming full\"")
            return nil
        }
        let s = modem.adoptSocket(linkID: id, client: client, from: from, localPort: localPort,
                                  accessMode: listener.accessMode, contextID: listener.contextID, serverID: listener.linkID)
        modem.urc("+QIURC: \"incoming\",\(id),\(listener.linkID),\"\(from.host)\",\(from.port)")
        return s
    }

    func networkLost(modem: SimModem, now: Instant) {
        if modem.transparentLinkID != nil { modem.leaveTransparent("NO CARRIER", now: now) }
        // EC §2.5.5: the network deactivated the context; the host must QIDEACT.
        for cid in modem.activeContexts.keys.sorted() { modem.urc("+QIURC: \"pdpdeact\",\(cid)") }
        for s in modem.orderedSockets { s.state = .remoteClosed }
        modem.activeContexts.removeAll()
    }
}

/// Dotted-decimal IPv4 text, as EC's UDP SERVICE `<remoteIP>` requires.
enum IPv4Text {
    static func isValid(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { p in p.count >= 1 && p.count <= 3 && p.allSatisfy(\.isNumber) && (Int(p) ?? 256) <= 255 }
    }
}
