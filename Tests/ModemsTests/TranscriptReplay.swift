import AT
import Foundation
import Buffers
@testable import Modems
import Testing

/// Replays a wire transcript (Tests/ModemsTests/Transcripts/*.txt) against a driver.
///
///     # comment
///     do: open 0 TCP 112.31.84.164 8305    a request to the driver (also: openservice ID
///                                          LOCALPORT, sendto ID HOST PORT "bytes")
///     H: AT+QIOPEN=1,0,...                 the driver must write this line + CR next
///     H(raw): test                         ... or exactly these bytes (escapes \r \n \xNN)
///     M: OK                                the modem sends CR LF + line + CR LF
///     M: >                                 the modem sends CR LF + "> "
///     M(raw): test                         the modem sends exactly these bytes
///     ev: opened 0                         the driver's next event (progress events skipped)
///     tick: 2.5                            the clock advances by seconds, then tick
///
/// At the end no write and no event may be left over.
struct Transcript: CustomStringConvertible, Sendable {
    let name: String
    let model: ModemModel?
    let lines: [String]

    var description: String { self.name }

    static func load(_ file: String) -> Transcript {
        let dir = String(#filePath.dropLast("TranscriptReplay.swift".count)) + "Transcripts/"
        let text = (try? String(contentsOfFile: dir + file, encoding: .utf8)) ?? "model: missing file \(file)\n"
        var model: ModemModel?
        var lines: [String] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let l = String(raw)
            if l.hasPrefix("model: ") { model = ModemModel(name: String(l.dropFirst(7))) }
            else if !l.hasPrefix("#") { lines.append(l) }
        }
        return Transcript(name: file, model: model, lines: lines)
    }
}

/// `\r`, `\n`, `\xNN`, `\\` in transcript text.
func unescape(_ s: Substring) -> [UInt8] {
    var out: [UInt8] = []
    var bytes = Array(s.utf8)[...]
    while let c = bytes.popFirst() {
        guard c == UInt8(ascii: "\\"), let n = bytes.popFirst() else { out.append(c); continue }
        switch n {
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "x"):
            let hex = String(decoding: bytes.prefix(2), as: UTF8.self)
            bytes = bytes.dropFirst(2)
            out.append(UInt8(hex, radix: 16) ?? 0)
        default: out.append(n)
        }
    }
    return out
}

func show(_ bytes: [UInt8]) -> String {
    var s = ""
    for b in bytes {
        switch b {
        case 0x0D: s += "\\r"
        case 0x0A: s += "\\n"
        case 0x20...0x7E where b != UInt8(ascii: "\\"): s.unicodeScalars.append(Unicode.Scalar(b))
        default: s += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
        }
    }
    return s
}

/// One line per event, as transcripts write them.
func describe(_ e: ModemEvent) -> String {
    switch e {
    case .identified(let i): return "identified \(i.model?.rawValue ?? "?") fw=\(i.firmware) imei=\(i.imei) imsi=\(i.imsi)"
    case .bringUpProgress(let s): return "progress \(s.rawValue)"
    case .dataConnectionUp(let c): return "up ip=\(c.localIP) apn=\(c.apn) reg=\(c.registration.name) dbm=\(c.signal?.dBm.map(String.init) ?? "-")"
    case .bringUpFailed(let f): return "bringUpFailed \(f.step.rawValue): \(f.reason)"
    case .opened(let s, nil): return "opened \(s.rawValue)"
    case .opened(let s, let e?): return "opened \(s.rawValue) \(e)"
    case .dataReady(let s): return "dataReady \(s.rawValue)"
    case .received(let s, let b): return "received \(s.rawValue) \"\(show(b))\""
    case .datagramReceived(let s, let host, let port, let b): return "datagram \(s.rawValue) \(host):\(port) \"\(show(b))\""
    case .sendAccepted(let s, let n): return "sendAccepted \(s.rawValue) \(n)"
    case .sendBusy(let s): return "sendBusy \(s.rawValue)"
    case .sendFailed(let s, let e): return "sendFailed \(s.rawValue) \(e)"
    case .closed(let s): return "closed \(s.rawValue)"
    case .closedByPeer(let s): return "closedByPeer \(s.rawValue)"
    case .broken(let s, let e): return "broken \(s.rawValue) \(e)"
    case .dnsResult(let h, let a, nil): return "dns \(h) \(a.joined(separator: ","))"
    case .dnsResult(let h, _, let e?): return "dns \(h) \(e)"
    case .pingResult(let p): return "ping \(p.host) error=\(p.error) sent=\(p.sent) received=\(p.received) rtt=\(p.rttMilliseconds.map(String.init).joined(separator: ","))"
    case .registration(let r): return "registration \(r.name)"
    case .signal(let s): return "signal \(s.rssi)"
    case .socketStates(let m):
        return "sockets " + m.keys.sorted().map { "\($0.rawValue)=\(m[$0].map { "\($0)" } ?? "")" }.joined(separator: ",")
    case .networkLost: return "networkLost"
    case .modemRebooted: return "modemRebooted"
    case .commandTimedOut(let c): return "commandTimedOut \(c)"
    case .commandCompleted(let c, _, let o): return "commandCompleted \(c) \(o)"
    case .urcReceived(let k): return "urc \(k)"
    }
}

/// Runs a transcript; failures are recorded as issues naming the transcript line.
func replay(_ t: Transcript, chunk: Int = .max) {
    let driver = ATModemDriver(model: t.model)
    var now = Instant.zero
    func nextWrite() -> [UInt8]? {
        guard let w = driver.nextWrite() else { return nil }
        return w.parts.flatMap { Array($0) }
    }
    func nextEvent() -> ModemEvent? {
        while let e = driver.nextEvent() {
            // Progress and statistics events are not part of the manuals' dialogues.
            switch e {
            case .bringUpProgress, .commandCompleted, .urcReceived: continue
            default: return e
            }
        }
        return nil
    }
    func feed(_ bytes: [UInt8]) {
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + max(1, chunk == .max ? bytes.count : chunk))
            driver.received(bytes[i..<end], now: now)
            i = end
        }
    }
    for (n, line) in t.lines.enumerated() {
        let at = "\(t.name) line \(n + 1): \(line)"
        guard let colon = line.firstIndex(of: ":") else { Issue.record("bad line \(at)"); return }
        let key = line[..<colon]
        let value = line[line.index(after: colon)...].drop(while: { $0 == " " })
        switch key {
        case "do":
            do { try request(driver, value, now: now) } catch { Issue.record("request failed \(error) at \(at)"); return }
        case "H":
            let w = nextWrite()
            #expect(w.map(show) == show(unescape(value) + [0x0D]), "\(at)")
            if w.map(show) != show(unescape(value) + [0x0D]) { return }
        case "H(raw)":
            let w = nextWrite()
            #expect(w.map(show) == show(unescape(value)), "\(at)")
        case "M":
            if value == ">" { feed(Array("\r\n> ".utf8)) } else { feed(Array("\r\n".utf8) + unescape(value) + Array("\r\n".utf8)) }
        case "M(raw)":
            feed(unescape(value))
        case "ev":
            let e = nextEvent().map(describe)
            #expect(e == String(value), "\(at)")
            if e != String(value) { return }
        case "tick":
            now = now + .milliseconds(Int64((Double(value) ?? 0) * 1000))
            driver.tick(now: now)
        case "model":
            break
        default:
            Issue.record("unknown key \(at)")
            return
        }
    }
    if let w = nextWrite() { Issue.record("\(t.name): unexpected write at end: \(show(w))") }
    if let e = nextEvent() { Issue.record("\(t.name): unexpected event at end: \(describe(e))") }
}

private func request(_ d: ATModemDriver, _ text: Substring, now: Instant) throws {
    let words = text.split(separator: " ", maxSplits: 5).map(String.init)
    func id(_ i: Int) -> ModemSocketID { ModemSocketID(Int(words[i]) ?? -1) }
    switch words.first {
    case "bringup":
        // `bringup [APN] [reg=SECONDS] [sync=SECONDS]`
        var limits = BringUpLimits()
        var apn: String?
        for w in words.dropFirst() {
            if w.hasPrefix("reg=") { limits.registration = .seconds(Int(w.dropFirst(4)) ?? 90) }
            else if w.hasPrefix("sync=") { limits.sync = .seconds(Int(w.dropFirst(5)) ?? 5) }
            else { apn = w }
        }
        try d.bringUp(apn: apn, limits: limits, now: now)
    case "identify": try d.identify(now: now)
    case "open": try d.open(id(1), words[2] == "UDP" ? .udp : .tcp, host: words[3], port: UInt16(words[4]) ?? 0, now: now)
    case "send":
        let payload = unescape(text.drop(while: { $0 != "\"" }).dropFirst().dropLast())
        try d.send(id(1), payload[...], now: now)
    case "openservice": try d.openDatagramService(id(1), localPort: UInt16(words[2]) ?? 0, now: now)
    case "sendto":
        // `sendto ID HOST PORT "payload"`
        let payload = unescape(text.drop(while: { $0 != "\"" }).dropFirst().dropLast())
        try d.sendDatagram(id(1), to: words[2], port: UInt16(words[3]) ?? 0, payload[...], now: now)
    case "read": try d.read(id(1), max: Int(words[2]) ?? 0, now: now)
    case "close": try d.close(id(1), now: now)
    case "resolve": try d.resolve(words[1], now: now)
    case "ping": try d.ping(words[1], count: Int(words[2]) ?? 4, now: now)
    case "reconcile": try d.reconcile(now: now)
    case "signal": try d.querySignal(now: now)
    default: throw ModemError.unsupported
    }
}
