/// A dialect's per-socket state, indexed by `ModemSocketID`. An id outside the model's range
/// (a URC naming socket 99, a bad request) reads as nil and is never written.
struct SocketTable<Slot> {
    private var slots: [Slot]
    private let empty: Slot

    init(count: Int, empty: Slot) {
        self.slots = Array(repeating: empty, count: max(0, count))
        self.empty = empty
    }

    subscript(_ id: ModemSocketID) -> Slot? {
        self.slots.indices.contains(id.rawValue) ? self.slots[id.rawValue] : nil
    }

    mutating func update(_ id: ModemSocketID, _ change: (inout Slot) -> Void) {
        guard self.slots.indices.contains(id.rawValue) else { return }
        change(&self.slots[id.rawValue])
    }

    /// Back to the empty slot (closed, or the modem lost it).
    mutating func reset(_ id: ModemSocketID) {
        guard self.slots.indices.contains(id.rawValue) else { return }
        self.slots[id.rawValue] = self.empty
    }

    mutating func resetAll() {
        for i in self.slots.indices { self.slots[i] = self.empty }
    }

    /// Lazy: asked on every turn of the event loop (`nextDeadline`), so no array per ask.
    var ids: LazyMapSequence<Range<Int>, ModemSocketID> { self.slots.indices.lazy.map(ModemSocketID.init) }
}
