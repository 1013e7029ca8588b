// fuzz-modules: Wire Buffers
// fuzz-options: -max_len=4096
//
// Input: a series of IPv6 packets, each preceded by a 16-bit big-endian length (a lone
// packet without the prefix is tried too): the extension-header walk, the repr, and
// reassembly of fragments across the series.
import Buffers
import Wire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIPv6(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    check(input, reassembler: nil, now: .zero)
    var reassembler = FragmentReassembler(limits: .init(
        maximumDatagrams: 4, maximumFragmentsPerDatagram: 8, maximumTotalBytes: 8192, timeout: .seconds(1)))
    var offset = 0
    var step: Int64 = 0
    while offset + 2 <= size {
        let length = Int(input[offset]) << 8 | Int(input[offset + 1])
        let end = min(size, offset + 2 + length)
        step += 1
        check(UnsafeRawBufferPointer(rebasing: input[(offset + 2)..<end]), reassembler: &reassembler,
              now: .milliseconds(step * 100))
        precondition(reassembler.heldBytes <= 8192 && reassembler.datagramCount <= 4)
        offset = end
    }
    reassembler.expire(now: .milliseconds(step * 100 + 5_000))
    precondition(reassembler.heldBytes == 0 && reassembler.datagramCount == 0)
    return 0
}

func check(_ bytes: UnsafeRawBufferPointer, reassembler: UnsafeMutablePointer<FragmentReassembler>?, now: Instant) {
    guard let packet = try? IPv6Packet(validating: bytes) else { return }
    precondition(packet.bytes.count == 40 + packet.payloadLength && packet.bytes.count <= bytes.count)
    precondition(packet.upperLayerOffset >= 40 && packet.upperLayerOffset <= packet.bytes.count)
    precondition(packet.headers.count + packet.payload.count == packet.bytes.count)
    if let f = packet.fragment {
        precondition(f.dataOffset <= packet.bytes.count && f.linkOffset < f.headerOffset && !f.isAtomic)
    }
    let repr = IPv6Repr.parse(packet)
    precondition(repr.payloadLength == packet.payload.count)
    _ = (packet.source.description, packet.trafficClass, packet.flowLabel, packet.hopLimit)
    if packet.fragment != nil, let reassembler {
        if case .reassembled(let whole) = reassembler.pointee.add(packet, now: now) {
            whole.withUnsafeBytes { raw in
                // The result may itself be refused (say, a chain too long), but never a fragment.
                if let again = try? IPv6Packet(validating: raw) { precondition(again.fragment == nil) }
            }
        }
    }
}
