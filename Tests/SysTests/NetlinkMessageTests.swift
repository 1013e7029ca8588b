import CLinux
import Glibc
import Testing
@testable import Sys

/// The netlink codec without a kernel: golden request bytes, and replies of every
/// malformed shape that must become errors, never traps.
@Suite struct NetlinkMessageTests {
    /// RTM_NEWADDR for 10.1.2.3/24 on index 7, as `ip addr add` sends it (host byte order,
    /// little-endian here): nlmsghdr, ifaddrmsg, IFA_LOCAL, IFA_ADDRESS.
    @Test func addAddressRequestBytes() {
        var header = ifaddrmsg()
        header.ifa_family = UInt8(AF_INET)
        header.ifa_prefixlen = 24
        header.ifa_index = 7
        var request = NetlinkRequest(type: UInt16(RTM_NEWADDR), flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                                     sequence: 5, header: header)
        request.attribute(UInt16(IFA_LOCAL), [10, 1, 2, 3])
        request.attribute(UInt16(IFA_ADDRESS), [10, 1, 2, 3])
        let expected: [UInt8] = [
            40, 0, 0, 0,   20, 0,   0x05, 0x06,   5, 0, 0, 0,   0, 0, 0, 0,   // len 40, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE, seq 5
            2, 24, 0, 0,   7, 0, 0, 0,                                        // AF_INET /24 scope 0, index 7
            8, 0, 2, 0,   10, 1, 2, 3,                                        // IFA_LOCAL
            8, 0, 1, 0,   10, 1, 2, 3,                                        // IFA_ADDRESS
        ]
        #expect(request.finished() == expected)
    }

    @Test func stringAttributesAreTerminatedAndPadded() {
        var request = NetlinkRequest(type: UInt16(RTM_GETLINK), flags: NLM_F_REQUEST, sequence: 1, header: ifinfomsg())
        request.attribute(UInt16(IFLA_IFNAME), string: "t2m0")
        let bytes = request.finished()
        #expect(bytes.count == 16 + 16 + 12)
        #expect(Array(bytes[32...]) == [9, 0, 3, 0, 0x74, 0x32, 0x6D, 0x30, 0, 0, 0, 0])
    }

    @Test func wellFormedReplySplitsIntoMessagesAndAttributes() throws {
        // Two messages in one datagram: an RTM_NEWLINK with IFLA_MTU, then NLMSG_DONE.
        var link = ifinfomsg()
        link.ifi_index = 3
        var first = NetlinkRequest(type: UInt16(RTM_NEWLINK), flags: 0, sequence: 9, header: link)
        first.attribute(UInt16(IFLA_MTU), uint32: 1400)
        first.attribute(UInt16(IFLA_IFNAME), string: "t2m0")
        let done = NetlinkRequest(type: UInt16(NLMSG_DONE), flags: 0, sequence: 9, header: Int32(0))
        let datagram = first.finished() + done.finished()
        let replies = try NetlinkReply.split(datagram[...])
        #expect(replies.map(\.type) == [UInt16(RTM_NEWLINK), UInt16(NLMSG_DONE)])
        #expect(try replies[0].header(ifinfomsg.self).ifi_index == 3)
        let attributes = try replies[0].attributes(after: ifinfomsg.self)
        #expect(attributes[UInt16(IFLA_MTU)]?.netlinkUInt32 == 1400)
        #expect(attributes[UInt16(IFLA_IFNAME)]?.netlinkString == "t2m0")
    }

    @Test(arguments: [
        ("length below the header", [15, 0, 0, 0] + [UInt8](repeating: 0, count: 12)),
        ("length past the datagram", [200, 0, 0, 0] + [UInt8](repeating: 0, count: 12)),
    ] as [(String, [UInt8])])
    func malformedMessageLengthIsAnError(_ name: String, datagram: [UInt8]) {
        #expect(throws: SysError.self) { try NetlinkReply.split(datagram[...]) }
    }

    @Test func malformedAttributesAndShortHeadersAreErrors() throws {
        #expect(throws: SysError.self) { try NetlinkReply.attributes(in: [3, 0, 1, 0][...]) }      // rta_len < 4
        #expect(throws: SysError.self) { try NetlinkReply.attributes(in: [12, 0, 1, 0, 9][...]) }  // rta_len past end
        #expect(try NetlinkReply.attributes(in: [0, 0][...]).isEmpty)                              // trailing bytes < header
        let short = NetlinkRequest(type: UInt16(RTM_NEWADDR), flags: 0, sequence: 1, header: UInt16(0)).finished()
        let reply = try #require(try NetlinkReply.split(short[...]).first)
        #expect(throws: SysError.self) { try reply.header(ifaddrmsg.self) }
    }

    /// Seeded random datagrams, and random corruptions of a valid one: parsing either
    /// throws a SysError or yields messages whose payloads lie inside the datagram.
    @Test func randomBytesNeverTrap() {
        var link = ifinfomsg()
        link.ifi_index = 2
        var valid = NetlinkRequest(type: UInt16(RTM_NEWLINK), flags: 0, sequence: 1, header: link)
        valid.attribute(UInt16(IFLA_MTU), uint32: 1500)
        valid.attribute(UInt16(IFLA_IFNAME), string: "lo")
        let template = valid.finished()
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var parsed = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(next() % 80)).map { _ in UInt8(truncatingIfNeeded: next()) }
            } else {
                bytes = template
                for _ in 0..<(1 + Int(next() % 4)) {
                    bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next())
                }
                bytes = Array(bytes.prefix(Int(next() % UInt64(bytes.count + 1))))
            }
            guard let replies = try? NetlinkReply.split(bytes[...]) else { continue }
            for reply in replies {
                #expect(reply.payload.startIndex >= 16 && reply.payload.endIndex <= bytes.count)
                if let attributes = try? reply.attributes(after: ifinfomsg.self) {
                    parsed += 1
                    for value in attributes.values {
                        #expect(value.startIndex >= 0 && value.endIndex <= bytes.count)
                    }
                }
            }
        }
        #expect(parsed > 100)   // the corruptions left enough messages whole to exercise attributes
    }
}
