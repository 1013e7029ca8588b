import Buffers

/// China Mobile OneMO `AT+MIP*` dialect (onemo.md, seed 000): ML307A-class Cat-1 modules and
/// MN316-class NB-IoT modules, which differ by the manual's per-model footnotes (onemo.md §10).
///
/// Errors are `+CME ERROR: <err>` with the TCP/IP codes of onemo.md §12, so `AT+CMEE` starts
/// at 1 on these models. Access modes: 0 normal (data inside `+MIPURC: "rtcp"/"rudp"`), 2 TCP
/// stream buffer, 3 UDP packet buffer, read with `AT+MIPRD`; 1 transparent on Cat-1 only
/// (`CONNECT` as a URC after the open, or after `AT+MIPMODE=<id>,1`'s `OK`; `+++` answers `OK`
/// and leaves the socket in normal mode; packets of 1024 bytes or after 200 ms, §5.7).
/// Choices where the manual is silent: the `"rtcp"`/`"rudp"` spelling of every example; a
/// stream-buffer notice per arrival (as the §4.4 example shows); unused ids in
/// `AT+MIPSTATE` as `<id>,,,"INITIAL"` (as printed); "ack" reports when the kernel has taken
/// the data; a ping timeout ends the run with
/// `+MPING: 3` (the §4.5 example); a prompt send the buffer cannot take answers 560.
final class OneMO: Dialect {
    let nbIoT: Bool

    struct InstanceConfig {
        var cid = 1
        var sendFormat = 0
        var receiveFormat = 0
        var sendTimeout = 10
        var autofree = 0
        var receiveBuffer: Int? = nil
        var ackMode = 0
        var keepalive = [0, 90, 75, 3]
    }

    var config: [Int: InstanceConfig] = [:]
    var dnsServers = ["119.29.29.29", "114.114.114.114"]
    var dns6Servers = ["2400:3200::1", "2001:4860:4860::8888"]
    var dnsPriority = 1
    var dnsTimeout = [30, 3]
    var dnsQueries: [Int: String] = [:]
    var pings: [Int: (remaining: Int, sent: Int, times: [Int])] = [:]
    /// Remote address as the host typed it, shown by AT+MIPSTATE.
    var typedAddress: [Int: String] = [:]
    var ntpQuery: (query: Int, sync: Bool)? = nil
    /// Bytes already reported in `+MIPURC: "ack"`, per socket.
    var ackReported: [Int: Int] = [:]

    init(nbIoT: Bool) {
        self.nbIoT = nbIoT
        dnsTimeout = [nbIoT ? 30 : 10, 3]
    }

    func powerOnReset() {
        // MIPCFG and MIPTKA last for one power cycle (onemo.md §5); MDNSCFG is kept in NV.
        config = [:]
        ntpQuery = nil
        ackReported = [:]
        dnsQueries = [:]
        pings = [:]
        typedAddress = [:]
    }

    /// Cached UDP datagrams: 12 on NB modules, 256 on Cat-1 (onemo.md §5.6).
    var packetCap: Int { nbIoT ? 12 : 256 }

    func bootURCs(modem: SimModem) -> [String] {
        // No PDP command exists in this dialect: the default bearer comes up with the attach
        // (onemo.md §4), and failures carry the 55x codes only as +CME ERROR.
        modem.cmee = 1
        modem.activeContexts[1] = modem.options.localAddress
        return ["+CPIN: READY"]
    }

    func networkBack(modem: SimModem, now: Instant) {
        modem.activeContexts[1] = modem.options.localAddress
    }

    private func cfg(_ id: Int) -> InstanceConfig { config[id] ?? InstanceConfig() }

    private func error(_ code: Int, _ modem: SimModem) -> CommandReply { modem.cmeError(code) }

    func execute(_ c: ATCommand, modem: SimModem, now: Instant) -> CommandReply {
        switch c.name {
        case "+MIPCFG": return mipcfg(c, modem)
        case "+MIPTKA": return miptka(c, modem)
        // The manual also spells it AT+MIOPEN (onemo.md §15 #1): an alias.
        case "+MIPOPEN", "+MIOPEN": return mipopen(c, modem)
        case "+MIPCLOSE": return mipclose(c, modem)
        case "+MIPSEND": return mipsend(c, modem, now: now)
        case "+MIPRD": return miprd(c, modem)
        case "+MIPMODE": return mipmode(c, modem)
        case "+MIPSTATE": return mipstate(c, modem)
        case "+MIPSACK": return mipsack(c, modem)
        case "+MDNSCFG": return mdnscfg(c, modem)
        case "+MDNSGIP": return mdnsgip(c, modem)
        case "+MPING": return mping(c, modem)
        case "+MNTP": return mntp(c, modem)
        default: return .unknown
        }
    }

    private func ids(_ modem: SimModem) -> String { "(\(modem.profile.socketIDs.lowerBound)-\(modem.profile.socketIDs.upperBound))" }

    private func validID(_ a: ATArgument?, _ modem: SimModem) -> Int? {
        guard let id = a?.integer, modem.profile.socketIDs.contains(id) else { return nil }
        return id
    }

    // MARK: configuration (§5.1, §5.2)

    private var configNames: [String] {
        nbIoT ? ["encoding", "autofree", "rcvbuf"] : ["cid", "encoding", "timeout", "autofree", "rcvbuf", "ackmode"]
    }

    private func configLine(_ name: String, _ id: Int) -> String {
        let c = cfg(id)
        switch name {
        case "cid": return "+MIPCFG: \"cid\",\(id),\(c.cid)"
        case "encoding": return "+MIPCFG: \"encoding\",\(id),\(c.sendFormat),\(c.receiveFormat)"
        case "timeout": return "+MIPCFG: \"timeout\",\(id),\(c.sendTimeout)"
        case "autofree": return "+MIPCFG: \"autofree\",\(id),\(c.autofree)"
        case "rcvbuf": return "+MIPCFG: \"rcvbuf\",\(id),\(c.receiveBuffer ?? (nbIoT ? 4096 : 65535))"
        default: return "+MIPCFG: \"ackmode\",\(id),\(c.ackMode)"
        }
    }

    private func mipcfg(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+MIPCFG: (\(configNames.map { "\"\($0)\"" }.joined(separator: ","))),\(ids(modem))")
            return .ok
        }
        guard c.form == .set, let name = c.arguments.first?.quotedText, configNames.contains(name) else { return error(550, modem) }
        let a = c.arguments
        if a.count == 1 {
            for id in modem.sockets.keys.sorted() { modem.respond(configLine(name, id)) }
            return .ok
        }
        guard let id = validID(a[1], modem) else { return error(550, modem) }
        if a.count == 2 {
            modem.respond(configLine(name, id))
            return .ok
        }
        let v = a.dropFirst(2).map(\.integer)
        guard v.allSatisfy({ $0 != nil }) else { return error(550, modem) }
        let values = v.compactMap { $0 }
        var c = cfg(id)
        switch (name, values.count) {
        case ("cid", 1):
            guard (1...15).contains(values[0]) else { return error(550, modem) }
            c.cid = values[0]
        case ("encoding", 2):
            // Format 2 ("string with escapes") has no defined syntax (onemo.md §15 #16).
            guard (0...1).contains(values[0]), (0...1).contains(values[1]) else { return error(550, modem) }
            c.sendFormat = values[0]
            c.receiveFormat = values[1]
        case ("timeout", 1):
            guard (1...120).contains(values[0]) else { return error(550, modem) }
            c.sendTimeout = values[0]
        case ("autofree", 1):
            guard (0...1).contains(values[0]) else { return error(550, modem) }
            c.autofree = values[0]
        case ("rcvbuf", 1):
            // Before the connection only; UDP range per model (onemo.md §5.1 notes).
            guard modem.sockets[id] == nil else { return error(552, modem) }
            guard (nbIoT ? 4096...8192 : 1460...65535).contains(values[0]) else { return error(550, modem) }
            c.receiveBuffer = values[0]
        case ("ackmode", 1):
            guard (0...1).contains(values[0]) else { return error(550, modem) }
            c.ackMode = values[0]
        default:
            return error(550, modem)
        }
        config[id] = c
        return .ok
    }

    private func keepaliveLine(_ id: Int) -> String {
        let k = cfg(id).keepalive
        return k[0] == 0 ? "+MIPTKA: \(id),0" : "+MIPTKA: \(id),\(k.map(String.init).joined(separator: ","))"
    }

    private func miptka(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .test: modem.respond("+MIPTKA: \(ids(modem)),(0-1),(30-7200),(30-600),(1-9)"); return .ok
        case .read:
            for id in modem.profile.socketIDs { modem.respond(keepaliveLine(id)) }
            return .ok
        case .execute: return error(550, modem)
        case .set:
            guard let id = validID(c.arguments.first, modem) else { return error(550, modem) }
            if c.arguments.count == 1 { modem.respond(keepaliveLine(id)); return .ok }
            let v = c.arguments.dropFirst().compactMap(\.integer)
            guard v.count == c.arguments.count - 1, v.count <= 4, (0...1).contains(v[0]) else { return error(550, modem) }
            if let s = modem.sockets[id], s.isDatagram { return error(550, modem) }
            var k = cfg(id).keepalive
            let ranges = [0...1, 30...7200, 30...600, 1...9]
            for (i, x) in v.enumerated() {
                guard ranges[i].contains(x) else { return error(550, modem) }
                k[i] = x
            }
            var c2 = cfg(id)
            c2.keepalive = k
            config[id] = c2
            return .ok
        }
    }

    // MARK: open / close (§5.3, §5.4)

    private func mipopen(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+MIPOPEN: \(ids(modem)),,(0-65535),(1-180),(0-3),(0-65535)")
            return .ok
        }
        let a = c.arguments
        guard c.form == .set, (4...7).contains(a.count), let id = validID(a[0], modem),
              let type = a[1].quotedText, type == "TCP" || type == "UDP",
              let address = a[2].quotedText, !address.isEmpty, address.utf8.count <= 255,
              let port = a[3].integer, (0...65535).contains(port) else { return error(550, modem) }
        var accessMode = 0, localPort = 0
        if a.count > 4 && !a[4].isOmitted { guard let t = a[4].integer, (1...180).contains(t) else { return error(550, modem) } }
        if a.count > 5 && !a[5].isOmitted {
            // 1 = transparent: not on NB models (§5.3 footnote).
            guard let m = a[5].integer, (0...3).contains(m), m != 1 || !nbIoT else { return error(550, modem) }
            guard (m != 2 || type == "TCP") && (m != 3 || type == "UDP") else { return error(550, modem) }
            accessMode = m
        }
        if a.count > 6 { guard let p = a[6].integer, (0...65535).contains(p) else { return error(550, modem) }; localPort = p }
        if let old = modem.sockets[id] {
            guard old.state == .remoteClosed && cfg(id).autofree == 0 else { return error(552, modem) }
            modem.release(old)
        }
        guard modem.activeContexts[cfg(id).cid] != nil || (nbIoT && modem.activeContexts[1] != nil) else { return error(570, modem) }
        typedAddress[id] = address
        ackReported[id] = 0
        let s = modem.makeSocket(linkID: id, service: type == "TCP" ? .tcp : .udp, remote: RemoteEndpoint(host: address, port: port),
                                 localPort: localPort, accessMode: accessMode, contextID: cfg(id).cid)
        if let size = cfg(id).receiveBuffer, s.isDatagram { s.receive = ReceiveQueue(capacity: size) }
        return .ok
    }

    func opened(_ s: SimSocket, modem: SimModem, now: Instant) {
        if s.accessMode == 1 {
            // Transparent: the URC is CONNECT, and the line becomes the socket's (§5.3).
            modem.enterTransparentWhenIdle(s, Self.transparent, now: now)
            return
        }
        modem.urc("+MIPOPEN: \(s.linkID),0")
    }

    /// ML3xx: packet_size 1024 and waittm 200 ms, not configurable (§5.7).
    static let transparent = TransparentSettings(packetSize: 1024, packetWait: .milliseconds(200))

    func leftTransparent(_ s: SimSocket, modem: SimModem, now: Instant) {
        // After +++ the connection stays open in normal mode (§5.13).
        s.accessMode = 0
        if !s.receive.isEmpty { dataArrived(s, modem: modem, now: now) }
    }

    func openFailed(_ s: SimSocket, modem: SimModem, now: Instant) {
        modem.release(s)
        // NB modules report 1, the others an error code (§5.3, onemo.md §14 #6): 559 here.
        modem.urc("+MIPOPEN: \(s.linkID),\(nbIoT ? 1 : 559)")
    }

    private func mipclose(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+MIPCLOSE: \(ids(modem)),(0-3)")
            return .ok
        }
        // <mode> is not supported on MN316 or ML307A (§5.4 footnote 17).
        guard c.form == .set, c.arguments.count == 1, let id = validID(c.arguments[0], modem) else { return error(550, modem) }
        guard let s = modem.sockets[id] else { return error(551, modem) }
        modem.release(s)
        modem.urc("+MIPCLOSE: \(id)")
        return .ok
    }

    // MARK: send (§5.5)

    private func mipsend(_ c: ATCommand, _ modem: SimModem, now: Instant) -> CommandReply {
        if c.form == .test {
            modem.respond("+MIPSEND: \(ids(modem)),(0-1460),,(0-2),(1-255)")
            return .ok
        }
        let a = c.arguments
        guard c.form == .set, (1...6).contains(a.count), let id = validID(a[0], modem) else { return error(550, modem) }
        var length: Int? = nil
        if a.count > 1 { guard let n = a[1].integer, n >= 0 else { return error(550, modem) }; length = n }
        guard let s = modem.sockets[id], s.state == .connected else { return error(553, modem) }
        if a.count >= 3 {
            return inlineSend(a, s, length ?? 0, modem)
        }
        if length == 0 && nbIoT {
            // An empty UDP datagram; MN316 cannot send one (§5.5 variant C).
            return error(550, modem)
        }
        // Prompt modes: not on NB models (§5.5).
        guard !nbIoT else { return error(550, modem) }
        if let n = length, n > 0 { guard n <= 8192 else { return error(550, modem) } }
        let fixed = length.flatMap { $0 > 0 ? $0 : nil }
        let deadline = now + .seconds(cfg(id).sendTimeout)
        let entry = DataEntry(length: fixed.map { .fixed($0) } ?? .untilCtrlZ(max: 1460), echo: false,
                              deadline: deadline) { [weak self] modem, outcome, _ in
            guard let self else { return .error }
            switch outcome {
            case .cancelled: return .ok
            case .overflow: return self.error(550, modem)
            case .timedOut:
                // Fixed length: what arrived before the timeout is sent (§5.5 variant B, §15 #28).
                return .ok
            case .data(let bytes):
                guard modem.sockets[id] === s, s.state == .connected else { return self.error(553, modem) }
                return modem.send(bytes, on: s) ? .ok : self.error(560, modem)
            }
        }
        modem.respondRaw([0x0D, 0x0A, 0x3E])
        return .dataEntry(entry)
    }

    private func inlineSend(_ a: [ATArgument], _ s: SimSocket, _ length: Int, _ modem: SimModem) -> CommandReply {
        guard length <= 1460 else { return error(550, modem) }
        var data = Array(a[2].text.utf8)
        if cfg(s.linkID).sendFormat == 1 {
            guard let d = Hex.decode(data) else { return error(550, modem) }
            data = d
        }
        // <send_length> > 0 is checked against the data; 0 means "not checked" (§5.5).
        if length > 0 { guard data.count == length else { return error(550, modem) } }
        var seq: Int? = nil
        if a.count > 3 && !a[3].isOmitted {
            guard let rai = a[3].integer, (0...2).contains(rai) else { return error(550, modem) }
            // No RAI on Cat-1, none for TCP on NB (§5.5).
            if rai != 0 && (!nbIoT || !s.isDatagram) { return error(550, modem) }
        }
        if a.count > 4 && !a[4].isOmitted {
            guard nbIoT, s.isDatagram, let q = a[4].integer, (1...255).contains(q) else { return error(550, modem) }
            seq = q
        }
        if a.count > 5 { return error(550, modem) }  // <pri_flag>: not supported on any model
        guard modem.send(data, on: s) else { return error(560, modem) }
        modem.respond("+MIPSEND: \(s.linkID),\(data.count)")
        // The air-interface result of a UDP packet with <seq> (§5.14): reached the base station.
        if let seq { modem.urc("+MIPURC: \"seq\",\(s.linkID),\(seq),0") }
        return .ok
    }

    // MARK: receive (§5.6, §5.14)

    private func miprd(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+MIPRD: \(ids(modem)),(0-4096)")
            return .ok
        }
        let a = c.arguments
        guard c.form == .set, (1...2).contains(a.count), let id = validID(a[0], modem) else { return error(550, modem) }
        guard let s = modem.sockets[id] else { return error(551, modem) }
        if a.count == 1 {
            modem.respond("+MIPRD: \(id),\(s.isDatagram ? s.receive.chunkCount : s.receive.count)")
            return .ok
        }
        guard let n = a[1].integer, (0...4096).contains(n) else { return error(550, modem) }
        if s.isDatagram {
            // Packets: 0 or more than buffered reads them all; one line per packet (inferred).
            var count = n == 0 ? s.receive.chunkCount : min(n, s.receive.chunkCount)
            while count > 0, let d = s.receive.readDatagram(max: Int.max) {
                s.totalRead += d.bytes.count
                emitRead(id, remaining: s.receive.chunkCount, d.bytes, modem)
                count -= 1
            }
        } else if !s.receive.isEmpty {
            let data = s.receive.readStream(max: n == 0 ? Int.max : n)
            s.totalRead += data.count
            emitRead(id, remaining: s.receive.count, data, modem)
        }
        return .ok
    }

    private func emitRead(_ id: Int, remaining: Int, _ data: [UInt8], _ modem: SimModem) {
        let payload = cfg(id).receiveFormat == 1 ? Hex.encode(data) : data
        modem.respondRaw(Array("\r\n+MIPRD: \(id),\(remaining),\(data.count),".utf8) + payload + [0x0D, 0x0A])
    }

    func receiveWindow(_ s: SimSocket, modem: SimModem) -> Int {
        // A full packet cache takes no datagram, however much byte space is left (§5.14).
        if s.isDatagram && s.accessMode == 3 && s.receive.chunkCount >= packetCap { return 0 }
        return s.receive.freeSpace
    }

    func dataArrived(_ s: SimSocket, modem: SimModem, now: Instant) {
        if modem.transparentLinkID == s.linkID { modem.deliverTransparent(s); return }
        if s.accessMode == 1 { return }  // waiting for the line to become the socket's
        let kind = s.isDatagram ? "rudp" : "rtcp"
        switch s.accessMode {
        case 2:
            // Stream buffer: one notice per arrival, with the total now buffered (§4.4 example).
            modem.urc("+MIPURC: \"rtcp\",\(s.linkID),\(s.receive.chunks.last?.bytes.count ?? 0),\(s.receive.count)")
        case 3:
            if s.receive.chunkCount > packetCap, let d = s.receive.readDatagramFromTail() {
                modem.urc("+MIPURC: \"drop\",\(s.linkID),\(d.count)")
                return
            }
            modem.urc("+MIPURC: \"rudp\",\(s.linkID),\(s.receive.chunkCount)")
        default:
            while !s.receive.isEmpty {
                let data = s.isDatagram ? (s.receive.readDatagram(max: Int.max)?.bytes ?? []) : s.receive.readStream(max: modem.profile.maxPushLength)
                s.totalRead += data.count
                let payload = cfg(s.linkID).receiveFormat == 1 ? Hex.encode(data) : data
                modem.urcBytes(Array("\r\n+MIPURC: \"\(kind)\",\(s.linkID),\(data.count),".utf8) + payload + [0x0D, 0x0A])
            }
        }
    }

    private func mipmode(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test {
            modem.respond("+MIPMODE: \(ids(modem)),(0-3),(512-1460),(100-2000)")
            return .ok
        }
        let a = c.arguments
        guard c.form == .set, (1...4).contains(a.count), let id = validID(a[0], modem) else { return error(550, modem) }
        guard let s = modem.sockets[id], s.state == .connected else { return error(553, modem) }
        if a.count == 1 {
            modem.respond("+MIPMODE: \(id),\(s.accessMode)")
            return .ok
        }
        guard a.count == 2, let m = a[1].integer, (0...3).contains(m), m != 1 || !nbIoT,
              (m != 2 || !s.isDatagram) && (m != 3 || s.isDatagram) else { return error(550, modem) }
        if m == 1 {
            // OK, then CONNECT and data mode (§13.3).
            s.accessMode = 1
            modem.enterTransparentWhenIdle(s, Self.transparent, now: modem.currentTime)
            return .ok
        }
        let old = s.accessMode
        s.accessMode = m
        if m == 0 && old != 0 {
            // Leaving a buffer mode prints what is buffered as +MIPRD lines (§5.7).
            while !s.receive.isEmpty {
                let data = s.isDatagram ? (s.receive.readDatagram(max: Int.max)?.bytes ?? []) : s.receive.readStream(max: 4096)
                s.totalRead += data.count
                emitRead(id, remaining: s.isDatagram ? s.receive.chunkCount : s.receive.count, data, modem)
            }
        }
        return .ok
    }

    private func stateLine(_ id: Int, _ modem: SimModem) -> String {
        guard let s = modem.sockets[id] else { return "+MIPSTATE: \(id),,,\"INITIAL\"" }
        let state: String
        switch s.state {
        case .opening: state = "CONNECTING"
        case .connected, .listening: state = "CONNECTED"
        case .remoteClosed: state = "CLOSED"
        }
        return "+MIPSTATE: \(id),\"\(s.isDatagram ? "UDP" : "TCP")\",\"\(typedAddress[id] ?? s.remote?.host ?? "")\",\(s.remote?.port ?? 0),\"\(state)\""
    }

    private func mipstate(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        switch c.form {
        case .read:
            for id in modem.profile.socketIDs { modem.respond(stateLine(id, modem)) }
            return .ok
        case .set:
            guard c.arguments.count == 1, let id = validID(c.arguments[0], modem) else { return error(550, modem) }
            modem.respond(stateLine(id, modem))
            return .ok
        case .test:
            modem.respond("+MIPSTATE: \(ids(modem))")
            return .ok
        case .execute:
            return error(550, modem)
        }
    }

    private func mipsack(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        // Not on MN316 (§5.9).
        guard !nbIoT else { return .unknown }
        if c.form == .test { modem.respond("+MIPSACK: \(ids(modem))"); return .ok }
        guard c.form == .set, c.arguments.count == 1, let id = validID(c.arguments[0], modem) else { return error(550, modem) }
        guard let s = modem.sockets[id], s.state == .connected else { return error(553, modem) }
        let acked = s.isDatagram ? 0 : s.totalAcked
        modem.respond("+MIPSACK: \(s.totalSent),\(acked),\(s.totalSent - acked),\(s.totalReceived)")
        return .ok
    }

    func peerClosed(_ s: SimSocket, modem: SimModem, now: Instant) {
        // In data mode the manual names no marker: the line returns to commands and the
        // usual "disconn" URC follows (inferred).
        if modem.transparentLinkID == s.linkID { modem.leaveTransparent(nil, now: now) }
        disconnect(s, reason: 1, modem)
    }

    /// `AT+MIPCFG="ackmode",<id>,1`: `+MIPURC: "ack",<id>,<length>` as data is acknowledged
    /// (§5.14; length 1-1460 per report). The emulator counts the kernel taking the data as
    /// its acknowledgement. Not on NB models here (MN316 has no "ackmode", §5.1).
    func sendProgress(_ s: SimSocket, modem: SimModem, now: Instant) {
        guard !nbIoT, !s.isDatagram, cfg(s.linkID).ackMode == 1 else { return }
        var reported = ackReported[s.linkID] ?? 0
        while s.totalAcked > reported {
            let n = min(1460, s.totalAcked - reported)
            modem.urc("+MIPURC: \"ack\",\(s.linkID),\(n)")
            reported += n
        }
        ackReported[s.linkID] = reported
    }

    /// `+MIPURC: "disconn"`: with autofree 0 the socket is freed at once (§5.14).
    private func disconnect(_ s: SimSocket, reason: Int, _ modem: SimModem) {
        modem.urc("+MIPURC: \"disconn\",\(s.linkID),\(reason)")
        if cfg(s.linkID).autofree == 0 { modem.release(s) }
    }

    func networkLost(modem: SimModem, now: Instant) {
        if modem.transparentLinkID != nil { modem.leaveTransparent(nil, now: now) }
        modem.activeContexts.removeAll()
        for id in modem.sockets.keys.sorted() {
            guard let s = modem.sockets[id], s.state != .remoteClosed else { continue }
            s.state = .remoteClosed
            disconnect(s, reason: 3, modem)
        }
    }

    func accepted(listener: SimSocket, client: SocketHandle, from: RemoteEndpoint, localPort: Int, modem: SimModem, now: Instant) -> SimSocket? { nil }

    // MARK: DNS and ping (§5.10-§5.12)

    private func mdnscfg(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        // Cat-1 modules support only "priority" (§5.10 notes).
        let names = nbIoT ? ["ip", "ipv6", "priority", "timeout"] : ["priority"]
        if c.form == .test {
            if nbIoT { modem.respond("+MDNSCFG: \"ip\",,"); modem.respond("+MDNSCFG: \"ipv6\",,") }
            modem.respond("+MDNSCFG: \"priority\",(0,1)")
            if nbIoT { modem.respond("+MDNSCFG: \"timeout\",(1-60),(1-9)") }
            return .ok
        }
        guard c.form == .set, let name = c.arguments.first?.quotedText, names.contains(name) else { return error(550, modem) }
        let v = Array(c.arguments.dropFirst())
        switch name {
        case "ip", "ipv6":
            if v.isEmpty {
                let s = name == "ip" ? dnsServers : dns6Servers
                modem.respond("+MDNSCFG: \"\(name)\",\(s.map { "\"\($0)\"" }.joined(separator: ","))")
                return .ok
            }
            let servers = v.compactMap(\.quotedText)
            guard servers.count == v.count, servers.count <= 2 else { return error(550, modem) }
            if name == "ip" { dnsServers = servers } else { dns6Servers = servers }
        case "priority":
            if v.isEmpty { modem.respond("+MDNSCFG: \"priority\",\(dnsPriority)"); return .ok }
            guard v.count == 1, let p = v[0].integer, (0...1).contains(p) else { return error(550, modem) }
            dnsPriority = p
        default:
            if v.isEmpty { modem.respond("+MDNSCFG: \"timeout\",\(dnsTimeout[0]),\(dnsTimeout[1])"); return .ok }
            guard v.count == 2, let t = v[0].integer, (1...60).contains(t), let r = v[1].integer, (1...9).contains(r) else { return error(550, modem) }
            dnsTimeout = [t, r]
        }
        return .ok
    }

    private func mdnsgip(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test { modem.respond("+MDNSGIP: ,\(ids(modem))"); return .ok }
        let a = c.arguments
        guard c.form == .set, (1...2).contains(a.count), let name = a[0].quotedText, !name.isEmpty, name.utf8.count <= 255 else {
            return error(550, modem)
        }
        if a.count == 2 { guard !nbIoT, let cid = a[1].integer, modem.activeContexts[cid] != nil else { return error(550, modem) } }
        guard !modem.activeContexts.isEmpty else { return error(570, modem) }
        let q = modem.newQuery()
        dnsQueries[q] = name
        modem.perform(.resolve(query: q, name: name))
        return .ok
    }

    private func mping(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test { modem.respond("+MPING: ,(1-60),(1-65535),(1-1400)"); return .ok }
        let a = c.arguments
        guard c.form == .set, (1...5).contains(a.count), let host = a[0].quotedText, !host.isEmpty, host.utf8.count <= 255 else {
            return error(550, modem)
        }
        var timeout = 10, count = 4, size = 16
        if a.count > 1 && !a[1].isOmitted { guard let t = a[1].integer, (1...60).contains(t) else { return error(550, modem) }; timeout = t }
        if a.count > 2 && !a[2].isOmitted { guard let n = a[2].integer, (1...65535).contains(n) else { return error(550, modem) }; count = n }
        if a.count > 3 && !a[3].isOmitted { guard let z = a[3].integer, (1...1400).contains(z) else { return error(550, modem) }; size = z }
        if a.count > 4 { guard !nbIoT, let cid = a[4].integer, modem.activeContexts[cid] != nil else { return error(550, modem) } }
        guard !modem.activeContexts.isEmpty else { return error(570, modem) }
        let q = modem.newQuery()
        pings[q] = (count, 0, [])
        modem.perform(.ping(query: q, host: host, count: min(count, 1000), timeoutSeconds: timeout, size: size))
        return .ok
    }

    /// §5.15: `AT+MNTP[=<server>[,<port>][,<sync>][,<timeout>]]`, positional with empty
    /// fields allowed; `OK`, then `+MNTP: <result>[,"<time>"]` (2 = timeout).
    private func mntp(_ c: ATCommand, _ modem: SimModem) -> CommandReply {
        if c.form == .test { modem.respond("+MNTP: ,(0-65535),(0,1),(1-300)"); return .ok }
        guard c.form == .set || c.form == .execute else { return error(550, modem) }
        let a = c.arguments
        guard a.count <= 4 else { return error(550, modem) }
        var server = "ntp1.aliyun.com", port = 123, sync = 1, timeout = nbIoT ? 20 : 30
        if a.count > 0 && !a[0].isOmitted { guard let s = a[0].quotedText, !s.isEmpty, s.utf8.count <= 255 else { return error(550, modem) }; server = s }
        if a.count > 1 && !a[1].isOmitted { guard let p = a[1].integer, (0...65535).contains(p) else { return error(550, modem) }; port = p }
        if a.count > 2 && !a[2].isOmitted { guard let v = a[2].integer, (0...1).contains(v) else { return error(550, modem) }; sync = v }
        if a.count > 3 && !a[3].isOmitted { guard let t = a[3].integer, (1...300).contains(t) else { return error(550, modem) }; timeout = t }
        guard ntpQuery == nil else { return error(550, modem) }
        guard !modem.activeContexts.isEmpty else { return error(570, modem) }
        let q = modem.newQuery()
        ntpQuery = (q, sync == 1)
        modem.perform(.timeSync(query: q, server: server, port: port, timeoutSeconds: timeout))
        return .ok
    }

    func queryEvent(_ event: SocketEvent, modem: SimModem, now: Instant) {
        switch event {
        case .timeSynced(let q, let unix):
            guard let pending = ntpQuery, pending.query == q else { return }
            ntpQuery = nil
            guard let unix else { modem.urc("+MNTP: 2"); return }
            if pending.sync { modem.clock.set(unixSeconds: unix, at: now) }
            modem.urc("+MNTP: 0,\"\(modem.clock.text(of: unix))\"")
        case .resolved(let q, let addresses):
            guard let name = dnsQueries.removeValue(forKey: q) else { return }
            let v6 = addresses.filter { $0.contains(":") }, v4 = addresses.filter { !$0.contains(":") }
            // NB answers with the preferred family only; Cat-1 with both (§5.11). At most 4.
            var chosen = nbIoT ? (dnsPriority == 1 && !v6.isEmpty ? v6 : (v4.isEmpty ? v6 : v4)) : v4 + v6
            chosen = Array(chosen.prefix(4))
            if chosen.isEmpty {
                // The failure URC carries only the name, unquoted as printed (§5.11, §15 #12).
                modem.urc("+MDNSGIP: \(name)")
            } else {
                modem.urc("+MDNSGIP: \"\(name)\",\(chosen.map { "\"\($0)\"" }.joined(separator: ","))")
            }
        case .pingReply(let q, let address, let bytes, let ms, let ttl):
            guard var run = pings[q] else { return }
            run.remaining -= 1; run.sent += 1; run.times.append(ms)
            modem.urc("+MPING: 0,\"\(address)\",\(bytes),\(ms),\(ttl)")
            pings[q] = run
            if run.remaining <= 0 {
                pings[q] = nil
                if run.sent > 1 {
                    let avg = run.times.reduce(0, +) / max(1, run.times.count)
                    modem.urc("+MPING: \"statistics\",\(run.sent),\(run.sent - run.times.count),\(run.times.min() ?? 0),\(run.times.max() ?? 0),\(avg)")
                }
            }
        case .pingTimeout(let q, let address):
            guard pings.removeValue(forKey: q) != nil else { return }
            // 1: DNS resolution failed; a timeout ends the run as "+MPING: 3" (§4.5 example).
            modem.urc("+MPING: \(address == nil ? 1 : 3)")
        default:
            return
        }
    }
}
