import Foundation
import Glibc
import Testing
import Buffers
import Sys

/// TUN and rtnetlink against a real kernel, each test in a network namespace it creates
/// (see `inFreshNetworkNamespace`). Needs root and /dev/net/tun: without them these tests
/// are disabled and `networkLabAvailable` prints why.
@Suite(.enabled(if: networkLabAvailable, "needs root and /dev/net/tun (prints the reason when skipped)"))
struct TunNetlinkTests {
    @Test func tunGetsTheAskedNameOrAKernelChosenOne() throws {
        let (named, patterned, index, cloexec, nonblocking, emptyRead) = try inFreshNetworkNamespace {
            let tun = try TunDevice.open(name: "t2mtest0")
            let pattern = try TunDevice.open(name: "t2m%d")
            var netlink = try Netlink()
            var buffer = [UInt8](repeating: 0, count: 2048)
            let read = try buffer.withUnsafeMutableBytes { try tun.descriptor.read(into: $0) }
            return (tun.name, pattern.name, try netlink.linkIndex(named: tun.name),
                    try tun.descriptor.isCloseOnExec(), try tun.descriptor.isNonblocking(), read)
        }
        #expect(named == "t2mtest0")
        #expect(patterned == "t2m0")
        #expect(index > 1)   // 1 is lo
        #expect(cloexec && nonblocking)
        #expect(emptyRead == .wouldBlock)
    }

    @Test func tunNameLongerThanIFNAMSIZIsRefused() {
        #expect(throws: SysError.nameTooLong("tun2modem-far-too-long", limit: 15)) {
            _ = try TunDevice.open(name: "tun2modem-far-too-long")
        }
    }

    @Test func persistentTunOutlivesItsDescriptorUntilPersistIsOff() throws {
        let (survived, reattached, goneError) = try inFreshNetworkNamespace { () throws -> (Bool, String, SysError?) in
            var netlink = try Netlink()
            do {
                let tun = try TunDevice.open(name: "t2mkeep")
                try tun.setPersistent(true)
            }
            let survived = (try? netlink.link(named: "t2mkeep")) != nil
            let again = try TunDevice.open(name: "t2mkeep")
            try again.setPersistent(false)
            let name = again.name
            _ = consume again
            var gone: SysError? = nil
            do { _ = try netlink.link(named: "t2mkeep") } catch let error as SysError { gone = error }
            return (survived, name, gone)
        }
        #expect(survived)
        #expect(reattached == "t2mkeep")
        #expect(goneError == .failed(call: "netlink get link", subject: "t2mkeep", errno: .noSuchDevice))
        #expect(goneError?.description == "netlink get link t2mkeep: No such device")
    }

    /// Configures MTU, state, IPv4 and IPv6 addresses and routes, and checks each change
    /// twice: through our own netlink dump, and through `ip -j` (an independent reader).
    @Test func configurationIsVisibleToNetlinkAndToIp() throws {
        struct Seen: Sendable {
            var linkAfter: LinkInfo
            var addresses: [IPPrefix]
            var routes4: [RouteEntry]
            var routes6: [RouteEntry]
            var ipLink: String
            var ipAddr: String
            var ipRoute4: String
            var ipRoute6: String
            var addressesAfterRemoval: [IPPrefix]
            var routes4AfterRemoval: [RouteEntry]
            var routes6AfterRemoval: [RouteEntry]
            var downAfter: LinkInfo
            var index: Int32
        }
        let seen = try inFreshNetworkNamespace { () throws -> Seen in
            let tun = try TunDevice.open(name: "t2mcfg")
            var netlink = try Netlink()
            let index = try netlink.linkIndex(named: tun.name)
            try netlink.setMTU(1400, link: index)
            try netlink.setLinkUp(true, link: index)
            try netlink.addAddress(try IPPrefix(parsing: "10.77.0.1/24"), link: index)
            try netlink.addAddress(try IPPrefix(parsing: "fd00:77::1/64"), link: index)
            try netlink.addRoute(try IPPrefix(parsing: "10.78.1.2/16"), link: index)   // host bits cleared
            try netlink.addRoute(.defaultIPv4, link: index)
            try netlink.addRoute(try IPPrefix(parsing: "fd00:78::/48"), link: index)
            try netlink.addRoute(.defaultIPv6, link: index)

            var seen = Seen(
                linkAfter: try netlink.link(index: index),
                addresses: try netlink.addresses(link: index),
                routes4: try netlink.routes(ipv6: false).filter { $0.linkIndex == index },
                routes6: try netlink.routes(ipv6: true).filter { $0.linkIndex == index },
                ipLink: try run(ipCommand, ["-j", "link", "show", "dev", "t2mcfg"]),
                ipAddr: try run(ipCommand, ["-j", "addr", "show", "dev", "t2mcfg"]),
                ipRoute4: try run(ipCommand, ["-j", "-4", "route", "show", "dev", "t2mcfg"]),
                ipRoute6: try run(ipCommand, ["-j", "-6", "route", "show", "dev", "t2mcfg"]),
                addressesAfterRemoval: [], routes4AfterRemoval: [], routes6AfterRemoval: [],
                downAfter: try netlink.link(index: index), index: index)

            try netlink.removeAddress(try IPPrefix(parsing: "fd00:77::1/64"), link: index)
            try netlink.removeRoute(try IPPrefix(parsing: "10.78.0.0/16"), link: index)
            try netlink.removeRoute(.defaultIPv6, link: index)
            seen.addressesAfterRemoval = try netlink.addresses(link: index)
            seen.routes4AfterRemoval = try netlink.routes(ipv6: false).filter { $0.linkIndex == index }
            seen.routes6AfterRemoval = try netlink.routes(ipv6: true).filter { $0.linkIndex == index }
            // Last: taking the link down also flushes its routes.
            try netlink.setLinkUp(false, link: index)
            seen.downAfter = try netlink.link(index: index)
            return seen
        }

        #expect(seen.linkAfter == LinkInfo(index: seen.index, name: "t2mcfg", mtu: 1400, isUp: true))
        #expect(Set(seen.addresses.map(\.description)).isSuperset(of: ["10.77.0.1/24", "fd00:77::1/64"]))
        let destinations4 = Set(seen.routes4.map(\.destination.description))
        #expect(destinations4.isSuperset(of: ["10.78.0.0/16", "0.0.0.0/0", "10.77.0.0/24"]))
        let destinations6 = Set(seen.routes6.map(\.destination.description))
        #expect(destinations6.isSuperset(of: ["fd00:78::/48", "::/0", "fd00:77::/64"]))

        // The same facts as iproute2 reads them.
        let link = try #require(try jsonArray(seen.ipLink).first)
        #expect(link["mtu"] as? Int == 1400)
        #expect((link["flags"] as? [String])?.contains("UP") == true)
        let addressInfo = try #require(try jsonArray(seen.ipAddr).first?["addr_info"] as? [[String: Any]])
        let ipAddresses = Set(addressInfo.compactMap { info -> String? in
            guard let local = info["local"] as? String, let length = info["prefixlen"] as? Int else { return nil }
            return "\(local)/\(length)"
        })
        #expect(ipAddresses.isSuperset(of: ["10.77.0.1/24", "fd00:77::1/64"]))
        let ipRoutes4 = Set(try jsonArray(seen.ipRoute4).compactMap { $0["dst"] as? String })
        #expect(ipRoutes4.isSuperset(of: ["10.78.0.0/16", "default"]))
        let ipRoutes6 = Set(try jsonArray(seen.ipRoute6).compactMap { $0["dst"] as? String })
        #expect(ipRoutes6.isSuperset(of: ["fd00:78::/48", "default"]))

        // Removals took effect; what was not removed stayed.
        // The kernel adds an fe80:: link-local address of its own when the link comes up.
        #expect(seen.addressesAfterRemoval.map(\.description).filter { !$0.hasPrefix("fe80:") } == ["10.77.0.1/24"])
        #expect(!seen.routes4AfterRemoval.contains { $0.destination.description == "10.78.0.0/16" })
        #expect(seen.routes4AfterRemoval.contains { $0.destination.length == 0 })
        #expect(!seen.routes6AfterRemoval.contains { $0.destination.length == 0 })
        #expect(seen.downAfter.isUp == false)
    }

    /// 400 routes and 100 addresses make the kernel's dumps span many datagrams.
    @Test func largeDumpsSpanningManyDatagramsAreReadWhole() throws {
        let (routes, addresses) = try inFreshNetworkNamespace { () throws -> (Int, Int) in
            let tun = try TunDevice.open(name: "t2mbig")
            var netlink = try Netlink()
            let index = try netlink.linkIndex(named: tun.name)
            try netlink.setLinkUp(true, link: index)
            for third in 0..<100 {
                try netlink.addAddress(try IPPrefix(parsing: "10.83.\(third).1/24"), link: index)
            }
            for n in 0..<400 {
                try netlink.addRoute(try IPPrefix(parsing: "172.\(16 + n / 256).\(n % 256).0/24"), link: index)
            }
            let routes = try netlink.routes(ipv6: false).filter { $0.linkIndex == index && $0.destination.address.bytes[0] == 172 }
            let addresses = try netlink.addresses(link: index).filter { !$0.address.isIPv6 }
            return (routes.count, addresses.count)
        }
        #expect(routes == 400)
        #expect(addresses == 100)
    }

    @Test func kernelRefusalsBecomeReadableErrors() throws {
        let (duplicate, missingRoute, missingLink, badMTU) = try inFreshNetworkNamespace {
            () throws -> (SysError?, SysError?, SysError?, SysError?) in
            let tun = try TunDevice.open(name: "t2merr")
            var netlink = try Netlink()
            let index = try netlink.linkIndex(named: tun.name)
            let address = try IPPrefix(parsing: "10.79.0.1/24")
            try netlink.addAddress(address, link: index)
            func failure(_ body: () throws(SysError) -> Void) -> SysError? {
                do { try body(); return nil } catch { return error }
            }
            return (
                failure { () throws(SysError) in try netlink.addAddress(address, link: index) },
                failure { () throws(SysError) in try netlink.removeRoute(try IPPrefix(parsing: "10.80.0.0/16"), link: index) },
                failure { () throws(SysError) in _ = try netlink.linkIndex(named: "nosuch0") },
                failure { () throws(SysError) in try netlink.setMTU(10, link: index) })
        }
        #expect(duplicate?.errno == .fileExists)
        #expect(duplicate?.description == "netlink add address 10.79.0.1/24 dev t2merr: File exists (ipv4: Address already assigned)")
        #expect(missingRoute?.errno == .noSuchProcess)   // ESRCH: "No such process" is the kernel's word for it
        #expect(missingLink == .failed(call: "netlink get link", subject: "nosuch0", errno: .noSuchDevice))
        #expect(badMTU?.errno == .invalidArgument)
    }

    /// A UDP datagram sent by a socket in the namespace arrives on the TUN descriptor as
    /// one IPv4 packet; a reply packet written to the TUN reaches the socket.
    @Test func packetsCrossTheTunBothWays() throws {
        let (outbound, inbound) = try inFreshNetworkNamespace { () throws -> ([UInt8], [UInt8]) in
            let tun = try TunDevice.open(name: "t2mpkt")
            var netlink = try Netlink()
            let index = try netlink.linkIndex(named: tun.name)
            try netlink.addAddress(try IPPrefix(parsing: "10.81.0.1/24"), link: index)
            try netlink.setLinkUp(true, link: index)

            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { close(udp) }
            var local = sockaddrIn("10.81.0.1", port: 4000)
            _ = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var remote = sockaddrIn("10.81.0.2", port: 9)
            let message: [UInt8] = Array("hello tun".utf8)
            _ = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(udp, message, message.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }

            // The kernel may also emit IPv6 router solicitations etc.: take the first IPv4 UDP.
            var packet: [UInt8] = []
            for _ in 0..<20 {
                packet = try readPacket(tun.descriptor)
                if packet.first.map({ $0 >> 4 }) == 4 && packet.count > 9 && packet[9] == 17 { break }
            }

            // Reply 10.81.0.2:9 → 10.81.0.1:4000, UDP checksum 0 (allowed in IPv4).
            let reply = ipv4UDP(from: [10, 81, 0, 2], to: [10, 81, 0, 1], sourcePort: 9, destinationPort: 4000, payload: Array("ack".utf8))
            _ = try reply.withUnsafeBytes { try tun.descriptor.write($0) }
            var received = [UInt8](repeating: 0, count: 64)
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(udp, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let count = recv(udp, &received, received.count, 0)
            return (packet, count > 0 ? Array(received[..<count]) : [])
        }
        #expect(outbound.count == 20 + 8 + 9)
        #expect(outbound.first == 0x45)
        #expect(outbound[9] == 17)
        #expect(Array(outbound[12..<16]) == [10, 81, 0, 1])
        #expect(Array(outbound[16..<20]) == [10, 81, 0, 2])
        #expect(Array(outbound[28...]) == Array("hello tun".utf8))
        #expect(inbound == Array("ack".utf8))
    }
}

extension TunNetlinkTests {
    /// The hot path of ARCHITECTURE.md with real descriptors: packets are read from the
    /// TUN straight into a `ByteRing` slot, and each reply leaves with one `writev` of a
    /// new header plus the payload span still in the ring (no copy). 60 datagrams of
    /// growing size through a 2 KiB ring make it wrap many times.
    @Test func tunPacketsLandInTheRingAndRepliesLeaveByWritev() throws {
        let (echoed, wrapped, drops) = try inFreshNetworkNamespace { () throws -> ([[UInt8]], Int, Int) in
            let tun = try TunDevice.open(name: "t2mring")
            var netlink = try Netlink()
            let index = try netlink.linkIndex(named: tun.name)
            try netlink.addAddress(try IPPrefix(parsing: "10.82.0.1/24"), link: index)
            try netlink.setLinkUp(true, link: index)

            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { close(udp) }
            var local = sockaddrIn("10.82.0.1", port: 4001)
            _ = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(udp, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

            var ring = ByteRing(capacity: 2048)
            var echoed: [[UInt8]] = []
            var wrapped = 0
            var drops = 0
            for round in 0..<60 {
                let payload = (0..<(20 + round * 7)).map { UInt8(truncatingIfNeeded: $0 &+ round) }
                var remote = sockaddrIn("10.82.0.2", port: 9)
                _ = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(udp, payload, payload.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                // Read packets into the ring until the UDP one arrives (the kernel may also
                // send IPv6 router solicitations; those are consumed and released unread).
                var found: (position: RingPosition, length: Int)? = nil
                for _ in 0..<10 where found == nil {
                    var requests = [PollRequest(fd: tun.descriptor.rawValue, events: .readable)]
                    guard try Poll.wait(&requests, timeout: .seconds(5)) == 1 else { break }
                    guard let slot = ring.reserve(max: 1500) else { drops += 1; break }
                    guard case .processed(let length) = try tun.descriptor.read(into: slot) else { _ = ring.commit(0); continue }
                    let before = ring.writePosition
                    let position = ring.commit(length)
                    if position != before { wrapped += 1 }
                    let packet = ring.spans(at: position, count: length)
                    if packet.byte(at: 0) == 0x45 && packet.byte(at: 9) == 17 {
                        found = (position, length)
                    }
                    ring.consume(length)
                }
                guard let (position, length) = found else { break }
                // Reply: a fresh IPv4+UDP header, then the payload where it lies in the ring.
                let payloadSpans = ring.spans(at: position.advanced(by: 28), count: length - 28)
                let header = ipv4UDP(from: [10, 82, 0, 2], to: [10, 82, 0, 1], sourcePort: 9, destinationPort: 4001,
                                     payload: [], payloadLength: length - 28)
                _ = try header.withUnsafeBytes { head in
                    try tun.descriptor.writev([head] + Array(payloadSpans))
                }
                ring.release(upTo: ring.readPosition)
                var received = [UInt8](repeating: 0, count: 2048)
                let count = recv(udp, &received, received.count, 0)
                echoed.append(count > 0 ? Array(received[..<count]) : [])
            }
            return (echoed, wrapped, drops)
        }
        #expect(echoed.count == 60)
        for (round, bytes) in echoed.enumerated() {
            #expect(bytes == (0..<(20 + round * 7)).map { UInt8(truncatingIfNeeded: $0 &+ round) }, "round \(round)")
        }
        #expect(wrapped > 0)
        #expect(drops == 0)
    }
}

private func jsonArray(_ text: String) throws -> [[String: Any]] {
    try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
}

private func sockaddrIn(_ address: String, port: UInt16) -> sockaddr_in {
    var result = sockaddr_in()
    result.sin_family = sa_family_t(AF_INET)
    result.sin_port = port.bigEndian
    inet_pton(AF_INET, address, &result.sin_addr)
    return result
}

/// Reads one packet from a nonblocking TUN, waiting up to 5 s.
private func readPacket(_ fd: borrowing FileDescriptor) throws -> [UInt8] {
    var requests = [PollRequest(fd: fd.rawValue, events: .readable)]
    guard try Poll.wait(&requests, timeout: .seconds(5)) == 1 else { return [] }
    var buffer = [UInt8](repeating: 0, count: 2048)
    if case .processed(let count) = try buffer.withUnsafeMutableBytes({ try fd.read(into: $0) }) {
        return Array(buffer[..<count])
    }
    return []
}

private func ipv4UDP(from source: [UInt8], to destination: [UInt8], sourcePort: UInt16, destinationPort: UInt16,
                     payload: [UInt8], payloadLength: Int? = nil) -> [UInt8] {
    let payloadCount = payloadLength ?? payload.count
    let total = 20 + 8 + payloadCount
    var header: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, 0x40, 0, 64, 17, 0, 0] + source + destination
    var sum: UInt32 = 0
    for index in stride(from: 0, to: 20, by: 2) { sum += UInt32(header[index]) << 8 | UInt32(header[index + 1]) }
    while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
    let checksum = ~UInt16(sum)
    header[10] = UInt8(checksum >> 8)
    header[11] = UInt8(checksum & 0xFF)
    let udpLength = 8 + payloadCount
    let udp: [UInt8] = [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF), UInt8(destinationPort >> 8), UInt8(destinationPort & 0xFF),
                        UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0]
    return header + udp + payload
}
