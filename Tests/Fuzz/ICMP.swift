// fuzz-modules: Wire Buffers
//
// Input: one control byte, then an ICMP message. Control bit 0: write a correct checksum
// first; bit 1: ICMPv6 (IPv6 addresses, pseudo-header). A message that parses must emit
// and parse back to the same repr, except the one documented mapping (IPv6 has no
// "protocol unreachable"); an error's quote is read too.
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzICMP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let control = data[0]
    var message = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let v6 = control & 2 != 0
    let (source, destination): (IPAddress, IPAddress) = v6
        ? (.v6(IPv6Address(high: 0xFD00 << 48, low: 1)), .v6(IPv6Address(high: 0xFD00 << 48, low: 2)))
        : (.v4(IPv4Address(10, 0, 0, 1)), .v4(IPv4Address(10, 0, 0, 2)))
    if control & 1 == 1, message.count >= 8 {
        message[2] = 0
        message[3] = 0
        var sum = v6
            ? Checksum.pseudoHeader(source: source, destination: destination, protocol: .icmpv6, length: message.count)
            : Checksum()
        sum.add(message)
        message[2] = UInt8(sum.value >> 8)
        message[3] = UInt8(sum.value & 0xFF)
    }
    message.withUnsafeBytes { raw in
        guard let packet = try? ICMPPacket(validating: raw),
              let repr = try? ICMPRepr.parse(packet, source: source, destination: destination) else { return }
        precondition(repr.payloadLength == raw.count - 8)
        if repr.message.isError { _ = try? ICMPQuote(parsing: packet.payload) }
        var out = [UInt8](repeating: 0, count: repr.bufferLength)
        out.withUnsafeMutableBytes { buffer in
            repr.emit(into: buffer, source: source, destination: destination) { $0.copyMemory(from: packet.payload) }
        }
        out.withUnsafeBytes { emitted in
            guard let back = try? ICMPRepr.parse(emitted, source: source, destination: destination) else {
                preconditionFailure("an emitted message does not parse")
            }
            switch repr.message {
            case .packetTooBig(let mtu) where !v6:
                precondition(back.message == .packetTooBig(mtu: min(mtu, 0xFFFF)))
            case .parameterProblem(let code, let pointer) where !v6:
                precondition(back.message == .parameterProblem(code: code, pointer: pointer & 0xFF))
            default:
                precondition(back == repr)
            }
        }
    }
    return 0
}
