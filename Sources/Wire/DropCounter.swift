/// Packets dropped, counted by reason: what the stats socket shows for the packet layer.
public struct DropCounter: Hashable, Sendable, CustomStringConvertible {
    private var counts = [Int](repeating: 0, count: WireError.allCases.count)

    public init() {}

    public mutating func record(_ reason: WireError) {
        self.counts[Self.index(of: reason)] &+= 1
    }

    public subscript(reason: WireError) -> Int { self.counts[Self.index(of: reason)] }

    public var total: Int { self.counts.reduce(0, &+) }

    private static func index(of reason: WireError) -> Int {
        WireError.allCases.firstIndex(of: reason) ?? 0
    }

    public var description: String {
        WireError.allCases.filter { self[$0] > 0 }.map { "\($0): \(self[$0])" }.joined(separator: ", ")
    }
}
