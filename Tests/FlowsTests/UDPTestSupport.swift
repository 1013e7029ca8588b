import Buffers
import Testing
import Wire
@testable import Flows

// Packets for the UDP, DNS and ICMP flow tests, built with Wire (whose golden tests pin
// the bytes) or taken from the kernel captures in Tests/WireTests/CapturedPackets.swift.

let app4 = IPAddress("10.9.0.1")!
let remote4 = IPAddress("10.9.0.2")!
let other4 = IPAddress("192.0.2.7")!
let app6 = IPAddress("fd00::1")!
let remote6 = IPAddress("fd00::2")!

func hexBytes(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    return stride(from: 0, to: digits.count - 1, by: 2).map { i in
        UInt8(String(decoding: digits[i...(i + 1)], as: UTF8.self), radix: 16)!
    }
}

/// The kernel's DNS queries for example.com A (id 1234) from 10.9.0.1:37610 / [fd00::1]:46151.
let capturedDNSQuery4 = hexBytes(
    "450000393e6040004011e83f0a0900010a09000292ea0035002576ce123401000001000000000000076578616d706c6503636f6d0000010001")
let capturedDNSQuery6 = hexBytes(
    "600a823f00251140fd000000000000000000000000000001fd000000000000000000000000000002b447003500256f81123401000001000000000000076578616d706c6503636f6d0000010001")
/// The kernel's echo requests (id 23a3 / 23a5, seq 1, 16 bytes of data).
let capturedEcho4 = hexBytes(
    "4500002cd67d40004001503f0a0900010a0900020800e91923a3000108c9016b00000000d30d0e0000000000")
let capturedEcho6 = hexBytes(
    "6005734600183a40fd000000000000000000000000000001fd000000000000000000000000000002800034b223a5000108c9016b00000000151c0e0000000000")

func udpPacket(from src: IPAddress, _ sport: UInt16, to dst: IPAddress, _ dport: UInt16, payload: [UInt8]) -> [UInt8] {
    UDPDatagram.packet(source: src, sourcePort: sport, destination: dst, destinationPort: dport,
                       payloadLength: payload.count) { $0.copyBytes(from: payload) }!
}

/// Runs `body` with `bytes` validated as an IP packet.
func withPacket<R>(_ bytes: [UInt8], _ body: (IPPacket) throws -> R) rethrows -> R {
    try bytes.withUnsafeBytes { raw in try body(try! IPPacket(validating: raw)) }
}

/// A packet for the app, decoded: addresses, and the UDP ports and payload.
struct DecodedUDP {
    var source: IPAddress
    var destination: IPAddress
    var sourcePort: UInt16
    var destinationPort: UInt16
    var payload: [UInt8]
}

func decodeUDP(_ bytes: [UInt8]) throws -> DecodedUDP {
    try bytes.withUnsafeBytes { raw in
        let ip = try IPPacket(validating: raw)
        _ = try IPRepr.parse(ip)
        #expect(ip.protocol == .udp)
        let udp = try UDPRepr.parse(ip.payload, source: ip.source, destination: ip.destination)
        return DecodedUDP(source: ip.source, destination: ip.destination, sourcePort: udp.sourcePort,
                          destinationPort: udp.destinationPort,
                          payload: Array(ip.payload[8..<(8 + udp.payloadLength)]))
    }
}

/// A packet for the app, decoded as ICMP: addresses, hop limit, message and data.
struct DecodedICMP {
    var source: IPAddress
    var destination: IPAddress
    var hopLimit: UInt8
    var message: ICMPMessage
    var data: [UInt8]
}

func decodeICMP(_ bytes: [UInt8]) throws -> DecodedICMP {
    try bytes.withUnsafeBytes { raw in
        let ip = try IPPacket(validating: raw)
        let repr = try IPRepr.parse(ip)
        let icmp = try ICMPRepr.parse(ip.payload, source: ip.source, destination: ip.destination)
        let hop: UInt8 = switch repr {
        case .v4(let r): r.timeToLive
        case .v6(let r): r.hopLimit
        }
        return DecodedICMP(source: ip.source, destination: ip.destination, hopLimit: hop,
                           message: icmp.message, data: Array(ip.payload[8...]))
    }
}

/// A deterministic generator, so a randomised test that fails can be replayed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
