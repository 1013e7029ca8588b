// fuzz-modules: Wire Buffers
//
// Input: one control byte, then a TCP segment. Control bit 0: write a correct checksum
// first (so the fuzzer gets past it into the option parser); bit 1: IPv6 addresses.
// A segment that parses must emit and parse back to the same repr.
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTCP(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let control = data[0]
    var segment = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let (source, destination): (IPAddress, IPAddress) = control & 2 == 0
        ? (.v4(IPv4Address(10, 0, 0, 1)), .v4(IPv4Address(10, 0, 0, 2)))
        : (.v6(IPv6Address(high: 0xFD00 << 48, low: 1)), .v6(IPv6Address(high: 0xFD00 << 48, low: 2)))
    if control & 1 == 1, segment.count >= 20 {
        segment[16] = 0
        segment[17] = 0
        var sum = Checksum.pseudoHeader(source: source, destination: destination, protocol: .tcp, length: segment.count)
        sum.add(segment)
        segment[16] = UInt8(sum.value >> 8)
        segment[17] = UInt8(sum.value & 0xFF)
    }
    segment.withUnsafeBytes { raw in
        guard let packet = try? TCPPacket(validating: raw) else { return }
        precondition(packet.headerLength >= 20 && packet.headerLength <= raw.count)
        precondition(packet.options.count + packet.payload.count + 20 == raw.count)
        guard let repr = try? TCPRepr.parse(packet, source: source, destination: destination) else { return }
        precondition(repr.flags.isSubset(of: .control) && repr.sackRanges.count <= 4)
        precondition((repr.windowScale ?? 0) <= 14 && repr.payloadLength == packet.payload.count)
        precondition(repr.headerLength <= 60 && repr.headerLength % 4 == 0)
        var out = [UInt8](repeating: 0, count: repr.bufferLength)
        out.withUnsafeMutableBytes { buffer in
            repr.emit(into: buffer, source: source, destination: destination) { payload in
                payload.copyMemory(from: packet.payload)
            }
        }
        out.withUnsafeBytes { emitted in
            guard let back = try? TCPRepr.parse(emitted, source: source, destination: destination) else {
                preconditionFailure("an emitted segment does not parse")
            }
            // Emission may leave out SACK blocks that do not fit; everything else survives.
            var expected = repr
            expected.sackRanges = back.sackRanges
            precondition(back == expected && back.sackRanges.count <= repr.sackRanges.count)
        }
    }
    return 0
}
