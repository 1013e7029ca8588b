import Buffers
import Sys

/// The TUN interface's descriptor as the bridge's packet source and sink. Reads land in a
/// ring slot (one packet per read, `IFF_NO_PI`); writes are one `writev` per packet, the
/// header and the payload spans where they lie.
final class TunPort: PacketSink {
    let device: TunDevice
    private var ring: ByteRing
    private let slotSize: Int
    /// Packets the kernel would not take (its queue was full) or refused.
    private(set) var writeFailures = 0
    private(set) var lastWriteError: SysError?

    init(device: consuming TunDevice, mtu: Int) {
        self.device = device
        // Room for a burst of full-size packets; a read never needs more than one MTU.
        self.slotSize = mtu
        self.ring = ByteRing(capacity: max(64 * 1024, 64 * mtu))
    }

    var rawDescriptor: CInt { self.device.descriptor.rawValue }
    var name: String { self.device.name }

    func writePacket(_ pieces: [UnsafeRawBufferPointer]) -> Bool {
        do {
            switch try self.device.descriptor.writev(pieces) {
            case .processed: return true
            case .wouldBlock:
                self.writeFailures += 1
                return false
            }
        } catch {
            self.writeFailures += 1
            self.lastWriteError = error
            return false
        }
    }

    /// Reads up to `limit` packets into the ring and hands them to `body` together; the
    /// ring is emptied after. Returns how many were read (0: nothing waiting).
    func readBatch(limit: Int, _ body: ([UnsafeRawBufferPointer]) -> Void) throws(SysError) -> Int {
        var positions: [(RingPosition, Int)] = []
        while positions.count < limit {
            guard let slot = self.ring.reserve(max: self.slotSize) else { break }
            let result = try self.device.descriptor.read(into: slot)
            guard case .processed(let n) = result, n > 0 else { break }
            positions.append((self.ring.commit(n), n))
        }
        guard !positions.isEmpty else { return 0 }
        var packets: [UnsafeRawBufferPointer] = []
        packets.reserveCapacity(positions.count)
        for (position, n) in positions {
            // A slot is contiguous: `reserve` never splits one.
            packets.append(self.ring.spans(at: position, count: n).first)
        }
        body(packets)
        self.ring.consume(self.ring.unconsumedCount)
        self.ring.release(upTo: self.ring.readPosition)
        return positions.count
    }
}
