import Buffers
import Foundation
import Glibc
import Testing
@testable import Flows
import Wire

/// The flow table with real traffic: many Linux sockets at once, IPv4 and IPv6, each
/// echoed through its own flow; afterwards the table and the budget are empty.
@Suite(.enabled(if: TCPKernelLab.available, "needs root, /dev/net/tun and ip(8)"), .serialized)
struct TCPKernelFlowTableTests {
    struct Outcome: Sendable {
        var intact = 0
        var errors: [Int32] = []
        var opened = 0
        var finished = 0
        var leftInTable = -1
        var budgetLeft = -1
        var largestSegment = 0
        var resetsForUnknownFlows = 0
        var noRoute = 0
    }

    /// One app connection: its socket and how far it got.
    struct App {
        var fd: Int32
        var sent = 0
        var shutDown = false
        var received: [UInt8] = []
        var done = false
    }

    /// `connections` echo connections to port 443, and `unreachable` more to port 9, which
    /// the "modem" has no route for.
    static func run(connections: Int, unreachable: Int = 0, bytes: Int, ipv6: Bool) throws -> Outcome {
        try TCPKernelLab.run { tun in
            var outcome = Outcome()
            let budget = TCPBufferBudget(limit: 16 << 20)
            var config = TCPConfig()
            config.timeWait = .milliseconds(100)
            var table = FlowTable(maxFlows: 256, tcpConfig: config, budget: budget)
            let data = pattern(bytes, seed: 3)
            var apps: [App] = []
            for i in 0 ..< connections + unreachable {
                let port: UInt16 = i < connections ? 443 : 9
                let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
                guard fd >= 0 else { throw TCPKernelLab.LabError("socket") }
                let started: Int32
                if ipv6 {
                    var address = sockaddr_in6()
                    address.sin6_family = sa_family_t(AF_INET6)
                    address.sin6_port = in_port_t(port).bigEndian
                    inet_pton(AF_INET6, "fd09::2", &address.sin6_addr)
                    started = withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                        }
                    }
                } else {
                    var address = sockaddr_in()
                    address.sin_family = sa_family_t(AF_INET)
                    address.sin_port = in_port_t(port).bigEndian
                    address.sin_addr.s_addr = UInt32(0x0A09_0002).bigEndian
                    started = withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
                guard started == 0 || errno == EINPROGRESS else { throw TCPKernelLab.LabError("connect") }
                apps.append(App(fd: fd))
            }
            defer { for app in apps { close(app.fd) } }

            var packet = [UInt8](repeating: 0, count: 65536)
            var nextSocket = 1
            let deadline = TCPKernelLab.monotonicNow() + .seconds(15)
            while TCPKernelLab.monotonicNow() < deadline {
                let now = TCPKernelLab.monotonicNow()
                // The TUN: every packet to the table.
                while true {
                    let n = packet.withUnsafeMutableBytes { read(tun, $0.baseAddress, $0.count) }
                    guard n > 0 else { break }
                    guard let segment = TCPKernelCodec.parse(Array(packet[0 ..< n])) else { continue }
                    let key = FlowKey(
                        proto: .tcp, appAddress: segment.source, appPort: segment.repr.sourcePort,
                        remoteAddress: segment.destination, remotePort: segment.repr.destinationPort)
                    let arrival = segment.payload.withUnsafeBytes { payload in
                        segment.packet.withUnsafeBytes { packet in
                            table.receiveTCP(segment.repr, payload: payload, key: key, now: now, packet: packet)
                        }
                    }
                    switch arrival {
                    case .opened where key.remotePort == 9:
                        // No route: the app hears it from ICMP.
                        _ = table.withTCP(key) { $0.modemUnreachable(now: now) }
                        if let icmp = table.unreachableReply(for: key) {
                            _ = icmp.withUnsafeBytes { write(tun, $0.baseAddress, $0.count) }
                        }
                    case .opened:
                        // The "modem" opens a socket at once.
                        table.setModemSocket(nextSocket, for: key)
                        nextSocket += 1
                        _ = table.withTCP(key) { $0.modemOpened(now: now) }
                    case .reset(let rst), .refused(let rst):
                        TCPKernelCodec.write(
                            rst, payload: TCPEndpoint.noPayload, to: tun, from: key.remoteAddress, toward: key.appAddress)
                    case .delivered, .dropped:
                        break
                    }
                }
                // The "modem" of every flow echoes; then every flow speaks.
                for key in Array(table.keys) {
                    _ = table.withTCP(key) { e in
                        let room = e.roomForModemData
                        let echo = e.withPendingForModem { a, b in Array((Array(a) + Array(b)).prefix(room)) }
                        if !echo.isEmpty {
                            let taken = echo.withUnsafeBytes { e.deliverFromModem($0, now: now) }
                            e.modemAccepted(taken, now: now)
                        }
                        if e.appFinished, e.pendingForModemCount == 0, !e.finQueued, e.state == .closeWait {
                            e.modemClosed(now: now)
                        }
                        while e.dispatch(now: now, emit: { repr, payload in
                            outcome.largestSegment = max(outcome.largestSegment, payload.count)
                            TCPKernelCodec.write(repr, payload: payload, to: tun, from: key.remoteAddress, toward: key.appAddress)
                        }) {}
                    }
                }
                _ = table.sweep(now: now)
                // The apps.
                for i in apps.indices where !apps[i].done {
                    let fd = apps[i].fd
                    while apps[i].sent < data.count {
                        let n = data[apps[i].sent...].withUnsafeBytes { send(fd, $0.baseAddress, min($0.count, 16384), Int32(MSG_NOSIGNAL)) }
                        if n < 0 && errno != EAGAIN && errno != ENOTCONN && errno != EINPROGRESS {
                            outcome.errors.append(errno)
                            apps[i].done = true
                        }
                        if n <= 0 { break }
                        apps[i].sent += n
                    }
                    if apps[i].sent == data.count && !apps[i].shutDown {
                        shutdown(fd, Int32(SHUT_WR))
                        apps[i].shutDown = true
                    }
                    var chunk = [UInt8](repeating: 0, count: 16384)
                    while !apps[i].done {
                        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                        if n > 0 {
                            apps[i].received += chunk[0 ..< n]
                        } else if n == 0 {
                            apps[i].done = true
                            if apps[i].received == data { outcome.intact += 1 }
                        } else {
                            if errno != EAGAIN && errno != ENOTCONN { outcome.errors.append(errno); apps[i].done = true }
                            break
                        }
                    }
                }
                if apps.allSatisfy(\.done) && table.isEmpty { break }
                var fds = [pollfd(fd: tun, events: Int16(POLLIN), revents: 0)]
                _ = poll(&fds, 1, 1)
            }
            outcome.opened = table.counters.opened
            outcome.finished = table.counters.closedByReason[.finished] ?? 0
            outcome.noRoute = table.counters.closedByReason[.noRoute] ?? 0
            outcome.leftInTable = table.count
            outcome.budgetLeft = budget.reserved
            outcome.resetsForUnknownFlows = table.counters.resetsForUnknownFlows
            return outcome
        }
    }

    @Test(arguments: [false, true])
    func manyConnectionsAtOnceDrainTheTable(ipv6: Bool) throws {
        let outcome = try Self.run(connections: 40, unreachable: 5, bytes: 100_000, ipv6: ipv6)
        #expect(outcome.errors == Array(repeating: EHOSTUNREACH, count: 5))
        #expect(outcome.intact == 40)
        #expect(outcome.opened == 45)
        #expect(outcome.finished == 40)
        #expect(outcome.noRoute == 5)
        #expect(outcome.leftInTable == 0)
        #expect(outcome.budgetLeft == 0)
        // The MSS fits the family: 1460 − 12 (timestamps), or 20 less for IPv6.
        #expect(outcome.largestSegment == (ipv6 ? 1428 : 1448))
    }
}
