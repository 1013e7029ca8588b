/// The bytes of one direction of a TCP flow: a ring whose readable part starts at `head`,
/// followed by room where out-of-order bytes may be written ahead of time (their ranges are
/// tracked by `TCPReassembly`, not here).
///
/// Storage grows by doubling, on demand, up to `capacity`, each step reserved from the
/// shared `TCPBufferBudget`; `release(to:)` frees it all. An idle flow therefore holds no
/// memory, and the sum over flows stays under the budget.
struct TCPStreamBuffer {
    /// The hard per-flow cap on readable plus out-of-order bytes.
    let capacity: Int
    private var storage: [UInt8] = []
    private var head = 0
    /// The readable (contiguous) bytes.
    private(set) var count = 0

    /// Storage is never smaller than this once allocated (a few segments).
    private static let minimumAllocation = 4096

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Bytes of storage allocated now (and reserved from the budget).
    var allocated: Int { storage.count }

    /// Free bytes after the readable ones, within the per-flow cap.
    var free: Int { capacity - count }

    /// How many bytes could be placed after the readable ones, growing if the budget allows.
    func room(budget: TCPBufferBudget) -> Int {
        let growable = min(capacity, allocated + budget.available)
        return max(0, min(capacity, max(growable, allocated)) - count)
    }

    /// Makes sure `end` bytes (readable plus those after them) fit in storage, growing it if
    /// the cap and the budget allow. Returns how many of those bytes fit.
    mutating func ensure(_ end: Int, budget: TCPBufferBudget) -> Int {
        let wanted = min(end, capacity)
        if wanted <= allocated { return wanted }
        var size = max(allocated, Self.minimumAllocation)
        while size < wanted { size *= 2 }
        size = min(size, capacity)
        // Take what the budget still allows if the doubling does not fit.
        if !budget.reserve(size - allocated) {
            size = min(size, allocated + budget.available)
            guard size > allocated, budget.reserve(size - allocated) else { return min(wanted, allocated) }
        }
        var grown = [UInt8](repeating: 0, count: size)
        let old = allocated
        if old > 0 {
            // Linearise: the ring's logical order starts at `head`.
            grown.withUnsafeMutableBytes { dst in
                storage.withUnsafeBytes { src in
                    let tail = old - head
                    dst.baseAddress!.copyMemory(from: src.baseAddress! + head, byteCount: tail)
                    if head > 0 {
                        (dst.baseAddress! + tail).copyMemory(from: src.baseAddress!, byteCount: head)
                    }
                }
            }
        }
        storage = grown
        head = 0
        return min(wanted, size)
    }

    /// Writes `bytes` at `offset` past the readable bytes (0 = appending). The caller has
    /// made room with `ensure`; bytes beyond the storage are not written. Returns the count
    /// written.
    @discardableResult
    mutating func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int {
        let start = count + offset
        guard offset >= 0, start < allocated, bytes.count > 0 else { return 0 }
        let n = min(bytes.count, allocated - start)
        let size = allocated
        let h = head
        storage.withUnsafeMutableBytes { dst in
            let at = (h + start) % size
            let first = min(n, size - at)
            (dst.baseAddress! + at).copyMemory(from: bytes.baseAddress!, byteCount: first)
            if first < n {
                dst.baseAddress!.copyMemory(from: bytes.baseAddress! + first, byteCount: n - first)
            }
        }
        return n
    }

    /// Makes `n` bytes written after the readable ones readable.
    mutating func commit(_ n: Int) {
        count = min(allocated, count + max(0, n))
    }

    /// Drops `n` readable bytes from the front.
    mutating func consume(_ n: Int) {
        let n = min(max(0, n), count)
        guard n > 0 else { return }
        // `head` keeps its place even when the buffer empties: out-of-order bytes may
        // already sit past it.
        head = (head + n) % allocated
        count -= n
    }

    /// How many readable bytes from `offset` on lie in one run of storage, before the ring
    /// wraps (a segment's payload is cut there so that it is always one span).
    func contiguousLength(from offset: Int) -> Int {
        guard offset >= 0, offset < count else { return 0 }
        let at = (head + offset) % allocated
        return min(count - offset, allocated - at)
    }

    /// Calls `body` with the readable bytes `offset ..< offset + length` as one or two
    /// contiguous spans (two when they wrap around the ring). The spans are valid only
    /// inside `body`.
    func withSpans<R, E: Error>(
        offset: Int, length: Int,
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(E) -> R
    ) throws(E) -> R {
        let offset = min(max(0, offset), count)
        let length = min(max(0, length), count - offset)
        guard length > 0 else {
            return try body(UnsafeRawBufferPointer(start: nil, count: 0), UnsafeRawBufferPointer(start: nil, count: 0))
        }
        let size = allocated
        let at = (head + offset) % size
        let first = min(length, size - at)
        let result: Result<R, E> = storage.withUnsafeBytes { raw in
            let a = UnsafeRawBufferPointer(rebasing: raw[at ..< at + first])
            let b = UnsafeRawBufferPointer(rebasing: raw[0 ..< length - first])
            do throws(E) { return .success(try body(a, b)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Frees the storage and gives its reservation back to the budget.
    mutating func release(to budget: TCPBufferBudget) {
        budget.release(allocated)
        storage = []
        head = 0
        count = 0
    }
}
