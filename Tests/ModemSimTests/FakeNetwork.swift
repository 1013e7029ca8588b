import Buffers
@testable import ModemSim

/// A scripted stand-in for the real sockets: it answers the modem's actions at once
/// (connects succeed, the kernel takes every byte, names resolve from a small table) and
/// records what was sent, so transcript tests run without I/O.
final class FakeNetwork {
    var sent: [Int: [UInt8]] = [:]
    var sentTo: [Int: [RemoteEndpoint]] = [:]
    var open: [Int: SocketHandle] = [:]
    var refusedHosts: Set<String> = []
    var names: [String: [String]] = ["www.baidu.com": ["61.135.169.125"], "localhost": ["127.0.0.1"]]
    var lastPing: (query: Int, host: String)? = nil
    var lastResolve: Int? = nil
    /// Local ports handed out for port 0 requests.
    var nextEphemeral = 65514
    /// When false, `.send` is not acknowledged (the kernel buffer is full).
    var acceptSends = true
    var closed: [SocketHandle] = []
    /// NTP servers that answer, with their Unix time at `Instant.zero` (the manuals' example times).
    var ntpTimes: [String: Int64] = ["202.112.10.36": 1_567_963_962, "ntp5.aliyun.com": 1_560_222_500,
                                     "cn.ntp.org.cn": 1_550_705_360]

    /// Carries out every pending action and feeds the answers back.
    func serve(_ modem: SimModem, now: Instant) {
        var rounds = 0
        while rounds < 100 {
            let actions = modem.takeActions()
            if actions.isEmpty { return }
            rounds += 1
            for action in actions { answer(action, modem, now) }
        }
    }

    private func answer(_ action: SocketAction, _ modem: SimModem, _ now: Instant) {
        switch action {
        case .connectTCP(let h, let to, let localPort):
            open[h.linkID] = h
            if refusedHosts.contains(to.host) { modem.handle(.failed(h), now: now); return }
            modem.handle(.connected(h, localPort: localPort == 0 ? ephemeral() : localPort), now: now)
        case .openUDP(let h, _, let localPort), .listenTCP(let h, let localPort):
            open[h.linkID] = h
            modem.handle(.connected(h, localPort: localPort == 0 ? ephemeral() : localPort), now: now)
        case .send(let h, let bytes, let to):
            sent[h.linkID, default: []] += bytes
            if let to { sentTo[h.linkID, default: []].append(to) }
            if acceptSends { modem.handle(.sent(h, count: bytes.count), now: now) }
        case .close(let h):
            closed.append(h)
            if open[h.linkID] == h { open[h.linkID] = nil }
        case .resolve(let q, let name):
            lastResolve = q
            modem.handle(.resolved(query: q, addresses: names[name] ?? []), now: now)
        case .ping(let q, let host, _, _, _):
            lastPing = (q, host)
        case .timeSync(let q, let server, _, _):
            // The server's clock runs with the test's: its time at Instant.zero, plus elapsed.
            modem.handle(.timeSynced(query: q, unixSeconds: ntpTimes[server].map { $0 + now.nanoseconds / 1_000_000_000 }), now: now)
        }
    }

    private func ephemeral() -> Int {
        defer { nextEphemeral += 1 }
        return nextEphemeral
    }
}
