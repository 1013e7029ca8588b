import Buffers

/// Quectel BC26 / BC20 (NB-IoT): the "BC" dialect of quectel.md.
///
/// What sets it apart from EC (quectel.md §2): no PDP commands — the module is ready when it
/// prints `+IP: <addr>`; connectID 0-4; `OK` before `SEND OK` and before `CLOSE OK`; inline
/// `AT+QISEND` data; `AT+QIRD` length mandatory (1-512); `showlength`/`viewmode`; at most 20
/// receive nodes, then `+QIURC: "recv",<id>,"buff full"`; 573/574 swapped.
/// Choices where the manual is silent: access_mode defaults to 0; the prompt is `<CR><LF>>`;
/// data typed after it is echoed only with `echomode` 1; ESC answers `ERROR` (571); a failed
/// open keeps its connectID (state 0) until `AT+QICLOSE` (BC §2.3.1 note 3).
final class QuectelNB: Dialect {
    var lastError = QuectelError.success
    /// AT+QICFG: dataformat (send, recv), viewmode, showlength, echomode (BC §2.3.12).
    var sendHex = false, receiveHex = false, viewMode = 0, showLength = 0, echoMode = 0
    var dnsServers: [String] = []
    var pings: [Int: (remaining: Int, sent: Int, times: [Int])] = [:]
    var dnsQueries: Set<Int> = []
    /// Open requests as typed (BC §2.3.3 shows the requested local port, 0 included: B6).
    var requestedLocalPort: [Int: Int] = [:]
    /// Sockets that have reported "buff full" since their last read.
    var reportedFull: Set<Int> = []
    var ntp = QuectelTimeSync()
    /// Downlink buffer nodes per socket (BC §2.4.3).
    static let maxNodes = 20
    /// Largest node: one NB-IoT packet's payload.
    static let nodeSize = 1460
    /// BC §2.4 note 4: a URC is at most 1400 bytes; longer UDP direct-push URCs are dropped.
    static let maxURC = 1400

    init() {}

    func powerOnReset() {
        // dataformat, viewmode and showlength are saved to NVRAM (BC §2.3.12): they survive.
        echoMode = 0
        lastError = .success
        dnsServers = []
        pings = [:]
        dnsQueries = []
        requestedLocalPort = [:]
        reportedFull = []
        ntp.reset()
    }

    /// `+IP:` is the readiness signal (BC §2.3.1 note 4), unquoted as in its only example.
    /// BC has no PDP command: the attach brings context 1 up (AT+CGPADDR shows its address).
    func bootURCs(modem: SimModem) -> [String] {
        modem.activeContexts[1] = modem.options.localAddress
        return ["+CPIN: READY", "+IP: \(modem.options.localAddress)"]
    }

    func networkBack(modem: SimModem, now: Instant) {
        modem.activeContexts[1] = modem.options.localAddress
        modem.urc("+IP: \(modem.options.localAddress)")
    }

    private func fail(_ e: QuectelError) -> CommandReply {
        lastError = e
        return .error
    }

    func execute(_ c: ATCommand, modem: SimModem, now: Instant) -> CommandReply {
        switch c.name {
        case "+QIOPEN": return qiopen(c, modem)
        case "+QICLOSE": return qiclose(c, modem)
        case "+QISTATE": return qistate(c, modem)
        case "+QISEND": return qisend(c, modem, now: now)
        case "+QISENDEX": return qisendex(c, modem)
        case "+QIRD": return qird(c, modem)
        case "+QISWTMD": return qiswtmd(c, modem)
        case "+QICFG": return qicfg(c, modem)
        case "+QIDNSCFG": return qidnscfg(c, modem)
        case "+QIDNSGIP": return qidnsgip(c, modem)
        case "+QPING": return qping(c, modem)
        // AT+QNTP in the contents, AT+QNTTP in the body and example (quectel.md B1).
        case "+QNTP", "+QNTTP": return qntp(c, modem)
        case "+QCCLK":
            // BC §2.3.9 note 2: the RTC set by NTP is read with AT+QCCLK?.
            guard c.form == .read else { return c.form == .test ? .ok : .error }
            modem.respond("+QCCLK: \"\(modem.clock.text(of: modem.clock.unixTime(at: now)))\"")
            return .ok
        case "+QIGETERROR":
            if c.form == .test { return .ok }
            guard c.form == .execute else { return .error }
            modem.respond("+QIGETERROR: \(lastError.rawValue),\(lastError.description(nbIoT: true))")
            return .ok
        default:
            return .unknown
        }
    }

    /// BC §2.3.1: only context 1 works.
    private func contextOK(_ a: ATArgument) -> Bool { a.integer == 1 }

    private func qiopen(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QIOPEN: (1-3),(0-4),\"TCP/UDP\",<IP_address>/<domain_name>,(1-65535),(0-65535),(0,1),(0,1)")
            return .ok
        }
        guard c.form == .set else { return .error }
        let a = c.arguments
        // The address is unquoted in the syntax and quoted in every example (quectel.md B3): both.
        guard (5...8).contains(a.count), contextOK(a[0]),
              let id = a[1].integer, modem.profile.socketIDs.contains(id),
              let type = a[2].quotedText, type == "TCP" || type == "UDP",
              !a[3].text.isEmpty, a[3].text.utf8.count <= 150,
              let port = a[4].integer, (1...65535).contains(port) else { return fail(.invalidParameters) }
        var localPort = 0, accessMode = 0
        if a.count > 5 {
            guard let p = a[5].integer, (0...65535).contains(p) else { return fail(.invalidParameters) }
            localPort = p
        }
        if a.count > 6 {
            guard let m = a[6].integer, (0...1).contains(m) else { return fail(.invalidParameters) }
            accessMode = m
        }
        if a.count > 7 {
            guard let p = a[7].integer, (0...1).contains(p) else { return fail(.invalidParameters) }
        }
        guard modem.sockets[id] == nil else { return fail(.identityUsed) }
        lastError = .success
        requestedLocalPort[id] = localPort
        let remote = RemoteEndpoint(host: a[3].text, port: port)
        guard modem.networkAvailable else {
            modem.sockets[id] = failedSocket(id, modem, type: type, remote: remote, accessMode: accessMode)
            modem.urc("+QIOPEN: \(id),\(QuectelError.pdpBroken.rawValue)")
            return .ok
        }
        _ = modem.makeSocket(linkID: id, service: type == "TCP" ? .tcp : .udp, remote: remote, localPort: localPort,
                             accessMode: accessMode, contextID: 1)
        return .ok
    }

    /// A connectID held after a failed open, until AT+QICLOSE (BC §2.3.1 note 3).
    private func failedSocket(_ id: Int, _ modem: SimModem, type: String, remote: RemoteEndpoint, accessMode: Int) -> SimSocket {
        let s = SimSocket(linkID: id, handle: SocketHandle(linkID: id, serial: modem.allocateSerial()), service: type == "TCP" ? .tcp : .udp,
                          remote: remote, localPort: 0, accessMode: accessMode, contextID: 1, receiveCapacity: 0)
        s.state = .remoteClosed
        s.failedOpen = true
        return s
    }

    func opened(_ s: SimSocket, modem: SimModem, now: Instant) { modem.urc("+QIOPEN: \(s.linkID),0") }

    func openFailed(_ s: SimSocket, modem: SimModem, now: Instant) {
        modem.release(s)
        let kept = failedSocket(s.linkID, modem, type: s.service == .tcp ? "TCP" : "UDP",
                                remote: s.remote ?? RemoteEndpoint(host: "", port: 0), accessMode: s.accessMode)
        modem.sockets[s.linkID] = kept
        modem.urc("+QIOPEN: \(s.linkID),\(QuectelError.connect.rawValue)")
    }

    private func qiclose(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QICLOSE: (0-4)")
            return .ok
        }
        guard c.form == .set, c.arguments.count == 1, let id = c.arguments[0].integer,
              modem.profile.socketIDs.contains(id) else { return fail(.invalidParameters) }
        guard let s = modem.sockets[id] else { return fail(.closed) }
        modem.release(s)
        reportedFull.remove(id)
        lastError = .success
        return .final("OK", then: ["CLOSE OK"])
    }

    private func stateLine(_ s: SimSocket) -> String {
        // BC §2.3.3: 0 Initial, 1 Connecting, 2 Connected, 3 Closing, 4 Remote Closing.
        let state: Int
        switch s.state {
        case .opening: state = 1
        case .connected, .listening: state = 2
        case .remoteClosed: state = s.failedOpen ? 0 : 4
        }
        let type = s.service == .tcp ? "TCP" : "UDP"
        return "+QISTATE: \(s.linkID),\"\(type)\",\"\(s.remote?.host ?? "")\",\(s.remote?.port ?? 0),\(requestedLocalPort[s.linkID] ?? 0),\(state),1,\(s.accessMode)"
    }

    private func qistate(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        let ordered = modem.sockets.keys.sorted().compactMap { modem.sockets[$0] }
        switch c.form {
        case .test: return .ok
        case .read:
            for s in ordered { modem.respond(stateLine(s)) }
            return .ok
        case .set:
            guard c.arguments.count == 2, let type = c.arguments[0].integer, let v = c.arguments[1].integer else { return fail(.invalidParameters) }
            if type == 0 {
                guard v == 1 else { return fail(.invalidParameters) }
                for s in ordered { modem.respond(stateLine(s)) }
            } else if type == 1 {
                guard modem.profile.socketIDs.contains(v) else { return fail(.invalidParameters) }
                if let s = modem.sockets[v] { modem.respond(stateLine(s)) }
            } else {
                return fail(.invalidParameters)
            }
            return .ok
        case .execute:
            return .error
        }
    }

    private func sendable(_ id: Int, _ modem: SimModem) -> SimSocket? {
        guard let s = modem.sockets[id], s.state == .connected else { return nil }
        return s
    }

    /// `OK` then `SEND OK` / `SEND FAIL` (BC §2.3.4).
    private func deliver(_ bytes: [UInt8], _ s: SimSocket, _ modem: SimModem) -> CommandReply {
        guard modem.sockets[s.linkID] === s, s.state == .connected else { return fail(.closed) }
        return .final("OK", then: [modem.send(bytes, on: s) ? "SEND OK" : "SEND FAIL"])
    }

    private func qisend(_ c: ATCommand, _ modem: SimModem, now: Instant) -> CommandReply {
        if c.form == .test {
            modem.respond("+QISEND: (0-4),(0-1460),<data>")
            return .ok
        }
        guard c.form == .set, (1...3).contains(c.arguments.count), let id = c.arguments[0].integer,
              modem.profile.socketIDs.contains(id) else { return fail(.invalidParameters) }
        var length: Int? = nil
        if c.arguments.count >= 2 {
            guard let n = c.arguments[1].integer, n >= 0 else { return fail(.invalidParameters) }
            length = n
        }
        if length == 0 && c.arguments.count == 2 {
            guard let s = modem.sockets[id] else { return fail(.closed) }
            let unacked = s.service == .tcp ? s.totalSent - s.totalAcked : 0
            modem.respond("+QISEND: \(s.totalSent),\(s.service == .tcp ? s.totalAcked : 0),\(unacked)")
            return .ok
        }
        guard let s = sendable(id, modem) else { return fail(.closed) }
        if c.arguments.count == 3, let length {
            // Inline data: text ≤ 1024, hex ≤ 512 bytes; <send_length> must match (BC §2.3.4).
            // `;` is not supported inside it (note 3): the line parser already refused it.
            guard length <= (sendHex ? 512 : 1024) else { return fail(.invalidParameters) }
            var data = Array(c.arguments[2].text.utf8)
            if sendHex {
                guard let decoded = Hex.decode(data) else { return fail(.invalidParameters) }
                data = decoded
            }
            guard data.count == length else { return fail(.invalidParameters) }
            return deliver(data, s, modem)
        }
        let limit = sendHex ? 730 : 1460
        if let length { guard length <= limit else { return fail(.invalidParameters) } }
        let hex = sendHex
        let entry = DataEntry(length: length.map { .fixed(hex ? $0 * 2 : $0) } ?? .untilCtrlZ(max: hex ? limit * 2 : limit),
                              echo: echoMode == 1, deadline: now + .seconds(60)) { [weak self] modem, outcome, _ in
            guard let self else { return .error }
            switch outcome {
            case .cancelled: return self.fail(.cancelSend)
            case .timedOut: return self.fail(.timeout)
            case .overflow: return self.fail(.invalidParameters)
            case .data(var bytes):
                if hex {
                    guard let d = Hex.decode(bytes) else { return self.fail(.invalidParameters) }
                    bytes = d
                }
                return self.deliver(bytes, s, modem)
            }
        }
        modem.respondRaw([0x0D, 0x0A, 0x3E])
        return .dataEntry(entry)
    }

    private func qisendex(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QISENDEX: (0-4),(1-512),<hex_string>")
            return .ok
        }
        // <send_length> counts decoded bytes (example 5,"3031323334"; quectel.md B11).
        guard c.form == .set, c.arguments.count == 3, let id = c.arguments[0].integer, modem.profile.socketIDs.contains(id),
              let length = c.arguments[1].integer, (1...512).contains(length),
              let hex = c.arguments[2].quotedText, let bytes = Hex.decode(hex.utf8), bytes.count == length
        else { return fail(.invalidParameters) }
        guard let s = sendable(id, modem) else { return fail(.closed) }
        return deliver(bytes, s, modem)
    }

    private func qird(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QIRD: (0-4),(1-512)")
            return .ok
        }
        guard c.form == .set, c.arguments.count == 2, let id = c.arguments[0].integer, modem.profile.socketIDs.contains(id),
              let length = c.arguments[1].integer, (1...512).contains(length) else { return fail(.invalidParameters) }
        guard let s = modem.sockets[id] else { return fail(.closed) }
        // One read stays within the current node (a datagram, or a TCP arrival):
        // <remaining_length> is what is left of that node (quectel.md B18).
        let node = s.receive.headRemaining
        var data = s.receive.readStream(max: min(length, max(1, node)))
        let remaining = max(0, node - data.count)
        reportedFull.remove(id)
        if data.isEmpty {
            s.notified = false
            modem.respond("+QIRD: 0")
            return .ok
        }
        s.totalRead += data.count
        var header = "+QIRD: \(data.count)"
        if showLength == 1 { header += ",\(remaining)" }
        if s.receive.isEmpty { s.notified = false }
        if receiveHex { data = Hex.encode(data) }
        if viewMode == 1 {
            // Data on the header line, unquoted (example +QIRD: 10,2,0123456789; B15).
            modem.respondRaw(Array("\r\n\(header),".utf8) + data + [0x0D, 0x0A])
        } else {
            modem.respond(header)
            modem.respondRaw(data + [0x0D, 0x0A])
        }
        return .ok
    }

    private func qiswtmd(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test: modem.respond("+QISWTMD: (0-4),(0,1)"); return .ok
        case .read: return .ok  // BC §2.3.7: the query answers just OK (B31).
        case .set:
            guard c.arguments.count == 2, let id = c.arguments[0].integer, modem.profile.socketIDs.contains(id),
                  let m = c.arguments[1].integer, (0...1).contains(m) else { return fail(.invalidParameters) }
            guard let s = modem.sockets[id] else { return fail(.closed) }
            s.accessMode = m
            if m == 1 { push(s, modem) }
            return .ok
        case .execute: return .error
        }
    }

    private func qicfg(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QICFG: \"dataformat\",(0,1),(0,1)")
            modem.respond("+QICFG: \"viewmode\",(0,1)")
            modem.respond("+QICFG: \"showlength\",(0,1)")
            modem.respond("+QICFG: \"echomode\",(0,1)")
            return .ok
        }
        guard c.form == .set, let name = c.arguments.first?.quotedText else { return fail(.invalidParameters) }
        let values = c.arguments.dropFirst().map(\.integer)
        guard values.allSatisfy({ $0 == 0 || $0 == 1 }) else { return fail(.invalidParameters) }
        let v = values.compactMap { $0 }
        switch (name.lowercased(), v.count) {
        case ("dataformat", 0): modem.respond("+QICFG: \"dataformat\",\(sendHex ? 1 : 0),\(receiveHex ? 1 : 0)")
        case ("dataformat", 2): sendHex = v[0] == 1; receiveHex = v[1] == 1
        case ("viewmode", 0): modem.respond("+QICFG: \"viewmode\",\(viewMode)")
        case ("viewmode", 1): viewMode = v[0]
        case ("showlength", 0): modem.respond("+QICFG: \"showlength\",\(showLength)")
        case ("showlength", 1): showLength = v[0]
        case ("echomode", 0): modem.respond("+QICFG: \"echomode\",\(echoMode)")
        case ("echomode", 1): echoMode = v[0]
        default: return fail(.invalidParameters)
        }
        return .ok
    }

    private func qidnscfg(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QIDNSCFG: (1-3),<pridnsaddr>,<secdnsaddr>")
            return .ok
        }
        guard c.form == .set, (1...3).contains(c.arguments.count), contextOK(c.arguments[0]) else { return fail(.invalidParameters) }
        if c.arguments.count == 1 {
            if !dnsServers.isEmpty { modem.respond("+QIDNSCFG: 1,\(dnsServers.map { "\"\($0)\"" }.joined(separator: ","))") }
            return .ok
        }
        let servers = c.arguments.dropFirst().compactMap(\.quotedText)
        guard servers.count == c.arguments.count - 1, servers.allSatisfy({ $0.utf8.count <= 64 }) else { return fail(.invalidParameters) }
        dnsServers = servers
        return .ok
    }

    private func qidnsgip(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QIDNSGIP: (1-3),\"<hostname>\"")
            return .ok
        }
        guard c.form == .set, c.arguments.count == 2, contextOK(c.arguments[0]),
              let name = c.arguments[1].quotedText, !name.isEmpty, name.utf8.count <= 150 else { return fail(.invalidParameters) }
        let q = modem.newQuery()
        dnsQueries.insert(q)
        modem.perform(.resolve(query: q, name: name))
        return .ok
    }

    private func qping(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+QPING: (1-3),\"<host>\",(1-255),(1-10),(32-200)")
            return .ok
        }
        guard c.form == .set, (2...5).contains(c.arguments.count), contextOK(c.arguments[0]),
              let host = c.arguments[1].quotedText, !host.isEmpty, host.utf8.count <= 150 else { return fail(.invalidParameters) }
        var timeout = 4, count = 4, size = 32
        if c.arguments.count > 2 { guard let t = c.arguments[2].integer, (1...255).contains(t) else { return fail(.invalidParameters) }; timeout = t }
        if c.arguments.count > 3 { guard let n = c.arguments[3].integer, (1...10).contains(n) else { return fail(.invalidParameters) }; count = n }
        if c.arguments.count > 4 { guard let z = c.arguments[4].integer, (32...200).contains(z) else { return fail(.invalidParameters) }; size = z }
        let q = modem.newQuery()
        pings[q] = (count, 0, [])
        modem.perform(.ping(query: q, host: host, count: count, timeoutSeconds: timeout, size: size))
        return .ok
    }

    /// BC §2.3.9: `=<contextID>,"<server>"[,<port>[,<auto_set_time>]]`, `OK`, then
    /// `+QNTTP: <err>,"YY/MM/DD,hh:mm:ss±zz"` (without the example's stray ":35", B1).
    private func qntp(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test:
            modem.respond("\(c.name): (1-3),\"<server>\",(1-65535),(0,1)")
            return .ok
        case .set:
            let a = c.arguments
            guard (2...4).contains(a.count), contextOK(a[0]), let server = a[1].quotedText, !server.isEmpty,
                  server.utf8.count <= 150 else { return fail(.invalidParameters) }
            if let error = ntp.start(c, server: server, modem: modem) { return fail(error) }
            return .ok
        default:
            return .error
        }
    }

    func queryEvent(_ event: SocketEvent, modem: SimModem, now: Instant) {
        switch event {
        case .timeSynced(let q, let unix):
            if let error = ntp.synced(q, unix: unix, modem: modem, now: now, fourDigitYear: false) { lastError = error }
        case .resolved(let q, let addresses):
            guard dnsQueries.remove(q) != nil else { return }
            guard !addresses.isEmpty else {
                lastError = .dnsFailed
                modem.urc("+QIURC: \"dnsgip\",\(QuectelError.dnsFailed.rawValue)")
                return
            }
            modem.urc("+QIURC: \"dnsgip\",0,\(addresses.count),600")
            for a in addresses { modem.urc("+QIURC: \"dnsgip\",\"\(a)\"") }
        case .pingReply(let q, let address, let bytes, let ms, let ttl):
            guard var run = pings[q] else { return }
            run.remaining -= 1; run.sent += 1; run.times.append(ms)
            modem.urc("+QPING: 0,\"\(address)\",\(bytes),\(ms),\(ttl)")
            finishPing(q, run, modem)
        case .pingTimeout(let q, let address):
            guard var run = pings[q] else { return }
            guard address != nil else {
                pings[q] = nil
                modem.urc("+QPING: \(QuectelError.dnsFailed.rawValue)")
                return
            }
            run.remaining -= 1; run.sent += 1
            modem.urc("+QPING: \(QuectelError.timeout.rawValue)")
            finishPing(q, run, modem)
        default:
            return
        }
    }

    private func finishPing(_ q: Int, _ run: (remaining: Int, sent: Int, times: [Int]), _ modem: SimModem) {
        guard run.remaining <= 0 else { pings[q] = run; return }
        pings[q] = nil
        let n = run.times.count
        let avg = n > 0 ? run.times.reduce(0, +) / n : 0
        modem.urc("+QPING: 0,\(run.sent),\(n),\(run.sent - n),\(run.times.min() ?? 0),\(run.times.max() ?? 0),\(avg)")
    }

    // MARK: network events (BC §2.4)

    func receiveWindow(_ s: SimSocket, modem: SimModem) -> Int {
        guard s.receive.chunkCount < Self.maxNodes else { return 0 }
        return min(s.receive.freeSpace, Self.nodeSize)
    }

    func dataArrived(_ s: SimSocket, modem: SimModem, now: Instant) {
        if s.accessMode == 1 { push(s, modem); return }
        if !s.notified {
            s.notified = true
            modem.urc(showLength == 1 ? "+QIURC: \"recv\",\(s.linkID),\(s.receive.count)" : "+QIURC: \"recv\",\(s.linkID)")
        }
        if s.receive.chunkCount >= Self.maxNodes && !reportedFull.contains(s.linkID) {
            reportedFull.insert(s.linkID)
            modem.urc("+QIURC: \"recv\",\(s.linkID),\"buff full\"")
        }
    }

    private func push(_ s: SimSocket, _ modem: SimModem) {
        while !s.receive.isEmpty {
            var data: [UInt8]
            if s.isDatagram {
                guard let d = s.receive.readDatagram(max: Int.max) else { break }
                data = d.bytes
            } else {
                data = s.receive.readStream(max: modem.profile.maxPushLength)
            }
            s.totalRead += data.count
            let header = "+QIURC: \"recv\",\(s.linkID),\(data.count)"
            if receiveHex { data = Hex.encode(data) }
            let urc: [UInt8] = viewMode == 1
                ? Array("\r\n\(header),\"".utf8) + data + Array("\"\r\n".utf8)
                : SimModem.frame(header) + data + [0x0D, 0x0A]
            // BC §2.4 note 5: UDP direct-push URCs over 1400 bytes are discarded.
            if s.isDatagram && urc.count - 4 > Self.maxURC { continue }
            modem.urcBytes(urc)
        }
    }

    func peerClosed(_ s: SimSocket, modem: SimModem, now: Instant) { modem.urc("+QIURC: \"closed\",\(s.linkID)") }

    func accepted(listener: SimSocket, client: SocketHandle, from: RemoteEndpoint, localPort: Int, modem: SimModem, now: Instant) -> SimSocket? { nil }

    func networkLost(modem: SimModem, now: Instant) {
        modem.activeContexts.removeAll()
        // BC documents no PDP URC; its sockets see the connection drop.
        for id in modem.sockets.keys.sorted() {
            guard let s = modem.sockets[id], s.state == .connected || s.state == .opening else { continue }
            s.state = .remoteClosed
            modem.urc("+QIURC: \"closed\",\(id)")
        }
    }
}
