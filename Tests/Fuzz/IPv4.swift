// fuzz-modules: Wire Buffers
// fuzz-options: -max_len=4096
//
// Input: a series of IPv4 packets, each preceded by a 16-bit big-endian length (a lone
// packet without the prefix is tried too). Every packet goes through the view, the repr
// and, if it is a fragment, a reassembler shared by the series; invariants are checked
// with preconditions so a violation is a crash libFuzzer reports. Each packet is tried as
// given and with its header checksum made right, so the fuzzer gets past the checksum.
import Buffers
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIPv4(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    check(input, reassembler: nil, now: .zero)
    var fixed = Array(input)
    fixChecksum(&fixed)
    fixed.withUnsafeBytes { check($0, reassembler: nil, now: .zero) }
    var reassembler = FragmentReassembler(limits: .init(
        maximumDatagrams: 4, maximumFragmentsPerDatagram: 8, maximumTotalBytes: 8192, timeout: .seconds(1)))
    var offset = 0
    var step: Int64 = 0
    while offset + 2 <= size {
        let length = Int(input[offset]) << 8 | Int(input[offset + 1])
        let end = min(size, offset + 2 + length)
        step += 1
        var packet = Array(input[(offset + 2)..<end])
        fixChecksum(&packet)
        packet.withUnsafeBytes { check($0, reassembler: &reassembler, now: .milliseconds(step * 100)) }
        precondition(reassembler.heldBytes <= 8192 && reassembler.datagramCount <= 4)
        offset = end
    }
    reassembler.expire(now: .milliseconds(step * 100 + 5_000))
    precondition(reassembler.heldBytes == 0 && reassembler.datagramCount == 0)
    return 0
}

/// Writes a correct header checksum, when the header length fits in the bytes.
func fixChecksum(_ packet: inout [UInt8]) {
    guard packet.count >= 20 else { return }
    let headerLength = Int(packet[0] & 0x0F) * 4
    guard headerLength >= 20, headerLength <= packet.count else { return }
    packet[10] = 0
    packet[11] = 0
    var sum = Checksum()
    sum.add(Array(packet[..<headerLength]))
    packet[10] = UInt8(sum.value >> 8)
    packet[11] = UInt8(sum.value & 0xFF)
}

func check(_ bytes: UnsafeRawBufferPointer, reassembler: UnsafeMutablePointer<FragmentReassembler>?, now: Instant) {
    guard let packet = try? IPv4Packet(validating: bytes) else { return }
    precondition(packet.headerLength >= 20 && packet.headerLength <= packet.bytes.count)
    precondition(packet.bytes.count == packet.totalLength && packet.totalLength <= bytes.count)
    precondition(packet.options.count + 20 == packet.headerLength)
    precondition(packet.payload.count == packet.totalLength - packet.headerLength)
    _ = (packet.source, packet.destination, packet.protocol, packet.fragmentOffset, packet.typeOfService)
    guard let repr = try? IPv4Repr.parse(packet) else { return }
    precondition(repr.payloadLength == packet.payload.count)
    if packet.isFragment, let reassembler {
        if case .reassembled(let whole) = reassembler.pointee.add(packet, now: now) {
            whole.withUnsafeBytes { raw in
                guard let again = try? IPv4Packet(validating: raw) else {
                    preconditionFailure("a reassembled datagram does not parse")
                }
                precondition(!again.isFragment && again.verifyChecksum())
            }
        }
    } else if !packet.isFragment {
        // Emitting the parsed header gives a header that parses back to the same repr.
        var header = [UInt8](repeating: 0, count: 20)
        header.withUnsafeMutableBytes { repr.emit(into: $0) }
        header += Array(packet.payload)
        header.withUnsafeBytes { raw in
            guard let back = try? IPv4Packet(validating: raw), let r = try? IPv4Repr.parse(back) else {
                preconditionFailure("an emitted header does not parse")
            }
            precondition(r == repr)
        }
    }
}
