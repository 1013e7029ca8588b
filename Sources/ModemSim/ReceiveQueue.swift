/// What a modem socket holds from the network until the host reads it.
///
/// Stream sockets read across arrivals; datagram sockets keep each datagram whole with its
/// sender (EC UDP SERVICE `+QIRD: <n>,"<ip>",<port>`, SIMCom `RECV FROM:`). The capacity is the
/// model's receive buffer: the network side reads only `freeSpace` bytes, so a full buffer
/// pushes back on the real TCP peer, and a UDP datagram that does not fit is dropped.
struct ReceiveQueue {
    struct Chunk {
        var bytes: [UInt8]
        var from: RemoteEndpoint
    }

    private(set) var chunks: [Chunk] = []
    private var head = 0
    private(set) var count = 0
    let capacity: Int
    /// Datagrams dropped because they did not fit.
    private(set) var dropped = 0

    init(capacity: Int) { self.capacity = capacity }

    var isEmpty: Bool { count == 0 }
    var freeSpace: Int { max(0, capacity - count) }
    var chunkCount: Int { chunks.count - head }

    /// Appends an arrival; false (and counted) when it does not fit.
    @discardableResult
    mutating func append(_ bytes: [UInt8], from: RemoteEndpoint) -> Bool {
        guard !bytes.isEmpty else { return true }
        guard bytes.count <= freeSpace else { dropped += 1; return false }
        chunks.append(Chunk(bytes: bytes, from: from))
        count += bytes.count
        return true
    }

    /// Takes up to `max` bytes across arrivals (stream read).
    mutating func readStream(max: Int) -> [UInt8] {
        var out: [UInt8] = []
        while out.count < max, head < chunks.count {
            let want = max - out.count
            let chunk = chunks[head].bytes
            if chunk.count <= want {
                out += chunk
                head += 1
            } else {
                out += chunk[0..<want]
                chunks[head].bytes = Array(chunk[want...])
            }
        }
        count -= out.count
        compact()
        return out
    }

    /// Takes the next datagram whole, truncated to `max` (the rest of it is discarded, as a
    /// datagram read does).
    mutating func readDatagram(max: Int) -> Chunk? {
        guard head < chunks.count else { return nil }
        var chunk = chunks[head]
        head += 1
        count -= chunk.bytes.count
        if chunk.bytes.count > max { chunk.bytes = Array(chunk.bytes[0..<max]) }
        compact()
        return chunk
    }

    /// Bytes left in the oldest arrival (BC `<remaining_length>` is per node, quectel.md B18).
    var headRemaining: Int { head < chunks.count ? chunks[head].bytes.count : 0 }

    /// The sender of the oldest arrival.
    var headSender: RemoteEndpoint? { head < chunks.count ? chunks[head].from : nil }

    /// Removes the newest arrival (a datagram that overflowed a packet cap).
    mutating func readDatagramFromTail() -> [UInt8]? {
        guard head < chunks.count, let last = chunks.popLast() else { return nil }
        count -= last.bytes.count
        dropped += 1
        return last.bytes
    }

    mutating func removeAll() {
        chunks = []
        head = 0
        count = 0
    }

    private mutating func compact() {
        if head > 64 || head == chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }
}
