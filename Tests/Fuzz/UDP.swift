// fuzz-modules: Wire Buffers
//
// Input: one control byte, then a UDP datagram. Control bit 0: write a correct checksum
// first; bit 1: IPv6 addresses. A datagram that parses must emit and parse back.
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzUDP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let control = data[0]
    var datagram = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let (source, destination): (IPAddress, IPAddress) = control & 2 == 0
        ? (.v4(IPv4Address(10, 0, 0, 1)), .v4(IPv4Address(10, 0, 0, 2)))
        : (.v6(IPv6Address(high: 0xFD00 << 48, low: 1)), .v6(IPv6Address(high: 0xFD00 << 48, low: 2)))
    if control & 1 == 1, datagram.count >= 8 {
        let length = min(datagram.count, Int(datagram[4]) << 8 | Int(datagram[5]))
        datagram[6] = 0
        datagram[7] = 0
        if length >= 8 {
            var sum = Checksum.pseudoHeader(source: source, destination: destination, protocol: .udp, length: length)
            sum.add(Array(datagram[..<length]))
            datagram[6] = UInt8(sum.value >> 8)
            datagram[7] = UInt8(sum.value & 0xFF)
        }
    }
    datagram.withUnsafeBytes { raw in
        guard let packet = try? UDPPacket(validating: raw) else { return }
        precondition(packet.length == packet.bytes.count && packet.bytes.count <= raw.count)
        guard let repr = try? UDPRepr.parse(packet, source: source, destination: destination) else { return }
        precondition(repr.payloadLength == packet.length - 8)
        var out = [UInt8](repeating: 0, count: repr.bufferLength)
        out.withUnsafeMutableBytes { buffer in
            repr.emit(into: buffer, source: source, destination: destination) { $0.copyMemory(from: packet.payload) }
        }
        out.withUnsafeBytes { emitted in
            guard let back = try? UDPRepr.parse(emitted, source: source, destination: destination) else {
                preconditionFailure("an emitted datagram does not parse")
            }
            precondition(back == repr)
        }
    }
    return 0
}
