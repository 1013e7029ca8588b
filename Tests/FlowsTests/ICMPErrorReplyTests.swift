import Testing
import Wire
@testable import Flows

@Suite("ICMP error replies")
struct ICMPErrorReplyTests {
    @Test func answersFromTheOriginalDestination() throws {
        let original = udpPacket(from: app4, 5000, to: remote4, 7000, payload: Array(repeating: 1, count: 600))
        let reply = try #require(withPacket(original) { ICMPErrorReply.packet(answering: $0, with: .destinationUnreachable(.port)) })
        let icmp = try decodeICMP(reply)
        #expect(icmp.source == remote4)
        #expect(icmp.destination == app4)
        #expect(icmp.message == .destinationUnreachable(.port))
        #expect(reply.count == 576)                      // RFC 1812 §4.3.2.3
        #expect(icmp.data == Array(original.prefix(548)))
    }

    @Test func ipv6QuoteStaysWithin1280() throws {
        let original = udpPacket(from: app6, 5000, to: remote6, 7000, payload: Array(repeating: 1, count: 1400))
        let reply = try #require(withPacket(original) { ICMPErrorReply.packet(answering: $0, with: .packetTooBig(mtu: 1280)) })
        #expect(reply.count == 1280)                     // RFC 4443 §2.4(c)
        #expect(try decodeICMP(reply).message == .packetTooBig(mtu: 1280))
    }

    /// RFC 1122 §3.2.2 / RFC 4443 §2.4(e): never about an ICMP error, a later fragment, a
    /// multicast or broadcast destination, or from an unspecified source.
    @Test func refusesWhatTheRFCsForbid() {
        let error = ICMPMessage.destinationUnreachable(.host)
        // An ICMP error about an ICMP error.
        let unreachable = withPacket(capturedEcho4) { ICMPErrorReply.packet(answering: $0, with: error) }!
        #expect(withPacket(unreachable) { ICMPErrorReply.packet(answering: $0, with: error) } == nil)
        // But an echo request may be answered with one.
        #expect(withPacket(capturedEcho4) { ICMPErrorReply.packet(answering: $0, with: error) } != nil)
        // Multicast / broadcast destinations and an unspecified source.
        for (src, dst) in [(app4, IPAddress("224.0.0.251")!), (app4, IPAddress("255.255.255.255")!),
                           (app6, IPAddress("ff02::1")!), (IPAddress("0.0.0.0")!, remote4)] {
            let packet = udpPacket(from: src, 5000, to: dst, 7000, payload: [1])
            #expect(withPacket(packet) { ICMPErrorReply.packet(answering: $0, with: error) } == nil)
        }
        // A non-error message is not an error reply.
        let echo = ICMPMessage.echoReply(identifier: 1, sequence: 1)
        #expect(withPacket(capturedEcho4) { ICMPErrorReply.packet(answering: $0, with: echo) } == nil)
    }

    @Test func refusesLaterFragments() {
        // The kernel's second fragment (offset 1480) of a UDP datagram.
        var fragment = udpPacket(from: app4, 5000, to: remote4, 7000, payload: Array(repeating: 1, count: 16))
        fragment[6] = 0x00
        fragment[7] = 0xB9
        fragment[10] = 0
        fragment[11] = 0
        let v = Checksum.of(fragment.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[0..<20]) })
        fragment[10] = UInt8(v >> 8)
        fragment[11] = UInt8(v & 0xFF)
        #expect(withPacket(fragment) { ICMPErrorReply.packet(answering: $0, with: .destinationUnreachable(.host)) } == nil)
    }
}
