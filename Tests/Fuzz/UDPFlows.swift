// fuzz-modules: Flows Wire Buffers
// fuzz-options: -max_len=4096
//
// Input: a script of steps, each a control byte then (for packets) a 16-bit length and
// the packet. The packets go to UDP sessions, DNS interception and ICMP echo as the bridge
// would route them; the control byte's high bits also play the modem (open, fail, answer,
// time passing). Bounds are checked after every step, and after the last all state must
// drain away with time.
import Buffers
import Flows
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUDPFlows(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    var sessions = UDPSessions(config: .init(idleTimeout: .seconds(10), maximumSessions: 4,
                                             maximumPayloadLength: 600, maximumQueuedDatagrams: 2))
    var dns = DNSInterceptor(config: .init(cacheCapacity: 4, maximumPendingNames: 2,
                                           maximumWaitingQueries: 4, resolveTimeout: .seconds(3)))
    var echo = ICMPEcho(config: .init(maximumWaiting: 4, maximumPings: 2, timeout: .seconds(3)))
    var opening: [UDPSessionID] = []
    var resolving: [String] = []
    var pinging: [IPAddress] = []
    var now = Instant.zero
    var offset = 0
    while offset < size {
        let control = input[offset]
        offset += 1
        now = now + .milliseconds(Int64(control & 0x0F) * 300)
        switch control >> 4 {
        case 0...7:
            guard offset + 2 <= size else { break }
            let length = Int(input[offset]) << 8 | Int(input[offset + 1])
            let end = min(size, offset + 2 + length)
            let bytes = UnsafeRawBufferPointer(rebasing: input[(offset + 2)..<end])
            offset = end
            guard let packet = try? IPPacket(validating: bytes), !packet.isFragment else { break }
            if packet.protocol == .udp {
                let port = packet.payload.count >= 4 ? Int(packet.payload[2]) << 8 | Int(packet.payload[3]) : 0
                if port == 53 {
                    for case .resolve(let host) in dns.receive(packet, now: now) { resolving.append(host) }
                } else {
                    for action in sessions.receive(packet, now: now) {
                        switch action {
                        case .open(let id, _): opening.append(id)
                        case .send(_, _, .inPacket(let range)):
                            precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count)
                        default: break
                        }
                    }
                }
            } else {
                for case .ping(let address, _) in echo.receive(packet, now: now) { pinging.append(address) }
            }
        case 8, 9:
            if !opening.isEmpty {
                let id = opening.removeFirst()
                _ = control >> 4 == 8 ? sessions.opened(id, now: now) : sessions.openFailed(id)
                var header = [UInt8](repeating: 0, count: 48)
                let payload: [UInt8] = [1, 2, 3]
                let sender = UDPEndpoint(address: .v4(IPv4Address(192, 0, 2, 1)), port: 9)
                _ = header.withUnsafeMutableBytes { h in
                    payload.withUnsafeBytes { sessions.deliver(id, from: sender, payload: $0, header: h, now: now) }
                }
            }
        case 10, 11, 12:
            if !resolving.isEmpty {
                let host = resolving.removeFirst()
                let result: DNSResolution = switch control >> 4 {
                case 10: .addresses([.v4(IPv4Address(192, 0, 2, 2)), .v6(IPv6Address(high: 1, low: 2))])
                case 11: .nameNotFound
                default: .failure
                }
                for case .reply(let b) in dns.resolved(hostname: host, result, now: now) { precondition(b.count >= 40) }
            }
        case 13, 14:
            if !pinging.isEmpty {
                let address = pinging.removeFirst()
                let result: PingResult = control >> 4 == 13 ? .reply(rtt: .milliseconds(40), ttl: 50) : .failure
                _ = echo.pinged(address, result, now: now)
            }
        default:
            _ = sessions.expire(now: now)
            _ = dns.expire(now: now)
            echo.expire(now: now)
        }
        precondition(sessions.count <= 4 && sessions.queuedBytes <= 4 * 2 * 600)
        precondition(dns.pendingCount <= 2 && dns.cache.count <= 4)
        precondition(echo.pendingCount <= 2 && echo.waitingRequests <= 4)
    }
    now = now + .seconds(600)  // past every timeout and TTL (the answer TTL is 120 s)
    _ = sessions.expire(now: now)
    _ = dns.expire(now: now)
    echo.expire(now: now)
    precondition(sessions.count == 0 && dns.pendingCount == 0 && dns.cache.count == 0 && echo.pendingCount == 0)
    return 0
}
