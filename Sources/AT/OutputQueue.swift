/// Output waiting for the owner of a sans-I/O machine to take it (writes, events): appended
/// at the back, taken from the front, storage reused once drained so a busy loop does not
/// allocate per item.
public struct OutputQueue<Element>: Sendable where Element: Sendable {
    private var items: [Element] = []
    private var head = 0

    public init() {}

    public var isEmpty: Bool { self.head >= self.items.count }

    public mutating func append(_ item: Element) { self.items.append(item) }

    public mutating func popFirst() -> Element? {
        guard self.head < self.items.count else { return nil }
        let item = self.items[self.head]
        self.head += 1
        if self.head == self.items.count {
            self.items.removeAll(keepingCapacity: true)
            self.head = 0
        }
        return item
    }
}
