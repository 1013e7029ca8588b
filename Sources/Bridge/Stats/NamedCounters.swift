/// Counters keyed by a short name, in a table of fixed capacity: URC kinds, flow close reasons.
///
/// The names come from the modem and the flow table, so their number is not ours to bound;
/// past `capacity` distinct names every new one counts under `other`, and memory stays fixed.
/// A linear search over a few dozen short names is cheaper than hashing and never allocates
/// once a name is in the table.
public struct NamedCounters: Sendable, Equatable {
    public static let otherName = "other"

    public let capacity: Int
    public private(set) var names: [String] = []
    public private(set) var counts: [UInt64] = []

    public init(capacity: Int = 32) {
        precondition(capacity > 1)
        self.capacity = capacity
    }

    /// Adds `amount` to `name`'s counter (or to `other` when the table is full).
    public mutating func record(_ name: String, _ amount: UInt64 = 1) {
        let index = self.slot(for: name)
        self.counts[index] &+= amount
    }

    public subscript(name: String) -> UInt64 {
        guard let index = self.names.firstIndex(of: name) else { return 0 }
        return self.counts[index]
    }

    public var total: UInt64 { self.counts.reduce(0, &+) }

    /// Name and count pairs in the order names first appeared.
    public var entries: [(name: String, count: UInt64)] {
        Array(zip(self.names, self.counts)).map { (name: $0.0, count: $0.1) }
    }

    /// The index of `name`, adding it while there is room; the last slot is kept for `other`.
    mutating func slot(for name: String) -> Int {
        if let index = self.names.firstIndex(of: name) { return index }
        let key = self.names.count < self.capacity - 1 ? name : Self.otherName
        if let index = self.names.firstIndex(of: key) { return index }
        self.names.append(key)
        self.counts.append(0)
        return self.names.count - 1
    }
}
