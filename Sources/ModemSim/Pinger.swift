import Buffers
import Glibc

/// Real ICMP echo for the modems' ping commands: an unprivileged ICMP datagram socket
/// (Linux `net.ipv4.ping_group_range`) or, failing that, a raw socket (root). IPv4 only:
/// BC says its ping has no IPv6 (quectel.md §6.3), and the other manuals show IPv4.
final class Pinger {
    private struct Run {
        var query: Int
        var address: SocketAddress
        var text: String
        var remaining: Int
        var timeout: Duration
        var size: Int
        var sequence: UInt16 = 0
        var sentAt: Instant = .zero
        var deadline: Instant = .zero
    }

    private let resolver: Resolver
    private var fd: Int32 = -1
    private var raw = false
    private var runs: [Run] = []
    private var nextSequence: UInt16 = 1

    init(resolver: Resolver) { self.resolver = resolver }

    func start(query: Int, host: String, count: Int, timeoutSeconds: Int, size: Int, modem: SimModem, now: Instant) {
        guard let text = resolver.resolve(host).first(where: { SocketAddress(host: $0, port: 0)?.family == AF_INET }),
              let address = SocketAddress(host: text, port: 0) else {
            modem.handle(.pingTimeout(query: query, address: nil), now: now)
            return
        }
        guard openSocket() else {
            // No ICMP allowed here: every request times out, which is what the modem would see.
            for _ in 0..<count { modem.handle(.pingTimeout(query: query, address: text), now: now) }
            return
        }
        var run = Run(query: query, address: address, text: text, remaining: count,
                      timeout: .seconds(max(1, timeoutSeconds)), size: max(8, min(size, 1400)))
        sendRequest(&run, now: now)
        runs.append(run)
    }

    private func openSocket() -> Bool {
        if fd >= 0 { return true }
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), Int32(IPPROTO_ICMP))
        if fd < 0 {
            fd = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_NONBLOCK.rawValue), Int32(IPPROTO_ICMP))
            raw = fd >= 0
        }
        return fd >= 0
    }

    private func sendRequest(_ run: inout Run, now: Instant) {
        nextSequence &+= 1
        run.sequence = nextSequence
        var packet = [UInt8](repeating: 0, count: 8 + run.size)
        packet[0] = 8  // echo request
        packet[6] = UInt8(run.sequence >> 8)
        packet[7] = UInt8(run.sequence & 0xFF)
        packet[4] = 0x54
        packet[5] = 0x32
        for i in 8..<packet.count { packet[i] = UInt8(truncatingIfNeeded: i) }
        let sum = Self.checksum(packet)
        packet[2] = UInt8(sum >> 8)
        packet[3] = UInt8(sum & 0xFF)
        _ = packet.withUnsafeBytes { b in run.address.withSockAddr { sendto(fd, b.baseAddress, b.count, 0, $0, $1) } }
        run.sentAt = now
        run.deadline = now + run.timeout
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count { sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1]); i += 2 }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    var descriptor: Int32? { runs.isEmpty || fd < 0 ? nil : fd }

    var nextDeadline: Instant? { runs.map(\.deadline).min() }

    /// Reads replies and fires timeouts.
    func service(modem: SimModem, now: Instant) {
        if fd >= 0 && !runs.isEmpty {
            var buffer = [UInt8](repeating: 0, count: 2048)
            for _ in 0..<32 {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { break }
                var packet = Array(buffer[0..<n])
                var ttl = 64
                if raw {
                    // A raw socket hands over the IPv4 header: its TTL is the reply's.
                    guard packet.count >= 20 else { continue }
                    let headerLength = Int(packet[0] & 0x0F) * 4
                    ttl = Int(packet[8])
                    guard packet.count >= headerLength + 8 else { continue }
                    packet = Array(packet[headerLength...])
                }
                guard packet.count >= 8, packet[0] == 0 else { continue }
                let sequence = UInt16(packet[6]) << 8 | UInt16(packet[7])
                guard let index = runs.firstIndex(where: { $0.sequence == sequence }) else { continue }
                var run = runs[index]
                let ms = Int((now - run.sentAt).nanoseconds / 1_000_000)
                modem.handle(.pingReply(query: run.query, address: run.text, bytes: run.size, milliseconds: max(1, ms), ttl: ttl), now: now)
                advance(&run, index: index, now: now)
            }
        }
        var index = 0
        while index < runs.count {
            if runs[index].deadline <= now {
                var run = runs[index]
                modem.handle(.pingTimeout(query: run.query, address: run.text), now: now)
                if advance(&run, index: index, now: now) { continue }
            }
            index += 1
        }
    }

    /// Next request of the run, or its end. True when the run was removed.
    @discardableResult
    private func advance(_ run: inout Run, index: Int, now: Instant) -> Bool {
        run.remaining -= 1
        if run.remaining <= 0 {
            runs.remove(at: index)
            return true
        }
        sendRequest(&run, now: now)
        runs[index] = run
        return false
    }

    func closeAll() {
        if fd >= 0 { close(fd) }
        fd = -1
        runs.removeAll()
    }
}
