/// The bridge's `SocketSlot`s by modem socket number.
///
/// A model has at most a dozen sockets, numbered from 0, and the pump walks them in order on
/// every turn of the event loop. Kept in a dictionary, that walk sorted the keys into a new
/// array twice per pump; here it is an index loop over a small array. Reads past the end
/// give nil, as a missing key did; negative numbers are never stored.
struct SocketSlots: Sequence {
    private var storage: [SocketSlot?] = []
    /// Slots in use.
    private(set) var count = 0

    var isEmpty: Bool { self.count == 0 }

    subscript(socket: Int) -> SocketSlot? {
        get { self.storage.indices.contains(socket) ? self.storage[socket] : nil }
        set {
            guard socket >= 0 else { return }
            if socket >= self.storage.count {
                guard newValue != nil else { return }
                self.storage.append(contentsOf: repeatElement(nil, count: socket + 1 - self.storage.count))
            }
            let had = self.storage[socket] != nil
            self.storage[socket] = newValue
            self.count += (newValue != nil ? 1 : 0) - (had ? 1 : 0)
        }
    }

    /// Every socket number a slot may be stored at now. Loops that change slots as they go
    /// walk these (and skip the nil ones): walking `keys` or the slots themselves while
    /// storing into them would copy the storage (copy-on-write) each time.
    var indices: Range<Int> { self.storage.indices }

    /// Socket numbers in use, ascending.
    var keys: LazyFilterSequence<Range<Int>> {
        let storage = self.storage
        return storage.indices.lazy.filter { storage[$0] != nil }
    }

    /// The slots in use, by ascending socket number.
    var values: LazyMapSequence<LazyFilterSequence<[SocketSlot?]>, SocketSlot> {
        self.storage.lazy.filter { $0 != nil }.map { $0! }
    }

    mutating func removeAll() {
        self.storage.removeAll(keepingCapacity: true)
        self.count = 0
    }

    /// `(key: socket, value: slot)` by ascending socket number, as a dictionary's elements.
    struct Iterator: IteratorProtocol {
        fileprivate let storage: [SocketSlot?]
        fileprivate var index = 0

        mutating func next() -> (key: Int, value: SocketSlot)? {
            while self.index < self.storage.count {
                defer { self.index += 1 }
                if let slot = self.storage[self.index] { return (key: self.index, value: slot) }
            }
            return nil
        }
    }

    func makeIterator() -> Iterator { Iterator(storage: self.storage) }
}
