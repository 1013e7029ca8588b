import Buffers
import Glibc

/// Real SNTP queries (RFC 4330) for the modems' NTP commands: one UDP request per query,
/// answered by the transmit timestamp of the reply, or nil after the timeout.
final class NTPClient {
    private struct Query {
        var id: Int
        var fd: Int32
        var deadline: Instant
    }

    private let resolver: Resolver
    private var queries: [Query] = []
    /// Seconds from 1900 (NTP era 0) to 1970.
    static let unixOffset: Int64 = 2_208_988_800

    init(resolver: Resolver) { self.resolver = resolver }

    func start(query: Int, server: String, port: Int, timeoutSeconds: Int, modem: SimModem, now: Instant) {
        guard let address = resolver.resolve(server).first.flatMap({ SocketAddress(host: $0, port: port) }) else {
            modem.handle(.timeSynced(query: query, unixSeconds: nil), now: now)
            return
        }
        let fd = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            modem.handle(.timeSynced(query: query, unixSeconds: nil), now: now)
            return
        }
        // LI 0, version 4, mode 3 (client).
        var request = [UInt8](repeating: 0, count: 48)
        request[0] = 0x23
        let sent = request.withUnsafeBytes { b in address.withSockAddr { sendto(fd, b.baseAddress, b.count, 0, $0, $1) } }
        guard sent == 48 else {
            close(fd)
            modem.handle(.timeSynced(query: query, unixSeconds: nil), now: now)
            return
        }
        queries.append(Query(id: query, fd: fd, deadline: now + .seconds(max(1, timeoutSeconds))))
    }

    var descriptors: [Int32] { queries.map(\.fd) }
    var nextDeadline: Instant? { queries.map(\.deadline).min() }

    /// Reads answers and expires queries.
    func service(modem: SimModem, now: Instant) {
        var remaining: [Query] = []
        for q in queries {
            var reply = [UInt8](repeating: 0, count: 128)
            let n = reply.withUnsafeMutableBytes { recv(q.fd, $0.baseAddress, $0.count, 0) }
            // A server reply (mode 4) carries the transmit time in bytes 40-43.
            if n >= 48, reply[0] & 0x07 == 4 {
                let seconds = Int64(reply[40]) << 24 | Int64(reply[41]) << 16 | Int64(reply[42]) << 8 | Int64(reply[43])
                close(q.fd)
                modem.handle(.timeSynced(query: q.id, unixSeconds: seconds - Self.unixOffset), now: now)
            } else if q.deadline <= now {
                close(q.fd)
                modem.handle(.timeSynced(query: q.id, unixSeconds: nil), now: now)
            } else {
                remaining.append(q)
            }
        }
        queries = remaining
    }

    func closeAll() {
        for q in queries { close(q.fd) }
        queries = []
    }
}
